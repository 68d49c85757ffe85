/**
 * NaN-ignoring reductions (`nansum`, `nanmean`, `nanmax`, ...) and order statistics (`median`,
 * `quantile`, `percentile`, linear interpolation) with JAX's `axis`/`keepdims` conventions. NaN-ignoring
 * forms replace NaNs by the reduction's identity; `quantile` sorts (NaNs last) and, as JAX, gives NaN
 * for any slice holding a NaN.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import { bind1 } from "../bind.ts"
import { fromScalar } from "./creation.ts"
import { divide, isnan, lessEqual, logicalNot, multiply, negative, sqrt, subtract, where } from "./elementwise.ts"
import { all, any, max, min, prod, sum } from "./reductions.ts"
import type { Axis, ReduceOptions } from "./reductions.ts"
import { fillNan, interpolate, operand, quantileRows, stackQuantiles, toFloat } from "./quantileCore.ts"
import type { QuantileOptions } from "./quantileCore.ts"
import { reshape } from "./shapeOps.ts"

export type { QuantileMethod, QuantileOptions } from "./quantileCore.ts"

/** Sum treating NaN as zero. */
export const nansum = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray =>
  sum(fillNan(operand("nansum", x), 0), axis, options)

/** Product treating NaN as one. */
export const nanprod = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray =>
  prod(fillNan(operand("nanprod", x), 1), axis, options)

/**
 * Maximum ignoring NaNs; NaN where a slice is all NaN. (`nanmin` is `-nanmax(-x)`: one fill value,
 * `-inf`, for both.)
 */
export const nanmax = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray => {
  const a = operand("nanmax", x)
  if (a.dtype !== "float32") return max(a, axis, options)
  const out = max(fillNan(a, -Infinity), axis, options)
  return where(all(isnan(a), axis, options), fromScalar(NaN, "float32", a.weakType), out)
}

/** Minimum ignoring NaNs; NaN where a slice is all NaN. */
export const nanmin = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray => {
  const a = operand("nanmin", x)
  return a.dtype === "float32" ? negative(nanmax(negative(a), axis, options)) : min(a, axis, options)
}

const nanCount = (a: JArray, axis: Axis, options?: ReduceOptions): JArray => sum(logicalNot(isnan(a)), axis, options)

/** Mean of the non-NaN elements (float32); NaN where a slice is all NaN. */
export const nanmean = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray => {
  const a = toFloat(operand("nanmean", x))
  return divide(nansum(a, axis, options), nanCount(a, axis, options))
}

/** Variance of the non-NaN elements with `ddof` (0 by default); NaN where fewer than `ddof + 1` remain. */
export const nanvar = (x: ArrayLike, axis?: Axis, options?: ReduceOptions & { readonly ddof?: number }): JArray => {
  checkOptionKeys("nanvar", options, ["keepdims", "ddof"])
  const a = toFloat(operand("nanvar", x))
  const keep = { keepdims: options?.keepdims }
  const nan = isnan(a)
  // Zero (not NaN) at NaN inputs, before squaring, so that their gradient is zero too.
  const centered = where(nan, fromScalar(0, "float32", a.weakType), subtract(a, nanmean(a, axis, { keepdims: true })))
  const n = subtract(nanCount(a, axis, keep), options?.ddof ?? 0)
  const empty = lessEqual(n, 0)
  const total = where(empty, fromScalar(NaN, "float32", a.weakType), sum(multiply(centered, centered), axis, keep))
  return divide(total, where(empty, 1, n))
}

/** Standard deviation of the non-NaN elements with `ddof` (0 by default). */
export const nanstd = (x: ArrayLike, axis?: Axis, options?: ReduceOptions & { readonly ddof?: number }): JArray =>
  sqrt(nanvar(x, axis, options))

/**
 * The `q`-th quantiles (`q` in `[0, 1]`, a number or a list of numbers) along `axis` (all axes when
 * omitted), interpolating linearly between the sorted neighbours (or as `method` says: see
 * {@link QuantileMethod}). A list of `q`s adds a leading axis.
 * Integers give float32. A slice with a NaN gives NaN.
 */
export const quantile = (
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis?: Axis,
  options?: QuantileOptions
): JArray => quantileImpl("quantile", x, q, axis, options)

const quantileImpl = (
  op: string,
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis: Axis,
  options: QuantileOptions | undefined
): JArray => {
  const { method, qs, flat, sorted, kept, n, outShape } = quantileRows(op, x, q, axis, options)
  const take = (i: number): JArray =>
    reshape(
      bind1("slice", [sorted], {
        startIndices: [...kept.map(() => 0), i],
        limitIndices: [...kept, i + 1],
        strides: [...kept.map(() => 1), 1]
      }),
      kept
    )
  const hasNan = any(isnan(flat), -1)
  const results = qs.map((v) => {
    // In float32, as JAX computes it.
    const pos = Math.fround(Math.fround(v) * (n - 1))
    const lo = Math.min(Math.max(Math.floor(pos), 0), n - 1)
    const hi = Math.min(Math.max(Math.ceil(pos), 0), n - 1)
    const hw = Math.fround(pos - Math.floor(pos))
    const r = interpolate(
      method,
      () => take(lo),
      () => take(hi),
      hw,
      hw <= 0.5
    )
    return reshape(where(hasNan, NaN, r), outShape)
  })
  return stackQuantiles(q, results, outShape)
}

/** `quantile` with `q` in percent (`[0, 100]`). */
export const percentile = (
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis?: Axis,
  options?: QuantileOptions
): JArray => quantileImpl("percentile", x, typeof q === "number" ? q / 100 : q.map((v) => v / 100), axis, options)

/** The median (the 0.5 quantile) along `axis`; NaN for a slice with a NaN. */
export const median = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray =>
  quantileImpl("median", x, 0.5, axis, options)
