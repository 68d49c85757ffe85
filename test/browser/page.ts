/**
 * The browser page of test/browser/browser.test.ts, bundled with esbuild: effect-nnx and gpu.js's
 * browser build. It leaves what it computed, next to the cpu backend's answers, in
 * `window.effectNnxResult` for the test to compare:
 *
 * - on gpu.js's WebGL2 mode: a vmapped matmul, one gradient step of a small layer, every hand-built
 *   fused program of `fusedCases.ts` (its WebGL set: GLSL need not keep NaN or signed zeros) through
 *   the backend's `compileFused`, next to the reference evaluator's answer, and a jitted chain, with
 *   how many fused dispatches it took;
 * - on the webgpu backend (`navigator.gpu`; SwiftShader here): the same matmul and gradient step, a
 *   while loop decided on the device, and the jitted chain, read back asynchronously, and what a
 *   synchronous read of a queued value throws;
 * - on the wasm backend (the default backend) a matmul, an elementwise chain and a jitted program,
 *   twice: on the page's main thread, where `Atomics.wait` is not allowed and so its pool runs alone
 *   (with a reason), and in a module worker the page starts from this same bundle, where the pool
 *   gets its worker threads, the page being cross-origin isolated.
 */
import { Effect } from "effect"
import { Backend, grad, jit, jnp, lax, random, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Aval } from "../../src/backend/DType.ts"
import { evaluateFused } from "../../src/backend/fusionReference.ts"
import { webglFusedCases } from "../support/fusedCases.ts"

/** One computation on the cpu backend and on the backend under test. */
export interface Pair {
  readonly cpu: unknown
  readonly got: unknown
}

/** A jitted computation, with the dispatches its second call took. */
export interface Jitted extends Pair {
  readonly dispatches: number
  readonly fused: number
}

/** A fused program run through `compileFused`: the reference's outputs and the kernel's (null if refused). */
export interface FusedRun {
  readonly name: string
  readonly want: ReadonlyArray<ReadonlyArray<number>>
  readonly got: ReadonlyArray<ReadonlyArray<number>> | null
  /** Dispatches the kernel's call counted. */
  readonly dispatches: number
}

export interface GpujsResult {
  readonly mode: string
  readonly vmapped: Pair
  readonly step: Pair
  readonly fused: ReadonlyArray<FusedRun> | null
  readonly jitted: Jitted
  readonly gpuLaunches: number
  readonly kernelErrors: number
}

export interface WasmResult {
  readonly where: "main thread" | "worker"
  readonly crossOriginIsolated: boolean
  readonly threads: number
  readonly threadsReason: string | null
  readonly matmul: Pair
  readonly chain: Pair
  readonly jitted: Jitted
}

export interface WebgpuResult {
  readonly adapter: string
  readonly vmapped: Pair
  readonly step: Pair
  readonly loop: Pair
  readonly jitted: Jitted
  /** What a synchronous read of a queued value threw (its `_tag`). */
  readonly syncRead: string
  readonly gpuLaunches: number
  readonly kernelErrors: number
}

export interface PageResult {
  readonly crossOriginIsolated: boolean
  readonly gpujs: GpujsResult | string
  readonly webgpu: WebgpuResult | string
  readonly wasmMain: WasmResult | string
  readonly wasmWorker: WasmResult | string
}

const message = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

const isolated = (): boolean => (globalThis as { readonly crossOriginIsolated?: boolean }).crossOriginIsolated === true

/**
 * A jitted function on `backend` and on the cpu backend, with the dispatches of its second call on
 * `backend` (the first one compiles it; the arguments are made before counting).
 */
const jittedOn = (
  backend: Backend.BackendImpl,
  args: () => ReadonlyArray<JArray>,
  f: (...xs: ReadonlyArray<JArray>) => JArray
): Jitted => {
  const cpu = Backend.withBackend(Backend.cpu, () => f(...args()).tolist())
  return Backend.withBackend(backend, () => {
    const xs = args()
    f(...xs)
    Backend.resetStats(backend)
    const out = f(...xs)
    const dispatches = backend.stats.dispatches
    const fused = backend.stats.byPrimitive.get("fused") ?? 0
    return { cpu, got: out.tolist(), dispatches, fused }
  })
}

const pair = (backend: Backend.BackendImpl, f: () => unknown): Pair => ({
  cpu: Backend.withBackend(Backend.cpu, f),
  got: Backend.withBackend(backend, f)
})

// ---- gpu.js (WebGL2) ----

