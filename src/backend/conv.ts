/**
 * Shapes of `conv_general_dilated` and `reduce_window`: dimension numbers, padding, dilation and the
 * output shape, shared by shape inference, the `lax` front end, the kernels and the rules.
 *
 * Dimension numbers are kept as JAX's `ConvDimensionNumbers` are: for each operand, the axis positions
 * in the order (batch, feature, ...spatial) for lhs and output, and (out feature, in feature,
 * ...spatial) for rhs. String forms such as `["NHWC", "HWIO", "NHWC"]` are parsed by
 * {@link convDimensionNumbers}.
 *
 * @since 0.2.0
 */
import { ArgumentError, ShapeError } from "./ArrayError.ts"

/** Axis positions in (batch|out-feature, feature|in-feature, ...spatial) order, per operand. */
export interface ConvDimensionNumbers {
  readonly lhsSpec: ReadonlyArray<number>
  readonly rhsSpec: ReadonlyArray<number>
  readonly outSpec: ReadonlyArray<number>
}

/** Padding in the forms `jax.lax` accepts: a named rule or explicit `[lo, hi]` pairs per spatial axis. */
export type ConvPadding = "SAME" | "VALID" | "SAME_LOWER" | ReadonlyArray<readonly [number, number]>

/** The extent of `n` elements with `dilation - 1` holes between neighbours. */
export const dilateDim = (n: number, dilation: number): number => (n === 0 ? 0 : 1 + dilation * (n - 1))

/**
 * Dimension numbers from strings (`"NCHW"`, `"OIHW"`, ...; the spatial letters of lhs and output are
 * matched to the rhs spatial letters in order, as JAX does) or JAX's default (`NC...`, `OI...`, `NC...`).
 */
export const convDimensionNumbers = (
  rank: number,
  spec?: readonly [string, string, string] | ConvDimensionNumbers | null
): ConvDimensionNumbers => {
  if (spec === undefined || spec === null) {
    const iota = Array.from({ length: rank }, (_, i) => i)
    return { lhsSpec: iota, rhsSpec: iota, outSpec: iota }
  }
  if (!Array.isArray(spec)) return spec as ConvDimensionNumbers
  const [lhs, rhs, out] = spec as readonly [string, string, string]
  for (const s of [lhs, rhs, out]) {
    if (s.length !== rank) {
      throw new ArgumentError({
        op: "conv_general_dilated",
        reason: `dimension numbers ${JSON.stringify(spec)}: "${s}" has ${s.length} letters but the operands have rank ${rank}`
      })
    }
    if (new Set(s).size !== s.length) {
      throw new ArgumentError({
        op: "conv_general_dilated",
        reason: `dimension numbers ${JSON.stringify(spec)}: "${s}" repeats a letter`
      })
    }
  }
  const need = (s: string, c: string): number => {
    const i = s.indexOf(c)
    if (i < 0)
      throw new ArgumentError({
        op: "conv_general_dilated",
        reason: `dimension numbers ${JSON.stringify(spec)}: "${s}" has no "${c}"`
      })
    return i
  }
  // Spatial letters are those of rhs other than O and I, in rhs order; lhs and out use the same letters.
  const spatial = [...rhs].filter((c) => c !== "O" && c !== "I")
  const sp = (s: string): Array<number> => spatial.map((c) => need(s, c))
  return {
    lhsSpec: [need(lhs, "N"), need(lhs, "C"), ...sp(lhs)],
    rhsSpec: [need(rhs, "O"), need(rhs, "I"), ...sp(rhs)],
    outSpec: [need(out, "N"), need(out, "C"), ...sp(out)]
  }
}

/**
 * Explicit `[lo, hi]` pairs for a padding rule. `SAME` puts the odd element of padding after, as
 * XLA does, `SAME_LOWER` before; both keep `ceil(in / stride)` outputs.
 */
export const padsOf = (
  op: string,
  padding: ConvPadding,
  inShape: ReadonlyArray<number>,
  window: ReadonlyArray<number>,
  strides: ReadonlyArray<number>
): Array<readonly [number, number]> => {
  if (typeof padding !== "string") {
    if (padding.length !== inShape.length) {
      throw new ArgumentError({
        op,
        reason: `padding has ${padding.length} pairs but there are ${inShape.length} spatial dimensions`
      })
    }
    return padding.map(([lo, hi]) => [lo, hi] as const)
  }
  if (padding === "VALID") return inShape.map(() => [0, 0] as const)
  if (padding !== "SAME" && padding !== "SAME_LOWER") {
    throw new ArgumentError({
      op,
      reason: `padding "${String(padding)}" is not "SAME", "SAME_LOWER", "VALID" or a list of [lo, hi] pairs`
    })
  }
  return inShape.map((n, i) => {
    const s = strides[i]!
    const outN = Math.ceil(n / s)
    const total = Math.max(0, (outN - 1) * s + window[i]! - n)
    const small = Math.floor(total / 2)
    return padding === "SAME" ? ([small, total - small] as const) : ([total - small, small] as const)
  })
}

/** The number of window positions along one axis (0 when the window does not fit). */
export const windowCount = (
  n: number,
  k: number,
  lo: number,
  hi: number,
  stride: number,
  baseDil: number,
  winDil: number
): number => {
  const inExtent = dilateDim(n, baseDil) + lo + hi
  const kExtent = dilateDim(k, winDil)
  return inExtent < kExtent || k === 0 ? 0 : Math.floor((inExtent - kExtent) / stride) + 1
}

/** `conv_general_dilated`'s parameters (JAX's, without precision). */
export interface ConvParams {
  readonly windowStrides: ReadonlyArray<number>
  readonly padding: ReadonlyArray<readonly [number, number]>
  readonly lhsDilation: ReadonlyArray<number>
  readonly rhsDilation: ReadonlyArray<number>
  readonly dimensionNumbers: ConvDimensionNumbers
  readonly featureGroupCount: number
  readonly batchGroupCount: number
}

