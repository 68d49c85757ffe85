/**
 * A pool of worker threads that share the backend's WebAssembly memory, so that one kernel call runs on
 * every core while the array API stays synchronous.
 *
 * Why this shape:
 * - Synchronous. The array API returns values, not promises, so {@link Pool.run} blocks the calling
 *   thread with `Atomics.wait` until every share is done. No `postMessage` per call: a call writes a
 *   small command into a shared control block and bumps a generation counter the workers wait on; the
 *   workers count themselves done on another counter the caller waits on. Waiting threads spin for a
 *   bounded time ({@link PoolOptions.spinMicroseconds}, 1 ms by default) before they sleep: waking a
 *   sleeping thread costs tens of microseconds on a virtual machine, more than a whole elementwise
 *   kernel of 65,536 elements, and the kernels of a training step follow each other closely. The bound
 *   keeps idle workers from burning a core that other processes (parallel test runs) need.
 * - Kernels travel as bytes. A kernel module is copied (in chunks, so any size fits) into a shared
 *   region the first time it runs, and each worker compiles and instantiates it synchronously over the
 *   same memory with the same imports as the calling thread (`kernelImports`: the memory and
 *   the {@link hostMath} functions, whose names are written into the worker's source from that table).
 * - Bundlable. The worker's code is an inline string (Node `eval` workers, or a Blob URL in browsers),
 *   and `node:worker_threads` is reached through `process.getBuiltinModule`, so the module loads in a
 *   browser and needs no file path at run time.
 * - Degrades to one thread, saying why ({@link Pool.reason}): no workers, a page that is not
 *   cross-origin isolated, a thread where `Atomics.wait` is not allowed (a browser's main thread),
 *   workers that did not start in time. Kernels give identical results for any number of threads, so
 *   falling back changes speed only.
 * - A trap in a worker does not hang the caller: the worker reports it in the control block, finishes
 *   its other shares and counts itself done; the caller rethrows it after every share has finished.
 *
 * @since 0.2.0
 */
import type { Worker as NodeWorker } from "node:worker_threads"
import { hostMath } from "./runtime.ts"
import type { Kernel } from "./runtime.ts"

/**
 * Threads that run kernels over one shared memory.
 * @category models
 * @since 0.2.0
 */
export interface Pool {
  /** Total threads, the caller included; drops to 1 if the workers fail to start. */
  readonly threads: number
  /** Why there are fewer threads than asked for, if there are. */
  readonly reason: string | undefined
  /** How long a waiting thread spins before it sleeps, in microseconds (the option, clamped). */
  readonly spinMicroseconds: number
  /**
   * Runs `kernel.exports[name](task, tasks, ...args)` for every task in `0 .. tasks - 1` and returns
   * when all have finished. Thread `t` takes tasks `t, t + threads, ...`; the caller is thread 0.
   * Rethrows the first task's exception (a wasm trap) after every task has finished.
   */
  run(kernel: Kernel, name: string, args: ReadonlyArray<number>, tasks: number): void
  /** Ends the workers; a later `run` throws. */
  close(): void
  /** Resolves once every worker has ended (after `close`, or after falling back to one thread). */
  readonly closed: Promise<void>
}

/**
 * Options of {@link makePool}.
 * @category models
 * @since 0.2.0
 */
export interface PoolOptions {
  /** Total threads, the caller included; the machine's cores by default. */
  readonly threads?: number | undefined
  /** How long the first parallel `run` waits for the workers to start before running alone (10 s). */
  readonly startupTimeoutMs?: number | undefined
  /**
   * How long, in microseconds, a thread keeps checking for the next call (a worker) or for the workers'
   * end of this one (the caller) before it sleeps in `Atomics.wait`. Default {@link defaultSpinMicroseconds};
   * 0 sleeps at once. Clamped to `[0, 100000]`; anything else than a number gives the default.
   */
  readonly spinMicroseconds?: number | undefined
}

/**
 * The default {@link PoolOptions.spinMicroseconds}: 1 ms. Waking a sleeping thread costs tens of
 * microseconds on a virtual machine (measured: a parallel 65,536-element add took 43 µs with sleeping
 * workers, 13 µs with spinning ones, and one thread 19 µs), while the steps of a training loop come
 * within a millisecond of each other. A thread spins at most this long after each call, then sleeps.
 * @category constants
 * @since 0.2.0
 */
export const defaultSpinMicroseconds = 1000

