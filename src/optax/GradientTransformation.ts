/**
 * `GradientTransformation`: optax's unit of optimisation, a pair of pure functions. `init(params)`
 * makes the transformation's state (moments, step counts) for a tree of parameters; `update(
 * updates, state, params?)` turns a tree of updates (gradients, at first) into new updates and the
 * next state. Optimizers are chains of small transformations (`chain(scaleByAdam(),
 * scaleByLearningRate(1e-3))` is `adam(1e-3)`), and `applyUpdates` adds the final updates to the
 * parameters.
 *
 * Trees are the core transforms' pytrees: nested lists, plain records, Arrays and `nnx.State`s
 * (the gradients `nnx.grad` returns), so a transformation works the same on `{ w, b }` records and
 * on a model's `State<Param>`. States of transformations are plain records and lists of Arrays and
 * such trees, so they flow through `jit`, `vmap` and `scan` like any pytree.
 *
 * @since 0.2.0
 */
import { Equal, Hash } from "effect"
import type { Array as JArray } from "../backend/Array.ts"
import { convertTo } from "../backend/numpy/elementwise.ts"
import { add } from "../backend/numpy/elementwise.ts"
import { StructureError } from "../transforms/core/TransformError.ts"
import { numericDType, treeMap } from "./tree.ts"

/**
 * A transformation's state: any pytree (records, lists, Arrays, States).
 * @category models
 * @since 0.2.0
 */
export type OptState = unknown

/**
 * A gradient transformation, as optax's `GradientTransformation`: `init` makes the state for a
 * tree of parameters, `update` maps updates (of the parameters' structure) and the state to new
 * updates and the next state. `params` is needed by transformations that read the parameters
 * (weight decay, trust ratios) and may be left out otherwise.
 *
 * @example
 * ```ts
 * import { jnp, optax } from "effect-nnx"
 *
 * const tx = optax.adam(1e-3)
 * const params = { w: jnp.ones([3]) }
 * const state = tx.init(params)
 * const [updates, next] = tx.update({ w: jnp.full([3], 0.5) }, state, params)
 * const newParams = optax.applyUpdates(params, updates)
 * ```
 * @category models
 * @since 0.2.0
 */
export interface GradientTransformation<S = OptState> {
  // Methods, not function-valued properties: a transformation with a specific state (Adam's
  // moments) is then a `GradientTransformation` of opaque state, which `chain` and `nnx.Optimizer`
  // take, without an `any`.
  init(params: unknown): S
  update<U>(updates: U, state: S, params?: U): readonly [U, S]
}

/**
 * A transformation made by this library. It compares and hashes by identity: a Module holding it
 * (`nnx.Optimizer`) keeps it as a static value of its GraphDef, and `nnx.jit` keys its cache on
 * GraphDefs, where a structural comparison of closures would be both slow and meaningless.
 */
class Transformation<S> implements GradientTransformation<S>, Equal.Equal {
  constructor(
    readonly init: (params: unknown) => S,
    readonly update: <U>(updates: U, state: S, params?: U) => readonly [U, S],
    readonly name: string
  ) {
    Object.freeze(this)
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return this === that
  }
  [Hash.symbol](): number {
    return Hash.random(this)
  }
  toString(): string {
    return `GradientTransformation(${this.name})`
  }
}

/**
 * A gradient transformation from its two functions; `name` shows in messages and displays.
 * @category constructors
 * @since 0.2.0
 */
export const make = <S>(
  name: string,
  init: (params: unknown) => S,
  update: (updates: unknown, state: S, params?: unknown) => readonly [unknown, S]
): GradientTransformation<S> => new Transformation<S>(init, update as GradientTransformation<S>["update"], name)

/** The state of a transformation that keeps none (optax's `EmptyState`). */
export type EmptyState = Record<string, never>

const emptyState = (): EmptyState => ({})

/**
 * A transformation that keeps no state, from its update of one tree. @internal
 */
export const stateless = (
  name: string,
  f: (updates: unknown, params: unknown) => unknown
): GradientTransformation<EmptyState> =>
  make<EmptyState>(name, emptyState, (updates, state, params) => [f(updates, params), state])

/**
 * The transformation that changes nothing (optax's `identity`).
 * @category constructors
 * @since 0.2.0
 */
export const identity = (): GradientTransformation<EmptyState> => stateless("identity", (u) => u)

/**
 * Applies transformations one after the other, as optax's `chain`: the updates of each are the
 * input of the next, and the state is the list of their states.
 *
 * @example
 * ```ts
 * import { jnp, optax } from "effect-nnx"
 *
 * const tx = optax.chain(optax.clipByGlobalNorm(1), optax.scaleByAdam(), optax.scaleByLearningRate(1e-3))
 * const params = { w: jnp.ones([3]) }
 * const [updates] = tx.update({ w: jnp.full([3], 10) }, tx.init(params), params)
 * updates.w.shape // [3]
 * ```
 * @category combinators
 * @since 0.2.0
 */
export const chain = (...transforms: ReadonlyArray<GradientTransformation>): GradientTransformation<Array<OptState>> =>
  make<Array<OptState>>(
    "chain",
    (params) => transforms.map((t) => t.init(params)),
    (updates, state, params) => {
      if (!Array.isArray(state) || state.length !== transforms.length) {
        throw new StructureError({
          transform: "optax.chain",
          reason: `the state has ${Array.isArray(state) ? `${state.length} entries` : "no list of entries"} for ${transforms.length} transformations; make it with this chain's init`
        })
      }
      let u = updates
      const next = transforms.map((t, i) => {
        const [nu, s] = t.update(u, state[i], params as typeof u)
        u = nu
        return s
      })
      return [u, next]
    }
  )

/**
 * Adds updates to parameters, keeping each parameter's dtype (optax's `apply_updates`). The trees
 * must have the same structure; the error names the first leaf that differs.
 * @category combinators
 * @since 0.2.0
 */
export const applyUpdates = <P>(params: P, updates: unknown): P =>
  treeMap(
    "optax.applyUpdates",
    ["the parameters", "the updates"],
    (p: JArray, u: JArray) => convertTo(add(p, u), numericDType(p)),
    params,
    updates
  )
