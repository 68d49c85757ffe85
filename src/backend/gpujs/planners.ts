/**
 * The gpujs kernel table: for every first-order primitive, how it runs on gpu.js, or `undefined`
 * when it must run on the cpu kernels. The table is total over {@link FirstOrderPrimitive}, so a new
 * primitive does not compile until someone decides where it runs.
 *
 * Only float32 and bool values live on the device (bool as 0/1), because a float texture holds them
 * exactly; int32, uint32 and PRNG keys stay on the host, so integer arithmetic, bit operations,
 * threefry, gathers and sorts run on the cpu kernels, where they are exact.
 */
import type { Aval } from "../DType.ts"
import type {
  ArithmeticPrimitive,
  ComparisonPrimitive,
  FirstOrderPrimitive,
  Params,
  Primitive,
  ReducePrimitive,
  UnaryPrimitive
} from "../Primitive.ts"
import { normalizeAxes, normalizeAxis, sizeOf } from "../shape.ts"
import { kernelSource, maxGpuElements } from "./codegen.ts"
import { convPlan, reduceWindowPlan } from "./conv.ts"
import { dotGeneralPlan } from "./dotGeneral.ts"
import { binaryBody, elementwiseSource, selectBody, toBoolBody, unaryBody } from "./elementwise.ts"
import type { Plan } from "./plan.ts"
import { alias, single, StepChain } from "./plan.ts"
import { combineOf, pushReduce } from "./reduce.ts"
import {
  broadcastInDimStrides,
  concatenateSource,
  dynamicGatherSource,
  gatherSource,
  padSource,
  transposeStrides,
  updateWindowSource,
  windowGather
} from "./structural.ts"

/** What a planner sees of one operation. */
export interface PlanInput<P extends FirstOrderPrimitive> {
  readonly inAvals: ReadonlyArray<Aval>
  readonly outAvals: ReadonlyArray<Aval>
  readonly params: Params<P>
  /** The value of integer scalar operand `k` (its storage is on the host). */
  readonly scalar: (k: number) => number
}

export type Planner<P extends FirstOrderPrimitive> = (input: PlanInput<P>) => Plan | undefined

/**
 * Most operands one concatenate kernel reads: WebGPU guarantees 8 storage buffers per shader stage,
 * and the output is one of them.
 */
const maxConcatenateArrays = 7

/** Whether a dtype lives on the device. */
export const onDevice = (dtype: string): boolean => dtype === "float32" || dtype === "bool"

const fits = (avals: ReadonlyArray<Aval>): boolean =>
  avals.every((a) => onDevice(a.dtype) && sizeOf(a.shape) > 0 && sizeOf(a.shape) <= maxGpuElements)

/** Device operands in, device results out, nothing empty or too large. */
const eligible = (x: PlanInput<FirstOrderPrimitive>): boolean => fits(x.inAvals) && fits(x.outAvals)

const unary =
  <P extends UnaryPrimitive>(prim: P): Planner<P> =>
  (x) => {
    if (!eligible(x)) return undefined
    const body = unaryBody(prim, x.inAvals[0]!.dtype)
    return body === undefined
      ? undefined
      : single(elementwiseSource(x.inAvals, x.outAvals[0]!, body), sizeOf(x.outAvals[0]!.shape), 1)
  }

const binary =
  <P extends ArithmeticPrimitive | ComparisonPrimitive>(prim: P): Planner<P> =>
  (x) => {
    if (!eligible(x)) return undefined
    const body = binaryBody(prim, x.inAvals[0]!.dtype)
    return body === undefined
      ? undefined
      : single(elementwiseSource(x.inAvals, x.outAvals[0]!, body), sizeOf(x.outAvals[0]!.shape), 2)
  }

const reduce =
  <P extends ReducePrimitive>(prim: P): Planner<P> =>
  (x) => {
    if (!eligible(x)) return undefined
    const a = x.inAvals[0]!
    const c = combineOf(prim, a.dtype)
    if (c === undefined) return undefined
    const axes = normalizeAxes(prim, (x.params as Params<ReducePrimitive>).axes, a.shape.length).sort((p, q) => p - q)
    if (axes.length === 0) return alias(0)
    const chain = new StepChain(1)
    pushReduce(chain, 0, a.shape, axes, c)
    return chain.plan()
  }

