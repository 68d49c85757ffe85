/**
 * The program `jit`'s compiler rewrites: a jaxpr in which every operand is a variable. The jaxpr's
 * constants and its scalar literals become *known* variables (equal literals share one, so that
 * common-subexpression elimination sees them as the same operand), and constant folding adds known
 * variables whose values it computed. Passes map a {@link Graph} to a {@link Graph}; the plan is
 * built from the last one.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../../../backend/Array.ts"
import { isPendingReadError } from "../../../backend/ArrayError.ts"
import type { HostArray } from "../../../backend/DType.ts"
import type { ClosedJaxpr, Var } from "../../../backend/Jaxpr.ts"
import { isLiteral, newVar } from "../../../backend/Jaxpr.ts"
import type { Params, Primitive } from "../../../backend/Primitive.ts"

/** One primitive application, its operands all variables. */
export type Equation = {
  readonly [P in Primitive]: {
    readonly prim: P
    readonly inputs: ReadonlyArray<Var>
    readonly outputs: ReadonlyArray<Var>
    readonly params: Params<P>
  }
}[Primitive]

/**
 * A value known before the program runs: an array (a constant the function closed over, or a literal
 * of the jaxpr), or host data constant folding computed.
 */
export type Known =
  | { readonly kind: "array"; readonly array: JArray }
  | { readonly kind: "host"; readonly data: HostArray }

export interface Graph {
  readonly invars: ReadonlyArray<Var>
  readonly known: ReadonlyMap<number, Known>
  readonly eqns: ReadonlyArray<Equation>
  readonly outvars: ReadonlyArray<Var>
}

/** Text that identifies a number exactly (`-0` apart from `0`). */
export const numberKey = (x: number): string => (Object.is(x, -0) ? "-0" : String(x))

/**
 * A concrete array's elements if the host can read them now: `undefined` for a value an
 * asynchronous backend (webgpu) is still computing, which compilation treats as unknown.
 */
export const peekHost = (x: JArray): HostArray | undefined => {
  try {
    return x.dataSync()
  } catch (e) {
    if (isPendingReadError(e)) return undefined
    throw e
  }
}

/** Literals whose value is not readable yet, each its own key (they are not merged). */
const pendingIds = new WeakMap<JArray, number>()
let nextPendingId = 0

const literalKey = (x: JArray): string => {
  const a = x.aval
  const data = peekHost(x)
  if (data === undefined) {
    let id = pendingIds.get(x)
    if (id === undefined) pendingIds.set(x, (id = nextPendingId++))
    return `pending:${id}`
  }
  // Every storage word: a complex64 literal's imaginary part is its second.
  return `${a.dtype}:${a.weakType}:${JSON.stringify(a.shape)}=${Array.from(data, (w) => numberKey(Number(w))).join(",")}`
}

/** The graph of a closed jaxpr; equal literals become one known variable. */
export const fromJaxpr = (closed: ClosedJaxpr): Graph => {
  const known = new Map<number, Known>()
  closed.jaxpr.constvars.forEach((v, i) => known.set(v.id, { kind: "array", array: closed.consts[i]! }))
  const literals = new Map<string, Var>()
  const atom = (a: Var | { readonly literal: JArray }): Var => {
    if (!isLiteral(a)) return a
    const key = literalKey(a.literal)
    let v = literals.get(key)
    if (v === undefined) {
      v = newVar(a.literal.aval)
      literals.set(key, v)
      known.set(v.id, { kind: "array", array: a.literal })
    }
    return v
  }
  const eqns = closed.jaxpr.eqns.map((e) => ({ ...e, inputs: e.inputs.map(atom) }) as Equation)
  return { invars: closed.jaxpr.invars, known, eqns, outvars: closed.jaxpr.outvars.map(atom) }
}

/** Scalars read from constant arrays, kept: a `tidy` around a jitted call may dispose the array later. */
const scalars = new WeakMap<object, number>()

/**
 * The scalar value of a known size-1 numeric variable, if it is one (undefined too for a constant
 * array disposed before it was first read here).
 */
export const knownScalar = (k: Known | undefined, v: Var): number | undefined => {
  if (
    k === undefined ||
    v.aval.dtype === "key<fry>" ||
    v.aval.dtype === "complex64" ||
    v.aval.shape.some((d) => d !== 1)
  )
    return undefined
  if (k.kind !== "array") return Number(k.data[0])
  const seen = scalars.get(k.array)
  if (seen !== undefined) return seen
  if (k.array.isDisposed) return undefined
  const data = peekHost(k.array)
  if (data === undefined) return undefined
  const x = Number(data[0])
  scalars.set(k.array, x)
  return x
}

/** The equation producing each variable. */
export const producers = (g: Graph): Map<number, Equation> => {
  const m = new Map<number, Equation>()
  for (const e of g.eqns) for (const o of e.outputs) m.set(o.id, e)
  return m
}

/** The equations reading each variable (once per equation). */
export const consumers = (g: Graph): Map<number, Array<Equation>> => {
  const m = new Map<number, Array<Equation>>()
  for (const e of g.eqns) {
    for (const v of new Set(e.inputs)) {
      const list = m.get(v.id)
      if (list === undefined) m.set(v.id, [e])
      else list.push(e)
    }
  }
  return m
}

/** Removes equations none of whose outputs are needed, and known values nothing reads. */
export const dce = (g: Graph): Graph => {
  const live = new Set<number>(g.outvars.map((v) => v.id))
  const kept: Array<Equation> = []
  for (let i = g.eqns.length - 1; i >= 0; i--) {
    const e = g.eqns[i]!
    if (e.outputs.some((v) => live.has(v.id))) {
      kept.push(e)
      for (const v of e.inputs) live.add(v.id)
    }
  }
  kept.reverse()
  const known = new Map([...g.known].filter(([id]) => live.has(id)))
  return { ...g, known, eqns: kept }
}
