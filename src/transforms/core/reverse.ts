/**
 * Reverse-mode differentiation. A `ReverseTrace` evaluates primitives on primal values and records
 * them on a tape; the backward pass walks the tape in reverse, applying each primitive's VJP rule
 * through `bind`, so that enclosing transforms (vmap, jit, an outer grad) apply to the backward pass
 * too: `vmap(grad(f))` gives per-example gradients and `grad(grad(f))` second derivatives.
 *
 * @since 0.1.0
 */
import type { Array as JArray, TracerPayload } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import { fromScalar } from "../../backend/numpy/creation.ts"
import type { Params, Primitive } from "../../backend/Primitive.ts"
import { zerosLike } from "./jvp.ts"
import { flatten, leafPaths, treeMap, unflatten } from "./pytree.ts"
import { CoreTrace, runWithTrace } from "./trace.ts"
import { GradError, StructureError } from "./TransformError.ts"
import { checkOptionKeys } from "../../backend/numpy/options.ts"
import { normalizeArgnums } from "./argnums.ts"
import type { At, Argnums, UniqueArgnums } from "./argnums.ts"

export { vjpRules } from "./ruleTables.ts"
import { vjpRules } from "./ruleTables.ts"

interface RevPayload extends TracerPayload {
  readonly primal: JArray
  readonly node: number
}

interface TapeEntry {
  readonly prim: Primitive
  readonly params: unknown
  readonly primals: ReadonlyArray<JArray>
  readonly outs: ReadonlyArray<JArray>
  readonly inNodes: ReadonlyArray<number | null>
  readonly outNodes: ReadonlyArray<number | null>
  /** The backward step of an operation that is not a primitive (a collective over a named axis). */
  readonly transpose?: (ct: JArray) => JArray
}

/** Only inexact values (float32, complex64) carry gradients. */
const differentiable = (x: JArray): boolean => x.dtype === "float32" || x.dtype === "complex64"

/** The trace of one reverse-mode application (`vjp`, `grad`, ...). */
export class ReverseTrace extends CoreTrace<RevPayload> {
  readonly tape: Array<TapeEntry> = []
  private nodes = 0

  constructor(level: number, name: string) {
    super(level, name)
  }

  /** A new tracked input. */
  input(primal: JArray): readonly [JArray, number] {
    const node = this.nodes++
    return [this.tracer(primal.aval, { primal, node }), node]
  }

  unwrap(x: JArray): readonly [JArray, number | null] {
    if (this.owns(x)) {
      const p = this.payload(x)
      return [p.primal, p.node]
    }
    return [x, null]
  }

