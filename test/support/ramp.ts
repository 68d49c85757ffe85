/** Deterministic float32 test inputs (distinct, signed values that make layout mistakes visible), and exact comparison. */
import { expect } from "vitest"
import { jnp } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

/** The row-major ramp `i · scale - offset` for i = 0, 1, ..., reshaped to `shape`. */
export const ramp = (shape: ReadonlyArray<number>, scale = 0.1, offset = 0.5): JArray =>
  jnp
    .arange(shape.reduce((a, b) => a * b, 1))
    .astype("float32")
    .mul(scale)
    .sub(offset)
    .reshape(shape)

/**
 * Whether results of the default backend can be compared bit for bit across ways of computing them
 * (jit and eager, fused and one op at a time): on the cpu and wasm backends, whose fused kernels
 * round every step to float32 as the one-op kernels do. Not on webgpu (`npm run test:webgpu`), whose
 * fused kernels keep intermediates unrounded and whose device math is its own: there, float32
 * tolerances.
 */
export const bitExact = process.env["EFFECT_NNX_BACKEND"] !== "webgpu"

/** Whether `g` stands for `w`: the same number (NaN equal to NaN, -0 apart from 0), or float32-close where not {@link bitExact}. */
export const sameNumber = (g: number, w: number, float: boolean): boolean =>
  Object.is(g, w) ||
  (Number.isNaN(g) && Number.isNaN(w)) ||
  (!bitExact && float && Number.isFinite(g) && Math.abs(g - w) <= 1e-6 + 1e-5 * Math.abs(w))

/** Same shape, dtype and elements, bit for bit (NaN equal to NaN, -0 apart from 0); float32-close where not {@link bitExact}. */
export const assertSame = (got: JArray, want: JArray): void => {
  expect(got.shape).toEqual(want.shape)
  expect(got.dtype).toBe(want.dtype)
  const float = got.dtype.startsWith("float") || got.dtype.startsWith("complex")
  const a = got.dataSync(),
    b = want.dataSync()
  for (let i = 0; i < a.length; i++) {
    if (!sameNumber(Number(a[i]), Number(b[i]), float)) throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`)
  }
}

/** `sin(i · scale)` for i = 0, 1, ..., reshaped to `shape`: bounded, distinct and signed. */
export const sineRamp = (shape: ReadonlyArray<number>, scale = 0.1): JArray =>
  jnp
    .sin(
      jnp
        .arange(shape.reduce((a, b) => a * b, 1))
        .astype("float32")
        .mul(scale)
    )
    .reshape(shape)
