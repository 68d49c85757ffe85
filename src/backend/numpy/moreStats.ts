/**
 * More of NumPy's statistics and cumulative functions, as `jax.numpy` defines them: `ptp`,
 * `average`, `cov`, `corrcoef`, `nanargmax`/`nanargmin`, `nancumsum`/`nancumprod`,
 * `cumulativeSum`/`cumulativeProd` and `trapezoid`. Composed from primitives, so `vmap`, `grad` and
 * `jit` see through them.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, AxisError, DTypeError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import type { NumericDType } from "../DType.ts"
import { normalizeAxis } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import {
  add,
  ceil,
  clip,
  conj,
  convertTo,
  divide,
  floor,
  isnan,
  lessEqual,
  logicalNot,
  multiply,
  real,
  sqrt,
  subtract,
  where
} from "./elementwise.ts"
import { fillNan, interpolate, quantileRows, stackQuantiles } from "./quantileCore.ts"
import type { QuantileOptions } from "./quantileCore.ts"
import { diag } from "./extraShape.ts"
import { takeAlongAxis } from "./indexing.ts"
import { checkOptionKeys } from "./options.ts"
import { diff } from "./polynomial.ts"
import { all, argmax, argmin, cumprod, cumsum, max, mean, min, sum } from "./reductions.ts"
import type { Axis, ReduceOptions } from "./reductions.ts"
import { atLeast2d, broadcastTo, concatenate, moveaxis, reshape, squeeze, transpose } from "./shapeOps.ts"

const operand = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "PRNG key arrays have no statistics" })
  return a
}

/** float32 (or complex64) for `x`: integers and booleans converted, keeping a weak type. */
const inexact = (a: JArray): JArray =>
  a.dtype === "float32" || a.dtype === "complex64" ? a : convertTo(a, "float32", a.weakType)

/** The range (`max - min`) along `axis` (all axes when omitted). */
export const ptp = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray => {
  checkOptionKeys("ptp", options, ["keepdims"])
  const a = operand("ptp", x)
  return subtract(max(a, axis, options), min(a, axis, options))
}

/** The options of {@link average}. */
export interface AverageOptions extends ReduceOptions {
  /**
   * Weights: of `a`'s shape, or one-dimensional along a single `axis` (of that axis' length).
   * Without them, every element weighs 1.
   */
  readonly weights?: ArrayLike | undefined
}

/** {@link average}: the weighted average, or with `returned: true` the average and the sum of the weights. */
export interface Average {
  (a: ArrayLike, axis?: Axis, options?: AverageOptions & { readonly returned?: false | undefined }): JArray
  (a: ArrayLike, axis: Axis, options: AverageOptions & { readonly returned: true }): [JArray, JArray]
}

/**
 * The weighted average along `axis` (all axes when omitted): `sum(a · w) / sum(w)`. Integers give
 * float32. With `returned: true`, `[average, sumOfWeights]`, the sum broadcast to the average's shape.
 */
export const average: Average = ((
  a: ArrayLike,
  axis?: Axis,
  options?: AverageOptions & { readonly returned?: boolean | undefined }
): JArray | [JArray, JArray] => {
  const out = averageImpl("average", a, axis, options)
  return options?.returned === true ? out : out[0]
}) as Average

