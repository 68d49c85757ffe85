/**
 * Random permutations, by sorting on random keys as `jax.random.permutation` does.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError, DTypeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { normalizeAxis } from "../shape.ts"
import { randomBits } from "./bits.ts"
import { checkKey, splitTwo } from "./keys.ts"

/**
 * Shuffles `x` along `axis` by sorting it on fresh random 32-bit keys, repeated enough times
 * (JAX's heuristic: ⌈3 ln(size) / ln(2^32 - 1)⌉ rounds) that ties between keys are negligible.
 */
const shuffle = (key: Array, x: Array, axis: number): Array => {
  const rounds = Math.ceil((3 * Math.log(Math.max(1, x.size))) / Math.log(0xffffffff))
  let k = key
  let out = x
  for (let r = 0; r < rounds; r++) {
    const [next, sub] = splitTwo(k)
    k = next
    out = lax.sortKeyVal(randomBits(sub, x.shape), out, axis)[1]
  }
  return out
}

/** `x` indexed by the int32 vector `indices` along `axis` (NumPy's `take`). */
const take = (x: Array, indices: Array, axis: number): Array => {
  const n = indices.shape[0]!
  const gathered = lax.gather(x, lax.reshape(indices, [n, 1]), { indexedAxes: [axis], batchDims: 0, mode: "clip" })
  if (axis === 0) return gathered
  // The gathered axis comes first; move it back to `axis`.
  const perm = x.shape.map((_, j) => (j < axis ? j + 1 : j === axis ? 0 : j))
  return lax.transpose(gathered, perm)
}

/**
 * Options of {@link permutation}.
 * @category models
 * @since 0.1.0
 */
export interface PermutationOptions {
  /** The axis to shuffle along (default 0). */
  readonly axis?: number | undefined
  /** Shuffle each slice along `axis` independently (default `false`: one permutation for all). */
  readonly independent?: boolean | undefined
}

/**
 * A random permutation, like `jax.random.permutation`: of `0, ..., x - 1` when `x` is an integer,
 * otherwise of the slices of `x` along `axis` (or, with `independent`, of the elements of each
 * vector along `axis` separately).
 *
 * @example
 * ```ts
 * import { jnp, random } from "effect-nnx"
 *
 * random.permutation(random.key(0), 5).shape // [5]
 * const rows = random.permutation(random.key(1), jnp.arange(6).reshape(3, 2))
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const permutation = (key: Array, x: number | Array, options?: PermutationOptions): Array => {
  const op = "random.permutation"
  const k = checkKey(op, key)
  const axis = options?.axis ?? 0
  const range = (n: number): Array => {
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** 31) {
      throw new ArgumentError({
        op,
        reason: `x must be a non-negative integer or an array of at least one dimension, got ${n}`
      })
    }
    normalizeAxis(op, axis, 1)
    return shuffle(k, lax.iota("int32", [n]), 0)
  }
  if (typeof x === "number") return range(x)
  if (!isArray(x)) throw new ArgumentError({ op, reason: "x must be an integer or an Array" })
  if (x.ndim === 0) {
    if (x.dtype !== "int32" && x.dtype !== "uint32") {
      throw new DTypeError({ op, dtypes: [x.dtype], reason: "x must be an integer or at least 1-dimensional" })
    }
    return range(Number(x.item()))
  }
  const ax = normalizeAxis(op, axis, x.ndim)
  if (options?.independent === true || x.ndim === 1) return shuffle(k, x, ax)
  return take(x, shuffle(k, lax.iota("int32", [x.shape[ax]!]), 0), ax)
}