/**
 * The caller spins at most this long for the workers to finish. Shorter than the workers' spin: a
 * caller spinning while its workers wait for a core (more threads than cores: parallel test runs)
 * would hold the core they need.
 */
const callerSpinMicroseconds = 50

const spinOf = (us: number | undefined): number =>
  typeof us === "number" && !Number.isNaN(us) ? Math.floor(Math.min(100_000, Math.max(0, us))) : defaultSpinMicroseconds

// The control block: a header of i32 slots, an error message region and a data region (module chunks
// and export names). The worker source below reads the same offsets from `layout`.
const layout = {
  gen: 0,
  done: 1,
  cmd: 2,
  kernel: 3,
  name: 4,
  nameLength: 5,
  tasks: 6,
  threads: 7,
  workers: 8,
  argCount: 9,
  error: 10,
  errorWorker: 11,
  errorTask: 12,
  errorLength: 13,
  ready: 14,
  startFailed: 15,
  total: 16,
  chunkOffset: 17,
  chunkLength: 18,
  spinMicros: 19,
  preemptedMs: 0.1,
  contendedMs: 100,
  args: 32,
  headerSlots: 128,
  errorBytes: 1024,
  dataBytes: 65536
} as const
const maxArgs = layout.headerSlots - layout.args
const errorOffset = layout.headerSlots * 4
const dataOffset = errorOffset + layout.errorBytes
const command = { load: 1, run: 2, exit: 3 } as const

const workerMain = `
"use strict";
const startPool = (memory, control, index) => {
  const L = ${JSON.stringify(layout)};
  const C = ${JSON.stringify(command)};
  const bytes = new Uint8Array(control.buffer);
  const errorOffset = ${errorOffset}, dataOffset = ${dataOffset};
  const report = (task, e) => {
    if (Atomics.compareExchange(control, L.error, 0, 1) !== 0) return;
    control[L.errorWorker] = index;
    control[L.errorTask] = task;
    const text = new TextEncoder().encode(e instanceof Error ? e.name + ": " + e.message : String(e)).subarray(0, L.errorBytes);
    bytes.set(text, errorOffset);
    control[L.errorLength] = text.length;
  };
  let imports, decoder, kernels, names, argv, pending, seen, spinAgainAt = 0;
  try {
    const env = { memory };
    for (const name of ${JSON.stringify(Object.keys(hostMath))}) env[name] = Math[name];
    imports = { env };
    decoder = new TextDecoder();
    kernels = new Map();
    names = [];
    argv = [];
    seen = Atomics.load(control, L.gen);
  } catch (e) {
    report(-1, e);
    Atomics.store(control, L.startFailed, 1);
    Atomics.add(control, L.ready, 1);
    Atomics.notify(control, L.ready);
    return;
  }
  Atomics.add(control, L.ready, 1);
  Atomics.notify(control, L.ready);
  for (;;) {
    let gen = Atomics.load(control, L.gen);
    if (gen === seen && control[L.spinMicros] > 0) {
      let t = performance.now();
      if (t >= spinAgainAt) {
        const until = t + control[L.spinMicros] / 1000;
        while (gen === seen) {
          for (let i = 0; i < 64 && gen === seen; i++) gen = Atomics.load(control, L.gen);
          const t2 = performance.now();
          if (t2 - t > L.preemptedMs) {
            spinAgainAt = t2 + L.contendedMs;
            break;
          }
          if (t2 >= until) break;
          t = t2;
        }
      }
    }
    while (gen === seen) {
      Atomics.wait(control, L.gen, seen);
      gen = Atomics.load(control, L.gen);
    }
    seen = gen;
    const cmd = control[L.cmd];
    if (cmd === C.exit) break;
    try {
      if (cmd === C.load) {
        const total = control[L.total], offset = control[L.chunkOffset], length = control[L.chunkLength];
        if (offset === 0) pending = new Uint8Array(total);
        pending.set(bytes.subarray(dataOffset, dataOffset + length), offset);
        if (offset + length === total) {
          const id = control[L.kernel];
          kernels.delete(id);
          const module = new WebAssembly.Module(pending);
          pending = undefined;
          kernels.set(id, new WebAssembly.Instance(module, imports).exports);
        }
      } else if (cmd === C.run) {
        const nameIndex = control[L.name], nameLength = control[L.nameLength];
        if (nameLength > 0) names[nameIndex] = decoder.decode(bytes.slice(dataOffset, dataOffset + nameLength));
        const tasks = control[L.tasks], threads = control[L.threads], argCount = control[L.argCount];
        if (index < tasks) {
          const exports = kernels.get(control[L.kernel]);
          const f = exports === undefined ? undefined : exports[names[nameIndex]];
          if (typeof f !== "function") throw new Error("kernel " + control[L.kernel] + " export " + names[nameIndex] + " is not loaded on this worker");
          argv.length = argCount + 2;
          argv[1] = tasks;
          for (let i = 0; i < argCount; i++) argv[i + 2] = control[L.args + i];
          for (let task = index; task < tasks; task += threads) {
            argv[0] = task;
            try {
              f.apply(undefined, argv);
            } catch (e) {
              report(task, e);
            }
          }
        }
      }
    } catch (e) {
      report(-1, e);
    }
    if (Atomics.add(control, L.done, 1) + 1 === control[L.workers]) Atomics.notify(control, L.done);
  }
};
`