  process<P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): Array<JArray> {
    const primals: Array<JArray> = []
    const inNodes: Array<number | null> = []
    for (const x of inputs) {
      const [p, n] = this.unwrap(x)
      primals.push(p)
      inNodes.push(n)
    }
    const outs = bind(prim, primals, params)
    if (inNodes.every((n) => n === null)) return outs
    const outNodes = outs.map((o) => (differentiable(o) ? this.nodes++ : null))
    this.tape.push({ prim, params, primals, outs, inNodes, outNodes })
    return outs.map((o, i) => {
      const node = outNodes[i]!
      return node === null ? o : this.tracer(o.aval, { primal: o, node })
    })
  }

  /**
   * Records a linear operation that is not a primitive (a collective), from `input` (a value of this
   * trace or not) to the primal `out`, with its transpose.
   */
  recordLinear(input: JArray, out: JArray, transpose: (ct: JArray) => JArray): JArray {
    const [primal, inNode] = this.unwrap(input)
    if (inNode === null || !differentiable(out)) return out
    const node = this.nodes++
    this.tape.push({
      prim: "stop_gradient",
      params: {},
      primals: [primal],
      outs: [out],
      inNodes: [inNode],
      outNodes: [node],
      transpose
    })
    return this.tracer(out.aval, { primal: out, node })
  }

  /** Runs the backward pass from output cotangents; returns each node's cotangent. */
  backward(seeds: ReadonlyArray<readonly [number, JArray]>): Map<number, JArray> {
    const cts = new Map<number, JArray>()
    const accumulate = (node: number, ct: JArray, prim?: Primitive): void => {
      const prev = cts.get(node)
      if (prev !== undefined && prev.shape.join(",") !== ct.shape.join(",")) {
        throw new Error(
          `${this.name}: the VJP rule of ${prim ?? "an output"} produced a cotangent of shape (${ct.shape.join(", ")}) for a value of shape (${prev.shape.join(", ")})`
        )
      }
      cts.set(node, prev === undefined ? ct : bind1("add", [prev, ct], {}))
    }
    for (const [node, ct] of seeds) accumulate(node, ct)
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i]!
      const outCts = e.outNodes.map((n) => (n === null ? null : (cts.get(n) ?? null)))
      if (outCts.every((c) => c === null)) continue
      const needs = e.inNodes.map((n) => n !== null)
      const rule = vjpRules()[e.prim] as (
        p: ReadonlyArray<JArray>,
        o: ReadonlyArray<JArray>,
        c: ReadonlyArray<JArray | null>,
        params: unknown,
        n: ReadonlyArray<boolean>
      ) => ReadonlyArray<JArray | null>
      const inCts =
        e.transpose === undefined ? rule(e.primals, e.outs, outCts, e.params, needs) : [e.transpose(outCts[0]!)]
      e.inNodes.forEach((n, k) => {
        const ct = inCts[k]
        if (n !== null && ct !== null && ct !== undefined) accumulate(n, ct, e.prim)
      })
    }
    return cts
  }
}

const checkCotangent = (transform: string, primal: JArray, ct: unknown, path: string): JArray => {
  if (!isArray(ct)) throw new StructureError({ transform, reason: `the cotangent at ${path} is not an Array` })
  if (ct.shape.join(",") !== primal.shape.join(",")) {
    throw new StructureError({
      transform,
      reason: `the cotangent at ${path} has shape (${ct.shape.join(", ")}) but the output has shape (${primal.shape.join(", ")})`
    })
  }
  return ct
}

/**
 * Evaluates `f` at `primals` and returns a function mapping output cotangents to input cotangents,
 * like `jax.vjp`. Integer and boolean inputs get zero cotangents.
 *
 * @example
 * ```ts
 * import { jnp, vjp } from "effect-nnx"
 *
 * const [y, back] = vjp((x: jnp.Array) => x.mul(x).sum(), jnp.arange(3).astype("float32"))
 * y.item() // 5
 * back(jnp.ones([])) // [Array([0., 2., 4.], dtype=float32)]
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const vjp = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  ...primals: Args
): readonly [R, (cotangent: R) => Args] => vjpWithName("vjp", f, primals)

const vjpWithName = <Args extends ReadonlyArray<unknown>, R>(
  name: string,
  f: (...args: Args) => R,
  primals: Args,
  hasAux = false
): readonly [R, (cotangent: R) => Args] => {
  const [leaves, def] = flatten(primals)
  return runWithTrace(
    (level) => new ReverseTrace(level, name),
    (trace) => {
      const inNodes: Array<number | null> = []
      const inner = leaves.map((leaf) => {
        if (isArray(leaf) && differentiable(leaf)) {
          const [t, node] = trace.input(leaf)
          inNodes.push(node)
          return t
        }
        inNodes.push(null)
        return leaf
      })
      const full = f(...(unflatten(def, inner) as Args))
      if (hasAux && (!Array.isArray(full) || full.length !== 2)) {
        throw new GradError({
          transform: name,
          reason: `with hasAux the function must return a pair [value, aux], got ${Array.isArray(full) ? `${full.length} values` : typeof full}; gather extra outputs into aux, e.g. [value, [a, b]]`
        })
      }
      // With an auxiliary output, only the first element of [value, aux] is differentiated; aux comes
      // back as primal values.
      const out = hasAux ? (full as unknown as readonly [unknown, unknown])[0] : full
      const aux = hasAux
        ? treeMap((l) => (isArray(l) ? trace.unwrap(l)[0] : l), (full as unknown as readonly [unknown, unknown])[1])
        : undefined
      const [oLeaves, oDef] = flatten(out)
      const outPrimals: Array<unknown> = []
      const outNodes: Array<number | null> = []
      for (const leaf of oLeaves) {
        if (isArray(leaf)) {
          const [p, n] = trace.unwrap(leaf)
          outPrimals.push(p)
          outNodes.push(n)
        } else {
          outPrimals.push(leaf)
          outNodes.push(null)
        }
      }
      const paths = leafPaths(oDef, "out")
      const back = (cotangent: R): Args => {
        const [ctLeaves, ctDef] = flatten(cotangent)
        if (ctLeaves.length !== oLeaves.length) {
          throw new StructureError({
            transform: name,
            reason: `the cotangent has ${ctLeaves.length} leaves but the output has ${oLeaves.length}`
          })
        }
        void ctDef
        const seeds: Array<readonly [number, JArray]> = []
        outNodes.forEach((n, i) => {
          if (n !== null) seeds.push([n, checkCotangent(name, outPrimals[i] as JArray, ctLeaves[i], paths[i]!)])
        })
        const cts = trace.backward(seeds)
        const grads = leaves.map((leaf, i) => {
          const n = inNodes[i]!
          if (n === null) return isArray(leaf) ? zerosLike(leaf) : leaf
          return cts.get(n) ?? zerosLike(leaf as JArray)
        })
        return unflatten(def, grads) as Args
      }
      const primalOut = unflatten(oDef, outPrimals)
      return [(hasAux ? [primalOut, aux] : primalOut) as R, back] as const
    }
  )
}

/**
 * Options of {@link grad} and {@link valueAndGrad}. At a call, `A` and `H` are the types of the
 * given `argnums` and `hasAux`, checked against `f`.
 */
