/**
 * Layout changes around `dot_general` folded into its dimension numbers, so that they are never
 * materialised. Reverse-mode and batching rules produce them all the time: the gradient of `x @ w`
 * with respect to `w` is `transpose(dot_general(g, x))`, and `vmap` inserts size-1 axes with
 * reshapes. Three rewrites, each applied only when the result is the same array, element for element
 * and bit for bit (the same products summed in the same order):
 *
 * - a `transpose` of an operand becomes a renumbering of that operand's axes, when the operand's free
 *   axes keep their relative order (the output lists them in operand order);
 * - size-1 axes that a `reshape`/`expand_dims`/`broadcast_in_dim` inserted on both sides of a
 *   contracting pair are dropped with the pair (contracting over one element is a product);
 * - a `transpose` of the output becomes a reordering of the batch pairs and, when the free axes of
 *   the two operands trade places, a swap of the operands.
 *
 * @since 0.2.0
 */
import type { Var } from "../../../backend/Jaxpr.ts"
import type { Params } from "../../../backend/Primitive.ts"
import { normalizeAxes, normalizeAxis } from "../../../backend/shape.ts"
import type { Equation, Graph } from "./graph.ts"
import { consumers, producers } from "./graph.ts"

type DotParams = Params<"dot_general">
type DotEquation = Extract<Equation, { readonly prim: "dot_general" }>

const isDot = (e: Equation | undefined): e is DotEquation => e?.prim === "dot_general"

interface Side {
  readonly contracting: ReadonlyArray<number>
  readonly batch: ReadonlyArray<number>
}

const sidesOf = (e: DotEquation): readonly [Side, Side] => {
  const [l, r] = e.inputs as readonly [Var, Var]
  const p = e.params
  return [
    {
      contracting: normalizeAxes(e.prim, p.lhsContracting, l.aval.shape.length),
      batch: normalizeAxes(e.prim, p.lhsBatch, l.aval.shape.length)
    },
    {
      contracting: normalizeAxes(e.prim, p.rhsContracting, r.aval.shape.length),
      batch: normalizeAxes(e.prim, p.rhsBatch, r.aval.shape.length)
    }
  ]
}

const freeAxes = (rank: number, s: Side): Array<number> =>
  Array.from({ length: rank }, (_, i) => i).filter((i) => !s.contracting.includes(i) && !s.batch.includes(i))

/**
 * A dot equation writing `output`. Every rewrite below builds a dot whose shape rule gives exactly
 * `output`'s aval: a folded operand transpose keeps the free axes in order, dropped pairs are
 * contracting pairs of inserted size-1 axes (and every inserted axis is in one), and an output
 * transpose is folded only when it is the identity on the free axes or swaps the two operands'
 * free blocks. So no shape inference is run again here.
 */
const makeDot = (lhs: Var, rhs: Var, params: DotParams, output: Var): DotEquation => ({
  prim: "dot_general",
  inputs: [lhs, rhs],
  outputs: [output],
  params
})

/**
 * For a pure insertion of size-1 axes, each output axis's source axis (`undefined` where inserted);
 * `undefined` for anything else.
 */
const insertionMap = (e: Equation): Array<number | undefined> | undefined => {
  // These views keep their operand's dtype, and the view feeds a dot, whose operands are never keys.
  const shapes = (): readonly [ReadonlyArray<number>, ReadonlyArray<number>] => [
    e.inputs[0]!.aval.shape,
    e.outputs[0]!.aval.shape
  ]
  if (e.prim === "expand_dims") {
    const [, out] = shapes()
    const dims = normalizeAxes(e.prim, e.params.dimensions, out.length)
    let j = 0
    return out.map((_, i) => (dims.includes(i) ? undefined : j++))
  }
  if (e.prim === "reshape") {
    const [src, out] = shapes()
    let j = 0
    const map: Array<number | undefined> = []
    for (const d of out) {
      // Past the end `src[j]` is `undefined`, which equals no size.
      if (d === src[j]) map.push(j++)
      else if (d === 1) map.push(undefined)
      else return undefined
    }
    return j === src.length ? map : undefined
  }
  if (e.prim === "broadcast_in_dim") {
    const [src, out] = shapes()
    const bd = e.params.broadcastDimensions
    if (bd.some((d, j) => out[d] !== src[j])) return undefined
    const map = out.map((_, i) => {
      const j = bd.indexOf(i)
      return j >= 0 ? j : undefined
    })
    return map.every((j, i) => j !== undefined || out[i] === 1) ? map : undefined
  }
  return undefined
}

/** Folds transposes of operands into the dot when the free axes keep their order. */
const foldOperandTransposes = (
  e: DotEquation,
  prod: ReadonlyMap<number, Equation>,
  readers: ReadonlyMap<number, ReadonlyArray<Equation>>,
  outs: ReadonlySet<number>
): DotEquation => {
  const sides = sidesOf(e)
  const inputs = [...e.inputs] as [Var, Var]
  const next: [Side, Side] = [sides[0], sides[1]]
  for (const k of [0, 1] as const) {
    const v = inputs[k]
    const t = prod.get(v.id)
    // `v` is an operand of `e`, so it has readers.
    if (t?.prim !== "transpose" || outs.has(v.id) || !readers.get(v.id)!.every(isDot)) continue
    const perm = t.params.permutation
    const free = freeAxes(v.aval.shape.length, sides[k]).map((i) => perm[i]!)
    if (!free.every((a, i) => i === 0 || a > free[i - 1]!)) continue
    inputs[k] = t.inputs[0]!
    next[k] = { contracting: sides[k].contracting.map((i) => perm[i]!), batch: sides[k].batch.map((i) => perm[i]!) }
  }
  // Rebuilt even when no operand changed: the same operands and (normalized) dimension numbers.
  const params: DotParams = {
    lhsContracting: next[0].contracting,
    rhsContracting: next[1].contracting,
    lhsBatch: next[0].batch,
    rhsBatch: next[1].batch
  }
  return makeDot(inputs[0], inputs[1], params, e.outputs[0]!)
}

