/**
 * The dtype rule Flax's layers share (`flax.nnx.nn.dtypes.promote_dtype`): the inputs and
 * parameters of a call are cast to the layer's `dtype` when one is given, otherwise to their common
 * promoted dtype, so a `float32` kernel applied to `int32` inputs computes in `float32`.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { astype, promote } from "../backend/numpy/elementwise.ts"

/** Casts every non-null array to `dtype`, or to their promoted dtype when `dtype` is undefined. */
export const promoteDtype = <const T extends ReadonlyArray<JArray | null>>(
  op: string,
  xs: T,
  dtype: NumericDType | undefined
): { readonly [K in keyof T]: T[K] extends null ? null : JArray } => {
  const present = xs.filter((x): x is JArray => x !== null)
  const cast = dtype === undefined ? promote(op, present) : present.map((x) => astype(x, dtype))
  let i = 0
  return xs.map((x) => (x === null ? null : cast[i++]!)) as never
}