export interface GradOptions<
  A extends number | ReadonlyArray<number> = number | ReadonlyArray<number>,
  H extends boolean = boolean
> {
  /**
   * Which positional arguments to differentiate (default 0; negative positions count from the
   * end); a list gives a tuple of gradients. Each must be one of `f`'s parameters, listed once.
   */
  readonly argnums?: A | undefined
  /** `f` returns `[value, aux]`; aux is returned alongside, not differentiated. */
  readonly hasAux?: H | undefined
  /** Allow integer inputs (their gradient is zero) instead of failing. */
  readonly allowInt?: boolean | undefined
}

const valueAndGradImpl = (
  name: string,
  f: (...args: ReadonlyArray<unknown>) => unknown,
  options: GradOptions | undefined
) => {
  checkOptionKeys(name, options, ["argnums", "hasAux", "allowInt"])
  return (...args: ReadonlyArray<unknown>): readonly [unknown, unknown] => {
    const argnums = normalizeArgnums(name, options?.argnums ?? 0, args.length)
    argnums.forEach((a) => {
      const [leaves, def] = flatten(args[a])
      const paths = leafPaths(def, `args[${a}]`)
      leaves.forEach((leaf, i) => {
        if (typeof leaf === "number") {
          throw new GradError({
            transform: name,
            reason: `${paths[i]} is the JavaScript number ${leaf}; differentiate with respect to Arrays (jnp.array(${leaf}, { dtype: "float32" }))`
          })
        }
        if (!isArray(leaf)) {
          throw new GradError({
            transform: name,
            reason: `${paths[i]} is ${describeLeaf(leaf)}, not an Array; differentiate with respect to Arrays or pytrees (lists, records) of Arrays, and move other values to arguments not in argnums`
          })
        }
        if (leaf.dtype !== "float32" && leaf.dtype !== "complex64" && options?.allowInt !== true) {
          throw new GradError({
            transform: name,
            reason: `${paths[i]} has dtype ${leaf.dtype}; grad requires float32 or complex64 inputs. Convert it, or pass allowInt: true to get a zero gradient for it`
          })
        }
      })
    })
    const diffArgs = argnums.map((a) => args[a])
    const g = (...d: ReadonlyArray<unknown>): unknown => {
      const full = args.slice()
      argnums.forEach((a, i) => (full[a] = d[i]))
      return f(...full)
    }
    const [out, back] = vjpWithName(name, g, diffArgs, options?.hasAux === true)
    const [value, aux] = options?.hasAux === true ? (out as readonly [unknown, unknown]) : [out, undefined]
    if (!isArray(value) || value.ndim !== 0 || value.dtype !== "float32") {
      const what = isArray(value)
        ? `an Array of dtype ${value.dtype} and shape (${value.shape.join(", ")})`
        : typeof value
      throw new GradError({
        transform: name,
        reason: `the function must return a float32 scalar${options?.hasAux === true ? " as the first element of [value, aux]" : ""}, got ${what}; use vjp or jacrev for other outputs${isArray(value) && value.dtype === "complex64" ? " (grad requires real-valued outputs, as in JAX: take jnp.real or jnp.abs of a complex result)" : ""}`
      })
    }
    const grads = back(onesLike(value) as never) as ReadonlyArray<unknown>
    const gradOut = typeof (options?.argnums ?? 0) === "number" ? grads[0] : grads
    return [options?.hasAux === true ? [value, aux] : value, gradOut]
  }
}

