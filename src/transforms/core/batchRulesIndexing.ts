/**
 * Batching rules of the slicing and indexing primitives (`slice`, `pad`, `concatenate`,
 * `dynamic_slice`, `dynamic_update_slice`, `gather`, `scatter`, `scatter_add`), and the axis helpers
 * every batching rule shares.
 *
 * Like every batching rule, each applies a number of primitives that does not depend on the batch
 * size. Per-example dynamic indices (a `dynamic_slice` whose start depends on the batch index) turn
 * into one `gather`/`scatter` over the whole batch, whose index array is built from the clamped starts
 * plus a constant grid of window offsets made on the host.
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind1 } from "../../backend/bind.ts"
import type { NumericDType } from "../../backend/DType.ts"
import type { GatherParams } from "../../backend/Primitive.ts"
import { fromHost, fromScalar } from "../../backend/numpy/creation.ts"
import { normalizeAxes, normalizeAxis, sizeOf } from "../../backend/shape.ts"
import { moveAxis, toFrontOrUnit } from "./batchUtil.ts"
import type { BatchDim, BatchRule } from "./rules.ts"

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** Where per-example axis `a` is in a value whose batch axis is `d`. */
export const shiftIn = (a: number, d: number): number => (a >= d ? a + 1 : a)

/** The per-example rank of a value with batch axis `d`. */
export const exampleRank = (x: JArray, d: BatchDim): number => (d === null ? x.ndim : x.ndim - 1)

/** The per-example shape of a value with batch axis `d`. */
export const exampleShape = (x: JArray, d: BatchDim): Array<number> =>
  d === null ? x.shape.slice() : x.shape.filter((_, i) => i !== d)

/** Gives `x` a batch axis of `size` at `at`, broadcasting it (one `broadcast_in_dim`). */
export const broadcastBatchAt = (x: JArray, size: number, at: number): JArray => {
  const shape = x.shape.slice()
  shape.splice(at, 0, size)
  return bind1("broadcast_in_dim", [x], { shape, broadcastDimensions: x.shape.map((_, i) => shiftIn(i, at)) })
}

/** Puts the batch axis of `x` at `to`, broadcasting an unbatched value. */
export const batchAt = (x: JArray, d: BatchDim, to: number, size: number): JArray =>
  d === null ? broadcastBatchAt(x, size, to) : moveAxis(x, d, to)

/**
 * The batch axis to gather operands at: that of the largest batched operand, so the fewest elements
 * move. `dims` must hold a non-null entry.
 */
export const commonDim = (vals: ReadonlyArray<JArray>, dims: ReadonlyArray<BatchDim>): number => {
  let best = -1
  let bestSize = -1
  dims.forEach((d, i) => {
    if (d !== null && vals[i]!.size > bestSize) {
      best = d
      bestSize = vals[i]!.size
    }
  })
  return best
}

const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

const isIdentity = (perm: ReadonlyArray<number>): boolean => perm.every((p, i) => p === i)

/**
 * `out` with the weak type of `like` (the weak type a primitive's output has without vmap). Key arrays
 * are never weak, so weak types that differ are a numeric array's.
 */
const weakAs = (out: JArray, like: JArray): JArray =>
  out.weakType === like.weakType
    ? out
    : bind1("convert_element_type", [out], { newDtype: out.dtype as NumericDType, weakType: like.weakType })

const int32Const = (values: ReadonlyArray<number>, shape: ReadonlyArray<number>): JArray =>
  fromHost(Int32Array.from(values), shape, "int32")

// ---------------------------------------------------------------------------------------------
// slice, pad, concatenate

export const sliceRule: BatchRule<"slice"> = (vals, dims, params) => {
  const x = vals[0]!
  const d = dims[0]!
  const ins = <T>(xs: ReadonlyArray<T>, v: T): Array<T> => {
    const out = xs.slice()
    out.splice(d, 0, v)
    return out
  }
  const out = bind1("slice", [x], {
    startIndices: ins(params.startIndices, 0),
    limitIndices: ins(params.limitIndices, x.shape[d]!),
    strides: ins(params.strides, 1)
  })
  return [[out], [d]]
}

