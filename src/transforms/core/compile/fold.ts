/**
 * Constant folding: an equation whose operands are all known (constants, literals, or results
 * folded before it) is evaluated once, when the plan is compiled, instead of on every call.
 *
 * It is evaluated by the backend the plan is for, with the same kernels an unjitted call would use,
 * so folding never changes a result. A backend that evaluates asynchronously (webgpu) cannot hand
 * results back while a plan compiles: there, known values the host can read now are folded on the
 * cpu reference kernels, and values still being computed are left to the plan. Only small results are folded (at most
 * {@link maxFoldedElements} elements): a folded value is kept as host data and uploaded on each call,
 * which for a large broadcast would cost more than the kernel it replaces. Layout changes
 * (broadcasts, reshapes) of known values are left to fusion, which reads them through strides for
 * free; higher-order primitives are never folded.
 *
 * @since 0.2.0
 */
import { Array as JArray } from "../../../backend/Array.ts"
import type { BackendImpl, DeviceBuffer } from "../../../backend/BackendImpl.ts"
import { withBackend } from "../../../backend/current.ts"
import { cpu } from "../../../backend/cpu/Cpu.ts"
import { evaluate } from "../../../backend/bind.ts"
import type { Var } from "../../../backend/Jaxpr.ts"
import { isHigherOrder } from "../../../backend/Primitive.ts"
import { sizeOf } from "../../../backend/shape.ts"
import { fusionRoles } from "./fuse.ts"
import type { Equation, Graph, Known } from "./graph.ts"
import { peekHost } from "./graph.ts"

/** The largest result constant folding computes ahead of time. */
export const maxFoldedElements = 4096

/** Whether the host can read a known value now. */
const readable = (k: Known | undefined): boolean =>
  k !== undefined && (k.kind === "host" || peekHost(k.array) !== undefined)

const foldable = (e: Equation, known: ReadonlyMap<number, Known>, async: boolean): boolean => {
  if (isHigherOrder(e.prim) || !e.inputs.every((v) => known.has(v.id))) return false
  if (async && !e.inputs.every((v) => readable(known.get(v.id)))) return false
  for (const o of e.outputs) {
    const size = sizeOf(o.aval.shape)
    if (o.aval.dtype === "key<fry>" || size > maxFoldedElements) return false
    if (size > 1 && fusionRoles[e.prim] === "view") return false
  }
  return true
}

/** Evaluates `e` on known values with `backend`, returning host copies of its outputs. */
const evaluateKnown = (e: Equation, known: ReadonlyMap<number, Known>, target: BackendImpl): Array<Known> => {
  const backend = target.read === undefined ? target : cpu
  return withBackend(backend, () => {
    const made: Array<DeviceBuffer> = []
    const kept = new Set<DeviceBuffer>()
    const operand = (v: Var): JArray => {
      const k = known.get(v.id)!
      if (k.kind === "array" && backend !== target) {
        const buffer = backend.upload(peekHost(k.array)!, v.aval)
        made.push(buffer)
        return JArray.fromBuffer(buffer, v.aval, backend)
      }
      if (k.kind === "array") {
        kept.add(k.array.bufferOn(backend))
        return k.array
      }
      const buffer = backend.upload(k.data, v.aval)
      made.push(buffer)
      return JArray.fromBuffer(buffer, v.aval, backend)
    }
    const outs = evaluate(e.prim, e.inputs.map(operand), e.params as never)
    // A copy: the backend may reuse the memory behind what `data()` returned once it is disposed.
    const results = outs.map((x): Known => ({ kind: "host", data: x.dataSync().slice() }))
    for (const x of outs) made.push(x.bufferOn(backend))
    for (const b of new Set(made)) if (!kept.has(b)) backend.dispose(b)
    return results
  })
}

/** The graph with every foldable equation replaced by known values. */
export const foldConstants = (g: Graph, backend: BackendImpl): Graph => {
  const known = new Map(g.known)
  const eqns: Array<Equation> = []
  const async = backend.read !== undefined
  for (const e of g.eqns) {
    if (!foldable(e, known, async)) {
      eqns.push(e)
      continue
    }
    evaluateKnown(e, known, backend).forEach((k, i) => known.set(e.outputs[i]!.id, k))
  }
  return { ...g, known, eqns }
}
