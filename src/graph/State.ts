/**
 * `State`: the dynamic part of an object graph, a nested mapping from attribute names and list
 * indices to leaves, typed by the kinds of Variables it holds (`State<Param>`).
 *
 * As in Flax 0.12, the leaves are the live Variables themselves (`nnx.state(m).get("w") === m.w`)
 * and, for `jnp` Arrays that a Module holds directly, the Arrays. Writing a leaf's value writes
 * the Module's; `nnx.merge` builds a graph around the same Variables (`{ copy: true }` for new
 * ones). The container itself is immutable: `filter`, `split`, `map`, `replaceByPureDict` and
 * gradients give new States, and where they change a value they hold new Variables (of the same
 * kind and metadata, as Flax's `Variable.replace`), never writing the live ones.
 *
 * Internally a State is its flat form (paths in sorted order with their leaves); the nested view
 * (`get`, `at`, `keys`, `toPureDict`) is derived from it, and every operation is iterative, so
 * very deep or very large states are fine. A State made by `split`/`state` keeps its paths with
 * shared prefixes and makes them arrays only when asked (`paths`, `toFlat`, filters, `map`): a
 * chain n deep has paths totalling n²/2 keys, which `merge` and `update` never build.
 *
 * @since 0.1.0
 */
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import type { Array as JArray } from "../backend/Array.ts"
import type { Module } from "./Module.ts"
import { isArray } from "../backend/Array.ts"
import type { Filter, KindOf, Narrow } from "../filters/Filter.ts"
import { filtersToPredicates } from "../filters/Filter.ts"
import { FilterError, GraphStructureError, MergeError } from "./errors.ts"
import { displayStyle } from "../backend/displayStyle.ts"
import { keyIn } from "./format.ts"
import { defineAttribute, isRecord } from "./node.ts"
import type { Path, PathCons, PathKey } from "./path.ts"
import { comparePaths, consToArray, encodePath, formatPath, isPathKey } from "./path.ts"
import type { Variable } from "./Variable.ts"
import { isVariable, isVariableState } from "./Variable.ts"

/** @category symbols @since 0.1.0 */
export const TypeId: unique symbol = Symbol.for("effect-nnx/State")

/**
 * Which raw leaves (`jnp` Arrays a Module holds directly) a State of kind `V` may hold: Arrays when
 * `V` does not narrow the kind, none when it does (`State<Param>` holds only Params).
 * @category models
 * @since 0.1.0
 */
export type RawLeafOf<V> = Variable<unknown> extends V ? JArray : never

/**
 * A leaf of a `State<V, R>`: a Variable of kind `V`, or a raw leaf `R`.
 * @category models
 * @since 0.1.0
 */
export type StateLeaf<V extends Variable<unknown> = Variable<unknown>, R extends JArray = RawLeafOf<V>> = V | R

/**
 * The States that filters select, one per filter: `[State<Param>, State<BatchStat>]`.
 * @category models
 * @since 0.1.0
 */
export type StatesOf<V extends Variable<unknown>, Fs extends ReadonlyArray<Filter>> = {
  -readonly [K in keyof Fs]: State<Narrow<V, KindOf<Fs[K]>>>
}

// ---------------------------------------------------------------------------------------------
// The shape of a State: its leaves' types and its fields, from the graph node it came from
// ---------------------------------------------------------------------------------------------

/** Remaining depth of the type-level walk (a cap, so recursive Module types stay finite). */
type Depth = [never, 0, 1, 2, 3, 4, 5, 6]

/** The names State's own members take: a field with one of them is reached with `get`. */
type StateMember =
  | "get"
  | "at"
  | "keys"
  | "filter"
  | "split"
  | "map"
  | "toFlat"
  | "toPureDict"
  | "replaceByPureDict"
  | "toString"
  | "size"
  | "paths"
  | "leaves"
  | "pathCons"
  | "pipe"

/** The keys of a graph node's type that can hold state (not Module's own members). */
type FieldKey<K> = K extends string | number ? (K extends keyof Module | StateMember ? never : K) : never

