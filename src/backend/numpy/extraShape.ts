/**
 * Shape-level NumPy functions composed from slices, concatenation and masks: `roll`, `diag`,
 * `diagonal`, `trace`, `tril`, `triu`, `meshgrid`. Shifts, offsets and axes are static (JavaScript
 * numbers), as JAX requires of them under `jit`.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { checkOptionKeys } from "./options.ts"
import { ArgumentError, AxisError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { normalizeAxis } from "../shape.ts"
import { asArray, fromHost, fromScalar } from "./creation.ts"
import { where } from "./elementwise.ts"
import { sum } from "./reductions.ts"
import { broadcastTo, concatenate, pad, reshape, transpose } from "./shapeOps.ts"

const checkInt = (op: string, name: string, v: number): void => {
  if (!Number.isInteger(v)) throw new ArgumentError({ op, reason: `${name} must be an integer, got ${v}` })
}

const sliceAxis = (a: JArray, ax: number, lo: number, hi: number): JArray =>
  bind1("slice", [a], {
    startIndices: a.shape.map((_, k) => (k === ax ? lo : 0)),
    limitIndices: a.shape.map((d, k) => (k === ax ? hi : d)),
    strides: a.shape.map(() => 1)
  })

/**
 * Rolls elements along `axis` by `shift` (wrapping around). Without `axis` the array is flattened,
 * rolled and reshaped back. `shift` and `axis` may be lists, broadcast against each other; shifts on
 * the same axis add up.
 */
export const roll = (
  x: ArrayLike,
  shift: number | ReadonlyArray<number>,
  axis?: number | ReadonlyArray<number> | null
): JArray => {
  const a = asArray(x)
  if (axis === undefined || axis === null) return reshape(roll(reshape(a, [-1]), shift, 0), a.shape)
  const shifts = typeof shift === "number" ? [shift] : shift
  const axes = typeof axis === "number" ? [axis] : axis
  if (shifts.length !== axes.length && shifts.length !== 1 && axes.length !== 1) {
    throw new ArgumentError({
      op: "roll",
      reason: `shift (${shifts.length} values) and axis (${axes.length} values) must have the same length, or one of them a single value`
    })
  }
  const n = Math.max(shifts.length, axes.length)
  const total = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const s = shifts[shifts.length === 1 ? 0 : i]!
    checkInt("roll", "shift", s)
    const ax = normalizeAxis("roll", axes[axes.length === 1 ? 0 : i]!, a.ndim)
    total.set(ax, (total.get(ax) ?? 0) + s)
  }
  let out = a
  for (const [ax, s] of total) {
    const d = a.shape[ax]!
    if (d === 0) continue
    const k = ((s % d) + d) % d
    if (k === 0) continue
    out = concatenate([sliceAxis(out, ax, d - k, d), sliceAxis(out, ax, 0, d - k)], ax)
  }
  return out
}

/**
 * The `offset`-th diagonal of the planes spanned by `axis1` and `axis2`, as a new last axis. Uses a
 * strided slice of the flattened plane, so NaNs and infinities off the diagonal do not leak in.
 */
export const diagonal = (x: ArrayLike, offset = 0, axis1 = 0, axis2 = 1): JArray => {
  const a = asArray(x)
  checkInt("diagonal", "offset", offset)
  if (a.ndim < 2)
    throw new ShapeError({ op: "diagonal", shapes: [a.shape], reason: "needs an array of at least 2 dimensions" })
  const i = normalizeAxis("diagonal", axis1, a.ndim)
  const j = normalizeAxis("diagonal", axis2, a.ndim)
  if (i === j)
    throw new AxisError({
      op: "diagonal",
      axis: [axis1, axis2],
      ndim: a.ndim,
      reason: "axis1 and axis2 must be different axes"
    })
  const rest = a.shape.map((_, k) => k).filter((k) => k !== i && k !== j)
  const t = transpose(a, [...rest, i, j])
  const rows = a.shape[i]!
  const cols = a.shape[j]!
  const len = Math.max(0, offset >= 0 ? Math.min(rows, cols - offset) : Math.min(rows + offset, cols))
  const batch = rest.map((k) => a.shape[k]!)
  const flat = reshape(t, [...batch, rows * cols])
  const start = len === 0 ? 0 : offset >= 0 ? offset : -offset * cols
  const limit = len === 0 ? 0 : start + (len - 1) * (cols + 1) + 1
  return bind1("slice", [flat], {
    startIndices: [...batch.map(() => 0), start],
    limitIndices: [...batch, limit],
    strides: [...batch.map(() => 1), cols + 1]
  })
}

/** Sum along a diagonal (`diagonal` then `sum`; booleans and integers sum to int32). */
export const trace = (x: ArrayLike, offset = 0, axis1 = 0, axis2 = 1): JArray =>
  sum(diagonal(x, offset, axis1, axis2), -1)

