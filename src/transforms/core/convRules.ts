/**
 * Batching, JVP and VJP rules of `conv_general_dilated` and `reduce_window`, spread into the rule
 * tables (`batchRules.ts`, `jvpRules.ts`, `vjpRules.ts`).
 *
 * Convolutions follow XLA's algebra, as JAX's rules do: a batch axis is folded into the batch or the
 * feature axis (with feature or batch groups absorbing a batched kernel), and both cotangents are
 * convolutions again: the lhs one with the kernel flipped and the roles of strides and lhs dilation
 * exchanged, the rhs one with lhs and cotangent as the operands.
 *
 * Windowed max and min differentiate through the window element chosen first in row-major window
 * order among equal values (padding and dilation holes included), which is what JAX's
 * `select_and_gather_add` / `select_and_scatter_add` pair gives on every backend: a tie passes the
 * whole tangent to one element, it is never shared. The chosen element is found with one strided
 * slice of the padded operand per window offset, so the cost grows with the window size, never with
 * the batch.
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind1 } from "../../backend/bind.ts"
import { windowIdentity } from "../../backend/cpu/conv.ts"
import { dilateDim } from "../../backend/conv.ts"
import type { ConvDimensionNumbers, ConvParams, ReduceWindowParams } from "../../backend/conv.ts"
import { flip } from "../../backend/numpy/shapeOps.ts"
import { sizeOf } from "../../backend/shape.ts"
import { add, constant, instantiate, isFloat, select, zeros } from "./jvpRulesCommon.ts"
import type { BatchDim, BatchRule, JvpRule, VjpRule } from "./rules.ts"

type Pads = ReadonlyArray<readonly [number, number]>

const conv = (l: JArray, r: JArray, p: ConvParams): JArray => bind1("conv_general_dilated", [l, r], p)
const reduceWindow = (x: JArray, p: ReduceWindowParams): JArray => bind1("reduce_window", [x], p)
const reshape = (x: JArray, newSizes: ReadonlyArray<number>): JArray => bind1("reshape", [x], { newSizes })
const transpose = (x: JArray, permutation: ReadonlyArray<number>): JArray =>
  permutation.every((a, i) => a === i) ? x : bind1("transpose", [x], { permutation })
const scalar = (v: number, like: JArray): JArray => constant(v, 0, like.dtype)

/** Moves axis `src` next to (just before) axis `dst` of the array without `src`, and merges them, `src` major. */
const axisInto = (src: number, dst: number, x: JArray): JArray => {
  const perm = x.shape.map((_, i) => i).filter((i) => i !== src)
  perm.splice(dst, 0, src)
  const shape = x.shape.filter((_, i) => i !== src)
  shape[dst] = shape[dst]! * x.shape[src]!
  return reshape(transpose(x, perm), shape)
}

/** Splits axis `src` into `[size, rest]`. */
const axisOutOf = (src: number, size: number, x: JArray): JArray => {
  const shape = x.shape.slice()
  shape.splice(src, 1, size, x.shape[src]! / size)
  return reshape(x, shape)
}

/**
 * `pad` that also takes negative low/high amounts (they crop), as XLA's does: pads with the
 * non-negative parts, then slices the negative parts off.
 */
export const padGeneral = (
  x: JArray,
  value: JArray,
  config: ReadonlyArray<readonly [number, number, number]>
): JArray => {
  const padded = config.some(([lo, hi, int]) => lo > 0 || hi > 0 || int > 0)
    ? bind1("pad", [x, value], {
        config: config.map(([lo, hi, int]) => [Math.max(lo, 0), Math.max(hi, 0), int] as const)
      })
    : x
  if (config.every(([lo, hi]) => lo >= 0 && hi >= 0)) return padded
  return bind1("slice", [padded], {
    startIndices: config.map(([lo]) => Math.max(-lo, 0)),
    limitIndices: config.map(([, hi], i) => padded.shape[i]! - Math.max(-hi, 0)),
    strides: config.map(() => 1)
  })
}

// ---------------------------------------------------------------------------------------------
// Convolution

const spatial = (shape: ReadonlyArray<number>, spec: ReadonlyArray<number>): Array<number> =>
  spec.slice(2).map((a) => shape[a]!)
const swapRoles = (spec: ReadonlyArray<number>): Array<number> => [spec[1]!, spec[0]!, ...spec.slice(2)]

/** Padding of the lhs-cotangent convolution: the kernel slides over the whole dilated cotangent. */
const lhsCotangentPads = (
  inSp: ReadonlyArray<number>,
  kSp: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
  outSp: ReadonlyArray<number>,
  pads: Pads,
  lhsDil: ReadonlyArray<number>,
  rhsDil: ReadonlyArray<number>
): Array<readonly [number, number]> =>
  inSp.map((n, i) => {
    const lhsD = dilateDim(n, lhsDil[i]!),
      rhsD = dilateDim(kSp[i]!, rhsDil[i]!),
      outD = dilateDim(outSp[i]!, strides[i]!)
    const before = rhsD - pads[i]![0] - 1
    return [before, lhsD + rhsD - 1 - outD - before] as const
  })