const averageImpl = (
  op: string,
  x: ArrayLike,
  axis: Axis,
  options: (AverageOptions & { readonly returned?: boolean | undefined }) | undefined
): [JArray, JArray] => {
  checkOptionKeys(op, options, ["weights", "returned", "keepdims"])
  const a = inexact(operand(op, x))
  const keepdims = options?.keepdims
  if (options?.weights === undefined) {
    const avg = mean(a, axis, { keepdims })
    const count = a.size / Math.max(avg.size, 1)
    return [avg, broadcastTo(fromScalar(count, "float32"), avg.shape)]
  }
  let w = inexact(operand(op, options.weights))
  if (w.shape.length !== a.shape.length || w.shape.some((d, i) => d !== a.shape[i])) {
    if (axis === null || axis === undefined)
      throw new ShapeError({
        op,
        shapes: [a.shape, w.shape],
        reason: "an axis must be given when the weights' shape differs from the array's"
      })
    if (typeof axis !== "number")
      throw new AxisError({ op, axis, ndim: a.ndim, reason: "one axis must be given with one-dimensional weights" })
    if (w.ndim !== 1)
      throw new ShapeError({
        op,
        shapes: [a.shape, w.shape],
        reason: "weights of another shape than the array's must be one-dimensional"
      })
    const ax = normalizeAxis(op, axis, a.ndim)
    if (w.shape[0] !== a.shape[ax])
      throw new ShapeError({
        op,
        shapes: [a.shape, w.shape],
        reason: `the weights' length ${w.shape[0]} is not the length ${a.shape[ax]} of axis ${axis}`
      })
    w = moveaxis(reshape(w, [...a.shape.slice(1).map(() => 1), w.shape[0]!]), -1, ax)
  }
  const weightSum = sum(w, axis, { keepdims })
  const avg = divide(sum(multiply(a, w), axis, { keepdims }), weightSum)
  return [avg, broadcastTo(weightSum, avg.shape)]
}

/** The options of {@link cov}. */
export interface CovOptions {
  /** Whether each row is a variable and each column an observation (the default), or the reverse. */
  readonly rowvar?: boolean | undefined
  /** Normalise by `N` instead of `N - 1` (ignored when `ddof` is given). */
  readonly bias?: boolean | undefined
  /** Normalise by `N - ddof`. */
  readonly ddof?: number | undefined
}

/**
 * The covariance matrix of the variables in `m` (and `y`, whose variables are appended), each row a
 * variable by default; a single variable gives a 0-d array.
 */
export const cov = (m: ArrayLike, y?: ArrayLike | null, options?: CovOptions): JArray => {
  checkOptionKeys("cov", options, ["rowvar", "bias", "ddof"])
  const rowvar = options?.rowvar ?? true
  const rows = (v: ArrayLike): JArray => {
    const a = operand("cov", v)
    if (a.ndim > 2)
      throw new ShapeError({ op: "cov", shapes: [a.shape], reason: "m and y must have at most 2 dimensions" })
    const x = atLeast2d(a)
    return !rowvar && x.shape[0] !== 1 ? transpose(x) : x
  }
  let x = inexact(rows(m))
  if (y !== undefined && y !== null) {
    const yy = inexact(rows(y))
    if (yy.shape[1] !== x.shape[1])
      throw new ShapeError({
        op: "cov",
        shapes: [x.shape, yy.shape],
        reason: "m and y must have as many observations"
      })
    x = concatenate([x, yy], 0)
  }
  const ddof = options?.ddof ?? (options?.bias === true ? 0 : 1)
  if (!Number.isInteger(ddof)) throw new ArgumentError({ op: "cov", reason: `ddof must be an integer, got ${ddof}` })
  const centered = subtract(x, mean(x, 1, { keepdims: true }))
  const product = bind1("dot_general", [centered, conj(centered)], {
    lhsContracting: [1],
    rhsContracting: [1],
    lhsBatch: [],
    rhsBatch: []
  })
  return squeeze(divide(product, x.shape[1]! - ddof))
}

/** Pearson correlation coefficients of the variables in `x` (and `y`), clipped to [-1, 1]. */
export const corrcoef = (x: ArrayLike, y?: ArrayLike | null, options?: Pick<CovOptions, "rowvar">): JArray => {
  checkOptionKeys("corrcoef", options, ["rowvar"])
  const c = cov(x, y, options?.rowvar === undefined ? {} : { rowvar: options.rowvar })
  if (c.ndim === 0) return divide(c, c)
  const stddev = sqrt(real(diag(c)))
  const n = stddev.shape[0]!
  const out = divide(divide(c, reshape(stddev, [n, 1])), reshape(stddev, [1, n]))
  return out.dtype === "complex64" ? out : clip(out, -1, 1)
}

