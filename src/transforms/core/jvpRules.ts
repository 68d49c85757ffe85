/**
 * JVP rules of the first-order primitives: each evaluates the primitive on the primals and pushes
 * the tangents forward, through `bind`, so that the rules compose with the transforms around them
 * (higher-order differentiation, `vmap`, `jit`, `linearize`'s staging of the tangent part).
 *
 * A `null` tangent is a symbolic zero. Only float32 values carry tangents: a tangent given for an
 * integer, boolean or key value is ignored, and integer/boolean outputs get `null`.
 *
 * @internal
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { convJvpRules } from "./convRules.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import type { FirstOrderPrimitive, Params, Primitive } from "../../backend/Primitive.ts"
import type { DifferentiableBinary, DifferentiableUnary } from "./jvpRulesCommon.ts"
import {
  absJvpComplex,
  addMaybe,
  binaryPartials,
  chooserScan,
  constLike,
  div,
  eq,
  exclusiveProducts,
  fit,
  gatherZeroFill,
  instantiate,
  isFloat,
  keepDimsShape,
  linearRecurrence,
  mul,
  normAxis,
  prodLayout,
  productOfOthers,
  reduceAxes,
  reduceSum,
  reshape,
  select,
  takeAlongAxis,
  toFloat,
  toProdLayout,
  unaryPartials
} from "./jvpRulesCommon.ts"
import type { FirstOrderTable, JvpRule } from "./rules.ts"
import { eigJvp } from "./eigRules.ts"

type Tangents = ReadonlyArray<JArray | null>

/**
 * The tangents of the float primals, `null` for the others; `null` itself when all of them are zero
 * (a `null` tangent stays `null` either way, so only the dtype decides).
 */
const floatTangents = (primals: ReadonlyArray<JArray>, tangents: Tangents): Tangents | null => {
  const ts = tangents.map((t, i) => (isFloat(primals[i]!) ? t : null))
  return ts.some((t) => t !== null) ? ts : null
}

/**
 * Builds a rule: evaluates `prim` on the primals, then (unless every float tangent is zero) asks
 * `tangentsOf` for the output tangents, from tangents that are `null` for non-float primals.
 * `tangents` has one entry per primal (`JVPTrace.process` builds both from the same inputs), so the
 * rules below test an operand's tangent against `null` only; outputs they leave out get `null`.
 */
const rule =
  <P extends FirstOrderPrimitive>(
    prim: P,
    tangentsOf: (
      primals: ReadonlyArray<JArray>,
      tangents: Tangents,
      params: Params<P>,
      outs: ReadonlyArray<JArray>
    ) => Tangents
  ): JvpRule<P> =>
  (primals, tangents, params) => {
    const outs = bind(prim, primals, params)
    const ts = floatTangents(primals, tangents)
    if (ts === null) return [outs, outs.map(() => null)]
    const outTs = tangentsOf(primals, ts, params, outs)
    return [outs, outs.map((o, i) => (isFloat(o) ? (outTs[i] ?? null) : null))]
  }

/**
 * Outputs with zero tangents (integer outputs, piecewise-constant functions, `stop_gradient`): `rule`
 * gives `null` to every output `tangentsOf` leaves out, here all of them.
 */
const zero = <P extends FirstOrderPrimitive>(prim: P): JvpRule<P> => rule(prim, () => [])

/**
 * A primitive linear in its first operand. The others, if any, are integer operands such as indices
 * (the shape rules check them), so `tangentsOf` only runs with a tangent for the first one.
 */
const linear = <P extends FirstOrderPrimitive>(prim: P): JvpRule<P> =>
  rule(prim, (primals, [t], params) => [bind1(prim, [t!, ...primals.slice(1)], params)])

/** An elementwise primitive of one operand, whose tangent is nonzero whenever `tangentsOf` runs. */
const unary = <P extends DifferentiableUnary>(prim: P): JvpRule<P> =>
  rule(prim, ([x], [t], _params, [y]) => [unaryPartials[prim](t!, x!, y!)])

