/**
 * Helpers shared by the JVP rules (`jvpRules.ts`) and the VJP rules (`vjpRules.ts`) of the
 * first-order primitives: constants, broadcasting and its reverse, the elementwise partial
 * derivatives, index masks, permutations of `sort`, and the linear recurrences behind the
 * cumulative reductions.
 *
 * Everything here is written with primitives applied through `bind`, never by reading data, so that
 * a rule composes with every transform around it (an outer `grad`, `vmap`, `jit`, `linearize`).
 * Derivative factors are always computed from primal values only, and tangents/cotangents enter
 * linearly, so that `linearize` can stage the tangent part by itself.
 *
 * @internal
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import type { DType } from "../../backend/DType.ts"
import { fromHost } from "../../backend/numpy/creation.ts"
import type { GatherParams } from "../../backend/Primitive.ts"
import { normalizeAxes, normalizeAxis, shapeEquals } from "../../backend/shape.ts"

export type Shape = ReadonlyArray<number>

/** Only inexact values (float32 and complex64) carry tangents and cotangents. */
export const isFloat = (x: JArray): boolean => x.dtype === "float32" || x.dtype === "complex64"

/** complex64 for complex values, float32 otherwise: the dtype of constants meant to combine with `x`. */
export const inexactOf = (x: JArray): "float32" | "complex64" => (x.dtype === "complex64" ? "complex64" : "float32")

export const range = (start: number, stop?: number): Array<number> => {
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop]
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i)
}

/** The permutation sorting `xs` ascending (stable, as `Array.prototype.sort` is since ES2019). */
export const argsort = (xs: ReadonlyArray<number>): Array<number> =>
  xs
    .map((v, i) => [v, i] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i)

/** The permutation that sorts a permutation is its inverse. */
export const inversePermutation = (perm: ReadonlyArray<number>): Array<number> => argsort(perm)

const isIdentity = (perm: ReadonlyArray<number>): boolean => perm.every((p, i) => p === i)

// ---- constants --------------------------------------------------------------------------------

const hostOf = (dtype: DType, v: number): Float32Array | Int32Array | Uint32Array | Uint8Array => {
  switch (dtype) {
    case "float32":
      return Float32Array.of(v)
    case "complex64":
      return Float32Array.of(v, 0)
    case "int32":
      return Int32Array.of(v)
    case "bool":
      return Uint8Array.of(v)
    case "uint32":
    case "key<fry>":
      return Uint32Array.of(v)
  }
}

/**
 * A constant with `rank` dimensions all of size 1, which broadcasts against any operand of that
 * rank. Float constants are weakly typed so that they never strengthen the operand's type.
 */
export const constant = (v: number, rank: number, dtype: DType = "float32"): JArray =>
  fromHost(hostOf(dtype, v), new Array<number>(rank).fill(1), dtype, dtype === "float32" || dtype === "complex64")

/** A float32 constant broadcasting against `like` (complex64 when `like` is complex). */
export const constLike = (v: number, like: JArray): JArray => constant(v, like.ndim, inexactOf(like))

/** An array of `shape` filled with `v`. */
export const full = (shape: Shape, v: number, dtype: DType = "float32"): JArray =>
  bind1("broadcast_in_dim", [fromHost(hostOf(dtype, v), [], dtype)], { shape, broadcastDimensions: [] })

export const zeros = (shape: Shape, dtype: "float32" | "complex64" = "float32"): JArray => full(shape, 0, dtype)

/** `t`, or zeros of `like`'s shape (and inexact dtype) for a symbolic zero. */
export const instantiate = (t: JArray | null, like: JArray): JArray => t ?? zeros(like.shape, inexactOf(like))

// ---- elementwise shorthands ---------------------------------------------------------------------

export const add = (x: JArray, y: JArray): JArray => bind1("add", [x, y], {})
export const sub = (x: JArray, y: JArray): JArray => bind1("sub", [x, y], {})
export const mul = (x: JArray, y: JArray): JArray => bind1("mul", [x, y], {})
export const div = (x: JArray, y: JArray): JArray => bind1("div", [x, y], {})
export const neg = (x: JArray): JArray => bind1("neg", [x], {})
export const eq = (x: JArray, y: JArray): JArray => bind1("eq", [x, y], {})
export const select = (p: JArray, a: JArray, b: JArray): JArray => bind1("select", [p, a, b], {})
export const toFloat = (x: JArray): JArray =>
  bind1("convert_element_type", [x], { newDtype: "float32", weakType: false })

