/**
 * The closed set of primitives every array operation lowers to, with typed parameters and shape/dtype
 * inference. Each later table (kernels per backend, batching, JVP and transpose rules) is a total mapped
 * type over {@link Primitive}, so adding a primitive without its rules does not compile.
 *
 * Conventions follow XLA/`jax.lax`: operands of elementwise primitives already share a dtype (`jnp`
 * promotes first) and have equal rank; a dimension of size 1 broadcasts against the other operand, so
 * no broadcast has to be materialised before a kernel.
 *
 * @since 0.1.0
 */
import { ArgumentError, AxisError, DTypeError, ShapeError } from "./ArrayError.ts"
import type { Aval, DType, NumericDType } from "./DType.ts"
import { isDType } from "./DType.ts"
import { normalizeAxes, normalizeAxis, shapeEquals, sizeOf } from "./shape.ts"
import type { Shape } from "./shape.ts"
import type { ClosedJaxpr } from "./Jaxpr.ts"
import { outAvals } from "./Jaxpr.ts"
import type { Array as JArray } from "./Array.ts"
import { convOutputShape, reduceWindowShape } from "./conv.ts"
import type { ConvParams, ReduceWindowParams } from "./conv.ts"

/** Elementwise unary primitives. */
export type UnaryPrimitive =
  | "neg"
  | "exp"
  | "log"
  | "sin"
  | "cos"
  | "tanh"
  | "logistic"
  | "sqrt"
  | "rsqrt"
  | "abs"
  | "sign"
  | "floor"
  | "ceil"
  | "erf"
  | "erf_inv"
  | "log1p"
  | "expm1"
  | "not"
  | "is_finite"

/** Elementwise binary primitives with an output of the operands' dtype. */
export type ArithmeticPrimitive =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "rem"
  | "pow"
  | "max"
  | "min"
  | "and"
  | "or"
  | "xor"
  | "shift_left"
  | "shift_right_logical"
  | "shift_right_arithmetic"
  | "nextafter"
  | "atan2"

/** Elementwise comparisons, with a `bool` output. */
export type ComparisonPrimitive = "eq" | "ne" | "lt" | "le" | "gt" | "ge"

export type BinaryPrimitive = ArithmeticPrimitive | ComparisonPrimitive

export type ReducePrimitive = "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod" | "reduce_and" | "reduce_or"
export type CumulativePrimitive = "cumsum" | "cumprod" | "cummax" | "cummin"

/**
 * How `gather`/`scatter` treat an out-of-bounds index: clamp it, or fill the output / drop the
 * update. `"promise_in_bounds"` is XLA's behaviour when indices are promised in range: gathers clamp
 * and scatters drop, so the gradient of a clamped read (a scatter-add) ignores out-of-bounds reads,
 * as JAX's default indexing does.
 */
export type IndexMode = "clip" | "fill" | "promise_in_bounds"

/**
 * Parameters of `gather`, `scatter` and `scatter_add`. The indices array has shape
 * `[...batch, ...idx, k]` with `k = indexedAxes.length`; the first `batchDims` axes of operand and
 * indices are paired batch axes. The gathered output has shape
 * `[...batch, ...idx, ...(operand axes neither batch nor indexed)]`.
 */
export interface GatherParams {
  readonly indexedAxes: ReadonlyArray<number>
  readonly batchDims: number
  readonly mode: IndexMode
}

type NoParams = { readonly [k: string]: never }

/**
 * The kinds of `fft` (XLA's `FftType`): complex to complex forward and inverse (`IFFT` divides by the
 * transform's size), real to half-spectrum (`RFFT`: the last axis of `n` becomes `n/2 + 1`) and back
 * (`IRFFT`: reads `n/2 + 1` values of the last axis, returns `n` reals).
 */
export type FftType = "FFT" | "IFFT" | "RFFT" | "IRFFT"

/** The complex-number primitives: parts, conjugate, and building from parts (`lax.complex`). */
export type ComplexPrimitive = "real" | "imag" | "conj" | "complex"

/**
 * Each primitive's parameters.
 * @category models
 * @since 0.1.0
 */
