/**
 * NumPy indexing (`x.get(...)`), functional index updates (`x.at(...).set(v)`), `take` and
 * `takeAlongAxis`. Static indices (numbers, slices) lower to one `slice`; Array indices (traced or
 * not, scalar or not) to one `gather`.
 */
import { isArray } from "../Array.ts"
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import type { IndexMode } from "../Primitive.ts"
import { broadcastShapes, normalizeAxis } from "../shape.ts"
import { asArray, fromHost, fromScalar } from "./creation.ts"
import { add as addOp, broadcastRanks, convertTo, lessEqual as leOp, maximum, minimum, multiply, promote, where } from "./elementwise.ts"
import { broadcastTo, expandDims, flip, moveaxis, reshape, stack, transpose } from "./shapeOps.ts"

/** A slice: `start:stop:step` with NumPy defaults. */
export interface Slice {
  readonly start?: number | null | undefined
  readonly stop?: number | null | undefined
  readonly step?: number | null | undefined
}

/**
 * One index position: a number, a slice (object or string like `":"`, `"1:"`, `"::2"`), `null` for
 * a new axis, `"..."` for the remaining axes, or an integer/boolean Array.
 */
export type Index = number | Slice | string | null | JArray

/** Parses `"start:stop:step"`. */
const parseSlice = (s: string): Slice => {
  const parts = s.split(":")
  if (parts.length < 2 || parts.length > 3) throw new ArgumentError({ op: "index", reason: `"${s}" is not a slice (write "start:stop:step" or "...")` })
  const num = (p: string | undefined): number | null => {
    if (p === undefined || p.trim() === "") return null
    const n = Number(p)
    if (!Number.isInteger(n)) throw new ArgumentError({ op: "index", reason: `"${s}" has a non-integer bound "${p}"` })
    return n
  }
  return { start: num(parts[0]), stop: num(parts[1]), step: num(parts[2]) }
}

/** Resolves a slice against a dimension like Python's `slice.indices`. */
const sliceIndices = (sl: Slice, n: number): { start: number; stop: number; step: number } => {
  const step = sl.step ?? 1
  if (step === 0) throw new ArgumentError({ op: "index", reason: "slice step cannot be zero" })
  const clampBound = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + n : v, lo), hi)
  if (step > 0) {
    return { start: sl.start == null ? 0 : clampBound(sl.start, 0, n), stop: sl.stop == null ? n : clampBound(sl.stop, 0, n), step }
  }
  return { start: sl.start == null ? n - 1 : clampBound(sl.start, -1, n - 1), stop: sl.stop == null ? -1 : clampBound(sl.stop, -1, n - 1), step }
}

type Parsed =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "slice"; readonly slice: Slice }
  | { readonly kind: "newaxis" }
  | { readonly kind: "array"; readonly array: JArray }

const parse = (x: JArray, index: ReadonlyArray<Index>): Array<Parsed> => {
  const items: Array<Parsed | "ellipsis"> = index.map((i): Parsed | "ellipsis" => {
    if (i === null) return { kind: "newaxis" }
    if (typeof i === "number") {
      if (!Number.isInteger(i)) throw new ArgumentError({ op: "index", reason: `index ${i} is not an integer` })
      return { kind: "int", value: i }
    }
    if (typeof i === "string") return i === "..." ? "ellipsis" : { kind: "slice", slice: parseSlice(i) }
    if (isArray(i)) {
      if (i.dtype === "bool") return { kind: "array", array: boolToIndices(i) }
      if (i.dtype !== "int32" && i.dtype !== "uint32") throw new DTypeError({ op: "index", dtypes: [i.dtype], reason: "array indices must be integers or booleans" })
      return { kind: "array", array: i }
    }
    if (typeof i === "object") return { kind: "slice", slice: i }
    throw new ArgumentError({ op: "index", reason: `unsupported index ${String(i)}` })
  })
  const ellipses = items.filter((i) => i === "ellipsis").length
  if (ellipses > 1) throw new ArgumentError({ op: "index", reason: "an index can only have a single ellipsis ('...')" })
  const consumed = items.reduce((n, i) => n + (i === "ellipsis" || i.kind === "newaxis" ? 0 : 1), 0)
  if (consumed > x.ndim) throw new ArgumentError({ op: "index", reason: `too many indices: array is ${x.ndim}-dimensional, but ${consumed} were indexed` })
  const fill: Array<Parsed> = Array.from({ length: x.ndim - consumed }, () => ({ kind: "slice", slice: {} }))
  const at = items.indexOf("ellipsis")
  const out = items.filter((i): i is Parsed => i !== "ellipsis")
  out.splice(at === -1 ? out.length : at, 0, ...fill)
  return out
}

