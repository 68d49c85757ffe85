/**
 * `nnx.grad` and `nnx.valueAndGrad`: reverse-mode gradients of functions of Modules, Variables,
 * Rngs and Arrays. A graph-node argument's gradient is a `State` of its differentiated Variables
 * (by default its `Param`s; choose others with `DiffState(argnum, filter)`), keyed by path with the
 * Variables' kinds, as Flax returns `nnx.State`; an Array argument's gradient is an Array. A
 * Variable reachable twice (tied weights) is one input, so its gradient appears once (at its first
 * path) and is the sum of both uses. State that is not differentiated is passed through, and its
 * updates inside `f` (BatchStat, Rngs counts) propagate out like every lifted transform.
 *
 * `argnums` is checked when `nnx.grad(f, options)` is called, as in Flax: integers or `DiffState`s,
 * none repeated (a `GradError` otherwise); whether they are in range is checked at the call.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type { Array as JArray } from "../../backend/Array.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import type { Module } from "../../graph/Module.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import type { Variable } from "../../graph/Variable.ts"
import { Param } from "../../graph/Variable.ts"
import { toPredicate } from "../../filters/Filter.ts"
import type { Predicate } from "../../filters/Filter.ts"
import { isDiffState } from "../../filters/LiftTypes.ts"
import type { DiffState } from "../../filters/LiftTypes.ts"
import type { Filter, KindOf } from "../../filters/Filter.ts"
import type { StateOf } from "../../graph/State.ts"
import { valueAndGrad as coreValueAndGrad } from "../core/reverse.ts"
import { GradError } from "../core/TransformError.ts"
import { callUser, lifted } from "../combinator.ts"
import type { ErrOf, Lifted, Out, ReqOf } from "../combinator.ts"
import { AliasTracker, forEachGroup, mergeTree, showPrefix, splitTree } from "../extract.ts"
import type { Resolver, SplitOptions } from "../extract.ts"
import { DIFF, gradientTree, isFloat, NONDIFF, partition, resolveAll, showDiff } from "./gradPartition.ts"
import type { Diff, Partition } from "./gradPartition.ts"

/** One entry of `argnums`: a positional argument, or `DiffState(argnum, filter)` for part of a graph node. */
export type Argnum = number | DiffState

/** Options of {@link grad} and {@link valueAndGrad}. */
export interface GradOptions<
  A extends Argnum | ReadonlyArray<Argnum> = Argnum | ReadonlyArray<Argnum>,
  H extends boolean = boolean
> {
  /**
   * Which arguments to differentiate (default 0). A graph node is differentiated with respect to
   * its `Param`s, or to what a `DiffState`'s filter selects; a list gives a tuple of gradients.
   */
  readonly argnums?: A | undefined
  /** `f` returns `[loss, aux]`; aux is returned alongside, not differentiated. */
  readonly hasAux?: H | undefined
  /** Allow integer state or Arrays under the filter (their gradient is zero) instead of failing. */
  readonly allowInt?: boolean | undefined
}

/**
 * The gradient of a value of type `T`, as Flax 0.12: a `State` of new Variables holding the
 * gradients for a Module, a new Variable of the same kind for a Variable, an Array for an Array,
 * the same structure for lists and records.
 */
export type GradFor<T, K = Param<unknown>> = T extends Module
  ? StateOf<T, K, never>
  : T extends Variable<unknown>
    ? T
    : T extends JArray
      ? JArray
      : T extends ReadonlyArray<unknown>
        ? { -readonly [I in keyof T]: GradFor<T[I], K> }
        : T extends Record<string, unknown>
          ? { -readonly [I in keyof T]: GradFor<T[I], K> }
          : T

/** `Args` less its last `P` elements. */
type DropLast<
  Args extends ReadonlyArray<unknown>,
  P extends number,
  C extends ReadonlyArray<0> = []
> = C["length"] extends P ? Args : Args extends readonly [...infer H, unknown] ? DropLast<H, P, [...C, 0]> : never

