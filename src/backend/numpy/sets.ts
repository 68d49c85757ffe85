/**
 * Set operations on arrays: `isin`, `setdiff1d`, `union1d`, `intersect1d`. `isin` compares every
 * element with every test element at once (an `[..., n]` mask reduced over its last axis), so its
 * shape never depends on the data. The other three return sorted distinct values, whose number
 * depends on the data: as with `unique`, inside `jit`, `vmap` and `grad` they need a static `size`
 * (the result is cut to it, or padded with `fillValue`), and without one there a
 * `ConcretizationError` says so.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, ConcretizationError, DTypeError } from "../ArrayError.ts"
import type { NumericDType } from "../DType.ts"
import { arange, asArray, fromHost, fromScalar } from "./creation.ts"
import { convertTo, equal, greater, less, logicalAnd, logicalNot, notEqual, promote, where } from "./elementwise.ts"
import { nonzero } from "./extraSearch.ts"
import { getItem, take } from "./indexing.ts"
import { checkOptionKeys } from "./options.ts"
import { any, sum } from "./reductions.ts"
import { broadcastTo, concatenate, expandDims, ravel } from "./shapeOps.ts"
import { sort } from "./sorting.ts"

/** Options of {@link isin}. */
export interface IsinOptions {
  /** Return the opposite: `true` where the element is not among the test elements. */
  readonly invert?: boolean | undefined
}

const noKeys = (op: string, ...xs: ReadonlyArray<JArray>): void => {
  const key = xs.find((a) => a.dtype === "key<fry>")
  if (key !== undefined)
    throw new DTypeError({ op, dtypes: [key.dtype], reason: "PRNG key arrays have no set operations" })
}

/**
 * Whether each element of `element` is among `testElements` (any shape, flattened), as a boolean
 * array of `element`'s shape, like `jnp.isin`; `invert` gives the opposite. Values compare after
 * promotion (`1` is in `[1.0]`); NaN is in nothing.
 * @category sets
 * @since 0.2.0
 */
export const isin = (element: ArrayLike, testElements: ArrayLike, options?: IsinOptions): JArray => {
  checkOptionKeys("isin", options, ["invert"])
  const e = asArray(element)
  const t = asArray(testElements)
  noKeys("isin", e, t)
  const found = any(equal(expandDims(e, -1), ravel(t)), -1)
  return options?.invert === true ? logicalNot(found) : found
}

/** Options of {@link setdiff1d}, {@link union1d} and {@link intersect1d}. */
export interface SetOptions {
  /** The static number of values returned: required inside `jit`, `vmap` and `grad`. */
  readonly size?: number | undefined
  /** What pads the result past the values found; each function documents its default. */
  readonly fillValue?: number | undefined
}

const checkSetOptions = (op: string, options: SetOptions | undefined): number | undefined => {
  checkOptionKeys(op, options, ["size", "fillValue"])
  const size = options?.size
  if (size !== undefined && (typeof size !== "number" || !Number.isInteger(size) || size < 0))
    throw new ArgumentError({ op, reason: `size must be a non-negative integer, got ${String(size)}` })
  const fill = options?.fillValue
  if (fill !== undefined && typeof fill !== "number")
    throw new ArgumentError({ op, reason: `fillValue must be a number, got ${JSON.stringify(fill)}` })
  return size
}

const requireSize = (op: string, size: number | undefined, xs: ReadonlyArray<JArray>): void => {
  if (size !== undefined) return
  const traced = xs.find((a) => a.tracer !== undefined)
  if (traced?.tracer !== undefined)
    throw new ConcretizationError({
      op,
      reason: `the number of values depends on the data, and this Array is traced by ${traced.tracer.trace.name}; pass a static size, e.g. jnp.${op}(a, b, { size: 10 })`
    })
}

/** Of the sorted `s` (non-empty), where each run of equal values starts. */
const firsts = (s: JArray): JArray =>
  concatenate([
    fromHost(Uint8Array.of(1), [1], "bool"),
    notEqual(getItem(s, [{ start: 1 }]), getItem(s, [{ stop: -1 }]))
  ])

/**
 * The entries of the sorted `s` where `keep` holds, in order: all of them, or with `size` exactly
 * that many, padded past the count with `fill(values, count)`.
 */
