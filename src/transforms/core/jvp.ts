/**
 * Forward-mode differentiation: a `JVPTrace` carries a tangent with each primal value, and each
 * primitive's JVP rule pushes tangents forward. `linearize` stages the tangent computation into a
 * jaxpr while evaluating the primal one, giving a linear function to reuse.
 *
 * @since 0.1.0
 */
import type { Array as JArray, TracerPayload } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import { fromScalar } from "../../backend/numpy/creation.ts"
import type { Params, Primitive } from "../../backend/Primitive.ts"
import { evalJaxpr, dce } from "../../backend/Jaxpr.ts"
import type { ClosedJaxpr, Var } from "../../backend/Jaxpr.ts"
import { flatten, unflatten } from "./pytree.ts"
import { JaxprTrace } from "./staging.ts"
import { CoreTrace, runWithTrace } from "./trace.ts"
import { GradError, StructureError } from "./TransformError.ts"
import { withNewTraceLevel } from "../../backend/bind.ts"

export { jvpRules } from "./ruleTables.ts"
import { jvpRules } from "./ruleTables.ts"

interface JvpPayload extends TracerPayload {
  readonly primal: JArray
  readonly tangent: JArray
}

/** The trace of one `jvp` application. */
export class JVPTrace extends CoreTrace<JvpPayload> {
  constructor(level: number) {
    super(level, "jvp")
  }

  wrap(primal: JArray, tangent: JArray | null): JArray {
    return tangent === null ? primal : this.tracer(primal.aval, { primal, tangent })
  }

  unwrap(x: JArray): readonly [JArray, JArray | null] {
    if (this.owns(x)) {
      const p = this.payload(x)
      return [p.primal, p.tangent]
    }
    return [x, null]
  }

  process<P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): Array<JArray> {
    const primals: Array<JArray> = []
    const tangents: Array<JArray | null> = []
    for (const x of inputs) {
      const [p, t] = this.unwrap(x)
      primals.push(p)
      tangents.push(t)
    }
    if (tangents.every((t) => t === null)) return bind(prim, primals, params)
    const [outs, outTangents] = jvpRules()[prim](primals, tangents, params)
    return outs.map((o, i) => this.wrap(o, outTangents[i] ?? null))
  }
}

/** A zero of `x`'s shape and dtype. */
export const zerosLike = (x: JArray): JArray =>
  bind1("broadcast_in_dim", [fromScalar(0, x.dtype === "key<fry>" ? "uint32" : x.dtype)], {
    shape: x.shape,
    broadcastDimensions: []
  })

const checkArrays = (transform: string, what: string, leaves: ReadonlyArray<unknown>): Array<JArray> =>
  leaves.map((l, i) => {
    if (!isArray(l)) throw new GradError({ transform, reason: `${what} leaf ${i} is not an Array (got ${typeof l})` })
    return l
  })

/**
 * Evaluates `f` at `primals` and its directional derivative along `tangents` (pytrees of the same
 * structure), like `jax.jvp`.
 *
 * @example
 * ```ts
 * import { jnp, jvp } from "effect-nnx"
 *
 * const [y, dy] = jvp((x: jnp.Array) => jnp.sin(x), [jnp.array(0.5)], [jnp.ones([])])
 * dy.item() === Math.fround(Math.cos(0.5)) // true: d/dx sin(x) = cos(x)
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const jvp = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  primals: Args,
  tangents: Args
): readonly [R, R] => {
  const [pLeaves, pDef] = flatten(primals)
  const [tLeaves, tDef] = flatten(tangents)
  if (pLeaves.length !== tLeaves.length) {
    throw new StructureError({
      transform: "jvp",
      reason: `primals have ${pLeaves.length} leaves but tangents have ${tLeaves.length}`
    })
  }
  void tDef
  const ps = checkArrays("jvp", "primal", pLeaves)
  const ts = checkArrays("jvp", "tangent", tLeaves)
  ps.forEach((p, i) => {
    const t = ts[i]!
    if (p.shape.join(",") !== t.shape.join(",")) {
      throw new StructureError({
        transform: "jvp",
        reason: `primal ${i} has shape (${p.shape.join(", ")}) but its tangent has shape (${t.shape.join(", ")})`
      })
    }
    if ((p.dtype === "float32" || p.dtype === "complex64") && t.dtype !== p.dtype) {
      throw new StructureError({
        transform: "jvp",
        reason: `primal ${i} is ${p.dtype} but its tangent has dtype ${t.dtype}`
      })
    }
  })
  return runWithTrace(
    (level) => new JVPTrace(level),
    (trace) => {
      const inner = ps.map((p, i) => trace.wrap(p, ts[i]!))
      const out = f(...(unflatten(pDef, inner) as Args))
      const [oLeaves, oDef] = flatten(out)
      const outP: Array<unknown> = []
      const outT: Array<unknown> = []
      for (const leaf of oLeaves) {
        if (!isArray(leaf)) {
          outP.push(leaf)
          outT.push(leaf)
          continue
        }
        const [p, t] = trace.unwrap(leaf)
        outP.push(p)
        outT.push(t ?? zerosLike(p))
      }
      return [unflatten(oDef, outP) as R, unflatten(oDef, outT) as R] as const
    }
  )
}

/**
 * The primal outputs of a linearization as values. A control-flow primitive (`scan`, `cond`,
 * `while`) differentiates into one primitive over primals and tangents together, so with staged
 * tangents its primal outputs are staged too; JAX splits such a primitive into a known and an
 * unknown part, and here the staged primal outputs are evaluated once instead (with zero tangents,
 * on which they do not depend).
 */