export interface PrimitiveParams
  extends Record<UnaryPrimitive, NoParams>,
    Record<ArithmeticPrimitive, NoParams>,
    Record<ComparisonPrimitive, NoParams>,
    Record<ReducePrimitive, { readonly axes: ReadonlyArray<number> }>,
    Record<CumulativePrimitive, { readonly axis: number; readonly reverse: boolean }>,
    Record<ComplexPrimitive, NoParams> {
  /** `jax.lax.fft`: a transform over the trailing `fftLengths.length` axes (at most 3, as XLA). */
  readonly fft: { readonly fftType: FftType; readonly fftLengths: ReadonlyArray<number> }
  /**
   * `jax.lax.linalg.eig` with right eigenvectors only: `[..., n, n]` (float32 or complex64) to
   * eigenvalues `[..., n]` and, with `vectors`, eigenvectors `[..., n, n]` (columns), complex64.
   */
  readonly eig: { readonly vectors: boolean }
  readonly round: { readonly method: "awayFromZero" | "toNearestEven" }
  readonly select: NoParams
  readonly convert_element_type: { readonly newDtype: NumericDType; readonly weakType: boolean }
  readonly bitcast_convert_type: { readonly newDtype: "float32" | "int32" | "uint32" }
  readonly broadcast_in_dim: { readonly shape: Shape; readonly broadcastDimensions: ReadonlyArray<number> }
  readonly reshape: { readonly newSizes: Shape }
  readonly transpose: { readonly permutation: ReadonlyArray<number> }
  readonly squeeze: { readonly dimensions: ReadonlyArray<number> }
  readonly expand_dims: { readonly dimensions: ReadonlyArray<number> }
  readonly slice: {
    readonly startIndices: ReadonlyArray<number>
    readonly limitIndices: ReadonlyArray<number>
    readonly strides: ReadonlyArray<number>
  }
  readonly dynamic_slice: { readonly sliceSizes: ReadonlyArray<number> }
  readonly dynamic_update_slice: NoParams
  readonly concatenate: { readonly dimension: number }
  readonly pad: { readonly config: ReadonlyArray<readonly [lo: number, hi: number, interior: number]> }
  readonly gather: GatherParams
  readonly scatter: GatherParams
  readonly scatter_add: GatherParams
  readonly iota: { readonly dtype: "int32" | "uint32" | "float32"; readonly shape: Shape; readonly dimension: number }
  readonly argmax: { readonly axis: number; readonly indexDtype: "int32" }
  readonly argmin: { readonly axis: number; readonly indexDtype: "int32" }
  readonly dot_general: {
    readonly lhsContracting: ReadonlyArray<number>
    readonly rhsContracting: ReadonlyArray<number>
    readonly lhsBatch: ReadonlyArray<number>
    readonly rhsBatch: ReadonlyArray<number>
  }
  readonly sort: { readonly dimension: number; readonly numKeys: number }
  /** `jax.lax.conv_general_dilated` with explicit padding and dimension numbers (see `conv.ts`). */
  readonly conv_general_dilated: ConvParams
  /** `jax.lax.reduce_window` for the sum, max and min monoids, starting from their identity. */
  readonly reduce_window: ReduceWindowParams
  readonly threefry2x32: NoParams
  readonly random_wrap: NoParams
  readonly random_unwrap: NoParams
  readonly stop_gradient: NoParams
  /**
   * `scan`: inputs `[...consts, ...carry, ...xs]`, outputs `[...carry, ...ys]`; `jaxpr` maps
   * `[...consts, ...carry, ...x slices]` to `[...carry, ...y slices]`.
   */
  readonly scan: {
    readonly jaxpr: ClosedJaxpr
    readonly numConsts: number
    readonly numCarry: number
    readonly length: number
    readonly reverse: boolean
  }
  /** `cond`/`switch`: inputs `[index, ...operands]`; runs `branches[clamp(index)]`. */
  readonly cond: { readonly branches: ReadonlyArray<ClosedJaxpr> }
  /** `while`: inputs `[...condConsts, ...bodyConsts, ...carry]`, outputs the final carry. */
  readonly while: {
    readonly cond: ClosedJaxpr
    readonly body: ClosedJaxpr
    readonly condNumConsts: number
    readonly bodyNumConsts: number
  }
  /** A function with a user-defined JVP: evaluates `call`; differentiation uses `jvp`. */
  readonly custom_jvp_call: {
    readonly call: ClosedJaxpr
    readonly jvp: (
      primals: ReadonlyArray<JArray>,
      tangents: ReadonlyArray<JArray>
    ) => readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray>]
    readonly symbolicZeros: boolean
  }
  /** A function with a user-defined VJP: evaluates `call`; reverse mode uses `fwd` then `bwd`. */
  readonly custom_vjp_call: {
    readonly call: ClosedJaxpr
    readonly fwd: (primals: ReadonlyArray<JArray>) => readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray>]
    readonly bwd: (residuals: ReadonlyArray<JArray>, cotangents: ReadonlyArray<JArray>) => ReadonlyArray<JArray>
  }
  /** `checkpoint`/`remat`: evaluates `jaxpr`; reverse mode recomputes it instead of storing residuals. */
  readonly checkpoint: { readonly jaxpr: ClosedJaxpr }
}

/**
 * The closed union of primitive names.
 * @category models
 * @since 0.1.0
 */
export type Primitive = keyof PrimitiveParams

/** Primitives whose parameters hold programs; they are interpreted, not run by a backend kernel. */
export type HigherOrderPrimitive = "scan" | "cond" | "while" | "custom_jvp_call" | "custom_vjp_call" | "checkpoint"

/** Primitives a backend runs with a kernel. */
export type FirstOrderPrimitive = Exclude<Primitive, HigherOrderPrimitive>

export const higherOrderPrimitives: ReadonlySet<Primitive> = new Set<Primitive>([
  "scan",
  "cond",
  "while",
  "custom_jvp_call",
  "custom_vjp_call",
  "checkpoint"
])

export const isHigherOrder = (p: Primitive): p is HigherOrderPrimitive => higherOrderPrimitives.has(p)

/** Parameters of primitive `P`. */
export type Params<P extends Primitive> = PrimitiveParams[P]

/** A table with one entry per primitive; a missing entry is a compile error. */
export type PrimitiveTable<F extends { [P in Primitive]: unknown }> = { readonly [P in Primitive]: F[P] }

