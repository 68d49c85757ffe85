/**
 * The single entry point of every array operation: `bind(primitive, inputs, params)`.
 *
 * As in JAX, `bind` looks for the highest-level trace among its inputs' tracers and lets that trace
 * interpret the primitive (batching, differentiation, staging into a program); with no tracer among
 * the inputs it evaluates: shape inference, then the current backend's kernel.
 */
import { Array as JArray } from "./Array.ts"
import { EscapedTracerError } from "./ArrayError.ts"
import type { DeviceBuffer } from "./BackendImpl.ts"
import { currentBackend } from "./current.ts"
import type { Aval } from "./DType.ts"
import type { FirstOrderPrimitive, HigherOrderPrimitive, Params, Primitive } from "./Primitive.ts"
import { abstractEval, checkKeyUse, isHigherOrder } from "./Primitive.ts"
import { higherOrderImpl } from "./higherOrder.ts"
import { current as context, withContext } from "./transformContext.ts"
import type { Trace, TraceContext } from "./transformContext.ts"

export type { Trace, TraceContext } from "./transformContext.ts"

/** Applies a primitive to arrays, returning all of its outputs. */
export const bind = <P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): Array<JArray> => {
  let top: Trace | undefined
  for (const x of inputs) {
    const t = x.trace
    if (t !== undefined && (top === undefined || t.level > top.level)) top = t
  }
  // Inside a control-flow branch or body being staged, an operation on values of enclosing
  // transforms only (closed-over tracers) belongs to the branch, as with JAX's omnistaging. Left to
  // the enclosing transform it would run, and be differentiated, even where the branch is not taken.
  if (top !== undefined) {
    const capturing = context().capturing
    if (capturing !== undefined && top.level < capturing.level && capturing.alive) top = capturing
    if (!top.alive) {
      throw new EscapedTracerError({
        op: prim,
        reason: `an Array traced by ${top.name} was used after ${top.name} returned (it escaped through a closure, a global or a mutated object); return it from the transformed function instead`
      })
    }
    return top.process(prim, inputs, params)
  }
  return evaluate(prim, inputs, params)
}

/**
 * Runs `f` with `trace` receiving every operation whose tracers all belong to lower traces: the
 * staging of a control-flow function, so that what it computes from closed-over values is staged
 * into it (and runs only when it runs), not evaluated outside.
 */
export const withCapturingTrace = <A>(trace: Trace, f: () => A): A => withContext({ capturing: trace }, f)

/** Applies a single-output primitive. */
export const bind1 = <P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): JArray =>
  bind(prim, inputs, params)[0]!

/** Evaluates a primitive on concrete arrays with the current backend. */
export const evaluate = <P extends Primitive>(
  prim: P,
  inputs: ReadonlyArray<JArray>,
  params: Params<P>
): Array<JArray> => {
  const inAvals = inputs.map((x) => x.aval)
  checkKeyUse(prim, inAvals)
  if (isHigherOrder(prim)) {
    return (
      higherOrderImpl[prim] as (
        i: ReadonlyArray<JArray>,
        p: Params<HigherOrderPrimitive>,
        b: typeof bind
      ) => Array<JArray>
    )(inputs, params as Params<HigherOrderPrimitive>, bind)
  }
  return evaluateKernel(prim as FirstOrderPrimitive, inputs, inAvals, params as Params<FirstOrderPrimitive>)
}

const evaluateKernel = <P extends FirstOrderPrimitive>(
  prim: P,
  inputs: ReadonlyArray<JArray>,
  inAvals: ReadonlyArray<Aval>,
  params: Params<P>
): Array<JArray> => {
  const outAvals = abstractEval[prim](inAvals, params)
  const backend = currentBackend()
  const buffers: Array<DeviceBuffer> = inputs.map((x) => x.bufferOn(backend))
  const outs = backend.execute(prim, buffers, inAvals, outAvals, params)
  return outs.map((b, i) => JArray.fromBuffer(b, outAvals[i]!, backend))
}

/**
 * The level of the innermost transform being traced right now (0 outside every transform). Graph
 * objects remember the trace they were made in, so that mutating one from inside a transform it was
 * not passed into can be refused.
 */
export const currentTraceLevel = (): number => context().trace.level

/** The innermost transform entry now (compared by identity; the same object outside every transform). */
export const currentTraceContext = (): TraceContext => context().trace

/** Runs `f` one trace level deeper, in a new trace context; transforms wrap the traced call of their function in it. */
export const withNewTraceLevel = <A>(f: (level: number) => A): A => {
  const level = context().trace.level + 1
  return withContext({ trace: Object.freeze({ level }) }, () => f(level))
}
