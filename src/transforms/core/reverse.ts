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

/** Only floating values carry gradients. */
const differentiable = (x: JArray): boolean => x.dtype === "float32"

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
    this.tape.push({ prim: "stop_gradient", params: {}, primals: [primal], outs: [out], inNodes: [inNode], outNodes: [node], transpose })
    return this.tracer(out.aval, { primal: out, node })
  }

  /** Runs the backward pass from output cotangents; returns each node's cotangent. */
  backward(seeds: ReadonlyArray<readonly [number, JArray]>): Map<number, JArray> {
    const cts = new Map<number, JArray>()
    const accumulate = (node: number, ct: JArray, prim?: Primitive): void => {
      const prev = cts.get(node)
      if (prev !== undefined && prev.shape.join(",") !== ct.shape.join(",")) {
        throw new Error(`${this.name}: the VJP rule of ${prim ?? "an output"} produced a cotangent of shape (${ct.shape.join(", ")}) for a value of shape (${prev.shape.join(", ")})`)
      }
      cts.set(node, prev === undefined ? ct : bind1("add", [prev, ct], {}))
    }
    for (const [node, ct] of seeds) accumulate(node, ct)
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const e = this.tape[i]!
      const outCts = e.outNodes.map((n) => (n === null ? null : cts.get(n) ?? null))
      if (outCts.every((c) => c === null)) continue
      const needs = e.inNodes.map((n) => n !== null)
      const rule = vjpRules()[e.prim] as (p: ReadonlyArray<JArray>, o: ReadonlyArray<JArray>, c: ReadonlyArray<JArray | null>, params: unknown, n: ReadonlyArray<boolean>) => ReadonlyArray<JArray | null>
      const inCts = e.transpose === undefined ? rule(e.primals, e.outs, outCts, e.params, needs) : [e.transpose(outCts[0]!)]
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
    throw new StructureError({ transform, reason: `the cotangent at ${path} has shape (${ct.shape.join(", ")}) but the output has shape (${primal.shape.join(", ")})` })
  }
  return ct
}

/**
 * Evaluates `f` at `primals` and returns a function mapping output cotangents to input cotangents,
 * like `jax.vjp`. Integer and boolean inputs get zero cotangents.
 *
 * @example
 * ```ts
 * const [y, back] = vjp((x: jnp.Array) => x.mul(x).sum(), jnp.arange(3).astype("float32"))
 * back(jnp.array(1.0)) // [Array([0., 2., 4.], dtype=float32)]
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
  return runWithTrace((level) => new ReverseTrace(level, name), (trace) => {
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
    const aux = hasAux ? treeMap((l) => (isArray(l) ? trace.unwrap(l)[0] : l), (full as unknown as readonly [unknown, unknown])[1]) : undefined
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
        throw new StructureError({ transform: name, reason: `the cotangent has ${ctLeaves.length} leaves but the output has ${oLeaves.length}` })
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
  })
}

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions {
  /** Which positional arguments to differentiate (default 0); a list gives a tuple of gradients. */
  readonly argnums?: number | ReadonlyArray<number> | undefined
  /** `f` returns `[value, aux]`; aux is returned alongside, not differentiated. */
  readonly hasAux?: boolean | undefined
  /** Allow integer inputs (their gradient is zero) instead of failing. */
  readonly allowInt?: boolean | undefined
}

const normalizeArgnums = (transform: string, argnums: number | ReadonlyArray<number>, n: number): Array<number> => {
  const list = typeof argnums === "number" ? [argnums] : [...argnums]
  return list.map((a) => {
    if (!Number.isInteger(a) || a < -n || a >= n) {
      throw new GradError({ transform, reason: `argnums ${a} is out of range for a call with ${n} positional arguments` })
    }
    return a < 0 ? a + n : a
  })
}

