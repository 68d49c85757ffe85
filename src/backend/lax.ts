/**
 * `lax`: direct, strict access to the primitives, like `jax.lax`. Operands must already share a dtype
 * and (for elementwise operations) have equal rank; use `jnp` for NumPy-style promotion and
 * broadcasting. Control flow (`scan`, `cond`, `whileLoop`, ...) joins this namespace with the core
 * transforms.
 *
 * @since 0.1.0
 */
import type { Array } from "./Array.ts"
import { isArray } from "./Array.ts"
import { bind, bind1 } from "./bind.ts"
import type { NumericDType } from "./DType.ts"
import type { GatherParams, PrimitiveParams, UnaryPrimitive, BinaryPrimitive } from "./Primitive.ts"
import { ArgumentError, DTypeError, ShapeError } from "./ArrayError.ts"
import { fromScalar } from "./numpy/creation.ts"
import { normalizeAxis } from "./shape.ts"

const un =
  (p: UnaryPrimitive) =>
  (x: Array): Array =>
    bind1(p, [x], {})
const bin =
  (p: BinaryPrimitive) =>
  (x: Array, y: Array): Array =>
    bind1(p, [x, y], {})

export const neg = un("neg")
export const exp = un("exp")
export const log = un("log")
export const log1p = un("log1p")
export const expm1 = un("expm1")
export const sin = un("sin")
export const cos = un("cos")
export const tanh = un("tanh")
export const logistic = un("logistic")
export const sqrt = un("sqrt")
export const rsqrt = un("rsqrt")
export const abs = un("abs")
export const sign = un("sign")
export const floor = un("floor")
export const ceil = un("ceil")
export const erf = un("erf")
export const erfInv = un("erf_inv")
export const not = un("not")
export const isFinite = un("is_finite")
export const round = (x: Array, method: "awayFromZero" | "toNearestEven" = "awayFromZero"): Array =>
  bind1("round", [x], { method })

export const add = bin("add")
export const sub = bin("sub")
export const mul = bin("mul")
export const div = bin("div")
export const rem = bin("rem")
export const pow = bin("pow")
export const max = bin("max")
export const min = bin("min")
export const bitwiseAnd = bin("and")
export const bitwiseOr = bin("or")
export const bitwiseXor = bin("xor")
export const shiftLeft = bin("shift_left")
export const shiftRightLogical = bin("shift_right_logical")
export const shiftRightArithmetic = bin("shift_right_arithmetic")
export const nextafter = bin("nextafter")
export const atan2 = bin("atan2")
export const eq = bin("eq")
export const ne = bin("ne")
export const lt = bin("lt")
export const le = bin("le")
export const gt = bin("gt")
export const ge = bin("ge")

/**
 * `lax.complex(re, im)`: a complex64 array from float32 real and imaginary parts (same dtype, equal
 * rank; size-1 dimensions broadcast).
 */
export const complex = (re: Array, im: Array): Array => bind1("complex", [re, im], {})
export const real = (x: Array): Array => bind1("real", [x], {})
export const imag = (x: Array): Array => bind1("imag", [x], {})
export const conj = (x: Array): Array => bind1("conj", [x], {})

/**
 * `lax.fft(x, fftType, fftLengths)`: a transform over the trailing `fftLengths.length` axes (1 to 3).
 * `FFT`/`IFFT` take complex64; `RFFT` float32 (the last axis of `n` becomes `n/2 + 1`); `IRFFT`
 * complex64 with `n/2 + 1` values in the last axis, giving `n` float32s.
 */
export const fft = (x: Array, fftType: PrimitiveParams["fft"]["fftType"], fftLengths: ReadonlyArray<number>): Array =>
  bind1("fft", [x], { fftType, fftLengths })

/** `select(pred, onTrue, onFalse)`: elementwise choice. */
export const select = (pred: Array, onTrue: Array, onFalse: Array): Array =>
  bind1("select", [pred, onTrue, onFalse], {})

export const convertElementType = (x: Array, newDtype: NumericDType, weakType = false): Array =>
  x.dtype === newDtype && x.weakType === weakType ? x : bind1("convert_element_type", [x], { newDtype, weakType })
export const bitcastConvertType = (x: Array, newDtype: "float32" | "int32" | "uint32"): Array =>
  bind1("bitcast_convert_type", [x], { newDtype })

export const broadcastInDim = (
  x: Array,
  shape: ReadonlyArray<number>,
  broadcastDimensions: ReadonlyArray<number>
): Array => bind1("broadcast_in_dim", [x], { shape, broadcastDimensions })
export const reshape = (x: Array, newSizes: ReadonlyArray<number>): Array => bind1("reshape", [x], { newSizes })
export const transpose = (x: Array, permutation: ReadonlyArray<number>): Array =>
  bind1("transpose", [x], { permutation })
export const squeeze = (x: Array, dimensions: ReadonlyArray<number>): Array => bind1("squeeze", [x], { dimensions })
export const expandDims = (x: Array, dimensions: ReadonlyArray<number>): Array =>
  bind1("expand_dims", [x], { dimensions })
