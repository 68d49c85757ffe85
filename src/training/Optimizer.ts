/**
 * `nnx.Optimizer`: a model's optimizer as a graph node, as Flax 0.12's `nnx.Optimizer`. It holds
 * an optax transformation (`tx`), the filter of the Variables it trains (`wrt`), the step count and
 * the transformation's state, the last two as `OptState` Variables, so an Optimizer passes through
 * `nnx.jit` (and `nnx.split`/`merge`, `nnx.state`) like any Module and its state updates propagate.
 *
 * `optimizer.update(model, grads)` runs `tx.update` on the gradients, adds the updates to the
 * model's `wrt` Variables in place, stores the new optimizer state and increments `step`. The
 * gradients must be those of the same Variables (the `State` `nnx.grad` returns for the same
 * filter): a missing or extra path, or a gradient of another shape, is an `UpdateError` naming the
 * path, raised before anything changes, so a failed update leaves the model and the optimizer as
 * they were.
 *
 * The transformation's state is a pytree (records, lists, Arrays, States). The Optimizer keeps it
 * as the same records and lists with every Array in an `OptArray` (or, inside a State of the
 * parameters' shape, an `OptVariable` carrying the parameter's metadata, e.g. its sharding names),
 * and a State as nested records by path, so `optimizer.optState[0].mu.kernel` reads as in Flax.
 *
 * @since 0.2.0
 */
import { Equal, Hash } from "effect"
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import { zeros } from "../backend/numpy/creation.ts"
import type { Filter } from "../filters/Filter.ts"
import { toPredicate } from "../filters/Filter.ts"
import { GraphStructureError, UpdateError } from "../graph/errors.ts"
import { state as graphState, update as graphUpdate } from "../graph/graph.ts"
import { Module } from "../graph/Module.ts"
import { defineAttribute } from "../graph/node.ts"
import type { Path } from "../graph/path.ts"
import { encodePath } from "../graph/path.ts"
import type { State } from "../graph/State.ts"
import { isState } from "../graph/State.ts"
import { mutationError } from "../graph/traceState.ts"
import type { Metadata } from "../graph/Variable.ts"
import { isVariable, Variable } from "../graph/Variable.ts"
import type { GradientTransformation } from "../optax/GradientTransformation.ts"
import { applyUpdates } from "../optax/GradientTransformation.ts"
import { flatten, unflatten } from "../transforms/core/pytree.ts"
import type { TreeDef } from "../transforms/core/pytree.ts"

/**
 * Any optimizer state (the kind of `Optimizer.step` and, through its subkinds, of every leaf of
 * `Optimizer.optState`): filter with it to select an optimizer's state.
 * @category kinds
 * @since 0.2.0
 */
export class OptState<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly OptState: true }
}

/**
 * Optimizer state for an Array of the transformation's state (a step count, a moment).
 * @category kinds
 * @since 0.2.0
 */
export class OptArray<A = unknown> extends OptState<A> {
  declare readonly "~kind": { readonly OptState: true; readonly OptArray: true }
}

/**
 * Optimizer state shaped like a parameter (a moment of it), with the parameter's metadata.
 * @category kinds
 * @since 0.2.0
 */
export class OptVariable<A = unknown> extends OptState<A> {
  declare readonly "~kind": { readonly OptState: true; readonly OptVariable: true }
}

/**
 * The structure of the transformation's state, kept as a static attribute so that the state can be
 * rebuilt from the Variables. It compares by identity: it never changes after construction, and a
 * structural comparison (as `nnx.jit`'s cache key would make) would walk the whole tree.
 */
class OptStateStructure implements Equal.Equal {
  constructor(readonly def: TreeDef) {
    Object.freeze(this)
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return this === that
  }
  [Hash.symbol](): number {
    return Hash.random(this)
  }
  toString(): string {
    return "OptStateStructure"
  }
}

