/**
 * Elementwise wasm kernels: every unary, binary and comparison primitive, `select`,
 * `convert_element_type` and `round`, each run as a one-node plan through the same code generator
 * that compiles fused programs (`codegen.ts`), so an eager op and the same op inside a fused kernel
 * compute the same bits.
 *
 * {@link compilePlan} is the generator's entry: it simplifies a plan, answers `undefined` when some
 * node has no exact wasm form (the backend then runs the cpu kernel and counts it), builds or reuses
 * the kernel module cached under the plan's key, and picks how many threads run it: one below 64K
 * elements, where starting the pool costs more than it saves.
 *
 * @since 0.2.0
 */
import type { Aval, DType, NumericDType } from "../../DType.ts"
import type { FusedNode } from "../../fusion.ts"
import type { BinaryPrimitive, UnaryPrimitive } from "../../Primitive.ts"
import type { WasmKernel, WasmRuntime } from "../runtime.ts"
import { buildModule, foldOf, layoutOf, supported } from "./codegen.ts"
import { count, nodeDtypes, planKey, rowMajor, simplify } from "./plan.ts"
import type { Plan } from "./plan.ts"

/** Elements below which a kernel runs on the calling thread only. */
export const parallelThreshold = 65536

/** A compiled plan: runs on the operands' byte addresses (inputs, then outputs). */
export type PlanRun = (pointers: ReadonlyArray<number>) => void

const normalizeAxes = (axes: ReadonlyArray<number>, rank: number): Array<number> =>
  [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b)

/** Fills `n` elements at `ptr` with the stored form of `value`. */
const fill = (rt: WasmRuntime, dtype: DType, ptr: number, n: number, value: number): void => {
  if (dtype === "float32") rt.f32().fill(value, ptr >>> 2, (ptr >>> 2) + n)
  else if (dtype === "bool") rt.u8().fill(value, ptr, ptr + n)
  else rt.i32().fill(value, ptr >>> 2, (ptr >>> 2) + n)
}

/** Compiled runs by a caller's signature, per runtime: eager ops skip simplifying and checking. */
const runs = new WeakMap<WasmRuntime, Map<string, PlanRun | undefined>>()

/**
 * {@link compilePlan}, remembered under `signature`, a string that determines the plan (the
 * primitive, its parameters, dtypes and shapes): what an eager op pays per call is a map lookup.
 * @category kernels
 * @since 0.2.0
 */
export const cachedPlan = (rt: WasmRuntime, signature: string, plan: () => Plan): PlanRun | undefined => {
  let cache = runs.get(rt)
  if (cache === undefined) runs.set(rt, (cache = new Map()))
  if (cache.has(signature)) return cache.get(signature)
  const run = compilePlan(rt, plan())
  cache.set(signature, run)
  return run
}

/**
 * Compiles `plan` into a kernel run, or `undefined` when it has a node without an exact wasm form.
 * @category kernels
 * @since 0.2.0
 */
export const compilePlan = (rt: WasmRuntime, plan: Plan): PlanRun | undefined => {
  const rank = plan.shape.length
  const normalized: Plan =
    plan.outputs.kind === "reduce"
      ? { ...plan, outputs: { ...plan.outputs, axes: normalizeAxes(plan.outputs.axes, rank) } }
      : plan
  const n = count(plan.shape)
  const s = simplify(normalized)
  if (!supported(s)) return undefined
  if (normalized.outputs.kind === "reduce") {
    const axes = normalized.outputs.axes
    const outCount = count(plan.shape.filter((_, i) => !axes.includes(i)))
    const dtype = nodeDtypes(normalized)[normalized.outputs.node]!
    const fold = foldOf(normalized.outputs.prim, dtype)!
    if (outCount === 0) return () => {}
    if (n === 0) return (pointers) => fill(rt, dtype, pointers[plan.inputs.length]!, outCount, fold.identity)
  } else if (n === 0) return () => {}
  const layout = layoutOf(s)
  const flat = layout.kind === "flat"
  // A flat kernel takes its length as an argument: its key leaves the length out.
  const kernel = rt.kernel(planKey(flat ? { ...s, shape: [-1] } : s, `${layout.kind}${layout.unroll}`), (m) =>
    buildModule(m, s, layout)
  )
  const tasks =
    n < parallelThreshold ? 1 : Math.max(1, Math.min(rt.threads, layout.units, Math.floor(n / (parallelThreshold / 2))))
  return flat
    ? (pointers) => rt.run(kernel, "run", [...pointers, n], tasks)
    : (pointers) => rt.run(kernel, "run", pointers, tasks)
}

