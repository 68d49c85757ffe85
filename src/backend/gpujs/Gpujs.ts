/**
 * The gpujs backend: effect-nnx's primitives as gpu.js kernels, with per-op fallback to the cpu
 * kernels.
 *
 * gpu.js runs the same kernel source in several modes: GLSL fragment shaders over float textures
 * (`headlessgl` in Node with the `gl` addon and a display, `webgl2`/`webgl` in browsers), WebAssembly
 * (`webasm`) or JavaScript (`cpu`). This backend generates one kernel per primitive, shapes, dtypes
 * and parameters (cached by its source), keeps results on the device between operations
 * (`pipeline: true` textures in GL modes) and reads them back only when the host needs them:
 * `tolist()`, a download, or an operation that runs on the cpu kernels.
 *
 * Which operations run on gpu.js: elementwise arithmetic, math functions and comparisons on float32
 * and bool, `select`, `dot_general` (batched matmul), reductions, and the element-moving primitives
 * (transpose, broadcast, slice, dynamic slice and update, pad, concatenate). Everything else runs on
 * the cpu kernels, transparently and exactly: integer arithmetic and bit operations (a float texture
 * holds integers exactly only below 2^24), threefry, gathers, scatters, sorts, cumulative scans.
 * The float parts of random sampling (`uniform`'s scaling, `normal`'s `erf_inv`) run on gpu.js.
 *
 * `jit`'s fused programs (an elementwise chain, optionally closed by a reduction) compile to one
 * kernel each where every value is float32 or bool (see `fused.ts`), counted as one `"fused"`
 * dispatch; a program with integer values is refused and runs primitive by primitive as above.
 *
 * A kernel that fails to compile or run is reported and its operation runs on the cpu kernels
 * (or, with `onKernelError: "fail"`, throws a {@link GpuKernelError}); it never yields a number.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { isArray } from "../Array.ts"
import type { Array as JArray } from "../Array.ts"
import type { BackendImpl, BackendStats, DeviceBuffer, FusedKernel } from "../BackendImpl.ts"
import { countDispatch } from "../BackendImpl.ts"
import { currentBackend } from "../current.ts"
import type { Aval, DType, HostArray } from "../DType.ts"
import type { FusedProgram } from "../fusion.ts"
import { fusedKey } from "../fusion.ts"
import { evaluateFused } from "../fusionReference.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "../Primitive.ts"
import { sizeOf } from "../shape.ts"
import { cpuKernels } from "../cpu/kernels.ts"
import { planFused } from "./fused.ts"
import { GpuKernelError, GpuUnavailableError } from "./GpujsError.ts"
import type { GpuInstance, GpuJs, GpuKernel, GpuMode, KernelArgument } from "./gpujsModule.ts"
import { isGlMode, isHostResult, isTexture, loadGpuJs, missingGpuJs } from "./gpujsModule.ts"
import type { Plan, Step } from "./plan.ts"
import { planCached, planKey } from "./planners.ts"
import { chunk } from "./reduce.ts"
import type { DeviceData, GpujsBuffer, MemoryStats, Storage } from "./storage.ts"
import { StoragePool } from "./storage.ts"

export type { GpuMode } from "./gpujsModule.ts"
export { GpuDeviceLostError, GpuKernelError, GpuUnavailableError } from "./GpujsError.ts"

/** A mode gpu.js actually runs in (`gpu` resolved). */
export type GpujsMode = Exclude<GpuMode, "gpu">

/**
 * Options of {@link make}.
 * @category models
 * @since 0.1.0
 */
export interface GpujsOptions {
  /** gpu.js mode; `gpu` (the default) takes the first that works of headlessgl, webgl2, webgl, webasm. */
  readonly mode?: GpuMode
  /** An already loaded gpu.js (a browser bundle's); otherwise it is imported on first use. */
  readonly gpujs?: GpuJs
  /** What a failing kernel does: report it and run the op on the cpu kernels (default), or throw. */
  readonly onKernelError?: "fallback" | "fail"
  /** Where fallbacks are reported (default `console.warn`); each failing kernel is reported once. */
  readonly log?: (message: string) => void
}