export const slice = (
  x: Array,
  startIndices: ReadonlyArray<number>,
  limitIndices: ReadonlyArray<number>,
  strides?: ReadonlyArray<number>
): Array => bind1("slice", [x], { startIndices, limitIndices, strides: strides ?? startIndices.map(() => 1) })

/**
 * A start index as JAX's `lax.dynamic_slice` takes it: a negative index counts from the end (it is
 * wrapped once, before the primitive clamps the window into bounds), so `dynamicSlice(arange(5), [-2],
 * [2])` is `[3, 4]`.
 */
const startIndex = (i: Array | number, dim: number): Array => {
  if (typeof i === "number") return fromScalar(i < 0 ? i + dim : i, "int32")
  if (i.dtype !== "int32") return i
  const zero = fromScalar(0, "int32")
  const neg = bind1("lt", [i, zero], {})
  return bind1("select", [neg, bind1("add", [i, fromScalar(dim, "int32")], {}), i], {})
}
export const dynamicSlice = (
  x: Array,
  startIndices: ReadonlyArray<Array | number>,
  sliceSizes: ReadonlyArray<number>
): Array => bind1("dynamic_slice", [x, ...startIndices.map((i, d) => startIndex(i, x.shape[d] ?? 0))], { sliceSizes })
export const dynamicUpdateSlice = (x: Array, update: Array, startIndices: ReadonlyArray<Array | number>): Array =>
  bind1("dynamic_update_slice", [x, update, ...startIndices.map((i, d) => startIndex(i, x.shape[d] ?? 0))], {})
export const concatenate = (xs: ReadonlyArray<Array>, dimension: number): Array =>
  bind1("concatenate", xs, { dimension })
/**
 * JAX's `lax.pad`: `config` gives `(low, high, interior)` per axis. Negative low or high amounts crop
 * (after interior padding), as in XLA; interior padding must be non-negative.
 */
export const pad = (x: Array, padValue: Array, config: PrimitiveParams["pad"]["config"]): Array => {
  if (config.every(([lo, hi]) => lo >= 0 && hi >= 0)) return bind1("pad", [x, padValue], { config })
  const grown = bind1("pad", [x, padValue], {
    config: config.map(([lo, hi, interior]) => [Math.max(lo, 0), Math.max(hi, 0), interior] as const)
  })
  config.forEach(([lo, hi], d) => {
    if (grown.shape[d]! + Math.min(lo, 0) + Math.min(hi, 0) < 0)
      throw new ShapeError({
        op: "pad",
        shapes: [x.shape],
        reason: `padding (${lo}, ${hi}) of axis ${d} crops more than its ${grown.shape[d]! - Math.max(lo, 0) - Math.max(hi, 0)} elements`
      })
  })
  return bind1("slice", [grown], {
    startIndices: config.map(([lo]) => Math.max(-lo, 0)),
    limitIndices: config.map(([, hi], d) => grown.shape[d]! - Math.max(-hi, 0)),
    strides: config.map(() => 1)
  })
}
export const gather = (x: Array, indices: Array, params: GatherParams): Array => bind1("gather", [x, indices], params)
export const scatter = (x: Array, indices: Array, updates: Array, params: GatherParams): Array =>
  bind1("scatter", [x, indices, updates], params)
export const scatterAdd = (x: Array, indices: Array, updates: Array, params: GatherParams): Array =>
  bind1("scatter_add", [x, indices, updates], params)
export const iota = (dtype: "int32" | "uint32" | "float32", shape: ReadonlyArray<number>, dimension = 0): Array =>
  bind1("iota", [], { dtype, shape, dimension })

export const reduceSum = (x: Array, axes: ReadonlyArray<number>): Array => bind1("reduce_sum", [x], { axes })
export const reduceMax = (x: Array, axes: ReadonlyArray<number>): Array => bind1("reduce_max", [x], { axes })
export const reduceMin = (x: Array, axes: ReadonlyArray<number>): Array => bind1("reduce_min", [x], { axes })
export const reduceProd = (x: Array, axes: ReadonlyArray<number>): Array => bind1("reduce_prod", [x], { axes })
export const reduceAnd = (x: Array, axes: ReadonlyArray<number>): Array => bind1("reduce_and", [x], { axes })
export const reduceOr = (x: Array, axes: ReadonlyArray<number>): Array => bind1("reduce_or", [x], { axes })
export const argmax = (x: Array, axis: number): Array => bind1("argmax", [x], { axis, indexDtype: "int32" })
export const argmin = (x: Array, axis: number): Array => bind1("argmin", [x], { axis, indexDtype: "int32" })
export const cumsum = (x: Array, axis: number, reverse = false): Array => bind1("cumsum", [x], { axis, reverse })
export const cumprod = (x: Array, axis: number, reverse = false): Array => bind1("cumprod", [x], { axis, reverse })
export const cummax = (x: Array, axis: number, reverse = false): Array => bind1("cummax", [x], { axis, reverse })
export const cummin = (x: Array, axis: number, reverse = false): Array => bind1("cummin", [x], { axis, reverse })

