/**
 * Graph operations: switching between live object graphs and their functional form, a static
 * `GraphDef` plus `State`s, as Flax's `nnx.split`/`merge`/`update`/`state`/`graphdef`/`clone`/
 * `pop`/`iter_graph`.
 *
 * Shared Modules and Variables appear once (at their first path in sorted order) and come back
 * shared; cycles through Modules work; static attributes live in the GraphDef. All operations are
 * iterative, and `split`/`merge`/`update`/`state`/`graphdef` take time and memory linear in the
 * graph's size however deep it is: leaf paths share their prefixes, and `merge`/`update` follow the
 * State as a tree alongside the graph rather than comparing whole paths. `update`/`pop` check
 * everything before changing anything, so a failure leaves the graph as it was.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import type { Filter, KindOf } from "../filters/Filter.ts"
import { filtersToPredicates } from "../filters/Filter.ts"
import { GraphStructureError, MergeError, UpdateError } from "./errors.ts"
import { describeValue, flatten, isGraphRoot, unflatten } from "./flatten.ts"
import type { GraphDef } from "./GraphDef.ts"
import { walkGraphDef } from "./GraphDef.ts"
import type { Module } from "./Module.ts"
import { classify, containerKeys, defineAttribute, isModule, isRecord, typeName } from "./node.ts"
import type { Path, PathCons, PathKey } from "./path.ts"
import { compareKeys, consPath, consToArray, isHostileKey } from "./path.ts"
import type { StateLeaf, StateOf, StatesFor } from "./State.ts"
import { isState, nonExhaustive, partition, State } from "./State.ts"
import { mutationError } from "./traceState.ts"
import type { Metadata, Variable } from "./Variable.ts"
import { isVariable, isVariableState, rawValue, setVariableState } from "./Variable.ts"

/**
 * What graph operations take: a Module (Rngs included), or a plain list or record of graph
 * values.
 * @category models
 * @since 0.1.0
 */
export type GraphNode = Module | ReadonlyArray<unknown> | { readonly [key: string]: unknown }

/** The States of `split`: one with no filters, else one per filter, typed by the node's fields. */
type SplitStates<N, Fs extends ReadonlyArray<Filter>> = Fs extends readonly [] ? [StateOf<N>] : StatesFor<N, Fs>

/** The result of `state`/`pop`: one State for no or one filter, a tuple for several. */
type Selected<N, Fs extends ReadonlyArray<Filter>> = Fs extends readonly []
  ? StateOf<N>
  : Fs extends readonly [infer F]
    ? StateOf<N, KindOf<F>>
    : StatesFor<N, Fs>

const checkRoot = (op: string, node: unknown): void => {
  const k = classify(node)
  if (k !== "module" && k !== "list" && k !== "record") {
    throw new GraphStructureError({
      path: undefined,
      reason: `${op} expects a Module, or a plain list or record of graph values, got ${k === "variable" ? "a Variable" : k === "array" ? "an Array" : typeof node}`
    })
  }
}

/**
 * A State (or a pure record) as a tree of keys, built in time linear in its size, so that `merge`
 * and `update` follow it alongside the graph instead of comparing a full path per leaf (which is
 * quadratic in the depth).
 */
interface Trie {
  readonly parent: Trie | undefined
  readonly key: PathKey | undefined
  children: Map<PathKey, Trie> | undefined
  hasLeaf: boolean
  leaf: unknown
  used: boolean
}

const trieNode = (parent: Trie | undefined, key: PathKey | undefined): Trie => {
  const t: Trie = { parent, key, children: undefined, hasLeaf: false, leaf: undefined, used: false }
  if (parent !== undefined && key !== undefined) (parent.children ??= new Map()).set(key, t)
  return t
}

const triePath = (t: Trie): Array<PathKey> => {
  const out: Array<PathKey> = []
  for (let q: Trie | undefined = t; q !== undefined && q.key !== undefined; q = q.parent) out.push(q.key)
  return out.reverse()
}

/** The child at a graph key; a pure record spells list indices as strings. */
const trieChild = (t: Trie | undefined, key: PathKey): Trie | undefined =>
  t?.children?.get(key) ?? (typeof key === "number" ? t?.children?.get(String(key)) : undefined)

