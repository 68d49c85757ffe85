/**
 * The executable plan of a staged program on one backend: what `jit` runs on concrete arguments
 * instead of replaying the jaxpr through `bind`.
 *
 * Compiling rewrites the program (common subexpressions, constant folding, dead code, layout
 * changes around dots; see the sibling modules), groups elementwise chains into fused kernels when
 * the backend compiles them, orders the resulting steps, and assigns each value a slot. Running it
 * (`run.ts`) is then a loop over steps: a first-order primitive goes straight to `backend.execute`
 * with the input and output avals computed at compile time (no shape inference, no key checks, no
 * Array wrappers), a fused group is one call of its kernel, and a higher-order primitive (control
 * flow, custom derivatives, checkpoint) is evaluated as `bind` would on concrete arrays. After its
 * last read, an intermediate buffer is disposed, unless a plan input, a constant or an output holds
 * it. The program's constants are held for the plan's lifetime (through `retain` where the backend
 * has it, so that an enclosing `tidy` cannot dispose them under a cached plan).
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../../../backend/Array.ts"
import type { BackendImpl, DeviceBuffer, FusedKernel } from "../../../backend/BackendImpl.ts"
import type { Aval, HostArray } from "../../../backend/DType.ts"
import type { FusedProgram } from "../../../backend/fusion.ts"
import type { ClosedJaxpr, Var } from "../../../backend/Jaxpr.ts"
import { isLiteral } from "../../../backend/Jaxpr.ts"
import type { FirstOrderPrimitive, Primitive } from "../../../backend/Primitive.ts"
import { checkKeyUse, isHigherOrder } from "../../../backend/Primitive.ts"
import { cse } from "./cse.ts"
import { foldDotLayouts } from "./dotLayout.ts"
import { foldConstants } from "./fold.ts"
import type { Fusion } from "./fuse.ts"
import { buildFusion, findGroups } from "./fuse.ts"
import type { Equation, Graph } from "./graph.ts"
import { dce, fromJaxpr } from "./graph.ts"
import { releaseAfter } from "./liveness.ts"
import { printPlan } from "./print.ts"
import { runSteps } from "./run.ts"
import type { Exec, Output, Source, Step } from "./run.ts"

/** One step of a plan, as tests and users inspect it. */
export interface PlanStep {
  /** `kernel`: one backend kernel; `fused`: one fused kernel; `interpret`: a higher-order primitive. */
  readonly kind: "kernel" | "fused" | "interpret"
  /** The primitives the step runs: one, or a fused group's in program order (a closing reduction last). */
  readonly prims: ReadonlyArray<Primitive>
  /** A fused step's program. */
  readonly program?: FusedProgram
  /** The variables the step reads and writes. */
  readonly inputs: ReadonlyArray<Var>
  readonly outputs: ReadonlyArray<Var>
}

/**
 * A compiled plan: runnable on the backend it was compiled for, and printable.
 * @category models
 * @since 0.2.0
 */
export interface Plan {
  readonly backend: BackendImpl
  readonly steps: ReadonlyArray<PlanStep>
  /** Runs the plan on concrete arguments (one per input of the program). */
  readonly run: (args: ReadonlyArray<JArray>) => Array<JArray>
  /** The plan as text, in the style of a printed jaxpr; fused steps show their programs. */
  toString(): string
}

type Unit =
  | { readonly kind: "eqn"; readonly eqn: Equation }
  | { readonly kind: "fused"; readonly fusion: Fusion; readonly kernel: FusedKernel }

const reads = (u: Unit): ReadonlyArray<Var> => (u.kind === "eqn" ? u.eqn.inputs : u.fusion.inputs)
const writes = (u: Unit): ReadonlyArray<Var> => (u.kind === "eqn" ? u.eqn.outputs : u.fusion.outputs)

/** The rewrites that do not depend on fusion, in order; exported for tests. */
export const simplify = (closed: ClosedJaxpr, backend: BackendImpl): Graph => {
  const g0 = fromJaxpr(closed)
  for (const e of g0.eqns)
    checkKeyUse(
      e.prim,
      e.inputs.map((v) => v.aval)
    )
  return dce(foldDotLayouts(dce(foldConstants(cse(g0), backend))))
}

/**
 * Units in an order where every value is written before it is read, close to program order; a unit
 * listed more than once is placed once. Exported for tests.
 */
