/** Sorting: `sort` and `argsort` (stable; NaNs last). */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import { bind, bind1 } from "../bind.ts"
import { normalizeAxis } from "../shape.ts"
import { asArray, fromScalar } from "./creation.ts"
import { checkOptionKeys } from "./options.ts"
import { flip, reshape } from "./shapeOps.ts"

const prepare = (op: string, x: ArrayLike, axis: number | null): [JArray, number] => {
  let a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "PRNG key arrays cannot be sorted" })
  if (axis === null) {
    a = reshape(a, [-1])
    return [a, 0]
  }
  return [a, normalizeAxis(op, axis, a.ndim)]
}

/**
 * The options of `sort` and `argsort`, as JAX's keyword arguments: `descending` sorts from the
 * largest (NaNs first), and `stable` is accepted for NumPy's sake (the sort is always stable: equal
 * elements keep their order, also when descending).
 */
export interface SortOptions {
  readonly descending?: boolean | undefined
  readonly stable?: boolean | undefined
}

const descendingOf = (op: string, options: SortOptions | undefined): boolean => {
  checkOptionKeys(op, options, ["descending", "stable"])
  for (const key of ["descending", "stable"] as const) {
    const v = options?.[key]
    if (v !== undefined && typeof v !== "boolean")
      throw new ArgumentError({ op, reason: `${key} must be a boolean, got ${typeof v}` })
  }
  return options?.descending === true
}

const reverse = (a: JArray, ax: number): JArray => flip(a, ax)

/** `x` sorted along `axis` (the last by default; `null` flattens), NaNs last (first when descending). */
export const sort = (x: ArrayLike, axis: number | null = -1, options?: SortOptions): JArray => {
  const descending = descendingOf("sort", options)
  const [a, ax] = prepare("sort", x, axis)
  let out: JArray
  if (a.dtype === "complex64") {
    // Lexicographic, as JAX: the real parts, then the imaginary parts, as two keys permuted alike.
    const [re, im] = bind("sort", [bind1("real", [a], {}), bind1("imag", [a], {})], { dimension: ax, numKeys: 2 })
    out = bind1("complex", [re!, im!], {})
  } else out = bind("sort", [a], { dimension: ax, numKeys: 1 })[0]!
  return descending ? reverse(out, ax) : out
}

/**
 * Indices that sort `x` along `axis` (stable: equal elements keep their order, also when
 * descending, as JAX).
 */
export const argsort = (x: ArrayLike, axis: number | null = -1, options?: SortOptions): JArray => {
  const descending = descendingOf("argsort", options)
  const [operand, ax] = prepare("argsort", x, axis)
  // Descending and stable: sort the reversed array, then reverse the indices and count them from the end.
  const a = descending ? reverse(operand, ax) : operand
  const iota = bind("iota", [], { dtype: "int32", shape: a.shape, dimension: ax })[0]!
  const indices =
    a.dtype === "complex64"
      ? bind("sort", [bind1("real", [a], {}), bind1("imag", [a], {}), iota], { dimension: ax, numKeys: 2 })[2]!
      : bind("sort", [a, iota], { dimension: ax, numKeys: 1 })[1]!
  if (!descending) return indices
  const last = bind1("broadcast_in_dim", [fromScalar(a.shape[ax]! - 1, "int32")], {
    shape: a.shape,
    broadcastDimensions: []
  })
  return bind1("sub", [last, reverse(indices, ax)], {})
}
