/**
 * `nnx.cachedPartial` and `nnx.jitPartial`: a lifted transform with its leading graph-node
 * arguments bound once, as Flax 0.12.8's `nnx.cached_partial` and `nnx.jit_partial`.
 *
 * As in Flax, the bound graph nodes are copies of the originals' structure (Modules, lists,
 * records) that hold the original Variables, so state changes made by the transform reach the
 * originals, while the structure the transform sees is fixed: a call that changes it (an attribute
 * added, deleted or swapped, a Variable's metadata) fails. Here such a call also changes nothing:
 * the Variables' values and metadata are put back and the copies are made again.
 *
 * @since 0.2.0
 */
import { Effect, Equal } from "effect"
import { graphdef, iterGraph } from "../../graph/graph.ts"
import type { GraphDef } from "../../graph/GraphDef.ts"
import { recursiveMap } from "../../graph/traverse.ts"
import { isVariable } from "../../graph/Variable.ts"
import type { Metadata, Variable } from "../../graph/Variable.ts"
import type { Lifted } from "../combinator.ts"
import { isGraphNode } from "../extract.ts"
import { LiftTypeError } from "../LiftError.ts"
import { jit } from "./jit.ts"
import type { JitOptions } from "./jit.ts"

const T = "nnx.cachedPartial"

/** The bound arguments: structure copies sharing the originals' Variables, and what they must stay. */
interface Bound {
  readonly args: ReadonlyArray<unknown>
  readonly nodes: ReadonlyArray<readonly [unknown, GraphDef]>
  readonly variables: ReadonlyArray<Variable<unknown>>
}

const bind = (cached: ReadonlyArray<unknown>): Bound => {
  // recursiveMap with the identity copies every container and keeps every Variable.
  const args = cached.map((a) => recursiveMap((_path, n) => n, a))
  const nodes = args.filter(isGraphNode).map((n) => [n, graphdef(n)] as const)
  const variables = new Set<Variable<unknown>>()
  for (const [, v] of iterGraph(args)) if (isVariable(v)) variables.add(v)
  return { args, nodes, variables: [...variables] }
}

/**
 * Binds the leading arguments `cached` of the lifted transform `f` (`nnx.jit(step)`,
 * `nnx.vmap(...)`, ...) and returns the transform of the remaining arguments. State changes made in
 * the bound Modules reach the originals (they share their Variables), and changes made to the
 * originals between calls are seen. The graph structure of the bound arguments must stay as it
 * was: a call that changes it fails with a `LiftTypeError` and changes nothing. Every call checks
 * that structure with one walk of the bound graph; unlike Flax, this does not save time, it keeps
 * Flax code working.
 *
 * Like Flax, `f` must be a lifted transform (what it returns is called as one).
 *
 * @example
 * ```ts
 * import { jnp, nnx, optax } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   w = new nnx.Param(jnp.ones([2]))
 * }
 * const model = new Model()
 * const optimizer = new nnx.Optimizer(model, optax.sgd(0.25), { wrt: nnx.Param })
 * const step = nnx.jit((m: Model, opt: nnx.Optimizer<Model>, x: jnp.Array) => {
 *   const [loss, grads] = nnx.valueAndGrad((m: Model) => jnp.sum(m.w.value.mul(x))).sync(m)
 *   opt.update(m, grads)
 *   return loss
 * })
 * const cachedStep = nnx.cachedPartial(step, model, optimizer)
 * cachedStep.sync(jnp.array([1, 2])).item() // 3
 * cachedStep.sync(jnp.array([1, 2])).item() // 1.75
 * model.w.value // [0.5, 0]
 * optimizer.step.value.item() // 2
 * ```
 * @category transforms
 * @since 0.2.0
 */