export const schedule = (units: ReadonlyArray<Unit>): Array<Unit> => {
  const writer = new Map<number, Unit>()
  for (const u of units) for (const v of writes(u)) writer.set(v.id, u)
  const state = new Map<Unit, "visiting" | "done">()
  const order: Array<Unit> = []
  for (const root of units) {
    if (state.has(root)) continue
    const stack: Array<{ unit: Unit; next: number }> = [{ unit: root, next: 0 }]
    state.set(root, "visiting")
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const ins = reads(top.unit)
      if (top.next < ins.length) {
        const dep = writer.get(ins[top.next++]!.id)
        if (dep === undefined || state.get(dep) === "done") continue
        if (state.get(dep) === "visiting")
          throw new Error("jit compile: fused groups form a cycle (a bug in the fusion pass)")
        state.set(dep, "visiting")
        stack.push({ unit: dep, next: 0 })
        continue
      }
      stack.pop()
      state.set(top.unit, "done")
      order.push(top.unit)
    }
  }
  return order
}

/** Units whose outputs something needs, walking back from the program's outputs. */
const live = (order: ReadonlyArray<Unit>, outvars: ReadonlyArray<Var>): Array<Unit> => {
  const needed = new Set(outvars.map((v) => v.id))
  const kept: Array<Unit> = []
  for (let i = order.length - 1; i >= 0; i--) {
    const u = order[i]!
    if (!writes(u).some((v) => needed.has(v.id))) continue
    kept.push(u)
    for (const v of reads(u)) needed.add(v.id)
  }
  return kept.reverse()
}

/** A fused group's equations in program order, a closing reduction last. */
const groupEqns = (u: Extract<Unit, { readonly kind: "fused" }>): ReadonlyArray<Equation> => {
  const g = u.fusion.group
  return g.reduce === undefined ? g.members : [...g.members, g.reduce]
}

/**
 * The units of a graph on a backend: fused groups the backend compiles, single equations otherwise,
 * in program order. A fused unit is listed once per equation it holds: `schedule` places it once.
 */
const unitsOf = (g: Graph, backend: BackendImpl): Array<Unit> => {
  const fusedBy = new Map<Equation, Unit>()
  if (backend.compileFused !== undefined) {
    for (const group of findGroups(g)) {
      const fusion = buildFusion(g, group)
      if (!fusion.worthwhile) continue
      const kernel = backend.compileFused(fusion.program)
      if (kernel === undefined) continue
      const unit = { kind: "fused", fusion, kernel } as const
      for (const m of groupEqns(unit)) fusedBy.set(m, unit)
    }
  }
  return g.eqns.map((e) => fusedBy.get(e) ?? { kind: "eqn", eqn: e })
}

const info = (u: Unit): PlanStep => {
  if (u.kind === "fused") {
    return {
      kind: "fused",
      prims: groupEqns(u).map((m) => m.prim),
      program: u.fusion.program,
      inputs: u.fusion.inputs,
      outputs: u.fusion.outputs
    }
  }
  return {
    kind: isHigherOrder(u.eqn.prim) ? "interpret" : "kernel",
    prims: [u.eqn.prim],
    inputs: u.eqn.inputs,
    outputs: u.eqn.outputs
  }
}

/**
 * The arrays inside programs a higher-order primitive carries: their constants and literals.
 * Walks records and arrays (`Object.values` lists an array's elements), each once. Exported for tests.
 */
export const innerArrays = (
  params: unknown,
  into: Set<JArray> = new Set(),
  seen: Set<unknown> = new Set()
): Set<JArray> => {
  if (!(params instanceof Object) || seen.has(params)) return into
  seen.add(params)
  const closed = params as Partial<ClosedJaxpr>
  if (closed.jaxpr !== undefined && closed.consts !== undefined) {
    for (const c of closed.consts) into.add(c)
    for (const e of closed.jaxpr.eqns) {
      for (const a of e.inputs) if (isLiteral(a)) into.add(a.literal)
      innerArrays(e.params, into, seen)
    }
    for (const a of closed.jaxpr.outvars) if (isLiteral(a)) into.add(a.literal)
    return into
  }
  for (const v of Object.values(params)) innerArrays(v, into, seen)
  return into
}

