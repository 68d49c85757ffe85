/**
 * The webgpu backend: effect-nnx's primitives as WGSL compute kernels through gpu.js's WebGPU mode,
 * on a real GPU wherever an adapter answers (Dawn's `webgpu` package in Node, `navigator.gpu` in
 * browsers), evaluated asynchronously.
 *
 * WebGPU has no synchronous readback, so this backend keeps the synchronous array API by queueing:
 * an operation returns its result arrays at once, and a queue runs the operations in program order,
 * each as one or more gpu.js kernels whose outputs stay on the device as storage buffers (pipeline
 * handles) that the next kernels read. Values come back to the host only when asked for,
 * asynchronously: `await x.data()`, `await x.blockUntilReady()`, or `Backend.data(x)` as an Effect.
 * A synchronous read (`tolist()`, `item()`, printing) of a value not read back yet is a
 * `PendingReadError` that says so.
 *
 * The kernels are the gpujs backend's (the same planners and fused-program compiler: elementwise
 * math, `dot_general`, reductions, the element-moving primitives, `jit`'s fused chains), compiled by
 * gpu.js to WGSL instead of GLSL. What a float32 kernel cannot do exactly (integer arithmetic and
 * bits, threefry, gathers, scatters, sorts, complex numbers) runs on the cpu kernels inside the
 * queue, after reading its inputs back: counted per primitive in `gpuStats.cpuOps`, never silent. A
 * kernel that fails to compile or run is reported once and its operation runs on the cpu kernels,
 * or with `onKernelError: "fail"` the operation's results fail with a `GpuKernelError` that their
 * reads report. A lost device fails everything after it with a `GpuDeviceLostError`.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { isPendingReadError, PendingReadError } from "../ArrayError.ts"
import type { BackendImpl, BackendStats, DeferredScope, DeviceBuffer, FusedKernel } from "../BackendImpl.ts"
import { countDispatch } from "../BackendImpl.ts"
import { withBackend } from "../current.ts"
import type { Aval, HostArray } from "../DType.ts"
import type { FusedProgram } from "../fusion.ts"
import { fusedKey } from "../fusion.ts"
import { evaluateFused } from "../fusionReference.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "../Primitive.ts"
import { sizeOf } from "../shape.ts"
import { cpuKernels } from "../cpu/kernels.ts"
import { maxWebgpuKernelArrays, planFused } from "../gpujs/fused.ts"
import { asFloats, forEachArray, fromFloats } from "../gpujs/Gpujs.ts"
import { GpuDeviceLostError, GpuKernelError, GpuUnavailableError } from "../gpujs/GpujsError.ts"
import type { GpuInstance, GpuJs, GpuKernel, KernelArgument, KernelSettings } from "../gpujs/gpujsModule.ts"
import { loadGpuJs, missingGpuJs } from "../gpujs/gpujsModule.ts"
import type { Plan, Step } from "../gpujs/plan.ts"
import { dependsOnValues, planCached, planKey } from "../gpujs/planners.ts"
import { chunk } from "../gpujs/reduce.ts"
import type { AdapterInfo } from "./navigatorGpu.ts"
import { describeAdapter, ensureNavigatorGpu, requestAdapterInfo } from "./navigatorGpu.ts"
import type { DeviceHandle, Storage, WebgpuBuffer, WebgpuMemoryStats } from "./storage.ts"
import { StoragePool } from "./storage.ts"

/**
 * Options of {@link make}.
 * @category models
 * @since 0.2.0
 */
export interface WebgpuOptions {
  /** An already loaded gpu.js (a browser bundle's); otherwise it is imported on first use. */
  readonly gpujs?: GpuJs
  /** What a failing kernel does: report it and run the op on the cpu kernels (default), or fail. */
  readonly onKernelError?: "fallback" | "fail"
  /** Where fallbacks are reported (default `console.warn`); each failing kernel is reported once. */
  readonly log?: (message: string) => void
}

/**
 * Counters of the webgpu backend beyond {@link BackendStats}.
 * @category models
 * @since 0.2.0
 */
export interface WebgpuStats {
  /** Kernel launches on the device (an operation may take several). */
  gpuLaunches: number
  /** Operations run on the cpu kernels, by primitive. */
  readonly cpuOps: Map<Primitive, number>
  /** Kernels compiled (cache misses). */
  kernelsCompiled: number
  /** Host arrays put on the device. */
  uploads: number
  /** Device values read back to the host. */
  downloads: number
  /** Kernels that failed and whose operations went to the cpu kernels (or failed). */
  kernelErrors: number
  /** Operations queued and not yet run. */
  queued: number
  readonly memory: WebgpuMemoryStats
}