/** Builds the trie of a State, returning it and its leaf nodes in State order. */
const trieOfState = (state: State): readonly [Trie, Array<Trie>] => {
  const root = trieNode(undefined, undefined)
  const leaves: Array<Trie> = []
  const cons = state.pathCons
  if (cons !== undefined) {
    // Shared prefixes map to shared nodes: each PathCons is visited once.
    const made = new Map<PathCons, Trie>()
    const pending: Array<PathCons> = []
    for (let i = 0; i < cons.length; i++) {
      let c: PathCons | undefined = cons[i]!
      let at: Trie = root
      while (c !== undefined) {
        const known = made.get(c)
        if (known !== undefined) {
          at = known
          break
        }
        pending.push(c)
        c = c.parent
      }
      while (pending.length > 0) {
        const p = pending.pop()!
        at = trieNode(at, p.key)
        made.set(p, at)
      }
      at.hasLeaf = true
      at.leaf = state.leaves[i]
      leaves.push(at)
    }
    return [root, leaves]
  }
  const paths = state.paths
  for (let i = 0; i < paths.length; i++) {
    let at = root
    for (const key of paths[i]!) at = at.children?.get(key) ?? trieNode(at, key)
    at.hasLeaf = true
    at.leaf = state.leaves[i]
    leaves.push(at)
  }
  return [root, leaves]
}

const isPureLeaf = (u: unknown): boolean => isArray(u) || isVariable(u)

/** A pure record or list: what `update`/`merge` take besides States. */
const isPureNode = (u: unknown): u is object => isRecord(u) || Array.isArray(u)

/**
 * Builds the trie of a pure record (nested plain records, and lists, whose leaves are Arrays or
 * Variables, as `toPureDict` makes, Flax's `nnx.update`/`nnx.merge` accept, and `nnx.grad` returns
 * for a list or record of Variables). `bad` makes the error for any other value.
 */
const trieOfRecord = (record: object, bad: (path: Path, what: string) => Error): readonly [Trie, Array<Trie>] => {
  const root = trieNode(undefined, undefined)
  const leaves: Array<Trie> = []
  const stack: Array<readonly [object, Trie]> = [[record, root]]
  const onStack = new Set<object>([record])
  while (stack.length > 0) {
    const [rec, at] = stack.pop()!
    const keys: ReadonlyArray<PathKey> = Array.isArray(rec) ? rec.map((_, i) => i) : Object.keys(rec).sort(compareKeys)
    for (const key of keys) {
      const value: unknown = Reflect.get(rec, key)
      const t = trieNode(at, key)
      if (isPureNode(value)) {
        if (onStack.has(value)) throw bad(triePath(t), "a record that contains itself")
        onStack.add(value)
        stack.push([value, t])
      } else if (isPureLeaf(value)) {
        t.hasLeaf = true
        t.leaf = value
        leaves.push(t)
      } else {
        throw bad(
          triePath(t),
          `${describeValue(value)}; a pure record holds nested records whose leaves are Arrays or Variables`
        )
      }
    }
  }
  return [root, leaves]
}

/**
 * Splits a graph into its GraphDef and State(s). With filters, the leaves are partitioned among
 * them (each leaf to the first filter selecting it) and every leaf must be selected: end with
 * `"..."` to collect the rest, otherwise `FilterError`.
 *
 * As in Flax 0.12, the States hold the graph's live Variables: `nnx.split(m)[1].get("w") === m.w`,
 * so writing a leaf's value writes the Module's. `merge` builds a graph around the same Variables.
 *
 * A value that is not a graph node (a Variable, an Array, any other value) splits, as in Flax,
 * into a GraphDef and the value itself as its one leaf; `merge` rebuilds it.
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
 * params.get("w") === model.w // true: the State holds the live Variables
 * const same = nnx.merge(graphdef, params, rest) // a new Model around the same Variables
 * same.w === model.w // true
 * const copy = nnx.merge(graphdef, params, rest, { copy: true }) // new Variables too
 * copy.w === model.w // false
 *
 * const [vdef, leaf] = nnx.split(new nnx.Param(jnp.ones([2]))) // leaf: the Param itself
 * nnx.merge(vdef, leaf, { copy: true }) // a new Param
 * ```
 * @category graph
 * @since 0.1.0
 */