/** `reduce_window`'s parameters; the initial value is the computation's identity. */
export interface ReduceWindowParams {
  readonly computation: "add" | "max" | "min"
  readonly windowDimensions: ReadonlyArray<number>
  readonly windowStrides: ReadonlyArray<number>
  readonly padding: ReadonlyArray<readonly [number, number]>
  readonly baseDilation: ReadonlyArray<number>
  readonly windowDilation: ReadonlyArray<number>
}

const positive = (op: string, what: string, xs: ReadonlyArray<number>, n: number): void => {
  if (xs.length !== n)
    throw new ArgumentError({ op, reason: `${what} has ${xs.length} entries but there are ${n} spatial dimensions` })
  if (xs.some((x) => !Number.isInteger(x) || x < 1))
    throw new ArgumentError({ op, reason: `${what} must be positive integers, got [${xs.join(", ")}]` })
}

const isPermutation = (spec: ReadonlyArray<number>, rank: number): boolean =>
  spec.length === rank && new Set(spec).size === rank && spec.every((a) => Number.isInteger(a) && a >= 0 && a < rank)

/** Checks the operands and parameters of a convolution and returns the output shape. */
export const convOutputShape = (
  lhs: ReadonlyArray<number>,
  rhs: ReadonlyArray<number>,
  p: ConvParams
): Array<number> => {
  const op = "conv_general_dilated"
  const shapes = [lhs, rhs]
  if (lhs.length !== rhs.length || lhs.length < 2) {
    throw new ShapeError({
      op,
      shapes,
      reason: `lhs and rhs must have the same rank, at least 2 (batch and feature), got ${lhs.length} and ${rhs.length}`
    })
  }
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  for (const [name, spec] of [
    ["lhs", lhsSpec],
    ["rhs", rhsSpec],
    ["out", outSpec]
  ] as const) {
    if (!isPermutation(spec, lhs.length)) {
      throw new ArgumentError({
        op,
        reason: `the ${name} dimension numbers [${spec.join(", ")}] are not a permutation of the ${lhs.length} axes`
      })
    }
  }
  const nsp = lhs.length - 2
  positive(op, "windowStrides", p.windowStrides, nsp)
  positive(op, "lhsDilation", p.lhsDilation, nsp)
  positive(op, "rhsDilation", p.rhsDilation, nsp)
  if (p.padding.length !== nsp)
    throw new ArgumentError({
      op,
      reason: `padding has ${p.padding.length} pairs but there are ${nsp} spatial dimensions`
    })
  const fg = p.featureGroupCount,
    bg = p.batchGroupCount
  if (!Number.isInteger(fg) || fg < 1 || !Number.isInteger(bg) || bg < 1) {
    throw new ArgumentError({
      op,
      reason: `featureGroupCount and batchGroupCount must be positive integers, got ${fg} and ${bg}`
    })
  }
  if (fg > 1 && bg > 1)
    throw new ArgumentError({ op, reason: "featureGroupCount and batchGroupCount cannot both exceed 1" })
  const N = lhs[lhsSpec[0]!]!,
    C = lhs[lhsSpec[1]!]!,
    O = rhs[rhsSpec[0]!]!,
    I = rhs[rhsSpec[1]!]!
  if (C % fg !== 0)
    throw new ShapeError({ op, shapes, reason: `featureGroupCount ${fg} does not divide the lhs feature size ${C}` })
  if (C / fg !== I) {
    throw new ShapeError({
      op,
      shapes,
      reason: `the lhs feature size ${C} divided by featureGroupCount ${fg} must equal the rhs input-feature size ${I}`
    })
  }
  if (O % fg !== 0)
    throw new ShapeError({
      op,
      shapes,
      reason: `featureGroupCount ${fg} does not divide the rhs output-feature size ${O}`
    })
  if (N % bg !== 0)
    throw new ShapeError({ op, shapes, reason: `batchGroupCount ${bg} does not divide the lhs batch size ${N}` })
  if (O % bg !== 0)
    throw new ShapeError({
      op,
      shapes,
      reason: `batchGroupCount ${bg} does not divide the rhs output-feature size ${O}`
    })
  const out = new Array<number>(lhs.length)
  out[outSpec[0]!] = N / bg
  out[outSpec[1]!] = O
  for (let i = 0; i < nsp; i++) {
    const [lo, hi] = p.padding[i]!
    out[outSpec[2 + i]!] = windowCount(
      lhs[lhsSpec[2 + i]!]!,
      rhs[rhsSpec[2 + i]!]!,
      lo,
      hi,
      p.windowStrides[i]!,
      p.lhsDilation[i]!,
      p.rhsDilation[i]!
    )
  }
  return out
}

/** Checks a windowed reduction and returns its output shape. */
export const reduceWindowShape = (x: ReadonlyArray<number>, p: ReduceWindowParams): Array<number> => {
  const op = "reduce_window"
  const n = x.length
  positive(op, "windowDimensions", p.windowDimensions, n)
  positive(op, "windowStrides", p.windowStrides, n)
  positive(op, "baseDilation", p.baseDilation, n)
  positive(op, "windowDilation", p.windowDilation, n)
  if (p.padding.length !== n)
    throw new ArgumentError({ op, reason: `padding has ${p.padding.length} pairs but the operand has rank ${n}` })
  return x.map((d, i) =>
    windowCount(
      d,
      p.windowDimensions[i]!,
      p.padding[i]![0],
      p.padding[i]![1],
      p.windowStrides[i]!,
      p.baseDilation[i]!,
      p.windowDilation[i]!
    )
  )
}
