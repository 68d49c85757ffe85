/**
 * Graph operations: switching between live object graphs and their functional form, a static
 * `GraphDef` plus `State`s, as Flax's `nnx.split`/`merge`/`update`/`state`/`graphdef`/`clone`/
 * `pop`/`iter_graph`.
 *
 * Shared Modules and Variables appear once (at their first path in sorted order) and come back
 * shared; cycles through Modules work; static attributes live in the GraphDef. All operations are
 * iterative, so deep and large graphs are fine, and `update`/`pop` check everything before changing
 * anything, so a failure leaves the graph as it was.
 *
 * @since 0.1.0
 */
import type { Filter, KindOf } from "../filters/Filter.ts"
import { filtersToPredicates } from "../filters/Filter.ts"
import { GraphStructureError, MergeError, UpdateError } from "./errors.ts"
import { flatten, unflatten } from "./flatten.ts"
import type { GraphDef } from "./GraphDef.ts"
import { leafPaths } from "./GraphDef.ts"
import type { Module } from "./Module.ts"
import { classify, containerKeys, defineAttribute, isModule, typeName } from "./node.ts"
import type { Path, PathCons, PathKey } from "./path.ts"
import { comparePaths, consPath, consToArray, isHostileKey } from "./path.ts"
import type { StateLeaf, StatesOf } from "./State.ts"
import { nonExhaustive, partition, State } from "./State.ts"
import { mutationError } from "./traceState.ts"
import type { Metadata, Variable } from "./Variable.ts"
import { isVariable, isVariableState, setVariableState } from "./Variable.ts"

/**
 * What graph operations take: a Module (Rngs included), or a plain list or record of graph
 * values.
 * @category models
 * @since 0.1.0
 */
export type GraphNode = Module | ReadonlyArray<unknown> | { readonly [key: string]: unknown }

/** The States of `split`: one with no filters, else one per filter. */
type SplitStates<Fs extends ReadonlyArray<Filter>> = Fs extends readonly [] ? [State] : StatesOf<Variable<unknown>, Fs>

/** The result of `state`/`pop`: one State for no or one filter, a tuple for several. */
type Selected<Fs extends ReadonlyArray<Filter>> = Fs extends readonly [] ? State
  : Fs extends readonly [infer F] ? State<KindOf<F>>
  : StatesOf<Variable<unknown>, Fs>

const checkRoot = (op: string, node: unknown): void => {
  const k = classify(node)
  if (k !== "module" && k !== "list" && k !== "record") {
    throw new GraphStructureError({ path: undefined, reason: `${op} expects a Module, or a plain list or record of graph values, got ${k === "variable" ? "a Variable" : k === "array" ? "an Array" : typeof node}` })
  }
}

/**
 * Splits a graph into its GraphDef and State(s). With filters, the leaves are partitioned among
 * them (each leaf to the first filter selecting it) and every leaf must be selected: end with
 * `"..."` to collect the rest, otherwise `FilterError`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   w = new nnx.Param(jnp.ones([2]))
 *   count = new nnx.BatchStat(jnp.zeros([]))
 * }
 * const model = new Model()
 * const [graphdef, params, rest] = nnx.split(model, nnx.Param, "...")
 * const copy = nnx.merge(graphdef, params, rest) // a new Model
 * ```
 * @category graph
 * @since 0.1.0
 */
export const split = <N extends GraphNode, const Fs extends ReadonlyArray<Filter>>(
  node: N,
  ...filters: Fs
): [GraphDef<N>, ...SplitStates<Fs>] => {
  checkRoot("split", node)
  const { graphdef, paths, leaves } = flatten(node)
  const typed = leaves as ReadonlyArray<StateLeaf>
  if (filters.length === 0) return [graphdef, State.unsafeMake(paths, typed)] as unknown as [GraphDef<N>, ...SplitStates<Fs>]
  const { buckets, rest } = partition(paths, typed, filters)
  if (rest.length > 0) throw nonExhaustive(rest)
  return [graphdef, ...buckets.map(([ps, ls]) => State.unsafeMake(ps, ls))] as unknown as [GraphDef<N>, ...SplitStates<Fs>]
}

