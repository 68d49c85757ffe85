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

/** Same shape, dtype and elements, bit for bit (NaN equal to NaN, -0 apart from 0). */
export const assertSame = (got: JArray, want: JArray): void => {
  expect(got.shape).toEqual(want.shape)
  expect(got.dtype).toBe(want.dtype)
  const a = got.dataSync(),
    b = want.dataSync()
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i])))
      throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`)
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
