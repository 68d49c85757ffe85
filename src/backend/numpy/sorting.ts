/** Sorting: `sort` and `argsort` (stable; NaNs last). */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { DTypeError } from "../ArrayError.ts"
import { bind, bind1 } from "../bind.ts"
import { normalizeAxis } from "../shape.ts"
import { asArray } from "./creation.ts"
import { reshape } from "./shapeOps.ts"

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

export const sort = (x: ArrayLike, axis: number | null = -1): JArray => {
  const [a, ax] = prepare("sort", x, axis)
  if (a.dtype === "complex64") {
    // Lexicographic, as JAX: the real parts, then the imaginary parts, as two keys permuted alike.
    const [re, im] = bind("sort", [bind1("real", [a], {}), bind1("imag", [a], {})], { dimension: ax, numKeys: 2 })
    return bind1("complex", [re!, im!], {})
  }
  return bind("sort", [a], { dimension: ax, numKeys: 1 })[0]!
}

/** Indices that sort `x` along `axis` (stable). */
export const argsort = (x: ArrayLike, axis: number | null = -1): JArray => {
  const [a, ax] = prepare("argsort", x, axis)
  const iota = bind("iota", [], { dtype: "int32", shape: a.shape, dimension: ax })[0]!
  if (a.dtype === "complex64") {
    return bind("sort", [bind1("real", [a], {}), bind1("imag", [a], {}), iota], { dimension: ax, numKeys: 2 })[2]!
  }
  return bind("sort", [a, iota], { dimension: ax, numKeys: 1 })[1]!
}