const binary = <P extends DifferentiableBinary>(prim: P): JvpRule<P> =>
  rule(prim, ([x, y], [tx, ty], _params, [out]) => {
    const [px, py] = binaryPartials[prim]
    const dx = tx === null ? null : fit(px(tx!, x!, y!, out!), out!.shape)
    const dy = ty === null ? null : fit(py(ty!, x!, y!, out!), out!.shape)
    return [addMaybe(dx, dy)]
  })

/** `reduce_max`/`reduce_min`: the tangent at the extreme, averaged over ties. */
const chooser = <P extends "reduce_max" | "reduce_min">(prim: P): JvpRule<P> =>
  rule(prim, ([x], [t], params, [y]) => {
    const axes = reduceAxes(prim, params.axes, x!.ndim)
    const loc = toFloat(eq(x!, reshape(y!, keepDimsShape(x!.shape, axes))))
    return [div(reduceSum(mul(t!, loc), axes), reduceSum(loc, axes))]
  })

/** `cummax`/`cummin`: the tangent at the running extreme, averaged over its ties. */
const cumulativeChooser = <P extends "cummax" | "cummin">(prim: P): JvpRule<P> =>
  rule(prim, ([x], [t], params, [y]) => {
    const axis = normAxis(prim, params.axis, x!.ndim)
    const { loc, same, count } = chooserScan(x!, y!, axis, params.reverse)
    return [div(linearRecurrence(same, mul(loc, t!), axis, params.reverse), count)]
  })

const dotGeneral = (l: JArray, r: JArray, p: Params<"dot_general">): JArray => bind1("dot_general", [l, r], p)