/** Padding of the rhs-cotangent convolution: the cotangent, dilated by the strides, slides over lhs. */
const rhsCotangentPads = (
  inSp: ReadonlyArray<number>,
  kSp: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
  outSp: ReadonlyArray<number>,
  pads: Pads,
  lhsDil: ReadonlyArray<number>,
  rhsDil: ReadonlyArray<number>
): Array<readonly [number, number]> =>
  inSp.map((n, i) => {
    const lhsD = dilateDim(n, lhsDil[i]!),
      rhsD = dilateDim(kSp[i]!, rhsDil[i]!),
      outD = dilateDim(outSp[i]!, strides[i]!)
    const lo = pads[i]![0]
    return [lo, outD - lhsD + rhsD - lo - 1] as const
  })

/** The cotangent of a convolution's lhs. */
export const convLhsCotangent = (ct: JArray, lhsShape: ReadonlyArray<number>, rhs: JArray, p: ConvParams): JArray => {
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  const fg = p.featureGroupCount,
    bg = p.batchGroupCount
  if (sizeOf(ct.shape) === 0 || sizeOf(rhs.shape) === 0) return zeros(lhsShape)
  // The groups move from the kernel's output features to its input features, which the flipped
  // kernel uses as output features.
  const groups = Math.max(fg, bg)
  const r = groups > 1 ? axisInto(rhsSpec[0]!, rhsSpec[1]!, axisOutOf(rhsSpec[0]!, groups, rhs)) : rhs
  const pads = lhsCotangentPads(
    spatial(lhsShape, lhsSpec),
    spatial(r.shape, rhsSpec),
    p.windowStrides,
    spatial(ct.shape, outSpec),
    p.padding,
    p.lhsDilation,
    p.rhsDilation
  )
  const out = conv(ct, flip(r, rhsSpec.slice(2)), {
    windowStrides: p.lhsDilation,
    padding: pads,
    lhsDilation: p.windowStrides,
    rhsDilation: p.rhsDilation,
    dimensionNumbers: { lhsSpec: outSpec, rhsSpec: swapRoles(rhsSpec), outSpec: lhsSpec },
    featureGroupCount: groups,
    batchGroupCount: 1
  })
  return bg > 1 ? axisInto(lhsSpec[1]!, lhsSpec[0]!, axisOutOf(lhsSpec[1]!, bg, out)) : out
}

/** The cotangent of a convolution's rhs. */
export const convRhsCotangent = (ct: JArray, lhs: JArray, rhsShape: ReadonlyArray<number>, p: ConvParams): JArray => {
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  if (sizeOf(ct.shape) === 0 || sizeOf(lhs.shape) === 0) return zeros(rhsShape)
  const pads = rhsCotangentPads(
    spatial(lhs.shape, lhsSpec),
    spatial(rhsShape, rhsSpec),
    p.windowStrides,
    spatial(ct.shape, outSpec),
    p.padding,
    p.lhsDilation,
    p.rhsDilation
  )
  // Feature groups become batch groups and the other way round: batch and feature roles swap.
  return conv(lhs, ct, {
    windowStrides: p.rhsDilation,
    padding: pads,
    lhsDilation: p.lhsDilation,
    rhsDilation: p.windowStrides,
    dimensionNumbers: { lhsSpec: swapRoles(lhsSpec), rhsSpec: swapRoles(outSpec), outSpec: swapRoles(rhsSpec) },
    featureGroupCount: p.batchGroupCount,
    batchGroupCount: p.featureGroupCount
  })
}

const withSpecs = (p: ConvParams, dn: ConvDimensionNumbers, fg: number, bg: number): ConvParams => ({
  ...p,
  dimensionNumbers: dn,
  featureGroupCount: fg,
  batchGroupCount: bg
})