const floatOnly: ReadonlyArray<DType> = ["float32"]
const intsAndFloat: ReadonlyArray<DType> = ["float32", "int32", "uint32"]
const signedAndFloat: ReadonlyArray<DType> = ["float32", "int32"]
const numeric: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool"]
const bitwise: ReadonlyArray<DType> = ["bool", "int32", "uint32"]
const ints: ReadonlyArray<DType> = ["int32", "uint32"]
const floatOrComplex: ReadonlyArray<DType> = ["float32", "complex64"]
const numericOrComplex: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool", "complex64"]

/**
 * The elementwise primitives with complex64 kernels (arithmetic, `exp`, `log`, `sqrt`, `sin`, `cos`,
 * `tanh`, ..., `abs`, `sign` as `z / |z|`, comparisons: ordering ones lexicographic, as JAX's); the
 * others refuse complex64 with a DTypeError.
 */
export const complexElementwise: ReadonlySet<Primitive> = new Set<Primitive>([
  "neg",
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "abs",
  "sign",
  "sin",
  "cos",
  "tanh",
  "logistic",
  "log1p",
  "expm1",
  "add",
  "sub",
  "mul",
  "div",
  "max",
  "min",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge"
])

/**
 * The real dtypes each elementwise primitive accepts (every backend has kernels for them); complex64
 * is accepted besides by the primitives in {@link complexElementwise}.
 */
export const elementwiseDTypes: { readonly [P in UnaryPrimitive | BinaryPrimitive | "round"]: ReadonlyArray<DType> } = {
  neg: intsAndFloat,
  exp: floatOnly,
  log: floatOnly,
  sin: floatOnly,
  cos: floatOnly,
  tanh: floatOnly,
  logistic: floatOnly,
  sqrt: floatOnly,
  rsqrt: floatOnly,
  abs: signedAndFloat,
  sign: signedAndFloat,
  floor: floatOnly,
  ceil: floatOnly,
  round: floatOnly,
  erf: floatOnly,
  erf_inv: floatOnly,
  log1p: floatOnly,
  expm1: floatOnly,
  not: bitwise,
  is_finite: floatOnly,
  add: intsAndFloat,
  sub: intsAndFloat,
  mul: intsAndFloat,
  div: intsAndFloat,
  rem: intsAndFloat,
  pow: intsAndFloat,
  max: numeric,
  min: numeric,
  and: bitwise,
  or: bitwise,
  xor: bitwise,
  shift_left: ints,
  shift_right_logical: ints,
  shift_right_arithmetic: ints,
  nextafter: floatOnly,
  atan2: floatOnly,
  eq: numeric,
  ne: numeric,
  lt: numeric,
  le: numeric,
  gt: numeric,
  ge: numeric
}

/** The dtypes an elementwise primitive accepts: {@link elementwiseDTypes}, plus complex64 for {@link complexElementwise}. */
const acceptedDTypes = (op: UnaryPrimitive | BinaryPrimitive | "round"): ReadonlyArray<DType> =>
  complexElementwise.has(op) ? [...elementwiseDTypes[op], "complex64"] : elementwiseDTypes[op]

const checkDType = (op: string, avals: ReadonlyArray<Aval>, allowed: ReadonlyArray<DType>): void => {
  for (const a of avals) {
    if (!allowed.includes(a.dtype)) {
      throw new DTypeError({ op, dtypes: avals.map((x) => x.dtype), reason: `expected ${allowed.join(" or ")}` })
    }
  }
}

const sameDType = (op: string, avals: ReadonlyArray<Aval>): void => {
  const d = avals[0]?.dtype
  if (avals.some((a) => a.dtype !== d)) {
    throw new DTypeError({
      op,
      dtypes: avals.map((a) => a.dtype),
      reason: "operands must share one dtype (promote first)"
    })
  }
}

/** Equal-rank broadcasting: each dimension equal across operands or 1. */
export const elementwiseShape = (op: string, avals: ReadonlyArray<Aval>): Array<number> => {
  const nd = avals[0]!.shape.length
  const out = avals[0]!.shape.slice()
  for (const a of avals) {
    if (a.shape.length !== nd) {
      throw new ShapeError({ op, shapes: avals.map((x) => x.shape), reason: "operands must have equal rank" })
    }
    for (let i = 0; i < nd; i++) {
      const d = a.shape[i]!
      if (out[i] === 1) out[i] = d
      else if (d !== 1 && d !== out[i]) {
        throw new ShapeError({
          op,
          shapes: avals.map((x) => x.shape),
          reason: `dimension ${i} differs (${out[i]} vs ${d})`
        })
      }
    }
  }
  return out
}

const arity = (op: string, avals: ReadonlyArray<Aval>, n: number): void => {
  if (avals.length !== n) throw new ArgumentError({ op, reason: `expected ${n} operands, got ${avals.length}` })
}

const av = (shape: ReadonlyArray<number>, dtype: DType, weakType = false): Aval => ({ shape, dtype, weakType })

const unary =
  (op: UnaryPrimitive | "round") =>
  (avals: ReadonlyArray<Aval>): Array<Aval> => {
    arity(op, avals, 1)
    checkDType(op, avals, acceptedDTypes(op))
    const a = avals[0]!
    if (op === "abs" && a.dtype === "complex64") return [av(a.shape, "float32", a.weakType)]
    return [op === "is_finite" ? av(a.shape, "bool") : a]
  }

