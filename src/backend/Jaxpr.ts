/**
 * The intermediate program (a "jaxpr"): typed variables, equations applying primitives, and the
 * constants a traced function closed over. `jit` stages functions into jaxprs, control-flow
 * primitives carry them as parameters, and `makeJaxpr` prints them for debugging.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "./Array.ts"
import type { Aval } from "./DType.ts"
import type { Params, Primitive } from "./Primitive.ts"

/** A variable of a jaxpr, typed by its abstract value. */
export interface Var {
  readonly id: number
  readonly aval: Aval
}

/** A constant inlined into an equation (a scalar literal or a captured array). */
export interface Literal {
  readonly literal: JArray
}

export type Atom = Var | Literal

export const isLiteral = (a: Atom): a is Literal => "literal" in a

/** One primitive application. */
export type Eqn = {
  readonly [P in Primitive]: {
    readonly prim: P
    readonly inputs: ReadonlyArray<Atom>
    readonly outputs: ReadonlyArray<Var>
    readonly params: Params<P>
  }
}[Primitive]

/** A program over variables: `constvars` are bound to `ClosedJaxpr.consts` when it runs. */
export interface Jaxpr {
  readonly constvars: ReadonlyArray<Var>
  readonly invars: ReadonlyArray<Var>
  readonly eqns: ReadonlyArray<Eqn>
  readonly outvars: ReadonlyArray<Atom>
}

/** A jaxpr with the values of its constants. */
export interface ClosedJaxpr {
  readonly jaxpr: Jaxpr
  readonly consts: ReadonlyArray<JArray>
}

let nextId = 0
/** A fresh variable. */
export const newVar = (aval: Aval): Var => ({ id: nextId++, aval })

/**
 * Runs a closed jaxpr on arguments through `bind`, so that evaluating it under a transform applies
 * that transform to every equation.
 */
export const evalJaxpr = (
  closed: ClosedJaxpr,
  args: ReadonlyArray<JArray>,
  bind: <P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>) => Array<JArray>
): Array<JArray> => {
  const { jaxpr, consts } = closed
  const env = new Map<number, JArray>()
  jaxpr.constvars.forEach((v, i) => env.set(v.id, consts[i]!))
  jaxpr.invars.forEach((v, i) => env.set(v.id, args[i]!))
  const read = (a: Atom): JArray => {
    if (isLiteral(a)) return a.literal
    const v = env.get(a.id)
    if (v === undefined) throw new Error(`jaxpr: variable ${a.id} read before it was written`)
    return v
  }
  for (const eqn of jaxpr.eqns) {
    const outs = bind(eqn.prim, eqn.inputs.map(read), eqn.params as never)
    eqn.outputs.forEach((v, i) => env.set(v.id, outs[i]!))
  }
  return jaxpr.outvars.map(read)
}

/**
 * Removes equations whose outputs are never used (dead-code elimination). Equations of primitives
 * with effects are none here: every primitive is pure.
 */
export const dce = (jaxpr: Jaxpr): Jaxpr => {
  const live = new Set<number>()
  for (const a of jaxpr.outvars) if (!isLiteral(a)) live.add(a.id)
  const kept: Array<Eqn> = []
  for (let i = jaxpr.eqns.length - 1; i >= 0; i--) {
    const eqn = jaxpr.eqns[i]!
    if (eqn.outputs.some((v) => live.has(v.id))) {
      kept.push(eqn)
      for (const a of eqn.inputs) if (!isLiteral(a)) live.add(a.id)
    }
  }
  kept.reverse()
  return { ...jaxpr, eqns: kept }
}

const shortDType: Record<string, string> = {
  float32: "f32",
  int32: "i32",
  uint32: "u32",
  bool: "bool",
  complex64: "c64",
  "key<fry>": "key<fry>"
}

/** `f32[3,4]`, as JAX prints avals. */
export const formatAval = (a: Aval): string => `${shortDType[a.dtype] ?? a.dtype}[${a.shape.join(",")}]`

/** The `i`-th variable name: a, b, ..., z, aa, ab, ... */
const varName = (i: number): string => {
  let s = ""
  let n = i
  do {
    s = String.fromCharCode(97 + (n % 26)) + s
    n = Math.floor(n / 26) - 1
  } while (n >= 0)
  return s
}

/** Names variables in order of first appearance (a, b, ...), and declares them with their avals. */
export const varNamer = (): { readonly name: (v: Var) => string; readonly decl: (v: Var) => string } => {
  const names = new Map<number, string>()
  const name = (v: Var): string => {
    let n = names.get(v.id)
    if (n === undefined) {
      n = varName(names.size)
      names.set(v.id, n)
    }
    return n
  }
  return { name, decl: (v) => `${name(v)}:${formatAval(v.aval)}` }
}

/** A primitive parameter as the printers show it. */
export const formatParam = (v: unknown): string => {
  if (Array.isArray(v)) return `(${v.map(formatParam).join(", ")}${v.length === 1 ? "," : ""})`
  if (typeof v === "object" && v !== null && "jaxpr" in v) return "{ jaxpr }"
  if (typeof v === "function") return "<function>"
  return JSON.stringify(v) ?? String(v)
}

/**
 * JAX-style text of a closed jaxpr:
 * `{ lambda a:f32[]; b:f32[3]. let c:f32[3] = mul b a in (c,) }`.
 */
export const printJaxpr = (closed: ClosedJaxpr, indent = ""): string => {
  const { name, decl } = varNamer()
  const literal = (x: JArray): string => {
    if (!x.isConcrete || x.size !== 1) return `<const ${formatAval(x.aval)}>`
    if (x.dtype === "complex64") return `${x.toString({ style: "python" })}:${formatAval(x.aval)}`
    const v = x.item()
    const text =
      typeof v === "boolean"
        ? v
          ? "True"
          : "False"
        : x.dtype === "float32" && Number.isInteger(v)
          ? `${v}.0`
          : String(v)
    return `${text}:${formatAval(x.aval)}`
  }
  const atom = (a: Atom): string => (isLiteral(a) ? literal(a.literal) : name(a))
  const { jaxpr } = closed
  const head = `{ lambda ${jaxpr.constvars.map(decl).join(" ")}; ${jaxpr.invars.map(decl).join(" ")}. let`
  const lines = jaxpr.eqns.map((e) => {
    const params = Object.entries(e.params as Record<string, unknown>)
    const ps = params.length === 0 ? "" : `[${params.map(([k, v]) => `${k}=${formatParam(v)}`).join(" ")}]`
    return `${indent}    ${e.outputs.map(decl).join(" ")} = ${e.prim}${ps} ${e.inputs.map(atom).join(" ")}`
  })
  const outs = jaxpr.outvars.map(atom)
  return [head, ...lines, `${indent}  in (${outs.join(", ")}${outs.length === 1 ? "," : ""}) }`].join("\n")
}

/** The abstract value of an atom. */
export const atomAval = (a: Atom): Aval => (isLiteral(a) ? a.literal.aval : a.aval)

/** The abstract values a closed jaxpr returns. */
export const outAvals = (closed: ClosedJaxpr): Array<Aval> => closed.jaxpr.outvars.map(atomAval)