const convBatch: BatchRule<"conv_general_dilated"> = (vals, dims, p) => {
  const [l, r] = vals as [JArray, JArray]
  const [ld, rd] = dims as [BatchDim, BatchDim]
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  const fg = p.featureGroupCount,
    bg = p.batchGroupCount
  // Specs of the per-example operands, as positions in the batched ones once the batch axis is merged.
  const dn = p.dimensionNumbers
  if (ld !== null && rd !== null) {
    // Each example is its own feature (or batch) group, with its own kernel.
    const B = l.shape[ld]!
    const newL = bg > 1 ? axisInto(ld, lhsSpec[0]!, l) : axisInto(ld, lhsSpec[1]!, l)
    const newR = axisInto(rd, rhsSpec[0]!, r)
    const out = conv(newL, newR, withSpecs(p, dn, bg > 1 ? fg : fg * B, bg > 1 ? bg * B : bg))
    return [[axisOutOf(outSpec[1]!, B, out)], [outSpec[1]!]]
  }
  if (ld !== null) {
    const B = l.shape[ld]!
    if (bg === 1) {
      const out = conv(axisInto(ld, lhsSpec[0]!, l), r, p)
      return [[axisOutOf(outSpec[0]!, B, out)], [outSpec[0]!]]
    }
    // Batch groups split the batch axis group-major: keep the groups outermost, examples inside.
    const b0 = lhsSpec[0]!
    let x = axisOutOf(b0 + (ld <= b0 ? 1 : 0), bg, l)
    x = axisInto(ld + (b0 < ld ? 1 : 0), b0 + 1, x)
    x = axisInto(b0, b0, x)
    const out = conv(x, r, p)
    return [[axisOutOf(outSpec[0]!, B, out)], [outSpec[0]!]]
  }
  const B = r.shape[rd!]!
  if (fg === 1 && bg === 1) {
    const out = conv(l, axisInto(rd!, rhsSpec[0]!, r), p)
    return [[axisOutOf(outSpec[1]!, B, out)], [outSpec[1]!]]
  }
  // Groups split the kernel's output features group-major: examples go inside each group.
  const groups = Math.max(fg, bg)
  const o0 = rhsSpec[0]!
  let w = axisOutOf(o0 + (rd! <= o0 ? 1 : 0), groups, r)
  w = axisInto(rd! + (o0 < rd! ? 1 : 0), o0 + 1, w)
  w = axisInto(o0, o0, w)
  let out = conv(l, w, p)
  out = axisOutOf(outSpec[1]!, groups, out)
  out = axisOutOf(outSpec[1]! + 1, B, out)
  out = axisInto(outSpec[1]!, outSpec[1]! + 1, out)
  return [[out], [outSpec[1]!]]
}

const convJvp: JvpRule<"conv_general_dilated"> = ([l, r], [tl, tr], p) => {
  const out = conv(l!, r!, p)
  if (!isFloat(out)) return [[out], [null]]
  const a = tl === null || tl === undefined ? null : conv(tl, r!, p)
  const b = tr === null || tr === undefined ? null : conv(l!, tr, p)
  return [[out], [a === null ? b : b === null ? a : add(a, b)]]
}

const convVjp: VjpRule<"conv_general_dilated"> = ([l, r], _outs, [ct], p, needs) => {
  if (ct === null || ct === undefined || !isFloat(l!)) return [null, null]
  return [
    needs[0] === true ? convLhsCotangent(ct, l!.shape, r!, p) : null,
    needs[1] === true ? convRhsCotangent(ct, l!, r!.shape, p) : null
  ]
}

// ---------------------------------------------------------------------------------------------
// Windowed reductions

const reduceWindowBatch: BatchRule<"reduce_window"> = ([x], [d], p) => {
  const insert = <A>(xs: ReadonlyArray<A>, v: A): Array<A> => [...xs.slice(0, d!), v, ...xs.slice(d!)]
  const out = reduceWindow(x!, {
    computation: p.computation,
    windowDimensions: insert(p.windowDimensions, 1),
    windowStrides: insert(p.windowStrides, 1),
    padding: insert(p.padding, [0, 0] as const),
    baseDilation: insert(p.baseDilation, 1),
    windowDilation: insert(p.windowDilation, 1)
  })
  return [[out], [d!]]
}

/** Row-major multi-indices of a window. */
const windowOffsets = (dims: ReadonlyArray<number>): Array<Array<number>> => {
  let acc: Array<Array<number>> = [[]]
  for (const n of dims) acc = acc.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i]))
  return acc
}

/**
 * The operand as windows see it (padded with the identity, holes of base dilation included), and for
 * each window offset the strided slice of it that offset reads in every window, with its placement.
 */
const windowSlices = (x: JArray, p: ReduceWindowParams, outShape: ReadonlyArray<number>) => {
  const fill = scalar(windowIdentity(p.computation, x.dtype), x)
  const config = x.shape.map(
    (_, d) => [Math.max(p.padding[d]![0], 0), Math.max(p.padding[d]![1], 0), p.baseDilation[d]! - 1] as const
  )
  const padded = bind1("pad", [x, fill], { config })
  // A negative low padding crops: window positions start that far into the dilated operand.
  const shift = x.shape.map((_, d) => Math.max(-p.padding[d]![0], 0))
  const starts = windowOffsets(p.windowDimensions).map((k) => k.map((kd, d) => shift[d]! + kd * p.windowDilation[d]!))
  const limits = starts.map((s) =>
    s.map((sd, d) => (outShape[d] === 0 ? sd : sd + (outShape[d]! - 1) * p.windowStrides[d]! + 1))
  )
  return { padded, config, starts, limits }
}