/** Pytree nodes of Variables (a State's leaves), whose one child is the value. */
const isVariableNode = (name: string): boolean => name === "Variable" || name === "VariableState"

const setKey = (obj: Record<string, unknown>, key: string, value: unknown): void => defineAttribute(obj, key, value)

/** The optimizer-state form of a transformation's state: its Arrays in `OptState` Variables. */
const toGraphForm = (
  def: TreeDef,
  leaves: ReadonlyArray<unknown>,
  metadataAt: (path: Path) => Metadata | undefined
): unknown => {
  let i = 0
  const variable = (d: TreeDef, metadata: Metadata | undefined): Variable<unknown> => {
    // A Variable in the tree keeps its metadata; a raw Array takes the parameter's, if any.
    const meta =
      d.kind === "custom" && isVariableNode(d.node.name)
        ? (d.aux as { readonly metadata: Metadata }).metadata
        : metadata
    const value = leaves[i++]
    return meta === undefined ? new OptArray(value) : new OptVariable(value, meta)
  }
  const go = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return variable(d, undefined)
      case "none":
        return d.value
      case "list":
        return d.children.map(go)
      case "record": {
        const out: Record<string, unknown> = {}
        d.keys.forEach((k, j) => setKey(out, k, go(d.children[j]!)))
        return out
      }
      case "custom": {
        if (isVariableNode(d.node.name)) return variable(d, undefined)
        if (d.node.name !== "State") return d.children.map(go)
        const root: Record<string, unknown> = {}
        const paths = d.aux as ReadonlyArray<Path>
        d.children.forEach((c, j) => {
          const path = paths[j]!
          let node = root
          for (let k = 0; k < path.length - 1; k++) {
            const key = String(path[k])
            if (!Object.hasOwn(node, key)) setKey(node, key, {})
            node = node[key] as Record<string, unknown>
          }
          setKey(node, String(path[path.length - 1]), variable(c, metadataAt(path) ?? {}))
        })
        return root
      }
    }
  }
  return go(def)
}

/** The `OptState` Variables of a graph form, in the order of the structure's leaves. */
const variablesOf = (def: TreeDef, form: unknown): Array<Variable<unknown>> => {
  const out: Array<Variable<unknown>> = []
  const at = (u: unknown, key: string | number): unknown => (u as Record<string | number, unknown>)[key]
  const go = (d: TreeDef, g: unknown): void => {
    switch (d.kind) {
      case "leaf":
        out.push(g as Variable<unknown>)
        return
      case "none":
        return
      case "list":
        d.children.forEach((c, k) => go(c, at(g, k)))
        return
      case "record":
        d.keys.forEach((k, j) => go(d.children[j]!, at(g, k)))
        return
      case "custom":
        if (isVariableNode(d.node.name)) {
          out.push(g as Variable<unknown>)
        } else if (d.node.name === "State") {
          const paths = d.aux as ReadonlyArray<Path>
          d.children.forEach((c, j) =>
            go(
              c,
              paths[j]!.reduce<unknown>((node, key) => at(node, String(key)), g)
            )
          )
        } else {
          d.children.forEach((c, k) => go(c, at(g, k)))
        }
    }
  }
  go(def, form)
  return out
}

const shapeString = (s: ReadonlyArray<number>): string => `[${s.join(", ")}]`

/** Options of {@link Optimizer}. */
export interface OptimizerOptions {
  /**
   * Which Variables the optimizer trains, as the filter given to `nnx.grad` (`nnx.Param` for the
   * default `nnx.grad`). Required, as in Flax 0.11 and later.
   */
  readonly wrt: Filter
}