const concretePrimals = <R>(stager: JaxprTrace, invars: ReadonlyArray<Var>, ps: ReadonlyArray<JArray>, out: R): R => {
  const [leaves, def] = flatten(out)
  const staged = leaves.flatMap((l, i) => (isArray(l) && stager.owns(l) ? [i] : []))
  if (staged.length === 0) return out
  const jaxpr = dce({
    constvars: stager.constvars,
    invars: [...invars],
    eqns: stager.eqns,
    outvars: staged.map((i) => stager.atom(leaves[i] as JArray))
  })
  const values = evalJaxpr(
    { jaxpr, consts: stager.consts },
    ps.map((p) => zerosLike(p)),
    bind
  )
  staged.forEach((i, k) => (leaves[i] = values[k]))
  return unflatten(def, leaves) as R
}

/**
 * Evaluates `f` at `primals` and returns its linearization: a function of tangents that applies the
 * Jacobian without re-evaluating `f`, like `jax.linearize`.
 * @category transforms
 * @since 0.1.0
 */
export const linearize = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  ...primals: Args
): readonly [R, (...tangents: Args) => R] => {
  const [pLeaves, pDef] = flatten(primals)
  const ps = checkArrays("linearize", "primal", pLeaves)
  // The tangents are staged (a jaxpr trace below the JVP trace), the primals evaluated.
  return withNewTraceLevel((stageLevel) => {
    const stager = new JaxprTrace(stageLevel, "linearize")
    try {
      const tangentVars = ps.map((p) => stager.newArg(p.aval))
      const [out, tangentOut] = runWithTrace(
        (level) => new JVPTrace(level),
        (trace) => {
          const inner = ps.map((p, i) => trace.wrap(p, tangentVars[i]![1]))
          const o = f(...(unflatten(pDef, inner) as Args))
          const [oLeaves, oDef] = flatten(o)
          const prim: Array<unknown> = []
          const tan: Array<JArray> = []
          for (const leaf of oLeaves) {
            const [p, t] = isArray(leaf) ? trace.unwrap(leaf) : [leaf as JArray, null]
            prim.push(p)
            tan.push(t ?? zerosLike(p))
          }
          return [unflatten(oDef, prim) as R, { oDef, tan }] as const
        }
      )
      const jaxpr = dce({
        constvars: stager.constvars,
        invars: tangentVars.map(([v]) => v),
        eqns: stager.eqns,
        outvars: tangentOut.tan.map((t) => stager.atom(t))
      })
      const closed: ClosedJaxpr = { jaxpr, consts: stager.consts }
      const fLin = (...tangents: Args): R => {
        const [tLeaves] = flatten(tangents)
        return unflatten(tangentOut.oDef, evalJaxpr(closed, checkArrays("linearize", "tangent", tLeaves), bind)) as R
      }
      return [
        concretePrimals(
          stager,
          tangentVars.map(([v]) => v),
          ps,
          out
        ),
        fLin
      ] as const
    } finally {
      stager.alive = false
    }
  })
}
