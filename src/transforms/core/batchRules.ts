/**
 * Batching rules of the first-order primitives, after JAX's `_batch_rule`s. Each rule gets the
 * operands with their batch axes (`null`: shared by the whole batch) and applies a fixed number of
 * primitives, whatever the batch size: `vmap` never loops over the batch.
 *
 * Rules keep batch axes where they are when they can (elementwise operations, reductions, slicing,
 * `dot_general`), so that batching adds as few transposes as possible, and give shared operands unit
 * batch axes instead of broadcasting them wherever size-1 broadcasting makes that enough.
 *
 * Every rule first checks the per-example operands with the primitive's shape inference, so a
 * mistake inside a vmapped function reports the shapes the function sees, not the batched ones.
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { convBatchRules } from "./convRules.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import type {
  ArithmeticPrimitive,
  ComparisonPrimitive,
  CumulativePrimitive,
  FirstOrderPrimitive,
  Primitive,
  ReducePrimitive,
  UnaryPrimitive
} from "../../backend/Primitive.ts"
import { abstractEval, checkKeyUse } from "../../backend/Primitive.ts"
import type { Aval } from "../../backend/DType.ts"
import { normalizeAxes, normalizeAxis } from "../../backend/shape.ts"
import { moveAxis } from "./batchUtil.ts"
import {
  batchAt,
  commonDim,
  concatenateRule,
  dynamicSliceRule,
  dynamicUpdateSliceRule,
  exampleRank,
  gatherRule,
  padRule,
  scatterRules,
  shiftIn,
  sliceRule
} from "./batchRulesIndexing.ts"
import type { BatchDim, BatchRule, FirstOrderTable } from "./rules.ts"

type Rules = FirstOrderTable<{ [P in Primitive]: BatchRule<P> }>

// ---------------------------------------------------------------------------------------------
// Elementwise

/**
 * Elementwise primitives (any number of equal-rank operands and outputs). When every batched operand
 * has its batch axis at the same position, shared operands get a unit axis there (`expand_dims`,
 * no copy) and nothing moves; otherwise batch axes go to the position of the largest batched operand.
 */
const elementwise =
  <P extends Primitive>(prim: P): BatchRule<P> =>
  (vals, dims, params) => {
    const d = commonDim(vals, dims)
    const moved = vals.map((v, i) => {
      const vd = dims[i] ?? null
      return vd === null ? bind1("expand_dims", [v], { dimensions: [d] }) : moveAxis(v, vd, d)
    })
    const outs = bind(prim, moved, params)
    return [outs, outs.map(() => d)]
  }

const unary = (...prims: ReadonlyArray<UnaryPrimitive>) =>
  Object.fromEntries(prims.map((p) => [p, elementwise(p)])) as { readonly [P in UnaryPrimitive]: BatchRule<P> }

const binary = <P extends ArithmeticPrimitive | ComparisonPrimitive>(...prims: ReadonlyArray<P>) =>
  Object.fromEntries(prims.map((p) => [p, elementwise(p)])) as unknown as { readonly [Q in P]: BatchRule<Q> }

// ---------------------------------------------------------------------------------------------
// Reductions, cumulative operations, sort

const reduceRule =
  <P extends ReducePrimitive>(prim: P): BatchRule<P> =>
  (vals, dims, params) => {
    const x = vals[0]!
    const d = dims[0]!
    const axes = normalizeAxes(prim, params.axes, x.ndim - 1)
    const out = bind1<ReducePrimitive>(prim, [x], { axes: axes.map((a) => shiftIn(a, d)) })
    return [[out], [d - axes.filter((a) => a < d).length]]
  }

const cumulativeRule =
  <P extends CumulativePrimitive>(prim: P): BatchRule<P> =>
  (vals, dims, params) => {
    const x = vals[0]!
    const d = dims[0]!
    const axis = shiftIn(normalizeAxis(prim, params.axis, x.ndim - 1), d)
    return [[bind1<CumulativePrimitive>(prim, [x], { axis, reverse: params.reverse })], [d]]
  }

const argRule =
  <P extends "argmax" | "argmin">(prim: P): BatchRule<P> =>
  (vals, dims, params) => {
    const x = vals[0]!
    const d = dims[0]!
    const axis = normalizeAxis(prim, params.axis, x.ndim - 1)
    const out = bind1<"argmax" | "argmin">(prim, [x], { axis: shiftIn(axis, d), indexDtype: params.indexDtype })
    return [[out], [axis < d ? d - 1 : d]]
  }