/**
 * Counters beyond {@link BackendStats}: where operations ran and what crossed to and from the device.
 * @category models
 * @since 0.1.0
 */
export interface GpujsStats {
  /** gpu.js kernel launches (an operation may take several: a long reduction, a tiled matmul). */
  gpuLaunches: number
  /** Operations run on the cpu kernels, by primitive. */
  readonly cpuOps: Map<Primitive, number>
  /** Kernels compiled (cache misses). */
  kernelsCompiled: number
  /** Host data put on the device. */
  uploads: number
  /** Device data read back to the host. */
  downloads: number
  /** Kernels that failed and whose operations went to the cpu kernels. */
  kernelErrors: number
  readonly memory: MemoryStats
}

/**
 * The gpujs backend: a {@link BackendImpl} with its mode and counters.
 * @category models
 * @since 0.1.0
 */
export interface GpujsBackend extends BackendImpl {
  /** The mode gpu.js runs in. */
  readonly mode: GpujsMode
  readonly gpuStats: GpujsStats
  /** Whether `prim` on these operands would run on gpu.js (rather than the cpu kernels). */
  readonly runsOnGpu: <P extends FirstOrderPrimitive>(
    prim: P,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ) => boolean
  /**
   * Runs `f` and disposes every array it made on this backend except those in its result (arrays,
   * or arrays inside arrays and plain objects). See {@link tidy}.
   */
  readonly tidy: <A>(f: () => A) => A
  /** Releases every kernel and the gpu.js instance; arrays on this backend must not be used afterwards. */
  readonly destroy: () => void
}

/** Compiled kernels kept per backend (webasm and cpu modes); the least recently used beyond this are destroyed. */
const maxKernels = 1024

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Which concrete mode `mode` means here, or why none. */
const resolveMode = (gpujs: GpuJs, mode: GpuMode): GpujsMode | string => {
  const { GPU } = gpujs
  const supported = (m: GpujsMode): boolean => {
    switch (m) {
      case "headlessgl":
        return GPU.isHeadlessGLSupported
      case "webgl2":
        return GPU.isWebGL2Supported
      case "webgl":
        return GPU.isWebGLSupported
      case "webasm":
        return GPU.isWebAssemblySupported
      case "cpu":
        return true
    }
  }
  if (mode !== "gpu") {
    if (!supported(mode)) {
      return mode === "headlessgl"
        ? "the `gl` addon is not built or no display is available (build it with `npm run build:gl`, run under xvfb-run)"
        : `gpu.js reports no ${mode} support here`
    }
    if (isGlMode(mode) && !GPU.isSinglePrecisionSupported) return "float textures (single precision) are not supported"
    return mode
  }
  const order: ReadonlyArray<GpujsMode> = ["headlessgl", "webgl2", "webgl", "webasm"]
  for (const m of order) {
    if (supported(m) && (!isGlMode(m) || GPU.isSinglePrecisionSupported)) return m
  }
  return "no GPU mode (headless-gl, WebGL2, WebGL, WebAssembly) is supported here"
}

/** float32/bool storage as the float values a kernel reads. @internal */
export const asFloats = (host: HostArray): Float32Array =>
  host instanceof Float32Array ? host : Float32Array.from(host)

/** Float values read back from the device as `dtype`'s storage. @internal */
export const fromFloats = (values: Float32Array, dtype: DType, n: number): HostArray => {
  const v = values.length === n ? values : values.subarray(0, n)
  if (dtype === "float32") return v
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = v[i]! > 0.5 ? 1 : 0
  return out
}

/**
 * Makes a gpujs backend from a loaded gpu.js, synchronously. Throws {@link GpuUnavailableError}
 * when the mode does not start here or a first test computation gives a wrong answer.
 * @category constructors
 * @since 0.1.0
 */
