/**
 * A stand-in for gpu.js's WebGPU mode that needs no GPU: each kernel is gpu.js's own `cpu`-mode
 * kernel for the same source (JavaScript), and its call resolves, asynchronously, with a handle like
 * a WebGPU pipeline result (`toArray()` a Promise, `delete()`, reference-counted `clone()`). The
 * webgpu backend made over it (`makeWith`) runs its real queue, storage, fallbacks and control flow,
 * so the suites test them, and mutation runs can, on any machine: Dawn's native addon does not survive
 * the test environment reloads of a mutation run.
 */
import { Backend } from "effect-nnx"
import { makeWith } from "../../src/backend/webgpu/Webgpu.ts"

interface CpuKernel {
  (...args: Array<unknown>): unknown
  destroy(): void
}

/** Device memory of the stand-in: handles alive now, to check that nothing leaks. */
export interface StandInMemory {
  live: number
}

class Handle {
  private deleted = false
  constructor(
    readonly data: Float32Array,
    private readonly refs: { n: number },
    private readonly memory: StandInMemory
  ) {
    refs.n++
    if (refs.n === 1) memory.live++
  }
  toArray(): Promise<Float32Array> {
    return this.deleted
      ? Promise.reject(new Error("WebGPUBufferResult has been deleted"))
      : Promise.resolve(this.data.slice())
  }
  delete(): void {
    if (this.deleted) return
    this.deleted = true
    if (--this.refs.n === 0) this.memory.live--
  }
  clone(): Handle {
    return new Handle(this.data, this.refs, this.memory)
  }
}

/** What a failing stand-in kernel does: reject when its source contains `marker`. */
export interface Failure {
  readonly marker: string
  readonly reason: string
}

/** A gpu.js-shaped module whose `GPU` makes the stand-in kernels. */
export const cpuGpuJs = async (memory: StandInMemory, failure?: Failure): Promise<Backend.GpuJs> => {
  const real = Backend.asGpuJs(await import("gpu.js"))!
  const Real = real.GPU as unknown as new (s: {
    mode: string
  }) => {
    createKernel(src: string, settings: object): CpuKernel
    destroy(): void
  }
  class StandIn {
    private readonly inner = new Real({ mode: "cpu" })
    createKernel(src: string, settings: object) {
      if (failure !== undefined && src.includes(failure.marker)) {
        const failing = () => Promise.reject(new Error(failure.reason))
        return Object.assign(failing, { destroy: () => {} })
      }
      const kernel = this.inner.createKernel(src, { ...settings, pipeline: false, immutable: false })
      // As a WebGPU kernel, it needs every argument its source declares.
      const declared = (/^function\s*\(([^)]*)\)/.exec(src)?.[1] ?? "").split(",").filter((a) => a.trim() !== "").length
      const run = (...args: Array<unknown>) => {
        if (args.length !== declared)
          return Promise.reject(new Error(`a kernel of ${declared} arguments called with ${args.length}`))
        const plain = args.map((a) => (a instanceof Handle ? a.data : a))
        const out = kernel(...plain)
        const data = out instanceof Float32Array ? out.slice() : Float32Array.from(out as ArrayLike<number>)
        return Promise.resolve(new Handle(data, { n: 0 }, memory))
      }
      return Object.assign(run, { destroy: () => kernel.destroy() })
    }
    destroy() {
      this.inner.destroy()
    }
  }
  return { GPU: StandIn as unknown as Backend.GpuJs["GPU"] }
}

/** The adapter the stand-in reports. */
export const standInAdapter: Backend.AdapterInfo = {
  vendor: "effect-nnx",
  architecture: "gpu.js cpu mode",
  device: "",
  description: "a stand-in that runs WebGPU kernels in JavaScript",
  software: true
}

/** A webgpu backend over the stand-in, with its device memory counter. */
export const makeCpuWebgpu = async (
  options: Backend.WebgpuOptions & { readonly failure?: Failure } = {}
): Promise<{ readonly backend: Backend.WebgpuBackend; readonly memory: StandInMemory }> => {
  const memory: StandInMemory = { live: 0 }
  const { failure, ...rest } = options
  const backend = await makeWith(await cpuGpuJs(memory, failure), standInAdapter, rest)
  return { backend, memory }
}