/**
 * The leaf types a State of graph node `T` holds: its Variables of kind `V` (and Arrays `R`),
 * found through its fields, lists and records. A type that says nothing (`Module`, `unknown`) may
 * hold any leaf of the kinds.
 * @category models
 * @since 0.2.0
 */
export type LeavesIn<T, V, R, D extends number = 6, X = never> = [D] extends [never]
  ? V | R
  : unknown extends T
    ? V | R
    : T extends Variable<unknown>
      ? T extends V
        ? T extends X
          ? never
          : T
        : never
      : T extends JArray
        ? R
        : Module extends T
          ? V | R
          : T extends Module
            ? ModuleLeaves<T, V, R, D, X>
            : T extends (...args: never) => unknown
              ? never
              : T extends ReadonlyArray<infer E>
                ? LeavesIn<E, V, R, Depth[D], X>
                : T extends object
                  ? { [K in keyof T]-?: K extends FieldKey<K> ? LeavesIn<T[K], V, R, Depth[D], X> : never }[keyof T]
                  : never

/** The leaves of a Module's fields (a Module may be callable, as Rngs are). */
type ModuleLeaves<T, V, R, D extends number, X> = {
  [K in keyof T]-?: K extends FieldKey<K> ? LeavesIn<T[K], V, R, Depth[D], X> : never
}[keyof T]

/** What a field of a State view holds: a Variable, an Array, or the sub-State of a subgraph. */
type FieldOf<F, V, R, D extends number, X> =
  F extends Variable<unknown>
    ? F extends V
      ? F extends X
        ? never
        : F
      : never
    : F extends JArray
      ? F
      : StateOf<F, V, R, D, X>

/** The fields of a State view: each field of `T` that holds leaves of the kinds. */
type FieldsOf<T, V, R, D extends number, X> = [D] extends [never]
  ? unknown
  : unknown extends T
    ? unknown
    : Module extends T
      ? unknown
      : T extends ReadonlyArray<infer E>
        ? { readonly [i: number]: FieldOf<NonNullable<E>, V, R, Depth[D], X> }
        : {
            readonly [K in keyof T as K extends FieldKey<K>
              ? [LeavesIn<T[K], V, R, Depth[D], X>] extends [never]
                ? never
                : K
              : never]: FieldOf<NonNullable<T[K]>, V, R, Depth[D], X>
          }

/**
 * The State of graph node `T` restricted to Variables of kind `V` (and Arrays `R`): a `State` of
 * exactly the leaf types `T` holds, whose fields reach sub-States and leaves by name, typed
 * (`nnx.state(model, nnx.Param).linear.kernel.value` is the kernel's Array). What `nnx.state`,
 * `nnx.split` and `nnx.grad` return.
 * @category models
 * @since 0.2.0
 */
export type StateOf<T, V = Variable<unknown>, R = RawLeafOf<V>, D extends number = 6, X = never> = State<
  Extract<LeavesIn<T, V, R, D, X>, Variable<unknown>>,
  Extract<LeavesIn<T, V, R, D, X>, JArray>
> &
  FieldsOf<T, V, R, D, X>

/**
 * The States filters select from graph node `T`, one per filter, each leaf to the first filter
 * selecting it (a narrower kind an earlier filter took is not in a later State).
 * @category models
 * @since 0.2.0
 */
export type StatesFor<T, Fs extends ReadonlyArray<unknown>, Seen = never> = Fs extends readonly [infer F, ...infer Rest]
  ? [
      StateOf<T, KindOf<F>, RawLeafOf<KindOf<F>>, 6, Seen>,
      ...StatesFor<T, Rest, Variable<unknown> extends KindOf<F> ? Seen : Seen | KindOf<F>>
    ]
  : []

/** The kinds of a leaf type. */
type KindOfLeaf<L> = L extends Variable<unknown> ? L : never
/** The kinds of a State type. */
type KindOfState<S> = S extends State<infer V, JArray> ? V : never
/** The raw leaves of a State type. */
type RawOfState<S> = S extends State<Variable<unknown>, infer R> ? R : never