/** Drops contracting pairs of size-1 axes that views inserted on both sides, reading the views' sources. */
const foldInsertedAxes = (e: DotEquation, prod: ReadonlyMap<number, Equation>): DotEquation => {
  const sides = sidesOf(e)
  const views = e.inputs.map((v) => {
    const p = prod.get(v.id)
    const map = p === undefined ? undefined : insertionMap(p)
    return map === undefined ? undefined : { source: p!.inputs[0]!, map }
  })
  const [lv, rv] = views
  if (lv === undefined || rv === undefined) return e
  const dropped = [...sides[0].contracting.keys()].filter(
    (k) => lv.map[sides[0].contracting[k]!] === undefined && rv.map[sides[1].contracting[k]!] === undefined
  )
  const coversInserted = (view: { readonly map: ReadonlyArray<number | undefined> }, side: Side): boolean =>
    view.map.every((s, i) => s !== undefined || dropped.some((k) => side.contracting[k] === i))
  if (!coversInserted(lv, sides[0]) || !coversInserted(rv, sides[1])) return e
  const keep = (side: Side, view: { readonly map: ReadonlyArray<number | undefined> }): Side => ({
    contracting: side.contracting.filter((_, k) => !dropped.includes(k)).map((i) => view.map[i]!),
    batch: side.batch.map((i) => view.map[i]!)
  })
  const [l, r] = [keep(sides[0], lv), keep(sides[1], rv)]
  return makeDot(
    lv.source,
    rv.source,
    { lhsContracting: l.contracting, rhsContracting: r.contracting, lhsBatch: l.batch, rhsBatch: r.batch },
    e.outputs[0]!
  )
}

/** The dot producing `t`'s output directly, when `t` transposes a dot's output that nothing else reads. */
const foldOutputTranspose = (
  t: Extract<Equation, { readonly prim: "transpose" }>,
  d: DotEquation
): DotEquation | undefined => {
  const [lhs, rhs] = d.inputs as readonly [Var, Var]
  const [ls, rs] = sidesOf(d)
  const nb = ls.batch.length
  const nl = freeAxes(lhs.aval.shape.length, ls).length
  const nr = freeAxes(rhs.aval.shape.length, rs).length
  const perm = t.params.permutation.map((p) => normalizeAxis(t.prim, p, nb + nl + nr))
  const batch = perm.slice(0, nb)
  // Both tests below need the entries after the batch positions to be exactly the free axes
  // (`nb` and up), so the batch positions hold a permutation of the batch axes.
  const rest = perm.slice(nb)
  const same = rest.every((p, i) => p === nb + i)
  const swapped = rest.every((p, i) => (i < nr ? p === nb + nl + i : p === nb + i - nr))
  if (!same && !swapped) return undefined
  const lb = batch.map((k) => ls.batch[k]!)
  const rb = batch.map((k) => rs.batch[k]!)
  return same
    ? makeDot(
        lhs,
        rhs,
        { lhsContracting: ls.contracting, rhsContracting: rs.contracting, lhsBatch: lb, rhsBatch: rb },
        t.outputs[0]!
      )
    : makeDot(
        rhs,
        lhs,
        { lhsContracting: rs.contracting, rhsContracting: ls.contracting, lhsBatch: rb, rhsBatch: lb },
        t.outputs[0]!
      )
}

/** The graph with layout changes around dots folded into their dimension numbers (leaves dead views for DCE). */
export const foldDotLayouts = (g: Graph): Graph => {
  const prod = producers(g)
  const readers = consumers(g)
  const outs = new Set(g.outvars.map((v) => v.id))
  const operandFolded = g.eqns.map((e) =>
    isDot(e) ? foldOperandTransposes(foldInsertedAxes(e, prod), prod, readers, outs) : e
  )
  const g1: Graph = { ...g, eqns: operandFolded }
  const prod1 = producers(g1)
  const readers1 = consumers(g1)
  // A dot whose only reader is a transpose it can absorb is replaced at its own position.
  const replaced = new Map<Equation, DotEquation>()
  const removed = new Set<Equation>()
  for (const e of g1.eqns) {
    if (e.prim !== "transpose") continue
    const d = prod1.get(e.inputs[0]!.id)
    if (!isDot(d) || outs.has(d.outputs[0]!.id) || readers1.get(d.outputs[0]!.id)!.length !== 1 || replaced.has(d))
      continue
    const folded = foldOutputTranspose(e, d)
    if (folded === undefined) continue
    replaced.set(d, folded)
    removed.add(e)
  }
  return { ...g1, eqns: g1.eqns.filter((e) => !removed.has(e)).map((e) => replaced.get(e) ?? e) }
}