/**
 * The webgpu backend: a {@link BackendImpl} that evaluates asynchronously.
 * @category models
 * @since 0.2.0
 */
export interface WebgpuBackend extends BackendImpl {
  /** The adapter WebGPU gave: vendor, architecture, and whether it is software. */
  readonly adapter: AdapterInfo
  readonly gpuStats: WebgpuStats
  /** Whether `prim` on these operands would run as WebGPU kernels (rather than the cpu kernels). */
  readonly runsOnGpu: <P extends FirstOrderPrimitive>(
    prim: P,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ) => boolean
  readonly read: (buffer: DeviceBuffer, aval: Aval) => Promise<HostArray>
  readonly tidy: <A>(f: () => A) => A
  /** Resolves once every operation queued so far has run on the device. */
  readonly flush: () => Promise<void>
  /** Releases every kernel; arrays on this backend must not be used afterwards. */
  readonly destroy: () => void
}

/** gpu.js's `GPU` class as the webgpu mode is made. */
type WebgpuConstructor = new (settings: { readonly mode: "webgpu" }) => GpuInstance

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const isHandle = (u: unknown): u is DeviceHandle =>
  isRecord(u) &&
  typeof u["toArray"] === "function" &&
  typeof u["delete"] === "function" &&
  typeof u["clone"] === "function"

const isLostMessage = (text: string): boolean => /device (was |is )?lost/i.test(text)

const uploadSource = "function(x0) {\nreturn x0[this.thread.x];\n}"

/** What an operation produced: one entry per output. */
type Produced = ReadonlyArray<{ readonly host?: HostArray; readonly device?: DeviceHandle }>

/**
 * Makes a webgpu backend over a loaded gpu.js whose WebGPU adapter answered. Runs a test matmul and
 * fails with {@link GpuUnavailableError} if it gives a wrong answer. The test suites also call it
 * with a stand-in gpu.js whose kernels run on the CPU (test/support/cpuWebgpu.ts), so that the
 * queue is tested, and mutation-tested, where no WebGPU adapter exists.
 * @internal
 */