/** Adds two possibly-zero tangents. */
export const addMaybe = (x: JArray | null, y: JArray | null): JArray | null =>
  x === null ? y : y === null ? x : add(x, y)

// ---- broadcasting -------------------------------------------------------------------------------

/** Broadcasts an equal-rank `x` (size-1 dimensions stretch) to `shape`. */
export const fit = (x: JArray, shape: Shape): JArray =>
  shapeEquals(x.shape, shape) ? x : bind1("broadcast_in_dim", [x], { shape, broadcastDimensions: range(shape.length) })

/** Reshapes unless the shape already is `shape`. */
export const reshape = (x: JArray, shape: Shape): JArray =>
  shapeEquals(x.shape, shape) ? x : bind1("reshape", [x], { newSizes: shape })

export const transpose = (x: JArray, perm: ReadonlyArray<number>): JArray =>
  isIdentity(perm) ? x : bind1("transpose", [x], { permutation: perm })

export const reduceSum = (x: JArray, axes: ReadonlyArray<number>): JArray =>
  axes.length === 0 ? x : bind1("reduce_sum", [x], { axes })

/**
 * The reverse of equal-rank broadcasting: sums a cotangent of the broadcast shape over the
 * dimensions where `shape` has size 1, giving an array of `shape`.
 */
export const unbroadcast = (ct: JArray, shape: Shape): JArray => {
  const axes = range(shape.length).filter((i) => shape[i] === 1 && ct.shape[i] !== 1)
  return reshape(reduceSum(ct, axes), shape)
}

/** The shape of a reduction's output with the reduced axes kept as size 1. */
export const keepDimsShape = (shape: Shape, axes: ReadonlyArray<number>): Array<number> =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d))

/** Normalized reduction axes. */
export const reduceAxes = (op: string, axes: ReadonlyArray<number>, ndim: number): Array<number> =>
  normalizeAxes(op, axes, ndim)

// ---- elementwise derivatives --------------------------------------------------------------------

/**
 * `g` times the derivative of a unary elementwise primitive at `x` (output `y`). Used with a tangent
 * (JVP) and with a cotangent (VJP): an elementwise Jacobian is diagonal, hence its own transpose.
 */
export type UnaryPartial = (g: JArray, x: JArray, y: JArray) => JArray

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)
const SQRT_PI_OVER_TWO = Math.sqrt(Math.PI) / 2

export const unaryPartials = {
  neg: (g) => neg(g),
  exp: (g, _x, y) => mul(g, y),
  log: (g, x) => div(g, x),
  sin: (g, x) => mul(g, bind1("cos", [x], {})),
  cos: (g, x) => mul(g, neg(bind1("sin", [x], {}))),
  tanh: (g, _x, y) => mul(g, sub(constLike(1, y), mul(y, y))),
  logistic: (g, _x, y) => mul(g, mul(y, sub(constLike(1, y), y))),
  sqrt: (g, _x, y) => div(g, mul(constLike(2, y), y)),
  rsqrt: (g, x, y) => mul(g, mul(constLike(-0.5, y), div(y, x))),
  // JAX's rule: +g at x = 0 (the derivative of the right side). Complex operands have their own
  // rules (absJvpComplex, absVjpComplex): |z| is not holomorphic.
  abs: (g, x) => select(bind1("ge", [x, constLike(0, x)], {}), g, neg(g)),
  erf: (g, x) => mul(g, mul(constLike(TWO_OVER_SQRT_PI, x), bind1("exp", [neg(mul(x, x))], {}))),
  erf_inv: (g, _x, y) => mul(g, mul(constLike(SQRT_PI_OVER_TWO, y), bind1("exp", [mul(y, y)], {}))),
  log1p: (g, x) => div(g, add(constLike(1, x), x)),
  expm1: (g, _x, y) => mul(g, add(y, constLike(1, y)))
} satisfies Record<string, UnaryPartial>

export type DifferentiableUnary = keyof typeof unaryPartials

/** `conj(z) / |z|`, and 0 at z = 0 (JAX's convention for the derivative of |z| there). */
const conjOverAbs = (z: JArray): JArray => {
  const a = bind1("abs", [z], {})
  const safe = select(eq(a, constLike(0, a)), constLike(1, a), a)
  return div(bind1("conj", [z], {}), bind1("complex", [safe, constLike(0, safe)], {}))
}

/** The tangent of |z| for complex z: `re(conj(z) t) / |z|`, a float32. */
export const absJvpComplex = (t: JArray, z: JArray): JArray => bind1("real", [mul(conjOverAbs(z), t)], {})

