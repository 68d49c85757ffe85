/**
 * `lax` convolutions and windowed reductions, as `jax.lax.conv_general_dilated`, `conv`,
 * `conv_with_general_padding`, `conv_transpose` and `reduce_window` take them. Each resolves its
 * padding rule and dimension numbers here, so the primitives only ever see explicit `[lo, hi]` pairs
 * and axis positions.
 *
 * @since 0.2.0
 */
import type { Array } from "./Array.ts"
import { ArgumentError, ShapeError } from "./ArrayError.ts"
import { bind1 } from "./bind.ts"
import { convDimensionNumbers, dilateDim, padsOf } from "./conv.ts"
import type { ConvDimensionNumbers, ConvPadding, ReduceWindowParams } from "./conv.ts"
import { windowIdentity } from "./cpu/conv.ts"
import type { NumericDType } from "./DType.ts"
import { add, max, min } from "./lax.ts"
import { fromScalar } from "./numpy/creation.ts"
import { flip } from "./numpy/shapeOps.ts"

export type { ConvDimensionNumbers, ConvPadding } from "./conv.ts"

/** Dimension numbers: three layout strings (`["NHWC", "HWIO", "NHWC"]`) or axis positions. */
export type ConvDimensionSpec = readonly [string, string, string] | ConvDimensionNumbers

/** Options of {@link convGeneralDilated}; every one defaults as in JAX. */
export interface ConvGeneralDilatedOptions {
  readonly lhsDilation?: ReadonlyArray<number> | undefined
  readonly rhsDilation?: ReadonlyArray<number> | undefined
  /** Default: `NC...`, `OI...`, `NC...` (JAX's). */
  readonly dimensionNumbers?: ConvDimensionSpec | null | undefined
  readonly featureGroupCount?: number | undefined
  readonly batchGroupCount?: number | undefined
  /** Computes in this dtype (both operands are converted first). */
  readonly preferredElementType?: NumericDType | null | undefined
}

const ones = (n: number): number[] => new globalThis.Array<number>(n).fill(1)

const toDType = (x: Array, dtype: NumericDType | null | undefined): Array =>
  dtype === null || dtype === undefined || x.dtype === dtype
    ? x
    : bind1("convert_element_type", [x], { newDtype: dtype, weakType: false })

/**
 * A general dilated convolution, as `jax.lax.conv_general_dilated`: any number of spatial axes,
 * window strides, padding (`"SAME"`, `"SAME_LOWER"`, `"VALID"` or `[lo, hi]` pairs, negative ones
 * cropping), lhs (input) and rhs (kernel) dilation, feature and batch groups, and layouts given by
 * dimension numbers. Operands must share a dtype (float32, int32 or uint32).
 *
 * @example
 * ```ts
 * import { jnp, lax } from "effect-nnx"
 *
 * const x = jnp.ones([2, 8, 8, 3])   // NHWC
 * const w = jnp.ones([3, 3, 3, 16])  // HWIO
 * const y = lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] })
 * // y.shape: [2, 8, 8, 16]
 * ```
 * @category convolution
 * @since 0.2.0
 */
export const convGeneralDilated = (
  lhs: Array,
  rhs: Array,
  windowStrides: ReadonlyArray<number>,
  padding: ConvPadding,
  options: ConvGeneralDilatedOptions = {}
): Array => {
  const rank = lhs.ndim
  if (rhs.ndim !== rank || rank < 2) {
    throw new ShapeError({
      op: "conv_general_dilated",
      shapes: [lhs.shape, rhs.shape],
      reason: `lhs and rhs must have the same rank, at least 2, got ${lhs.ndim} and ${rhs.ndim}`
    })
  }
  const dn = convDimensionNumbers(rank, options.dimensionNumbers)
  const nsp = rank - 2
  const rhsDilation = options.rhsDilation ?? ones(nsp)
  const lhsDilation = options.lhsDilation ?? ones(nsp)
  if (windowStrides.length !== nsp) {
    throw new ArgumentError({
      op: "conv_general_dilated",
      reason: `windowStrides has ${windowStrides.length} entries but there are ${nsp} spatial dimensions`
    })
  }
  if (typeof padding === "string" && lhsDilation.some((d) => d !== 1)) {
    throw new ArgumentError({
      op: "conv_general_dilated",
      reason: `padding "${padding}" with lhsDilation [${lhsDilation.join(", ")}]: a named padding is not defined for a transposed convolution; give [lo, hi] pairs or use convTranspose`
    })
  }
  const window = dn.rhsSpec.slice(2).map((a, i) => dilateDim(rhs.shape[a]!, rhsDilation[i] ?? 1))
  const pads = padsOf(
    "conv_general_dilated",
    padding,
    dn.lhsSpec.slice(2).map((a) => lhs.shape[a]!),
    window,
    windowStrides
  )
  return bind1(
    "conv_general_dilated",
    [toDType(lhs, options.preferredElementType), toDType(rhs, options.preferredElementType)],
    {
      windowStrides,
      padding: pads,
      lhsDilation,
      rhsDilation,
      dimensionNumbers: dn,
      featureGroupCount: options.featureGroupCount ?? 1,
      batchGroupCount: options.batchGroupCount ?? 1
    }
  )
}

