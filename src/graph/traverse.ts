/**
 * Whole-graph traversals that make a new graph or report on one: `map` (over the State's leaves),
 * `recursiveMap` (over every node, bottom-up) and `findDuplicates` (shared references), as Flax
 * 0.12.8's `nnx.map`, `nnx.recursive_map` and `nnx.find_duplicates`.
 *
 * None of them changes the graph it is given: `map` merges a new graph from the mapped State, and
 * `recursiveMap` rebuilds the containers (Modules, lists, records) around the values `f` returns.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { Filter } from "../filters/Filter.ts"
import { toPredicate } from "../filters/Filter.ts"
import { GraphStructureError } from "./errors.ts"
import { merge, split } from "./graph.ts"
import type { GraphNode } from "./graph.ts"
import { classify, containerKeys, createEmptyModule, defineAttribute } from "./node.ts"
import type { ModuleClass } from "./node.ts"
import type { Path, PathKey } from "./path.ts"
import { isState } from "./State.ts"
import type { State, StateLeaf } from "./State.ts"
import type { Variable } from "./Variable.ts"

/**
 * A new graph like `node` whose State leaves are `f(path, leaf)`: `nnx.split`, `State.map`, then
 * `nnx.merge`, so sharing is kept (a shared Variable is mapped once) and every Variable of the
 * result is new (as Flax's `merge(..., copy=True)` there). `f` sees each live Variable and returns
 * a Variable (`leaf.replace(value)`: the input is not written) or a bare Array, which keeps the
 * leaf's kind and metadata. A Variable alone maps to a Variable
 * (`f` sees it at the path `[]`).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const model = new nnx.Linear(2, 3, { rngs: new nnx.Rngs(0) })
 * const zeroed = nnx.map((_path, leaf) => jnp.zerosLike(nnx.isVariable(leaf) ? (leaf.value as jnp.Array) : leaf), model)
 * zeroed.kernel.value.tolist() // [[0, 0, 0], [0, 0, 0]]
 * zeroed.kernel === model.kernel // false: every Variable of the result is new
 * ```
 * @category graph
 * @since 0.2.0
 */
export const map = <N extends GraphNode | Variable<unknown>>(
  f: (path: Path, leaf: StateLeaf) => StateLeaf | JArray,
  node: N
): N => {
  const [graphdef, state] = split(node as GraphNode) as unknown as [Parameters<typeof merge>[0], State | StateLeaf]
  if (isState(state))
    return merge(
      graphdef,
      state.map((path, leaf) => f(path, leaf) as StateLeaf),
      { copy: true }
    ) as N
  return merge(graphdef, f([], state as StateLeaf) as StateLeaf, { copy: true }) as N
}

/**
 * Applies `f(path, node)` to every node of a graph, children before parents, and returns the graph
 * rebuilt from what `f` returns (Flax's `nnx.recursive_map`). `f` sees every attribute: Variables,
 * Arrays, static values, and each Module, list and record after its children were mapped (a new
 * copy holding the mapped children; the root last, at the path `[]`). Shared Modules and Variables
 * are visited once and stay shared in the result (lists and records, which have no identity, are
 * visited wherever they are); Variables that `f` returns unchanged are the
 * original objects, as Flax keeps them. The input is not changed. A cycle is a
 * `GraphStructureError`, as in Flax.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Identity extends nnx.Module {
 *   call(x: jnp.Array): jnp.Array {
 *     return x
 *   }
 * }
 * const rngs = new nnx.Rngs(0)
 * const model = new nnx.Sequential(new nnx.Linear(2, 2, { rngs }), new nnx.Dropout(0.5, { rngs }))
 * // every Dropout replaced by an Identity, wherever it is
 * const slim = nnx.recursiveMap((_path, n) => (n instanceof nnx.Dropout ? new Identity() : n), model)
 * slim.layers[1] instanceof Identity // true
 * ```
 * @category graph
 * @since 0.2.0
 */
export const recursiveMap = <N, R = N>(f: (path: Path, node: unknown) => unknown, node: N): R => {
  const results = new Map<object, unknown>()
  const inProgress = new Set<object>()
  const go = (path: Array<PathKey>, value: unknown): unknown => {
    const kind = classify(value)
    if (kind === "static" || kind === "array") return f(path, value)
    const obj = value as object
    if (results.has(obj)) return results.get(obj)
    if (kind === "variable") {
      const out = f(path, value)
      results.set(obj, out)
      return out
    }
    if (inProgress.has(obj)) {
      throw new GraphStructureError({
        path,
        reason: `Found cycle in the graph at path '${path.join("/")}': this ${kind === "module" ? "Module" : kind} is its own ancestor, so it cannot be rebuilt bottom-up`
      })
    }
    inProgress.add(obj)
    const copy: object =
      kind === "module"
        ? createEmptyModule((obj as { constructor: ModuleClass }).constructor)
        : kind === "list"
          ? []
          : (Object.create(Object.getPrototypeOf(obj) as object | null) as object)
    for (const key of containerKeys(obj, kind)) defineAttribute(copy, key, go([...path, key], Reflect.get(obj, key)))
    inProgress.delete(obj)
    const out = f(path, copy)
    // Lists and records have no identity (as everywhere in the graph): each place gets its own.
    if (kind === "module") results.set(obj, out)
    return out
  }
  return go([], node) as R
}

/**
 * The paths of every Module and Variable reached more than once in `node`'s graph, one list per
 * shared object, in traversal order (Flax's `nnx.find_duplicates`). Each list starts with the path
 * where the object was first reached; with `only`, later paths are listed only where the filter
 * selects the object (a Module is selected with a predicate, `(_, n) => n instanceof Block`), and
 * objects with a single listed path are left out.
 *
 * @example
 * ```ts
 * import { nnx } from "effect-nnx"
 *
 * class Autoencoder extends nnx.Module {
 *   encoder = new nnx.Linear(2, 2, { rngs: new nnx.Rngs(0) })
 *   decoder = new nnx.Linear(2, 2, { rngs: new nnx.Rngs(1) })
 * }
 * const model = new Autoencoder()
 * model.decoder.kernel = model.encoder.kernel // tied weights
 * nnx.findDuplicates(model) // [[["decoder", "kernel"], ["encoder", "kernel"]]]
 * ```
 * @category graph
 * @since 0.2.0
 */
export const findDuplicates = (node: unknown, options?: { readonly only?: Filter | undefined }): Array<Array<Path>> => {
  const candidate = toPredicate(options?.only ?? true)
  const paths = new Map<object, Array<Path>>()
  const open = new Set<object>()
  const go = (path: Array<PathKey>, value: unknown): void => {
    const kind = classify(value)
    if (kind === "static" || kind === "array") return
    const obj = value as object
    const seen = paths.get(obj)
    if (seen !== undefined) {
      if (candidate(path, value)) seen.push(path)
      return
    }
    if (kind === "variable" || kind === "module") paths.set(obj, [path])
    // Lists and records are not shared objects to Flax; only a cycle through them stops the walk.
    else if (open.has(obj)) return
    if (kind === "variable") return
    open.add(obj)
    for (const key of containerKeys(obj, kind)) go([...path, key], Reflect.get(obj, key))
    open.delete(obj)
  }
  go([], node)
  return [...paths.values()].filter((list) => list.length > 1)
}