/**
 * The cotangent of complex z from that of |z|, with JAX's convention (the cotangent pairs with a
 * tangent as `re(ct · t)`): `ct · conj(z) / |z|`, so `grad(|z|²)` is `2 conj(z)`, as in JAX.
 */
export const absVjpComplex = (ct: JArray, z: JArray): JArray =>
  mul(bind1("complex", [ct, constLike(0, ct)], {}), conjOverAbs(z))

/**
 * `g` times the partial derivative of a binary elementwise primitive with respect to one operand, at
 * `(x, y)` with output `out`. The result has `g`'s shape broadcast against the factors; callers fit
 * it to the output (JVP) or sum it back to the operand's shape (VJP).
 */
export type BinaryPartial = (g: JArray, x: JArray, y: JArray, out: JArray) => JArray

/** 1 where `a` equals the chosen value `z`, 0 elsewhere, halved where `b` ties with it too (JAX's rule). */
const balancedEq = (a: JArray, z: JArray, b: JArray): JArray =>
  div(select(eq(a, z), constLike(1, z), constLike(0, z)), select(eq(b, z), constLike(2, z), constLike(1, z)))

/** `x` with its zeros replaced by ones. */
const replaceZero = (x: JArray): JArray => select(eq(x, constLike(0, x)), constLike(1, x), x)

/** Rounds toward zero. */
const trunc = (q: JArray): JArray => mul(bind1("sign", [q], {}), bind1("floor", [bind1("abs", [q], {})], {}))

export const binaryPartials = {
  add: [(g) => g, (g) => g],
  sub: [(g) => g, (g) => neg(g)],
  mul: [(g, _x, y) => mul(g, y), (g, x) => mul(g, x)],
  div: [(g, _x, y) => div(g, y), (g, x, y) => div(mul(neg(g), x), mul(y, y))],
  rem: [(g) => g, (g, x, y) => mul(neg(g), trunc(div(x, y)))],
  pow: [
    // d/dx x^y = y x^(y-1), taken as 0 where y = 0 (x^0 is constant, even at x = 0).
    (g, x, y) => {
      const one = constLike(1, y)
      const zero = constLike(0, y)
      return mul(g, select(eq(y, zero), zero, mul(y, bind1("pow", [x, sub(y, one)], {}))))
    },
    // d/dy x^y = log(x) x^y, taken as 0 where x = 0.
    (g, x, _y, out) => mul(g, mul(bind1("log", [replaceZero(x)], {}), out))
  ],
  max: [(g, x, y, out) => mul(g, balancedEq(x, out, y)), (g, x, y, out) => mul(g, balancedEq(y, out, x))],
  min: [(g, x, y, out) => mul(g, balancedEq(x, out, y)), (g, x, y, out) => mul(g, balancedEq(y, out, x))],
  atan2: [
    (g, x, y) => mul(g, div(y, add(mul(x, x), mul(y, y)))),
    (g, x, y) => mul(g, div(neg(x), add(mul(x, x), mul(y, y))))
  ]
} satisfies Record<string, readonly [BinaryPartial, BinaryPartial]>

export type DifferentiableBinary = keyof typeof binaryPartials

// ---- structural helpers -------------------------------------------------------------------------

/**
 * The cotangent of `broadcast_in_dim`'s operand: sums over the new dimensions and over the operand's
 * size-1 dimensions that were stretched, then restores the operand's shape.
 */
export const unbroadcastInDim = (
  ct: JArray,
  operandShape: Shape,
  broadcastDimensions: ReadonlyArray<number>
): JArray => {
  const axes: Array<number> = []
  ct.shape.forEach((d, i) => {
    const k = broadcastDimensions.indexOf(i)
    if (k < 0 || (operandShape[k] === 1 && d !== 1)) axes.push(i)
  })
  return reshape(reduceSum(ct, axes), operandShape)
}

/** Elements `[start, stop)` along `axis`. */
export const sliceAxis = (x: JArray, axis: number, start: number, stop: number): JArray =>
  bind1("slice", [x], {
    startIndices: x.shape.map((_, i) => (i === axis ? start : 0)),
    limitIndices: x.shape.map((d, i) => (i === axis ? stop : d)),
    strides: x.shape.map(() => 1)
  })

/**
 * `x` shifted by `s` along `axis`: `out[i] = x[i - s]` (or `x[i + s]` when `reverse`), with `fill`
 * where that falls outside.
 */