const pick = (
  s: JArray,
  keep: JArray,
  size: number | undefined,
  fill: (values: JArray, count: JArray) => JArray | undefined
): JArray => {
  const [idx] = nonzero(keep, size === undefined ? undefined : { size })
  const values = take(s, idx!)
  if (size === undefined || size === 0) return values
  const count = sum(convertTo(keep, "int32"))
  const pad = fill(values, count)
  return pad === undefined ? values : where(less(arange(size), count), values, pad)
}

/** `value` as a 0-d array of `dtype` (set operations refuse PRNG keys before this is reached). */
const fillOf = (value: number, dtype: JArray["dtype"]): JArray => fromScalar(value, dtype as NumericDType)

/**
 * The sorted distinct values of `ar1` (flattened) that are not in `ar2`, in `ar1`'s dtype, like
 * `jnp.setdiff1d`. With `size` the result has exactly that many entries: cut, or padded with
 * `fillValue` (default 0, as in JAX).
 * @category sets
 * @since 0.2.0
 */
export const setdiff1d = (ar1: ArrayLike, ar2: ArrayLike, options?: SetOptions): JArray => {
  const size = checkSetOptions("setdiff1d", options)
  const a = ravel(asArray(ar1))
  const b = ravel(asArray(ar2))
  noKeys("setdiff1d", a, b)
  requireSize("setdiff1d", size, [a, b])
  const fill = fillOf(options?.fillValue ?? 0, a.dtype)
  if (a.size === 0) return broadcastTo(fill, [size ?? 0])
  const s = sort(a)
  const keep = logicalAnd(firsts(s), isin(s, b, { invert: true }))
  return pick(s, keep, size, () => fill)
}

/**
 * The sorted distinct values found in either array (both flattened, dtypes promoted), like
 * `jnp.union1d`. With `size` the result has exactly that many entries: cut, or padded with
 * `fillValue` (default the smallest value, as `unique` pads). Two empty arrays with a `size` need a
 * `fillValue` (an `ArgumentError` otherwise, as JAX's ValueError).
 * @category sets
 * @since 0.2.0
 */
export const union1d = (ar1: ArrayLike, ar2: ArrayLike, options?: SetOptions): JArray => {
  const size = checkSetOptions("union1d", options)
  const all = concatenate([ravel(asArray(ar1)), ravel(asArray(ar2))], 0)
  noKeys("union1d", all)
  requireSize("union1d", size, [all])
  if (all.size === 0) {
    if (size === undefined || size === 0) return all
    if (options?.fillValue === undefined)
      throw new ArgumentError({
        op: "union1d",
        reason: `both arrays are empty, so size ${size} needs a fillValue to pad with`
      })
    return broadcastTo(fillOf(options.fillValue, all.dtype), [size])
  }
  const s = sort(all)
  const fill = options?.fillValue
  return pick(s, firsts(s), size, () => (fill === undefined ? undefined : fillOf(fill, s.dtype)))
}

/**
 * The sorted distinct values found in both arrays (both flattened, dtypes promoted), like
 * `jnp.intersect1d`. With `size` the result has exactly that many entries: cut, or padded with
 * `fillValue` (default, as in JAX, the smallest common value, or 0 when there is none).
 * @category sets
 * @since 0.2.0
 */
export const intersect1d = (ar1: ArrayLike, ar2: ArrayLike, options?: SetOptions): JArray => {
  const size = checkSetOptions("intersect1d", options)
  const [p, q] = promote("intersect1d", [ar1, ar2]) as [JArray, JArray]
  const a = ravel(p)
  const b = ravel(q)
  noKeys("intersect1d", a, b)
  requireSize("intersect1d", size, [a, b])
  const fill = options?.fillValue
  const zero = fillOf(fill ?? 0, a.dtype)
  if (a.size === 0 || b.size === 0) return broadcastTo(zero, [size ?? 0])
  const s = sort(a)
  const keep = logicalAnd(firsts(s), isin(s, b))
  return pick(s, keep, size, (values, count) =>
    fill === undefined ? where(greater(count, 0), getItem(values, [0]), zero) : zero
  )
}