const nanArg =
  (op: "nanargmax" | "nanargmin") =>
  (x: ArrayLike, axis?: number | null, options?: ReduceOptions): JArray => {
    checkOptionKeys(op, options, ["keepdims"])
    const a = operand(op, x)
    const arg = op === "nanargmax" ? argmax : argmin
    if (a.dtype !== "float32") return arg(a, axis, options)
    const nan = isnan(a)
    const filled = where(nan, fromScalar(op === "nanargmax" ? -Infinity : Infinity, "float32"), a)
    const all_ = all(nan, axis, options)
    return where(all_, fromScalar(-1, "int32"), arg(filled, axis, options))
  }

/** The index of the largest element along `axis` ignoring NaNs (-1 where a slice is all NaN). */
export const nanargmax = nanArg("nanargmax")
/** The index of the smallest element along `axis` ignoring NaNs (-1 where a slice is all NaN). */
export const nanargmin = nanArg("nanargmin")

/** The cumulative sum along `axis` (flattened when omitted), NaNs counting as 0. */
export const nancumsum = (x: ArrayLike, axis?: number | null): JArray =>
  cumsum(fillNan(operand("nancumsum", x), 0), axis)

/** The cumulative product along `axis` (flattened when omitted), NaNs counting as 1. */
export const nancumprod = (x: ArrayLike, axis?: number | null): JArray =>
  cumprod(fillNan(operand("nancumprod", x), 1), axis)

/** The options of {@link cumulativeSum} and {@link cumulativeProd}. */
export interface CumulativeOptions {
  /** The axis; may be omitted for one-dimensional input only. */
  readonly axis?: number | undefined
  /** Compute and return in this dtype (booleans default to int32). */
  readonly dtype?: NumericDType | undefined
  /** Start with the identity (0 or 1), so the result is one longer along `axis`. */
  readonly includeInitial?: boolean | undefined
}

const cumulativeOf =
  (op: "cumulativeSum" | "cumulativeProd") =>
  (x: ArrayLike, options?: CumulativeOptions): JArray => {
    checkOptionKeys(op, options, ["axis", "dtype", "includeInitial"])
    let a = operand(op, x)
    if (a.ndim === 0) throw new ShapeError({ op, shapes: [a.shape], reason: "needs an array of 1 dimension or more" })
    const axisOption = options?.axis
    if (axisOption === undefined && a.ndim > 1)
      throw new AxisError({
        op,
        axis: [],
        ndim: a.ndim,
        reason: "an axis must be given for an array of more than one dimension"
      })
    const axis = normalizeAxis(op, axisOption ?? 0, a.ndim)
    if (options?.dtype !== undefined) a = convertTo(a, options.dtype)
    else if (a.dtype === "bool") a = convertTo(a, "int32")
    let out = op === "cumulativeSum" ? cumsum(a, axis) : cumprod(a, axis)
    if (options?.includeInitial === true) {
      const shape = out.shape.map((d, i) => (i === axis ? 1 : d))
      const identity = broadcastTo(convertTo(asArray(op === "cumulativeSum" ? 0 : 1), out.dtype as NumericDType), shape)
      out = concatenate([identity, out], axis)
    }
    return out
  }

/** The cumulative sum along `axis` (the Array API's `cumulative_sum`), optionally starting with 0. */
export const cumulativeSum = cumulativeOf("cumulativeSum")
/** The cumulative product along `axis` (the Array API's `cumulative_prod`), optionally starting with 1. */
export const cumulativeProd = cumulativeOf("cumulativeProd")

/** The options of {@link trapezoid}. */
export interface TrapezoidOptions {
  /** The sample points: one-dimensional along `axis`, or of `y`'s shape. */
  readonly x?: ArrayLike | undefined
  /** The spacing between samples when `x` is not given (1 by default). */
  readonly dx?: number | undefined
  /** The axis to integrate along (the last by default). */
  readonly axis?: number | undefined
}