const reinterpret: Planner<FirstOrderPrimitive> = () => alias(0)

const never: Planner<FirstOrderPrimitive> = () => undefined

const gather = (x: PlanInput<FirstOrderPrimitive>, strides: ReadonlyArray<number>, base: number): Plan => {
  const out = x.outAvals[0]!
  return single(gatherSource(out.shape, strides, base), sizeOf(out.shape), 1)
}

/**
 * Planners by primitive; `never` marks the cpu-only ones.
 * @category backends
 */
export const planners: { readonly [P in FirstOrderPrimitive]: Planner<P> } = {
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
  is_finite: never,
  round: (x) => {
    if (!eligible(x)) return undefined
    const body = unaryBody("round", x.inAvals[0]!.dtype, x.params.method)
    return body === undefined
      ? undefined
      : single(elementwiseSource(x.inAvals, x.outAvals[0]!, body), sizeOf(x.outAvals[0]!.shape), 1)
  },

  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  rem: never,
  pow: binary("pow"),
  max: binary("max"),
  min: binary("min"),
  and: binary("and"),
  or: binary("or"),
  xor: binary("xor"),
  shift_left: never,
  shift_right_logical: never,
  shift_right_arithmetic: never,
  nextafter: never,
  atan2: binary("atan2"),
  eq: binary("eq"),
  ne: binary("ne"),
  lt: binary("lt"),
  le: binary("le"),
  gt: binary("gt"),
  ge: binary("ge"),
  select: (x) =>
    eligible(x)
      ? single(elementwiseSource(x.inAvals, x.outAvals[0]!, selectBody), sizeOf(x.outAvals[0]!.shape), 3)
      : undefined,

  convert_element_type: (x) => {
    if (!eligible(x)) return undefined
    const from = x.inAvals[0]!.dtype,
      to = x.params.newDtype
    // Same values in a float texture: bool → float32 and dtype-preserving conversions share storage.
    if (from === to || (from === "bool" && to === "float32")) return alias(0)
    const out = x.outAvals[0]!
    return single(kernelSource(1, `const v0 = x0[i];\n${toBoolBody}`), sizeOf(out.shape), 1)
  },
  bitcast_convert_type: (x) => (x.inAvals[0]!.dtype === x.params.newDtype ? alias(0) : undefined),

  reduce_sum: reduce("reduce_sum"),
  reduce_max: reduce("reduce_max"),
  reduce_min: reduce("reduce_min"),
  reduce_prod: reduce("reduce_prod"),
  reduce_and: reduce("reduce_and"),
  reduce_or: reduce("reduce_or"),
  argmax: never,
  argmin: never,
  cumsum: never,
  cumprod: never,
  cummax: never,
  cummin: never,

  broadcast_in_dim: (x) => {
    if (!eligible(x)) return undefined
    const a = x.inAvals[0]!,
      out = x.outAvals[0]!
    if (sizeOf(a.shape) === sizeOf(out.shape)) return alias(0)
    return gather(x, broadcastInDimStrides(a.shape, out.shape.length, x.params.broadcastDimensions), 0)
  },
  reshape: reinterpret,
  squeeze: reinterpret,
  expand_dims: reinterpret,
  random_wrap: reinterpret,
  random_unwrap: reinterpret,
  stop_gradient: reinterpret,
  transpose: (x) => {
    if (!eligible(x)) return undefined
    const perm = x.params.permutation
    if (perm.every((p, i) => p === i)) return alias(0)
    return gather(x, transposeStrides(x.inAvals[0]!.shape, perm), 0)
  },
  slice: (x) => {
    if (!eligible(x)) return undefined
    const w = windowGather(x.inAvals[0]!.shape, x.params.startIndices, x.params.strides)
    return gather(x, w.strides, w.base)
  },
  dynamic_slice: (x) => {
    if (!fits([x.inAvals[0]!]) || !fits(x.outAvals)) return undefined
    const shape = x.inAvals[0]!.shape
    // XLA clamps the starts so the window stays inside; they are host scalars, known here.
    const starts = shape.map((d, i) => Math.min(Math.max(x.scalar(1 + i), 0), d - x.params.sliceSizes[i]!))
    const w = windowGather(
      shape,
      starts,
      shape.map(() => 1)
    )
    const out = x.outAvals[0]!
    return single(dynamicGatherSource(out.shape, w.strides), sizeOf(out.shape), 1, [w.base])
  },
  dynamic_update_slice: (x) => {
    const [operand, update] = x.inAvals as [Aval, Aval]
    if (!fits([operand, update]) || !fits(x.outAvals)) return undefined
    const starts = operand.shape.map((d, i) => Math.min(Math.max(x.scalar(2 + i), 0), d - update.shape[i]!))
    return single(updateWindowSource(operand.shape, update.shape), sizeOf(operand.shape), 2, starts)
  },
  concatenate: (x) => {
    if (!eligible(x)) return undefined
    const out = x.outAvals[0]!
    const d = normalizeAxis("concatenate", x.params.dimension, out.shape.length)
    const shapes = x.inAvals.map((a) => a.shape)
    if (shapes.length <= maxConcatenateArrays)
      return single(concatenateSource(shapes, out.shape, d), sizeOf(out.shape), shapes.length)
    // More operands than one kernel may read: concatenate the first few, then that with the next
    // few, and so on.
    const chain = new StepChain(shapes.length)
    let parts: Array<{ readonly value: number; readonly shape: ReadonlyArray<number> }> = []
    for (let k = 0; k < shapes.length; k++) {
      parts.push({ value: k, shape: shapes[k]! })
      if (parts.length < maxConcatenateArrays && k < shapes.length - 1) continue
      const shape = out.shape.map((n, i) => (i === d ? parts.reduce((s, p) => s + p.shape[d]!, 0) : n))
      const value = chain.push(
        concatenateSource(
          parts.map((p) => p.shape),
          shape,
          d
        ),
        sizeOf(shape),
        parts.map((p) => p.value)
      )
      parts = [{ value, shape }]
    }
    return chain.plan()
  },
  pad: (x) => {
    if (!eligible(x)) return undefined
    const out = x.outAvals[0]!
    return single(padSource(x.inAvals[0]!.shape, out.shape, x.params.config), sizeOf(out.shape), 2)
  },
  iota: never,

  gather: never,
  scatter: never,
  scatter_add: never,
  dot_general: (x) => {
    if (!eligible(x) || x.inAvals[0]!.dtype !== "float32") return undefined
    return dotGeneralPlan(x.inAvals[0]!.shape, x.inAvals[1]!.shape, x.params)
  },
  sort: never,
  threefry2x32: never,
  // complex64 has no device storage here: these run on the cpu kernels.
  real: never,
  imag: never,
  conj: never,
  complex: never,
  fft: never,
  eig: never,
  conv_general_dilated: (x) => {
    if (!eligible(x) || x.inAvals[0]!.dtype !== "float32") return undefined
    return convPlan(x.inAvals[0]!.shape, x.inAvals[1]!.shape, x.outAvals[0]!.shape, x.params)
  },
  reduce_window: (x) =>
    eligible(x) && x.inAvals[0]!.dtype === "float32"
      ? reduceWindowPlan(x.inAvals[0]!.shape, x.outAvals[0]!.shape, x.params)
      : undefined
}

