/**
 * The backends a cross-backend suite runs on: every gpu.js mode that starts here, each as its own
 * gpujs backend. A mode that does not start is listed with the reason, so the suite can skip it
 * with a clear message (`headlessgl` needs the `gl` addon built, `npm run build:gl`, and a display,
 * e.g. `xvfb-run`; `webgl2`/`webgl` exist only in browsers, see test/browser).
 */
import { Effect, Exit } from "effect"
import { Backend } from "effect-nnx"

export interface Candidate {
  readonly label: string
  readonly backend: Backend.GpujsBackend | undefined
  readonly reason: string | undefined
}

const modes: ReadonlyArray<Backend.GpujsMode> = ["cpu", "webasm", "headlessgl"]

export const gpujsCandidates: ReadonlyArray<Candidate> = await Promise.all(
  modes.map(async (mode) => {
    const exit = await Effect.runPromiseExit(Backend.makeGpujs({ mode, onKernelError: "fail" }))
    return Exit.isSuccess(exit)
      ? { label: `gpujs:${mode}`, backend: exit.value, reason: undefined }
      : { label: `gpujs:${mode}`, backend: undefined, reason: Exit.isFailure(exit) ? String(exit.cause) : "unknown" }
  })
)

/** Each candidate as `[label, backend-or-undefined, skip reason]` rows for `describe.each`. */
export const eachGpujs = gpujsCandidates.map((c) => [c.label, c] as const)

/** Float tolerance of the gpujs modes: float32 arithmetic with a few ulps from GLSL/WebAssembly math. */
export const gpujsTolerance = { atol: 2e-6, rtol: 1e-5 } as const