export const firstOrderJvpRules: FirstOrderTable<{ [P in Primitive]: JvpRule<P> }> = {
  neg: unary("neg"),
  exp: unary("exp"),
  log: unary("log"),
  sin: unary("sin"),
  cos: unary("cos"),
  tanh: unary("tanh"),
  logistic: unary("logistic"),
  sqrt: unary("sqrt"),
  rsqrt: unary("rsqrt"),
  abs: rule("abs", ([x], [t]) => [x!.dtype === "complex64" ? absJvpComplex(t!, x!) : unaryPartials.abs(t!, x!)]),
  erf: unary("erf"),
  erf_inv: unary("erf_inv"),
  log1p: unary("log1p"),
  expm1: unary("expm1"),
  sign: zero("sign"),
  floor: zero("floor"),
  ceil: zero("ceil"),
  round: zero("round"),
  not: zero("not"),
  is_finite: zero("is_finite"),

  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  rem: binary("rem"),
  pow: binary("pow"),
  max: binary("max"),
  min: binary("min"),
  atan2: binary("atan2"),
  nextafter: zero("nextafter"),
  and: zero("and"),
  or: zero("or"),
  xor: zero("xor"),
  shift_left: zero("shift_left"),
  shift_right_logical: zero("shift_right_logical"),
  shift_right_arithmetic: zero("shift_right_arithmetic"),
  eq: zero("eq"),
  ne: zero("ne"),
  lt: zero("lt"),
  le: zero("le"),
  gt: zero("gt"),
  ge: zero("ge"),

  select: rule("select", ([pred], [, ta, tb], _params, [out]) => {
    const z = constLike(0, out!)
    return [fit(select(pred!, ta ?? z, tb ?? z), out!.shape)]
  }),

  convert_element_type: rule("convert_element_type", (_p, [t], params) => [
    params.newDtype === "float32" || params.newDtype === "complex64"
      ? bind1("convert_element_type", [t!], params)
      : null
  ]),

  real: linear("real"),
  imag: linear("imag"),
  conj: linear("conj"),
  fft: linear("fft"),
  complex: rule("complex", ([x, y], [tx, ty], _params, [out]) => [
    fit(bind1("complex", [instantiate(tx ?? null, x!), instantiate(ty ?? null, y!)], {}), out!.shape)
  ]),
  eig: (primals, tangents, params) => eigJvp(primals[0]!, tangents[0] ?? null, params),
  bitcast_convert_type: zero("bitcast_convert_type"),

  broadcast_in_dim: linear("broadcast_in_dim"),
  reshape: linear("reshape"),
  transpose: linear("transpose"),
  squeeze: linear("squeeze"),
  expand_dims: linear("expand_dims"),
  slice: linear("slice"),
  dynamic_slice: linear("dynamic_slice"),
  reduce_sum: linear("reduce_sum"),
  cumsum: linear("cumsum"),

  dynamic_update_slice: rule("dynamic_update_slice", ([operand, update, ...idx], [tOp, tUp]) => [
    bind1("dynamic_update_slice", [instantiate(tOp ?? null, operand!), instantiate(tUp ?? null, update!), ...idx], {})
  ]),

  concatenate: rule("concatenate", (primals, ts, params) => [
    bind1(
      "concatenate",
      primals.map((p, i) => instantiate(ts[i] ?? null, p)),
      params
    )
  ]),

  pad: rule("pad", ([operand, value], [tOp, tVal], params) => [
    bind1("pad", [instantiate(tOp ?? null, operand!), instantiate(tVal ?? null, value!)], params)
  ]),

  gather: rule("gather", ([, indices], [t], params) => [gatherZeroFill(t!, indices!, params)]),
  scatter: rule("scatter", ([operand, indices, updates], [tOp, , tUp], params) => [
    bind1("scatter", [instantiate(tOp ?? null, operand!), indices!, instantiate(tUp ?? null, updates!)], params)
  ]),
  scatter_add: rule("scatter_add", ([operand, indices, updates], [tOp, , tUp], params) => [
    bind1("scatter_add", [instantiate(tOp ?? null, operand!), indices!, instantiate(tUp ?? null, updates!)], params)
  ]),

  iota: zero("iota"),
  argmax: zero("argmax"),
  argmin: zero("argmin"),

  reduce_max: chooser("reduce_max"),
  reduce_min: chooser("reduce_min"),
  reduce_prod: rule("reduce_prod", ([x], [t], params, [y]) => {
    // Over an empty axis (layout.n = 0) the sum below is over nothing: zeros of y's shape and dtype.
    const layout = prodLayout(x!.shape, reduceAxes("reduce_prod", params.axes, x!.ndim))
    const others = productOfOthers(toProdLayout(x!, layout))
    return [reshape(reduceSum(mul(toProdLayout(t!, layout), others), [layout.flatShape.length - 1]), y!.shape)]
  }),
  reduce_and: zero("reduce_and"),
  reduce_or: zero("reduce_or"),

  cumprod: rule("cumprod", ([x], [t], params, [y]) => {
    const axis = normAxis("cumprod", params.axis, x!.ndim)
    // dy[i] = x[i] dy[i-1] + (x[0] ... x[i-1]) t[i]
    return [linearRecurrence(x!, mul(exclusiveProducts(y!, axis, params.reverse), t!), axis, params.reverse)]
  }),
  cummax: cumulativeChooser("cummax"),
  cummin: cumulativeChooser("cummin"),

  ...convJvpRules,
  dot_general: rule("dot_general", ([l, r], [tl, tr], params) => [
    addMaybe(tl === null ? null : dotGeneral(tl!, r!, params), tr === null ? null : dotGeneral(l!, tr!, params))
  ]),

  sort: (primals, tangents, params) => {
    // Without tangents, a plain sort: no permutation to find.
    const ts = floatTangents(primals, tangents)
    if (ts === null) return [bind("sort", primals, params), primals.map(() => null)]
    const dimension = normAxis("sort", params.dimension, primals[0]!.ndim)
    const shape = primals[0]!.shape
    const iota = bind1("iota", [], { dtype: "int32", shape, dimension })
    const outs = bind("sort", [...primals, iota], { dimension, numKeys: params.numKeys })
    const perm = outs[outs.length - 1]!
    return [outs.slice(0, -1), ts.map((t) => (t === null ? null : takeAlongAxis(t, perm, dimension)))]
  },

  threefry2x32: zero("threefry2x32"),
  random_wrap: zero("random_wrap"),
  random_unwrap: zero("random_unwrap"),
  stop_gradient: zero("stop_gradient")
}
