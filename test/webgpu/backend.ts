/**
 * The webgpu backends the webgpu suites run on:
 *
 * - WebGPU itself through Dawn (the `webgpu` package): a GPU where there is one, SwiftShader's
 *   Vulkan driver on a machine without (vitest.config.ts points Dawn at it when Debian's chromium
 *   package is installed, as `.ci/run` does); where neither exists it is listed with the reason and
 *   its suites skip. Mutation runs leave it out: Dawn's native addon aborts the process when the
 *   runner reloads the test environment.
 * - The same backend over a stand-in for gpu.js's WebGPU mode whose kernels run in JavaScript
 *   (test/support/cpuWebgpu.ts): the queue, storage, fallbacks and control flow, everywhere.
 */
import { Effect, Exit } from "effect"
import { Backend } from "effect-nnx"
import type { Failure } from "../support/cpuWebgpu.ts"
import { makeCpuWebgpu } from "../support/cpuWebgpu.ts"

export type FreshOptions = Backend.WebgpuOptions & { readonly failure?: Failure }

export interface Candidate {
  readonly label: string
  /** A backend shared by a suite, or `undefined` where this kind does not start here. */
  readonly backend: Backend.WebgpuBackend | undefined
  /** Why it does not start. */
  readonly reason: string
  /** A new backend of this kind (counters of its own), optionally with kernels that fail. */
  readonly fresh: (options?: FreshOptions) => Promise<Backend.WebgpuBackend>
}

/** Real gpu.js whose kernels fail (with `reason`) when their source contains `marker`. */
const failingGpuJs = async ({ marker, reason }: Failure): Promise<Backend.GpuJs> => {
  const real = Backend.asGpuJs(await import("gpu.js"))!
  const Base = real.GPU as unknown as new (
    s: unknown
  ) => {
    createKernel(src: string, settings: unknown): (...a: Array<unknown>) => unknown
  }
  class Failing extends Base {
    override createKernel(src: string, settings: unknown) {
      const kernel = super.createKernel(src, settings)
      if (!src.includes(marker)) return kernel
      const failing = (..._args: Array<unknown>) => Promise.reject(new Error(reason))
      return Object.assign(failing, { destroy: () => {} })
    }
  }
  return { GPU: Object.assign(Failing, real.GPU) as unknown as Backend.GpuJs["GPU"] }
}

const makeDawn = async (options: FreshOptions = {}): Promise<Backend.WebgpuBackend> => {
  const { failure, ...rest } = options
  const gpujs = failure === undefined ? {} : { gpujs: await failingGpuJs(failure) }
  return Effect.runPromise(Backend.makeWebgpu({ ...rest, ...gpujs }))
}

const mutationRun = process.env["EFFECT_NNX_MUTATION_SEED"] !== undefined

const dawnExit = mutationRun ? undefined : await Effect.runPromiseExit(Backend.makeWebgpu({ onKernelError: "fail" }))

/** WebGPU through Dawn, or `undefined` when it does not start here (or in a mutation run). */
export const webgpu: Backend.WebgpuBackend | undefined =
  dawnExit !== undefined && Exit.isSuccess(dawnExit) ? dawnExit.value : undefined

/** Why Dawn's WebGPU did not start. */
export const webgpuReason: string =
  dawnExit === undefined ? "mutation runs leave Dawn out" : Exit.isFailure(dawnExit) ? String(dawnExit.cause) : ""

const standIn = await makeCpuWebgpu({ onKernelError: "fail" })

export const candidates: ReadonlyArray<Candidate> = [
  { label: "Dawn", backend: webgpu, reason: webgpuReason, fresh: makeDawn },
  {
    label: "a JavaScript stand-in for the GPU",
    backend: standIn.backend,
    reason: "",
    fresh: async (options) => (await makeCpuWebgpu(options)).backend
  }
]

/** Each candidate as `[label, candidate]` rows for `describe.each`. */
export const eachWebgpu = candidates.map((c) => [c.label, c] as const)

/** Float tolerance of WGSL float32 math: a few ulps from the device's transcendental functions. */
export const webgpuTolerance = { atol: 2e-6, rtol: 1e-5 } as const

/** Waits until every candidate's queue is empty (a file's afterAll). */
export const flushAll = async (): Promise<void> => {
  for (const c of candidates) await c.backend?.flush()
}