export const cachedPartial = <const Cached extends ReadonlyArray<unknown>, Rest extends ReadonlyArray<unknown>, R>(
  f: Lifted<readonly [...Cached, ...Rest], R>,
  ...cached: Cached
): Lifted<Rest, R> => {
  if (typeof f !== "function" || typeof (f as { sync?: unknown }).sync !== "function") {
    throw new LiftTypeError({
      transform: T,
      reason:
        "takes a lifted transform (nnx.jit(f), nnx.vmap(f), ...) to bind arguments of; for a plain function, bind them with a closure"
    })
  }
  let bound = bind(cached)
  const snapshot = () => bound.variables.map((v) => [v.value, v.metadata] as const)
  /** After a call: the structure error, with the call undone, or `undefined`. */
  const check = (saved: ReadonlyArray<readonly [unknown, Metadata]>): LiftTypeError | undefined => {
    const changed = bound.nodes.find(([n, def]) => !Equal.equals(graphdef(n), def))
    if (changed === undefined) return undefined
    bound.variables.forEach((v, i) => {
      v.value = saved[i]![0]
      v.metadata = saved[i]![1]
    })
    bound = bind(cached)
    return new LiftTypeError({
      transform: T,
      reason:
        "The graph structure of a node added to cachedPartial was mutated inside the transformation, this is not allowed: keep the bound Modules' attributes and shared references as they are (change their Variables' values), or pass the node as an ordinary argument"
    })
  }
  const call = (...rest: Rest) =>
    Effect.suspend(() => {
      const saved = snapshot()
      return Effect.flatMap(f(...(bound.args as Cached), ...rest), (out) => {
        const e = check(saved)
        return e === undefined ? Effect.succeed(out) : Effect.fail(e)
      })
    })
  const sync = (...rest: Rest) => {
    const saved = snapshot()
    const out = f.sync(...(bound.args as Cached), ...rest)
    const e = check(saved)
    if (e !== undefined) throw e
    return out
  }
  return Object.assign(call, { sync }) as Lifted<Rest, R>
}

/**
 * `nnx.jit(f, options)` with the leading arguments `partialArgs` bound, as Flax's `nnx.jit_partial`:
 * `nnx.cachedPartial(nnx.jit(f, options), ...partialArgs)`. Flax 0.12.8 offers `jit_partial` only
 * in its tree mode (`graph=False` or `graph_updates=False`, the default raising "`graph_updates` not
 * supported"); here it follows `cachedPartial`'s rules (state changes reach the originals, a
 * structure change is refused).
 *
 * @example
 * ```ts
 * import { jnp, nnx, optax } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   w = new nnx.Param(jnp.ones([2]))
 * }
 * const step = (m: Model, opt: nnx.Optimizer<Model>, x: jnp.Array) => {
 *   const [loss, grads] = nnx.valueAndGrad((m: Model) => jnp.sum(m.w.value.mul(x))).sync(m)
 *   opt.update(m, grads)
 *   return loss
 * }
 * const model = new Model()
 * const trainStep = nnx.jitPartial(step, [model, new nnx.Optimizer(model, optax.sgd(0.25), { wrt: nnx.Param })])
 * trainStep.sync(jnp.array([1, 2])).item() // 3
 * model.w.value // [0.75, 0.5]
 * ```
 * @category transforms
 * @since 0.2.0
 */
export const jitPartial = <Args extends ReadonlyArray<unknown>, R, const Cached extends ReadonlyArray<unknown>>(
  f: (...args: Args) => R,
  partialArgs: Cached,
  options?: JitOptions<Args, R>
): Lifted<RestAfter<Args, Cached>, R> =>
  cachedPartial(
    jit(f, options as never) as unknown as Lifted<readonly [...Cached, ...RestAfter<Args, Cached>], R>,
    ...partialArgs
  )

/** The parameters of `Args` after as many as `Cached` has. */
type RestAfter<Args extends ReadonlyArray<unknown>, Cached extends ReadonlyArray<unknown>> = Cached extends readonly [
  unknown,
  ...infer CT
]
  ? Args extends readonly [unknown, ...infer AT]
    ? RestAfter<AT, CT>
    : never
  : Args
