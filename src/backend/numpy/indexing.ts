/**
 * NumPy indexing (`x.get(...)`), functional index updates (`x.at(...).set(v)`), `take` and
 * `takeAlongAxis`. Static indices (numbers, slices) lower to one `slice`; Array indices (traced or
 * not, scalar or not) to one `gather`.
 */
import { isArray } from "../Array.ts"
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../ArrayError.ts"
import { bind1 } from "../bind.ts"
import { broadcastShapes, normalizeAxis } from "../shape.ts"
import { asArray, fromHost, fromScalar } from "./creation.ts"
import {
  add as addOp,
  broadcastRanks,
  convertTo,
  lessEqual as leOp,
  maximum,
  minimum,
  multiply,
  promote,
  remainder,
  where
} from "./elementwise.ts"
import { checkOptionKeys } from "./options.ts"
import { scatterCombine } from "./scatterCombine.ts"
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
  if (parts.length < 2 || parts.length > 3)
    throw new ArgumentError({ op: "index", reason: `"${s}" is not a slice (write "start:stop:step" or "...")` })
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
    return {
      start: sl.start == null ? 0 : clampBound(sl.start, 0, n),
      stop: sl.stop == null ? n : clampBound(sl.stop, 0, n),
      step
    }
  }
  return {
    start: sl.start == null ? n - 1 : clampBound(sl.start, -1, n - 1),
    stop: sl.stop == null ? -1 : clampBound(sl.stop, -1, n - 1),
    step
  }
}

type Parsed =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "slice"; readonly slice: Slice }
  | { readonly kind: "newaxis" }
  | { readonly kind: "array"; readonly array: JArray; readonly mask?: true }

const parse = (x: JArray, index: ReadonlyArray<Index>): Array<Parsed> => {
  const items: Array<Parsed | "ellipsis"> = index.map((i): Parsed | "ellipsis" => {
    if (i === null) return { kind: "newaxis" }
    if (typeof i === "number") {
      if (!Number.isInteger(i)) throw new ArgumentError({ op: "index", reason: `index ${i} is not an integer` })
      return { kind: "int", value: i }
    }
    if (typeof i === "string") return i === "..." ? "ellipsis" : { kind: "slice", slice: parseSlice(i) }
    if (isArray(i)) {
      if (i.dtype === "bool") return { kind: "array", array: i, mask: true }
      if (i.dtype !== "int32" && i.dtype !== "uint32")
        throw new DTypeError({ op: "index", dtypes: [i.dtype], reason: "array indices must be integers or booleans" })
      return { kind: "array", array: i }
    }
    if (typeof i === "object") return { kind: "slice", slice: i }
    throw new ArgumentError({ op: "index", reason: `unsupported index ${String(i)}` })
  })
  const ellipses = items.filter((i) => i === "ellipsis").length
  if (ellipses > 1) throw new ArgumentError({ op: "index", reason: "an index can only have a single ellipsis ('...')" })
  const consumed = items.reduce((n, i) => n + (i === "ellipsis" || i.kind === "newaxis" ? 0 : 1), 0)
  if (consumed > x.ndim)
    throw new ArgumentError({
      op: "index",
      reason: `too many indices: array is ${x.ndim}-dimensional, but ${consumed} were indexed`
    })
  const fill: Array<Parsed> = Array.from({ length: x.ndim - consumed }, () => ({ kind: "slice", slice: {} }))
  const at = items.indexOf("ellipsis")
  const out = items.filter((i): i is Parsed => i !== "ellipsis")
  out.splice(at === -1 ? out.length : at, 0, ...fill)
  // Masks become integer indices once the axis each one indexes is known (to check its length).
  let axis = 0
  return out.map((it) => {
    if (it.kind === "newaxis") return it
    const a = axis++
    return it.kind === "array" && it.mask === true
      ? { kind: "array", array: boolToIndices(it.array, a, x.shape[a]!) }
      : it
  })
}