export const makeWith = (gpujs: GpuJs, options: GpujsOptions = {}): GpujsBackend => {
  const requested = options.mode ?? "gpu"
  const resolved = resolveMode(gpujs, requested)
  if (
    resolved !== "headlessgl" &&
    resolved !== "webgl2" &&
    resolved !== "webgl" &&
    resolved !== "webasm" &&
    resolved !== "cpu"
  ) {
    throw new GpuUnavailableError({ mode: requested, reason: resolved })
  }
  const mode: GpujsMode = resolved
  const gl = isGlMode(mode)
  const log = options.log ?? ((m: string) => console.warn(m))
  const failHard = options.onKernelError === "fail"
  let gpu: GpuInstance
  try {
    gpu = new gpujs.GPU({ mode })
  } catch (e) {
    throw new GpuUnavailableError({ mode, reason: `gpu.js did not start: ${message(e)}` })
  }
  const name = "gpujs"
  const stats: BackendStats = { dispatches: 0, byPrimitive: new Map() }
  const pool = new StoragePool(name, (d) => {
    if (isTexture(d)) d.delete()
  })
  const gpuStats: GpujsStats = {
    gpuLaunches: 0,
    cpuOps: new Map(),
    kernelsCompiled: 0,
    uploads: 0,
    downloads: 0,
    kernelErrors: 0,
    memory: pool.stats
  }
  const kernelCache = new Map<string, GpuKernel>()
  const planCache = new Map<string, Plan | null>()
  const broken = new Set<string>()
  let destroyed = false

  // gpu.js fixes a kernel's argument sizes at its first call, so they are part of the key.
  const kernelFor = (source: string, size: number, argSizes: ReadonlyArray<number>): GpuKernel => {
    const key = `${size}:${argSizes.join(",")}:${source}`
    const cached = kernelCache.get(key)
    if (cached !== undefined) {
      // Re-inserting keeps the Map in least-recently-used order.
      kernelCache.delete(key)
      kernelCache.set(key, cached)
      return cached
    }
    // In GL modes a destroyed kernel deletes the textures it rendered, which live arrays may still
    // hold, so only kernels whose outputs are plain arrays are evicted.
    if (!gl && kernelCache.size >= maxKernels) {
      const [oldest, kernel] = kernelCache.entries().next().value!
      kernelCache.delete(oldest)
      kernel.destroy()
    }
    const kernel = gpu.createKernel(source, {
      output: [size],
      pipeline: true,
      immutable: true,
      precision: "single",
      tactic: "precision",
      loopMaxIterations: 4 * chunk + 16
    })
    gpuStats.kernelsCompiled++
    kernelCache.set(key, kernel)
    return kernel
  }

  const uploadSource = "function(x0) {\nreturn x0[this.thread.x];\n}"

  const launch = (
    source: string,
    size: number,
    args: Array<KernelArgument>,
    argSizes: ReadonlyArray<number>
  ): DeviceData => {
    const kernel = kernelFor(source, size, argSizes)
    gpuStats.gpuLaunches++
    const result: unknown = kernel(...args)
    if (isHostResult(result)) return result
    if (isTexture(result)) return result
    if (result instanceof Float64Array || Array.isArray(result)) return Float32Array.from(result as ArrayLike<number>)
    throw new TypeError(
      `gpu.js returned neither a texture nor a Float32Array (${Object.prototype.toString.call(result)})`
    )
  }

  const toDevice = (buffer: GpujsBuffer): DeviceData => {
    const s = buffer.storage
    if (s.device !== undefined) return s.device
    if (s.host === undefined) throw new TypeError("gpujs: a disposed buffer was used")
    const floats = asFloats(s.host)
    gpuStats.uploads++
    const device = gl ? launch(uploadSource, floats.length, [floats], [floats.length]) : floats
    pool.attachDevice(s, device)
    return device
  }

  const toHost = (buffer: GpujsBuffer, aval: Aval): HostArray => {
    const s = buffer.storage
    if (s.host !== undefined) return s.host
    if (s.device === undefined) throw new TypeError("gpujs: a disposed buffer was used")
    gpuStats.downloads++
    const n = sizeOf(aval.shape)
    const values = isTexture(s.device) ? s.device.toArray() : s.device
    if (!(values instanceof Float32Array)) throw new TypeError("gpu.js read back something other than a Float32Array")
    s.host = fromFloats(values, aval.dtype, n)
    return s.host
  }

  const own = (b: DeviceBuffer): GpujsBuffer => {
    if (b.backend !== name || !("storage" in b))
      throw new TypeError(`gpujs backend: got a buffer of backend ${b.backend}`)
    return b as GpujsBuffer
  }

  const planFor = <P extends FirstOrderPrimitive>(
    prim: P,
    inputs: ReadonlyArray<GpujsBuffer> | undefined,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ): { readonly plan: Plan | undefined; readonly key: string } => {
    const key = planKey(prim, inAvals, params)
    if (broken.has(key)) return { plan: undefined, key }
    // complex64 has no gpu.js kernels: every op on it runs on the cpu kernels (counted in cpuOps).
    if (inAvals.some((a) => a.dtype === "complex64") || outAvals.some((a) => a.dtype === "complex64"))
      return { plan: undefined, key }
    const plan = planCached(planCache, key, prim, {
      inAvals,
      outAvals,
      params,
      scalar: (k) => {
        if (inputs === undefined) return 0
        return toHost(inputs[k]!, inAvals[k]!)[0]!
      }
    })
    return { plan, key }
  }

  /**
   * Launches `steps` on `inputs` (whose element counts are `inputSizes`) and returns the values
   * `results` names (step outputs); every other texture the steps made is deleted.
   */
  const runSteps = (
    steps: ReadonlyArray<Step>,
    inputs: ReadonlyArray<GpujsBuffer>,
    inputSizes: ReadonlyArray<number>,
    results: ReadonlyArray<number>
  ): Array<DeviceData> => {
    if (results.some((r) => r < inputs.length || r >= inputs.length + steps.length))
      throw new TypeError("gpujs: a plan's result is not one of its steps")
    const values: Array<DeviceData> = inputs.map((b, k) =>
      steps.some((s) => s.args.includes(k)) ? toDevice(b) : new Float32Array(0)
    )
    const sizes = [...inputSizes, ...steps.map((s) => s.size)]
    const made: Array<DeviceData> = []
    try {
      for (const step of steps) {
        const args: Array<KernelArgument> = step.args.map((a) => values[a]!)
        if (step.scalars !== undefined) args.push(...step.scalars)
        const out = launch(
          step.source,
          step.size,
          args,
          step.args.map((a) => sizes[a]!)
        )
        values.push(out)
        made.push(out)
      }
    } catch (e) {
      for (const d of made) if (isTexture(d)) d.delete()
      throw e
    }
    const kept = results.map((r) => made[r - inputs.length]!)
    for (const d of made) if (isTexture(d) && !kept.includes(d)) d.delete()
    return kept
  }

  const runPlan = (plan: Plan, inputs: ReadonlyArray<GpujsBuffer>, inAvals: ReadonlyArray<Aval>): GpujsBuffer => {
    if (plan._tag === "Alias") return pool.share(inputs[plan.operand]!.storage)
    const last = inputs.length + plan.steps.length - 1
    return pool.make(
      undefined,
      runSteps(
        plan.steps,
        inputs,
        inAvals.map((a) => sizeOf(a.shape)),
        [last]
      )[0]!
    )
  }

  /** A fused program on the host, through the reference evaluator: the cpu kernels' answers. */
  const runFusedOnCpu = (program: FusedProgram, inputs: ReadonlyArray<GpujsBuffer>): Array<DeviceBuffer> => {
    const host = inputs.map((b, k) => {
      const input = program.inputs[k]!
      return toHost(b, { shape: [input.size], dtype: input.dtype, weakType: false })
    })
    return evaluateFused(program, host).map((data) => pool.make(data, undefined))
  }

  const compileFused = (program: FusedProgram): FusedKernel | undefined => {
    if (destroyed) return undefined
    const plan = planFused(program)
    if (plan._tag === "Unsupported") return undefined
    const key = `fused|${fusedKey(program)}`
    const inputSizes = program.inputs.map((input) => input.size)
    return (inputs) => {
      if (destroyed) throw new GpuKernelError({ op: "fused", mode, reason: "the backend was destroyed" })
      countDispatch(stats, "fused")
      const buffers = inputs.map(own)
      if (!broken.has(key)) {
        try {
          return runSteps(plan.steps, buffers, inputSizes, plan.outputs).map((d) => pool.make(undefined, d))
        } catch (e) {
          const error = new GpuKernelError({ op: "fused", mode, reason: message(e) })
          if (failHard) throw error
          gpuStats.kernelErrors++
          broken.add(key)
          log(`effect-nnx: ${error.message}; running the fused program on the cpu kernels instead`)
        }
      }
      return runFusedOnCpu(program, buffers)
    }
  }

  const runCpu = <P extends FirstOrderPrimitive>(
    prim: P,
    inputs: ReadonlyArray<GpujsBuffer>,
    inAvals: ReadonlyArray<Aval>,
    outAvals: ReadonlyArray<Aval>,
    params: Params<P>
  ): Array<DeviceBuffer> => {
    gpuStats.cpuOps.set(prim, (gpuStats.cpuOps.get(prim) ?? 0) + 1)
    const host = inputs.map((b, k) => toHost(b, inAvals[k]!))
    return cpuKernels[prim](host, inAvals, outAvals, params).map((data) => pool.make(data, undefined))
  }

  const backend: GpujsBackend = {
    name,
    mode,
    stats,
    gpuStats,
    upload: (data, _aval, options) => pool.make(data.slice(), undefined, options?.moved !== true),
    download: (buffer, aval) => toHost(own(buffer), aval),
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
      planFor(prim, undefined, inAvals, outAvals, params).plan !== undefined,
    execute: (prim, inputs, inAvals, outAvals, params) => {
      if (destroyed) throw new GpuKernelError({ op: prim, mode, reason: "the backend was destroyed" })
      countDispatch(stats, prim)
      const buffers = inputs.map(own)
      const { plan, key } = planFor(prim, buffers, inAvals, outAvals, params)
      if (plan === undefined) return runCpu(prim, buffers, inAvals, outAvals, params)
      try {
        return [runPlan(plan, buffers, inAvals)]
      } catch (e) {
        const error = new GpuKernelError({ op: prim, mode, reason: message(e) })
        if (failHard) throw error
        gpuStats.kernelErrors++
        broken.add(key)
        log(`effect-nnx: ${error.message}; running ${prim} on the cpu kernels instead`)
        return runCpu(prim, buffers, inAvals, outAvals, params)
      }
    },
    destroy: () => {
      if (destroyed) return
      destroyed = true
      for (const k of kernelCache.values()) k.destroy()
      kernelCache.clear()
      gpu.destroy()
    }
  }
  selfTest(backend, mode)
  return backend
}

