/**
 * The cpu backend: the reference kernels on typed arrays, run in plain JavaScript. Tests compare the
 * other backends with it; it is also the backend of last resort.
 *
 * @since 0.2.0
 */
import type { BackendImpl, CpuBuffer, DeviceBuffer } from "../BackendImpl.ts"
import { countDispatch, newStats } from "../BackendImpl.ts"
import type { HostArray } from "../DType.ts"
import { cpuKernels } from "./kernels.ts"

const cpuData = (b: DeviceBuffer): HostArray => {
  if (b.backend !== "cpu") throw new TypeError(`cpu backend: got a buffer of backend ${b.backend}`)
  return (b as CpuBuffer).data
}

/**
 * Makes a cpu backend: the reference implementation on typed arrays. Each call gives an
 * independent instance with its own counters.
 * @category constructors
 * @since 0.1.0
 */
export const makeCpu = (): BackendImpl => {
  const stats = newStats()
  return {
    name: "cpu",
    stats,
    upload: (data) => ({ backend: "cpu", data: data.slice() }) satisfies CpuBuffer,
    download: (buffer) => cpuData(buffer),
    execute: (prim, inputs, inAvals, outAvals, params) => {
      countDispatch(stats, prim)
      const kernel = cpuKernels[prim]
      return kernel(inputs.map(cpuData), inAvals, outAvals, params).map((data): CpuBuffer => ({ backend: "cpu", data }))
    },
    dispose: () => {}
  }
}

/**
 * The process-wide cpu backend, the default when no other is chosen.
 * @category instances
 * @since 0.1.0
 */
export const cpu: BackendImpl = makeCpu()
