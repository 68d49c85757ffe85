/** NumPy shape manipulation: reshape, transpose, stacking, splitting, broadcasting. */
import { isArray } from "../Array.ts"
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, AxisError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { broadcastShapes, normalizeAxes, normalizeAxis, shapeEquals, sizeOf } from "../shape.ts"
import { arange, asArray, fromScalar } from "./creation.ts"
import { promote } from "./elementwise.ts"

/** Reshapes; one dimension may be `-1` and is inferred. */
export const reshape = (x: ArrayLike, shape: ReadonlyArray<number> | number): JArray => {
  const a = asArray(x)
  const s = typeof shape === "number" ? [shape] : shape
  const unknown = s.filter((d) => d === -1).length
  if (unknown > 1 || s.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError({
      op: "reshape",
      shapes: [a.shape, s],
      reason: "a new shape has non-negative integer sizes and at most one -1"
    })
  }
  let resolved = s
  if (unknown === 1) {
    const known = sizeOf(s.filter((d) => d !== -1))
    if (known === 0 || a.size % known !== 0) {
      throw new ShapeError({
        op: "reshape",
        shapes: [a.shape, s],
        reason: `cannot infer -1: ${a.size} elements do not divide into the known sizes`
      })
    }
    resolved = s.map((d) => (d === -1 ? a.size / known : d))
  }
  if (shapeEquals(resolved, a.shape)) return a
  return bind1("reshape", [a], { newSizes: resolved })
}

export const ravel = (x: ArrayLike): JArray => reshape(x, [-1])

/** Permutes axes (reverses them by default). */
export const transpose = (x: ArrayLike, axes?: ReadonlyArray<number>): JArray => {
  const a = asArray(x)
  const perm = axes === undefined ? a.shape.map((_, i) => a.ndim - 1 - i) : axes
  if (perm.length !== a.ndim)
    throw new AxisError({ op: "transpose", axis: perm, ndim: a.ndim, reason: "axes must list every axis once" })
  const p = normalizeAxes("transpose", perm, a.ndim)
  if (p.every((v, i) => v === i)) return a
  return bind1("transpose", [a], { permutation: p })
}

export const swapaxes = (x: ArrayLike, axis1: number, axis2: number): JArray => {
  const a = asArray(x)
  const i = normalizeAxis("swapaxes", axis1, a.ndim)
  const j = normalizeAxis("swapaxes", axis2, a.ndim)
  const perm = a.shape.map((_, k) => (k === i ? j : k === j ? i : k))
  return transpose(a, perm)
}

/**
 * Moves axes to new positions, the others keeping their order: one axis (`moveaxis(x, 0, -1)`), or
 * several (`moveaxis(x, [0, 1], [-1, 0])`: `source[i]` goes to `destination[i]`), as `jnp.moveaxis`.
 */
export const moveaxis = (
  x: ArrayLike,
  source: number | ReadonlyArray<number>,
  destination: number | ReadonlyArray<number>
): JArray => {
  const a = asArray(x)
  const list = (v: number | ReadonlyArray<number>): ReadonlyArray<number> => (typeof v === "number" ? [v] : v)
  const src = normalizeAxes("moveaxis", list(source), a.ndim)
  const dst = normalizeAxes("moveaxis", list(destination), a.ndim)
  if (src.length !== dst.length)
    throw new AxisError({
      op: "moveaxis",
      axis: list(destination),
      ndim: a.ndim,
      reason: `source names ${src.length} axes and destination ${dst.length}; they must name as many`
    })
  const perm = a.shape.map((_, k) => k).filter((k) => !src.includes(k))
  const moves = src.map((s, i) => [dst[i]!, s] as const).sort((p, q) => p[0] - q[0])
  for (const [d, s] of moves) perm.splice(d, 0, s)
  return transpose(a, perm)
}

/** Removes size-1 axes (all of them, or those named). */
export const squeeze = (x: ArrayLike, axis?: number | ReadonlyArray<number>): JArray => {
  const a = asArray(x)
  const axes =
    axis === undefined ? a.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : typeof axis === "number" ? [axis] : axis
  if (axes.length === 0) return a
  return bind1("squeeze", [a], { dimensions: normalizeAxes("squeeze", axes, a.ndim) })
}

/** Inserts size-1 axes at the given positions of the result. */
export const expandDims = (x: ArrayLike, axis: number | ReadonlyArray<number>): JArray => {
  const a = asArray(x)
  const axes = typeof axis === "number" ? [axis] : axis
  return bind1("expand_dims", [a], { dimensions: normalizeAxes("expand_dims", axes, a.ndim + axes.length) })
}

