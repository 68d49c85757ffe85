/**
 * Fusion: which equations can run as one kernel, and the {@link FusedProgram} each group becomes.
 *
 * A group is a set of elementwise equations (unary, binary, select, conversions, round) over one
 * output shape, optionally closed by the one reduction that reads it. Each group runs as a single
 * step, after every group and equation it reads from, so the graph of groups must stay acyclic (a
 * group may hold independent siblings, so this is a property of the whole group, not of each path).
 * Groups grow greedily in program order: an equation joins the group of one of its operands'
 * producers, else a group sharing an operand, else a recent group of its shape (sibling chains such
 * as `tanh(x) + exp(-x)` fuse whole), provided joining adds no cycle between groups.
 *
 * For that, each value knows the groups it is computed from directly (through equations outside any
 * group), and each group the groups it reads; joining `G` is refused when one of those would then
 * both precede and follow `G`.
 *
 * Operands that are broadcasts, reshapes, size-1 insertions/removals, transposes or weak-type
 * conversions of other values are read through strides from the value underneath ({@link viewOf}),
 * so the layout change is never materialised for the group; size-1 known values become literal nodes.
 *
 * PRNG keys and bitcasts are never fused.
 *
 * @since 0.2.0
 */
import type { NumericDType } from "../../../backend/DType.ts"
import type { FusedInput, FusedNode, FusedOutputs, FusedProgram } from "../../../backend/fusion.ts"
import type { Var } from "../../../backend/Jaxpr.ts"
import type { Primitive, ReducePrimitive } from "../../../backend/Primitive.ts"
import { normalizeAxes, shapeEquals, sizeOf, stridesOf } from "../../../backend/shape.ts"
import type { Shape } from "../../../backend/shape.ts"
import type { Equation, Graph } from "./graph.ts"
import { consumers, knownScalar, numberKey, producers } from "./graph.ts"

/**
 * How fusion treats each primitive: as a node kind of a fused program, as the reduction closing one,
 * as a view read through strides, or not at all. Total over the primitives, so a new one must say.
 */
export type FusionRole = "unary" | "binary" | "select" | "convert" | "round" | "reduce" | "view" | "opaque"

export const fusionRoles: { readonly [P in Primitive]: FusionRole } = {
  neg: "unary",
  exp: "unary",
  log: "unary",
  sin: "unary",
  cos: "unary",
  tanh: "unary",
  logistic: "unary",
  sqrt: "unary",
  rsqrt: "unary",
  abs: "unary",
  sign: "unary",
  floor: "unary",
  ceil: "unary",
  erf: "unary",
  erf_inv: "unary",
  log1p: "unary",
  expm1: "unary",
  not: "unary",
  is_finite: "unary",
  add: "binary",
  sub: "binary",
  mul: "binary",
  div: "binary",
  rem: "binary",
  pow: "binary",
  max: "binary",
  min: "binary",
  and: "binary",
  or: "binary",
  xor: "binary",
  shift_left: "binary",
  shift_right_logical: "binary",
  shift_right_arithmetic: "binary",
  nextafter: "binary",
  atan2: "binary",
  eq: "binary",
  ne: "binary",
  lt: "binary",
  le: "binary",
  gt: "binary",
  ge: "binary",
  select: "select",
  convert_element_type: "convert",
  round: "round",
  reduce_sum: "reduce",
  reduce_max: "reduce",
  reduce_min: "reduce",
  reduce_prod: "reduce",
  reduce_and: "reduce",
  reduce_or: "reduce",
  broadcast_in_dim: "view",
  reshape: "view",
  expand_dims: "view",
  squeeze: "view",
  transpose: "view",
  stop_gradient: "view",
  // Bit reinterpretation has no node kind: a fused program's values are numbers, not bit patterns.
  bitcast_convert_type: "opaque",
  cumsum: "opaque",
  cumprod: "opaque",
  cummax: "opaque",
  cummin: "opaque",
  argmax: "opaque",
  argmin: "opaque",
  slice: "opaque",
  dynamic_slice: "opaque",
  dynamic_update_slice: "opaque",
  concatenate: "opaque",
  pad: "opaque",
  gather: "opaque",
  scatter: "opaque",
  scatter_add: "opaque",
  iota: "opaque",
  dot_general: "opaque",
  conv_general_dilated: "opaque",
  reduce_window: "opaque",
  sort: "opaque",
  threefry2x32: "opaque",
  random_wrap: "opaque",
  random_unwrap: "opaque",
  // Complex values are two words per element; fused programs have one-word lanes.
  real: "opaque",
  imag: "opaque",
  conj: "opaque",
  complex: "opaque",
  fft: "opaque",
  eig: "opaque",
  scan: "opaque",
  cond: "opaque",
  while: "opaque",
  custom_jvp_call: "opaque",
  custom_vjp_call: "opaque",
  checkpoint: "opaque"
}