/** Calls `f` on every Array in `value`: itself, or inside arrays and plain objects. @internal */
export const forEachArray = (value: unknown, f: (a: JArray) => void, seen: Set<unknown> = new Set()): void => {
  if (isArray(value)) return f(value)
  if (typeof value !== "object" || value === null || seen.has(value)) return
  seen.add(value)
  if (Array.isArray(value)) for (const v of value) forEachArray(v, f, seen)
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) forEachArray(v, f, seen)
}

/**
 * Runs `f` and disposes every array it made on the current backend except those in its result,
 * so a loop's temporaries (weak scalar constants, intermediate results) release their device memory
 * at once instead of waiting for the garbage collector. On a backend without device memory it just
 * runs `f`. Arrays made inside and kept elsewhere (not returned) must not be used afterwards.
 *
 * @example
 * ```ts
 * import { Backend, jnp } from "effect-nnx"
 *
 * let w = jnp.zeros([4])
 * for (let i = 0; i < 1000; i++) {
 *   const next = Backend.tidy(() => w.sub(jnp.tanh(w).mul(0.1)))
 *   w.dispose()
 *   w = next
 * }
 * ```
 * @category memory
 * @since 0.1.0
 */
export const tidy = <A>(f: () => A): A => {
  const backend = currentBackend()
  return backend.tidy !== undefined ? backend.tidy(f) : f()
}