/** A concrete boolean mask becomes the integer indices of its true elements (1-d masks only). */
const boolToIndices = (mask: JArray): JArray => {
  if (!mask.isConcrete) {
    throw new DTypeError({ op: "index", dtypes: ["bool"], reason: "boolean masks need concrete values (their result shape depends on the data); use jnp.where instead inside transforms" })
  }
  if (mask.ndim !== 1) throw new ShapeError({ op: "index", shapes: [mask.shape], reason: "only 1-d boolean masks are supported" })
  const data = mask.data()
  const idx: Array<number> = []
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) idx.push(i)
  return fromHost(Int32Array.from(idx), [idx.length], "int32")
}

/** `x[index]` with NumPy semantics. */
export const getItem = (x: JArray, index: ReadonlyArray<Index>): JArray => {
  const items = parse(x, index)
  const hasArrays = items.some((i) => i.kind === "array")
  // Basic indexing: slices and integers become one static slice (plus reshape and flips).
  let out = x
  const starts: Array<number> = [], limits: Array<number> = [], strides: Array<number> = []
  const flips: Array<number> = []
  const finalShape: Array<number | "drop"> = []
  const advanced: Array<{ axis: number; array: JArray }> = []
  let axis = 0
  let outAxis = 0
  for (const it of items) {
    if (it.kind === "newaxis") {
      finalShape.push(1)
      outAxis++
      continue
    }
    const n = x.shape[axis]!
    if (it.kind === "int" && !hasArrays) {
      const i = it.value < 0 ? it.value + n : it.value
      if (i < 0 || i >= n) throw new ArgumentError({ op: "index", reason: `index ${it.value} is out of bounds for axis ${axis} with size ${n}` })
      starts.push(i); limits.push(i + 1); strides.push(1)
      finalShape.push("drop")
    } else if (it.kind === "slice") {
      const { start, stop, step } = sliceIndices(it.slice, n)
      if (step > 0) {
        const len = Math.max(0, Math.ceil((stop - start) / step))
        starts.push(start); limits.push(len === 0 ? start : start + (len - 1) * step + 1); strides.push(step)
        finalShape.push(len)
      } else {
        const len = Math.max(0, Math.ceil((stop - start) / step))
        const lo = len === 0 ? 0 : start + (len - 1) * step
        starts.push(lo); limits.push(len === 0 ? 0 : start + 1); strides.push(-step)
        flips.push(axis)
        finalShape.push(len)
      }
    } else {
      const arr = it.kind === "int" ? fromScalar(it.value, "int32") : it.array
      advanced.push({ axis, array: arr })
      starts.push(0); limits.push(n); strides.push(1)
      finalShape.push(n)
    }
    axis++
    outAxis++
  }
  if (starts.some((s, i) => s !== 0 || limits[i] !== x.shape[i] || strides[i] !== 1)) {
    out = bind1("slice", [out], { startIndices: starts, limitIndices: limits, strides })
  }
  if (flips.length > 0) out = flip(out, flips)
  if (advanced.length > 0) out = gatherAdvanced(out, advanced)
  // Apply dropped integer axes and new axes.
  if (advanced.length === 0) {
    const shape = finalShape.filter((d): d is number => d !== "drop")
    if (shape.length !== out.ndim || shape.some((d, i) => d !== out.shape[i])) out = reshape(out, shape)
  } else {
    const newAxes = items.flatMap((it, i) => (it.kind === "newaxis" ? [i] : []))
    if (newAxes.length > 0) out = expandDims(out, newAxes.map((a) => Math.min(a, out.ndim + newAxes.length - 1)))
  }
  return out
}

/** Gathers integer-array indices on the given axes with NumPy's placement rule. */
const gatherAdvanced = (x: JArray, advanced: ReadonlyArray<{ axis: number; array: JArray }>): JArray => {
  const shape = broadcastShapes("index", advanced.map((a) => a.array.shape))
  const wrapped = advanced.map(({ axis, array }) => {
    const a = broadcastTo(convertTo(array, "int32"), shape)
    const n = x.shape[axis]!
    const negative = leOp(a, -1)
    return where(negative, addOp(a, n), a)
  })
  const indices = stack(wrapped, -1)
  const axes = advanced.map((a) => a.axis)
  const g = bind1("gather", [x, indices], { indexedAxes: axes, batchDims: 0, mode: "fill" })
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1)
  if (!contiguous || axes[0] === 0) return g
  // NumPy puts the indexed dimensions where the (adjacent) indexed axes were.
  const b = shape.length
  const first = axes[0]!
  const rest = g.ndim - b
  const perm = [...Array.from({ length: first }, (_, i) => b + i), ...Array.from({ length: b }, (_, i) => i), ...Array.from({ length: rest - first }, (_, i) => b + first + i)]
  return transpose(g, perm)
}