/** A static `rows`×`cols` boolean mask: `j - i <= k` (lower) or `j - i >= k` (upper). */
const triMask = (rows: number, cols: number, k: number, lower: boolean): JArray => {
  const data = new Uint8Array(rows * cols)
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) data[r * cols + c] = (lower ? c - r <= k : c - r >= k) ? 1 : 0
  return fromHost(data, [rows, cols], "bool")
}

const triangle =
  (op: string, lower: boolean) =>
  (x: ArrayLike, k = 0): JArray => {
    const a = asArray(x)
    checkInt(op, "k", k)
    if (a.ndim < 2) throw new ShapeError({ op, shapes: [a.shape], reason: "needs an array of at least 2 dimensions" })
    if (a.dtype === "key<fry>") throw new ArgumentError({ op, reason: "PRNG key arrays cannot be masked" })
    const mask = triMask(a.shape[a.ndim - 2]!, a.shape[a.ndim - 1]!, k, lower)
    return where(mask, a, fromScalar(a.dtype === "bool" ? false : 0, a.dtype, a.weakType))
  }

/** The lower triangle of the last two axes (`j - i <= k`); the rest is zero. */
export const tril = triangle("tril", true)
/** The upper triangle of the last two axes (`j - i >= k`); the rest is zero. */
export const triu = triangle("triu", false)

/**
 * From a 1-d array, the square matrix with it on the `k`-th diagonal; from a 2-d array, its `k`-th
 * diagonal.
 */
export const diag = (v: ArrayLike, k = 0): JArray => {
  const a = asArray(v)
  checkInt("diag", "k", k)
  if (a.ndim === 2) return diagonal(a, k)
  if (a.ndim !== 1) throw new ShapeError({ op: "diag", shapes: [a.shape], reason: "expects a 1-d or a 2-d array" })
  if (a.dtype === "key<fry>")
    throw new ArgumentError({ op: "diag", reason: "PRNG key arrays cannot be placed on a diagonal" })
  const n = a.shape[0]! + Math.abs(k)
  // Row i of the result holds u[i] at column i + k.
  const u = Math.abs(k) === 0 ? a : pad(a, [[Math.max(0, -k), Math.max(0, k)]])
  const rows = broadcastTo(reshape(u, [n, 1]), [n, n])
  const mask = triMask(n, n, k, true).and(triMask(n, n, k, false))
  return where(mask, rows, fromScalar(a.dtype === "bool" ? false : 0, a.dtype, a.weakType))
}

/**
 * Coordinate grids from 1-d arrays. `indexing: "xy"` (the default, Cartesian) swaps the first two
 * output axes relative to `"ij"` (matrix indexing).
 */
export const meshgrid = (
  xs: ReadonlyArray<ArrayLike>,
  options?: { readonly indexing?: "xy" | "ij" }
): Array<JArray> => {
  checkOptionKeys("meshgrid", options, ["indexing"])
  const indexing = options?.indexing ?? "xy"
  if (indexing !== "xy" && indexing !== "ij")
    throw new ArgumentError({
      op: "meshgrid",
      reason: `indexing must be "xy" or "ij", got ${JSON.stringify(indexing)}`
    })
  const arrays = xs.map((x) => asArray(x))
  const bad = arrays.find((a) => a.ndim !== 1)
  if (bad !== undefined)
    throw new ShapeError({ op: "meshgrid", shapes: arrays.map((a) => a.shape), reason: "every input must be 1-d" })
  const sizes = arrays.map((a) => a.shape[0]!)
  const swap = indexing === "xy" && arrays.length >= 2
  const shape = swap ? [sizes[1]!, sizes[0]!, ...sizes.slice(2)] : sizes
  return arrays.map((a, i) => {
    const dim = swap && i < 2 ? 1 - i : i
    return bind1("broadcast_in_dim", [a], { shape, broadcastDimensions: [dim] })
  })
}

/**
 * The slices of `x` along `axis`, as a JavaScript array (JAX's `jnp.unstack`). It is how a
 * TypeScript program destructures what Python unpacks by iterating an array:
 * `const [key, sub] = jnp.unstack(random.split(key))`.
 * @category shape
 * @since 0.2.0
 */
export const unstack = (x: ArrayLike, axis = 0): Array<JArray> => {
  const a = asArray(x)
  if (a.ndim === 0)
    throw new ShapeError({
      op: "unstack",
      shapes: [a.shape],
      reason: "a 0-d array has no axis to unstack along (read it with item())"
    })
  const ax = normalizeAxis("unstack", axis, a.ndim)
  const moved = ax === 0 ? a : transpose(a, [ax, ...a.shape.map((_, i) => i).filter((i) => i !== ax)])
  return Array.from({ length: a.shape[ax]! }, (_, i) => moved.get(i))
}