/**
 * A model's optimizer, as Flax's `nnx.Optimizer(model, tx, wrt=...)`.
 *
 * @example
 * ```ts
 * import { jnp, nnx, optax } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   linear: nnx.Linear
 *   constructor(rngs: nnx.Rngs) {
 *     super()
 *     this.linear = new nnx.Linear(3, 1, { rngs })
 *   }
 *   call(x: jnp.Array): jnp.Array {
 *     return this.linear.call(x)
 *   }
 * }
 * const lossFn = (model: Model, x: jnp.Array, y: jnp.Array) => jnp.mean(jnp.square(model.call(x).sub(y)))
 * const model = new Model(new nnx.Rngs(0))
 * const [x, y] = [jnp.ones([8, 3]), jnp.zeros([8, 1])]
 *
 * const optimizer = new nnx.Optimizer(model, optax.adam(1e-3), { wrt: nnx.Param })
 * const trainStep = nnx.jit((model: Model, optimizer: nnx.Optimizer<Model>, x: jnp.Array, y: jnp.Array) => {
 *   const [loss, grads] = nnx.valueAndGrad(lossFn).sync(model, x, y)
 *   optimizer.update(model, grads)
 *   return loss
 * })
 * const loss = trainStep.sync(model, optimizer, x, y)
 * optimizer.step.value.item() // 1
 * ```
 * @category training
 * @since 0.2.0
 */
export class Optimizer<M extends Module = Module> extends Module {
  /** How many updates were applied (uint32, as Flax). */
  step: OptState<JArray>
  /** The optax transformation. */
  tx: GradientTransformation
  /** The filter of the Variables the optimizer trains. */
  wrt: Filter
  /** The transformation's state, its Arrays in `OptState` Variables. */
  optState: unknown
  /** The structure `optState` rebuilds into (static). */
  optStateStructure: OptStateStructure
  /** Type-level record of the model this optimizer was made for. */
  declare readonly "~model": M

  constructor(model: M, tx: GradientTransformation, options: OptimizerOptions) {
    super()
    if (options === undefined || options === null || !("wrt" in options) || options.wrt === undefined) {
      throw new GraphStructureError({
        path: undefined,
        reason:
          "nnx.Optimizer needs { wrt }, the filter of the Variables it trains (e.g. { wrt: nnx.Param }), as Flax requires since 0.11"
      })
    }
    const params = graphState(model, options.wrt) as State
    const pure = params.map((_, leaf) => (isVariable(leaf) ? (leaf.value as JArray) : leaf))
    const [leaves, def] = flatten(tx.init(pure))
    const metadata = new Map<string, Metadata>()
    params.toFlat().forEach(([path, leaf]) => {
      if (isVariable(leaf)) metadata.set(encodePath(path), leaf.metadata)
    })
    this.step = new OptState(zeros([], { dtype: "uint32" }))
    this.tx = tx
    this.wrt = options.wrt
    this.optStateStructure = new OptStateStructure(def)
    this.optState = toGraphForm(def, leaves, (path) => metadata.get(encodePath(path)))
  }

  /** The transformation's state as `tx.update` takes it (Arrays, not Variables). */
  get optStateTree(): unknown {
    return unflatten(
      this.optStateStructure.def,
      variablesOf(this.optStateStructure.def, this.optState).map((v) => v.value)
    )
  }

