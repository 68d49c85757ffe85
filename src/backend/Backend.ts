/**
 * Where array data lives and kernels run. `Backend` is an Effect service whose default is the `cpu`
 * backend (typed arrays), so code that never provides a layer still runs; a layer picks another
 * backend for a whole program. The gpu.js backend plugs in as a second implementation of
 * {@link BackendImpl} with per-op fallback to the cpu kernels.
 *
 * Array operations are synchronous, so the backend in force is also held in a dynamically scoped
 * "current backend": {@link withBackend} sets it for a synchronous block and {@link run} sets it from
 * the Effect service for the extent of a computation.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { isArrayError } from "./ArrayError.ts"
import type { ArrayError } from "./ArrayError.ts"
import type { Aval, HostArray } from "./DType.ts"
import type { FusedProgram } from "./fusion.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "./Primitive.ts"
import { cpuKernels } from "./cpu/kernels.ts"

/**
 * Data owned by a backend. Opaque to everything but the backend that made it.
 * @category models
 * @since 0.1.0
 */
export interface DeviceBuffer {
  readonly backend: string
}

/**
 * Counters a backend keeps of the kernels it ran. Tests read them to prove, for example, that
 * `vmap` does not loop over the batch.
 * @category models
 * @since 0.1.0
 */
export interface BackendStats {
  /** Kernel dispatches since the last reset. */
  dispatches: number
  /** Dispatches per primitive since the last reset; a fused kernel counts under `"fused"`. */
  readonly byPrimitive: Map<Primitive | "fused", number>
}

/**
 * What a backend provides: moving data in and out, and running one primitive.
 * @category models
 * @since 0.1.0
 */
export interface BackendImpl {
  readonly name: string
  /** Copies host data (the dtype's storage, keys as two words each) into a new buffer. */
  readonly upload: (data: HostArray, aval: Aval) => DeviceBuffer
  /** Reads a buffer back; the result must not be mutated. */
  readonly download: (buffer: DeviceBuffer, aval: Aval) => HostArray
  /** Runs one primitive. Inputs were validated by shape inference; outputs match `outAvals`. */
  readonly execute: <P extends FirstOrderPrimitive>(
    prim: P,
    inputs: ReadonlyArray<DeviceBuffer>,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ) => Array<DeviceBuffer>
  /** Releases a buffer's memory now; the array that held it must not be used afterwards. */
  readonly dispose: (buffer: DeviceBuffer) => void
  /**
   * Compiles a fused program (see {@link FusedProgram}) into one kernel, or returns `undefined` when
   * this backend cannot run it as one; `jit`'s plan then runs the program's primitives one by one.
   * Absent on backends that do not fuse (the cpu reference).
   */
  readonly compileFused?: (program: FusedProgram) => FusedKernel | undefined
  readonly stats: BackendStats
}

/**
 * A compiled fused program: one dispatch from the program's inputs to its outputs.
 * @category models
 * @since 0.2.0
 */
export type FusedKernel = (inputs: ReadonlyArray<DeviceBuffer>, outAvals: ReadonlyArray<Aval>) => Array<DeviceBuffer>

/** @category models @since 0.1.0 */
export interface CpuBuffer extends DeviceBuffer {
  readonly backend: "cpu"
  readonly data: HostArray
}

/** Fresh counters. @internal */
export const newStats = (): BackendStats => ({ dispatches: 0, byPrimitive: new Map() })

/** Counts one dispatch of `prim`. @internal */
export const countDispatch = (stats: BackendStats, prim: Primitive | "fused"): void => {
  stats.dispatches++
  stats.byPrimitive.set(prim, (stats.byPrimitive.get(prim) ?? 0) + 1)
}

/**
 * Resets a backend's counters.
 * @category stats
 * @since 0.1.0
 */
export const resetStats = (backend: BackendImpl): void => {
  backend.stats.dispatches = 0
  backend.stats.byPrimitive.clear()
}

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

let current: BackendImpl = cpu

/**
 * The backend array operations use right now.
 * @category accessors
 * @since 0.1.0
 */
export const currentBackend = (): BackendImpl => current

/**
 * Runs a synchronous block with `backend` as the current backend, restoring the previous one after.
 * @category combinators
 * @since 0.1.0
 */
export const withBackend = <A>(backend: BackendImpl, f: () => A): A => {
  const prev = current
  current = backend
  try {
    return f()
  } finally {
    current = prev
  }
}

/**
 * The Backend service. Its default is {@link cpu}; provide a layer to choose another.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Backend.run(() => jnp.arange(3).mul(2).tolist())
 * Effect.runSync(program) // [0, 2, 4]
 * ```
 * @category services
 * @since 0.1.0
 */
export const Backend: Context.Reference<BackendImpl> = Context.Reference<BackendImpl>("effect-nnx/Backend", {
  defaultValue: () => cpu
})

/**
 * A layer that makes `backend` the Backend service.
 * @category layers
 * @since 0.1.0
 */
export const layer = (backend: BackendImpl): Layer.Layer<never> => Layer.succeed(Backend, backend)

/**
 * The cpu layer.
 * @category layers
 * @since 0.1.0
 */
export const layerCpu: Layer.Layer<never> = layer(cpu)

/**
 * Runs synchronous array code with the Backend service as the current backend. An array error thrown
 * inside becomes a typed failure; any other exception is a defect.
 * @category combinators
 * @since 0.1.0
 */
export const run = <A>(f: () => A): Effect.Effect<A, ArrayError> =>
  Effect.flatMap(Backend, (backend) =>
    Effect.suspend(() => {
      try {
        return Effect.succeed(withBackend(backend, f))
      } catch (e) {
        if (isArrayError(e)) return Effect.fail(e)
        return Effect.die(e)
      }
    }))