/** Broadcasts to `shape` with NumPy's rules. */
export const broadcastTo = (x: ArrayLike, shape: ReadonlyArray<number>): JArray => {
  const a = asArray(x)
  if (shapeEquals(a.shape, shape)) return a
  const out = broadcastShapes("broadcast_to", [a.shape, shape])
  if (!shapeEquals(out, shape)) {
    throw new ShapeError({
      op: "broadcast_to",
      shapes: [a.shape, shape],
      reason: "the array cannot be broadcast to the target shape"
    })
  }
  const off = shape.length - a.ndim
  return bind1("broadcast_in_dim", [a], { shape, broadcastDimensions: a.shape.map((_, i) => i + off) })
}

export const broadcastArrays = (...xs: ReadonlyArray<ArrayLike>): Array<JArray> => {
  const arrays = xs.map((x) => asArray(x))
  const shape = broadcastShapes(
    "broadcast_arrays",
    arrays.map((a) => a.shape)
  )
  return arrays.map((a) => broadcastTo(a, shape))
}

/** Joins arrays along an existing axis (promoting their dtypes); `axis: null` flattens first. */
export const concatenate = (xs: ReadonlyArray<ArrayLike>, axis: number | null = 0): JArray => {
  if (xs.length === 0) throw new ArgumentError({ op: "concatenate", reason: "needs at least one array" })
  let arrays = keyAware("concatenate", xs)
  if (axis === null) arrays = arrays.map((a) => reshape(a, [-1]))
  const first = arrays[0]!
  if (arrays.some((a) => a.ndim !== first.ndim)) {
    throw new ShapeError({
      op: "concatenate",
      shapes: arrays.map((a) => a.shape),
      reason: "arrays must have the same number of dimensions"
    })
  }
  if (first.ndim === 0)
    throw new ShapeError({
      op: "concatenate",
      shapes: arrays.map((a) => a.shape),
      reason: "zero-dimensional arrays cannot be concatenated; use stack"
    })
  const ax = normalizeAxis("concatenate", axis ?? 0, first.ndim)
  return arrays.length === 1 ? first : bind1("concatenate", arrays, { dimension: ax })
}

const keyAware = (op: string, xs: ReadonlyArray<ArrayLike>): Array<JArray> => {
  const arrays = xs.map((x) => asArray(x))
  if (arrays.every((a) => a.dtype === "key<fry>")) return arrays
  return promote(
    op,
    xs.map((x, i) => (isArray(x) ? arrays[i]! : x))
  )
}

/** Joins equally shaped arrays along a new axis. */
export const stack = (xs: ReadonlyArray<ArrayLike>, axis = 0): JArray => {
  if (xs.length === 0) throw new ArgumentError({ op: "stack", reason: "needs at least one array" })
  const arrays = keyAware("stack", xs)
  const first = arrays[0]!
  if (arrays.some((a) => !shapeEquals(a.shape, first.shape))) {
    throw new ShapeError({
      op: "stack",
      shapes: arrays.map((a) => a.shape),
      reason: "all arrays must have the same shape"
    })
  }
  const ax = normalizeAxis("stack", axis, first.ndim + 1)
  const expanded = arrays.map((a) => bind1("expand_dims", [a], { dimensions: [ax] }))
  return expanded.length === 1 ? expanded[0]! : bind1("concatenate", expanded, { dimension: ax })
}

export const vstack = (xs: ReadonlyArray<ArrayLike>): JArray =>
  concatenate(
    xs.map((x) => atLeast2d(x)),
    0
  )
export const hstack = (xs: ReadonlyArray<ArrayLike>): JArray => {
  const arrays = xs.map((x) => asArray(x))
  return concatenate(arrays, arrays[0] !== undefined && arrays[0].ndim === 1 ? 0 : 1)
}
export const atLeast1d = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return a.ndim >= 1 ? a : reshape(a, [1])
}
export const atLeast2d = (x: ArrayLike): JArray => {
  const a = asArray(x)
  return a.ndim >= 2 ? a : reshape(a, a.ndim === 1 ? [1, a.shape[0]!] : [1, 1])
}

/**
 * Splits along `axis` into `sections` equal parts, or at the given indices.
 */