/** A concrete boolean mask becomes the integer indices of its true elements (1-d masks only). */
const boolToIndices = (mask: JArray, axis: number, size: number): JArray => {
  if (!mask.isConcrete) {
    throw new DTypeError({
      op: "index",
      dtypes: ["bool"],
      reason:
        "boolean masks need concrete values (their result shape depends on the data); use jnp.where instead inside transforms"
    })
  }
  if (mask.ndim !== 1)
    throw new ShapeError({ op: "index", shapes: [mask.shape], reason: "only 1-d boolean masks are supported" })
  if (mask.shape[0] !== size) {
    throw new ShapeError({
      op: "index",
      shapes: [mask.shape, [size]],
      reason: `a boolean mask of length ${mask.shape[0]} indexes axis ${axis} of size ${size}; give it one entry per element of that axis`
    })
  }
  const data = mask.dataSync()
  const idx: Array<number> = []
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) idx.push(i)
  return fromHost(Int32Array.from(idx), [idx.length], "int32")
}

/**
 * What an out-of-bounds index does, as JAX's `mode`: on reads `"promise_in_bounds"` and `"clip"`
 * clamp (the default), `"fill"` and `"drop"` give `fillValue`; on updates `"clip"` clamps and the
 * others drop the update. Negative indices count from the end first, except in `take`'s `"clip"`.
 */
export type OutOfBoundsMode = "promise_in_bounds" | "clip" | "fill" | "drop"

/** Options of `x.at(...).get`. */
export interface GetOptions {
  readonly mode?: OutOfBoundsMode | undefined
  /** What `"fill"`/`"drop"` reads for an out-of-bounds index (default: NaN, INT_MIN, UINT_MAX, true). */
  readonly fillValue?: number | boolean | undefined
}

/** Options of `x.at(...).set/add/multiply/min/max`. */
export interface UpdateOptions {
  readonly mode?: OutOfBoundsMode | undefined
}

const MODES: ReadonlyArray<OutOfBoundsMode> = ["promise_in_bounds", "clip", "fill", "drop"]
const checkMode = (op: string, mode: unknown): OutOfBoundsMode | undefined => {
  if (mode === undefined || MODES.includes(mode as OutOfBoundsMode)) return mode as OutOfBoundsMode | undefined
  throw new ArgumentError({
    op,
    reason: `mode ${JSON.stringify(mode)} is not one of ${MODES.map((m) => `"${m}"`).join(", ")}`
  })
}
const fills = (mode: OutOfBoundsMode | undefined): boolean => mode === "fill" || mode === "drop"

/**
 * `x[index]` with NumPy semantics and JAX's out-of-bounds rule: an index past either end (static or
 * not) is clamped unless `mode` is `"fill"`/`"drop"`, which read `fillValue` there instead.
 */
export const getItem = (x: JArray, index: ReadonlyArray<Index>, options?: GetOptions): JArray => {
  const mode = checkMode("index", options?.mode)
  const items = parse(x, index)
  // An out-of-bounds static integer in fill mode cannot be a slice: it reads the fill value.
  const oobInt = (it: Parsed, axis: number): boolean => {
    if (it.kind !== "int") return false
    const n = x.shape[axis]!
    const i = it.value < 0 ? it.value + n : it.value
    return i < 0 || i >= n
  }
  let probe = 0
  const hasArrays = items.some((i) => {
    if (i.kind === "newaxis") return false
    const oob = oobInt(i, probe++)
    return i.kind === "array" || (oob && fills(mode))
  })
  // Basic indexing: slices and integers become one static slice (plus reshape and flips).
  let out = x
  const starts: Array<number> = [],
    limits: Array<number> = [],
    strides: Array<number> = []
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
      // JAX clamps a static index past either end rather than raising (an empty axis has no end).
      if (n === 0)
        throw new ArgumentError({
          op: "index",
          reason: `index ${it.value} is out of bounds for axis ${axis} with size 0`
        })
      const i = Math.min(Math.max(it.value < 0 ? it.value + n : it.value, 0), n - 1)
      starts.push(i)
      limits.push(i + 1)
      strides.push(1)
      finalShape.push("drop")
    } else if (it.kind === "slice") {
      const { start, stop, step } = sliceIndices(it.slice, n)
      if (step > 0) {
        const len = Math.max(0, Math.ceil((stop - start) / step))
        starts.push(start)
        limits.push(len === 0 ? start : start + (len - 1) * step + 1)
        strides.push(step)
        finalShape.push(len)
      } else {
        const len = Math.max(0, Math.ceil((stop - start) / step))
        const lo = len === 0 ? 0 : start + (len - 1) * step
        starts.push(lo)
        limits.push(len === 0 ? 0 : start + 1)
        strides.push(-step)
        flips.push(axis)
        finalShape.push(len)
      }
    } else {
      const arr = it.kind === "int" ? fromScalar(it.value, "int32") : it.array
      advanced.push({ axis, array: arr })
      starts.push(0)
      limits.push(n)
      strides.push(1)
      finalShape.push(n)
    }
    axis++
    outAxis++
  }
  if (starts.some((s, i) => s !== 0 || limits[i] !== x.shape[i] || strides[i] !== 1)) {
    out = bind1("slice", [out], { startIndices: starts, limitIndices: limits, strides })
  }
  if (flips.length > 0) out = flip(out, flips)
  if (advanced.length > 0)
    out = gatherAdvanced(out, advanced, fills(mode) ? { fillValue: options?.fillValue } : undefined, mode === "clip")
  // Apply dropped integer axes and new axes.
  if (advanced.length === 0) {
    const shape = finalShape.filter((d): d is number => d !== "drop")
    if (shape.length !== out.ndim || shape.some((d, i) => d !== out.shape[i])) out = reshape(out, shape)
  } else {
    const newAxes = items.flatMap((it, i) => (it.kind === "newaxis" ? [i] : []))
    if (newAxes.length > 0)
      out = expandDims(
        out,
        newAxes.map((a) => Math.min(a, out.ndim + newAxes.length - 1))
      )
  }
  return out
}

