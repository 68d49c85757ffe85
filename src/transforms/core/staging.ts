/**
 * Staging: tracing a function into a jaxpr. A `JaxprTrace` records every primitive applied to its
 * tracers as an equation; values from outside (concrete arrays, tracers of enclosing transforms)
 * become the jaxpr's constants.
 *
 * @since 0.1.0
 */
import type { Array as JArray, TracerPayload } from "../../backend/Array.ts"
import type { Aval } from "../../backend/DType.ts"
import type { Atom, ClosedJaxpr, Eqn, Var } from "../../backend/Jaxpr.ts"
import { dce, newVar, printJaxpr } from "../../backend/Jaxpr.ts"
import type { Params, Primitive } from "../../backend/Primitive.ts"
import { abstractEval, checkKeyUse } from "../../backend/Primitive.ts"
import { flatten, unflatten } from "./pytree.ts"
import type { TreeDef } from "./pytree.ts"
import { withCapturingTrace } from "../../backend/bind.ts"
import { CoreTrace, runWithTrace } from "./trace.ts"

interface StagePayload extends TracerPayload {
  readonly v: Var
}

/** The trace that stages primitives into a jaxpr. */
export class JaxprTrace extends CoreTrace<StagePayload> {
  readonly eqns: Array<Eqn> = []
  readonly constvars: Array<Var> = []
  readonly consts: Array<JArray> = []
  private readonly constIndex = new Map<JArray, Var>()

  constructor(level: number, name = "jit") {
    super(level, name)
  }

  /** A new input variable and its tracer. */
  newArg(aval: Aval): readonly [Var, JArray] {
    const v = newVar(aval)
    return [v, this.tracer(aval, { v })]
  }

  /**
   * The atom standing for any value: its variable, or a constant of the jaxpr. A concrete array
   * becomes part of the program, which outlives any `Backend.tidy` open while tracing (a tidy in the
   * traced function would otherwise dispose the scalars `x.mul(2)` makes), so it is kept.
   */
  atom(x: JArray): Atom {
    if (this.owns(x)) return this.payload(x).v
    // Concrete scalars are inlined as literals, as JAX does.
    if (x.isConcrete && x.size === 1 && x.dtype !== "key<fry>") return { literal: x.keep() }
    let v = this.constIndex.get(x)
    if (v === undefined) {
      x.keep()
      v = newVar(x.aval)
      this.constIndex.set(x, v)
      this.constvars.push(v)
      this.consts.push(x)
    }
    return v
  }

  process<P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): Array<JArray> {
    const atoms = inputs.map((x) => this.atom(x))
    const avals = inputs.map((x) => x.aval)
    checkKeyUse(prim, avals)
    const outAvals = abstractEval[prim](avals, params)
    const outputs = outAvals.map(newVar)
    this.eqns.push({ prim, inputs: atoms, outputs, params } as Eqn)
    return outputs.map((v) => this.tracer(v.aval, { v }))
  }
}

/** A staged function: its closed jaxpr and the structure of its output. */
export interface Staged {
  readonly closed: ClosedJaxpr
  readonly outDef: TreeDef
  /** Output leaves that are not Arrays (numbers, strings, ...), kept as they are. */
  readonly staticOut: ReadonlyArray<unknown>
  /** Which output leaves are Arrays (the others are in `staticOut`). */
  readonly isArrayOut: ReadonlyArray<boolean>
}

/**
 * Traces `f` on abstract arguments of the given avals into a closed jaxpr, with dead code removed.
 * Output leaves that are not Arrays are kept aside as static outputs.
 */
export const stage = (
  name: string,
  f: (args: ReadonlyArray<JArray>) => unknown,
  avals: ReadonlyArray<Aval>,
  options?: { readonly captureClosures?: boolean }
): Staged =>
  runWithTrace(
    (level) => new JaxprTrace(level, name),
    (trace) => {
      const invars: Array<Var> = []
      const tracers = avals.map((a) => {
        const [v, t] = trace.newArg(a)
        invars.push(v)
        return t
      })
      const out = options?.captureClosures === true ? withCapturingTrace(trace, () => f(tracers)) : f(tracers)
      const [leaves, outDef] = flatten(out)
      const isArrayOut = leaves.map((l) => typeof l === "object" && l !== null && "aval" in l && "tracer" in l)
      const outvars = leaves.flatMap((l, i) => (isArrayOut[i] ? [trace.atom(l as JArray)] : []))
      const staticOut = leaves.filter((_, i) => !isArrayOut[i])
      const jaxpr = dce({ constvars: trace.constvars, invars, eqns: trace.eqns, outvars })
      return { closed: { jaxpr, consts: trace.consts }, outDef, staticOut, isArrayOut }
    }
  )

/** Re-assembles a staged function's output from its Array outputs. */
export const restoreOutput = (staged: Staged, arrays: ReadonlyArray<JArray>): unknown => {
  let a = 0
  let s = 0
  return unflatten(
    staged.outDef,
    staged.isArrayOut.map((isArr) => (isArr ? arrays[a++] : staged.staticOut[s++]))
  )
}

/**
 * Turns a closed jaxpr's constants into leading inputs, so that the constants flow through `bind`
 * (and so through enclosing transforms) when a control-flow primitive runs it.
 */
export const closeOverConsts = (closed: ClosedJaxpr): readonly [ClosedJaxpr, ReadonlyArray<JArray>] => [
  {
    jaxpr: { ...closed.jaxpr, constvars: [], invars: [...closed.jaxpr.constvars, ...closed.jaxpr.invars] },
    consts: []
  },
  closed.consts
]

/** A printable staged program, as `jax.make_jaxpr` returns. */
export interface MakeJaxprResult {
  readonly closed: ClosedJaxpr
  toString(): string
}

/**
 * The jaxpr of `f` for arguments like `args` (only their shapes and dtypes matter).
 * @category debugging
 * @since 0.1.0
 */
export const makeJaxpr =
  <Args extends ReadonlyArray<unknown>>(f: (...args: Args) => unknown) =>
  (...args: Args): MakeJaxprResult => {
    const [leaves, def] = flatten(args)
    const arrays = leaves.map((l) => l as JArray)
    const staged = stage(
      "makeJaxpr",
      (tracers) => f(...(unflatten(def, tracers) as Args)),
      arrays.map((a) => a.aval)
    )
    return { closed: staged.closed, toString: () => printJaxpr(staged.closed) }
  }