const nodeWorkerSource = `${workerMain}
const { workerData } = require("node:worker_threads");
startPool(workerData.memory, workerData.control, workerData.index);
`

const browserWorkerSource = `${workerMain}
self.onmessage = (event) => {
  self.onmessage = null;
  startPool(event.data.memory, event.data.control, event.data.index);
  self.close();
};
`

/** A started worker, whichever kind. */
interface PoolWorker {
  terminate(): void
  readonly exited: Promise<void>
}

/** Starts workers of this environment's kind; `release` frees what they shared (a Blob URL). */
interface WorkerFactory {
  start(index: number, data: object, onError: (message: string) => void): PoolWorker
  release(): void
}

const defaultThreads = (): number => {
  const os = nodeModule("node:os")
  if (os !== undefined) return os.availableParallelism()
  const n = (globalThis as { readonly navigator?: { readonly hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency
  return typeof n === "number" && n > 0 ? n : 1
}

const isNode = (): boolean => typeof process !== "undefined" && typeof process.versions?.node === "string"

/** A Node built-in, without a static import (the module must load in browsers and bundles). */
function nodeModule(id: "node:os"): typeof import("node:os") | undefined
function nodeModule(id: "node:worker_threads"): typeof import("node:worker_threads") | undefined
function nodeModule(id: "node:os" | "node:worker_threads"): object | undefined {
  if (!isNode() || typeof process.getBuiltinModule !== "function") return undefined
  return process.getBuiltinModule(id)
}

/** Whether this thread may block in `Atomics.wait` (a browser's main thread may not). */
const canBlock = (): boolean => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0)
    return true
  } catch {
    return false
  }
}

/** Why this environment cannot have workers, or the function that starts one. */
const workerFactory = (): string | WorkerFactory => {
  const cannotBlock =
    "Atomics.wait is not allowed on this thread (a browser's main thread); run the backend in a worker"
  if (isNode()) {
    if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is not available"
    if (!canBlock()) return cannotBlock
    const threads = nodeModule("node:worker_threads")
    if (threads === undefined)
      return "node:worker_threads is not reachable (process.getBuiltinModule needs Node 22.3 or later)"
    const start = (index: number, data: object, onError: (message: string) => void): PoolWorker => {
      const worker: NodeWorker = new threads.Worker(nodeWorkerSource, {
        eval: true,
        workerData: data,
        name: `effect-nnx wasm pool ${index}`
      })
      worker.unref()
      // Kernel errors come through the control block; this keeps a worker's crash off the process.
      worker.on("error", (e) => onError(e.message))
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
      return { terminate: () => void worker.terminate(), exited }
    }
    return { start, release: () => {} }
  }
  const g = globalThis as { readonly crossOriginIsolated?: boolean; readonly Worker?: typeof Worker }
  if (g.Worker === undefined) return "Web Workers are not available"
  if (g.crossOriginIsolated !== true) {
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)"
  }
  if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is not available"
  if (!canBlock()) return cannotBlock
  const url = URL.createObjectURL(new Blob([browserWorkerSource], { type: "text/javascript" }))
  const WebWorker = g.Worker
  const start = (_index: number, data: object, onError: (message: string) => void): PoolWorker => {
    const worker = new WebWorker(url, { name: "effect-nnx wasm pool" })
    worker.addEventListener("error", (e) => {
      e.preventDefault()
      onError(e.message || "the worker's script did not load (a Content-Security-Policy without worker-src blob:?)")
    })
    worker.postMessage(data)
    return { terminate: () => worker.terminate(), exited: Promise.resolve() }
  }
  return { start, release: () => URL.revokeObjectURL(url) }
}

const now = (): number => performance.now()

