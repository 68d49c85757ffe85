/**
 * The process-wide default backend, made on first use (its memory and worker threads cost nothing
 * until then).
 *
 * It is a wasm backend with the machine's cores. The environment variable `EFFECT_NNX_BACKEND`
 * (read once, where a `process` exists) picks another, as `JAX_PLATFORMS` does for JAX: `cpu` (the
 * reference kernels), `wasm`, or `wasm:N` (N threads). The test suites use it to run every suite on
 * each backend; programs should rather provide a `Backend` layer.
 *
 * @since 0.2.0
 */
import type { BackendImpl } from "../BackendImpl.ts"
import { cpu } from "../cpu/Cpu.ts"
import { make } from "./Wasm.ts"

let instance: BackendImpl | undefined

const fromEnvironment = (): BackendImpl => {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    "EFFECT_NNX_BACKEND"
  ]
  if (env === undefined || env === "" || env === "wasm") return make()
  if (env === "cpu") return cpu
  const threads = /^wasm:(\d+)$/.exec(env)
  if (threads !== null) return make({ threads: Number(threads[1]) })
  throw new Error(`EFFECT_NNX_BACKEND=${env}: expected cpu, wasm or wasm:<threads>`)
}

/**
 * The default backend: one wasm backend per process (or worker), with the machine's cores, unless
 * `EFFECT_NNX_BACKEND` says otherwise.
 * @category instances
 * @since 0.2.0
 */
export const defaultBackend = (): BackendImpl => (instance ??= fromEnvironment())

/**
 * Makes `backend` the process-wide default: one that `EFFECT_NNX_BACKEND` cannot name, because it
 * is made asynchronously (the test suites' webgpu runs).
 * @internal
 */
export const setDefaultBackend = (backend: BackendImpl): void => {
  instance = backend
}