export const makeWith = async (gpujs: GpuJs, adapter: AdapterInfo, options: WebgpuOptions): Promise<WebgpuBackend> => {
  const log = options.log ?? ((m: string) => console.warn(m))
  const failHard = options.onKernelError === "fail"
  const name = "webgpu"
  const mode = "webgpu"
  let gpu: GpuInstance
  try {
    gpu = new (gpujs.GPU as unknown as WebgpuConstructor)({ mode })
  } catch (e) {
    throw new GpuUnavailableError({ mode, reason: `gpu.js did not start: ${message(e)}` })
  }
  const stats: BackendStats = { dispatches: 0, byPrimitive: new Map() }
  const pool = new StoragePool(name)
  const gpuStats: WebgpuStats = {
    gpuLaunches: 0,
    cpuOps: new Map(),
    kernelsCompiled: 0,
    uploads: 0,
    downloads: 0,
    kernelErrors: 0,
    queued: 0,
    memory: pool.stats
  }
  const kernelCache = new Map<string, GpuKernel>()
  const planCache = new Map<string, Plan | null>()
  const broken = new Set<string>()
  let destroyed = false
  let lost: GpuDeviceLostError | undefined
  /** The queue: each operation runs after the one before it. */
  let tail: Promise<void> = Promise.resolve()

  const kernelFor = (source: string, size: number, argSizes: ReadonlyArray<number>): GpuKernel => {
    const key = `${size}:${argSizes.join(",")}:${source}`
    const cached = kernelCache.get(key)
    if (cached !== undefined) return cached
    const settings: KernelSettings = {
      output: [size],
      pipeline: true,
      immutable: true,
      precision: "single",
      tactic: "precision",
      loopMaxIterations: 4 * chunk + 16
    }
    const kernel = gpu.createKernel(source, settings)
    gpuStats.kernelsCompiled++
    kernelCache.set(key, kernel)
    return kernel
  }

  /** A failure of `op` as the typed error its results carry. */
  const asError = (op: string, e: unknown): Error => {
    if (e instanceof GpuDeviceLostError || e instanceof GpuKernelError || isPendingReadError(e)) return e
    const text = message(e)
    if (isLostMessage(text)) {
      lost ??= new GpuDeviceLostError({ reason: text })
      return lost
    }
    return new GpuKernelError({ op, mode, reason: text })
  }

  const launch = async (
    source: string,
    size: number,
    args: ReadonlyArray<KernelArgument | DeviceHandle>,
    argSizes: ReadonlyArray<number>
  ): Promise<DeviceHandle> => {
    const kernel = kernelFor(source, size, argSizes)
    gpuStats.gpuLaunches++
    const result: unknown = await (kernel as (...a: ReadonlyArray<unknown>) => unknown)(...args)
    if (!isHandle(result))
      throw new TypeError(`gpu.js returned no device buffer (${Object.prototype.toString.call(result)})`)
    return result
  }

  /**
   * The storage's elements on the device, uploading host data once. Inside the queue only, on a
   * storage the queue holds and that settled without error: it has host data or device data.
   */
  const toDevice = async (s: Storage): Promise<DeviceHandle> => {
    if (s.device !== undefined) return s.device
    const floats = asFloats(s.host!)
    gpuStats.uploads++
    const device = await launch(uploadSource, floats.length, [floats], [floats.length])
    pool.attachDevice(s, device)
    return device
  }

  /**
   * The storage's elements on the host, reading the device once. After it settled, on a storage
   * held (by the queue or by a read), so it has host data or device data unless it failed.
   */
  const toHost = async (s: Storage, aval: Aval): Promise<HostArray> => {
    if (s.error !== undefined) throw s.error
    if (s.host !== undefined) return s.host
    if (lost !== undefined) throw lost
    gpuStats.downloads++
    const values: unknown = await s.device!.toArray()
    if (!(values instanceof Float32Array)) throw new TypeError("gpu.js read back something other than a Float32Array")
    s.host = fromFloats(values, aval.dtype, sizeOf(aval.shape))
    return s.host
  }

  const own = (b: DeviceBuffer): WebgpuBuffer => {
    if (b.backend !== name || !("storage" in b))
      throw new TypeError(`webgpu backend: got a buffer of backend ${b.backend}`)
    return b as WebgpuBuffer
  }

  /**
   * Queues `work` after every operation queued before it. The inputs stay alive until it has run;
   * the outputs settle with what it produced, or fail with its error (or an input's).
   */
  const enqueue = (
    op: string,
    inputs: ReadonlyArray<WebgpuBuffer>,
    outputs: ReadonlyArray<WebgpuBuffer>,
    work: () => Promise<Produced>
  ): void => {
    const held = inputs.map((b) => b.storage)
    for (const s of held) pool.hold(s)
    gpuStats.queued++
    const run = async (): Promise<void> => {
      try {
        if (lost !== undefined) throw lost
        const failed = held.find((s) => s.error !== undefined)
        if (failed !== undefined) throw failed.error
        const produced = await work()
        outputs.forEach((o, i) => pool.settle(o.storage, produced[i]!.host, produced[i]!.device))
      } catch (e) {
        const error = asError(op, e)
        for (const o of outputs) pool.fail(o.storage, error)
      } finally {
        gpuStats.queued--
        for (const s of held) pool.release(s)
      }
    }
    tail = tail.then(run)
    for (const o of outputs) o.storage.done = tail
  }

  const planFor = <P extends FirstOrderPrimitive>(
    prim: P,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>,
    scalar: (k: number) => number
  ): { readonly plan: Plan | undefined; readonly key: string } => {
    const key = planKey(prim, inAvals, params)
    if (broken.has(key)) return { plan: undefined, key }
    // complex64 is not a device dtype: the planners give no kernel for it (a reshape is a view).
    const plan = planCached(planCache, key, prim, { inAvals, outAvals, params, scalar })
    return { plan, key }
  }

  /**
   * Runs plan steps on the device; returns the values `results` names, which are steps (numbered
   * after the inputs), as the planners make them. Inside the queue only.
   */
  const runSteps = async (
    steps: ReadonlyArray<Step>,
    inputs: ReadonlyArray<Storage>,
    inputSizes: ReadonlyArray<number>,
    results: ReadonlyArray<number>
  ): Promise<Array<DeviceHandle>> => {
    const values: Array<DeviceHandle | undefined> = []
    for (let k = 0; k < inputs.length; k++)
      values.push(steps.some((s) => s.args.includes(k)) ? await toDevice(inputs[k]!) : undefined)
    const sizes = [...inputSizes, ...steps.map((s) => s.size)]
    const made: Array<DeviceHandle> = []
    try {
      for (const step of steps) {
        const args: Array<KernelArgument | DeviceHandle> = step.args.map((a) => values[a]!)
        if (step.scalars !== undefined) args.push(...step.scalars)
        const out = await launch(
          step.source,
          step.size,
          args,
          step.args.map((a) => sizes[a]!)
        )
        values.push(out)
        made.push(out)
      }
    } catch (e) {
      for (const d of made) d.delete()
      throw e
    }
    const kept = results.map((r) => made[r - inputs.length]!)
    for (const d of made) if (!kept.includes(d)) d.delete()
    return kept
  }

  const runCpu = async <P extends FirstOrderPrimitive>(
    prim: P,
    inputs: ReadonlyArray<Storage>,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ): Promise<Produced> => {
    gpuStats.cpuOps.set(prim, (gpuStats.cpuOps.get(prim) ?? 0) + 1)
    const host: Array<HostArray> = []
    for (let k = 0; k < inputs.length; k++) host.push(await toHost(inputs[k]!, inAvals[k]!))
    return cpuKernels[prim](host, inAvals, outAvals, params).map((data) => ({ host: data }))
  }

  /** Reports a failing kernel once, or rethrows it with `onKernelError: "fail"`. */
  const kernelFailed = (op: string, key: string, e: unknown): void => {
    const error = asError(op, e)
    if (failHard || !(error instanceof GpuKernelError)) throw error
    gpuStats.kernelErrors++
    broken.add(key)
    log(`effect-nnx: ${error.message}; running ${op} on the cpu kernels instead`)
  }

  const runOp = async <P extends FirstOrderPrimitive>(
    prim: P,
    inputs: ReadonlyArray<Storage>,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ): Promise<Produced> => {
    // Operations whose kernels depend on values (dynamic slice starts) read their scalar operands.
    const scalars = new Map<number, number>()
    if (dependsOnValues(prim)) {
      for (let k = 0; k < inputs.length; k++)
        if (sizeOf(inAvals[k]!.shape) === 1) scalars.set(k, Number((await toHost(inputs[k]!, inAvals[k]!))[0]))
    }
    const { plan, key } = planFor(prim, inAvals, outAvals, params, (k) => {
      const v = scalars.get(k)
      if (v === undefined) throw new TypeError(`webgpu: operand ${k} of ${prim} is not a scalar`)
      return v
    })
    if (plan === undefined) return runCpu(prim, inputs, inAvals, outAvals, params)
    try {
      if (plan._tag === "Alias") return [{ device: await toDevice(inputs[plan.operand]!) }]
      const last = inputs.length + plan.steps.length - 1
      const [device] = await runSteps(
        plan.steps,
        inputs,
        inAvals.map((a) => sizeOf(a.shape)),
        [last]
      )
      return [{ device: device! }]
    } catch (e) {
      kernelFailed(prim, key, e)
      return runCpu(prim, inputs, inAvals, outAvals, params)
    }
  }

  const checkUsable = (op: string): void => {
    if (destroyed) throw new GpuKernelError({ op, mode, reason: "the backend was destroyed" })
    if (lost !== undefined) throw lost
  }

  const compileFused = (program: FusedProgram): FusedKernel | undefined => {
    if (destroyed) return undefined
    const plan = planFused(program, maxWebgpuKernelArrays)
    if (plan._tag === "Unsupported") return undefined
    const key = `fused|${fusedKey(program)}`
    const inputSizes = program.inputs.map((input) => input.size)
    return (inputs, outAvals) => {
      checkUsable("fused")
      countDispatch(stats, "fused")
      const buffers = inputs.map(own)
      const storages = buffers.map((b) => b.storage)
      const outputs = outAvals.map(() => pool.pending())
      enqueue("fused", buffers, outputs, async () => {
        if (!broken.has(key)) {
          try {
            return (await runSteps(plan.steps, storages, inputSizes, plan.outputs)).map((device) => ({ device }))
          } catch (e) {
            kernelFailed("fused", key, e)
          }
        }
        const host: Array<HostArray> = []
        for (let k = 0; k < storages.length; k++) {
          const input = program.inputs[k]!
          host.push(await toHost(storages[k]!, { shape: [input.size], dtype: input.dtype, weakType: false }))
        }
        return evaluateFused(program, host).map((data) => ({ host: data }))
      })
      return outputs
    }
  }

  const read = async (buffer: DeviceBuffer, aval: Aval): Promise<HostArray> => {
    const b = own(buffer)
    const s = b.storage
    if (b.released || s.released) throw new TypeError("webgpu: a released buffer was read")
    pool.hold(s)
    try {
      await s.done
      return await toHost(s, aval)
    } finally {
      pool.release(s)
    }
  }

  /**
   * Runs synchronous code whose operations go on a queue of their own, ahead of everything queued
   * after the job that calls it (which is running, so the main queue waits for it), and waits for
   * them. The swap lasts only while `f` runs: code outside the job never queues there. What `f`
   * makes and does not return is disposed (a loop's temporaries, iteration by iteration).
   */
  const runInJob = async <A>(f: () => A): Promise<A> => {
    const saved = tail
    tail = Promise.resolve()
    let inner: Promise<void>
    let result: A
    try {
      result = withBackend(backend, () => backend.tidy(f))
    } finally {
      inner = tail
      tail = saved
    }
    await inner
    return result
  }

  const defer = (
    inputs: ReadonlyArray<DeviceBuffer>,
    outAvals: ReadonlyArray<Aval>,
    job: (scope: DeferredScope) => Promise<ReadonlyArray<DeviceBuffer>>
  ): Array<DeviceBuffer> => {
    checkUsable("control flow")
    const buffers = inputs.map(own)
    const outputs = outAvals.map(() => pool.pending())
    enqueue("control flow", buffers, outputs, async () => {
      const handles = buffers.map((b) => pool.share(b.storage, false))
      try {
        const results = (await job({ inputs: handles, run: runInJob, read })).map(own)
        const produced = results.map((r) => {
          const s = r.storage
          if (s.error !== undefined) throw s.error
          if (s.host === undefined && s.device === undefined)
            throw new TypeError("webgpu: a job returned a released value")
          return {
            ...(s.host === undefined ? {} : { host: s.host }),
            ...(s.device === undefined ? {} : { device: s.device.clone() })
          }
        })
        // The outputs hold the values now (a second handle on each device buffer).
        for (const r of results) if (!handles.includes(r)) pool.dispose(r)
        return produced
      } finally {
        for (const h of handles) pool.dispose(h)
      }
    })
    return outputs
  }

  const backend: WebgpuBackend = {
    name,
    adapter,
    stats,
    gpuStats,
    upload: (data, _aval, options) => pool.host(data.slice(), options?.moved !== true),
    download: (buffer, aval) => {
      const s = own(buffer).storage
      if (s.error !== undefined) throw s.error
      if (s.host !== undefined) return s.host
      throw new PendingReadError({
        op: "read",
        backend: name,
        reason: `this ${aval.dtype}[${aval.shape.join(",")}] value is on the WebGPU device${s.settled ? "" : " and still being computed"}, and WebGPU reads asynchronously: use \`await x.data()\` or \`await x.blockUntilReady()\` (then read it synchronously), or Backend.data(x) / Backend.tolist(x) in an Effect`
      })
    },
    read,
    dispose: (buffer) => pool.dispose(own(buffer)),
    retain: (buffer) => pool.share(own(buffer).storage, false),
    keep: (buffer) => pool.keep(own(buffer)),
    released: (buffer) => own(buffer).released,
    tidy: (f) =>
      pool.track(f, (result) => {
        const kept = new Set<unknown>()
        forEachArray(result, (a) => {
          if (a.isConcrete) kept.add(a.bufferOn(backend))
        })
        return kept
      }),
    compileFused,
    runsOnGpu: (prim, inAvals, outAvals, params) =>
      planFor(prim, inAvals, outAvals, params, () => 0).plan !== undefined,
    execute: (prim, inputs, inAvals, outAvals, params) => {
      checkUsable(prim)
      countDispatch(stats, prim)
      const buffers = inputs.map(own)
      // A reinterpretation (reshape, bitcast-free views) shares its operand's storage at once.
      if (!dependsOnValues(prim)) {
        const { plan } = planFor(prim, inAvals, outAvals, params, () => 0)
        if (plan?._tag === "Alias") return [pool.share(buffers[plan.operand]!.storage)]
      }
      const outputs = outAvals.map(() => pool.pending())
      const storages = buffers.map((b) => b.storage)
      enqueue(prim, buffers, outputs, () => runOp(prim, storages, inAvals, outAvals, params))
      return outputs
    },
    defer,
    flush: () => tail,
    destroy: () => {
      if (destroyed) return
      destroyed = true
      for (const k of kernelCache.values()) k.destroy()
      kernelCache.clear()
      gpu.destroy()
    }
  }
  await selfTest(backend)
  return backend
}

