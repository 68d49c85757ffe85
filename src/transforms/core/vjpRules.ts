/**
 * VJP rules of the first-order primitives: cotangents of the inputs from the primal inputs, the
 * primal outputs and the outputs' cotangents. Every rule is written with primitives applied through
 * `bind` on those values, so the backward pass is itself traced by the transforms around it:
 * `grad(grad(f))`, `vmap(grad(f))` and `jit(grad(f))` differentiate, batch or stage the rules.
 *
 * A `null` cotangent is a symbolic zero; only float32 inputs get cotangents. Elementwise binary
 * primitives and `select` broadcast size-1 dimensions, so their operands' cotangents are summed back
 * over those dimensions.
 *
 * @internal
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { convVjpRules } from "./convRules.ts"
import { bind1 } from "../../backend/bind.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "../../backend/Primitive.ts"
import type { DifferentiableBinary, DifferentiableUnary } from "./jvpRulesCommon.ts"
import {
  absVjpComplex,
  argsort,
  binaryPartials,
  inexactOf,
  chooserScan,
  constant,
  constLike,
  div,
  eq,
  exclusiveProducts,
  fromProdLayout,
  gatherZeroFill,
  inversePermutation,
  isFloat,
  keepDimsShape,
  linearRecurrence,
  mul,
  normAxis,
  prodLayout,
  productOfOthers,
  range,
  reduceAxes,
  reduceSum,
  reshape,
  scatterAlongAxis,
  scatterWinners,
  select,
  shift,
  sliceAxis,
  sortPermutation,
  sub,
  toFloat,
  toProdLayout,
  transpose,
  unaryPartials,
  unbroadcast,
  unbroadcastInDim,
  zeros
} from "./jvpRulesCommon.ts"
import type { FirstOrderTable, VjpRule } from "./rules.ts"
import { fftTranspose } from "./fftRules.ts"
import { eigVjp } from "./eigRules.ts"

type Cotangents = ReadonlyArray<JArray | null>

/**
 * Builds a rule: `cotangentsOf` runs when some output cotangent is nonzero and some float input
 * needs a cotangent; `needs` it receives is false for the other inputs, whose results are dropped.
 */
const rule =
  <P extends FirstOrderPrimitive>(
    cotangentsOf: (
      primals: ReadonlyArray<JArray>,
      outs: ReadonlyArray<JArray>,
      cts: Cotangents,
      params: Params<P>,
      needs: ReadonlyArray<boolean>
    ) => Cotangents
  ): VjpRule<P> =>
  (primals, outs, cts, params, needs) => {
    const n = primals.map((p, i) => needs[i] === true && isFloat(p))
    if (cts.every((c) => c === null) || !n.some((b) => b)) return primals.map(() => null)
    const r = cotangentsOf(primals, outs, cts, params, n)
    return primals.map((_, i) => (n[i] === true ? (r[i] ?? null) : null))
  }

const when = (need: boolean | undefined, f: () => JArray): JArray | null => (need === true ? f() : null)

const zero =
  <P extends FirstOrderPrimitive>(): VjpRule<P> =>
  (primals) =>
    primals.map(() => null)

const unary = <P extends DifferentiableUnary>(prim: P): VjpRule<P> =>
  rule(([x], [y], [ct]) => [unaryPartials[prim](ct!, x!, y!)])

const binary = <P extends DifferentiableBinary>(prim: P): VjpRule<P> =>
  rule(([x, y], [out], [ct], _params, needs) => {
    const [px, py] = binaryPartials[prim]
    return [
      when(needs[0], () => unbroadcast(px(ct!, x!, y!, out!), x!.shape)),
      when(needs[1], () => unbroadcast(py(ct!, x!, y!, out!), y!.shape))
    ]
  })

/** Single-operand primitives whose cotangent only needs the operand's shape. */
const structural = <P extends FirstOrderPrimitive>(
  f: (ct: JArray, x: JArray, params: Params<P>) => JArray
): VjpRule<P> => rule(([x], _outs, [ct], params) => [f(ct!, x!, params)])

