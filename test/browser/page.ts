/**
 * The browser page of test/browser/browser.test.ts, bundled with esbuild: effect-nnx and gpu.js's
 * browser build. It runs a vmapped matmul and one gradient step of a small layer on the cpu
 * backend and on gpu.js's WebGL2 mode, and leaves both results (and what ran where) in
 * `window.effectNnxResult` for the test to compare.
 */
import { Effect } from "effect"
import { Backend, grad, jnp, random, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

export interface PageResult {
  readonly mode: string
  readonly vmapped: { readonly cpu: unknown; readonly gpu: unknown }
  readonly step: { readonly cpu: unknown; readonly gpu: unknown }
  readonly gpuLaunches: number
  readonly kernelErrors: number
  readonly error?: string
}

const loss = (w: JArray, x: JArray, y: JArray): JArray => jnp.mean(jnp.square(jnp.tanh(x.matmul(w)).sub(y)))

const compute = () => {
  const xs = random.normal(random.key(0), [8, 16, 32])
  const w = random.normal(random.key(1), [32, 24]).mul(0.1)
  const vmapped = vmap((x: JArray) => x.matmul(w), { inAxes: 0 })(xs)
  const x = random.normal(random.key(2), [64, 32])
  const y = random.uniform(random.key(3), [64, 24])
  const step = w.sub(grad(loss)(w, x, y).mul(0.5))
  return { vmapped: vmapped.tolist(), step: step.tolist() }
}

const main = Effect.gen(function*() {
  const gpu = yield* Backend.makeGpujs({ mode: "webgl2", onKernelError: "fail" })
  const onCpu = Backend.withBackend(Backend.cpu, compute)
  const onGpu = Backend.withBackend(gpu, compute)
  return {
    mode: gpu.mode,
    vmapped: { cpu: onCpu.vmapped, gpu: onGpu.vmapped },
    step: { cpu: onCpu.step, gpu: onGpu.step },
    gpuLaunches: gpu.gpuStats.gpuLaunches,
    kernelErrors: gpu.gpuStats.kernelErrors
  } satisfies PageResult
})

const target = globalThis as unknown as { effectNnxResult?: PageResult }
Effect.runPromise(main).then(
  (r) => { target.effectNnxResult = r },
  (e: unknown) => {
    target.effectNnxResult = { mode: "none", vmapped: { cpu: null, gpu: null }, step: { cpu: null, gpu: null }, gpuLaunches: 0, kernelErrors: 0, error: String(e) }
  }
)