/** Negative indices count from the end of an axis of size `n`. */
const fromEnd = (a: JArray, n: number): JArray => where(leOp(a, -1), addOp(a, n), a)

/** `a` within `[0, n)`, elementwise (a bool array of `a`'s shape). */
const inBounds = (a: JArray, n: number): JArray =>
  bind1(
    "and",
    broadcastRanks("index", [
      bind1("ge", broadcastRanks("index", [a, fromScalar(0, "int32")]) as [JArray, JArray], {}),
      bind1("lt", broadcastRanks("index", [a, fromScalar(n, "int32")]) as [JArray, JArray], {})
    ]) as [JArray, JArray],
    {}
  )

/**
 * Gathers integer-array indices on the given axes with NumPy's placement rule. Out-of-bounds
 * indices clamp, or with `fill` read `fill.fillValue` (the dtype's default when undefined). Without
 * `clip` the clamping is JAX's default ("promise_in_bounds"): the gradient ignores out-of-bounds reads.
 */
const gatherAdvanced = (
  x: JArray,
  advanced: ReadonlyArray<{ axis: number; array: JArray }>,
  fill: { readonly fillValue: number | boolean | undefined } | undefined,
  clip: boolean
): JArray => {
  const shape = broadcastShapes(
    "index",
    advanced.map((a) => a.array.shape)
  )
  const wrapped = advanced.map(({ axis, array }) =>
    fromEnd(broadcastTo(convertTo(array, "int32"), shape), x.shape[axis]!)
  )
  const indices = stack(wrapped, -1)
  const axes = advanced.map((a) => a.axis)
  let g = bind1("gather", [x, indices], {
    indexedAxes: axes,
    batchDims: 0,
    mode: fill !== undefined ? "fill" : clip ? "clip" : "promise_in_bounds"
  })
  if (fill?.fillValue !== undefined && x.dtype !== "key<fry>") {
    // The gather's own fill is the dtype's default; another fill value replaces it where any index is out.
    const ok = wrapped.map((w, i) => inBounds(w, x.shape[axes[i]!]!)).reduce((a, b) => bind1("and", [a, b], {}))
    g = withFillValue(g, ok, fill.fillValue)
  }
  const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1)
  if (!contiguous || axes[0] === 0) return g
  // NumPy puts the indexed dimensions where the (adjacent) indexed axes were.
  const b = shape.length
  const first = axes[0]!
  const rest = g.ndim - b
  const perm = [
    ...Array.from({ length: first }, (_, i) => b + i),
    ...Array.from({ length: b }, (_, i) => i),
    ...Array.from({ length: rest - first }, (_, i) => b + first + i)
  ]
  return transpose(g, perm)
}