/**
 * `pad`. With a shared padding value the batch axis is simply not padded. A per-example padding
 * value (rare) pads with zero and selects the value where a padded mask of the operand is false; the
 * mask and the operand keep unit batch axes where they are shared, relying on size-1 broadcasting.
 */
export const padRule: BatchRule<"pad"> = (vals, dims, params) => {
  const [x, v] = vals as [JArray, JArray]
  const [xd, vd] = dims as [BatchDim, BatchDim]
  if (vd === null) {
    const d = xd!
    const config = params.config.slice()
    config.splice(d, 0, [0, 0, 0])
    return [[bind1("pad", [x, v], { config })], [d]]
  }
  // Key arrays never get here: the table checks them first (pad is not structural). The padded
  // elements' value is never read (the select takes the padding value there).
  const dtype = x.dtype as NumericDType
  const shape = exampleShape(x, xd)
  const config = [[0, 0, 0] as const, ...params.config]
  const padded = bind1("pad", [toFrontOrUnit(x, xd), fromScalar(0, dtype)], { config })
  const inside = bind1("broadcast_in_dim", [fromScalar(true, "bool")], {
    shape: [1, ...shape],
    broadcastDimensions: []
  })
  const mask = bind1("pad", [inside, fromScalar(false, "bool")], { config })
  const value = bind1("broadcast_in_dim", [v], {
    shape: [v.shape[0]!, ...shape.map(() => 1)],
    broadcastDimensions: [0]
  })
  return [[weakAs(bind1("select", [mask, padded, value], {}), x)], [0]]
}

/** `concatenate`: every operand gets the batch axis at one position; shared ones are broadcast. */
export const concatenateRule: BatchRule<"concatenate"> = (vals, dims, params, size) => {
  const d = commonDim(vals, dims)
  const n = exampleRank(vals[0]!, dims[0] ?? null)
  const dimension = shiftIn(normalizeAxis("concatenate", params.dimension, n), d)
  const moved = vals.map((v, i) => batchAt(v, dims[i] ?? null, d, size))
  return [[bind1("concatenate", moved, { dimension })], [d]]
}

// ---------------------------------------------------------------------------------------------
// Per-example start indices → gather/scatter index arrays

/**
 * The `[size, k]` int32 matrix of per-example start indices on the `axes` (of `starts`, one scalar
 * index array per operand axis), each clamped to `[0, limits[j]]` as XLA clamps dynamic starts.
 */
const startMatrix = (
  starts: ReadonlyArray<JArray>,
  startDims: ReadonlyArray<BatchDim>,
  axes: ReadonlyArray<number>,
  limits: ReadonlyArray<number>,
  size: number
): JArray => {
  const cols = axes.map((a, j) => {
    let s = starts[a]!
    const sd = startDims[a] ?? null
    if (s.dtype === "uint32") {
      // Clamp above before converting, so that indices of 2^31 and more do not wrap negative.
      const lim = fromHost(
        Uint32Array.of(limits[j]!),
        s.shape.map(() => 1),
        "uint32"
      )
      s = bind1("convert_element_type", [bind1("min", [s, lim], {})], { newDtype: "int32", weakType: false })
    }
    return bind1("broadcast_in_dim", [s], { shape: [size, 1], broadcastDimensions: sd === null ? [] : [0] })
  })
  const m = axes.length
  const cat = m === 1 ? cols[0]! : bind1("concatenate", cols, { dimension: 1 })
  const lo = bind1(
    "max",
    [
      cat,
      int32Const(
        axes.map(() => 0),
        [1, m]
      )
    ],
    {}
  )
  return bind1("min", [lo, int32Const(limits, [1, m])], {})
}

/** A constant `[1, ...sizes, k]` int32 array holding each position's own multi-index. */
const offsetGrid = (sizes: ReadonlyArray<number>): JArray => {
  const k = sizes.length
  const total = sizeOf(sizes)
  const data = new Int32Array(total * k)
  const idx = sizes.map(() => 0)
  for (let f = 0; f < total; f++) {
    for (let j = 0; j < k; j++) data[f * k + j] = idx[j]!
    for (let j = k - 1; j >= 0; j--) {
      if (++idx[j]! < sizes[j]!) break
      idx[j] = 0
    }
  }
  return int32Const(Array.from(data), [1, ...sizes, k])
}