/**
 * The parameter an `argnums` entry names: its index, counted from the end when negative (`-1` is
 * the last), or `never` when out of range. Unchecked (the index itself) for rest parameters.
 */
type IndexOf<Args extends ReadonlyArray<unknown>, I> = I extends number
  ? number extends Args["length"]
    ? I
    : `${I}` extends `-${infer P extends number}`
      ? DropLast<Args, P> extends infer H extends ReadonlyArray<unknown>
        ? H["length"]
        : never
      : `${I}` extends Exclude<keyof Args, keyof []>
        ? I
        : never
  : never

/** The argument index of an `argnums` entry. */
type RawArgnum<A> = A extends DiffState<infer N, Filter> ? N : A

/** Whether a list of indices names one twice. */
type HasDuplicate<L extends ReadonlyArray<unknown>> = L extends readonly [infer H, ...infer T]
  ? H extends T[number]
    ? true
    : HasDuplicate<T>
  : false

/** The indices of `argnums` entries, resolved against `Args` (`never` for one out of range). */
type Resolved<Args extends ReadonlyArray<unknown>, L extends ReadonlyArray<unknown>> = {
  [I in keyof L]: IndexOf<Args, RawArgnum<L[I]>>
}

/**
 * `unknown` for `argnums` that name parameters of `f`, each once; otherwise a message no value
 * has, so that an argnum out of range or repeated does not compile (the run-time check stays, for calls the
 * compiler cannot see).
 */
export type CheckArgnums<Args extends ReadonlyArray<unknown>, A> =
  A extends ReadonlyArray<unknown>
    ? AllValid<Resolved<Args, A>> extends true
      ? HasDuplicate<Resolved<Args, A>> extends true
        ? "argnums must name each parameter of f once"
        : unknown
      : "argnums must name parameters of f (one is out of range)"
    : [IndexOf<Args, RawArgnum<A>>] extends [never]
      ? "argnums must name a parameter of f (this one is out of range)"
      : unknown

/** Whether no resolved index is `never` (out of range). */
type AllValid<Rs> = Rs extends readonly [infer H, ...infer T] ? ([H] extends [never] ? false : AllValid<T>) : true

/**
 * The gradient for one `argnums` entry: by the argument's type (its Params for a graph node), or
 * the kinds a `DiffState`'s filter selects.
 */
type GradAt<Args extends ReadonlyArray<unknown>, A> =
  A extends DiffState<infer N, infer F>
    ? GradFor<Args[IndexOf<Args, N>], KindOf<F>>
    : A extends number
      ? GradFor<Args[IndexOf<Args, A>]>
      : never

/** The gradients for `argnums`: one, or a tuple for a list. */
export type Grads<Args extends ReadonlyArray<unknown>, A> =
  A extends ReadonlyArray<Argnum> ? { -readonly [K in keyof A]: GradAt<Args, A[K]> } : GradAt<Args, A>

/** The auxiliary output of `f` with `hasAux`. */
export type AuxOf<R> = Out<R> extends readonly [unknown, infer X] ? X : never

/** A lifted call returning `A`, failing with `f`'s errors too. */
export type LiftedAs<Args extends ReadonlyArray<unknown>, A, R> = Lifted<Args, Effect.Effect<A, ErrOf<R>, ReqOf<R>>>

/** Marks a differentiated argument in the prefix tree: which of its graph nodes' leaves to differentiate. */
class DiffMark {
  constructor(readonly predicate: Predicate) {}
}

/** A Variable passed directly is differentiated whole; inside a graph node, the filter decides. */
const resolveDiff: Resolver<Diff> = (nodePrefix, path, leaf) => {
  if (!(nodePrefix instanceof DiffMark)) return NONDIFF
  return path.length === 0 || nodePrefix.predicate(path, leaf) ? DIFF : NONDIFF
}

const defaultPredicate = toPredicate(Param)