/**
 * Rebuilds a graph from a GraphDef and State(s) (the inverse of `split`): new Modules and
 * Variables, shared where the original was shared. The States together must hold exactly the
 * leaves the GraphDef needs, of the right kinds; otherwise `MergeError` names the path.
 * @category graph
 * @since 0.1.0
 */
export const merge = <N>(graphdef: GraphDef<N>, state: State, ...states: ReadonlyArray<State>): N => {
  const all = states.length === 0 ? state : State.merge(state, ...states)
  const expected = leafPaths(graphdef)
  const leaves = new Array<unknown>(expected.length)
  let j = 0
  for (let i = 0; i < expected.length; i++) {
    const path = expected[i]!
    if (j < all.size && comparePaths(all.paths[j]!, path) < 0) {
      throw new MergeError({ path: all.paths[j]!, reason: "the state has a leaf the GraphDef does not expect" })
    }
    if (j >= all.size || comparePaths(all.paths[j]!, path) !== 0) {
      throw new MergeError({ path, reason: "the state has no leaf here, but the GraphDef needs one" })
    }
    leaves[i] = all.leaves[j++]
  }
  if (j < all.size) throw new MergeError({ path: all.paths[j]!, reason: "the state has a leaf the GraphDef does not expect" })
  return unflatten(graphdef, leaves)
}

/**
 * The GraphDef of a graph.
 * @category graph
 * @since 0.1.0
 */
export const graphdef = <N extends GraphNode | Variable<unknown>>(node: N): GraphDef<N> => flatten(node).graphdef

/**
 * The State of a graph: all of it, or for each filter the leaves it selects (each leaf to the
 * first filter selecting it; unlike `split`, leaves no filter selects are left out). One filter
 * gives a State (`nnx.state(m, nnx.Param)` is a `State<Param>`), several a tuple.
 * @category graph
 * @since 0.1.0
 */
export const state = <const Fs extends ReadonlyArray<Filter>>(node: GraphNode, ...filters: Fs): Selected<Fs> => {
  checkRoot("state", node)
  const { paths, leaves } = flatten(node)
  const typed = leaves as ReadonlyArray<StateLeaf>
  if (filters.length === 0) return State.unsafeMake(paths, typed) as Selected<Fs>
  const states = partition(paths, typed, filters).buckets.map(([ps, ls]) => State.unsafeMake(ps, ls))
  return (filters.length === 1 ? states[0] : states) as unknown as Selected<Fs>
}

/**
 * A deep copy of a graph: new Modules and Variables holding the same (immutable) arrays, with the
 * same sharing and cycles.
 * @category graph
 * @since 0.1.0
 */
export const clone = <N extends GraphNode | Variable<unknown>>(node: N): N => {
  const { graphdef, leaves } = flatten(node)
  return unflatten(graphdef, leaves)
}

type Action =
  | { readonly _tag: "Variable"; readonly variable: Variable<unknown>; readonly value: unknown; readonly metadata: Metadata | undefined }
  | { readonly _tag: "Attribute"; readonly obj: object; readonly key: PathKey; readonly value: unknown }

const liveValue = (leaf: unknown): unknown => (isVariableState(leaf) ? leaf.toVariable() : leaf)

const hasKey = (obj: object, key: PathKey): boolean =>
  Array.isArray(obj) ? typeof key === "number" && key < obj.length : Object.hasOwn(obj, String(key))

/**
 * Writes State(s) into a live graph, in place: a Variable at a path gets the leaf's value and
 * metadata, other attributes are replaced, and paths the graph does not have are added (new
 * Variables, inside new records where whole subtrees are missing), as Flax's `nnx.update`. Checks
 * everything first (shape of the graph, unsafe keys, trace levels) and fails with `UpdateError`
 * (or `TraceContextError`) without changing anything.
 * @category graph
 * @since 0.1.0
 */