const loss = (w: JArray, x: JArray, y: JArray): JArray => jnp.mean(jnp.square(jnp.tanh(x.matmul(w)).sub(y)))

const vmapped = () => {
  const xs = random.normal(random.key(0), [8, 16, 32])
  const w = random.normal(random.key(1), [32, 24]).mul(0.1)
  return vmap((x: JArray) => x.matmul(w), { inAxes: 0 })(xs).tolist()
}

const gradStep = () => {
  const w = random.normal(random.key(1), [32, 24]).mul(0.1)
  const x = random.normal(random.key(2), [64, 32])
  const y = random.uniform(random.key(3), [64, 24])
  return w.sub(grad(loss)(w, x, y).mul(0.5)).tolist()
}

const chainJit = jit((a: JArray, c: JArray) => jnp.tanh(a.mul(c).add(0.5)).sub(jnp.exp(a).mul(0.25)))
const chainArgs = () => [jnp.linspace(-2, 2, 60).reshape(3, 4, 5), jnp.linspace(0.5, 1.5, 4).reshape(4, 1)]

const fusedRuns = (gpu: Backend.GpujsBackend): ReadonlyArray<FusedRun> | null => {
  if (gpu.compileFused === undefined) return null
  return webglFusedCases.map(({ name, program, inputs }) => {
    const want = evaluateFused(program, inputs).map((d) => Array.from(d))
    const kernel = gpu.compileFused!(program)
    if (kernel === undefined) return { name, want, got: null, dispatches: 0 }
    const ins = inputs.map((d, k) =>
      gpu.upload(d, { shape: [d.length], dtype: program.inputs[k]!.dtype, weakType: false })
    )
    const outNodes = program.outputs.kind === "map" ? program.outputs.nodes : [program.outputs.node]
    const avals = want.map(
      (d, k): Aval => ({ shape: [d.length], dtype: program.nodes[outNodes[k]!]!.dtype, weakType: false })
    )
    const before = gpu.stats.dispatches
    const outs = kernel(ins, avals)
    const dispatches = gpu.stats.dispatches - before
    const got = outs.map((o, k) => Array.from(gpu.download(o, avals[k]!)))
    for (const b of [...outs, ...ins]) gpu.dispose(b)
    return { name, want, got, dispatches }
  })
}

const runGpujs = Effect.gen(function* () {
  const gpu = yield* Backend.makeGpujs({ mode: "webgl2", onKernelError: "fail" })
  return {
    mode: gpu.mode,
    vmapped: pair(gpu, vmapped),
    step: pair(gpu, gradStep),
    fused: fusedRuns(gpu),
    jitted: jittedOn(gpu, chainArgs, (a, c) => chainJit(a!, c!)),
    gpuLaunches: gpu.gpuStats.gpuLaunches,
    kernelErrors: gpu.gpuStats.kernelErrors
  } satisfies GpujsResult
})

// ---- WebGPU ----

const vmappedArray = () => {
  const xs = random.normal(random.key(0), [8, 16, 32])
  const w = random.normal(random.key(1), [32, 24]).mul(0.1)
  return vmap((x: JArray) => x.matmul(w), { inAxes: 0 })(xs)
}

const gradStepArray = () => {
  const w = random.normal(random.key(1), [32, 24]).mul(0.1)
  const x = random.normal(random.key(2), [64, 32])
  const y = random.uniform(random.key(3), [64, 24])
  return w.sub(grad(loss)(w, x, y).mul(0.5))
}

/** A while loop whose predicate is computed on the device: it runs inside the backend's queue. */
const deviceLoop = () =>
  lax.whileLoop(
    (s: JArray) => jnp.sum(s).lt(40),
    (s: JArray) => jnp.tanh(s).add(s.mul(1.25)).add(0.5),
    jnp.linspace(0, 1, 8)
  )