/** Per output element, the offset (int32) of the window element chosen: the first extreme one. */
const chosenOffsets = (x: JArray, p: ReduceWindowParams, outShape: ReadonlyArray<number>) => {
  const { padded, config, starts, limits } = windowSlices(x, p, outShape)
  const slices = starts.map((s, k) =>
    bind1("slice", [padded], { startIndices: s, limitIndices: limits[k]!, strides: p.windowStrides })
  )
  const better = p.computation === "max" ? "gt" : "lt"
  // Offsets are rank-matched size-1 constants that `select` broadcasts: full-size broadcasts of
  // them would be evaluated while tracing and held by a jitted plan as large constant inputs.
  let best = slices[0]!
  let chosen = constant(0, outShape.length, "int32")
  for (let k = 1; k < slices.length; k++) {
    const take = bind1(better, [slices[k]!, best], {})
    best = select(take, slices[k]!, best)
    chosen = select(take, constant(k, outShape.length, "int32"), chosen)
  }
  return { padded, config, starts, limits, chosen }
}

const reduceWindowJvp: JvpRule<"reduce_window"> = ([x], [t], p) => {
  const out = reduceWindow(x!, p)
  if (t === null || t === undefined || !isFloat(x!)) return [[out], [null]]
  if (p.computation === "add") return [[out], [reduceWindow(t, p)]]
  const { config, starts, limits, chosen } = chosenOffsets(x!, p, out.shape)
  const tp = bind1("pad", [t, scalar(0, t)], { config })
  let tOut: JArray | null = null
  for (let k = starts.length - 1; k >= 0; k--) {
    const tk = bind1("slice", [tp], { startIndices: starts[k]!, limitIndices: limits[k]!, strides: p.windowStrides })
    tOut = tOut === null ? tk : select(bind1("eq", [chosen, constant(k, out.ndim, "int32")], {}), tk, tOut)
  }
  return [[out], [tOut]]
}

const reduceWindowVjp: VjpRule<"reduce_window"> = ([x], [out], [ct], p, needs) => {
  if (ct === null || ct === undefined || needs[0] !== true || !isFloat(x!)) return [null]
  if (sizeOf(ct.shape) === 0) return [zeros(x!.shape)]
  if (p.computation === "add") {
    const pads = lhsCotangentPads(
      x!.shape,
      p.windowDimensions,
      p.windowStrides,
      ct.shape,
      p.padding,
      p.baseDilation,
      p.windowDilation
    )
    const padded = padGeneral(
      ct,
      scalar(0, ct),
      pads.map(([lo, hi], d) => [lo, hi, p.windowStrides[d]! - 1] as const)
    )
    return [
      reduceWindow(padded, {
        computation: "add",
        windowDimensions: p.windowDimensions,
        windowStrides: p.baseDilation,
        padding: x!.shape.map(() => [0, 0] as const),
        baseDilation: x!.shape.map(() => 1),
        windowDilation: p.windowDilation
      })
    ]
  }
  const { padded, config, starts, limits, chosen } = chosenOffsets(x!, p, out!.shape)
  const zero = scalar(0, ct)
  const zeros1 = constant(0, ct.ndim, ct.dtype)
  let acc: JArray | null = null
  for (let k = 0; k < starts.length; k++) {
    const ctK = select(bind1("eq", [chosen, constant(k, ct.ndim, "int32")], {}), ct, zeros1)
    // The transpose of the strided slice: back to its place in the padded operand.
    const placed = bind1("pad", [ctK, zero], {
      config: starts[k]!.map((s, d) => {
        const used = limits[k]![d]! - s
        return [s, padded.shape[d]! - s - used, p.windowStrides[d]! - 1] as const
      })
    })
    acc = acc === null ? placed : add(acc, placed)
  }
  // The transpose of the padding: every base-dilation step, from the low padding on.
  const back = bind1("slice", [instantiate(acc, padded)], {
    startIndices: config.map(([lo]) => lo),
    limitIndices: config.map(([lo], d) => lo + dilateDim(x!.shape[d]!, p.baseDilation[d]!)),
    strides: p.baseDilation
  })
  return [back]
}

/** The rules, spread into the batching table. */
export const convBatchRules = { conv_general_dilated: convBatch, reduce_window: reduceWindowBatch }
/** The rules, spread into the JVP table. */
export const convJvpRules = { conv_general_dilated: convJvp, reduce_window: reduceWindowJvp }
/** The rules, spread into the VJP table. */
export const convVjpRules = { conv_general_dilated: convVjp, reduce_window: reduceWindowVjp }