export const update = (node: GraphNode, state: State, ...states: ReadonlyArray<State>): void => {
  checkRoot("update", node)
  const all = states.length === 0 ? state : State.merge(state, ...states)
  const actions: Array<Action> = []
  // Records made for missing subtrees: filled directly (they are not in the graph yet) and
  // attached by one action each.
  const created = new Map<object, Map<PathKey, object>>()
  const detached = new Set<object>()
  const checked = new Set<object>()
  const checkWritable = (obj: object, path: () => Path): void => {
    if (checked.has(obj) || detached.has(obj)) return
    checked.add(obj)
    if (isModule(obj) || isVariable(obj)) {
      const e = mutationError(obj, typeName(obj))
      if (e !== undefined) throw e
    }
    if (Object.isFrozen(obj)) throw new UpdateError({ path: path(), reason: `the ${typeName(obj)} here is frozen` })
  }

  for (let i = 0; i < all.size; i++) {
    const path = all.paths[i]!
    const leaf = all.leaves[i]!
    let cur: object = node
    for (let d = 0; d < path.length; d++) {
      const key = path[d]!
      // The path so far, for messages; made only where needed.
      const here = (): Path => path.slice(0, d + 1)
      if (isHostileKey(key)) throw new UpdateError({ path: here(), reason: `refusing the key '${key}', which would reach JavaScript's prototype machinery` })
      const last = d === path.length - 1
      if (detached.has(cur)) {
        if (last) defineAttribute(cur, key, liveValue(leaf))
        else {
          let next = Object.hasOwn(cur, String(key)) ? Reflect.get(cur, key) : undefined
          if (next === undefined) {
            next = {}
            detached.add(next)
            defineAttribute(cur, key, next)
          }
          cur = next
        }
        continue
      }
      if (!hasKey(cur, key)) {
        if (Array.isArray(cur) && typeof key !== "number") throw new UpdateError({ path: here(), reason: "a list has no key that is not an index" })
        checkWritable(cur, here)
        if (last) {
          actions.push({ _tag: "Attribute", obj: cur, key, value: liveValue(leaf) })
        } else {
          let byKey = created.get(cur)
          if (byKey === undefined) created.set(cur, (byKey = new Map()))
          let rec = byKey.get(key)
          if (rec === undefined) {
            rec = {}
            byKey.set(key, rec)
            detached.add(rec)
            actions.push({ _tag: "Attribute", obj: cur, key, value: rec })
          }
          cur = rec
        }
        continue
      }
      const child: unknown = Reflect.get(cur, key)
      const kind = classify(child)
      if (last) {
        if (kind === "variable") {
          const v = child as Variable<unknown>
          checkWritable(v, here)
          actions.push(isVariableState(leaf)
            ? { _tag: "Variable", variable: v, value: leaf.value, metadata: leaf.metadata }
            : { _tag: "Variable", variable: v, value: leaf, metadata: undefined })
        } else if (kind === "module" || kind === "list" || kind === "record") {
          throw new UpdateError({ path: here(), reason: `the state has a leaf here, but the graph has a subgraph (${typeName(child as object)}); expected a subtree` })
        } else {
          checkWritable(cur, here)
          actions.push({ _tag: "Attribute", obj: cur, key, value: liveValue(leaf) })
        }
      } else {
        if (kind !== "module" && kind !== "list" && kind !== "record") {
          throw new UpdateError({ path: here(), reason: `the state has a subtree here, but the graph has a leaf (${kind === "variable" ? typeName(child as object) : kind})` })
        }
        cur = child as object
      }
    }
  }

  for (const a of actions) {
    if (a._tag === "Variable") setVariableState(a.variable, a.value, a.metadata)
    else if (Array.isArray(a.obj)) a.obj[a.key as number] = a.value
    else defineAttribute(a.obj, a.key, a.value)
  }
}

/**
 * Removes the Variables (and directly held Arrays) that filters select from a graph and returns
 * them, one State per filter (a State for one filter, a tuple for several), as Flax's `nnx.pop`. A
 * shared Variable is removed from every place that holds it and reported at its first path. Fails
 * with `UpdateError` without changing anything if a selected value sits in a list (lists cannot
 * lose elements without renumbering).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   w = new nnx.Param(jnp.ones([2]))
 *   i?: nnx.Intermediate<jnp.Array>
 * }
 * const m = new Model()
 * m.i = new nnx.Intermediate(jnp.zeros([2]))
 * const sown = nnx.pop(m, nnx.Intermediate) // State<Intermediate>; m.i is gone
 * ```
 * @category graph
 * @since 0.1.0
 */
