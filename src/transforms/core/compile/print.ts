/**
 * Text of a compiled plan, in the style of a printed jaxpr so the two read side by side: one line per
 * step, and a fused step as `fused[map over (8,64): tanh mul sub]` (or `fused[reduce_sum axes=(1,) over
 * ...]`) with the inputs it reads through strides marked `x@(64,0,1)`. Known values print as their
 * scalar (`2.0:f32`) or as `<const f32[4]>`.
 *
 * @since 0.2.0
 */
import type { FusedProgram } from "../../../backend/fusion.ts"
import type { Var } from "../../../backend/Jaxpr.ts"
import { formatAval, formatParam, varNamer } from "../../../backend/Jaxpr.ts"
import { stridesOf } from "../../../backend/shape.ts"
import type { Graph } from "./graph.ts"
import { knownScalar } from "./graph.ts"
import type { PlanStep } from "./plan.ts"

const tuple = (xs: ReadonlyArray<number>): string => `(${xs.join(", ")}${xs.length === 1 ? "," : ""})`

const fusedHead = (p: FusedProgram, prims: ReadonlyArray<string>): string => {
  const o = p.outputs
  const kind = o.kind === "map" ? "map" : `${o.prim} axes=${tuple(o.axes)}`
  const body = o.kind === "map" ? prims : prims.slice(0, -1)
  return `fused[${kind} over ${tuple(p.shape)}: ${body.join(" ")}]`
}

/** The plan's text. */
export const printPlan = (backend: string, g: Graph, steps: ReadonlyArray<PlanStep>): string => {
  const { name, decl } = varNamer()
  const atom = (v: Var): string => {
    const k = g.known.get(v.id)
    if (k === undefined) return name(v)
    const x = knownScalar(k, v)
    if (x === undefined) return `<const ${formatAval(v.aval)}>`
    const text =
      v.aval.dtype === "bool"
        ? x !== 0
          ? "True"
          : "False"
        : v.aval.dtype === "float32" && Number.isInteger(x)
          ? `${x}.0`
          : String(x)
    return `${text}:${formatAval(v.aval)}`
  }
  const producer = new Map(g.eqns.map((e) => [e.outputs[0]!.id, e]))
  const head = `{ plan on ${backend}: ${g.invars.map(decl).join(" ")}. let`
  const lines = steps.map((s) => {
    const outs = s.outputs.map(decl).join(" ")
    if (s.program !== undefined) {
      const p = s.program
      const ins = s.inputs.map((v, k) => {
        const strides = p.inputs[k]!.strides
        const plain = stridesOf(p.shape).map((st, i) => (p.shape[i] === 1 ? 0 : st))
        return strides.every((st, i) => st === plain[i]) && v.aval.shape.length === p.shape.length
          ? atom(v)
          : `${atom(v)}@${tuple(strides)}`
      })
      return `    ${outs} = ${fusedHead(p, s.prims)} ${ins.join(" ")}`
    }
    const eqn = producer.get(s.outputs[0]!.id)
    const params = Object.entries((eqn?.params ?? {}) as Record<string, unknown>)
    const ps = params.length === 0 ? "" : `[${params.map(([k, v]) => `${k}=${formatParam(v)}`).join(" ")}]`
    return `    ${outs} = ${s.prims[0]}${ps} ${s.inputs.map(atom).join(" ")}`
  })
  const outs = g.outvars.map(atom)
  return [head, ...lines, `  in (${outs.join(", ")}${outs.length === 1 ? "," : ""}) }`].join("\n")
}