/**
 * Runs a small chain of operations and compares the answer with arithmetic done here, so a mode
 * that starts but computes wrongly (no float textures, a broken driver) is reported as unavailable.
 */
const selfTest = (backend: GpujsBackend, mode: GpujsMode): void => {
  const aval: Aval = { shape: [2, 3], dtype: "float32", weakType: false }
  const out: Aval = { shape: [2], dtype: "float32", weakType: false }
  const params = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }
  try {
    const x = backend.upload(Float32Array.of(1, 2, 3, 4, 5, 6), aval)
    const y = backend.upload(Float32Array.of(0.5, -1, 2), { shape: [3], dtype: "float32", weakType: false })
    const [z] = backend.execute(
      "dot_general",
      [x, y],
      [aval, { shape: [3], dtype: "float32", weakType: false }],
      [out],
      params
    )
    const got = Array.from(backend.download(z!, out))
    for (const b of [x, y, z!]) backend.dispose(b)
    backend.stats.dispatches = 0
    backend.stats.byPrimitive.clear()
    if (got[0] !== 4.5 || got[1] !== 9) throw new Error(`a test matmul gave [${got.join(", ")}] instead of [4.5, 9]`)
  } catch (e) {
    backend.destroy()
    throw new GpuUnavailableError({ mode, reason: message(e) })
  }
}

