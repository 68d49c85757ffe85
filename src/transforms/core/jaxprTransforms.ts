/**
 * Transforming closed jaxprs: the batched or forward-differentiated version of a program, staged
 * into a new program. Control-flow rules use these to transform their bodies.
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind } from "../../backend/bind.ts"
import type { Aval } from "../../backend/DType.ts"
import { atomAval, evalJaxpr } from "../../backend/Jaxpr.ts"
import type { ClosedJaxpr } from "../../backend/Jaxpr.ts"
import { BatchTrace } from "./batching.ts"
import { moveAxis } from "./batchUtil.ts"
import { JVPTrace, zerosLike } from "./jvp.ts"
import type { BatchDim } from "./rules.ts"
import { stage } from "./staging.ts"
import { runWithTrace } from "./trace.ts"

const batchedAval = (a: Aval, size: number): Aval => ({ ...a, shape: [size, ...a.shape] })

/**
 * The program that runs `closed` on a batch: inputs marked batched have a leading batch axis.
 * Outputs listed in `forceBatched` (or batched anyway) get a leading batch axis; the others stay
 * unbatched. Returns the new program and which outputs are batched.
 */
export const batchJaxpr = (
  closed: ClosedJaxpr,
  inBatched: ReadonlyArray<boolean>,
  axisSize: number,
  forceBatched: ReadonlyArray<boolean>
): readonly [ClosedJaxpr, Array<boolean>] => {
  const inAvals = closed.jaxpr.invars.map((v, i) => (inBatched[i] ? batchedAval(v.aval, axisSize) : v.aval))
  let outBatched: Array<boolean> = []
  const staged = stage(
    "vmap",
    (args) =>
      runWithTrace(
        (level) => new BatchTrace(level, axisSize, undefined),
        (trace) => {
          const inner = args.map((a, i) => (inBatched[i] ? trace.wrap(a, 0) : a))
          const outs = evalJaxpr(closed, inner, bind)
          const unwrapped = outs.map((o) => trace.unwrap(o))
          outBatched = unwrapped.map(([, d], i) => d !== null || forceBatched[i] === true)
          return unwrapped.map(([v, d], i) => {
            if (d !== null) return moveAxis(v, d, 0)
            if (forceBatched[i] === true) {
              return bind("broadcast_in_dim", [v], {
                shape: [axisSize, ...v.shape],
                broadcastDimensions: v.shape.map((_, k) => k + 1)
              })[0]!
            }
            return v
          })
        }
      ),
    inAvals
  )
  return [staged.closed, outBatched]
}

/**
 * The program computing `closed`'s outputs and tangents: inputs are `[...primals, ...tangents of
 * the inputs marked nonzero]`, outputs `[...primal outputs, ...tangents of the nonzero outputs]`.
 * Outputs in `instantiate` always get a (possibly zero) tangent.
 */
export const jvpJaxpr = (
  closed: ClosedJaxpr,
  nonzero: ReadonlyArray<boolean>,
  instantiate: ReadonlyArray<boolean>
): readonly [ClosedJaxpr, Array<boolean>] => {
  const primalAvals = closed.jaxpr.invars.map((v) => v.aval)
  const tangentAvals = primalAvals.filter((_, i) => nonzero[i])
  let outNonzero: Array<boolean> = []
  const staged = stage(
    "jvp",
    (args) =>
      runWithTrace(
        (level) => new JVPTrace(level),
        (trace) => {
          const primals = args.slice(0, primalAvals.length)
          let t = primalAvals.length
          const inner = primals.map((p, i) => (nonzero[i] ? trace.wrap(p, args[t++]!) : p))
          const outs = evalJaxpr(closed, inner, bind)
          const unwrapped = outs.map((o) => trace.unwrap(o))
          outNonzero = unwrapped.map(([, tan], i) => tan !== null || instantiate[i] === true)
          const tangents: Array<JArray> = []
          unwrapped.forEach(([p, tan], i) => {
            if (tan !== null) tangents.push(tan)
            else if (instantiate[i] === true) tangents.push(zerosLike(p))
          })
          return [...unwrapped.map(([p]) => p), ...tangents]
        }
      ),
    [...primalAvals, ...tangentAvals]
  )
  return [staged.closed, outNonzero]
}

/** The avals a closed jaxpr returns. */
export const outAvalsOf = (closed: ClosedJaxpr): Array<Aval> => closed.jaxpr.outvars.map(atomAval)

/** Batch dims of outputs: 0 where batched. */
export const dimsOf = (batched: ReadonlyArray<boolean>): Array<BatchDim> => batched.map((b) => (b ? 0 : null))