/**
 * A convolution in JAX's default layout (`NCHW` input, `OIHW` kernel), as `jax.lax.conv`.
 * @category convolution
 * @since 0.2.0
 */
export const conv = (lhs: Array, rhs: Array, windowStrides: ReadonlyArray<number>, padding: ConvPadding): Array =>
  convGeneralDilated(lhs, rhs, windowStrides, padding)

/**
 * A convolution with explicit padding and dilations in JAX's default layout, as
 * `jax.lax.conv_with_general_padding`.
 * @category convolution
 * @since 0.2.0
 */
export const convWithGeneralPadding = (
  lhs: Array,
  rhs: Array,
  windowStrides: ReadonlyArray<number>,
  padding: ConvPadding,
  lhsDilation?: ReadonlyArray<number>,
  rhsDilation?: ReadonlyArray<number>
): Array => convGeneralDilated(lhs, rhs, windowStrides, padding, { lhsDilation, rhsDilation })

/** Options of {@link convTranspose}. */
export interface ConvTransposeOptions {
  readonly rhsDilation?: ReadonlyArray<number> | undefined
  /** Default: channels last (`NHWC`, `HWIO`, `NHWC` and their 1D/3D forms), as JAX's. */
  readonly dimensionNumbers?: ConvDimensionSpec | null | undefined
  /** Flip the kernel spatially and swap its I/O axes: the gradient of a forward convolution. */
  readonly transposeKernel?: boolean | undefined
  readonly preferredElementType?: NumericDType | null | undefined
  /**
   * Read explicit `[lo, hi]` pairs as the padding of the forward convolution this one transposes (as
   * PyTorch does), like the named rules; by default they pad the dilated input directly (JAX's default).
   */
  readonly useConsistentPadding?: boolean | undefined
}

/** Padding of a transposed convolution for a named rule (the input is dilated by the strides). */
const transposePads = (k: number, s: number, padding: "SAME" | "VALID"): readonly [number, number] => {
  const len = padding === "SAME" ? k + s - 2 : k + s - 2 + Math.max(k - s, 0)
  const lo = padding === "SAME" && s <= k - 1 ? Math.ceil(len / 2) : k - 1
  return [lo, len - lo]
}

const channelsLast = (rank: number): readonly [string, string, string] => {
  const sp = "HWDUVXYZ".slice(0, rank - 2)
  return [`N${sp}C`, `${sp}IO`, `N${sp}C`]
}

/**
 * A transposed convolution (the input dilated by `strides`), as `jax.lax.conv_transpose`. With
 * `transposeKernel` the kernel is flipped and its I/O axes swapped, which makes it the gradient of
 * `convGeneralDilated` with the same kernel.
 * @category convolution
 * @since 0.2.0
 */
export const convTranspose = (
  lhs: Array,
  rhs: Array,
  strides: ReadonlyArray<number>,
  padding: "SAME" | "VALID" | ReadonlyArray<readonly [number, number]>,
  options: ConvTransposeOptions = {}
): Array => {
  const rank = lhs.ndim
  if (rhs.ndim !== rank || rank < 2) {
    throw new ShapeError({
      op: "conv_transpose",
      shapes: [lhs.shape, rhs.shape],
      reason: `lhs and rhs must have the same rank, at least 2, got ${lhs.ndim} and ${rhs.ndim}`
    })
  }
  const dn = convDimensionNumbers(rank, options.dimensionNumbers ?? channelsLast(rank))
  const nsp = rank - 2
  const rhsDilation = options.rhsDilation ?? ones(nsp)
  if (strides.length !== nsp)
    throw new ArgumentError({
      op: "conv_transpose",
      reason: `strides has ${strides.length} entries but there are ${nsp} spatial dimensions`
    })
  let pads: ReadonlyArray<readonly [number, number]>
  if (typeof padding === "string") {
    if (padding !== "SAME" && padding !== "VALID") {
      throw new ArgumentError({
        op: "conv_transpose",
        reason: `padding "${String(padding)}" is not "SAME", "VALID" or a list of [lo, hi] pairs`
      })
    }
    pads = dn.rhsSpec
      .slice(2)
      .map((a, i) => transposePads(dilateDim(rhs.shape[a]!, rhsDilation[i]!), strides[i]!, padding))
  } else if (options.useConsistentPadding === true) {
    pads = dn.rhsSpec.slice(2).map((a, i) => {
      const k = dilateDim(rhs.shape[a]!, rhsDilation[i]!)
      return [k - padding[i]![0] - 1, k - padding[i]![1] - 1] as const
    })
  } else {
    pads = padding
  }
  let kernel = rhs
  if (options.transposeKernel === true) {
    kernel = flip(kernel, dn.rhsSpec.slice(2))
    const perm = kernel.shape.map((_, i) => i)
    perm[dn.rhsSpec[0]!] = dn.rhsSpec[1]!
    perm[dn.rhsSpec[1]!] = dn.rhsSpec[0]!
    kernel = bind1("transpose", [kernel], { permutation: perm })
  }
  return convGeneralDilated(lhs, kernel, ones(nsp), pads, {
    lhsDilation: strides,
    rhsDilation,
    dimensionNumbers: dn,
    preferredElementType: options.preferredElementType
  })
}