/** The updates `x.at(...)` offers; each returns a new array. */
export interface IndexUpdate {
  readonly get: (options?: GetOptions) => JArray
  readonly set: (values: ArrayLike, options?: UpdateOptions) => JArray
  readonly add: (values: ArrayLike, options?: UpdateOptions) => JArray
  readonly multiply: (values: ArrayLike, options?: UpdateOptions) => JArray
  readonly min: (values: ArrayLike, options?: UpdateOptions) => JArray
  readonly max: (values: ArrayLike, options?: UpdateOptions) => JArray
}

/**
 * JAX's `x.at[index]`: functional updates at an index expression. An update at an out-of-bounds
 * index is dropped unless `mode` is `"clip"`, which clamps it onto the edge.
 */
export const indexUpdate = (x: JArray, index: ReadonlyArray<Index>): IndexUpdate => {
  // The flat positions the index selects: index an iota of x's shape the same way. Out-of-bounds
  // positions read -1 (dropped by the scatter's fill mode) unless clipping.
  const positions = (clip: boolean): JArray =>
    getItem(
      reshape(bind1("iota", [], { dtype: "int32", shape: [x.size], dimension: 0 }), x.shape),
      index,
      clip ? { mode: "clip" } : { mode: "fill", fillValue: -1 }
    )
  const scatterWith = (
    op: string,
    prim: "scatter" | "scatter_add",
    values: ArrayLike,
    options: UpdateOptions | undefined,
    combine?: (old: JArray, v: JArray) => JArray
  ): JArray => {
    checkOptionKeys(`at.${op}`, options, ["mode"])
    const clip = checkMode(`at.${op}`, options?.mode) === "clip"
    const pos = positions(clip)
    const flat = reshape(x, [-1])
    let v = promote("at", [x, values])[1]!
    v = broadcastTo(convertTo(v, x.dtype as "float32", x.weakType), pos.shape)
    // Positions are in bounds after clipping, and -1 (dropped) otherwise.
    if (combine !== undefined) return reshape(scatterCombine(flat, pos, v, combine), x.shape)
    const out = bind1(prim, [flat, expandDims(pos, -1), v], {
      indexedAxes: [0],
      batchDims: 0,
      mode: clip ? "clip" : "fill"
    })
    return reshape(out, x.shape)
  }
  return {
    get: (options) => {
      checkOptionKeys("at.get", options, ["mode", "fillValue"])
      return getItem(x, index, options)
    },
    set: (v, o) => scatterWith("set", "scatter", v, o),
    add: (v, o) => scatterWith("add", "scatter_add", v, o),
    multiply: (v, o) =>
      scatterWith("multiply", "scatter", v, o, (old, u) =>
        convertTo(multiply(old, u), x.dtype as "float32", x.weakType)
      ),
    min: (v, o) => scatterWith("min", "scatter", v, o, (old, u) => minimum(old, u)),
    max: (v, o) => scatterWith("max", "scatter", v, o, (old, u) => maximum(old, u))
  }
}

/** Options of `take` and `takeAlongAxis`. */
export interface TakeOptions {
  /**
   * Out-of-bounds indices: `"fill"` (the default; `"drop"` is the same) reads `fillValue`,
   * `"clip"` clamps, `"wrap"` wraps around. `take`'s `"clip"` clamps negative indices to 0 instead
   * of counting them from the end.
   */
  readonly mode?: "fill" | "drop" | "clip" | "wrap" | undefined
  readonly fillValue?: number | boolean | undefined
}

const TAKE_MODES = ["fill", "clip", "wrap", "drop"]
const checkTakeMode = (
  op: string,
  options: { readonly mode?: string | undefined } | undefined,
  allowed: ReadonlyArray<string>
): void => {
  checkOptionKeys(op, options, ["mode", "fillValue"])
  const m = options?.mode
  if (m !== undefined && !allowed.includes(m))
    throw new ArgumentError({
      op,
      reason: `mode ${JSON.stringify(m)} is not one of ${allowed.map((a) => `"${a}"`).join(", ")}`
    })
}