const describeLeaf = (u: unknown): string =>
  typeof u === "string"
    ? `the string ${JSON.stringify(u.length > 40 ? `${u.slice(0, 40)}...` : u)}`
    : typeof u === "object" || typeof u === "function"
      ? `a ${typeof u === "function" ? "function" : `${u?.constructor?.name ?? "null-prototype"} object`}`
      : `the ${typeof u} ${String(u)}`

const onesLike = (x: JArray): JArray =>
  bind1("broadcast_in_dim", [fromScalar(1, x.dtype === "key<fry>" ? "uint32" : x.dtype)], {
    shape: x.shape,
    broadcastDimensions: []
  })

/** The gradient type: the differentiated argument's type, or a tuple of them for a list of argnums. */
export type GradOf<Args extends ReadonlyArray<unknown>, A> = A extends number
  ? At<Args, A>
  : A extends ReadonlyArray<number>
    ? { -readonly [K in keyof A]: At<Args, A[K]> }
    : Args[0]

type Decrement = [0, 0, 1, 2, 3, 4]

/**
 * The part of `T` that is not differentiable, or `never`: differentiated arguments are Arrays, or
 * lists and records of them (`null`/`undefined` entries are empty subtrees); past depth 4 anything
 * goes. `any` and `unknown` (generic code) are left to the run-time check, and so are class
 * instances (objects with methods): a registered pytree node such as a `State` is differentiable,
 * another class is not.
 */
export type NotDifferentiable<T, D extends number = 4> = 0 extends 1 & T
  ? never
  : unknown extends T
    ? never
    : T extends JArray | null | undefined
      ? never
      : T extends string | number | boolean | bigint | symbol | ((...args: never) => unknown)
        ? T
        : D extends 0
          ? never
          : T extends ReadonlyArray<infer E>
            ? NotDifferentiable<E, Decrement[D]>
            : [MethodsOf<T>] extends [never]
              ? { [K in keyof T]-?: NotDifferentiable<T[K], Decrement[D]> }[keyof T]
              : never

/** The keys of `T` holding functions: a class instance (a registered pytree node, such as a `State`), not a record. */
type MethodsOf<T> = { [K in keyof T]-?: T[K] extends (...args: never) => unknown ? K : never }[keyof T]

type Differentiated<Args extends ReadonlyArray<unknown>, A> =
  A extends ReadonlyArray<number> ? At<Args, A[number]> : At<Args, A>

/**
 * What `grad`/`valueAndGrad` require of `f`, beyond being a function: differentiated arguments that
 * are Arrays (or pytrees of them), a value that is an Array, `[value, aux]` with `hasAux`, and
 * `argnums` naming each position once. `unknown` when they hold; otherwise a record whose key says
 * what is wrong, the first check that fails (no function has that key, so the call does not compile
 * and the message shows it). One nested conditional: evaluated lazily, it costs less than an
 * intersection of one per check; and `grad` takes it behind `NoInfer`, so that inference does not
 * look into it.
 */
