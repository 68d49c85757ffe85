/** NumPy reductions with `axis` and `keepdims`, and cumulative sums. */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { isDType } from "../DType.ts"
import type { NumericDType } from "../DType.ts"
import type { ReducePrimitive } from "../Primitive.ts"
import { normalizeAxes, normalizeAxis } from "../shape.ts"
import { asArray } from "./creation.ts"
import { add, convertTo, divide, maximum, minimum, multiply, sqrt, subtract, where } from "./elementwise.ts"
import { checkOptionKeys } from "./options.ts"
import { broadcastTo, reshape } from "./shapeOps.ts"

/** An axis, a list of axes, or `null`/omitted for all axes. */
export type Axis = number | ReadonlyArray<number> | null | undefined

export interface ReduceOptions {
  readonly keepdims?: boolean | undefined
}

/**
 * The options of `sum`, `prod`, `max`, `min`, `mean`, `var`, `std`, `all` and `any`, as JAX's
 * keyword arguments (each function takes those that JAX's does):
 *
 * - `where`: a boolean mask, broadcast to the operand's shape; only the elements where it is true
 *   take part. `max` and `min` have no identity, so with a mask they need `initial`.
 * - `initial`: a starting value, converted to the result's dtype, that takes part in every slice
 *   (so `max` of an empty axis is `initial`).
 * - `dtype`: the dtype to compute and return in (`sum`, `prod`, `mean`).
 */
export interface ReductionOptions extends ReduceOptions {
  readonly where?: ArrayLike | undefined
  readonly initial?: number | undefined
  readonly dtype?: NumericDType | undefined
}

const resolveAxes = (op: string, x: JArray, axis: Axis): Array<number> =>
  axis === null || axis === undefined
    ? x.shape.map((_, i) => i)
    : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, x.ndim)

const keep = (x: JArray, out: JArray, axes: ReadonlyArray<number>, keepdims: boolean | undefined): JArray =>
  keepdims === true
    ? reshape(
        out,
        x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      )
    : out

const noKeys = (op: string, x: JArray): void => {
  if (x.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [x.dtype], reason: "PRNG key arrays cannot be reduced" })
}

/** The `where` mask of a reduction, broadcast to the operand's shape; `undefined` without one. */
const maskOf = (op: string, a: JArray, options: ReductionOptions | undefined): JArray | undefined => {
  if (options?.where === undefined) return undefined
  const m = asArray(options.where)
  if (m.dtype !== "bool") throw new DTypeError({ op, dtypes: [m.dtype], reason: "the where mask must be a bool array" })
  return broadcastTo(m, a.shape)
}

/** `x` as `dtype` (the options' `dtype`), checked. */
const asDType = (op: string, a: JArray, dtype: NumericDType | undefined): JArray => {
  if (dtype === undefined || dtype === a.dtype) return a
  if (!isDType(dtype) || (dtype as string) === "key<fry>")
    throw new ArgumentError({ op, reason: `dtype must be a numeric dtype name, got ${JSON.stringify(dtype)}` })
  return convertTo(a, dtype)
}

/** The value of an extremum with no elements: the identity that `where` puts at masked elements. */
const lowest = (dtype: NumericDType, prim: "reduce_max" | "reduce_min"): number => {
  const high = prim === "reduce_min"
  switch (dtype) {
    case "bool":
      return high ? 1 : 0
    case "int32":
      return high ? 2147483647 : -2147483648
    case "uint32":
      return high ? 4294967295 : 0
    default:
      return high ? Infinity : -Infinity
  }
}