/** The integral of `y` along `axis` by the trapezoidal rule. */
export const trapezoid = (y: ArrayLike, options?: TrapezoidOptions): JArray => {
  checkOptionKeys("trapezoid", options, ["x", "dx", "axis"])
  const ya = inexact(operand("trapezoid", y))
  if (ya.ndim === 0)
    throw new ShapeError({ op: "trapezoid", shapes: [ya.shape], reason: "y needs 1 dimension or more" })
  const axis = normalizeAxis("trapezoid", options?.axis ?? -1, ya.ndim)
  let dx: JArray | number = options?.dx ?? 1
  if (options?.x !== undefined) {
    const xa = inexact(operand("trapezoid", options.x))
    dx = xa.ndim === 1 ? diff(xa) : moveaxis(diff(xa, 1, axis), axis, -1)
  }
  const moved = moveaxis(ya, axis, -1)
  const n = moved.shape[moved.ndim - 1]!
  const slice = (start: number, stop: number): JArray =>
    bind1("slice", [moved], {
      startIndices: moved.shape.map((_, i) => (i === moved.ndim - 1 ? start : 0)),
      limitIndices: moved.shape.map((d, i) => (i === moved.ndim - 1 ? stop : d)),
      strides: moved.shape.map(() => 1)
    })
  const pairs = n === 0 ? slice(0, 0) : add(slice(1, n), slice(0, n - 1))
  return multiply(sum(multiply(dx, pairs), -1), 0.5)
}

const nanQuantileImpl = (
  op: string,
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis: Axis,
  options: QuantileOptions | undefined
): JArray => {
  const dtype = asArray(x).dtype
  if (dtype === "complex64") throw new DTypeError({ op, dtypes: [dtype], reason: "complex numbers have no order here" })
  const { method, qs, flat, sorted, kept, n, outShape } = quantileRows(op, x, q, axis, options)
  // NaNs sort last: the first `count` elements of each row are its numbers.
  const count = sum(logicalNot(isnan(flat)), -1, { keepdims: true, dtype: "float32" })
  const last = subtract(count, 1)
  const at = (index: JArray): JArray =>
    reshape(takeAlongAxis(sorted, convertTo(clip(index, 0, n - 1), "int32"), -1), kept)
  const results = qs.map((v) => {
    // In float32, as JAX computes it; a row of NaNs reads its first element, a NaN.
    const pos = multiply(fromScalar(Math.fround(v), "float32"), last)
    const lo = clip(floor(pos), 0, last)
    const hi = clip(ceil(pos), 0, last)
    const hw = reshape(subtract(pos, floor(pos)), kept)
    const r = interpolate(
      method,
      () => at(lo),
      () => at(hi),
      hw,
      lessEqual(hw, 0.5)
    )
    return reshape(r, outShape)
  })
  return stackQuantiles(q, results, outShape)
}

/**
 * The `q`-th quantiles along `axis` ignoring NaNs, as `jnp.nanquantile` (the options of
 * {@link quantile}); NaN where a slice is all NaN.
 */
export const nanquantile = (
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis?: Axis,
  options?: QuantileOptions
): JArray => nanQuantileImpl("nanquantile", x, q, axis, options)

/** {@link nanquantile} with `q` in percent (`[0, 100]`), as `jnp.nanpercentile`. */
export const nanpercentile = (
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis?: Axis,
  options?: QuantileOptions
): JArray => nanQuantileImpl("nanpercentile", x, typeof q === "number" ? q / 100 : q.map((v) => v / 100), axis, options)

/** The median along `axis` ignoring NaNs, as `jnp.nanmedian`; NaN where a slice is all NaN. */
export const nanmedian = (x: ArrayLike, axis?: Axis, options?: ReduceOptions): JArray =>
  nanQuantileImpl("nanmedian", x, 0.5, axis, options)