/** Element strides of an operand of shape `shape` broadcast (equal rank, size-1 axes) over `out`. */
export const broadcastStrides = (shape: ReadonlyArray<number>, out: ReadonlyArray<number>): Array<number> => {
  const rm = rowMajor(shape)
  return out.map((d, i) => (shape[i] === 1 && d !== 1 ? 0 : rm[i]!))
}

/** A one-node map plan over `out`'s shape, reading every input with broadcasting. */
const onePlan = (inAvals: ReadonlyArray<Aval>, out: Aval, node: FusedNode): Plan => ({
  shape: out.shape,
  inputs: inAvals.map((a) => ({ dtype: a.dtype, strides: broadcastStrides(a.shape, out.shape) })),
  nodes: [...inAvals.map((_, k): FusedNode => ({ kind: "input", input: k, dtype: inAvals[k]!.dtype })), node],
  outputs: { kind: "map", results: [{ node: inAvals.length, strides: rowMajor(out.shape) }] }
})

/** The shapes and dtypes of avals, as a cache key. */
export const signatureOf = (avals: ReadonlyArray<Aval>): string =>
  avals.map((a) => `${a.dtype}[${a.shape.join(",")}]`).join(";")

/** Runs a one-node plan, or answers "fallback". */
const runOne = (
  rt: WasmRuntime,
  inputs: ReadonlyArray<number>,
  outputs: ReadonlyArray<number>,
  inAvals: ReadonlyArray<Aval>,
  out: Aval,
  node: FusedNode
): void | "fallback" => {
  const tag =
    node.kind === "unary" || node.kind === "binary" ? node.prim : node.kind === "round" ? node.method : node.kind
  const run = cachedPlan(rt, `${tag}:${node.dtype}:${signatureOf(inAvals)}>${out.shape.join(",")}`, () =>
    onePlan(inAvals, out, node)
  )
  if (run === undefined) return "fallback"
  run([...inputs, ...outputs])
}

const numeric = (d: DType): NumericDType => d as NumericDType

/**
 * The kernel of a unary primitive.
 * @category kernels
 * @since 0.2.0
 */
export const unaryKernel =
  <P extends UnaryPrimitive>(prim: P): WasmKernel<P> =>
  (rt, inputs, outputs, inAvals, outAvals) =>
    runOne(rt, inputs, outputs, inAvals, outAvals[0]!, {
      kind: "unary",
      prim,
      arg: 0,
      dtype: numeric(outAvals[0]!.dtype)
    })

/**
 * The kernel of an arithmetic or comparison primitive.
 * @category kernels
 * @since 0.2.0
 */
export const binaryKernel =
  <P extends BinaryPrimitive>(prim: P): WasmKernel<P> =>
  (rt, inputs, outputs, inAvals, outAvals) =>
    runOne(rt, inputs, outputs, inAvals, outAvals[0]!, {
      kind: "binary",
      prim,
      args: [0, 1],
      dtype: numeric(outAvals[0]!.dtype)
    })

/** @category kernels @since 0.2.0 */
export const selectKernel: WasmKernel<"select"> = (rt, inputs, outputs, inAvals, outAvals) =>
  runOne(rt, inputs, outputs, inAvals, outAvals[0]!, {
    kind: "select",
    args: [0, 1, 2],
    dtype: numeric(outAvals[0]!.dtype)
  })

/** @category kernels @since 0.2.0 */
export const roundKernel: WasmKernel<"round"> = (rt, inputs, outputs, inAvals, outAvals, params) =>
  runOne(rt, inputs, outputs, inAvals, outAvals[0]!, { kind: "round", method: params.method, arg: 0, dtype: "float32" })

/** @category kernels @since 0.2.0 */
export const convertKernel: WasmKernel<"convert_element_type"> = (rt, inputs, outputs, inAvals, outAvals, params) =>
  runOne(rt, inputs, outputs, inAvals, outAvals[0]!, { kind: "convert", arg: 0, dtype: params.newDtype })