export function split<V extends Variable<unknown>>(node: V): [GraphDef<V>, V]
export function split<A extends JArray>(node: A): [GraphDef<A>, A]
export function split<N extends GraphNode, const Fs extends ReadonlyArray<Filter>>(
  node: N,
  ...filters: Fs
): [GraphDef<N>, ...SplitStates<N, Fs>]
export function split(node: unknown, ...filters: ReadonlyArray<Filter>): Array<unknown> {
  const { graphdef, pathCons, leaves } = flatten(node, { live: true })
  if (!isGraphRoot(node)) {
    const leaf = leaves[0]
    if (filters.length === 0) return [graphdef, leaf]
    const j = filtersToPredicates(filters).findIndex((p) => p([], leaf))
    if (j < 0) throw nonExhaustive([[]])
    return [graphdef, ...filters.map((_, k) => (k === j ? leaf : State.empty()))]
  }
  const typed = leaves as ReadonlyArray<StateLeaf>
  const all = State.unsafeFromCons(pathCons as ReadonlyArray<PathCons>, typed)
  if (filters.length === 0) return [graphdef, all]
  const { buckets, rest } = partition(all.paths, typed, filters)
  if (rest.length > 0) throw nonExhaustive(rest)
  return [graphdef, ...buckets.map(([ps, ls]) => State.unsafeMake(ps, ls))]
}

/**
 * What `merge` and `update` take besides States: a pure record (nested plain records and lists
 * whose leaves are Arrays or Variables, as `State.toPureDict` makes, or as `nnx.grad` returns for
 * a list or record of Variables).
 * @category models
 * @since 0.1.0
 */
export type PureRecord = { readonly [key: string]: unknown } | ReadonlyArray<unknown>

/**
 * Options of `merge`, given after the States: `copy` makes new Variables (with the States' values
 * and metadata) instead of using the States' own, as Flax's `merge(..., copy=True)`.
 * @category models
 * @since 0.1.0
 */
export interface MergeOptions {
  readonly copy?: boolean
}

const isMergeOptions = (u: unknown): u is MergeOptions =>
  isRecord(u) &&
  !isState(u) &&
  Object.keys(u).length > 0 &&
  Object.keys(u).every((k) => k === "copy") &&
  typeof Reflect.get(u, "copy") === "boolean"

/**
 * Rebuilds a graph from a GraphDef and State(s) (the inverse of `split`): new Modules, shared
 * where the original was shared, around the States' own Variables as Flax 0.12 does (merging the
 * same State twice gives two graphs sharing their Variables); `{ copy: true }` as the last
 * argument makes new Variables instead. The States together must hold exactly the leaves the
 * GraphDef needs, of the right kinds; otherwise `MergeError` names the path.
 *
 * As in Flax, the state may also be a pure record (`state.toPureDict()`: raw values take the
 * GraphDef's kinds and metadata), and the GraphDef of a split Variable or Array takes its one leaf.
 * A GraphDef with no leaves needs no state; one with leaves and no state is a `MergeError` naming
 * the first leaf it needs (Flax raises a `TypeError` for the missing argument).
 * @category graph
 * @since 0.1.0
 */
