/**
 * Indices of non-zero elements: `nonzero`, `argwhere`, `flatnonzero`. Their output length depends
 * on the data, so inside `jit`, `vmap` or `grad` a static `size` is required (as in JAX): the result
 * is cut or padded to `size` entries, padding with `fillValue` (0 by default). Eagerly, `size` may be
 * omitted and is the number of non-zero elements.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import { ArgumentError, ConcretizationError, DTypeError } from "../ArrayError.ts"
import { arange, asArray, fromScalar, zeros } from "./creation.ts"
import { convertTo, floorDivide, greaterEqual, lessEqual, notEqual, remainder, where } from "./elementwise.ts"
import { cumsum, sum } from "./reductions.ts"
import { reshape, stack } from "./shapeOps.ts"

/** `size`: the static output length; `fillValue`: the padding, one number or one per dimension. */
export interface NonzeroOptions {
  readonly size?: number | undefined
  readonly fillValue?: number | ReadonlyArray<number> | undefined
}

const nonzeroImpl = (op: string, a: JArray, options: NonzeroOptions | undefined): Array<JArray> => {
  checkOptionKeys(op, options, ["size", "fillValue"])
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "PRNG key arrays have no non-zero test" })
  if (a.ndim === 0) throw new ArgumentError({ op, reason: "not defined on 0-d arrays; use jnp.atLeast1d(x) first" })
  const mask = reshape(a.dtype === "bool" ? a : notEqual(a, 0), [-1])
  const total = sum(mask)
  let size = options?.size
  if (size === undefined) {
    if (a.tracer !== undefined) {
      throw new ConcretizationError({
        op,
        reason: `the number of non-zero elements is data-dependent, and this Array is traced by ${a.tracer.trace.name}; pass a static size, e.g. jnp.${op}(x, { size: 10, fillValue: 0 }), to get that many indices (padded with fillValue)`
      })
    }
    size = Number(total.item())
  }
  if (!Number.isInteger(size) || size < 0)
    throw new ArgumentError({ op, reason: `size must be a non-negative integer, got ${size}` })
  const fill = options?.fillValue
  const fills = fill === undefined ? undefined : typeof fill === "number" ? a.shape.map(() => fill) : fill
  if (fills !== undefined && (fills.length !== a.ndim || fills.some((v) => !Number.isInteger(v)))) {
    throw new ArgumentError({
      op,
      reason: `fillValue must be an integer or a list of ${a.ndim} integers, one per dimension`
    })
  }
  if (a.size === 0 || size === 0) return a.shape.map(() => zeros([size], { dtype: "int32" }))
  // The j-th index is how many inclusive running counts are <= j; past the count this is a.size,
  // which the modulo below wraps to coordinate 0 (JAX's padding when fillValue is omitted).
  const counts = cumsum(convertTo(mask, "int32"))
  const slots = arange(size)
  const flat = sum(lessEqual(reshape(counts, [1, -1]), reshape(slots, [-1, 1])), 1)
  const past = greaterEqual(slots, total)
  let stride = a.size
  return a.shape.map((d, i) => {
    stride /= d
    const coord = remainder(floorDivide(flat, stride), d)
    return fills === undefined ? coord : where(past, fromScalar(fills[i]!, "int32"), coord)
  })
}

/** One int32 index array per dimension, listing where `x` is non-zero (row-major order). */
export const nonzero = (x: ArrayLike, options?: NonzeroOptions): Array<JArray> =>
  nonzeroImpl("nonzero", asArray(x), options)

/** Indices of the non-zero elements of the flattened `x`. */
export const flatnonzero = (x: ArrayLike, options?: NonzeroOptions): JArray =>
  nonzeroImpl("flatnonzero", reshape(asArray(x), [-1]), options)[0]!

/** The indices of non-zero elements as rows: shape `[size, x.ndim]`. */
export const argwhere = (x: ArrayLike, options?: NonzeroOptions): JArray => {
  const a = asArray(x)
  if (a.ndim === 0) {
    const [idx] = nonzeroImpl("argwhere", reshape(a, [1]), options)
    return zeros([idx!.shape[0]!, 0], { dtype: "int32" })
  }
  const coords = nonzeroImpl("argwhere", a, options)
  return coords.length === 1 ? reshape(coords[0]!, [-1, 1]) : stack(coords, 1)
}
