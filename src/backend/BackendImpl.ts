/**
 * The contract every backend implements ({@link BackendImpl}) and the dispatch counters they keep.
 * It imports nothing, so kernels, backends and the dispatcher can all depend on it without cycles.
 *
 * @since 0.2.0
 */
import type { Aval, HostArray } from "./DType.ts"
import type { FusedProgram } from "./fusion.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "./Primitive.ts"

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
  readonly upload: (data: HostArray, aval: Aval, options?: UploadOptions) => DeviceBuffer
  /** Reads a buffer back; the result must not be mutated. */
  readonly download: (buffer: DeviceBuffer, aval: Aval) => HostArray
  /**
   * Reads a buffer back once every operation that produces it has run: backends that evaluate
   * asynchronously (webgpu) have it, and their {@link download} fails for values not read back yet.
   * Without it, reads are synchronous and `Array.data()` resolves with {@link download}'s result.
   */
  readonly read?: (buffer: DeviceBuffer, aval: Aval) => Promise<HostArray>
  /**
   * Calls `f` with the elements, valid during the call only: backends whose memory the host can
   * read in place (wasm) lend it without a copy. Without it, `f` gets {@link download}'s result.
   */
  readonly borrow?: <A>(buffer: DeviceBuffer, aval: Aval, f: (data: HostArray) => A) => A
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
  /**
   * Runs `f` and disposes every buffer made during it on this backend except those its result holds.
   * Absent on backends whose memory the garbage collector owns (cpu).
   */
  readonly tidy?: <A>(f: () => A) => A
  /**
   * A second handle on `buffer`'s data that no `tidy` disposes, for holders that outlive the scope
   * an array was made in (a compiled program's constants). Absent where `tidy` is.
   */
  readonly retain?: (buffer: DeviceBuffer) => DeviceBuffer
  /**
   * Takes a buffer out of every open `tidy`, so that none disposes it: what a Variable holds
   * outlives the tidy around the step that stored it (backends with `tidy` have it).
   */
  readonly keep?: (buffer: DeviceBuffer) => void
  /** Whether a buffer was released (by `dispose` or a `tidy`); backends without release omit it. */
  readonly released?: (buffer: DeviceBuffer) => boolean
  /**
   * Runs `job` in an asynchronous backend's queue, once `inputs` are computed, and returns its
   * results' buffers at once (pending until it has run). Control flow whose decisions read values
   * (`while`, `cond` on a value still on the device) runs this way: the job reads the predicate and
   * runs the chosen program with {@link DeferredScope.run}. Synchronous backends omit it.
   */
  readonly defer?: (
    inputs: ReadonlyArray<DeviceBuffer>,
    outAvals: ReadonlyArray<Aval>,
    job: (scope: DeferredScope) => Promise<ReadonlyArray<DeviceBuffer>>
  ) => Array<DeviceBuffer>
}

/** What a {@link BackendImpl.defer} job works with. */
export interface DeferredScope {
  /** The job's inputs: handles of their own, valid while the job runs. */
  readonly inputs: ReadonlyArray<DeviceBuffer>
  /**
   * Runs synchronous array code with this backend current; its operations run before anything
   * queued after the job, and the promise resolves once they have.
   */
  readonly run: <A>(f: () => A) => Promise<A>
  /** Reads a buffer the job computed. */
  readonly read: (buffer: DeviceBuffer, aval: Aval) => Promise<HostArray>
}

/** Options of {@link BackendImpl.upload}. */
export interface UploadOptions {
  /**
   * The data is an existing array moving to this backend, not a new array: an enclosing `tidy` must
   * not dispose it.
   */
  readonly moved?: boolean
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
