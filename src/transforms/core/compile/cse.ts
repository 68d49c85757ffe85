/**
 * Common-subexpression elimination. Every primitive is pure (random bits come from `threefry2x32`,
 * a function of its key and counter), so two equations applying the same primitive, with equal
 * parameters, to the same operands compute the same values, and the second can reuse the first's.
 * Staging records each call of a traced function, so such duplicates are common: `vmap` and `grad`
 * rules, and user code, recompute broadcasts, conversions and whole subexpressions.
 *
 * Parameters compare by structure (numbers, strings, arrays, plain records, programs), except the
 * functions and arrays higher-order primitives carry, which compare by identity: two `scan`s merge
 * only when they run the same traced body.
 *
 * @since 0.2.0
 */
import type { Var } from "../../../backend/Jaxpr.ts"
import { shapeEquals } from "../../../backend/shape.ts"
import type { Equation, Graph } from "./graph.ts"
import { numberKey } from "./graph.ts"

const identities = new WeakMap<object, number>()
let nextIdentity = 0

const identityKey = (o: object): string => {
  let id = identities.get(o)
  if (id === undefined) {
    id = nextIdentity++
    identities.set(o, id)
  }
  return `#${id}`
}

/**
 * A text equal for equal values. Numbers by `numberKey` (`-0` apart from `0`); other non-objects
 * (strings, booleans, `undefined`, `null`) by their JSON text, where strings are quoted and so never
 * read as another type; arrays element by element; plain records (parameter records, and the
 * programs of higher-order primitives) by their sorted entries; functions and class instances (the
 * arrays a program holds) by identity. A program's variables carry their ids, so two programs read
 * alike only if they are the same trace.
 */
const valueKey = (v: unknown): string => {
  if (typeof v === "number") return numberKey(v)
  if (!(v instanceof Object)) return String(JSON.stringify(v))
  if (Array.isArray(v)) return `[${v.map((x) => valueKey(x)).join(",")}]`
  if (Object.getPrototypeOf(v) !== Object.prototype) return identityKey(v)
  // The entries as an array of pairs: a parameter holds a record or an array, never both.
  return valueKey(
    Object.keys(v)
      .sort()
      .map((k) => [k, (v as Record<string, unknown>)[k]])
  )
}

/** A text equal for equations that compute the same values. */
export const equationKey = (e: Equation, inputs: ReadonlyArray<Var>): string =>
  valueKey([e.prim, e.params, inputs.map((v) => v.id)])

/** Whether an equation's output has its operand's dtype, weak type and shape. */
const sameAval = (e: Equation): boolean => {
  const a = e.inputs[0]!.aval,
    o = e.outputs[0]!.aval
  return a.dtype === o.dtype && a.weakType === o.weakType && shapeEquals(a.shape, o.shape)
}

/**
 * Whether an equation returns its operand unchanged: a pad by nothing, the identity permutation, a
 * slice, reshape or conversion to what it already is (rules emit these generically, and each would
 * copy the whole array). A pad by nothing and the identity permutation keep the operand's aval by
 * their shape rules. A slice whose output has the operand's shape takes every element in order:
 * its shape rule keeps `0 <= start <= limit <= size` and `stride >= 1`, so on an axis of size 2 or
 * more only start 0, limit `size`, stride 1 keep the size, and on a smaller axis every slice reads
 * what there is.
 */
const isIdentity = (e: Equation): boolean => {
  if (e.prim === "pad") return e.params.config.every((c) => c.every((x) => x === 0))
  if (e.prim === "transpose") return e.params.permutation.every((x, i) => x === i)
  return (e.prim === "slice" || e.prim === "reshape" || e.prim === "convert_element_type") && sameAval(e)
}

/** The graph with each repeated computation replaced by the first one's outputs, and identities by their operand. */
export const cse = (g: Graph): Graph => {
  const renamed = new Map<number, Var>()
  const rename = (v: Var): Var => renamed.get(v.id) ?? v
  const seen = new Map<string, Equation>()
  const eqns: Array<Equation> = []
  for (const e of g.eqns) {
    const inputs = e.inputs.map(rename)
    if (isIdentity(e)) {
      renamed.set(e.outputs[0]!.id, inputs[0]!)
      continue
    }
    const key = equationKey(e, inputs)
    const first = seen.get(key)
    if (first !== undefined) {
      e.outputs.forEach((v, i) => renamed.set(v.id, first.outputs[i]!))
      continue
    }
    const kept = { ...e, inputs } as Equation
    seen.set(key, kept)
    eqns.push(kept)
  }
  return { ...g, eqns, outvars: g.outvars.map(rename) }
}