/**
 * A pool of `threads` threads (the caller and `threads - 1` workers) over `memory`, which must be
 * shared. Workers start now, asynchronously; the first parallel `run` waits for them (in Node; in a
 * browser worker, where they may need this thread's event loop to start, it runs alone until they are
 * up). Call `close` when done: the workers do not keep a Node process alive, but they hold memory.
 *
 * @example
 * ```ts
 * import { makePool } from "./pool.ts"
 *
 * const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true })
 * const pool = makePool(memory, { threads: 4 })
 * // pool.run(kernel, "add", [a, b, out, n], pool.threads)
 * pool.close()
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const makePool = (memory: WebAssembly.Memory, options: PoolOptions = {}): Pool => {
  const asked = Math.max(1, Math.floor(options.threads ?? defaultThreads()))
  const startupTimeoutMs = options.startupTimeoutMs ?? 10_000
  const spinMicros = spinOf(options.spinMicroseconds)
  // When the caller may spin again: it stops for a while once it finds itself preempted mid-spin.
  let spinAgainAt = 0
  let threads = 1
  let reason: string | undefined
  let ready = false
  let isClosed = false
  // When the startup timeout starts counting: now in Node; in a browser once this thread's event loop
  // has turned, since its workers cannot start before that.
  let startedAt: number | undefined
  let startError: string | undefined
  let workers: Array<PoolWorker> = []
  let release = (): void => {}
  let resolveClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))
  const controlBytes = dataOffset + layout.dataBytes
  const control = new Int32Array(
    typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(controlBytes) : new ArrayBuffer(controlBytes)
  )
  const bytes = new Uint8Array(control.buffer)
  const loaded = new Map<number, Kernel>()
  const names = new Map<string, number>()
  const encoder = new TextEncoder()
  // In a browser the workers may need this thread's event loop to start, so never block for them there.
  const blockForStartup = isNode()

  const endWorkers = (): void => {
    const ending = workers
    workers = []
    for (const w of ending) w.terminate()
    release()
    void Promise.all(ending.map((w) => w.exited)).then(() => resolveClosed())
  }

  const fallBack = (why: string): void => {
    threads = 1
    reason = why
    endWorkers()
  }

  if (asked > 1) {
    const made = workerFactory()
    const factory =
      typeof made === "string" || memory.buffer instanceof SharedArrayBuffer ? made : "the memory is not shared"
    if (typeof factory === "string") {
      reason = factory
      resolveClosed()
    } else {
      control[layout.threads] = asked
      control[layout.workers] = asked - 1
      control[layout.spinMicros] = spinMicros
      try {
        const onError = (message: string) => void (startError ??= message)
        release = factory.release
        for (let index = 1; index < asked; index++)
          workers.push(factory.start(index, { memory, control, index }, onError))
        threads = asked
        if (blockForStartup) startedAt = now()
        else setTimeout(() => (startedAt = now()), 0)
      } catch (e) {
        fallBack(`workers could not be started: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
  } else {
    resolveClosed()
  }

  const errorMessage = (): string => {
    const length = control[layout.errorLength] ?? 0
    return new TextDecoder().decode(bytes.slice(errorOffset, errorOffset + length))
  }

  /** Whether the workers are up; false means run alone this time (or for good, after falling back). */
  const awaitWorkers = (): boolean => {
    if (ready) return true
    if (startedAt === undefined) return false
    const deadline = startedAt + startupTimeoutMs
    for (;;) {
      const up = Atomics.load(control, layout.ready)
      if (Atomics.load(control, layout.startFailed) !== 0 || startError !== undefined) {
        fallBack(`a worker failed to start: ${startError ?? errorMessage()}`)
        return false
      }
      if (up >= threads - 1) {
        ready = true
        return true
      }
      const left = deadline - now()
      if (left <= 0) {
        fallBack(`the workers did not start within ${startupTimeoutMs} ms`)
        return false
      }
      if (!blockForStartup) return false
      Atomics.wait(control, layout.ready, up, left)
    }
  }

  /**
   * Posts a command to every worker, runs `runOwn` meanwhile and waits until every worker has done the
   * command; where the first worker error happened and its message, if any.
   */
  const post = (cmd: number, runOwn: () => void): string | undefined => {
    control[layout.cmd] = cmd
    control[layout.error] = 0
    Atomics.store(control, layout.done, 0)
    Atomics.add(control, layout.gen, 1)
    Atomics.notify(control, layout.gen)
    runOwn()
    const workerCount = threads - 1
    let done = Atomics.load(control, layout.done)
    if (done !== workerCount && spinMicros > 0) {
      let t = now()
      if (t >= spinAgainAt) {
        const until = t + Math.min(spinMicros, callerSpinMicroseconds) / 1000
        while (done !== workerCount) {
          for (let i = 0; i < 64 && done !== workerCount; i++) done = Atomics.load(control, layout.done)
          const t2 = now()
          if (t2 - t > layout.preemptedMs) {
            spinAgainAt = t2 + layout.contendedMs
            break
          }
          if (t2 >= until) break
          t = t2
        }
      }
    }
    while (done !== workerCount) {
      Atomics.wait(control, layout.done, done)
      done = Atomics.load(control, layout.done)
    }
    if (Atomics.load(control, layout.error) === 0) return undefined
    const task = control[layout.errorTask] ?? -1
    const where =
      task >= 0 ? `task ${task} on worker ${control[layout.errorWorker]}` : `worker ${control[layout.errorWorker]}`
    return `${where}: ${errorMessage()}`
  }

  const load = (kernel: Kernel): void => {
    if (loaded.get(kernel.id) === kernel) return
    loaded.delete(kernel.id)
    const total = kernel.bytes.length
    control[layout.kernel] = kernel.id
    control[layout.total] = total
    for (let offset = 0; offset === 0 || offset < total; offset += layout.dataBytes) {
      const length = Math.min(layout.dataBytes, total - offset)
      bytes.set(kernel.bytes.subarray(offset, offset + length), dataOffset)
      control[layout.chunkOffset] = offset
      control[layout.chunkLength] = length
      const worker = post(command.load, () => {})
      if (worker !== undefined) throw new Error(`wasm pool: kernel ${kernel.key} did not load on a worker (${worker})`)
    }
    loaded.set(kernel.id, kernel)
  }

  const exportOf = (kernel: Kernel, name: string): ((...args: Array<number>) => unknown) => {
    const f = kernel.exports[name]
    if (f === undefined) throw new Error(`wasm pool: kernel ${kernel.key} has no export ${name}`)
    return f
  }

  const runAlone = (f: (...args: Array<number>) => unknown, args: ReadonlyArray<number>, tasks: number): void => {
    for (let task = 0; task < tasks; task++) f(task, tasks, ...args)
  }

  const run = (kernel: Kernel, name: string, args: ReadonlyArray<number>, tasksAsked: number): void => {
    if (isClosed) throw new Error("wasm pool: run after close")
    const f = exportOf(kernel, name)
    const tasks = Math.max(1, Math.floor(tasksAsked))
    if (tasks === 1 || threads === 1 || !awaitWorkers()) return runAlone(f, args, tasks)
    if (args.length > maxArgs)
      throw new Error(`wasm pool: ${args.length} arguments to ${kernel.key}.${name}; at most ${maxArgs}`)
    load(kernel)
    let nameIndex = names.get(name)
    if (nameIndex === undefined) {
      const encoded = encoder.encode(name)
      if (encoded.length > layout.dataBytes)
        throw new Error(`wasm pool: export name of ${encoded.length} bytes is too long`)
      nameIndex = names.size
      names.set(name, nameIndex)
      bytes.set(encoded, dataOffset)
      control[layout.nameLength] = encoded.length
    } else {
      control[layout.nameLength] = 0
    }
    control[layout.kernel] = kernel.id
    control[layout.name] = nameIndex
    control[layout.tasks] = tasks
    control[layout.argCount] = args.length
    for (let i = 0; i < args.length; i++) control[layout.args + i] = args[i] ?? 0
    const stride = threads
    // The caller's own exception waits until the workers are done: the next command must not overtake them.
    let own: { readonly error: unknown } | undefined
    const worker = post(command.run, () => {
      try {
        for (let task = 0; task < tasks; task += stride) f(task, tasks, ...args)
      } catch (error) {
        own = { error }
      }
    })
    if (own !== undefined) throw own.error
    if (worker !== undefined) throw new Error(`wasm pool: ${kernel.key}.${name} failed in ${worker}`)
  }

  const close = (): void => {
    if (isClosed) return
    isClosed = true
    if (workers.length > 0 && ready) {
      control[layout.cmd] = command.exit
      Atomics.add(control, layout.gen, 1)
      Atomics.notify(control, layout.gen)
    }
    endWorkers()
  }

  return {
    get threads() {
      return threads
    },
    get reason() {
      return reason
    },
    spinMicroseconds: spinMicros,
    run,
    close,
    closed
  }
}
