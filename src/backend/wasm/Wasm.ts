/**
 * The `wasm` backend: kernels generated as WebAssembly SIMD code at run time, on a pool of threads
 * that share one WebAssembly memory. It is the default backend wherever WebAssembly runs.
 *
 * Each primitive with a wasm kernel runs it over the arrays' blocks in the shared memory; the
 * primitives without one (see `docs/engine.md`) run the cpu reference kernel directly on views of
 * that memory, and every such fallback is counted in {@link WasmStats.fallbacks} so none is silent.
 * Fused programs that `jit` compiles become one generated kernel each.
 *
 * @since 0.2.0
 */
import { DTypeError } from "../ArrayError.ts"
import type { BackendImpl, BackendStats, DeviceBuffer, FusedKernel } from "../BackendImpl.ts"
import { countDispatch, newStats } from "../BackendImpl.ts"
import { cpuKernels } from "../cpu/kernels.ts"
import type { CpuKernel } from "../cpu/kernel.ts"
import type { Aval, DType, HostArray } from "../DType.ts"
import { wordsPerElement } from "../DType.ts"
import type { FusedProgram } from "../fusion.ts"
import { fusedKey } from "../fusion.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "../Primitive.ts"
import { sizeOf } from "../shape.ts"
import { relaxedSimdSupported } from "./encoder.ts"
import { compileFused } from "./fused.ts"
import { Heap } from "./heap.ts"
import type { HeapStats } from "./heap.ts"
import { wasmKernels } from "./kernels.ts"
import { makePool } from "./pool.ts"
import type { Pool } from "./pool.ts"
import { initialPages, instantiateKernel, kernelImports, maximumPages } from "./runtime.ts"
import type { Kernel, WasmKernel, WasmRuntime } from "./runtime.ts"
import { StoragePool } from "./storage.ts"
import type { Storage, StorageKind, StorageStats, WasmBuffer } from "./storage.ts"

/**
 * Options of {@link make}.
 * @category models
 * @since 0.2.0
 */
export interface WasmOptions {
  /** Threads kernels run on, the caller included. Default: the machine's cores. */
  readonly threads?: number | undefined
  /**
   * How long, in microseconds, an idle thread checks for the next kernel before it sleeps (see
   * `PoolOptions.spinMicroseconds`). Default: 1000. Set 0 where cores are scarce and idle spinning costs
   * other work more than the wake-up latency costs this backend.
   */
  readonly spinMicroseconds?: number | undefined
  /**
   * Bytes of array data kept in the WebAssembly memory before the least recently used arrays move to
   * the JavaScript heap. Default: 1 GiB.
   */
  readonly residentLimitBytes?: number | undefined
  /** Largest size the WebAssembly memory may grow to, in bytes. Default and maximum: 4 GiB. */
  readonly maxMemoryBytes?: number | undefined
}

/**
 * Counters of the wasm backend.
 * @category models
 * @since 0.2.0
 */
export interface WasmStats extends BackendStats {
  /** Primitives run by the cpu reference kernel because no wasm kernel covers them (or their dtypes). */
  readonly fallbacks: Map<Primitive, number>
  readonly heap: HeapStats
  readonly storage: StorageStats
}

/**
 * The wasm backend.
 * @category models
 * @since 0.2.0
 */
export interface WasmBackend extends BackendImpl {
  readonly name: "wasm"
  readonly stats: WasmStats
  /** Threads kernels run on, and why fewer than asked if so. */
  readonly threads: number
  readonly threadsReason: string | undefined
  readonly runtime: WasmRuntime
  /** Runs `f`, then disposes every array it made on this backend except those in its result. */
  readonly tidy: <A>(f: () => A) => A
  /** Ends the worker threads (the backend keeps working on the calling thread). */
  readonly close: () => void
}

const kindOf = (d: DType): StorageKind => {
  switch (d) {
    case "float32":
    case "complex64":
      return "f32"
    case "int32":
      return "i32"
    case "bool":
      return "u8"
    case "uint32":
    case "key<fry>":
      return "u32"
  }
}

const storageLength = (aval: Aval): number => sizeOf(aval.shape) * wordsPerElement(aval.dtype)

/** Primitives that only reinterpret their input: the output shares the input's storage. */
const aliasing: ReadonlySet<Primitive> = new Set<Primitive>([
  "reshape",
  "squeeze",
  "expand_dims",
  "random_wrap",
  "random_unwrap",
  "stop_gradient"
])

