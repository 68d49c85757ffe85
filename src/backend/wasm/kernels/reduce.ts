/**
 * Reductions (`reduce_sum`, `reduce_max`, `reduce_min`, `reduce_prod`, `reduce_and`, `reduce_or`)
 * over any axes, as plans whose one node is the input (see `codegen.ts` for the loops and for why
 * float32 sums fold in the reference's order).
 *
 * @since 0.2.0
 */
import type { ReducePrimitive } from "../../Primitive.ts"
import type { WasmKernel } from "../runtime.ts"
import { cachedPlan, signatureOf } from "./elementwise.ts"
import { rowMajor } from "./plan.ts"

/**
 * The kernel of a reduction.
 * @category kernels
 * @since 0.2.0
 */
export const reduceKernel =
  <P extends ReducePrimitive>(prim: P): WasmKernel<P> =>
  (rt, inputs, outputs, inAvals, _outAvals, params) => {
    const a = inAvals[0]!
    const run = cachedPlan(rt, `${prim}:${params.axes.join(",")}:${signatureOf(inAvals)}`, () => ({
      shape: a.shape,
      inputs: [{ dtype: a.dtype, strides: rowMajor(a.shape) }],
      nodes: [{ kind: "input", input: 0, dtype: a.dtype }],
      outputs: { kind: "reduce", node: 0, prim, axes: params.axes }
    }))
    if (run === undefined) return "fallback"
    run([...inputs, ...outputs])
  }