const arithmetic =
  (op: ArithmeticPrimitive) =>
  (avals: ReadonlyArray<Aval>): Array<Aval> => {
    arity(op, avals, 2)
    checkDType(op, avals, acceptedDTypes(op))
    sameDType(op, avals)
    return [av(elementwiseShape(op, avals), avals[0]!.dtype, avals[0]!.weakType && avals[1]!.weakType)]
  }

const comparison =
  (op: ComparisonPrimitive) =>
  (avals: ReadonlyArray<Aval>): Array<Aval> => {
    arity(op, avals, 2)
    checkDType(op, avals, acceptedDTypes(op))
    sameDType(op, avals)
    return [av(elementwiseShape(op, avals), "bool")]
  }

const reduce =
  (op: ReducePrimitive) =>
  (avals: ReadonlyArray<Aval>, p: { readonly axes: ReadonlyArray<number> }): Array<Aval> => {
    arity(op, avals, 1)
    const a = avals[0]!
    checkDType(
      op,
      avals,
      op === "reduce_and" || op === "reduce_or"
        ? ["bool"]
        : op === "reduce_sum" || op === "reduce_prod"
          ? numericOrComplex
          : numeric
    )
    const axes = normalizeAxes(op, p.axes, a.shape.length)
    if (op === "reduce_max" || op === "reduce_min") {
      for (const ax of axes) {
        if (a.shape[ax] === 0)
          throw new ShapeError({ op, shapes: [a.shape], reason: `zero-size axis ${ax} has no identity` })
      }
    }
    return [
      av(
        a.shape.filter((_, i) => !axes.includes(i)),
        a.dtype,
        a.weakType
      )
    ]
  }

const cumulative =
  (op: CumulativePrimitive) =>
  (avals: ReadonlyArray<Aval>, p: { readonly axis: number }): Array<Aval> => {
    arity(op, avals, 1)
    checkDType(op, avals, op === "cumsum" || op === "cumprod" ? numericOrComplex : numeric)
    normalizeAxis(op, p.axis, avals[0]!.shape.length)
    return [avals[0]!]
  }

const checkIndices = (op: string, idx: Aval): void => {
  if (idx.dtype !== "int32" && idx.dtype !== "uint32") {
    throw new DTypeError({ op, dtypes: [idx.dtype], reason: "indices must be int32 or uint32" })
  }
}

const isPerm = (p: ReadonlyArray<number>, n: number): boolean =>
  p.length === n && new Set(p).size === n && p.every((x) => Number.isInteger(x) && x >= 0 && x < n)

/** The output shape of a gather, validating its parameters. */
export const gatherShape = (op: string, operand: Shape, indices: Shape, p: GatherParams): Array<number> => {
  const k = p.indexedAxes.length
  const b = p.batchDims
  if (indices.length < b + 1 || indices[indices.length - 1] !== k) {
    throw new ShapeError({
      op,
      shapes: [operand, indices],
      reason: `indices must end in a dimension of size ${k} (one per indexed axis) after ${b} batch dims`
    })
  }
  for (let i = 0; i < b; i++) {
    if (operand[i] !== indices[i])
      throw new ShapeError({ op, shapes: [operand, indices], reason: `batch dimension ${i} differs` })
  }
  const ax = normalizeAxes(op, p.indexedAxes, operand.length)
  if (ax.some((a) => a < b))
    throw new AxisError({ op, axis: p.indexedAxes, ndim: operand.length, reason: "an indexed axis is a batch axis" })
  const rest = operand.filter((_, i) => i >= b && !ax.includes(i))
  return [...indices.slice(0, indices.length - 1), ...rest]
}

/** Shape and dtype inference, one function per primitive; throws typed errors on bad input. */
export type AbstractEval<P extends Primitive> = (avals: ReadonlyArray<Aval>, params: Params<P>) => Array<Aval>