/** Options of {@link reduceWindow}. */
export interface ReduceWindowOptions {
  readonly baseDilation?: ReadonlyArray<number> | undefined
  readonly windowDilation?: ReadonlyArray<number> | undefined
}

type Computation = ReduceWindowParams["computation"]

const computationOf = (c: Computation | ((x: Array, y: Array) => Array)): Computation => {
  if (c === "add" || c === "max" || c === "min") return c
  if (c === add) return "add"
  if (c === max) return "max"
  if (c === min) return "min"
  throw new ArgumentError({
    op: "reduce_window",
    reason: 'the computation must be "add", "max", "min" or one of lax.add, lax.max, lax.min'
  })
}

/**
 * Reduces each window of `operand` with a sum, max or min, as `jax.lax.reduce_window` does for those
 * monoids. `initValue` is combined once into every window (padding and base-dilation holes contribute
 * nothing, as in JAX on CPU); use the monoid's identity (0, -inf, +inf) for a plain reduction.
 *
 * @example
 * ```ts
 * import { jnp, lax } from "effect-nnx"
 *
 * const x = jnp.arange(16).astype("float32").reshape([1, 4, 4, 1])
 * const pooled = lax.reduceWindow(x, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID") // [1, 2, 2, 1]
 * ```
 * @category windowed reductions
 * @since 0.2.0
 */
export const reduceWindow = (
  operand: Array,
  initValue: number | Array,
  computation: Computation | ((x: Array, y: Array) => Array),
  windowDimensions: ReadonlyArray<number>,
  windowStrides: ReadonlyArray<number>,
  padding: ConvPadding,
  options: ReduceWindowOptions = {}
): Array => {
  const c = computationOf(computation)
  const n = operand.ndim
  if (windowDimensions.length !== n || windowStrides.length !== n) {
    throw new ArgumentError({
      op: "reduce_window",
      reason: `windowDimensions and windowStrides need one entry per operand axis (${n}), got ${windowDimensions.length} and ${windowStrides.length}`
    })
  }
  const windowDilation = options.windowDilation ?? ones(n)
  const baseDilation = options.baseDilation ?? ones(n)
  const pads = padsOf(
    "reduce_window",
    padding,
    operand.shape,
    windowDimensions.map((k, i) => dilateDim(k, windowDilation[i] ?? 1)),
    windowStrides
  )
  const identity = windowIdentity(c, operand.dtype)
  const params = { computation: c, windowDimensions, windowStrides, padding: pads, baseDilation, windowDilation }
  if (typeof initValue === "number" && (initValue === identity || (c === "add" && initValue === 0))) {
    return bind1("reduce_window", [operand], params)
  }
  const init =
    typeof initValue === "number"
      ? fromScalar(initValue, operand.dtype as NumericDType)
      : bind1("convert_element_type", [initValue], { newDtype: operand.dtype as NumericDType, weakType: false })
  if (init.ndim !== 0)
    throw new ShapeError({ op: "reduce_window", shapes: [init.shape], reason: "initValue must be a scalar" })
  // The initial value starts each window once; padding and holes are skipped (as XLA on CPU does),
  // so the monoid over the window's elements combined with the initial value is the result.
  const out = bind1("reduce_window", [operand], params)
  return bind1(c, [out, bind1("broadcast_in_dim", [init], { shape: out.shape, broadcastDimensions: [] })], {})
}