const reduction =
  (op: string, prim: ReducePrimitive, boolTo?: "int32") =>
  (x: ArrayLike, axis?: Axis, options?: ReductionOptions): JArray => {
    const extremum = prim === "reduce_max" || prim === "reduce_min"
    checkOptionKeys(
      op,
      options,
      extremum ? ["keepdims", "where", "initial"] : ["keepdims", "where", "initial", "dtype"]
    )
    let a = asArray(x)
    noKeys(op, a)
    a = asDType(op, a, options?.dtype)
    if (boolTo !== undefined && a.dtype === "bool") a = convertTo(a, boolTo)
    const axes = resolveAxes(op, a, axis)
    const mask = maskOf(op, a, options)
    const initial = options?.initial
    if (initial !== undefined && typeof initial !== "number")
      throw new ArgumentError({ op, reason: `initial must be a number, got ${typeof initial}` })
    if (mask !== undefined) {
      if (extremum && initial === undefined)
        throw new ArgumentError({
          op,
          reason: `${op} has no identity, so a where mask needs an initial value ({ where, initial })`
        })
      const identity = extremum
        ? lowest(a.dtype as NumericDType, prim)
        : prim === "reduce_prod" || prim === "reduce_and"
          ? 1
          : 0
      a = where(mask, a, convertTo(asArray(identity), a.dtype as NumericDType, a.weakType))
    }
    if (initial !== undefined && extremum && axes.some((i) => a.shape[i] === 0)) {
      // No elements: the extremum is the initial value (the primitive refuses an empty axis).
      const init = convertTo(asArray(initial), a.dtype as NumericDType, a.weakType)
      return keep(
        a,
        broadcastTo(
          init,
          a.shape.filter((_, i) => !axes.includes(i))
        ),
        axes,
        options?.keepdims
      )
    }
    let out = bind1(prim, [a], { axes })
    if (initial !== undefined) {
      const init = convertTo(asArray(initial), out.dtype as NumericDType, out.weakType)
      out =
        prim === "reduce_sum"
          ? add(out, init)
          : prim === "reduce_prod"
            ? multiply(out, init)
            : prim === "reduce_max"
              ? maximum(out, init)
              : minimum(out, init)
    }
    return keep(a, out, axes, options?.keepdims)
  }

/** The sum along `axis` (all axes when omitted); booleans sum as int32. Options: {@link ReductionOptions}. */
export const sum = reduction("sum", "reduce_sum", "int32")
/** The product along `axis` (all axes when omitted); booleans multiply as int32. Options: {@link ReductionOptions}. */
export const prod = reduction("prod", "reduce_prod", "int32")
/** The maximum along `axis` (all axes when omitted); NaN wins. Options: {@link ReductionOptions} (`where` needs `initial`). */
export const max = reduction("max", "reduce_max")
/** The minimum along `axis` (all axes when omitted); NaN wins. Options: {@link ReductionOptions} (`where` needs `initial`). */
export const min = reduction("min", "reduce_min")
export const amax = max
export const amin = min

const toBool = (a: JArray): JArray =>
  a.dtype === "bool"
    ? a
    : bind1(
        "ne",
        [
          a,
          bind1("broadcast_in_dim", [convertTo(asArray(0), a.dtype as "float32")], {
            shape: a.shape,
            broadcastDimensions: []
          })
        ],
        {}
      )
/**
 * Whether every element along `axis` is true (nonzero); with a `where` mask, only the masked-in
 * elements count (an empty slice is true).
 */
export const all = (x: ArrayLike, axis?: Axis, options?: ReduceOptions & Pick<ReductionOptions, "where">): JArray => {
  checkOptionKeys("all", options, ["keepdims", "where"])
  return reduction("all", "reduce_and")(toBool(asArray(x)), axis, options)
}
/**
 * Whether any element along `axis` is true (nonzero); with a `where` mask, only the masked-in
 * elements count (an empty slice is false).
 */
export const any = (x: ArrayLike, axis?: Axis, options?: ReduceOptions & Pick<ReductionOptions, "where">): JArray => {
  checkOptionKeys("any", options, ["keepdims", "where"])
  return reduction("any", "reduce_or")(toBool(asArray(x)), axis, options)
}

const count = (x: JArray, axes: ReadonlyArray<number>): number => axes.reduce((n, i) => n * x.shape[i]!, 1)

/** The float operand of `mean`, `var` and `std`: `dtype` if given, else integers and booleans as float32. */
const meanOperand = (op: string, x: ArrayLike, dtype: NumericDType | undefined): JArray => {
  const a = asArray(x)
  noKeys(op, a)
  if (dtype !== undefined) return asDType(op, a, dtype)
  return a.dtype === "float32" || a.dtype === "complex64" ? a : convertTo(a, "float32", a.weakType)
}