/** A matmul and a tanh compared with arithmetic done here: a device that computes wrongly is unavailable. */
const selfTest = async (backend: WebgpuBackend): Promise<void> => {
  const aval: Aval = { shape: [2, 3], dtype: "float32", weakType: false }
  const vec: Aval = { shape: [3], dtype: "float32", weakType: false }
  const out: Aval = { shape: [2], dtype: "float32", weakType: false }
  const params = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }
  try {
    const x = backend.upload(Float32Array.of(1, 2, 3, 4, 5, 6), aval)
    const y = backend.upload(Float32Array.of(0.5, -1, 2), vec)
    const [z] = backend.execute("dot_general", [x, y], [aval, vec], [out], params)
    const got = Array.from(await backend.read(z!, out))
    for (const b of [x, y, z!]) backend.dispose(b)
    backend.stats.dispatches = 0
    backend.stats.byPrimitive.clear()
    if (got[0] !== 4.5 || got[1] !== 9) throw new Error(`a test matmul gave [${got.join(", ")}] instead of [4.5, 9]`)
  } catch (e) {
    backend.destroy()
    throw new GpuUnavailableError({ mode: "webgpu", reason: message(e) })
  }
}

/**
 * Makes a webgpu backend: loads gpu.js (unless `options.gpujs` is given), finds WebGPU
 * (`navigator.gpu`, or Dawn's `webgpu` package in Node), asks for an adapter and checks a first
 * computation. Fails with {@link GpuUnavailableError} saying why when any step does not work here.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Effect.gen(function*() {
 *   const gpu = yield* Backend.makeWebgpu()
 *   const y = Backend.withBackend(gpu, () => jnp.ones([2, 2]).matmul(jnp.ones([2, 2])))
 *   return yield* Backend.tolist(y) // [[2, 2], [2, 2]], read back asynchronously
 * })
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: WebgpuOptions = {}): Effect.Effect<WebgpuBackend, GpuUnavailableError> =>
  makeIn(platform, options)

/** What {@link make} needs from its surroundings: gpu.js, WebGPU and its adapter. @internal */
export interface WebgpuPlatform {
  readonly loadGpuJs: () => Promise<GpuJs>
  /** Installs `navigator.gpu` where it can; why not otherwise. */
  readonly ensureNavigatorGpu: () => Promise<string | undefined>
  /** The adapter WebGPU gives, or why none. */
  readonly requestAdapterInfo: () => Promise<AdapterInfo | string>
}