const execOf = (u: Unit): Exec => {
  if (u.kind === "fused") return { kind: "fused", kernel: u.kernel, outAvals: u.fusion.outputs.map((v) => v.aval) }
  const e = u.eqn
  const inAvals = e.inputs.map((v) => v.aval)
  if (isHigherOrder(e.prim))
    return { kind: "interpret", prim: e.prim, params: e.params, inAvals, innerArrays: innerArrays(e.params) }
  return {
    kind: "kernel",
    prim: e.prim as FirstOrderPrimitive,
    params: e.params,
    inAvals,
    outAvals: e.outputs.map((v) => v.aval)
  }
}

/**
 * A constant's buffer for the plan's lifetime. Where the backend can `retain` a handle no `tidy`
 * disposes, the plan keeps one; otherwise it asks the array each call (which moves it if needed).
 */
const heldArray = (a: JArray, backend: BackendImpl): (() => DeviceBuffer) => {
  if (backend.retain === undefined) return () => a.bufferOn(backend)
  const held = backend.retain(a.bufferOn(backend))
  return () => held
}

/**
 * A folded value's source: uploaded once where nothing can dispose it behind the plan's back (a
 * retained handle, or a backend without `tidy`), else uploaded on each call.
 */
const foldedSource = (slot: number, data: HostArray, aval: Aval, backend: BackendImpl): Source => {
  if (backend.retain !== undefined) {
    const made = backend.upload(data, aval)
    const held = backend.retain(made)
    backend.dispose(made)
    return { kind: "held", slot, buffer: () => held }
  }
  if (backend.tidy === undefined) {
    const held = backend.upload(data, aval)
    return { kind: "held", slot, buffer: () => held }
  }
  return { kind: "upload", slot, data, aval }
}

/**
 * Compiles a closed jaxpr into a plan for `backend`. Constant folding runs on `backend`, so the plan
 * computes what evaluating the jaxpr there would.
 * @category compilation
 * @since 0.2.0
 */
export const compilePlan = (closed: ClosedJaxpr, backend: BackendImpl): Plan => {
  const g = simplify(closed, backend)
  const units = live(schedule(unitsOf(g, backend)), g.outvars)
  const slots = new Map<number, number>()
  const slotOf = (v: Var): number => {
    let s = slots.get(v.id)
    if (s === undefined) {
      s = slots.size
      slots.set(v.id, s)
    }
    return s
  }
  const invarIndex = new Map(g.invars.map((v, i) => [v.id, i]))
  const sources: Array<Source> = []
  const filled = new Set<number>()
  const fill = (v: Var): void => {
    if (filled.has(v.id)) return
    const arg = invarIndex.get(v.id)
    const known = g.known.get(v.id)
    if (arg === undefined && known === undefined) return
    filled.add(v.id)
    const slot = slotOf(v)
    if (arg !== undefined) sources.push({ kind: "arg", slot, arg })
    else if (known!.kind === "array") sources.push({ kind: "held", slot, buffer: heldArray(known!.array, backend) })
    else sources.push(foldedSource(slot, known!.data, v.aval, backend))
  }
  for (const u of units) reads(u).forEach(fill)
  const outputs = g.outvars.map((v): Output => {
    const arg = invarIndex.get(v.id)
    if (arg !== undefined) return { kind: "arg", arg }
    const known = g.known.get(v.id)
    if (known?.kind === "array") return { kind: "array", array: known.array }
    // A folded output is a new array on every call, as it was before folding.
    if (known?.kind === "host") return { kind: "upload", data: known.data, aval: v.aval }
    return { kind: "slot", slot: slotOf(v), aval: v.aval }
  })
  const uses = units.map((u) => ({ inputs: reads(u).map(slotOf), outputs: writes(u).map(slotOf) }))
  const keep = new Set(outputs.flatMap((o) => (o.kind === "slot" ? [o.slot] : [])))
  const release = releaseAfter(uses, keep)
  const steps: Array<Step> = units.map((u, i) => ({ exec: execOf(u), ...uses[i]!, release: release[i]! }))
  const infos = units.map(info)
  const slotCount = slots.size
  return {
    backend,
    steps: infos,
    run: (args) => runSteps(backend, steps, slotCount, sources, outputs, args),
    toString: () => printPlan(backend.name, g, infos)
  }
}