const valueAndGradImpl = (name: string, f: (...args: ReadonlyArray<unknown>) => unknown, options: GradOptions | undefined) => {
  checkOptionKeys(name, options, ["argnums", "hasAux", "allowInt"])
  return (...args: ReadonlyArray<unknown>): readonly [unknown, unknown] => {
    const argnums = normalizeArgnums(name, options?.argnums ?? 0, args.length)
    argnums.forEach((a) => {
      const [leaves] = flatten(args[a])
      const paths = leafPaths(flatten(args[a])[1], `args[${a}]`)
      leaves.forEach((leaf, i) => {
        if (typeof leaf === "number") {
          throw new GradError({ transform: name, reason: `${paths[i]} is the JavaScript number ${leaf}; differentiate with respect to Arrays (jnp.array(${leaf}, { dtype: "float32" }))` })
        }
        if (isArray(leaf) && leaf.dtype !== "float32" && options?.allowInt !== true) {
          throw new GradError({ transform: name, reason: `${paths[i]} has dtype ${leaf.dtype}; grad requires real-valued (float32) inputs. Convert it, or pass allowInt: true to get a zero gradient for it` })
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
      const what = isArray(value) ? `an Array of dtype ${value.dtype} and shape (${value.shape.join(", ")})` : typeof value
      throw new GradError({ transform: name, reason: `the function must return a float32 scalar${options?.hasAux === true ? " as the first element of [value, aux]" : ""}, got ${what}; use vjp or jacrev for other outputs` })
    }
    const grads = back(onesLike(value) as never) as ReadonlyArray<unknown>
    const gradOut = typeof (options?.argnums ?? 0) === "number" ? grads[0] : grads
    return [options?.hasAux === true ? [value, aux] : value, gradOut]
  }
}

const onesLike = (x: JArray): JArray =>
  bind1("broadcast_in_dim", [fromScalar(1, x.dtype === "key<fry>" ? "uint32" : x.dtype)], { shape: x.shape, broadcastDimensions: [] })

/** The gradient type: the differentiated argument's type, or a tuple of them for a list of argnums. */
export type GradOf<Args extends ReadonlyArray<unknown>, A> = A extends number ? Args[A]
  : A extends ReadonlyArray<number> ? { -readonly [K in keyof A]: A[K] extends number ? Args[A[K]] : never }
  : Args[0]

/**
 * The gradient of a scalar function with respect to its `argnums` arguments (pytrees of Arrays),
 * like `jax.grad`. With `hasAux: true`, `f` returns `[value, aux]` and the result is `[gradient, aux]`.
 *
 * @example
 * ```ts
 * const df = grad((x: jnp.Array) => jnp.sum(jnp.tanh(x)))
 * df(jnp.zeros([3])) // Array([1., 1., 1.], dtype=float32)
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const grad = <
  Args extends ReadonlyArray<unknown>,
  R,
  const A extends number | ReadonlyArray<number> = 0,
  const H extends boolean = false
>(
  f: (...args: Args) => R,
  options?: GradOptions & { readonly argnums?: A; readonly hasAux?: H }
) => {
  const impl = valueAndGradImpl("grad", f as (...a: ReadonlyArray<unknown>) => unknown, options)
  return (...args: Args): GradResult<Args, A, H, R> => {
    const [out, g] = impl(...args)
    return (options?.hasAux === true ? [g, (out as readonly [unknown, unknown])[1]] : g) as GradResult<Args, A, H, R>
  }
}

/** What {@link grad} returns: the gradient, or `[gradient, aux]` with `hasAux: true` (as `jax.grad`). */
export type GradResult<Args extends ReadonlyArray<unknown>, A, H extends boolean, R> = H extends true
  ? readonly [GradOf<Args, A>, R extends readonly [unknown, infer Aux] ? Aux : unknown]
  : GradOf<Args, A>

/**
 * The value and gradient of a scalar function, like `jax.value_and_grad`: `[value, grad]`, or
 * `[[value, aux], grad]` with `hasAux`.
 * @category transforms
 * @since 0.1.0
 */
export const valueAndGrad = <Args extends ReadonlyArray<unknown>, R, const A extends number | ReadonlyArray<number> = 0>(
  f: (...args: Args) => R,
  options?: GradOptions & { readonly argnums?: A }
) => {
  const impl = valueAndGradImpl("valueAndGrad", f as (...a: ReadonlyArray<unknown>) => unknown, options)
  return (...args: Args): readonly [R, GradOf<Args, A>] => impl(...args) as readonly [R, GradOf<Args, A>]
}