const platform: WebgpuPlatform = { loadGpuJs, ensureNavigatorGpu, requestAdapterInfo }

/**
 * {@link make} on the given platform: the test suites pass one without a native WebGPU, to check
 * each step's failure.
 * @internal
 */
export const makeIn = (
  env: WebgpuPlatform,
  options: WebgpuOptions = {}
): Effect.Effect<WebgpuBackend, GpuUnavailableError> =>
  Effect.gen(function* () {
    const unavailable = (reason: string) => new GpuUnavailableError({ mode: "webgpu", reason })
    const gpujs =
      options.gpujs ?? (yield* Effect.tryPromise({ try: env.loadGpuJs, catch: (e) => unavailable(missingGpuJs(e)) }))
    const missing = yield* Effect.promise(env.ensureNavigatorGpu)
    if (missing !== undefined) return yield* Effect.fail(unavailable(missing))
    const adapter = yield* Effect.promise(env.requestAdapterInfo)
    if (typeof adapter === "string") return yield* Effect.fail(unavailable(adapter))
    return yield* Effect.tryPromise({
      try: () => makeWith(gpujs, adapter, options),
      catch: (e) => (e instanceof GpuUnavailableError ? e : unavailable(message(e)))
    })
  })

/** @internal */
export const isWebgpuBackend = (b: BackendImpl): b is WebgpuBackend => b.name === "webgpu" && "adapter" in b

export { describeAdapter }
export type { AdapterInfo }