export const shift = (x: JArray, axis: number, s: number, fill: number, reverse: boolean): JArray => {
  const n = x.shape[axis]!
  const k = Math.min(s, n)
  const kept = reverse ? sliceAxis(x, axis, k, n) : sliceAxis(x, axis, 0, n - k)
  const value = fromHost(hostOf(x.dtype, fill), [], x.dtype, x.weakType)
  return bind1("pad", [kept, value], {
    config: x.shape.map((_, i) =>
      i === axis ? (reverse ? ([0, k, 0] as const) : ([k, 0, 0] as const)) : ([0, 0, 0] as const)
    )
  })
}

/**
 * Solves `h[i] = a[i] * h[i-1] + b[i]` along `axis` (`h[i+1]` when `reverse`), with zero before the
 * start, by a parallel prefix scan of affine maps (Hillis–Steele: log2(n) steps of shifts, products
 * and sums). `h` is linear in `b`; with `a` computed from primals only it stays linear in a tangent.
 */
export const linearRecurrence = (a: JArray, b: JArray, axis: number, reverse: boolean): JArray => {
  const n = b.shape[axis]!
  let A = fit(a, b.shape)
  let B = b
  for (let s = 1; s < n; s *= 2) {
    // A becomes the product of s consecutive coefficients, updated only when a step needs it (the
    // last step's update would go unused).
    if (s > 1) A = mul(A, shift(A, axis, s / 2, 1, reverse))
    B = add(mul(A, shift(B, axis, s, 0, reverse)), B)
  }
  return B
}

/** Pieces of the derivative of `cummax`/`cummin` (`y` the output along `axis`). */
export interface ChooserScan {
  /** 1 where `x` equals the running extreme at its own position. */
  readonly loc: JArray
  /** 1 where the running extreme is unchanged from the previous position (scan direction). */
  readonly same: JArray
  /** How many positions so far hold the running extreme (at least 1 unless NaN). */
  readonly count: JArray
}

/**
 * The running extreme `y[i]` of `cummax`/`cummin` is reached at every `j ≤ i` with `x[j] = y[i]`;
 * as `reduce_max` does, the derivative splits evenly among those ties. Those `j` are found with the
 * recurrence `S[i] = same[i] * S[i-1] + loc[i] * t[i]` (the extreme either stays, keeping its
 * positions, or jumps to the new element alone).
 */
export const chooserScan = (x: JArray, y: JArray, axis: number, reverse: boolean): ChooserScan => {
  const loc = toFloat(eq(x, y))
  const same = toFloat(eq(y, shift(y, axis, 1, 0, reverse)))
  return { loc, same, count: linearRecurrence(same, loc, axis, reverse) }
}

/** The running products before each position (exclusive `cumprod`), from the inclusive ones. */
export const exclusiveProducts = (y: JArray, axis: number, reverse: boolean): JArray => shift(y, axis, 1, 1, reverse)

/**
 * For `reduce_prod`: `x` rearranged to `[...kept, n]` (the reduced axes flattened last) and, for each
 * element, the product of all the others in its reduction (exact with zeros: the product of the
 * exclusive prefix and suffix products).
 */
export interface ProdLayout {
  readonly perm: ReadonlyArray<number>
  readonly movedShape: ReadonlyArray<number>
  readonly flatShape: ReadonlyArray<number>
  readonly n: number
}

export const prodLayout = (shape: Shape, axes: ReadonlyArray<number>): ProdLayout => {
  const kept = range(shape.length).filter((i) => !axes.includes(i))
  // The reduced axes in the caller's order: toProdLayout and fromProdLayout use the same permutation,
  // and the product of the others is symmetric in the flattened block.
  const perm = [...kept, ...axes]
  const movedShape = perm.map((i) => shape[i]!)
  const n = axes.reduce((p, i) => p * shape[i]!, 1)
  return { perm, movedShape, flatShape: [...kept.map((i) => shape[i]!), n], n }
}

export const toProdLayout = (x: JArray, l: ProdLayout): JArray => reshape(transpose(x, l.perm), l.flatShape)
export const fromProdLayout = (x: JArray, l: ProdLayout): JArray =>
  transpose(reshape(x, l.movedShape), inversePermutation(l.perm))

export const productOfOthers = (z: JArray): JArray => {
  const last = z.ndim - 1
  const before = exclusiveProducts(bind1("cumprod", [z], { axis: last, reverse: false }), last, false)
  const after = exclusiveProducts(bind1("cumprod", [z], { axis: last, reverse: true }), last, true)
  return mul(before, after)
}

// ---- indexing ----------------------------------------------------------------------------------