/** `sort`: operands share one shape, so they meet at one batch axis (shared ones are broadcast). */
const sortRule: BatchRule<"sort"> = (vals, dims, params, size) => {
  const d = commonDim(vals, dims)
  const dimension = shiftIn(normalizeAxis("sort", params.dimension, exampleRank(vals[0]!, dims[0] ?? null)), d)
  const outs = bind(
    "sort",
    vals.map((v, i) => batchAt(v, dims[i] ?? null, d, size)),
    { dimension, numKeys: params.numKeys }
  )
  return [outs, outs.map(() => d)]
}

// ---------------------------------------------------------------------------------------------
// Shapes

/**
 * `broadcast_in_dim`: the batch axis stays in the operand and goes, in the output, right before the
 * output axis of the operand axis that followed it (last if none did), which keeps the broadcast
 * dimensions increasing without a transpose.
 */
const broadcastInDimRule: BatchRule<"broadcast_in_dim"> = (vals, dims, params) => {
  const x = vals[0]!
  const d = dims[0]!
  const bd = params.broadcastDimensions
  const at = d < bd.length ? bd[d]! : params.shape.length
  const shape = params.shape.slice()
  shape.splice(at, 0, x.shape[d]!)
  const broadcastDimensions = bd.map((t) => (t >= at ? t + 1 : t))
  broadcastDimensions.splice(d, 0, at)
  return [[bind1("broadcast_in_dim", [x], { shape, broadcastDimensions })], [at]]
}

/** `reshape` reads elements in row-major order, so the batch axis must lead. */
const reshapeRule: BatchRule<"reshape"> = (vals, dims, params) => {
  const x = moveAxis(vals[0]!, dims[0]!, 0)
  return [[bind1("reshape", [x], { newSizes: [x.shape[0]!, ...params.newSizes] })], [0]]
}

const transposeRule: BatchRule<"transpose"> = (vals, dims, params) => {
  const d = dims[0]!
  const perm = params.permutation.map((a) => shiftIn(a, d))
  return [[bind1("transpose", [vals[0]!], { permutation: [d, ...perm] })], [0]]
}

const squeezeRule: BatchRule<"squeeze"> = (vals, dims, params) => {
  const x = vals[0]!
  const d = dims[0]!
  const squeezed = normalizeAxes("squeeze", params.dimensions, x.ndim - 1)
  const out = bind1("squeeze", [x], { dimensions: squeezed.map((a) => shiftIn(a, d)) })
  return [[out], [d - squeezed.filter((a) => a < d).length]]
}

/**
 * `expand_dims`: the batch axis goes right before where the operand axis that followed it lands
 * (last if none did), so the operand's axes keep their order.
 */
const expandDimsRule: BatchRule<"expand_dims"> = (vals, dims, params) => {
  const x = vals[0]!
  const d = dims[0]!
  const n = x.ndim - 1
  const m = n + params.dimensions.length
  const added = normalizeAxes("expand_dims", params.dimensions, m)
  const kept = Array.from({ length: m }, (_, i) => i).filter((i) => !added.includes(i))
  const at = d < n ? kept[d]! : m
  const out = bind1("expand_dims", [x], { dimensions: added.map((a) => (a >= at ? a + 1 : a)) })
  return [[out], [at]]
}

// ---------------------------------------------------------------------------------------------
// dot_general

/**
 * `dot_general`. Both sides batched: the two batch axes become one more leading batch pair. One side
 * batched: its batch axis is a free axis of that side, so it lands among that side's free output
 * axes. No operand is transposed.
 */
const dotGeneralRule: BatchRule<"dot_general"> = (vals, dims, params) => {
  const [l, r] = vals as [JArray, JArray]
  const [ld, rd] = dims as [BatchDim, BatchDim]
  const nl = exampleRank(l, ld)
  const nr = exampleRank(r, rd)
  const lc = normalizeAxes("dot_general", params.lhsContracting, nl)
  const rc = normalizeAxes("dot_general", params.rhsContracting, nr)
  const lb = normalizeAxes("dot_general", params.lhsBatch, nl)
  const rb = normalizeAxes("dot_general", params.rhsBatch, nr)
  const sl = (a: number): number => (ld === null ? a : shiftIn(a, ld))
  const sr = (a: number): number => (rd === null ? a : shiftIn(a, rd))
  const lhsFree = Array.from({ length: nl }, (_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i))
  const rhsFree = Array.from({ length: nr }, (_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i))
  const both = ld !== null && rd !== null
  const p = {
    lhsContracting: lc.map(sl),
    rhsContracting: rc.map(sr),
    lhsBatch: both ? [ld, ...lb.map(sl)] : lb.map(sl),
    rhsBatch: both ? [rd, ...rb.map(sr)] : rb.map(sr)
  }
  const out = bind1("dot_general", [l, r], p)
  if (both) return [[out], [0]]
  if (ld !== null) return [[out], [lb.length + lhsFree.filter((a) => a < ld).length]]
  return [[out], [lb.length + lhsFree.length + rhsFree.filter((a) => a < rd!).length]]
}