export function merge<N>(
  graphdef: GraphDef<N>,
  state?: State | PureRecord | StateLeaf | Variable<unknown>,
  ...states: ReadonlyArray<State>
): N
export function merge<N>(
  graphdef: GraphDef<N>,
  state: State | PureRecord | StateLeaf | Variable<unknown>,
  ...rest: [...ReadonlyArray<State>, MergeOptions]
): N
export function merge<N>(graphdef: GraphDef<N>, ...args: ReadonlyArray<unknown>): N {
  const last = args.length > 1 ? args[args.length - 1] : undefined
  const options = isMergeOptions(last) ? last : undefined
  const given = options === undefined ? args : args.slice(0, -1)
  const state = given[0] as State | PureRecord | StateLeaf | Variable<unknown> | undefined
  const states = given.slice(1) as ReadonlyArray<State>
  const copy = options?.copy === true
  const root = graphdef.nodes[0]
  if (root === undefined || root._tag === "VariableDef") {
    if (state === undefined)
      throw new MergeError({
        path: [],
        reason: "the GraphDef is of a single leaf; pass it (the second value of split) as the state"
      })
    if (isState(state) || states.length > 0)
      throw new MergeError({
        path: [],
        reason: "the GraphDef is of a single leaf; pass the leaf itself (the second value of split), not States"
      })
    return unflatten(graphdef, [state], { copy })
  }
  let trie: Trie
  let trieLeaves: Array<Trie>
  if (state === undefined) [trie, trieLeaves] = trieOfState(State.empty())
  else if (isState(state)) [trie, trieLeaves] = trieOfState(states.length === 0 ? state : State.merge(state, ...states))
  else if (isPureNode(state) && states.length === 0)
    [trie, trieLeaves] = trieOfRecord(state, (path, what) => new MergeError({ path, reason: `the state has ${what}` }))
  else
    throw new MergeError({
      path: undefined,
      reason: `merge takes States or one pure record after the GraphDef, got ${describeValue(state)}${states.length > 0 ? " and more" : ""}`
    })
  const leaves: Array<unknown> = []
  const error = walkGraphDef<Trie | undefined>(
    graphdef,
    (path, _def, parent, key) => {
      const t = key === undefined ? parent : trieChild(parent, key)
      if (t === undefined)
        throw new MergeError({ path: path(), reason: "the state has no leaf here, but the GraphDef needs one" })
      if (!t.hasLeaf)
        throw new MergeError({ path: path(), reason: "the state has a subtree here, but the GraphDef needs a leaf" })
      t.used = true
      leaves.push(t.leaf)
    },
    trie,
    (parent, key) => trieChild(parent, key)
  )
  if (error !== undefined) throw new MergeError({ path: undefined, reason: `malformed GraphDef: ${error}` })
  if (leaves.length !== trieLeaves.length) {
    const extra = trieLeaves.find((t) => !t.used)
    if (extra !== undefined)
      throw new MergeError({ path: triePath(extra), reason: "the state has a leaf the GraphDef does not expect" })
  }
  return unflatten(graphdef, leaves, { copy })
}

/**
 * The GraphDef of a graph (of any value, as `split`).
 * @category graph
 * @since 0.1.0
 */
export const graphdef = <N>(node: N): GraphDef<N> => flatten(node).graphdef

/**
 * The State of a graph: all of it, or for each filter the leaves it selects (each leaf to the
 * first filter selecting it; unlike `split`, leaves no filter selects are left out). One filter
 * gives a State (`nnx.state(m, nnx.Param)` is a `State<Param>`), several a tuple. The States hold
 * the live Variables, as in Flax 0.12.
 * @category graph
 * @since 0.1.0
 */