const nodeRoles: ReadonlySet<FusionRole> = new Set<FusionRole>(["unary", "binary", "select", "convert", "round"])

type ReduceEquation = Extract<Equation, { readonly prim: ReducePrimitive }>

/** Keys and complex64 values are two words per element: fused programs work on one-word lanes. */
const isKey = (v: Var): boolean => v.aval.dtype === "key<fry>" || v.aval.dtype === "complex64"

/** Whether `e` is an elementwise equation a fused program can express. */
export const isFusible = (e: Equation): boolean =>
  nodeRoles.has(fusionRoles[e.prim]) &&
  e.outputs.length === 1 &&
  !e.inputs.some(isKey) &&
  !e.outputs.some(isKey) &&
  sizeOf(e.outputs[0]!.aval.shape) > 0

const isReduce = (e: Equation | undefined): e is ReduceEquation =>
  e !== undefined && fusionRoles[e.prim] === "reduce" && !isKey(e.inputs[0]!)

/** Whether `e` changes only the layout (or the weak type) of its operand, so strides can read through it. */
const isView = (e: Equation): boolean => {
  const role = fusionRoles[e.prim]
  return (
    (role === "view" || role === "convert") &&
    !isKey(e.inputs[0]!) &&
    e.inputs[0]!.aval.dtype === e.outputs[0]!.aval.dtype
  )
}

/**
 * Whether `e` leaves every element where it was (a `stop_gradient`, a weak-type conversion, a
 * reshape or broadcast to the same shape): a group can then read its output as the very value it
 * computed for the input, so `where(x > 0, x, stop_gradient(max(x, 0)))` (relu) fuses whole.
 */
const isIdentityView = (e: Equation): boolean => {
  if (!isView(e)) return false
  const src = e.inputs[0]!.aval.shape
  if (!shapeEquals(src, e.outputs[0]!.aval.shape)) return false
  const contiguous = stridesOf(src)
  const strides = viewStrides(e, contiguous)
  return strides !== undefined && strides.every((s, i) => s === contiguous[i] || src[i] === 1)
}

/** The value under a chain of identity views (`v` itself when it is not one's output). */
const identityRoot = (v: Var, prod: ReadonlyMap<number, Equation>): Var => {
  let cur = v
  for (let p = prod.get(cur.id); p !== undefined && isIdentityView(p); p = prod.get(cur.id)) cur = p.inputs[0]!
  return cur
}

/** A set of equations that may run as one fused kernel. */
export interface Group {
  readonly id: number
  readonly shape: Shape
  /** Elementwise equations, in program order. */
  readonly members: Array<Equation>
  /** The reduction closing the group, when it reads the group's only value used outside it. */
  reduce: ReduceEquation | undefined
}

/** How many of the most recent same-shape groups an unrelated equation tries to join. */
const siblingCandidates = 8

/** Partitions the fusible equations of `g` into convex groups, and attaches closing reductions. */
export const findGroups = (g: Graph): Array<Group> => {
  const prod = producers(g)
  const groups: Array<Group> = []
  const groupOf = new Map<Equation, Group>()
  const readersOf = new Map<number, Set<Group>>()
  // The groups each value is computed from without passing through another group.
  const sources = new Map<number, ReadonlySet<Group>>()
  // The groups each group reads values of (its direct predecessors in the graph of groups).
  const deps = new Map<Group, Set<Group>>()
  const none: ReadonlySet<Group> = new Set()
  const reaches = (from: Group, to: Group): boolean => {
    const seen = new Set<Group>()
    const stack = [from]
    while (stack.length > 0) {
      const h = stack.pop()!
      if (h === to) return true
      if (seen.has(h)) continue
      seen.add(h)
      for (const d of deps.get(h) ?? none) stack.push(d)
    }
    return false
  }
  const producedIn = (v: Var, c: Group): boolean => {
    const p = prod.get(v.id)
    return p !== undefined && groupOf.get(p) === c
  }
  // Joining `c` adds an edge from `c` to each source of `e`'s operands; it must not close a cycle.
  // An operand behind identity views is read as the value under them (see `isIdentityView`).
  const operands = (e: Equation): Array<Var> => e.inputs.map((v) => identityRoot(v, prod))
  const keepsAcyclic = (e: Equation, c: Group): boolean =>
    operands(e).every(
      (v) => producedIn(v, c) || [...(sources.get(v.id) ?? none)].every((h) => h !== c && !reaches(h, c))
    )
  for (const e of g.eqns) {
    if (!isFusible(e)) {
      const from = new Set<Group>()
      for (const v of e.inputs) for (const h of sources.get(v.id) ?? none) from.add(h)
      for (const o of e.outputs) sources.set(o.id, from)
      continue
    }
    const shape = e.outputs[0]!.aval.shape
    const allowed = (c: Group): boolean => shapeEquals(c.shape, shape) && keepsAcyclic(e, c)
    const related = operands(e).flatMap((v) => {
      const p = prod.get(v.id)
      const c = p === undefined ? undefined : groupOf.get(p)
      return [...(c === undefined ? [] : [c]), ...(readersOf.get(v.id) ?? [])]
    })
    let chosen = related.find(allowed)
    for (let i = groups.length - 1, tried = 0; chosen === undefined && i >= 0 && tried < siblingCandidates; i--) {
      const c = groups[i]!
      if (!shapeEquals(c.shape, shape)) continue
      tried++
      if (allowed(c)) chosen = c
    }
    if (chosen === undefined) {
      chosen = { id: groups.length, shape, members: [], reduce: undefined }
      groups.push(chosen)
      deps.set(chosen, new Set())
    }
    chosen.members.push(e)
    groupOf.set(e, chosen)
    const d = deps.get(chosen)!
    for (const v of operands(e)) {
      if (!producedIn(v, chosen)) for (const h of sources.get(v.id) ?? none) d.add(h)
      const set = readersOf.get(v.id)
      if (set === undefined) readersOf.set(v.id, new Set([chosen]))
      else set.add(chosen)
    }
    sources.set(e.outputs[0]!.id, new Set([chosen]))
  }
  attachReductions(g, groups, groupOf)
  return groups
}