/**
 * Makes a gpujs backend, importing gpu.js if `options.gpujs` is not given. Fails with
 * {@link GpuUnavailableError} when the mode does not start here.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, jnp } from "effect-nnx"
 *
 * const program = Effect.gen(function*() {
 *   const gpu = yield* Backend.makeGpujs({ mode: "gpu" })
 *   return Backend.withBackend(gpu, () => jnp.ones([2, 2]).matmul(jnp.ones([2, 2])).tolist())
 * })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: GpujsOptions = {}): Effect.Effect<GpujsBackend, GpuUnavailableError> =>
  Effect.gen(function* () {
    const gpujs =
      options.gpujs ??
      (yield* Effect.tryPromise({
        try: loadGpuJs,
        catch: (e) => new GpuUnavailableError({ mode: options.mode ?? "gpu", reason: missingGpuJs(e) })
      }))
    return yield* Effect.try({
      try: () => makeWith(gpujs, options),
      catch: (e) =>
        e instanceof GpuUnavailableError
          ? e
          : new GpuUnavailableError({ mode: options.mode ?? "gpu", reason: message(e) })
    })
  })

/**
 * The modes gpu.js reports as supported here, in its order of preference (`cpu` always).
 * @category constructors
 * @since 0.1.0
 */
export const supportedModes = (gpujs: GpuJs): Array<GpujsMode> =>
  (["headlessgl", "webgl2", "webgl", "webasm", "cpu"] as const).filter((m) => resolveMode(gpujs, m) === m)

/** @internal */
export const isGpujsBackend = (b: BackendImpl): b is GpujsBackend => "gpuStats" in b && "mode" in b

export type { Storage }
