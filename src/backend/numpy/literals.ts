/**
 * How a JavaScript number becomes an element of an integer dtype. JAX (64-bit mode off) refuses an
 * integer that does not fit rather than saturating or wrapping it, with one exception: a weakly
 * typed literal meeting a `uint32` array only has to fit `int32`, and then wraps (`u + -1` is
 * `u - 1` modulo 2^32). Non-integral numbers and float dtypes pass through unchanged.
 */
import { OverflowError } from "../ArrayError.ts"
import type { NumericDType } from "../DType.ts"

const INT32_MIN = -(2 ** 31),
  INT32_END = 2 ** 31

/**
 * The value `x` stores as in `dtype`: `weak` when `x` is a literal whose dtype promotion chose,
 * otherwise the dtype was asked for explicitly. Throws an `OverflowError` when it does not fit.
 */
export const integerLiteral = (op: string, x: number, dtype: NumericDType, weak: boolean): number => {
  if ((dtype !== "int32" && dtype !== "uint32") || !Number.isInteger(x)) return x
  if (dtype === "uint32" && !weak) {
    if (x >= 0 && x < 2 ** 32) return x
    throw new OverflowError({
      op,
      value: x,
      dtype,
      reason: "uint32 holds 0 to 4294967295; pass a float32 dtype or reduce the value"
    })
  }
  if (x < INT32_MIN || x >= INT32_END) {
    throw new OverflowError({
      op,
      value: x,
      dtype,
      reason:
        dtype === "uint32"
          ? 'a literal combined with a uint32 array must fit int32 (-2147483648 to 2147483647); make it a uint32 array first (jnp.array(v, { dtype: "uint32" }))'
          : "int32 holds -2147483648 to 2147483647; convert the array to float32 first, or use a smaller value"
    })
  }
  return dtype === "uint32" ? x >>> 0 : x
}