const attachReductions = (g: Graph, groups: ReadonlyArray<Group>, groupOf: ReadonlyMap<Equation, Group>): void => {
  const readers = consumers(g)
  const outs = new Set(g.outvars.map((v) => v.id))
  for (const group of groups) {
    const external = group.members.flatMap((m) => {
      const v = m.outputs[0]!
      const outside = (readers.get(v.id) ?? []).filter((r) => groupOf.get(r) !== group)
      return outs.has(v.id) || outside.length > 0 ? [{ v, outside }] : []
    })
    const only = external[0]
    if (only === undefined || external.length !== 1) continue
    const { v, outside } = only
    const r = outside[0]
    if (!outs.has(v.id) && outside.length === 1 && isReduce(r) && r.inputs[0] === v) group.reduce = r
  }
}

/** A value read through strides from the value underneath a chain of layout changes. */
export interface View {
  readonly base: Var
  /** One stride per axis of the viewed value, in elements of `base`'s storage. */
  readonly strides: ReadonlyArray<number>
  /** The layout equations read through, outermost first. */
  readonly via: ReadonlyArray<Equation>
}

const nonUnit = (shape: Shape): Array<number> => shape.flatMap((d, i) => (d === 1 ? [] : [i]))

/** Strides of `e`'s output given strides of its input, or `undefined` when strides cannot express it. */
const viewStrides = (e: Equation, inner: ReadonlyArray<number>): Array<number> | undefined => {
  const src = e.inputs[0]!.aval.shape
  const out = e.outputs[0]!.aval.shape
  switch (e.prim) {
    case "broadcast_in_dim": {
      const s = out.map(() => 0)
      e.params.broadcastDimensions.forEach((d, j) => {
        if (src[j] !== 1) s[d] = inner[j]!
      })
      return s
    }
    case "transpose":
      return e.params.permutation.map((p) => inner[p]!)
    case "stop_gradient":
    case "convert_element_type":
      return inner.slice()
    case "reshape":
    case "expand_dims":
    case "squeeze": {
      const a = nonUnit(src)
      const b = nonUnit(out)
      if (a.length === b.length && a.every((i, k) => src[i] === out[b[k]!])) {
        const s = out.map(() => 0)
        b.forEach((i, k) => {
          s[i] = inner[a[k]!]!
        })
        return s
      }
      const contiguous = stridesOf(src)
      return a.every((i) => inner[i] === contiguous[i]) ? stridesOf(out) : undefined
    }
    default:
      return undefined
  }
}

/** How `v` reads from the first value below it that is not a view (`v` itself when none applies). */
export const viewOf = (v: Var, prod: ReadonlyMap<number, Equation>): View => {
  const own: View = { base: v, strides: stridesOf(v.aval.shape), via: [] }
  const p = prod.get(v.id)
  if (p === undefined || !isView(p)) return own
  const inner = viewOf(p.inputs[0]!, prod)
  const strides = viewStrides(p, inner.strides)
  return strides === undefined ? own : { base: inner.base, strides, via: [p, ...inner.via] }
}