/** Replaces the gather's default fill with `fillValue` where `ok` (index-shaped, leading) is false. */
const withFillValue = (g: JArray, ok: JArray, fillValue: number | boolean | undefined): JArray => {
  if (fillValue === undefined || g.dtype === "key<fry>") return g
  const mask = reshape(ok, [...ok.shape, ...new Array<number>(g.ndim - ok.ndim).fill(1)])
  return where(mask, g, fromScalar(fillValue, g.dtype, false))
}

/**
 * Takes elements along an axis (`axis` omitted: from the flattened array). Out-of-bounds indices
 * read `fillValue` (NaN for floats) unless `mode` says otherwise, as `jnp.take`.
 */
export const take = (x: ArrayLike, indices: ArrayLike, axis?: number | null, options?: TakeOptions): JArray => {
  checkTakeMode("take", options, TAKE_MODES)
  let a = asArray(x)
  if (axis === null || axis === undefined) {
    a = reshape(a, [-1])
    axis = 0
  }
  const ax = normalizeAxis("take", axis, a.ndim)
  const idx = convertTo(asArray(indices), "int32")
  const n = a.shape[ax]!
  const mode = options?.mode === "drop" ? "fill" : (options?.mode ?? "fill")
  // "clip" clamps the raw index (JAX does not count a negative one from the end there); "wrap" takes it modulo n.
  const wrapped = mode === "clip" ? idx : mode === "wrap" ? (n === 0 ? idx : remainder(idx, n)) : fromEnd(idx, n)
  let g = bind1("gather", [a, expandDims(wrapped, -1)], {
    indexedAxes: [ax],
    batchDims: 0,
    mode: mode === "fill" ? "fill" : "clip"
  })
  if (mode === "fill") g = withFillValue(g, inBounds(wrapped, n), options?.fillValue)
  // gather puts index dims first; NumPy puts them at `ax`.
  return ax === 0 ? g : moveIndexDims(g, idx.ndim, ax)
}

const moveIndexDims = (g: JArray, k: number, at: number): JArray => {
  const perm = [
    ...Array.from({ length: at }, (_, i) => k + i),
    ...Array.from({ length: k }, (_, i) => i),
    ...Array.from({ length: g.ndim - k - at }, (_, i) => k + at + i)
  ]
  return transpose(g, perm)
}

/**
 * Picks values along `axis` with an index array of the same rank (NumPy `take_along_axis`).
 * Out-of-bounds indices read `fillValue` by default; `mode: "clip"` clamps (after counting negative
 * indices from the end).
 */
export const takeAlongAxis = (
  x: ArrayLike,
  indices: JArray,
  axis: number,
  options?: Omit<TakeOptions, "mode"> & { readonly mode?: OutOfBoundsMode | undefined }
): JArray => {
  checkTakeMode("take_along_axis", options, MODES)
  const a = asArray(x)
  const ax = normalizeAxis("take_along_axis", axis, a.ndim)
  if (indices.ndim !== a.ndim)
    throw new ShapeError({
      op: "take_along_axis",
      shapes: [a.shape, indices.shape],
      reason: "indices must have the array's rank"
    })
  const n = a.shape[ax]!
  const mode = options?.mode ?? "fill"
  // JAX counts negative indices from the end except when they are promised in bounds.
  const idx32 = convertTo(indices, "int32")
  const wrapped = mode === "promise_in_bounds" ? idx32 : fromEnd(idx32, n)
  const fill = fills(mode)
  // Move `axis` last in both, then gather with all other axes as batch dims.
  const am = moveaxis(a, ax, -1)
  const im = moveaxis(wrapped, ax, -1)
  const batchShape = broadcastShapes("take_along_axis", [am.shape.slice(0, -1), im.shape.slice(0, -1)])
  const ab = broadcastTo(am, [...batchShape, n])
  const ib = broadcastTo(im, [...batchShape, im.shape[im.ndim - 1]!])
  let g = bind1("gather", [ab, expandDims(ib, -1)], {
    indexedAxes: [batchShape.length],
    batchDims: batchShape.length,
    mode: fill ? "fill" : mode === "clip" ? "clip" : "promise_in_bounds"
  })
  if (fill) g = withFillValue(g, inBounds(ib, n), options?.fillValue)
  return moveaxis(g, -1, ax)
}

export { broadcastRanks }
