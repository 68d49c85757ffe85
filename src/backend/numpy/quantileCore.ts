/**
 * What the quantiles and the NaN-ignoring reductions share (extraReductions.ts, moreStats.ts):
 * operand checks, NaN filling, and a quantile's sorted rows and interpolation. Not part of `jnp`.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { normalizeAxes } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import { add, convertTo, isnan, multiply, subtract, where } from "./elementwise.ts"
import { checkOptionKeys } from "./options.ts"
import type { Axis, ReduceOptions } from "./reductions.ts"
import { reshape, transpose } from "./shapeOps.ts"

/** `x` as an Array; PRNG keys refused. */
export const operand = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "PRNG key arrays cannot be reduced" })
  return a
}

/** `a` as float32 (integers and booleans converted, keeping a weak type). */
export const toFloat = (a: JArray): JArray => (a.dtype === "float32" ? a : convertTo(a, "float32", a.weakType))

/** NaNs replaced by `fill` (a no-op on integers and booleans, which have none). */
export const fillNan = (a: JArray, fill: number): JArray =>
  a.dtype === "float32" ? where(isnan(a), fromScalar(fill, "float32", a.weakType), a) : a

/**
 * How a quantile between two sorted neighbours `lo` and `hi` is taken, as JAX's `method`: `"linear"`
 * (the default) interpolates, `"lower"` takes `lo`, `"higher"` `hi`, `"midpoint"` their mean, and
 * `"nearest"` the nearer one (`lo` when halfway, as JAX).
 */
export type QuantileMethod = "linear" | "lower" | "higher" | "midpoint" | "nearest"

export const quantileMethods: ReadonlyArray<QuantileMethod> = ["linear", "lower", "higher", "midpoint", "nearest"]

export interface QuantileOptions extends ReduceOptions {
  readonly method?: QuantileMethod | undefined
}

/**
 * The checked arguments of a quantile and the rows it reads: `x` (as float32) transposed and
 * reshaped so that the reduced axes form the last one, sorted along it (NaNs last). Shared by
 * `quantile` and the NaN-ignoring `nanquantile`.
 */
export interface QuantileRows {
  readonly method: QuantileMethod
  /** The `q`s in `[0, 1]`. */
  readonly qs: ReadonlyArray<number>
  readonly flat: JArray
  readonly sorted: JArray
  /** The shape of the axes kept, and the length of the last axis. */
  readonly kept: ReadonlyArray<number>
  readonly n: number
  /** The shape of one quantile's result (with `keepdims`, the reduced axes as 1s). */
  readonly outShape: ReadonlyArray<number>
}

/** See {@link QuantileRows}; `q` is in `[0, 1]` (a percentile divides it first). */
export const quantileRows = (
  op: string,
  x: ArrayLike,
  q: number | ReadonlyArray<number>,
  axis: Axis,
  options: QuantileOptions | undefined
): QuantileRows => {
  checkOptionKeys(op, options, op.endsWith("median") ? ["keepdims"] : ["keepdims", "method"])
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
      reason: op.endsWith("percentile") ? `q must be in [0, 100], got ${bad * 100}` : `q must be in [0, 1], got ${bad}`
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
  const outShape = options?.keepdims === true ? a.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept
  return { method, qs, flat, sorted, kept, n, outShape }
}

/**
 * A quantile between the sorted neighbours `low()` and `high()` (read only where the method needs
 * them), `hw` the weight of `high` and `nearLow` whether `low` is the nearer, as `method` says.
 */
export const interpolate = (
  method: QuantileMethod,
  low: () => JArray,
  high: () => JArray,
  hw: JArray | number,
  nearLow: JArray | boolean
): JArray => {
  switch (method) {
    case "lower":
      return low()
    case "higher":
      return high()
    case "midpoint":
      return multiply(add(low(), high()), 0.5)
    case "nearest":
      return typeof nearLow === "boolean" ? (nearLow ? low() : high()) : where(nearLow, low(), high())
    default:
      return add(multiply(low(), typeof hw === "number" ? Math.fround(1 - hw) : subtract(1, hw)), multiply(high(), hw))
  }
}

/** One quantile's result for a number `q`, the results stacked on a leading axis for a list. */
export const stackQuantiles = (
  q: number | ReadonlyArray<number>,
  results: ReadonlyArray<JArray>,
  outShape: ReadonlyArray<number>
): JArray =>
  typeof q === "number"
    ? results[0]!
    : reshape(
        bind1(
          "concatenate",
          results.map((r) => reshape(r, [1, ...outShape])),
          { dimension: 0 }
        ),
        [results.length, ...outShape]
      )