/** The updates `x.at(...)` offers; each returns a new array. */
export interface IndexUpdate {
  readonly get: () => JArray
  readonly set: (values: ArrayLike) => JArray
  readonly add: (values: ArrayLike) => JArray
  readonly multiply: (values: ArrayLike) => JArray
  readonly min: (values: ArrayLike) => JArray
  readonly max: (values: ArrayLike) => JArray
}

/** JAX's `x.at[index]`: functional updates at an index expression. */
export const indexUpdate = (x: JArray, index: ReadonlyArray<Index>): IndexUpdate => {
  // The flat positions the index selects: index an iota of x's shape the same way.
  const positions = (): JArray => getItem(reshape(bind1("iota", [], { dtype: "int32", shape: [x.size], dimension: 0 }), x.shape), index)
  const scatterWith = (prim: "scatter" | "scatter_add", values: ArrayLike, combine?: (old: JArray, v: JArray) => JArray): JArray => {
    const pos = positions()
    const flat = reshape(x, [-1])
    let v = promote("at", [x, values])[1]!
    v = broadcastTo(convertTo(v, x.dtype as "float32", x.weakType), pos.shape)
    if (combine !== undefined) v = combine(bind1("gather", [flat, expandDims(pos, -1)], { indexedAxes: [0], batchDims: 0, mode: "clip" }), v)
    const out = bind1(prim, [flat, expandDims(pos, -1), v], { indexedAxes: [0], batchDims: 0, mode: "fill" })
    return reshape(out, x.shape)
  }
  return {
    get: () => getItem(x, index),
    set: (v) => scatterWith("scatter", v),
    add: (v) => scatterWith("scatter_add", v),
    multiply: (v) => scatterWith("scatter", v, (old, u) => convertTo(multiply(old, u), x.dtype as "float32", x.weakType)),
    min: (v) => scatterWith("scatter", v, (old, u) => minimum(old, u)),
    max: (v) => scatterWith("scatter", v, (old, u) => maximum(old, u))
  }
}

/** Takes elements along an axis (`axis` omitted: from the flattened array). */
export const take = (x: ArrayLike, indices: ArrayLike, axis?: number | null, options?: { readonly mode?: IndexMode }): JArray => {
  let a = asArray(x)
  if (axis === null || axis === undefined) {
    a = reshape(a, [-1])
    axis = 0
  }
  const ax = normalizeAxis("take", axis, a.ndim)
  const idx = convertTo(asArray(indices), "int32")
  const n = a.shape[ax]!
  const wrapped = where(leOp(idx, -1), addOp(idx, n), idx)
  const g = bind1("gather", [a, expandDims(wrapped, -1)], { indexedAxes: [ax], batchDims: 0, mode: options?.mode ?? "fill" })
  // gather puts index dims first; NumPy puts them at `ax`.
  return ax === 0 ? g : moveIndexDims(g, idx.ndim, ax)
}

const moveIndexDims = (g: JArray, k: number, at: number): JArray => {
  const perm = [...Array.from({ length: at }, (_, i) => k + i), ...Array.from({ length: k }, (_, i) => i), ...Array.from({ length: g.ndim - k - at }, (_, i) => k + at + i)]
  return transpose(g, perm)
}

/** Picks values along `axis` with an index array of the same rank (NumPy `take_along_axis`). */
export const takeAlongAxis = (x: ArrayLike, indices: JArray, axis: number): JArray => {
  const a = asArray(x)
  const ax = normalizeAxis("take_along_axis", axis, a.ndim)
  if (indices.ndim !== a.ndim) throw new ShapeError({ op: "take_along_axis", shapes: [a.shape, indices.shape], reason: "indices must have the array's rank" })
  const n = a.shape[ax]!
  const idx = convertTo(indices, "int32")
  const wrapped = where(leOp(idx, -1), addOp(idx, n), idx)
  // Move `axis` last in both, then gather with all other axes as batch dims.
  const am = moveaxis(a, ax, -1)
  const im = moveaxis(wrapped, ax, -1)
  const batchShape = broadcastShapes("take_along_axis", [am.shape.slice(0, -1), im.shape.slice(0, -1)])
  const ab = broadcastTo(am, [...batchShape, n])
  const ib = broadcastTo(im, [...batchShape, im.shape[im.ndim - 1]!])
  const g = bind1("gather", [ab, expandDims(ib, -1)], { indexedAxes: [batchShape.length], batchDims: batchShape.length, mode: "fill" })
  return moveaxis(g, -1, ax)
}

export { broadcastRanks }