/**
 * The `[size, ...window, k]` index array of a per-example window: clamped starts on `axes` plus
 * every offset inside the window.
 */
const windowIndices = (
  starts: ReadonlyArray<JArray>,
  startDims: ReadonlyArray<BatchDim>,
  axes: ReadonlyArray<number>,
  operandShape: ReadonlyArray<number>,
  windowShape: ReadonlyArray<number>,
  size: number
): JArray => {
  const k = axes.length
  const window = axes.map((a) => windowShape[a]!)
  const limits = axes.map((a) => operandShape[a]! - windowShape[a]!)
  const mat = startMatrix(starts, startDims, axes, limits, size)
  const col = bind1("reshape", [mat], { newSizes: [size, ...window.map(() => 1), k] })
  return bind1("add", [col, offsetGrid(window)], {})
}

/**
 * The permutation from the axis order `[batch, ...axes, ...others]` back to `[batch, 0, ..., n-1]`
 * (for the output of a window gather), or its inverse.
 */
const windowOrder = (axes: ReadonlyArray<number>, n: number): Array<number> => {
  const others = range(n).filter((a) => !axes.includes(a))
  return [0, ...[...axes, ...others].map((a) => a + 1)]
}

const inversePerm = (perm: ReadonlyArray<number>): Array<number> => {
  const inv = perm.map(() => 0)
  perm.forEach((p, i) => {
    inv[p] = i
  })
  return inv
}

// ---------------------------------------------------------------------------------------------
// dynamic_slice, dynamic_update_slice

/**
 * `dynamic_slice`. With shared start indices the batch axis is sliced whole (a zero start is
 * inserted). Per-example starts become one `gather` of the window: only the axes the window does
 * not cover entirely are indexed (a window covering an axis always starts at 0).
 */
export const dynamicSliceRule: BatchRule<"dynamic_slice"> = (vals, dims, params, size) => {
  const x = vals[0]!
  const xd = dims[0] ?? null
  const starts = vals.slice(1)
  const startDims = dims.slice(1)
  if (startDims.every((d) => d === null)) {
    const d = xd!
    const zero = fromScalar(0, "int32")
    const idx = starts.slice()
    idx.splice(d, 0, zero)
    const sliceSizes = params.sliceSizes.slice()
    sliceSizes.splice(d, 0, x.shape[d]!)
    return [[bind1("dynamic_slice", [x, ...idx], { sliceSizes })], [d]]
  }
  const shape = exampleShape(x, xd)
  const n = shape.length
  const axes = range(n).filter((a) => params.sliceSizes[a]! < shape[a]!)
  if (axes.length === 0) return [[x], [xd]]
  const indices = windowIndices(starts, startDims, axes, shape, params.sliceSizes, size)
  const out =
    xd === null
      ? bind1("gather", [x, indices], { indexedAxes: axes, batchDims: 0, mode: "clip" })
      : bind1("gather", [moveAxis(x, xd, 0), indices], {
          indexedAxes: axes.map((a) => a + 1),
          batchDims: 1,
          mode: "clip"
        })
  const perm = inversePerm(windowOrder(axes, n))
  return [[isIdentity(perm) ? out : bind1("transpose", [out], { permutation: perm })], [0]]
}

/**
 * `dynamic_update_slice`. With shared starts, operand and update meet at one batch axis (a shared
 * one is broadcast: the output is batched) and a zero start is inserted. Per-example starts become
 * one `scatter` of the window; key arrays are scattered as their uint32 data.
 */