export const pop = <const Fs extends readonly [Filter, ...Array<Filter>]>(node: GraphNode, ...filters: Fs): Selected<Fs> => {
  checkRoot("pop", node)
  const predicates = filtersToPredicates(filters)
  const buckets = predicates.map((): [Array<Path>, Array<StateLeaf>] => [[], []])
  const removals: Array<readonly [object, PathKey, PathCons]> = []
  const popped = new Set<object>()
  const visited = new Set<object>()
  const stack: Array<readonly [object, PathCons | undefined]> = [[node, undefined]]
  visited.add(node)
  while (stack.length > 0) {
    const [obj, path] = stack.pop()!
    const kind = classify(obj)
    if (kind !== "module" && kind !== "list" && kind !== "record") continue
    const keys = containerKeys(obj, kind)
    // Children are pushed in reverse so they are visited in sorted order (first paths first).
    const children: Array<readonly [object, PathCons]> = []
    for (const key of keys) {
      const child: unknown = Reflect.get(obj, key)
      const ck = classify(child)
      const childPath = consPath(path, key)
      if (ck === "variable" || ck === "array") {
        if (ck === "variable" && popped.has(child as object)) {
          removals.push([obj, key, childPath])
          continue
        }
        const leaf: StateLeaf = ck === "variable" ? (child as Variable<unknown>).toState() : (child as StateLeaf)
        const fullPath = consToArray(childPath)
        const j = predicates.findIndex((p) => p(fullPath, leaf))
        if (j < 0) continue
        if (ck === "variable") popped.add(child as object)
        buckets[j]![0].push(fullPath)
        buckets[j]![1].push(leaf)
        removals.push([obj, key, childPath])
      } else if ((ck === "module" || ck === "list" || ck === "record") && !visited.has(child as object)) {
        visited.add(child as object)
        children.push([child as object, childPath])
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!)
  }
  for (const [obj, , path] of removals) {
    if (Array.isArray(obj)) throw new UpdateError({ path: consToArray(path), reason: "cannot pop a value held in a list (it would renumber the list); hold it in a Module or record" })
    if (isModule(obj)) {
      const e = mutationError(obj, typeName(obj))
      if (e !== undefined) throw e
    }
  }
  for (const [obj, key] of removals) Reflect.deleteProperty(obj, key)
  const states = buckets.map(([ps, ls]) => State.fromFlat(ps.map((p, i) => [p, ls[i]!] as const)))
  return (filters.length === 1 ? states[0] : states) as unknown as Selected<Fs>
}

/**
 * Every value in a graph with its path, depth-first in sorted key order, each shared object once,
 * children before the object holding them (so the root comes last), static values included, as
 * Flax's `nnx.iter_graph`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Linear extends nnx.Module {
 *   din = 2
 *   w = new nnx.Param(jnp.ones([2]))
 * }
 * const m = new Linear()
 * for (const [path, value] of nnx.iterGraph([m, m])) console.log(path, value)
 * // [0, "din"] 2, [0, "w"] Param, [0] Linear, [] list
 * ```
 * @category graph
 * @since 0.1.0
 */
export function* iterGraph(node: unknown): Generator<readonly [Path, unknown], void, undefined> {
  const visited = new Set<object>()
  // Paths share their prefixes while on the stack and become arrays only when yielded.
  const stack: Array<readonly [PathCons | undefined, unknown, boolean]> = [[undefined, node, false]]
  while (stack.length > 0) {
    const [path, value, traversed] = stack.pop()!
    const kind = classify(value)
    if (traversed || kind === "static" || kind === "array") {
      yield [consToArray(path), value]
      continue
    }
    const obj = value as object
    if (visited.has(obj)) continue
    visited.add(obj)
    if (kind === "variable") {
      yield [consToArray(path), value]
      continue
    }
    stack.push([path, value, true])
    const keys = containerKeys(obj, kind)
    for (let i = keys.length - 1; i >= 0; i--) stack.push([consPath(path, keys[i]!), Reflect.get(obj, keys[i]!), false])
  }
}