const runWebgpu = async (): Promise<WebgpuResult> => {
  const gpu = await Effect.runPromise(Backend.makeWebgpu({ onKernelError: "fail" }))
  const asyncPair = async (f: () => JArray): Promise<Pair> => ({
    cpu: Backend.withBackend(Backend.cpu, () => f().tolist()),
    got: await Effect.runPromise(Backend.tolist(Backend.withBackend(gpu, f)))
  })
  const queued = Backend.withBackend(gpu, () => jnp.exp(jnp.ones([4])))
  let syncRead = "nothing was thrown"
  try {
    queued.tolist()
  } catch (e) {
    syncRead = (e as { readonly _tag?: string })._tag ?? String(e)
  }
  const cpuChain = Backend.withBackend(Backend.cpu, () => chainJit(...(chainArgs() as [JArray, JArray])).tolist())
  const [out, dispatches, fused] = Backend.withBackend(gpu, () => {
    const xs = chainArgs() as [JArray, JArray]
    chainJit(...xs)
    Backend.resetStats(gpu)
    const out = chainJit(...xs)
    return [out, gpu.stats.dispatches, gpu.stats.byPrimitive.get("fused") ?? 0] as const
  })
  const result: WebgpuResult = {
    adapter: Backend.describeAdapter(gpu.adapter),
    vmapped: await asyncPair(vmappedArray),
    step: await asyncPair(gradStepArray),
    loop: await asyncPair(deviceLoop),
    jitted: { cpu: cpuChain, got: await Effect.runPromise(Backend.tolist(out)), dispatches, fused },
    syncRead,
    gpuLaunches: gpu.gpuStats.gpuLaunches,
    kernelErrors: gpu.gpuStats.kernelErrors
  }
  gpu.destroy()
  return result
}

// ---- wasm ----

const matmul = () =>
  random
    .normal(random.key(4), [96, 64])
    .matmul(random.normal(random.key(5), [64, 80]))
    .tolist()

const elementwiseChain = () => {
  const x = jnp.linspace(-3, 3, 4096).reshape(64, 64)
  const r = jnp.linspace(0.5, 1.5, 64).reshape(64, 1)
  return jnp
    .tanh(x.mul(r).add(0.5))
    .sub(jnp.exp(x.mul(x).neg()))
    .mul(2)
    .tolist()
}

const layerJit = jit((w: JArray, x: JArray, b: JArray) => jnp.sum(jnp.tanh(x.matmul(w).add(b)).mul(0.5), 1))
const layerArgs = () => [
  jnp.linspace(-1, 1, 48 * 32).reshape(48, 32),
  jnp.linspace(-2, 2, 16 * 48).reshape(16, 48),
  jnp.linspace(-0.5, 0.5, 32)
]

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The wasm backend's part. The pool's workers start once this thread's event loop turns, and until
 * they report ready a kernel runs on the calling thread alone, so a short wait comes first.
 */
const runWasm = async (where: WasmResult["where"]): Promise<WasmResult> => {
  const threads = Math.min(4, Math.max(2, navigator.hardwareConcurrency))
  const wasm = Backend.makeWasm({ threads })
  await sleep(where === "worker" ? 1000 : 0)
  try {
    const result = {
      matmul: pair(wasm, matmul),
      chain: pair(wasm, elementwiseChain),
      jitted: jittedOn(wasm, layerArgs, (w, x, b) => layerJit(w!, x!, b!))
    }
    return {
      where,
      crossOriginIsolated: isolated(),
      threads: wasm.threads,
      threadsReason: wasm.threadsReason ?? null,
      ...result
    }
  } finally {
    wasm.close()
  }
}

const inWorker = typeof document === "undefined"

if (inWorker) {
  runWasm("worker").then(
    (r) => postMessage(r),
    (e: unknown) => postMessage(message(e))
  )
} else {
  // The worker loads this same bundle; it is same-origin and served with the page's COEP header.
  const worker = new Worker(import.meta.url, { type: "module", name: "effect-nnx wasm backend" })
  const fromWorker = new Promise<WasmResult | string>((resolve) => {
    worker.addEventListener("message", (e: MessageEvent<WasmResult | string>) => resolve(e.data))
    worker.addEventListener("error", (e) => resolve(`the worker failed: ${e.message || "its script did not load"}`))
  })
  const main = async (): Promise<PageResult> => {
    const gpujs = await Effect.runPromise(runGpujs).catch(message)
    const webgpu = await runWebgpu().catch(message)
    const wasmMain = await runWasm("main thread").catch(message)
    const wasmWorker = await Promise.race([
      fromWorker,
      sleep(90_000).then(() => "the worker did not answer within 90 s")
    ])
    worker.terminate()
    return { crossOriginIsolated: isolated(), gpujs, webgpu, wasmMain, wasmWorker }
  }
  const target = globalThis as unknown as { effectNnxResult?: PageResult | { readonly error: string } }
  main().then(
    (r) => {
      target.effectNnxResult = r
    },
    (e: unknown) => {
      target.effectNnxResult = { error: message(e) }
    }
  )
}