/** A group's fused program, with the variables its inputs read and its outputs write. */
export interface Fusion {
  readonly group: Group
  readonly program: FusedProgram
  /** The variable behind each program input. */
  readonly inputs: ReadonlyArray<Var>
  /** The variables the program's outputs are. */
  readonly outputs: ReadonlyArray<Var>
  /** Whether running it as one kernel saves an intermediate array over running its equations. */
  readonly worthwhile: boolean
}

/** Builds the fused program of a group. */
export const buildFusion = (g: Graph, group: Group): Fusion => {
  const prod = producers(g)
  const readers = consumers(g)
  const outs = new Set(g.outvars.map((v) => v.id))
  const inGroup = new Set<Equation>(group.members)
  if (group.reduce !== undefined) inGroup.add(group.reduce)
  const shape = group.shape
  const nodes: Array<FusedNode> = []
  const inputs: Array<FusedInput> = []
  const inputVars: Array<Var> = []
  const nodeOf = new Map<number, number>()
  const shared = new Map<string, number>()
  const via = new Set<Equation>()
  const push = (key: string, node: FusedNode): number => {
    const known = shared.get(key)
    if (known !== undefined) return known
    nodes.push(node)
    shared.set(key, nodes.length - 1)
    return nodes.length - 1
  }
  const operand = (v: Var): number => {
    const internal = nodeOf.get(v.id) ?? nodeOf.get(identityRoot(v, prod).id)
    if (internal !== undefined) return internal
    const view = viewOf(v, prod)
    for (const e of view.via) via.add(e)
    const base = view.base
    const scalar = knownScalar(g.known.get(base.id), base)
    if (scalar !== undefined) {
      const dtype = base.aval.dtype as NumericDType
      return push(`literal ${dtype} ${numberKey(scalar)}`, { kind: "literal", value: scalar, dtype })
    }
    const strides = v.aval.shape.map((d, i) => (d === 1 ? 0 : view.strides[i]!))
    const key = `input ${base.id} ${strides.join(",")}`
    if (!shared.has(key)) {
      inputs.push({ dtype: base.aval.dtype, strides, size: sizeOf(base.aval.shape) })
      inputVars.push(base)
    }
    return push(key, { kind: "input", input: inputs.length - 1, dtype: base.aval.dtype })
  }
  for (const m of group.members) {
    const args = m.inputs.map(operand)
    const dtype = m.outputs[0]!.aval.dtype as NumericDType
    const node: FusedNode = (() => {
      switch (m.prim) {
        case "select":
          return { kind: "select", args: [args[0]!, args[1]!, args[2]!], dtype }
        case "convert_element_type":
          return { kind: "convert", arg: args[0]!, dtype }
        case "round":
          return { kind: "round", method: m.params.method, arg: args[0]!, dtype: "float32" }
        default:
          return fusionRoles[m.prim] === "binary"
            ? {
                kind: "binary",
                prim: m.prim as Extract<FusedNode, { kind: "binary" }>["prim"],
                args: [args[0]!, args[1]!],
                dtype
              }
            : { kind: "unary", prim: m.prim as Extract<FusedNode, { kind: "unary" }>["prim"], arg: args[0]!, dtype }
      }
    })()
    nodes.push(node)
    nodeOf.set(m.outputs[0]!.id, nodes.length - 1)
  }
  const r = group.reduce
  let outputs: FusedOutputs
  let outputVars: Array<Var>
  if (r !== undefined) {
    outputs = {
      kind: "reduce",
      node: nodeOf.get(r.inputs[0]!.id)!,
      prim: r.prim,
      axes: normalizeAxes(r.prim, r.params.axes, shape.length)
    }
    outputVars = [r.outputs[0]!]
  } else {
    // A value is written out when something outside the group reads it, directly or through
    // identity views (which the group itself reads through as its own values).
    const readOutside = (v: Var): boolean =>
      outs.has(v.id) ||
      (readers.get(v.id) ?? []).some((e) => !inGroup.has(e) && !(isIdentityView(e) && !readOutside(e.outputs[0]!)))
    outputVars = group.members.map((m) => m.outputs[0]!).filter(readOutside)
    outputs = { kind: "map", nodes: outputVars.map((v) => nodeOf.get(v.id)!) }
  }
  // A layout equation read through disappears when only this group and its other views read it.
  const vanishing = [...via].filter(
    (e) =>
      !outs.has(e.outputs[0]!.id) && (readers.get(e.outputs[0]!.id) ?? []).every((x) => inGroup.has(x) || via.has(x))
  )
  const worthwhile = group.members.length + (r === undefined ? 0 : 1) > 1 || vanishing.length > 0
  return { group, program: { shape, inputs, nodes, outputs }, inputs: inputVars, outputs: outputVars, worthwhile }
}