/** `dot_general` with `[[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]]`, as in `jax.lax`. */
export const dotGeneral = (
  lhs: Array,
  rhs: Array,
  dimensionNumbers: readonly [
    readonly [ReadonlyArray<number>, ReadonlyArray<number>],
    readonly [ReadonlyArray<number>, ReadonlyArray<number>]
  ]
): Array =>
  bind1("dot_general", [lhs, rhs], {
    lhsContracting: dimensionNumbers[0][0],
    rhsContracting: dimensionNumbers[0][1],
    lhsBatch: dimensionNumbers[1][0],
    rhsBatch: dimensionNumbers[1][1]
  })

/**
 * Sorts operands along `dimension`, lexicographically by the first `numKeys`; stable, with NaN last
 * and -0 tying with +0. As in JAX, one Array gives one Array, a list of operands a list.
 */
export function sort(operand: Array, dimension?: number, numKeys?: number): Array
export function sort(operands: ReadonlyArray<Array>, dimension?: number, numKeys?: number): Array[]
export function sort(operands: Array | ReadonlyArray<Array>, dimension = -1, numKeys = 1): Array | Array[] {
  if (globalThis.Array.isArray(operands)) return bind("sort", operands, { dimension, numKeys })
  if (!isArray(operands)) {
    throw new ArgumentError({ op: "sort", reason: "expected an Array or a list of Arrays to sort" })
  }
  return bind1("sort", [operands], { dimension, numKeys })
}
/** Sorts `keys` and permutes `values` alongside. */
export const sortKeyVal = (keys: Array, values: Array, dimension = -1): readonly [Array, Array] => {
  const [k, v] = bind("sort", [keys, values], { dimension, numKeys: 1 })
  return [k!, v!]
}

/** The threefry2x32 block cipher on uint32 words: `(k1, k2, x1, x2) => [y1, y2]`. */
export const threefry2x32 = (k1: Array, k2: Array, x1: Array, x2: Array): readonly [Array, Array] => {
  const [a, b] = bind("threefry2x32", [k1, k2, x1, x2], {})
  return [a!, b!]
}
export const randomWrap = (data: Array): Array => bind1("random_wrap", [data], {})
export const randomUnwrap = (keys: Array): Array => bind1("random_unwrap", [keys], {})

/**
 * `dynamicSlice` along one axis: `sliceSize` elements of `x` from `startIndex` on `axis`, every other
 * axis whole, like `jax.lax.dynamic_slice_in_dim`. The start may be a traced int32 scalar; a negative
 * one counts from the end, and the window is clamped into bounds.
 */
export const dynamicSliceInDim = (x: Array, startIndex: Array | number, sliceSize: number, axis = 0): Array => {
  const ax = normalizeAxis("lax.dynamicSliceInDim", axis, x.ndim)
  return dynamicSlice(
    x,
    x.shape.map((_, d) => (d === ax ? startIndex : 0)),
    x.shape.map((n, d) => (d === ax ? sliceSize : n))
  )
}

/** `dynamicUpdateSlice` along one axis, like `jax.lax.dynamic_update_slice_in_dim`. */
export const dynamicUpdateSliceInDim = (x: Array, update: Array, startIndex: Array | number, axis: number): Array => {
  const ax = normalizeAxis("lax.dynamicUpdateSliceInDim", axis, x.ndim)
  return dynamicUpdateSlice(
    x,
    update,
    x.shape.map((_, d) => (d === ax ? startIndex : 0))
  )
}

/**
 * The `k` largest entries along the last axis and their int32 indices, largest first, like
 * `jax.lax.top_k`; equal values keep their order (the lower index first). It is a stable sort on a
 * key that reverses the order: the negation for floats and the bitwise complement for integers
 * (which, unlike negation, cannot overflow).
 */
export const topK = (x: Array, k: number): readonly [Array, Array] => {
  const op = "lax.topK"
  if (x.ndim === 0) throw new ShapeError({ op, shapes: [x.shape], reason: "the operand needs at least one dimension" })
  const n = x.shape[x.ndim - 1]!
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ArgumentError({ op, reason: `k must be an integer in [0, ${n}] (the size of the last axis), got ${k}` })
  }
  const last = x.ndim - 1
  if (x.dtype !== "float32" && x.dtype !== "int32" && x.dtype !== "uint32") {
    throw new DTypeError({ op, dtypes: [x.dtype], reason: "the operand must be float32, int32 or uint32" })
  }
  const key = x.dtype === "float32" ? neg(x) : not(x)
  const [, values, indices] = sort([key, x, iota("int32", x.shape, last)], last, 1)
  const limit = x.shape.map((d, i) => (i === last ? k : d))
  const start = x.shape.map(() => 0)
  return [slice(values!, start, limit), slice(indices!, start, limit)]
}