/** How many elements each slice holds: a number, or with a mask the masked-in count (float32). */
const countOf = (
  a: JArray,
  axes: ReadonlyArray<number>,
  mask: JArray | undefined,
  keepdims?: boolean
): JArray | number => (mask === undefined ? count(a, axes) : sum(convertTo(mask, "float32"), axes, { keepdims }))

/**
 * Arithmetic mean; integer and boolean inputs give float32 (or `dtype`). With a `where` mask, the
 * mean of the masked-in elements (NaN for a slice with none).
 */
export const mean = (
  x: ArrayLike,
  axis?: Axis,
  options?: ReduceOptions & Pick<ReductionOptions, "where" | "dtype">
): JArray => {
  checkOptionKeys("mean", options, ["keepdims", "where", "dtype"])
  const f = meanOperand("mean", x, options?.dtype)
  const axes = resolveAxes("mean", f, axis)
  const mask = maskOf("mean", f, options)
  const keepdims = options?.keepdims
  const total = sum(f, axes, mask === undefined ? { keepdims } : { keepdims, where: mask })
  return divide(total, countOf(f, axes, mask, keepdims))
}

/** The options of `var` and `std`: `ddof` (0 by default) and a `where` mask. */
export interface VarianceOptions extends ReduceOptions, Pick<ReductionOptions, "where"> {
  readonly ddof?: number | undefined
}

/** Variance with `ddof` (0 by default); with a `where` mask, of the masked-in elements. */
export const variance = (x: ArrayLike, axis?: Axis, options?: VarianceOptions): JArray => {
  checkOptionKeys("var", options, ["keepdims", "ddof", "where"])
  const ddof = options?.ddof ?? 0
  if (typeof ddof !== "number" || !Number.isFinite(ddof))
    throw new ArgumentError({ op: "var", reason: `ddof must be a finite number, got ${String(ddof)}` })
  const f = meanOperand("var", x, undefined)
  const axes = resolveAxes("var", f, axis)
  const mask = maskOf("var", f, options)
  const masked = (keepdims: boolean | undefined) => (mask === undefined ? { keepdims } : { keepdims, where: mask })
  const centered = subtract(f, mean(f, axes, masked(true)))
  // |x - mean|², real for complex input (as JAX's var).
  const squares =
    f.dtype === "complex64"
      ? bind1("real", [multiply(centered, bind1("conj", [centered], {}))], {})
      : multiply(centered, centered)
  const n = countOf(f, axes, mask, options?.keepdims)
  return divide(sum(squares, axes, masked(options?.keepdims)), typeof n === "number" ? n - ddof : subtract(n, ddof))
}
export { variance as var }

/** Standard deviation: the square root of {@link variance}, with the same options. */
export const std = (x: ArrayLike, axis?: Axis, options?: VarianceOptions): JArray => sqrt(variance(x, axis, options))

const argReduction =
  (op: "argmax" | "argmin") =>
  (x: ArrayLike, axis?: number | null, options?: ReduceOptions): JArray => {
    checkOptionKeys(op, options, ["keepdims"])
    let a = asArray(x)
    noKeys(op, a)
    let ax: number
    if (axis === null || axis === undefined) {
      a = reshape(a, [-1])
      ax = 0
    } else ax = normalizeAxis(op, axis, a.ndim)
    const out = bind1(op, [a], { axis: ax, indexDtype: "int32" })
    if (options?.keepdims !== true) return out
    const orig = asArray(x)
    return reshape(
      out,
      axis === null || axis === undefined ? orig.shape.map(() => 1) : orig.shape.map((d, i) => (i === ax ? 1 : d))
    )
  }
export const argmax = argReduction("argmax")
export const argmin = argReduction("argmin")

const cumulative =
  (op: string, prim: "cumsum" | "cumprod" | "cummax" | "cummin") =>
  (x: ArrayLike, axis?: number | null): JArray => {
    let a = asArray(x)
    noKeys(op, a)
    if (a.dtype === "bool" && (prim === "cumsum" || prim === "cumprod")) a = convertTo(a, "int32")
    if (axis === null || axis === undefined) {
      a = reshape(a, [-1])
      axis = 0
    }
    return bind1(prim, [a], { axis: normalizeAxis(op, axis, a.ndim), reverse: false })
  }
export const cumsum = cumulative("cumsum", "cumsum")
export const cumprod = cumulative("cumprod", "cumprod")
