/**
 * `lax.associativeScan` and `devicePut`.
 *
 * The scan doubles its stride each round (Hillis and Steele): after round k every position holds the
 * combination of the 2^k elements ending at it, so `fn` runs ceil(log2 n) times on whole arrays
 * instead of n times on slices; `fn` must therefore work elementwise on stacked values, as JAX asks.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { ArgumentError } from "../../backend/ArrayError.ts"
import { getItem } from "../../backend/numpy/indexing.ts"
import { concatenate, flip, moveaxis } from "../../backend/numpy/shapeOps.ts"
import { flatten, treeMap, unflatten } from "./pytree.ts"

/** Options of {@link associativeScan}. */
export interface AssociativeScanOptions {
  /** Scan from the end: position i combines elements i..n-1. */
  readonly reverse?: boolean | undefined
  /** The axis scanned; default 0. */
  readonly axis?: number | undefined
}

/**
 * The inclusive prefix combination of `elems` (a pytree of arrays of the same length along `axis`)
 * under the associative `fn`, like `jax.lax.associative_scan`: position i holds
 * `fn(...fn(fn(e0, e1), e2)..., ei)`. `fn(a, b)` receives the earlier elements as `a` (with `reverse`,
 * the scan runs over the reversed elements, so `a` holds the later ones).
 *
 * @example
 * ```ts
 * import { jnp, lax } from "effect-nnx"
 *
 * lax.associativeScan(jnp.add, jnp.arange(5)) // [0, 1, 3, 6, 10]
 * ```
 * @category control flow
 * @since 0.1.0
 */
export const associativeScan = <T>(fn: (a: T, b: T) => T, elems: T, options?: AssociativeScanOptions): T => {
  const [leaves, def] = flatten(elems)
  if (leaves.length === 0 || leaves.some((l) => !isArray(l) || l.ndim === 0)) {
    throw new ArgumentError({ op: "associativeScan", reason: "elems must be a pytree of Arrays of rank at least 1" })
  }
  const arrays = leaves as Array<JArray>
  const axis = options?.axis ?? 0
  const rank = arrays[0]!.ndim
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank)
    throw new ArgumentError({ op: "associativeScan", reason: `axis ${axis} is out of range for rank ${rank}` })
  const ax = axis < 0 ? axis + rank : axis
  const n = arrays[0]!.shape[ax]!
  if (arrays.some((a) => a.shape[ax] !== n))
    throw new ArgumentError({
      op: "associativeScan",
      reason: `every array of elems must have the same length along axis ${ax}`
    })
  const reverse = options?.reverse ?? false
  let cur = arrays.map((a) => {
    const front = moveaxis(a, ax, 0)
    return reverse ? flip(front, 0) : front
  })
  const rows = (xs: ReadonlyArray<JArray>, start: number, stop: number) => xs.map((x) => getItem(x, [{ start, stop }]))
  const call = (a: ReadonlyArray<JArray>, b: ReadonlyArray<JArray>): Array<JArray> => {
    // Reversed, the scan runs over the flipped elements with fn's arguments in the same order, as JAX does.
    const out = fn(unflatten(def, a) as T, unflatten(def, b) as T)
    return flatten(out)[0] as Array<JArray>
  }
  for (let stride = 1; stride < n; stride *= 2) {
    const combined = call(rows(cur, 0, n - stride), rows(cur, stride, n))
    cur = cur.map((c, k) => concatenate([getItem(c, [{ stop: stride }]), combined[k]!], 0))
  }
  return unflatten(
    def,
    cur.map((c) => moveaxis(reverse ? flip(c, 0) : c, 0, ax))
  ) as T
}

/**
 * Places `x` (a pytree) on a device, like `jax.device_put`. effect-nnx runs on one device (the
 * current backend), where arrays already live, so this returns `x` unchanged; it exists so code
 * written for JAX runs as it is.
 * @category transforms
 * @since 0.1.0
 */
export const devicePut = <T>(x: T): T => treeMap((leaf) => leaf, x) as T