  /**
   * Applies one step: `tx.update` on `grads`, the updates added to `model`'s `wrt` Variables in
   * place, the new optimizer state stored and `step` incremented. Returns the updates (a State of
   * Arrays by the parameters' paths). Fails with `UpdateError` naming the path when `grads` does
   * not match the model's `wrt` state, changing nothing.
   */
  update(model: M, grads: State): State {
    const op = "Optimizer.update"
    const predicate = toPredicate(this.wrt)
    const params = graphState(model, this.wrt) as State
    if (!isState(grads)) {
      throw new UpdateError({
        path: [],
        reason: `${op}: grads must be a State (what nnx.grad returns for the model), got ${isArray(grads) ? "an Array" : typeof grads}`
      })
    }
    // As Flax, the gradients are narrowed to the optimizer's filter first (grads of more kinds are
    // fine); raw Array leaves have no kind and are kept.
    const gradLeaves = new Map<string, readonly [Path, unknown]>()
    for (const [path, leaf] of grads.toFlat()) {
      if (isVariable(leaf) && !predicate(path, leaf)) continue
      gradLeaves.set(encodePath(path), [path, isVariable(leaf) ? leaf.value : leaf])
    }
    const paramFlat = params.toFlat()
    const gradValues = paramFlat.map(([path, leaf]) => {
      const key = encodePath(path)
      const g = gradLeaves.get(key)
      if (g === undefined) {
        throw new UpdateError({
          path,
          reason: `${op}: grads have no gradient (compute them with nnx.grad for the Variables the optimizer's wrt filter selects) for the model's ${kindName(leaf)}`
        })
      }
      const value = g[1]
      const p = (isVariable(leaf) ? leaf.value : leaf) as JArray
      if (!isArray(value)) throw new UpdateError({ path, reason: `${op}: the gradient is not an Array` })
      if (value.ndim !== p.ndim || value.shape.some((n, k) => n !== p.shape[k])) {
        throw new UpdateError({
          path,
          reason: `${op}: the gradient has shape ${shapeString(value.shape)} where the parameter has ${shapeString(p.shape)}`
        })
      }
      gradLeaves.delete(key)
      return value
    })
    const extra = gradLeaves.values().next()
    if (extra.done !== true) {
      const path = extra.value[0]
      throw new UpdateError({
        path,
        reason: `${op}: grads have a gradient for a Variable the optimizer does not train (not in the model's wrt state)`
      })
    }
    const def = this.optStateStructure.def
    const vars = variablesOf(def, this.optState)
    // Every write below is checked first, so that a refusal (a closure-captured optimizer inside a
    // transform) comes before the model is changed.
    for (const v of [...vars, this.step]) {
      const e = mutationError(v, v.kind)
      if (e !== undefined) throw e
    }
    const pureParams = params.map((_, leaf) => (isVariable(leaf) ? (leaf.value as JArray) : leaf))
    let k = 0
    const pureGrads = params.map(() => gradValues[k++]!)
    const [updates, nextState] = this.tx.update(
      pureGrads,
      unflatten(
        def,
        vars.map((v) => v.value)
      ),
      pureParams
    )
    const newParams = applyUpdates(pureParams, updates)
    const [nextLeaves] = flatten(nextState)
    if (nextLeaves.length !== vars.length) {
      throw new UpdateError({
        path: ["optState"],
        reason: `${op}: the transformation's new state has ${nextLeaves.length} leaves where its init made ${vars.length}; a transformation must keep its state's structure`
      })
    }
    nextLeaves.forEach((leaf, i) => {
      const old = vars[i]!.value as JArray
      if (!isArray(leaf) || leaf.ndim !== old.ndim || leaf.shape.some((n, j) => n !== old.shape[j])) {
        throw new UpdateError({
          path: ["optState"],
          reason: `${op}: leaf ${i} of the transformation's new state is ${isArray(leaf) ? `of shape ${shapeString(leaf.shape)}` : String(leaf)} where its init made shape ${shapeString(old.shape)}`
        })
      }
    })
    let j = 0
    const newLeaves = newParams.leaves as ReadonlyArray<JArray>
    graphUpdate(
      model as never,
      params.map((_, leaf) => (isVariable(leaf) ? leaf.replace(newLeaves[j++]!) : newLeaves[j++]!))
    )
    vars.forEach((v, i) => (v.value = nextLeaves[i]))
    this.step.value = this.step.value.add(1)
    return updates as State
  }
}

const kindName = (leaf: unknown): string => (isVariable(leaf) ? leaf.kind : "Array")

/**
 * Whether `u` is an Optimizer.
 * @category guards
 * @since 0.2.0
 */
export const isOptimizer = (u: unknown): u is Optimizer => u instanceof Optimizer