export const dynamicUpdateSliceRule: BatchRule<"dynamic_update_slice"> = (vals, dims, _params, size) => {
  const [x, u] = vals as [JArray, JArray]
  const xd = dims[0] ?? null
  const ud = dims[1] ?? null
  const starts = vals.slice(2)
  const startDims = dims.slice(2)
  if (startDims.every((d) => d === null)) {
    const d = xd ?? ud!
    const idx = starts.slice()
    idx.splice(d, 0, fromScalar(0, "int32"))
    return [[bind1("dynamic_update_slice", [batchAt(x, xd, d, size), batchAt(u, ud, d, size), ...idx], {})], [d]]
  }
  const shape = exampleShape(x, xd)
  const ushape = exampleShape(u, ud)
  const n = shape.length
  const axes = range(n).filter((a) => ushape[a]! < shape[a]!)
  // The update covers the whole operand.
  if (axes.length === 0) return [[weakAs(u, x)], [ud]]
  const keyed = x.dtype === "key<fry>"
  const unwrap = (a: JArray): JArray => (keyed ? bind1("random_unwrap", [a], {}) : a)
  const indices = windowIndices(starts, startDims, axes, shape, ushape, size)
  const operand = batchAt(unwrap(x), xd, 0, size)
  let updates = batchAt(unwrap(u), ud, 0, size)
  const order = windowOrder(axes, n)
  if (keyed) order.push(n + 1)
  if (!isIdentity(order)) updates = bind1("transpose", [updates], { permutation: order })
  const out = bind1("scatter", [operand, indices, updates], {
    indexedAxes: axes.map((a) => a + 1),
    batchDims: 1,
    mode: "clip"
  })
  return [[keyed ? bind1("random_wrap", [out], {}) : out], [0]]
}

// ---------------------------------------------------------------------------------------------
// gather, scatter, scatter_add

/**
 * `gather` (see `GatherParams`). A batched operand alone gets its batch axis right after the
 * operand's batch dims, where it is a plain (not indexed) axis: the output has it after the index
 * dims. Batched indices alone get theirs right after their batch dims, as one more index dim. Both
 * batched: one more pair of batch dims in front.
 */
export const gatherRule: BatchRule<"gather"> = (vals, dims, params) => {
  const [x, idx] = vals as [JArray, JArray]
  const [xd, id] = dims as [BatchDim, BatchDim]
  const b = params.batchDims
  const axes = normalizeAxes("gather", params.indexedAxes, exampleRank(x, xd))
  if (id === null) {
    const out = bind1("gather", [moveAxis(x, xd!, b), idx], { ...params, indexedAxes: axes.map((a) => a + 1) })
    return [[out], [idx.ndim - 1]]
  }
  if (xd === null) {
    return [[bind1("gather", [x, moveAxis(idx, id, b)], { ...params, indexedAxes: axes })], [b]]
  }
  const p: GatherParams = { indexedAxes: axes.map((a) => a + 1), batchDims: b + 1, mode: params.mode }
  return [[bind1("gather", [moveAxis(x, xd, 0), moveAxis(idx, id, 0)], p)], [0]]
}

/**
 * `scatter`/`scatter_add`. The output is always batched, so a shared operand is broadcast. With
 * shared indices the operand's batch axis is a plain axis right after its batch dims (the updates'
 * one goes after the index dims); with batched indices operand, indices and updates get one more
 * pair of leading batch dims.
 */
const scatterRule =
  <P extends "scatter" | "scatter_add">(prim: P): BatchRule<P> =>
  (vals, dims, params, size) => {
    const [x, idx, u] = vals as [JArray, JArray, JArray]
    const [xd, id, ud] = dims as [BatchDim, BatchDim, BatchDim]
    const b = params.batchDims
    const axes = normalizeAxes(prim, params.indexedAxes, exampleRank(x, xd))
    if (id === null) {
      const p: GatherParams = { indexedAxes: axes.map((a) => a + 1), batchDims: b, mode: params.mode }
      const out = bind1<"scatter" | "scatter_add">(
        prim,
        [batchAt(x, xd, b, size), idx, batchAt(u, ud, idx.ndim - 1, size)],
        p
      )
      return [[out], [b]]
    }
    const p: GatherParams = { indexedAxes: axes.map((a) => a + 1), batchDims: b + 1, mode: params.mode }
    const out = bind1<"scatter" | "scatter_add">(
      prim,
      [batchAt(x, xd, 0, size), moveAxis(idx, id, 0), batchAt(u, ud, 0, size)],
      p
    )
    return [[out], [0]]
  }

export const scatterRules = { scatter: scatterRule("scatter"), scatter_add: scatterRule("scatter_add") }
