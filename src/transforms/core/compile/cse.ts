/**
 * Common-subexpression elimination. Every primitive is pure (random bits come from `threefry2x32`,
 * a function of its key and counter), so two equations applying the same primitive, with equal
 * parameters, to the same operands compute the same values, and the second can reuse the first's.
 * Staging records each call of a traced function, so such duplicates are common: `vmap` and `grad`
 * rules, and user code, recompute broadcasts, conversions and whole subexpressions.
 *
 * Parameters compare by structure (numbers, strings, arrays, plain records), except the programs and
 * functions higher-order primitives carry, which compare by identity: two `scan`s merge only when they
 * run the very same body.
 *
 * @since 0.2.0
 */
import type { Var } from "../../../backend/Jaxpr.ts"
import { isHigherOrder } from "../../../backend/Primitive.ts"
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

/** A text equal for equal values; `structural` says whether nested plain records compare by content. */
const valueKey = (v: unknown, structural: boolean): string => {
  switch (typeof v) {
    case "number":
      return numberKey(v)
    case "string":
      return JSON.stringify(v)
    case "boolean":
    case "undefined":
    case "bigint":
      return String(v)
    case "function":
      return identityKey(v)
    case "symbol":
      return identityKey(Object(v) as object)
    case "object": {
      if (v === null) return "null"
      if (Array.isArray(v)) return `[${v.map((x) => valueKey(x, structural)).join(",")}]`
      if (structural && Object.getPrototypeOf(v) === Object.prototype)
        return recordKey(v as Record<string, unknown>, structural)
      return identityKey(v)
    }
  }
}

const recordKey = (r: Record<string, unknown>, structural: boolean): string =>
  `{${Object.keys(r)
    .sort()
    .map((k) => `${k}:${valueKey(r[k], structural)}`)
    .join(",")}}`

/** A text equal for equations that compute the same values. */
export const equationKey = (e: Equation, inputs: ReadonlyArray<Var>): string =>
  `${e.prim}${recordKey(e.params as Record<string, unknown>, !isHigherOrder(e.prim))}(${inputs.map((v) => v.id).join(",")})`

/**
 * Whether an equation returns its operand unchanged: a pad by nothing, a slice of everything, the
 * identity permutation, a reshape or conversion to what it already is (rules emit these generically,
 * and each would copy the whole array).
 */
const isIdentity = (e: Equation): boolean => {
  const a = e.inputs[0]?.aval,
    o = e.outputs[0]?.aval
  if (a === undefined || o === undefined || e.outputs.length !== 1) return false
  if (
    a.dtype !== o.dtype ||
    a.weakType !== o.weakType ||
    a.shape.length !== o.shape.length ||
    a.shape.some((d, i) => d !== o.shape[i])
  )
    return false
  const p = e.params as Record<string, unknown>
  switch (e.prim) {
    case "pad":
      return (p["config"] as ReadonlyArray<ReadonlyArray<number>>).every((c) => c.every((x) => x === 0))
    case "slice":
      return (
        (p["startIndices"] as ReadonlyArray<number>).every((s) => s === 0) &&
        ((p["strides"] as ReadonlyArray<number> | undefined) ?? []).every((s) => s === 1)
      )
    case "transpose":
      return (p["permutation"] as ReadonlyArray<number>).every((x, i) => x === i)
    case "reshape":
    case "convert_element_type":
      return true
    default:
      return false
  }
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