/** One State for one filter, a tuple for several (as Flax returns them). @internal */
export type Selected<V extends Variable<unknown>, Fs extends ReadonlyArray<Filter>> = Fs extends readonly [infer F]
  ? State<Narrow<V, KindOf<F>>>
  : StatesOf<V, Fs>

const startsWith = (path: Path, prefix: Path): boolean => {
  if (path.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false
  return true
}

const isLeaf = (u: unknown): boolean => isVariable(u) || isArray(u)

/**
 * A nested, typed mapping of state leaves.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Linear extends nnx.Module {
 *   kernel = new nnx.Param(jnp.ones([1, 2]))
 *   bias = new nnx.Param(jnp.zeros([2]))
 *   steps = new nnx.BatchStat(jnp.zeros([]))
 * }
 * const m = new Linear()
 * const state = nnx.state(m)
 * const params = state.filter(nnx.Param) // State<Param>
 * params.keys() // ["bias", "kernel"]
 * params.toFlat().map(([path]) => path.join(".")) // ["bias", "kernel"]
 * params.get("kernel") === m.kernel // true: a State holds the live Variables
 * params.toPureDict() // { bias: Array([0., 0.], dtype=float32), kernel: Array([[1., 1.]], dtype=float32) }
 * ```
 * @category models
 * @since 0.1.0
 */
// `R` is a separate parameter (defaulting from `V`) rather than a conditional type inside the
// class, so that States are covariant: a State<Param> is a State.
export class State<V extends Variable<unknown> = Variable<unknown>, R extends JArray = RawLeafOf<V>>
  implements Pipeable
{
  readonly [TypeId]: typeof TypeId = TypeId

  /** Leaf paths in sorted order. */
  declare readonly paths: ReadonlyArray<Path>
  /**
   * The paths as shared-prefix lists, when the State comes from a traversal: a chain of Modules n
   * deep with a leaf at every level has paths of total length n²/2, so they are made arrays only
   * when asked for, and `merge`/`update` match them without doing so. @internal
   */
  declare readonly pathCons: ReadonlyArray<PathCons> | undefined

  private constructor(
    paths: ReadonlyArray<Path> | undefined,
    /** Leaves, in the order of `paths`. */
    readonly leaves: ReadonlyArray<StateLeaf<V, R>>,
    pathCons?: ReadonlyArray<PathCons> | undefined
  ) {
    let materialized = paths
    // `paths` stays an own enumerable property (as structural equality in tests sees it), made
    // from `pathCons` on first read; `pathCons` is hidden from such comparisons.
    Object.defineProperty(this, "paths", {
      enumerable: true,
      get: () => (materialized ??= (pathCons ?? []).map(consToArray))
    })
    Object.defineProperty(this, "pathCons", { value: paths === undefined ? pathCons : undefined })
  }

  /** The empty State. */
  static empty<V extends Variable<unknown> = Variable<unknown>>(): State<V> {
    return new State<V>([], [])
  }

  /**
   * A State from its flat form: `[path, leaf]` pairs in any order. Fails with
   * `GraphStructureError` on an empty or invalid path, a duplicate, a path that is both a leaf and
   * a subtree, or a value that is not a leaf.
   */
  static fromFlat<E extends readonly [Path, StateLeaf<Variable<unknown>, JArray>]>(
    entries: Iterable<E>
  ): State<KindOfLeaf<E[1]>, Extract<E[1], JArray>> {
    const list = [...entries]
    for (const [path, leaf] of list) {
      if (!Array.isArray(path) || path.length === 0 || !path.every(isPathKey)) {
        throw new GraphStructureError({
          path: undefined,
          reason: `a State path must be a non-empty list of strings and list indices, got ${JSON.stringify(path)}`
        })
      }
      if (!isLeaf(leaf)) throw new GraphStructureError({ path, reason: "a State leaf must be a Variable or an Array" })
    }
    list.sort((a, b) => comparePaths(a[0], b[0]))
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]![0]
      const cur = list[i]![0]
      if (startsWith(cur, prev)) {
        throw new GraphStructureError({
          path: cur,
          reason:
            prev.length === cur.length
              ? "two leaves at the same path"
              : `a leaf at ${formatPath(prev)} and a subtree below it`
        })
      }
    }
    return new State(
      list.map(([p]) => [...p]),
      list.map(([, l]) => l as StateLeaf<KindOfLeaf<E[1]>, Extract<E[1], JArray>>)
    )
  }

  /** A State from paths already sorted and valid (flatten produces them so). @internal */
  static unsafeMake<V extends Variable<unknown>, R extends JArray = RawLeafOf<V>>(
    paths: ReadonlyArray<Path>,
    leaves: ReadonlyArray<StateLeaf<V, R>>
  ): State<V, R> {
    return new State(paths, leaves)
  }

  /** A State from shared-prefix paths already sorted and valid (a traversal's). @internal */
  static unsafeFromCons<V extends Variable<unknown>, R extends JArray = RawLeafOf<V>>(
    paths: ReadonlyArray<PathCons>,
    leaves: ReadonlyArray<StateLeaf<V, R>>
  ): State<V, R> {
    return new State<V, R>(undefined, leaves, paths)
  }

  /**
   * Merges States into one; where two hold the same path the later one wins. The inverse of
   * `split`/`filter` on disjoint States.
   */
  static merge<const Ss extends ReadonlyArray<State<Variable<unknown>, JArray>>>(
    ...states: Ss
  ): State<KindOfState<Ss[number]>, RawOfState<Ss[number]>> {
    type L = StateLeaf<KindOfState<Ss[number]>, RawOfState<Ss[number]>>
    if (states.length === 1) return states[0] as State<KindOfState<Ss[number]>, RawOfState<Ss[number]>>
    const all: Array<readonly [Path, L, number]> = []
    states.forEach((st, k) => {
      for (let i = 0; i < st.paths.length; i++) all.push([st.paths[i]!, st.leaves[i] as L, k])
    })
    // Sorted by path, then by State, so that of equal paths the last one is the later State's.
    all.sort((a, b) => comparePaths(a[0], b[0]) || a[2] - b[2])
    const paths: Array<Path> = []
    const leaves: Array<L> = []
    for (let i = 0; i < all.length; i++) {
      const [path, leaf] = all[i]!
      const next = all[i + 1]
      if (next !== undefined && comparePaths(next[0], path) === 0) continue
      const prev = paths[paths.length - 1]
      if (prev !== undefined && startsWith(path, prev)) {
        throw new GraphStructureError({ path, reason: `a leaf at ${formatPath(prev)} and a subtree below it` })
      }
      paths.push(path)
      leaves.push(leaf)
    }
    return new State(paths, leaves)
  }

  /** How many leaves. */
  get size(): number {
    return this.leaves.length
  }

  /** The flat form: `[path, leaf]` pairs in sorted order. */
  toFlat(): Array<readonly [Path, StateLeaf<V, R>]> {
    return this.paths.map((p, i) => [p, this.leaves[i]!] as const)
  }

  /** The top-level keys, sorted. */
  keys(): Array<PathKey> {
    const out: Array<PathKey> = []
    for (const p of this.paths) if (out.length === 0 || out[out.length - 1] !== p[0]) out.push(p[0]!)
    return out
  }

  /** The index range of the paths under `prefix` (contiguous, since paths are sorted). */
  private range(prefix: Path): readonly [number, number] {
    let lo = 0
    let hi = this.paths.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (comparePaths(this.paths[mid]!, prefix) < 0) lo = mid + 1
      else hi = mid
    }
    let end = lo
    while (end < this.paths.length && startsWith(this.paths[end]!, prefix)) end++
    return [lo, end]
  }

  /**
   * What is at a path: a leaf, a sub-State (the subtree, with paths relative to it), or
   * `undefined`.
   */
  at(...path: ReadonlyArray<PathKey>): State<V, R> | StateLeaf<V, R> | undefined {
    if (path.length === 0) return this
    const [lo, hi] = this.range(path)
    if (lo === hi) return undefined
    if (hi - lo === 1 && this.paths[lo]!.length === path.length) return this.leaves[lo]!
    return new State(
      this.paths.slice(lo, hi).map((p) => p.slice(path.length)),
      this.leaves.slice(lo, hi)
    )
  }

  /** What is under one key: a leaf, a sub-State, or `undefined`. */
  get(key: PathKey): State<V, R> | StateLeaf<V, R> | undefined {
    return this.at(key)
  }

  /**
   * The leaves each filter selects, each leaf going to the first filter that selects it; leaves no
   * filter selects are left out. One filter gives a State, several a tuple.
   */
  filter<const Fs extends readonly [Filter, ...Array<Filter>]>(...filters: Fs): Selected<V, Fs> {
    const { buckets } = partition(this.paths, this.leaves, filters)
    const states = buckets.map(([ps, ls]) => new State(ps, ls))
    return (filters.length === 1 ? states[0] : states) as unknown as Selected<V, Fs>
  }

  /**
   * Like `filter`, but every leaf must be selected (end with `"..."` to collect the rest); fails
   * with `FilterError` naming the leaves no filter selects.
   */
  split<const Fs extends readonly [Filter, ...Array<Filter>]>(...filters: Fs): Selected<V, Fs> {
    const { buckets, rest } = partition(this.paths, this.leaves, filters)
    if (rest.length > 0) throw nonExhaustive(rest)
    const states = buckets.map(([ps, ls]) => new State(ps, ls))
    return (filters.length === 1 ? states[0] : states) as unknown as Selected<V, Fs>
  }

  /**
   * A State with each leaf replaced by `f(path, leaf)`. To change a Variable's value, return
   * `leaf.replace(value)` (a new Variable of the same kind and metadata): the live Variable stays as
   * it was.
   */
  map<W extends Variable<unknown> = V, RW extends JArray = R>(
    f: (path: Path, leaf: StateLeaf<V, R>) => StateLeaf<W, RW>
  ): State<W, RW> {
    const leaves = this.leaves.map((l, i) => {
      const out = f(this.paths[i]!, l)
      if (!isLeaf(out))
        throw new GraphStructureError({ path: this.paths[i]!, reason: "State.map must return a Variable or an Array" })
      return out
    })
    return new State(this.paths, leaves, this.pathCons)
  }

  /**
   * The State as nested plain records of raw values (each Variable's `value`), as Flax's
   * `nnx.to_pure_dict`. List indices become record keys.
   */
  toPureDict(): Record<string, unknown> {
    const root: Record<string, unknown> = {}
    this.paths.forEach((path, i) => {
      let node = root
      for (let d = 0; d < path.length - 1; d++) {
        const k = String(path[d])
        let next = Object.hasOwn(node, k) ? node[k] : undefined
        if (!isRecord(next)) {
          next = {}
          defineAttribute(node, k, next)
        }
        node = next as Record<string, unknown>
      }
      const leaf = this.leaves[i]!
      defineAttribute(node, String(path[path.length - 1]), isVariable(leaf) ? leaf.value : leaf)
    })
    return root
  }

  /**
   * A State with the values of a pure dict (as `toPureDict` makes) put in place of this State's
   * values, keeping kinds and metadata, as Flax's `nnx.replace_by_pure_dict`: a replaced Variable is
   * a new one (`leaf.replace(value)`), the live one is not written. Keys that are
   * numbers in this State may be strings in the dict. Fails with `MergeError` for a key this State
   * does not have.
   */
  replaceByPureDict(dict: Readonly<Record<string, unknown>>): State<V, R> {
    const index = new Map<string, number>()
    this.paths.forEach((p, i) => index.set(encodePath(p), i))
    const leaves = [...this.leaves]
    const stack: Array<readonly [ReadonlyArray<string>, Readonly<Record<string, unknown>>]> = [[[], dict]]
    while (stack.length > 0) {
      const [prefix, node] = stack.pop()!
      for (const key of Object.keys(node)) {
        const value = node[key]
        const path = [...prefix, key]
        if (isRecord(value)) {
          stack.push([path, value])
          continue
        }
        let i = index.get(encodePath(path))
        if (i === undefined) i = index.get(encodePath(path.map((k) => (/^(0|[1-9]\d*)$/.test(k) ? Number(k) : k))))
        if (i === undefined) throw new MergeError({ path, reason: "the pure dict has a key this State does not have" })
        const old = leaves[i]!
        leaves[i] = (isVariable(old) ? old.replace(value) : value) as StateLeaf<V, R>
      }
    }
    return new State(this.paths, leaves)
  }

  /** Flax's repr: `State({ kernel: Param(...), ... })`, nested (`'kernel'` in the Python display style). */
  toString(): string {
    const lines: Array<string> = ["State({"]
    let open: Path = []
    const close = (to: number): void => {
      while (open.length > to) {
        lines.push(`${"  ".repeat(open.length)}},`)
        open = open.slice(0, -1)
      }
    }
    this.paths.forEach((path, i) => {
      let common = 0
      while (common < open.length && common < path.length - 1 && open[common] === path[common]) common++
      close(common)
      for (let d = open.length; d < path.length - 1; d++) {
        lines.push(`${"  ".repeat(d + 1)}${keyRepr(path[d]!)}: {`)
        open = [...open, path[d]!]
      }
      const leaf = this.leaves[i]!
      const text = isVariable(leaf) ? leaf.toString() : leaf.repr()
      lines.push(
        `${"  ".repeat(path.length)}${keyRepr(path[path.length - 1]!)}: ${text.replace(/\n/g, `\n${"  ".repeat(path.length)}`)},`
      )
    })
    close(0)
    lines.push("})")
    return lines.join("\n")
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }

  declare pipe: Pipeable["pipe"]
}