/**
 * Where each index row of a gather/scatter is in bounds, broadcast over the gathered shape
 * `[...batch, ...idx, ...rest]`.
 */
export const inBoundsMask = (operandShape: Shape, indices: JArray, p: GatherParams, gatheredShape: Shape): JArray => {
  const axes = normalizeAxes("gather", p.indexedAxes, operandShape.length)
  const k = axes.length
  const rank = indices.ndim
  const d = indices.dtype
  const bounds = fromHost(
    d === "uint32" ? Uint32Array.from(axes, (a) => operandShape[a]!) : Int32Array.from(axes, (a) => operandShape[a]!),
    [...new Array<number>(rank - 1).fill(1), k],
    d
  )
  let ok = bind1("lt", [indices, bounds], {})
  if (d !== "uint32") ok = bind1("and", [ok, bind1("ge", [indices, constant(0, rank, d)], {})], {})
  const rows = bind1("reduce_and", [ok], { axes: [rank - 1] })
  return bind1("broadcast_in_dim", [rows], { shape: gatheredShape, broadcastDimensions: range(rank - 1) })
}

/**
 * `gather` that gives 0 (instead of the fill value, NaN) at out-of-bounds index rows in "fill" mode:
 * the derivative of a filled element is zero.
 */
export const gatherZeroFill = (x: JArray, indices: JArray, p: GatherParams): JArray => {
  const g = bind1("gather", [x, indices], p)
  if (p.mode !== "fill") return g
  return select(inBoundsMask(x.shape, indices, p, g.shape), g, constLike(0, g))
}

/**
 * For `scatter`'s updates cotangent: which update slices are the ones left in the output (the last
 * write wins among duplicate indices; out-of-bounds updates in "fill" mode are dropped). Scatters
 * each update row's id and reads back which id won at its position.
 */
export const scatterWinners = (operandShape: Shape, indices: JArray, updatesShape: Shape, p: GatherParams): JArray => {
  const lead = indices.shape.slice(0, -1)
  const rows = lead.reduce((a, b) => a * b, 1)
  const ids = bind1(
    "broadcast_in_dim",
    [reshape(bind1("iota", [], { dtype: "int32", shape: [rows], dimension: 0 }), lead)],
    {
      shape: updatesShape,
      broadcastDimensions: range(lead.length)
    }
  )
  // Every position read back is one an update row wrote (same indices, same mode): the initial
  // value is never read.
  const written = bind1("scatter", [full(operandShape, 0, "int32"), indices, ids], p)
  return eq(bind1("gather", [written, indices], p), ids)
}

// ---- sort ---------------------------------------------------------------------------------------

/** The permutation `sort` applies along `dimension` (int32 source positions, in the output's layout). */
export const sortPermutation = (keys: ReadonlyArray<JArray>, dimension: number, numKeys: number): JArray => {
  const shape = keys[0]!.shape
  const iota = bind1("iota", [], { dtype: "int32", shape, dimension })
  const outs = bind("sort", [...keys.slice(0, numKeys), iota], { dimension, numKeys })
  return outs[outs.length - 1]!
}

/** Layout for indexing along `axis` with every other axis as a gather batch axis. */
const alongAxis = (
  ndim: number,
  axis: number
): { readonly perm: Array<number>; readonly inv: Array<number>; readonly params: GatherParams } => {
  const perm = [...range(ndim).filter((i) => i !== axis), axis]
  return { perm, inv: inversePermutation(perm), params: { indexedAxes: [ndim - 1], batchDims: ndim - 1, mode: "clip" } }
}

/** `out[..., i, ...] = x[..., perm[i], ...]` along `axis` (`take_along_axis`). */
export const takeAlongAxis = (x: JArray, perm: JArray, axis: number): JArray => {
  const { perm: p, inv, params } = alongAxis(x.ndim, axis)
  const idx = transpose(perm, p)
  const g = bind1("gather", [transpose(x, p), reshape(idx, [...idx.shape, 1])], params)
  return transpose(g, inv)
}

/** The transpose of {@link takeAlongAxis}: `out[..., perm[i], ...] += ct[..., i, ...]`. */
export const scatterAlongAxis = (ct: JArray, perm: JArray, axis: number): JArray => {
  const { perm: p, inv, params } = alongAxis(ct.ndim, axis)
  const idx = transpose(perm, p)
  const c = transpose(ct, p)
  const s = bind1("scatter_add", [zeros(c.shape), reshape(idx, [...idx.shape, 1]), c], params)
  return transpose(s, inv)
}

export const normAxis = normalizeAxis