export type GradRequirements<Args extends ReadonlyArray<unknown>, R, A, H> = [
  NotDifferentiable<Differentiated<Args, A>>
] extends [never]
  ? ArrayOrUnknown<ValueOf<R, H>> extends true
    ? UniqueArgnums<A>
    : { readonly "grad: f must return an Array (or [value, aux] with hasAux), not": R }
  : {
      readonly "grad: differentiated arguments must be Arrays or pytrees of Arrays, not": NotDifferentiable<
        Differentiated<Args, A>
      >
    }

type ValueOf<R, H> = H extends true
  ? R extends readonly [infer V, unknown]
    ? V
    : unknown extends R
      ? R
      : "not a pair [value, aux]"
  : R

type ArrayOrUnknown<V> = 0 extends 1 & V ? true : unknown extends V ? true : [V] extends [JArray] ? true : false

/** The auxiliary output of `f` with `hasAux`. */
export type AuxOf<R> = R extends readonly [unknown, infer Aux] ? Aux : unknown

/**
 * The gradient of a scalar function with respect to its `argnums` arguments (pytrees of Arrays),
 * like `jax.grad`. With `hasAux: true`, `f` returns `[value, aux]` and the result is `[gradient, aux]`.
 *
 * The types follow `f`: `argnums` must name its parameters (negative positions count from the
 * end), each once; the differentiated parameters must be Arrays or lists/records of Arrays (not
 * strings or JavaScript numbers); `f` must return an Array (`[Array, aux]` with `hasAux`). The same
 * mistakes made past the types (casts, rest parameters) are `GradError`s naming the argument path.
 *
 * @example
 * ```ts
 * import { grad, jnp } from "effect-nnx"
 *
 * const df = grad((x: jnp.Array) => jnp.sum(jnp.tanh(x)))
 * df(jnp.zeros([3])) // Array([1., 1., 1.], dtype=float32)
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const grad = <
  Args extends ReadonlyArray<unknown>,
  R,
  const A extends Argnums<Args> | 0 = 0,
  const H extends boolean = false
>(
  f: ((...args: Args) => R) & NoInfer<GradRequirements<Args, R, A, H>>,
  options?: GradOptions<A, H>
): ((...args: Args) => GradResult<Args, A, H, R>) => {
  const impl = valueAndGradImpl("grad", f as unknown as UntypedFn, options as GradOptions | undefined)
  const hasAux = options?.hasAux === true
  const gradient: UntypedFn = (...args) => {
    const [out, g] = impl(...args)
    return hasAux ? [g, (out as readonly [unknown, unknown])[1]] : g
  }
  // Cast through `unknown`: relating the untyped implementation to the generic signature directly
  // makes the checker evaluate the conditional types for every type parameter (a thousand instantiations).
  return gradient as unknown as (...args: Args) => GradResult<Args, A, H, R>
}

/** What {@link grad} returns: the gradient, or `[gradient, aux]` with `hasAux: true` (as `jax.grad`). */
export type GradResult<Args extends ReadonlyArray<unknown>, A, H extends boolean, R> = H extends true
  ? readonly [GradOf<Args, A>, AuxOf<R>]
  : GradOf<Args, A>

/**
 * The value and gradient of a scalar function, like `jax.value_and_grad`: `[value, grad]`, or
 * `[[value, aux], grad]` with `hasAux`. The same type checks as {@link grad}.
 * @category transforms
 * @since 0.1.0
 */
export const valueAndGrad = <
  Args extends ReadonlyArray<unknown>,
  R,
  const A extends Argnums<Args> | 0 = 0,
  const H extends boolean = false
>(
  f: ((...args: Args) => R) & NoInfer<GradRequirements<Args, R, A, H>>,
  options?: GradOptions<A, H>
): ((...args: Args) => readonly [R, GradOf<Args, A>]) =>
  valueAndGradImpl("valueAndGrad", f as unknown as UntypedFn, options as GradOptions | undefined) as unknown as (
    ...args: Args
  ) => readonly [R, GradOf<Args, A>]

type UntypedFn = (...args: ReadonlyArray<unknown>) => unknown