Object.defineProperty(State.prototype, "pipe", {
  value: function (this: unknown) {
    return pipeArguments(this, arguments)
  }
})

const INDEX_KEY = /^(0|[1-9]\d*)$/

/**
 * Fields by name, as Flax's State reads them (`grads.linear.kernel`): a name that is not one of
 * State's own members, looked up on the prototype chain, ends at this proxy, which reads the
 * State's entry (a sub-State or a leaf; list indices as numbers). Own members and methods are
 * found before it, so they cost nothing; `then` is never a field (a State is not a thenable).
 */
Object.setPrototypeOf(
  State.prototype,
  new Proxy(Object.prototype, {
    get(target, prop, receiver) {
      if (typeof prop !== "string" || prop === "then" || !(receiver instanceof State))
        return Reflect.get(target, prop, receiver)
      const state = receiver as State
      const found = state.get(prop)
      if (found !== undefined || !INDEX_KEY.test(prop)) return found
      return state.get(Number(prop))
    }
  })
)

const keyRepr = (k: PathKey): string => (typeof k === "number" ? String(k) : keyIn(k, displayStyle()))

/**
 * Whether `u` is a State.
 * @category guards
 * @since 0.1.0
 */
export const isState = (u: unknown): u is State => u instanceof State

/** Assigns each leaf to the first filter selecting it. @internal */
export const partition = <L>(
  paths: ReadonlyArray<Path>,
  leaves: ReadonlyArray<L>,
  filters: ReadonlyArray<Filter>
): { readonly buckets: Array<[Array<Path>, Array<L>]>; readonly rest: Array<Path> } => {
  const predicates = filtersToPredicates(filters)
  const buckets = predicates.map((): [Array<Path>, Array<L>] => [[], []])
  const rest: Array<Path> = []
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!
    const leaf = leaves[i]!
    const j = predicates.findIndex((p) => p(path, leaf))
    if (j < 0) rest.push(path)
    else {
      buckets[j]![0].push(path)
      buckets[j]![1].push(leaf)
    }
  }
  return { buckets, rest }
}

/** The error of a split whose filters leave leaves unselected. @internal */
export const nonExhaustive = (rest: ReadonlyArray<Path>): FilterError =>
  new FilterError({
    reason: 'Non-exhaustive filters: no filter selects these leaves (add "..." as the last filter to collect the rest)',
    unmatched: rest
  })

/** The value of a leaf (a Variable's or a VariableState's value, or the Array). @internal */
export const leafValue = (leaf: unknown): unknown => (isVariable(leaf) || isVariableState(leaf) ? leaf.value : leaf)