const normalizeArgnums = (
  transform: string,
  argnums: Argnum | ReadonlyArray<Argnum>,
  n: number
): Array<{ readonly argnum: number; readonly mark: DiffMark }> => {
  const list: ReadonlyArray<Argnum> = typeof argnums === "number" || isDiffState(argnums) ? [argnums] : argnums
  const seen = new Set<number>()
  return list.map((a) => {
    const raw = isDiffState(a) ? a.argnum : a
    if (raw < -n || raw >= n) {
      throw new GradError({
        transform,
        reason: `differentiating with respect to argnums=${raw} requires at least ${raw < 0 ? -raw : raw + 1} positional arguments to be passed by the caller, but got only ${n} positional arguments`
      })
    }
    const argnum = raw < 0 ? raw + n : raw
    if (seen.has(argnum))
      throw new GradError({
        transform,
        reason: `argnum ${argnum} is repeated in argnums; give each argument once (one DiffState per argument)`
      })
    seen.add(argnum)
    return { argnum, mark: new DiffMark(isDiffState(a) ? a.predicate : defaultPredicate) }
  })
}

/**
 * Checks `argnums` when the transform is made: integers or `DiffState`s (of an integer argnum), one
 * or a list, none given twice. Whether they are in range depends on the call.
 */
const checkArgnumsForm = (transform: string, argnums: unknown): void => {
  const show = (u: unknown): string =>
    isDiffState(u)
      ? `DiffState(${String(u.argnum)}, ...)`
      : typeof u === "string"
        ? JSON.stringify(u)
        : Array.isArray(u)
          ? `[${u.map(show).join(", ")}]`
          : String(u)
  const list: ReadonlyArray<unknown> | undefined =
    typeof argnums === "number" || isDiffState(argnums) ? [argnums] : Array.isArray(argnums) ? argnums : undefined
  if (list === undefined) {
    throw new GradError({
      transform,
      reason: `argnums must be an integer, a DiffState or a list of those, got ${showPrefix(argnums)}`
    })
  }
  const seen = new Set<number>()
  list.forEach((a, i) => {
    const raw = isDiffState(a) ? a.argnum : a
    if (typeof raw !== "number" || !Number.isInteger(raw)) {
      throw new GradError({
        transform,
        reason: `argnums${list === argnums ? `[${i}]` : ""} must be an integer or a DiffState with an integer argnum, got ${show(a)}`
      })
    }
    if (seen.has(raw))
      throw new GradError({
        transform,
        reason: `argnum ${raw} is repeated in argnums; give each argument once (one DiffState per argument)`
      })
    seen.add(raw)
  })
}

const checkDifferentiable = (
  transform: string,
  argnum: number,
  part: Partition,
  pure: unknown,
  allowInt: boolean
): void => {
  if (allowInt) return
  forEachGroup<Diff>(pure, (d, values, paths, kinds) => {
    if (!d) return
    values.forEach((v, i) => {
      if (!isFloat(v)) {
        throw new GradError({
          transform,
          reason: `the ${kinds[i]} at args[${argnum}]/${paths[i]!.join("/")} has dtype ${v.dtype}; grad requires real- or complex-valued (float32 or complex64) state. Exclude it with a DiffState filter (e.g. nnx.DiffState(${argnum}, nnx.Param)), or pass allowInt: true to get a zero gradient for it`
        })
      }
    })
  })
  part.leaves.forEach((l, k) => {
    if (typeof l === "number") {
      throw new GradError({
        transform,
        reason: `args[${argnum}] has the JavaScript number ${l}; differentiate with respect to Arrays (jnp.array(${l}, { dtype: "float32" }))`
      })
    }
    const a = l as JArray
    if (part.arrayDiff[k] === true && !isFloat(a)) {
      throw new GradError({
        transform,
        reason: `an Array of args[${argnum}] has dtype ${a.dtype}; grad requires real- or complex-valued (float32 or complex64) inputs. Convert it, or pass allowInt: true to get a zero gradient for it`
      })
    }
  })
}