export const abstractEval: { readonly [P in Primitive]: AbstractEval<P> } = {
  neg: unary("neg"),
  exp: unary("exp"),
  log: unary("log"),
  sin: unary("sin"),
  cos: unary("cos"),
  tanh: unary("tanh"),
  logistic: unary("logistic"),
  sqrt: unary("sqrt"),
  rsqrt: unary("rsqrt"),
  abs: unary("abs"),
  sign: unary("sign"),
  floor: unary("floor"),
  ceil: unary("ceil"),
  erf: unary("erf"),
  erf_inv: unary("erf_inv"),
  log1p: unary("log1p"),
  expm1: unary("expm1"),
  not: unary("not"),
  is_finite: unary("is_finite"),
  round: unary("round"),
  add: arithmetic("add"),
  sub: arithmetic("sub"),
  mul: arithmetic("mul"),
  div: arithmetic("div"),
  rem: arithmetic("rem"),
  pow: arithmetic("pow"),
  max: arithmetic("max"),
  min: arithmetic("min"),
  and: arithmetic("and"),
  or: arithmetic("or"),
  xor: arithmetic("xor"),
  shift_left: arithmetic("shift_left"),
  shift_right_logical: arithmetic("shift_right_logical"),
  shift_right_arithmetic: arithmetic("shift_right_arithmetic"),
  nextafter: arithmetic("nextafter"),
  atan2: arithmetic("atan2"),
  eq: comparison("eq"),
  ne: comparison("ne"),
  lt: comparison("lt"),
  le: comparison("le"),
  gt: comparison("gt"),
  ge: comparison("ge"),
  reduce_sum: reduce("reduce_sum"),
  reduce_max: reduce("reduce_max"),
  reduce_min: reduce("reduce_min"),
  reduce_prod: reduce("reduce_prod"),
  reduce_and: reduce("reduce_and"),
  reduce_or: reduce("reduce_or"),
  cumsum: cumulative("cumsum"),
  cumprod: cumulative("cumprod"),
  cummax: cumulative("cummax"),
  cummin: cumulative("cummin"),
  select: (avals) => {
    arity("select", avals, 3)
    const [pred, a, b] = avals as [Aval, Aval, Aval]
    if (pred.dtype !== "bool")
      throw new DTypeError({ op: "select", dtypes: [pred.dtype], reason: "the predicate must be bool" })
    sameDType("select", [a, b])
    return [av(elementwiseShape("select", avals), a.dtype, a.weakType && b.weakType)]
  },
  convert_element_type: (avals, p) => {
    arity("convert_element_type", avals, 1)
    checkDType("convert_element_type", avals, numericOrComplex)
    if (!isDType(p.newDtype) || (p.newDtype as DType) === "key<fry>") {
      throw new DTypeError({ op: "convert_element_type", dtypes: [String(p.newDtype)], reason: "not a numeric dtype" })
    }
    return [av(avals[0]!.shape, p.newDtype, p.weakType)]
  },
  bitcast_convert_type: (avals, p) => {
    arity("bitcast_convert_type", avals, 1)
    checkDType("bitcast_convert_type", avals, intsAndFloat)
    return [av(avals[0]!.shape, p.newDtype)]
  },
  broadcast_in_dim: (avals, p) => {
    arity("broadcast_in_dim", avals, 1)
    const a = avals[0]!
    const bd = p.broadcastDimensions
    if (
      bd.length !== a.shape.length ||
      bd.some((d, i) => !Number.isInteger(d) || d < 0 || d >= p.shape.length || (i > 0 && d <= bd[i - 1]!))
    ) {
      throw new ShapeError({
        op: "broadcast_in_dim",
        shapes: [a.shape, p.shape],
        reason: `broadcastDimensions ${JSON.stringify(bd)} must be strictly increasing, one per operand axis, inside the target rank`
      })
    }
    bd.forEach((d, i) => {
      const s = a.shape[i]!
      if (s !== 1 && s !== p.shape[d]) {
        throw new ShapeError({
          op: "broadcast_in_dim",
          shapes: [a.shape, p.shape],
          reason: `operand dimension ${i} (${s}) cannot broadcast to ${p.shape[d]}`
        })
      }
    })
    return [av(p.shape, a.dtype, a.weakType)]
  },
  reshape: (avals, p) => {
    arity("reshape", avals, 1)
    const a = avals[0]!
    if (p.newSizes.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(p.newSizes) !== sizeOf(a.shape)) {
      throw new ShapeError({
        op: "reshape",
        shapes: [a.shape, p.newSizes],
        reason: `cannot reshape ${sizeOf(a.shape)} elements into the new shape`
      })
    }
    return [av(p.newSizes, a.dtype, a.weakType)]
  },
  transpose: (avals, p) => {
    arity("transpose", avals, 1)
    const a = avals[0]!
    if (!isPerm(p.permutation, a.shape.length)) {
      throw new AxisError({
        op: "transpose",
        axis: p.permutation,
        ndim: a.shape.length,
        reason: "not a permutation of the axes"
      })
    }
    return [
      av(
        p.permutation.map((i) => a.shape[i]!),
        a.dtype,
        a.weakType
      )
    ]
  },
  squeeze: (avals, p) => {
    arity("squeeze", avals, 1)
    const a = avals[0]!
    const dims = normalizeAxes("squeeze", p.dimensions, a.shape.length)
    for (const d of dims) {
      if (a.shape[d] !== 1)
        throw new ShapeError({
          op: "squeeze",
          shapes: [a.shape],
          reason: `cannot squeeze axis ${d} of size ${a.shape[d]}`
        })
    }
    return [
      av(
        a.shape.filter((_, i) => !dims.includes(i)),
        a.dtype,
        a.weakType
      )
    ]
  },
  expand_dims: (avals, p) => {
    arity("expand_dims", avals, 1)
    const a = avals[0]!
    const nd = a.shape.length + p.dimensions.length
    const dims = normalizeAxes("expand_dims", p.dimensions, nd)
    const out: Array<number> = []
    let j = 0
    for (let i = 0; i < nd; i++) out.push(dims.includes(i) ? 1 : a.shape[j++]!)
    return [av(out, a.dtype, a.weakType)]
  },
  slice: (avals, p) => {
    arity("slice", avals, 1)
    const a = avals[0]!
    const n = a.shape.length
    if (p.startIndices.length !== n || p.limitIndices.length !== n || p.strides.length !== n) {
      throw new ShapeError({
        op: "slice",
        shapes: [a.shape],
        reason: "start, limit and strides need one entry per axis"
      })
    }
    return [
      av(
        a.shape.map((d, i) => {
          const s = p.startIndices[i]!,
            l = p.limitIndices[i]!,
            st = p.strides[i]!
          if (
            !(Number.isInteger(s) && Number.isInteger(l) && Number.isInteger(st)) ||
            s < 0 ||
            l > d ||
            l < s ||
            st < 1
          ) {
            throw new ShapeError({
              op: "slice",
              shapes: [a.shape],
              reason: `axis ${i}: start ${s}, limit ${l}, stride ${st} do not fit size ${d}`
            })
          }
          return Math.ceil((l - s) / st)
        }),
        a.dtype,
        a.weakType
      )
    ]
  },
  dynamic_slice: (avals, p) => {
    const a = avals[0]!
    arity("dynamic_slice", avals, 1 + a.shape.length)
    avals.slice(1).forEach((i) => {
      checkIndices("dynamic_slice", i)
      if (i.shape.length !== 0)
        throw new ShapeError({ op: "dynamic_slice", shapes: [i.shape], reason: "start indices must be scalars" })
    })
    if (
      p.sliceSizes.length !== a.shape.length ||
      p.sliceSizes.some((s, i) => !Number.isInteger(s) || s < 0 || s > a.shape[i]!)
    ) {
      throw new ShapeError({
        op: "dynamic_slice",
        shapes: [a.shape, p.sliceSizes],
        reason: "slice sizes must fit inside the operand"
      })
    }
    return [av(p.sliceSizes, a.dtype, a.weakType)]
  },
  dynamic_update_slice: (avals) => {
    const a = avals[0]!
    arity("dynamic_update_slice", avals, 2 + a.shape.length)
    const u = avals[1]!
    sameDType("dynamic_update_slice", [a, u])
    if (u.shape.length !== a.shape.length || u.shape.some((d, i) => d > a.shape[i]!)) {
      throw new ShapeError({
        op: "dynamic_update_slice",
        shapes: [a.shape, u.shape],
        reason: "the update must fit inside the operand"
      })
    }
    avals.slice(2).forEach((i) => {
      checkIndices("dynamic_update_slice", i)
      if (i.shape.length !== 0)
        throw new ShapeError({ op: "dynamic_update_slice", shapes: [i.shape], reason: "start indices must be scalars" })
    })
    return [a]
  },
  concatenate: (avals, p) => {
    if (avals.length === 0) throw new ArgumentError({ op: "concatenate", reason: "needs at least one operand" })
    sameDType("concatenate", avals)
    const a = avals[0]!
    const d = normalizeAxis("concatenate", p.dimension, a.shape.length)
    let total = 0
    for (const b of avals) {
      if (b.shape.length !== a.shape.length || b.shape.some((s, i) => i !== d && s !== a.shape[i])) {
        throw new ShapeError({
          op: "concatenate",
          shapes: avals.map((x) => x.shape),
          reason: `shapes must match except on axis ${d}`
        })
      }
      total += b.shape[d]!
    }
    const out = a.shape.slice()
    out[d] = total
    return [
      av(
        out,
        a.dtype,
        avals.every((x) => x.weakType)
      )
    ]
  },
  pad: (avals, p) => {
    arity("pad", avals, 2)
    const [a, v] = avals as [Aval, Aval]
    sameDType("pad", [a, v])
    if (v.shape.length !== 0)
      throw new ShapeError({ op: "pad", shapes: [v.shape], reason: "the padding value must be a scalar" })
    if (p.config.length !== a.shape.length || p.config.some(([l, h, i]) => l < 0 || h < 0 || i < 0)) {
      throw new ShapeError({
        op: "pad",
        shapes: [a.shape],
        reason: "padding config needs one non-negative (lo, hi, interior) per axis"
      })
    }
    return [
      av(
        a.shape.map((d, i) => {
          const [l, h, int] = p.config[i]!
          return l + h + d + Math.max(0, d - 1) * int
        }),
        a.dtype,
        a.weakType
      )
    ]
  },
  gather: (avals, p) => {
    arity("gather", avals, 2)
    const [a, idx] = avals as [Aval, Aval]
    checkIndices("gather", idx)
    return [av(gatherShape("gather", a.shape, idx.shape, p), a.dtype, a.weakType)]
  },
  scatter: (avals, p) => scatterEval("scatter", avals, p),
  scatter_add: (avals, p) => scatterEval("scatter_add", avals, p),
  iota: (avals, p) => {
    arity("iota", avals, 0)
    if (p.shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new ShapeError({ op: "iota", shapes: [p.shape], reason: "sizes must be non-negative integers" })
    normalizeAxis("iota", p.dimension, p.shape.length)
    return [av(p.shape, p.dtype)]
  },
  argmax: (avals, p) => argEval("argmax", avals, p.axis),
  argmin: (avals, p) => argEval("argmin", avals, p.axis),
  dot_general: (avals, p) => {
    arity("dot_general", avals, 2)
    const [l, r] = avals as [Aval, Aval]
    checkDType("dot_general", avals, numericOrComplex)
    sameDType("dot_general", avals)
    const lc = normalizeAxes("dot_general", p.lhsContracting, l.shape.length)
    const rc = normalizeAxes("dot_general", p.rhsContracting, r.shape.length)
    const lb = normalizeAxes("dot_general", p.lhsBatch, l.shape.length)
    const rb = normalizeAxes("dot_general", p.rhsBatch, r.shape.length)
    const shapes = [l.shape, r.shape]
    if (lc.length !== rc.length || lb.length !== rb.length) {
      throw new ShapeError({ op: "dot_general", shapes, reason: "contracting and batch dimension lists must pair up" })
    }
    lc.forEach((d, i) => {
      if (l.shape[d] !== r.shape[rc[i]!]) {
        throw new ShapeError({
          op: "dot_general",
          shapes,
          reason: `contracting dimension ${d} of lhs (${l.shape[d]}) does not match dimension ${rc[i]} of rhs (${r.shape[rc[i]!]})`
        })
      }
    })
    lb.forEach((d, i) => {
      if (l.shape[d] !== r.shape[rb[i]!]) {
        throw new ShapeError({
          op: "dot_general",
          shapes,
          reason: `batch dimension ${d} of lhs (${l.shape[d]}) does not match dimension ${rb[i]} of rhs (${r.shape[rb[i]!]})`
        })
      }
    })
    if (lc.some((d) => lb.includes(d)) || rc.some((d) => rb.includes(d))) {
      throw new ShapeError({ op: "dot_general", shapes, reason: "a dimension is both contracting and batch" })
    }
    const lfree = l.shape.filter((_, i) => !lc.includes(i) && !lb.includes(i))
    const rfree = r.shape.filter((_, i) => !rc.includes(i) && !rb.includes(i))
    return [av([...lb.map((d) => l.shape[d]!), ...lfree, ...rfree], l.dtype, l.weakType && r.weakType)]
  },
  conv_general_dilated: (avals, p) => {
    arity("conv_general_dilated", avals, 2)
    checkDType("conv_general_dilated", avals, intsAndFloat)
    sameDType("conv_general_dilated", avals)
    return [{ shape: convOutputShape(avals[0]!.shape, avals[1]!.shape, p), dtype: avals[0]!.dtype, weakType: false }]
  },
  reduce_window: (avals, p) => {
    arity("reduce_window", avals, 1)
    checkDType("reduce_window", avals, p.computation === "add" ? intsAndFloat : numeric)
    return [{ shape: reduceWindowShape(avals[0]!.shape, p), dtype: avals[0]!.dtype, weakType: avals[0]!.weakType }]
  },
  sort: (avals, p) => {
    if (avals.length === 0) throw new ArgumentError({ op: "sort", reason: "needs at least one operand" })
    const a = avals[0]!
    for (const b of avals) {
      if (!shapeEquals(a.shape, b.shape))
        throw new ShapeError({ op: "sort", shapes: avals.map((x) => x.shape), reason: "operands must share one shape" })
    }
    checkDType("sort", avals, numeric)
    normalizeAxis("sort", p.dimension, a.shape.length)
    if (!Number.isInteger(p.numKeys) || p.numKeys < 1 || p.numKeys > avals.length) {
      throw new ArgumentError({ op: "sort", reason: `numKeys must be between 1 and ${avals.length}` })
    }
    return avals.slice()
  },
  real: (avals) => complexPart("real", avals),
  imag: (avals) => complexPart("imag", avals),
  conj: (avals) => {
    arity("conj", avals, 1)
    checkDType("conj", avals, ["complex64"])
    return [avals[0]!]
  },
  complex: (avals) => {
    arity("complex", avals, 2)
    checkDType("complex", avals, ["float32"])
    return [av(elementwiseShape("complex", avals), "complex64", avals[0]!.weakType && avals[1]!.weakType)]
  },
  fft: (avals, p) => fftEval(avals, p),
  eig: (avals, p) => {
    arity("eig", avals, 1)
    const a = avals[0]!
    checkDType("eig", avals, floatOrComplex)
    const n = a.shape[a.shape.length - 1]
    if (a.shape.length < 2 || a.shape[a.shape.length - 2] !== n) {
      throw new ShapeError({
        op: "eig",
        shapes: [a.shape],
        reason: "expects square matrices in the last two axes ([..., n, n])"
      })
    }
    const w = av(a.shape.slice(0, -1), "complex64")
    return p.vectors ? [w, av(a.shape, "complex64")] : [w]
  },
  threefry2x32: (avals) => {
    arity("threefry2x32", avals, 4)
    checkDType("threefry2x32", avals, ["uint32"])
    const shape = elementwiseShape("threefry2x32", avals)
    return [av(shape, "uint32"), av(shape, "uint32")]
  },
  random_wrap: (avals) => {
    arity("random_wrap", avals, 1)
    const a = avals[0]!
    checkDType("random_wrap", avals, ["uint32"])
    if (a.shape[a.shape.length - 1] !== 2)
      throw new ShapeError({
        op: "random_wrap",
        shapes: [a.shape],
        reason: "key data must end in a dimension of size 2"
      })
    return [av(a.shape.slice(0, -1), "key<fry>")]
  },
  random_unwrap: (avals) => {
    arity("random_unwrap", avals, 1)
    checkDType("random_unwrap", avals, ["key<fry>"])
    return [av([...avals[0]!.shape, 2], "uint32")]
  },
  stop_gradient: (avals) => {
    arity("stop_gradient", avals, 1)
    return [avals[0]!]
  },
  scan: (avals, p) => {
    const outs = outAvals(p.jaxpr)
    const expectedIn = p.jaxpr.jaxpr.invars.length
    if (avals.length !== expectedIn)
      throw new ArgumentError({ op: "scan", reason: `expected ${expectedIn} operands, got ${avals.length}` })
    return [
      ...outs.slice(0, p.numCarry),
      ...outs.slice(p.numCarry).map((a) => av([p.length, ...a.shape], a.dtype, a.weakType))
    ]
  },
  cond: (avals, p) => {
    const index = avals[0]
    if (index === undefined || index.shape.length !== 0 || index.dtype !== "int32") {
      throw new DTypeError({
        op: "cond",
        dtypes: index === undefined ? [] : [index.dtype],
        reason: "the branch index must be an int32 scalar"
      })
    }
    return outAvals(p.branches[0]!)
  },
  while: (avals, p) => avals.slice(p.condNumConsts + p.bodyNumConsts),
  custom_jvp_call: (_avals, p) => outAvals(p.call),
  custom_vjp_call: (_avals, p) => outAvals(p.call),
  checkpoint: (_avals, p) => outAvals(p.jaxpr)
}

const complexPart = (op: "real" | "imag", avals: ReadonlyArray<Aval>): Array<Aval> => {
  arity(op, avals, 1)
  checkDType(op, avals, ["complex64"])
  return [av(avals[0]!.shape, "float32", avals[0]!.weakType)]
}

const fftEval = (avals: ReadonlyArray<Aval>, p: Params<"fft">): Array<Aval> => {
  arity("fft", avals, 1)
  const a = avals[0]!
  const lengths = p.fftLengths
  const k = lengths.length
  if (k < 1 || k > 3 || lengths.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new ArgumentError({
      op: "fft",
      reason: `fftLengths must be 1 to 3 non-negative integers, got [${lengths.join(", ")}]`
    })
  }
  if (a.shape.length < k)
    throw new ShapeError({ op: "fft", shapes: [a.shape], reason: `a ${k}-d transform needs at least ${k} axes` })
  checkDType("fft", avals, p.fftType === "RFFT" ? ["float32"] : ["complex64"])
  const lead = a.shape.slice(0, a.shape.length - k)
  const trailing = a.shape.slice(a.shape.length - k)
  const last = lengths[k - 1]!
  const expected = p.fftType === "IRFFT" ? [...lengths.slice(0, -1), Math.floor(last / 2) + 1] : lengths
  if (!shapeEquals(trailing, expected)) {
    throw new ShapeError({
      op: "fft",
      shapes: [a.shape],
      reason: `${p.fftType} of lengths [${lengths.join(", ")}] needs trailing axes [${expected.join(", ")}]`
    })
  }
  switch (p.fftType) {
    case "FFT":
    case "IFFT":
      return [a]
    case "RFFT":
      return [av([...lead, ...lengths.slice(0, -1), Math.floor(last / 2) + 1], "complex64")]
    case "IRFFT":
      return [av([...lead, ...lengths], "float32")]
  }
}

const scatterEval = (op: "scatter" | "scatter_add", avals: ReadonlyArray<Aval>, p: GatherParams): Array<Aval> => {
  arity(op, avals, 3)
  const [a, idx, u] = avals as [Aval, Aval, Aval]
  checkIndices(op, idx)
  sameDType(op, [a, u])
  const expected = gatherShape(op, a.shape, idx.shape, p)
  if (!shapeEquals(expected, u.shape)) {
    throw new ShapeError({
      op,
      shapes: [a.shape, idx.shape, u.shape],
      reason: `updates must have the gathered shape (${expected.join(", ")})`
    })
  }
  return [a]
}

const argEval = (op: "argmax" | "argmin", avals: ReadonlyArray<Aval>, axis: number): Array<Aval> => {
  arity(op, avals, 1)
  checkDType(op, avals, numeric)
  const a = avals[0]!
  const ax = normalizeAxis(op, axis, a.shape.length)
  if (a.shape[ax] === 0) throw new ShapeError({ op, shapes: [a.shape], reason: `cannot take ${op} of an empty axis` })
  return [
    av(
      a.shape.filter((_, i) => i !== ax),
      "int32"
    )
  ]
}

/**
 * Primitives whose kernels only move elements; they also accept PRNG key arrays, whose elements are
 * moved as units.
 */
export const structuralPrimitives: ReadonlySet<Primitive> = new Set<Primitive>([
  "broadcast_in_dim",
  "reshape",
  "transpose",
  "squeeze",
  "expand_dims",
  "slice",
  "dynamic_slice",
  "dynamic_update_slice",
  "concatenate",
  "gather",
  "select",
  "random_unwrap",
  "stop_gradient",
  "scan",
  "cond",
  "while",
  "custom_jvp_call",
  "custom_vjp_call",
  "checkpoint"
])

/** Checks that a key array only reaches structural primitives. */
export const checkKeyUse = (prim: Primitive, avals: ReadonlyArray<Aval>): void => {
  if (!structuralPrimitives.has(prim) && avals.some((a) => a.dtype === "key<fry>")) {
    throw new DTypeError({
      op: prim,
      dtypes: avals.map((a) => a.dtype),
      reason:
        "PRNG key arrays only support reshaping, indexing and selection; use random.keyData to get their uint32 data"
    })
  }
}