export const state = <N extends GraphNode, const Fs extends ReadonlyArray<Filter>>(
  node: N,
  ...filters: Fs
): Selected<N, Fs> => {
  checkRoot("state", node)
  const { pathCons, leaves } = flatten(node, { live: true })
  const typed = leaves as ReadonlyArray<StateLeaf>
  const all = State.unsafeFromCons(pathCons as ReadonlyArray<PathCons>, typed)
  if (filters.length === 0) return all as unknown as Selected<N, Fs>
  const states = partition(all.paths, typed, filters).buckets.map(([ps, ls]) => State.unsafeMake(ps, ls))
  return (filters.length === 1 ? states[0] : states) as unknown as Selected<N, Fs>
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
  | {
      readonly _tag: "Variable"
      readonly variable: Variable<unknown>
      readonly value: unknown
      readonly metadata: Metadata | undefined
    }
  | { readonly _tag: "Attribute"; readonly obj: object; readonly key: PathKey; readonly value: unknown }

/** What an added attribute holds: a copy of a Variable (as Flax's `update` adds it), or the value. */
const liveValue = (leaf: unknown): unknown =>
  isVariable(leaf) ? leaf.copy() : isVariableState(leaf) ? leaf.toVariable() : leaf

const hasKey = (obj: object, key: PathKey): boolean =>
  Array.isArray(obj) ? typeof key === "number" && key < obj.length : Object.hasOwn(obj, String(key))

const INDEX = /^(0|[1-9]\d*)$/

/**
 * Writes State(s) into a live graph, in place: a Variable at a path gets the leaf's value and
 * metadata, other attributes are replaced, and paths the graph does not have are added (new
 * Variables, inside new records where whole subtrees are missing), as Flax's `nnx.update`. Checks
 * everything first (shape of the graph, unsafe keys, trace levels) and fails with `UpdateError`
 * (or `TraceContextError`) without changing anything.
 *
 * As in Flax, the state may also be a pure record: nested plain records whose leaves are Arrays
 * (written as values) or Variables (value and metadata), e.g.
 * `nnx.update(model, { linear: { kernel: jnp.ones([2, 3]) } })`; list indices may be spelled as
 * strings, as `toPureDict` does. Any other leaf is an `UpdateError`.
 * @category graph
 * @since 0.1.0
 */
export const update = (node: GraphNode, state: State | PureRecord, ...states: ReadonlyArray<State>): void => {
  checkRoot("update", node)
  let trie: Trie
  if (isState(state)) [trie] = trieOfState(states.length === 0 ? state : State.merge(state, ...states))
  else if (isPureNode(state) && states.length === 0)
    [trie] = trieOfRecord(state, (path, what) => new UpdateError({ path, reason: `the state has ${what}` }))
  else
    throw new UpdateError({
      path: [],
      reason: `update takes States or one pure record after the graph, got ${describeValue(state)}${states.length > 0 ? " and more" : ""}`
    })
  const actions: Array<Action> = []
  const checked = new Set<object>()
  const checkWritable = (obj: object, path: () => Path): void => {
    if (checked.has(obj)) return
    checked.add(obj)
    if (isModule(obj) || isVariable(obj)) {
      const e = mutationError(obj, typeName(obj))
      if (e !== undefined) throw e
    }
    if (Object.isFrozen(obj)) throw new UpdateError({ path: path(), reason: `the ${typeName(obj)} here is frozen` })
  }

  // Each trie node is visited once, with the graph object at its path (or a new record for a
  // subtree the graph lacks: `detached`, filled directly and attached by one action).
  const stack: Array<readonly [Trie, object, PathCons | undefined, boolean]> = [[trie, node, undefined, false]]
  while (stack.length > 0) {
    const [t, cur, cons, detached] = stack.pop()!
    if (t.children === undefined) continue
    for (const [rawKey, child] of t.children) {
      const key: PathKey =
        Array.isArray(cur) && typeof rawKey === "string" && INDEX.test(rawKey) ? Number(rawKey) : rawKey
      const here = (): Path => consToArray(consPath(cons, key))
      if (isHostileKey(key))
        throw new UpdateError({
          path: here(),
          reason: `refusing the key '${key}', which would reach JavaScript's prototype machinery`
        })
      const last = child.hasLeaf
      const leaf = child.leaf
      if (detached) {
        if (last) defineAttribute(cur, key, liveValue(leaf))
        else {
          const rec = {}
          defineAttribute(cur, key, rec)
          stack.push([child, rec, consPath(cons, key), true])
        }
        continue
      }
      if (!hasKey(cur, key)) {
        if (Array.isArray(cur) && typeof key !== "number")
          throw new UpdateError({ path: here(), reason: "a list has no key that is not an index" })
        checkWritable(cur, here)
        if (last) {
          actions.push({ _tag: "Attribute", obj: cur, key, value: liveValue(leaf) })
        } else {
          const rec = {}
          actions.push({ _tag: "Attribute", obj: cur, key, value: rec })
          stack.push([child, rec, consPath(cons, key), true])
        }
        continue
      }
      const value: unknown = Reflect.get(cur, key)
      const kind = classify(value)
      if (last) {
        if (kind === "variable") {
          const v = value as Variable<unknown>
          if (leaf !== v) {
            checkWritable(v, here)
            actions.push(
              isVariable(leaf)
                ? { _tag: "Variable", variable: v, value: rawValue(leaf), metadata: leaf.metadata }
                : isVariableState(leaf)
                  ? { _tag: "Variable", variable: v, value: leaf.value, metadata: leaf.metadata }
                  : { _tag: "Variable", variable: v, value: leaf, metadata: undefined }
            )
          }
        } else if (kind === "module" || kind === "list" || kind === "record") {
          throw new UpdateError({
            path: here(),
            reason: `the state has a leaf here, but the graph has a subgraph (${typeName(value as object)}); expected a subtree`
          })
        } else {
          checkWritable(cur, here)
          actions.push({ _tag: "Attribute", obj: cur, key, value: liveValue(leaf) })
        }
      } else {
        if (kind !== "module" && kind !== "list" && kind !== "record") {
          throw new UpdateError({
            path: here(),
            reason: `the state has a subtree here, but the graph has a leaf (${kind === "variable" ? typeName(value as object) : kind})`
          })
        }
        stack.push([child, value as object, consPath(cons, key), false])
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
export const pop = <N extends GraphNode, const Fs extends readonly [Filter, ...Array<Filter>]>(
  node: N,
  ...filters: Fs
): Selected<N, Fs> => {
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
        const leaf = child as StateLeaf
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
    if (Array.isArray(obj))
      throw new UpdateError({
        path: consToArray(path),
        reason: "cannot pop a value held in a list (it would renumber the list); hold it in a Module or record"
      })
    if (isModule(obj)) {
      const e = mutationError(obj, typeName(obj))
      if (e !== undefined) throw e
    }
  }
  for (const [obj, key] of removals) Reflect.deleteProperty(obj, key)
  const states = buckets.map(([ps, ls]) => State.fromFlat(ps.map((p, i) => [p, ls[i]!] as const)))
  return (filters.length === 1 ? states[0] : states) as unknown as Selected<N, Fs>
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
 * for (const [path, value] of nnx.iterGraph([m, m])) console.log(path, value instanceof Object ? value.constructor.name : value)
 * // [0, "din"] 2
 * // [0, "w"] Param
 * // [0] Linear
 * // [] Array
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

/**
 * Every Module in a graph with its path (the root's is `[]`), each shared Module once, children
 * before the Module holding them, as Flax's `nnx.iter_modules`. `nnx.List` and `nnx.Dict` are
 * Modules and are listed too.
 *
 * @example
 * ```ts
 * import { nnx } from "effect-nnx"
 *
 * class Block extends nnx.Module {
 *   lin = new nnx.Linear(2, 3, { rngs: new nnx.Rngs(0) })
 * }
 * for (const [path, m] of nnx.iterModules(new Block())) console.log(path, m.constructor.name)
 * // ["lin"] Linear
 * // [] Block
 * ```
 * @category graph
 * @since 0.2.0
 */
export function* iterModules(node: unknown): Generator<readonly [Path, Module], void, undefined> {
  for (const [path, value] of iterGraph(node)) if (isModule(value)) yield [path, value as Module]
}

/**
 * The graph nodes held directly by `node` (a Module, list or record), with their keys, in sorted key
 * order: Modules and Variables, a shared one under each key that holds it, as Flax's
 * `nnx.iter_children`. Arrays and static values are not graph nodes and are left out; plain lists
 * and records are looked through (their key is the path to the node inside them).
 *
 * @category graph
 * @since 0.2.0
 */
export function* iterChildren(node: unknown): Generator<readonly [Path, Module | Variable<unknown>], void, undefined> {
  const kind = classify(node)
  if (kind !== "module" && kind !== "list" && kind !== "record")
    throw new GraphStructureError({
      path: [],
      reason: `iterChildren needs a Module, list or record, got ${describeValue(node)}`
    })
  const stack: Array<readonly [Path, unknown]> = containerKeys(node as object, kind)
    .map((k) => [[k], Reflect.get(node as object, k)] as const)
    .reverse()
  // Lists and records looked through, so that one holding itself is entered once.
  const entered = new Set<object>([node as object])
  while (stack.length > 0) {
    const [path, value] = stack.pop()!
    const k = classify(value)
    if (k === "module" || k === "variable") yield [path, value as Module | Variable<unknown>]
    else if ((k === "list" || k === "record") && !entered.has(value as object)) {
      entered.add(value as object)
      const keys = containerKeys(value as object, k)
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push([[...path, keys[i]!], Reflect.get(value as object, keys[i]!)])
    }
  }
}

/**
 * The Modules held directly by `node`, with their keys, as Flax's `nnx.iter_module_children`: the
 * Module entries of {@link iterChildren}.
 *
 * @category graph
 * @since 0.2.0
 */
export function* iterModuleChildren(node: unknown): Generator<readonly [Path, Module], void, undefined> {
  for (const [path, value] of iterChildren(node)) if (isModule(value)) yield [path, value as Module]
}