/** Shared by `grad` and `valueAndGrad`: `[value, gradients]`, `value` being `[loss, aux]` with `hasAux`. */
const gradImpl = (
  transform: string,
  f: (...args: ReadonlyArray<unknown>) => unknown,
  options: GradOptions | undefined
) => {
  // As Flax, what does not depend on the arguments is checked when the transform is made.
  checkArgnumsForm(transform, options?.argnums ?? 0)
  return (args: ReadonlyArray<unknown>): readonly [unknown, unknown] => {
    const hasAux = options?.hasAux === true
    const allowInt = options?.allowInt === true
    const argnums = options?.argnums ?? 0
    const specs = normalizeArgnums(transform, argnums, args.length)
    const marks: Array<DiffMark | null> = args.map(() => null)
    for (const s of specs) marks[s.argnum] = s.mark
    const base = {
      transform,
      what: "argnums",
      isPrefixLeaf: (u: unknown) => u === null || u instanceof DiffMark,
      resolve: resolveDiff,
      show: showDiff,
      corePrefix: () => null
    }
    // 1. Outer split: differentiated leaves in group 0, the rest in group 1, one reference map.
    const refMap = new Map<object, number>()
    const outer = splitTree<Diff>(args, marks, { ...base, refMap, aliases: new AliasTracker() })
    const pureArgs = outer.pure as ReadonlyArray<unknown>
    const parts = specs.map((s) => {
      const part = partition(pureArgs[s.argnum], () => true)
      checkDifferentiable(transform, s.argnum, part, pureArgs[s.argnum], allowInt)
      return part
    })
    // The core transform sees only the differentiated Arrays; the rest is closed over (concrete
    // values or tracers of enclosing transforms, constants to this one).
    const inner = (diff: ReadonlyArray<ReadonlyArray<JArray>>): readonly [unknown, unknown] => {
      const inPure = pureArgs.slice()
      specs.forEach((s, i) => (inPure[s.argnum] = parts[i]!.put(diff[i]!, parts[i]!.rest)))
      // 2. Inner merge.
      const indexMap = new Map<number, object>()
      const innerArgs = mergeTree<Diff>(inPure, { indexMap }) as ReadonlyArray<unknown>
      const out = withMutationCheck(() => callUser(() => f(...innerArgs)))
      if (hasAux && !(Array.isArray(out) && out.length === 2)) {
        throw new GradError({
          transform,
          reason: `with hasAux, the function must return [loss, aux], got ${Array.isArray(out) ? `an array of ${out.length}` : typeof out}`
        })
      }
      const [loss, aux] = hasAux ? (out as readonly [unknown, unknown]) : [out, undefined]
      // 3. Inner split of the arguments (their updates) and aux, returned as aux of the core transform.
      const splitOptions: SplitOptions<Diff> = {
        ...base,
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker()
      }
      const a = splitTree<Diff>(innerArgs, marks, splitOptions)
      const o = splitTree<Diff>(aux, null, {
        ...splitOptions,
        what: "aux",
        resolve: resolveAll,
        aliases: new AliasTracker()
      })
      return [loss, [a.pure, o.pure]]
    }
    let result: readonly [readonly [unknown, readonly [unknown, unknown]], ReadonlyArray<ReadonlyArray<JArray>>]
    try {
      result = coreValueAndGrad(inner, { hasAux: true, allowInt })(parts.map((p) => p.diff)) as never
    } catch (e) {
      // The core transform names itself; the checks it makes on our behalf are this transform's.
      if (e instanceof GradError && e.transform === "valueAndGrad") throw new GradError({ transform, reason: e.reason })
      throw e
    }
    const [[loss, [argsOut, auxOut]], diffGrads] = result
    // 4. Outer merge, then the gradients: States for graph nodes, Arrays for Arrays.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    mergeTree(argsOut, mergeOptions)
    const aux = mergeTree(auxOut, mergeOptions)
    const grads = parts.map((p, i) => gradientTree(p, diffGrads[i]!, (x) => x))
    const gradOut = typeof argnums === "number" || isDiffState(argnums) ? grads[0] : grads
    return [hasAux ? [loss, aux] : loss, gradOut]
  }
}