/**
 * The wasm kernels that handle complex64 (as pairs of float32 words): the copies. Every other
 * primitive on complex operands runs the cpu kernel on views of the memory, counted in
 * `stats.fallbacks` like any other fallback.
 */
const complexCopies: ReadonlySet<Primitive> = new Set<Primitive>([
  "broadcast_in_dim",
  "transpose",
  "slice",
  "dynamic_slice",
  "dynamic_update_slice",
  "concatenate"
])
const isComplexAval = (a: Aval): boolean => a.dtype === "complex64"

/** Collects the arrays inside a (nested) result, to keep them out of a tidy. */
const collectBuffers = (value: unknown, out: Set<unknown>, seen = new Set<unknown>()): Set<unknown> => {
  if (value === null || typeof value !== "object" || seen.has(value)) return out
  seen.add(value)
  const buffer = (value as { buffer?: unknown }).buffer
  if (buffer !== undefined && typeof buffer === "object" && (buffer as { backend?: unknown }).backend === "wasm")
    out.add(buffer)
  if (Array.isArray(value)) for (const v of value) collectBuffers(v, out, seen)
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collectBuffers(v, out, seen)
  return out
}

let singleThreadNoted = false

/** Says once per process that the wasm backend could not use the threads it was asked for, and why. */
const noteSingleThread = (reason: string): void => {
  singleThreadNoted = true
  console.warn(`effect-nnx: the wasm backend runs on one thread: ${reason}`)
}

/**
 * Makes a wasm backend with its own memory and threads.
 * @category constructors
 * @since 0.2.0
 */
