/**
 * Setup of the `webgpu` vitest project: the example-based array, random and transform suites on the
 * webgpu backend (Dawn, or the JavaScript stand-in for the GPU with `EFFECT_NNX_WEBGPU=stand-in`),
 * reading values synchronously through suspension and replay (see `replay.ts`), and comparing
 * numbers with float32 tolerances (the device's transcendental functions are not the wasm kernels').
 */
import { fc } from "@fast-check/vitest"
import { Effect } from "effect"
import { afterEach, beforeEach, expect } from "vitest"
import { make } from "../../../src/backend/webgpu/Webgpu.ts"
import { setDefaultBackend } from "../../../src/backend/wasm/default.ts"
import { makeCpuWebgpu } from "../cpuWebgpu.ts"
import { replaying } from "./replay.ts"

const inner =
  process.env["EFFECT_NNX_WEBGPU"] === "stand-in"
    ? (await makeCpuWebgpu({ onKernelError: "fail" })).backend
    : await Effect.runPromise(make({ onKernelError: "fail" }))

// A retry must make the same operations: one fast-check seed for every attempt. A property that
// meets an unread value stops there (no shrinking) and says why, so that the retry condition sees it.
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: 20261203, endOnFailure: true, includeErrorInReport: true })

const replay = replaying(inner)
setDefaultBackend(replay.backend)

beforeEach(async (context) => {
  // Property tests run many cases with reads between operations: their asynchronous forms, in
  // test/webgpu/properties.test.ts, cover them on webgpu.
  if (context.task.name.includes("(with seed=")) context.skip("a property test: see test/webgpu/properties.test.ts")
  await replay.begin(context.task.id)
})
afterEach(() => {
  replay.end()
})

/** float32 tolerances: relative 1e-5, absolute 1e-6; integers in the float32 range must be equal. */
const closeNumbers = (a: unknown, b: unknown): boolean | undefined => {
  if (typeof a !== "number" || typeof b !== "number") return undefined
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return true
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false
  return Math.abs(a - b) <= 1e-6 + 1e-5 * Math.abs(b)
}
expect.addEqualityTesters([closeNumbers])