/** `reduce_max`/`reduce_min`: the cotangent goes to the positions of the extreme, split over ties. */
const chooser = <P extends "reduce_max" | "reduce_min">(prim: P): VjpRule<P> =>
  rule(([x], [y], [ct], params) => {
    const axes = reduceAxes(prim, params.axes, x!.ndim)
    const keep = keepDimsShape(x!.shape, axes)
    const loc = toFloat(eq(x!, reshape(y!, keep)))
    return [mul(loc, reshape(div(ct!, reduceSum(loc, axes)), keep))]
  })

/** `cummax`/`cummin`: each output's cotangent goes to the positions of its running extreme, split over ties. */
const cumulativeChooser = <P extends "cummax" | "cummin">(prim: P): VjpRule<P> =>
  rule(([x], [y], [ct], params) => {
    const axis = normAxis(prim, params.axis, x!.ndim)
    const rev = params.reverse
    const { loc, same, count } = chooserScan(x!, y!, axis, rev)
    // R[j] = sum of ct[i] / count[i] over the run of i ≥ j where the running extreme stays y[j].
    const runs = linearRecurrence(shift(same, axis, 1, 0, !rev), div(ct!, count), axis, !rev)
    return [mul(loc, runs)]
  })

/**
 * The cotangent of `dot_general`'s lhs (JAX's `_dot_general_transpose_lhs`): contract the output
 * cotangent with the rhs over the rhs's free dimensions, then restore the lhs's axis order.
 * With `swapAns`, the output has the rhs's free dimensions before the lhs's (the rhs case).
 */
const dotTransposeLhs = (
  g: JArray,
  xNdim: number,
  y: JArray,
  xc: ReadonlyArray<number>,
  yc: ReadonlyArray<number>,
  xb: ReadonlyArray<number>,
  yb: ReadonlyArray<number>,
  swapAns: boolean
): JArray => {
  const xKept = range(xNdim).filter((i) => !xc.includes(i) && !xb.includes(i))
  const yKept = range(y.ndim).filter((i) => !yc.includes(i) && !yb.includes(i))
  const nb = xb.length
  const ansY = swapAns ? range(nb, nb + yKept.length) : range(nb + xKept.length, nb + xKept.length + yKept.length)
  const out = bind1("dot_general", [g, y], {
    lhsContracting: ansY,
    rhsContracting: yKept,
    lhsBatch: range(nb),
    rhsBatch: yb
  })
  const xcSortedByY = argsort(yc).map((i) => xc[i]!)
  return transpose(out, argsort([...xb, ...xKept, ...xcSortedByY]))
}