export const make = (options?: WasmOptions): WasmBackend => {
  const maxBytes = Math.min(options?.maxMemoryBytes ?? maximumPages * 65536, maximumPages * 65536)
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true })
  const heap = new Heap(memory, 1024, maxBytes)
  const storages = new StoragePool(heap, options?.residentLimitBytes ?? 2 ** 30)
  const pool: Pool = makePool(memory, { threads: options?.threads, spinMicroseconds: options?.spinMicroseconds })
  const requested =
    options?.threads ??
    Math.max(
      pool.threads,
      (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1
    )
  const kernels = new Map<string, Kernel>()
  const imports = kernelImports(memory)
  let nextKernelId = 0
  let scratchPtr = 0
  let scratchBytes = 0

  const runtime: WasmRuntime = {
    memory,
    get threads() {
      return pool.threads
    },
    relaxedSimd: relaxedSimdSupported(),
    kernel: (key, build) => {
      let k = kernels.get(key)
      if (k === undefined) {
        k = instantiateKernel(nextKernelId++, key, build, imports)
        kernels.set(key, k)
      }
      return k
    },
    run: (kernel, name, args, tasks) => {
      pool.run(kernel, name, args, tasks)
      if (pool.reason !== undefined && !singleThreadNoted && requested > 1) noteSingleThread(pool.reason)
    },
    scratch: (bytes) => {
      if (bytes > scratchBytes) {
        if (scratchBytes > 0) heap.release(scratchPtr)
        scratchBytes = 0
        scratchPtr = heap.alloc(bytes, "scratch", (n) => storages.reclaim(n))
        scratchBytes = bytes
      }
      return scratchPtr
    },
    f32: () => storages.view("f32"),
    i32: () => storages.view("i32"),
    u32: () => storages.view("u32"),
    u8: () => storages.view("u8")
  }

  const stats: WasmStats = {
    ...newStats(),
    fallbacks: new Map(),
    heap: heap.stats,
    storage: storages.stats
  }

  const own = (b: DeviceBuffer, op: string): WasmBuffer => {
    if (b.backend !== "wasm") throw new TypeError(`wasm backend: got a buffer of backend ${b.backend}`)
    const w = b as WasmBuffer
    if (w.released) throw new DTypeError({ op, dtypes: [], reason: "this Array was disposed" })
    return w
  }

  const fallback = <P extends FirstOrderPrimitive>(
    prim: P,
    ins: ReadonlyArray<Storage>,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ): Array<DeviceBuffer> => {
    stats.fallbacks.set(prim, (stats.fallbacks.get(prim) ?? 0) + 1)
    const hostIns = ins.map((s) => (s.host !== undefined ? s.host : storages.residentView(s)))
    const memoryBuffer = memory.buffer
    const outs = (cpuKernels[prim] as CpuKernel<P>)(hostIns, inAvals, outAvals, params)
    return outs.map((o, i) => {
      // A kernel that returned one of its inputs (a view into the memory) gets a copy it owns.
      const owned = o.buffer === memoryBuffer || hostIns.includes(o) ? o.slice() : o
      return storages.share(storages.fromHost(kindOf(outAvals[i]!.dtype), owned))
    })
  }

  const execute = <P extends FirstOrderPrimitive>(
    prim: P,
    inputs: ReadonlyArray<DeviceBuffer>,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ): Array<DeviceBuffer> => {
    countDispatch(stats, prim)
    const ins = inputs.map((b) => own(b, prim).storage)
    if (aliasing.has(prim)) return [storages.share(ins[0]!)]
    if (!complexCopies.has(prim) && (inAvals.some(isComplexAval) || outAvals.some(isComplexAval)))
      return fallback(prim, ins, inAvals, outAvals, params)
    const kernel = wasmKernels[prim] as WasmKernel<P> | undefined
    if (kernel === undefined) return fallback(prim, ins, inAvals, outAvals, params)
    const ptrs = ins.map((s) => storages.pin(s, prim))
    const outs: Array<Storage> = []
    try {
      for (const aval of outAvals) {
        const s = storages.allocate(kindOf(aval.dtype), storageLength(aval), prim)
        s.pins++
        outs.push(s)
      }
      const answer = kernel(
        runtime,
        ptrs,
        outs.map((s) => s.ptr!),
        inAvals,
        outAvals,
        params
      )
      if (answer === "fallback") {
        for (const s of outs) {
          s.pins--
          storages.dispose(storages.share(s))
        }
        outs.length = 0
        return fallback(prim, ins, inAvals, outAvals, params)
      }
      return outs.map((s) => storages.share(s))
    } finally {
      for (const s of ins) storages.unpin(s)
      for (const s of outs) s.pins--
    }
  }

  const compiled = new Map<string, FusedKernel | undefined>()
  const backend: WasmBackend = {
    name: "wasm",
    stats,
    get threads() {
      return pool.threads
    },
    get threadsReason() {
      return pool.reason
    },
    runtime,
    upload: (data: HostArray, aval, options) =>
      storages.share(storages.fromHost(kindOf(aval.dtype), data.slice()), options?.moved !== true),
    download: (buffer) => storages.read(own(buffer, "data").storage),
    borrow: (buffer, _aval, f) => storages.borrow(own(buffer, "withData").storage, f),
    execute,
    dispose: (buffer) => storages.dispose(own(buffer, "dispose")),
    compileFused: (program: FusedProgram) => {
      const key = fusedKey(program)
      if (compiled.has(key)) return compiled.get(key)
      const run = compileFused(runtime, program)
      const kernel: FusedKernel | undefined =
        run === undefined
          ? undefined
          : (inputs, outAvals) => {
              countDispatch(stats, "fused")
              const ins = inputs.map((b) => own(b, "fused").storage)
              const ptrs = ins.map((s) => storages.pin(s, "fused"))
              const outs: Array<Storage> = []
              try {
                for (const aval of outAvals) {
                  const s = storages.allocate(kindOf(aval.dtype), storageLength(aval), "fused")
                  s.pins++
                  outs.push(s)
                }
                run(
                  ptrs,
                  outs.map((s) => s.ptr!)
                )
                return outs.map((s) => storages.share(s))
              } finally {
                for (const s of ins) storages.unpin(s)
                for (const s of outs) s.pins--
              }
            }
      compiled.set(key, kernel)
      return kernel
    },
    tidy: (f) => storages.track(f, (result) => collectBuffers(result, new Set())),
    retain: (buffer) => storages.share(own(buffer, "retain").storage, false),
    keep: (buffer) => storages.keep(own(buffer, "keep")),
    released: (buffer) => (buffer as WasmBuffer).released,
    close: () => pool.close()
  }
  return backend
}

/**
 * Whether `b` is a wasm backend.
 * @category guards
 * @since 0.2.0
 */
export const isWasmBackend = (b: BackendImpl): b is WasmBackend => b.name === "wasm" && "runtime" in b
