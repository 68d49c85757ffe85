/**
 * The webgpu backend the webgpu suites run on, or why it does not start here. On a machine without
 * a GPU it runs on SwiftShader's Vulkan driver (vitest.config.ts points Dawn at it when Debian's
 * chromium package is installed, as `.ci/run` does); where neither exists, the suites skip with the
 * reason.
 */
import { Effect, Exit } from "effect"
import { Backend } from "effect-nnx"

const exit = await Effect.runPromiseExit(Backend.makeWebgpu({ onKernelError: "fail" }))

/** The backend, or `undefined` when WebGPU does not start here. */
export const webgpu: Backend.WebgpuBackend | undefined = Exit.isSuccess(exit) ? exit.value : undefined

/** Why it did not start. */
export const webgpuReason: string = Exit.isFailure(exit) ? String(exit.cause) : ""

/** Float tolerance of WGSL float32 math: a few ulps from the device's transcendental functions. */
export const webgpuTolerance = { atol: 2e-6, rtol: 1e-5 } as const