export const firstOrderVjpRules: FirstOrderTable<{ [P in Primitive]: VjpRule<P> }> = {
  neg: unary("neg"),
  exp: unary("exp"),
  log: unary("log"),
  sin: unary("sin"),
  cos: unary("cos"),
  tanh: unary("tanh"),
  logistic: unary("logistic"),
  sqrt: unary("sqrt"),
  rsqrt: unary("rsqrt"),
  abs: rule(([x], _outs, [ct]) => [x!.dtype === "complex64" ? absVjpComplex(ct!, x!) : unaryPartials.abs(ct!, x!)]),
  erf: unary("erf"),
  erf_inv: unary("erf_inv"),
  log1p: unary("log1p"),
  expm1: unary("expm1"),
  sign: zero(),
  floor: zero(),
  ceil: zero(),
  round: zero(),
  not: zero(),
  is_finite: zero(),

  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  rem: binary("rem"),
  pow: binary("pow"),
  max: binary("max"),
  min: binary("min"),
  atan2: binary("atan2"),
  nextafter: zero(),
  and: zero(),
  or: zero(),
  xor: zero(),
  shift_left: zero(),
  shift_right_logical: zero(),
  shift_right_arithmetic: zero(),
  eq: zero(),
  ne: zero(),
  lt: zero(),
  le: zero(),
  gt: zero(),
  ge: zero(),

  select: rule(([pred, a, b], _outs, [ct], _params, needs) => {
    const z = constLike(0, ct!)
    return [
      null,
      when(needs[1], () => unbroadcast(select(pred!, ct!, z), a!.shape)),
      when(needs[2], () => unbroadcast(select(pred!, z, ct!), b!.shape))
    ]
  }),

  // Only conversions between inexact dtypes carry cotangents: converted back to the operand's dtype
  // and weak type (complex to float32 keeps the real part, the transpose of x ↦ x + 0i).
  convert_element_type: structural((ct, x) =>
    ct.weakType === x.weakType && ct.dtype === x.dtype
      ? ct
      : bind1("convert_element_type", [ct], { newDtype: inexactOf(x), weakType: x.weakType })
  ),

  // JAX's transposes: real ↦ complex(ct, 0), imag ↦ complex(0, -ct), conj ↦ conj, complex ↦ (re, -im).
  real: structural((ct) => bind1("complex", [ct, constLike(0, ct)], {})),
  imag: structural((ct) => bind1("complex", [constLike(0, ct), bind1("neg", [ct], {})], {})),
  conj: structural((ct) => bind1("conj", [ct], {})),
  complex: rule(([x, y], _outs, [ct], _params, needs) => [
    when(needs[0], () => unbroadcast(bind1("real", [ct!], {}), x!.shape)),
    when(needs[1], () => unbroadcast(bind1("neg", [bind1("imag", [ct!], {})], {}), y!.shape))
  ]),
  fft: structural((ct, x, p) => fftTranspose(ct, x, p)),
  eig: (primals, _outs, cts, params, needs) => [needs[0] === true ? eigVjp(primals[0]!, cts, params) : null],
  bitcast_convert_type: zero(),

  broadcast_in_dim: structural((ct, x, p) => unbroadcastInDim(ct, x.shape, p.broadcastDimensions)),
  reshape: structural((ct, x) => reshape(ct, x.shape)),
  squeeze: structural((ct, x) => reshape(ct, x.shape)),
  expand_dims: structural((ct, x) => reshape(ct, x.shape)),
  transpose: structural((ct, _x, p) => transpose(ct, inversePermutation(p.permutation))),
  slice: structural((ct, x, p) => {
    if (ct.shape.some((d) => d === 0)) return zeros(x.shape, inexactOf(ct))
    const config = x.shape.map((d, i) => {
      const start = p.startIndices[i]!,
        stride = p.strides[i]!
      const last = start + (ct.shape[i]! - 1) * stride
      return [start, d - last - 1, stride - 1] as const
    })
    return bind1("pad", [ct, constant(0, 0, inexactOf(ct))], { config })
  }),

  dynamic_slice: rule(([x, ...idx], _outs, [ct]) => [
    bind1("dynamic_update_slice", [zeros(x!.shape, inexactOf(ct!)), ct!, ...idx], {})
  ]),
  dynamic_update_slice: rule(([, update, ...idx], _outs, [ct], _params, needs) => [
    when(needs[0], () => bind1("dynamic_update_slice", [ct!, zeros(update!.shape, inexactOf(ct!)), ...idx], {})),
    when(needs[1], () => bind1("dynamic_slice", [ct!, ...idx], { sliceSizes: update!.shape }))
  ]),

  concatenate: rule((primals, _outs, [ct], params, needs) => {
    const dim = normAxis("concatenate", params.dimension, primals[0]!.ndim)
    let offset = 0
    return primals.map((p, i) => {
      const start = offset
      offset += p.shape[dim]!
      return when(needs[i], () => sliceAxis(ct!, dim, start, offset))
    })
  }),

  pad: rule(([x], _outs, [ct], params, needs) => {
    // The operand's elements sit at lo + k (interior + 1) on each axis.
    const operandCt = bind1("slice", [ct!], {
      startIndices: params.config.map(([lo]) => lo),
      limitIndices: params.config.map(([lo, , interior], i) => {
        const d = x!.shape[i]!
        return d === 0 ? lo : lo + (d - 1) * (interior + 1) + 1
      }),
      strides: params.config.map(([, , interior]) => interior + 1)
    })
    const all = (a: JArray): JArray => reduceSum(a, range(a.ndim))
    // The padding value fills every other position.
    return [operandCt, when(needs[1], () => sub(all(ct!), all(operandCt)))]
  }),

  gather: rule(([x, indices], _outs, [ct], params) => [
    bind1("scatter_add", [zeros(x!.shape, inexactOf(ct!)), indices!, ct!], params),
    null
  ]),
  scatter_add: rule(([, indices], _outs, [ct], params, needs) => [
    ct!,
    null,
    when(needs[2], () => gatherZeroFill(ct!, indices!, params))
  ]),
  scatter: rule(([operand, indices, updates], _outs, [ct], params, needs) => [
    // Positions an update overwrote do not depend on the operand.
    when(needs[0], () => bind1("scatter", [ct!, indices!, zeros(updates!.shape, inexactOf(ct!))], params)),
    null,
    // Each position's cotangent goes to the update that was written last there.
    when(needs[2], () => {
      const won = scatterWinners(operand!.shape, indices!, updates!.shape, params)
      const g = bind1("gather", [ct!, indices!], params)
      return select(won, g, constLike(0, g))
    })
  ]),

  iota: zero(),
  argmax: zero(),
  argmin: zero(),

  reduce_sum: structural((ct, x, p) => {
    const axes = reduceAxes("reduce_sum", p.axes, x.ndim)
    return bind1("broadcast_in_dim", [ct], {
      shape: x.shape,
      broadcastDimensions: range(x.ndim).filter((i) => !axes.includes(i))
    })
  }),
  reduce_max: chooser("reduce_max"),
  reduce_min: chooser("reduce_min"),
  reduce_prod: structural((ct, x, p) => {
    // Over an empty axis (layout.n = 0), `others` is empty and so is the product: x's shape, ct's dtype.
    const layout = prodLayout(x.shape, reduceAxes("reduce_prod", p.axes, x.ndim))
    const others = productOfOthers(toProdLayout(x, layout))
    return fromProdLayout(mul(reshape(ct, [...ct.shape, 1]), others), layout)
  }),
  reduce_and: zero(),
  reduce_or: zero(),

  cumsum: structural((ct, _x, p) => bind1("cumsum", [ct], { axis: p.axis, reverse: !p.reverse })),
  cumprod: rule(([x], [y], [ct], params) => {
    const axis = normAxis("cumprod", params.axis, x!.ndim)
    const rev = params.reverse
    // ct_x[j] = (x[0] ... x[j-1]) R[j] with R[j] = ct[j] + x[j+1] R[j+1].
    const r = linearRecurrence(shift(x!, axis, 1, 0, !rev), ct!, axis, !rev)
    return [mul(exclusiveProducts(y!, axis, rev), r)]
  }),
  cummax: cumulativeChooser("cummax"),
  cummin: cumulativeChooser("cummin"),

  ...convVjpRules,
  dot_general: rule(([l, r], _outs, [ct], params, needs) => {
    // Normalized dimensions; the forward pass has already checked them against the operands.
    const dims = (axes: ReadonlyArray<number>, ndim: number): Array<number> => reduceAxes("dot_general", axes, ndim)
    const lc = dims(params.lhsContracting, l!.ndim)
    const rc = dims(params.rhsContracting, r!.ndim)
    const lb = dims(params.lhsBatch, l!.ndim)
    const rb = dims(params.rhsBatch, r!.ndim)
    return [
      when(needs[0], () => dotTransposeLhs(ct!, l!.ndim, r!, lc, rc, lb, rb, false)),
      when(needs[1], () => dotTransposeLhs(ct!, r!.ndim, l!, rc, lc, rb, lb, true))
    ]
  }),

  sort: rule((primals, _outs, cts, params, needs) => {
    const dimension = normAxis("sort", params.dimension, primals[0]!.ndim)
    const perm = sortPermutation(primals, dimension, params.numKeys)
    return primals.map((_, i) => {
      const ct = cts[i] ?? null
      return ct === null ? null : when(needs[i], () => scatterAlongAxis(ct, perm, dimension))
    })
  }),

  threefry2x32: zero(),
  random_wrap: zero(),
  random_unwrap: zero(),
  stop_gradient: zero()
}