// ---------------------------------------------------------------------------------------------
// Random

/** `random_wrap` drops the trailing word axis, so a batch axis after it moves to the front. */
const randomWrapRule: BatchRule<"random_wrap"> = (vals, dims) => {
  const x = vals[0]!
  const d = dims[0]!
  const data = d === x.ndim - 1 ? moveAxis(x, d, 0) : x
  return [[bind1("random_wrap", [data], {})], [d === x.ndim - 1 ? 0 : d]]
}

/** Primitives over trailing axes (`fft`, `eig`): the batch axis goes first, the outputs keep it there. */
const leadingBatch =
  <P extends "fft" | "eig">(prim: P): BatchRule<P> =>
  (vals, dims, params) => {
    const outs = bind(prim, [moveAxis(vals[0]!, dims[0]!, 0)], params)
    return [outs, outs.map(() => 0)]
  }

/** `iota` has no operands, so it is never batched; the entry evaluates it as it is. */
const iotaRule: BatchRule<"iota"> = (_vals, _dims, params) => [bind("iota", [], params), [null]]

// ---------------------------------------------------------------------------------------------
// The table

const rules: Rules = {
  ...unary(
    "neg",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
    "logistic",
    "sqrt",
    "rsqrt",
    "abs",
    "sign",
    "floor",
    "ceil",
    "erf",
    "erf_inv",
    "log1p",
    "expm1",
    "not",
    "is_finite"
  ),
  ...binary(
    "add",
    "sub",
    "mul",
    "div",
    "rem",
    "pow",
    "max",
    "min",
    "and",
    "or",
    "xor",
    "shift_left",
    "shift_right_logical",
    "shift_right_arithmetic",
    "nextafter",
    "atan2"
  ),
  ...binary("eq", "ne", "lt", "le", "gt", "ge"),
  round: elementwise("round"),
  select: elementwise("select"),
  convert_element_type: elementwise("convert_element_type"),
  bitcast_convert_type: elementwise("bitcast_convert_type"),
  stop_gradient: elementwise("stop_gradient"),
  threefry2x32: elementwise("threefry2x32"),
  random_unwrap: elementwise("random_unwrap"),
  random_wrap: randomWrapRule,
  reduce_sum: reduceRule("reduce_sum"),
  reduce_max: reduceRule("reduce_max"),
  reduce_min: reduceRule("reduce_min"),
  reduce_prod: reduceRule("reduce_prod"),
  reduce_and: reduceRule("reduce_and"),
  reduce_or: reduceRule("reduce_or"),
  cumsum: cumulativeRule("cumsum"),
  cumprod: cumulativeRule("cumprod"),
  cummax: cumulativeRule("cummax"),
  cummin: cumulativeRule("cummin"),
  argmax: argRule("argmax"),
  argmin: argRule("argmin"),
  sort: sortRule,
  broadcast_in_dim: broadcastInDimRule,
  reshape: reshapeRule,
  transpose: transposeRule,
  squeeze: squeezeRule,
  expand_dims: expandDimsRule,
  slice: sliceRule,
  pad: padRule,
  concatenate: concatenateRule,
  dynamic_slice: dynamicSliceRule,
  dynamic_update_slice: dynamicUpdateSliceRule,
  gather: gatherRule,
  ...scatterRules,
  ...convBatchRules,
  dot_general: dotGeneralRule,
  iota: iotaRule,
  real: elementwise("real"),
  imag: elementwise("imag"),
  conj: elementwise("conj"),
  complex: elementwise("complex"),
  fft: leadingBatch("fft"),
  eig: leadingBatch("eig")
}

const exampleAval = (x: JArray, d: BatchDim): Aval =>
  d === null ? x.aval : { ...x.aval, shape: x.shape.filter((_, i) => i !== d) }

/**
 * Checks the per-example operands as evaluating the primitive would (key arrays only in structural
 * primitives, then shape inference), so that errors show the shapes the function sees; then batches.
 */
const checked = <P extends FirstOrderPrimitive>(prim: P, rule: BatchRule<P>): BatchRule<P> => {
  const infer = abstractEval[prim] as (avals: ReadonlyArray<Aval>, params: Parameters<BatchRule<P>>[2]) => Array<Aval>
  return (vals, dims, params, size) => {
    const avals = vals.map((v, i) => exampleAval(v, dims[i] ?? null))
    checkKeyUse(prim, avals)
    infer(avals, params)
    return rule(vals, dims, params, size)
  }
}

/**
 * The batching rule of every first-order primitive.
 * @since 0.1.0
 */
export const firstOrderBatchRules: Rules = Object.fromEntries(
  (Object.keys(rules) as Array<FirstOrderPrimitive>).map((p) => [p, checked(p, rules[p] as BatchRule<typeof p>)])
) as unknown as Rules