/**
 * The gradient of a scalar loss of Modules and Arrays, like `nnx.grad`: by default with respect to
 * argument 0's `Param`s. Returns the gradients (a `State` per graph node), or `[grads, aux]` with
 * `hasAux`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Linear extends nnx.Module {
 *   kernel = new nnx.Param(jnp.ones([2, 1]))
 *   bias = new nnx.Param(jnp.zeros([1]))
 *   call(x: jnp.Array): jnp.Array { return x.matmul(this.kernel.value).add(this.bias.value) }
 * }
 * const [model, x, y] = [new Linear(), jnp.ones([4, 2]), jnp.zeros([4, 1])]
 * const lossFn = (m: Linear, x: jnp.Array, y: jnp.Array) => jnp.mean(jnp.square(m.call(x).sub(y)))
 * const grads = nnx.grad(lossFn).sync(model, x, y) // a State of new Params: { bias, kernel }
 * grads.kernel.value // [[4], [4]]
 * grads.bias.value // [4]
 * const kernelOnly = nnx.grad(lossFn, { argnums: new nnx.DiffState(0, nnx.PathContains("kernel")) })
 * kernelOnly.sync(model, x, y).keys() // ["kernel"]
 * Effect.runSync(nnx.grad(lossFn)(model, x, y)).bias.value // [4]; the call is an Effect
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const grad = <
  Args extends ReadonlyArray<unknown>,
  R,
  const A extends Argnum | ReadonlyArray<Argnum> = 0,
  const H extends boolean = false
>(
  f: (...args: Args) => R,
  options?: GradOptions<A, H> & { readonly argnums?: CheckArgnums<Args, A> }
): LiftedAs<Args, H extends true ? readonly [Grads<Args, A>, AuxOf<R>] : Grads<Args, A>, R> => {
  const impl = gradImpl("nnx.grad", f as (...a: ReadonlyArray<unknown>) => unknown, options)
  return lifted((args: Args) => {
    const [value, grads] = impl(args)
    return (options?.hasAux === true ? [grads, (value as readonly [unknown, unknown])[1]] : grads) as never
  }, "nnx.grad")
}

/**
 * The loss and its gradient, like `nnx.value_and_grad`: `[loss, grads]`, or `[[loss, aux], grads]`
 * with `hasAux`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Linear extends nnx.Module {
 *   kernel = new nnx.Param(jnp.ones([2, 1]))
 *   bias = new nnx.Param(jnp.zeros([1]))
 *   call(x: jnp.Array): jnp.Array { return x.matmul(this.kernel.value).add(this.bias.value) }
 * }
 * const lossFn = (m: Linear, x: jnp.Array, y: jnp.Array) => jnp.mean(jnp.square(m.call(x).sub(y)))
 * const [loss, grads] = nnx.valueAndGrad(lossFn).sync(new Linear(), jnp.ones([4, 2]), jnp.zeros([4, 1]))
 * loss // Array(4., dtype=float32)
 * grads.kernel.value // [[4], [4]]
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const valueAndGrad = <
  Args extends ReadonlyArray<unknown>,
  R,
  const A extends Argnum | ReadonlyArray<Argnum> = 0,
  const H extends boolean = false
>(
  f: (...args: Args) => R,
  options?: GradOptions<A, H> & { readonly argnums?: CheckArgnums<Args, A> }
): LiftedAs<Args, readonly [Out<R>, Grads<Args, A>], R> => {
  const impl = gradImpl("nnx.valueAndGrad", f as (...a: ReadonlyArray<unknown>) => unknown, options)
  return lifted((args: Args) => impl(args) as never, "nnx.valueAndGrad")
}