export const split = (x: ArrayLike, indicesOrSections: number | ReadonlyArray<number>, axis = 0): Array<JArray> => {
  const a = asArray(x)
  const ax = normalizeAxis("split", axis, a.ndim)
  const n = a.shape[ax]!
  let cuts: Array<number>
  if (typeof indicesOrSections === "number") {
    if (!Number.isInteger(indicesOrSections) || indicesOrSections <= 0 || n % indicesOrSections !== 0) {
      throw new ArgumentError({
        op: "split",
        reason: `an axis of size ${n} does not split into ${indicesOrSections} equal sections`
      })
    }
    const step = n / indicesOrSections
    cuts = Array.from({ length: indicesOrSections - 1 }, (_, i) => (i + 1) * step)
  } else cuts = indicesOrSections.map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n))
  const bounds = [0, ...cuts, n]
  const out: Array<JArray> = []
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!
    const hi = Math.max(lo, bounds[i + 1]!)
    out.push(
      bind1("slice", [a], {
        startIndices: a.shape.map((_, k) => (k === ax ? lo : 0)),
        limitIndices: a.shape.map((d, k) => (k === ax ? hi : d)),
        strides: a.shape.map(() => 1)
      })
    )
  }
  return out
}

/** Reverses the order of elements along the given axes (all axes by default). */
export const flip = (x: ArrayLike, axis?: number | ReadonlyArray<number>): JArray => {
  const a = asArray(x)
  const axes = normalizeAxes(
    "flip",
    axis === undefined ? a.shape.map((_, i) => i) : typeof axis === "number" ? [axis] : axis,
    a.ndim
  )
  let out = a
  for (const ax of axes) {
    const n = a.shape[ax]!
    if (n <= 1) continue
    const idx = arange(n - 1, -1, -1)
    const moved = moveaxis(out, ax, 0)
    const g = bind1("gather", [moved, bind1("reshape", [idx], { newSizes: [n, 1] })], {
      indexedAxes: [0],
      batchDims: 0,
      mode: "clip"
    })
    out = moveaxis(g, 0, ax)
  }
  return out
}

/** Pads with a constant (`jnp.pad` in constant mode). `padWidth` is per axis `[before, after]`, or one pair or number for all. */
export const pad = (
  x: ArrayLike,
  padWidth: number | readonly [number, number] | ReadonlyArray<readonly [number, number]>,
  options?: { readonly constantValues?: number }
): JArray => {
  const a = asArray(x)
  const widths: ReadonlyArray<readonly [number, number]> =
    typeof padWidth === "number"
      ? a.shape.map(() => [padWidth, padWidth] as const)
      : typeof padWidth[0] === "number"
        ? a.shape.map(() => padWidth as readonly [number, number])
        : (padWidth as ReadonlyArray<readonly [number, number]>)
  if (
    widths.length !== a.ndim ||
    widths.some(([l, h]) => !Number.isInteger(l) || !Number.isInteger(h) || l < 0 || h < 0)
  ) {
    throw new ArgumentError({
      op: "pad",
      reason: `padWidth needs one non-negative [before, after] per axis (${a.ndim})`
    })
  }
  if (a.dtype === "key<fry>") throw new ArgumentError({ op: "pad", reason: "PRNG key arrays cannot be padded" })
  const value = fromScalar(options?.constantValues ?? 0, a.dtype)
  return bind1("pad", [a, value], { config: widths.map(([l, h]) => [l, h, 0] as const) })
}

/** Repeats the whole array `reps` times along each axis. */
export const tile = (x: ArrayLike, reps: number | ReadonlyArray<number>): JArray => {
  const a = asArray(x)
  const r = typeof reps === "number" ? [reps] : reps
  if (!Array.isArray(r) || r.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new ArgumentError({ op: "tile", reason: `reps must be non-negative integers, got ${JSON.stringify(reps)}` })
  }
  const nd = Math.max(a.ndim, r.length)
  const shape = [...new Array<number>(nd - a.ndim).fill(1), ...a.shape]
  const rr = [...new Array<number>(nd - r.length).fill(1), ...r]
  const expanded = reshape(
    a,
    shape.flatMap((d) => [1, d])
  )
  const b = broadcastTo(
    expanded,
    shape.flatMap((d, i) => [rr[i]!, d])
  )
  return reshape(
    b,
    shape.map((d, i) => d * rr[i]!)
  )
}

/** Repeats each element `repeats` times along `axis` (flattening when `axis` is omitted). */
export const repeat = (x: ArrayLike, repeats: number, axis?: number): JArray => {
  if (!Number.isInteger(repeats) || repeats < 0)
    throw new ArgumentError({ op: "repeat", reason: `repeats must be a non-negative integer, got ${repeats}` })
  let a = asArray(x)
  if (axis === undefined) {
    a = reshape(a, [-1])
    axis = 0
  }
  const ax = normalizeAxis("repeat", axis, a.ndim)
  const shape = a.shape.slice()
  const expanded = expandDims(a, ax + 1)
  const target = [...shape.slice(0, ax + 1), repeats, ...shape.slice(ax + 1)]
  const b = broadcastTo(expanded, target)
  shape[ax] = shape[ax]! * repeats
  return reshape(b, shape)
}