/** Whether a plan for `prim` depends on operand values (so it cannot be cached by shapes alone). */
export const dependsOnValues = (prim: FirstOrderPrimitive): boolean =>
  prim === "dynamic_slice" || prim === "dynamic_update_slice"

/** The cache key of a primitive's plan: its operands' types and its parameters. @internal */
export const planKey = (prim: Primitive, inAvals: ReadonlyArray<Aval>, params: unknown): string =>
  `${prim}|${inAvals.map((a) => `${a.dtype}[${a.shape.join(",")}]`).join(";")}|${JSON.stringify(params)}`

/**
 * Plans `prim` for these operands, keeping value-independent plans (and their absence) in `cache`
 * under `key` ({@link planKey}); a plan that depends on operand values (dynamic slice starts) is made
 * anew each time. @internal
 */
export const planCached = <P extends FirstOrderPrimitive>(
  cache: Map<string, Plan | null>,
  key: string,
  prim: P,
  input: PlanInput<P>
): Plan | undefined => {
  const planner = planners[prim] as (x: PlanInput<P>) => Plan | undefined
  if (dependsOnValues(prim)) return planner(input)
  const cached = cache.get(key)
  if (cached !== undefined) return cached ?? undefined
  const plan = planner(input)
  cache.set(key, plan ?? null)
  return plan
}
