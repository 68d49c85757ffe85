/**
 * NaN-ignoring reductions (`nansum`, `nanmean`, `nanmax`, ...) and order statistics (`median`,
 * `quantile`, `percentile`, linear interpolation) with JAX's `axis`/`keepdims` conventions. NaN-ignoring
 * forms replace NaNs by the reduction's identity; `quantile` sorts (NaNs last) and, as JAX, gives NaN
 * for any slice holding a NaN.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { normalizeAxes } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import {
  add,
  convertTo,
  divide,
  isnan,
  lessEqual,
  logicalNot,
  multiply,
  negative,
  sqrt,
  subtract,
  where
} from "./elementwise.ts"
import { all, any, max, min, prod, sum } from "./reductions.ts"
import type { Axis, ReduceOptions } from "./reductions.ts"
import { reshape, transpose } from "./shapeOps.ts"

const operand = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "PRNG key arrays cannot be reduced" })
  return a
}

const toFloat = (a: JArray): JArray => (a.dtype === "float32" ? a : convertTo(a, "float32", a.weakType))

/** NaNs replaced by `fill` (a no-op on integers and booleans, which have none). */
const fillNan = (a: JArray, fill: number): JArray =>
  a.dtype === "float32" ? where(isnan(a), fromScalar(fill, "float32", a.weakType), a) : a

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
 * How a quantile between two sorted neighbours `lo` and `hi` is taken, as JAX's `method`: `"linear"`
 * (the default) interpolates, `"lower"` takes `lo`, `"higher"` `hi`, `"midpoint"` their mean, and
 * `"nearest"` the nearer one (`lo` when halfway, as JAX).
 */
export type QuantileMethod = "linear" | "lower" | "higher" | "midpoint" | "nearest"

const quantileMethods: ReadonlyArray<QuantileMethod> = ["linear", "lower", "higher", "midpoint", "nearest"]

export interface QuantileOptions extends ReduceOptions {
  readonly method?: QuantileMethod | undefined
}

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
  checkOptionKeys(op, options, op === "median" ? ["keepdims"] : ["keepdims", "method"])
  const a = toFloat(operand(op, x))
  const method = options?.method ?? "linear"
  if (!quantileMethods.includes(method))
    throw new ArgumentError({
      op,
      reason: `method must be one of ${quantileMethods.map((m) => JSON.stringify(m)).join(", ")}, got ${JSON.stringify(method)}`
    })
  const qs = typeof q === "number" ? [q] : q
  const bad = qs.find((v) => !(v >= 0 && v <= 1))
  if (bad !== undefined)
    throw new ArgumentError({
      op,
      reason: op === "percentile" ? `q must be in [0, 100], got ${bad * 100}` : `q must be in [0, 1], got ${bad}`
    })
  const axes =
    axis === null || axis === undefined
      ? a.shape.map((_, i) => i)
      : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, a.ndim)
  const rest = a.shape.map((_, i) => i).filter((i) => !axes.includes(i))
  const kept = rest.map((i) => a.shape[i]!)
  const n = axes.reduce((m, i) => m * a.shape[i]!, 1)
  if (n === 0) throw new ArgumentError({ op, reason: "cannot take a quantile over an empty axis" })
  const flat = reshape(transpose(a, [...rest, ...axes]), [...kept, n])
  const sorted = bind1("sort", [flat], { dimension: kept.length, numKeys: 1 })
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
  const outShape = options?.keepdims === true ? a.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept
  const results = qs.map((v) => {
    // In float32, as JAX computes it.
    const pos = Math.fround(Math.fround(v) * (n - 1))
    const lo = Math.min(Math.max(Math.floor(pos), 0), n - 1)
    const hi = Math.min(Math.max(Math.ceil(pos), 0), n - 1)
    const hw = Math.fround(pos - Math.floor(pos))
    const r =
      method === "lower"
        ? take(lo)
        : method === "higher"
          ? take(hi)
          : method === "midpoint"
            ? multiply(add(take(lo), take(hi)), 0.5)
            : method === "nearest"
              ? take(hw <= 0.5 ? lo : hi)
              : add(multiply(take(lo), Math.fround(1 - hw)), multiply(take(hi), hw))
    return reshape(where(hasNan, NaN, r), outShape)
  })
  if (typeof q === "number") return results[0]!
  return reshape(
    bind1(
      "concatenate",
      results.map((r) => reshape(r, [1, ...outShape])),
      { dimension: 0 }
    ),
    [qs.length, ...outShape]
  )
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
