/**
 * Filters: how graph operations (`split`, `state`, `pop`, `State.filter`, later the transforms'
 * lift types) select parts of the state. The forms are Flax's:
 *
 * - a Variable kind (`nnx.Param`), or `OfType(kind)`: Variables of that kind or a subclass;
 * - a string, or `WithTag(tag)`: Variables whose `tag` metadata is that string (Rngs streams);
 * - a predicate `(path, value) => boolean`;
 * - an array of filters, or `Any(...)`: any of them; `All(...)`: all of them; `Not(f)`;
 * - `PathContains(key)`: a path that has `key` (or, with `{ exact: false }`, a part containing it);
 * - `Everything()`, also `true` and the string `"..."`; `Nothing()`, also `false`.
 *
 * Every form is normalised by one {@link toPredicate}. The value a predicate sees is a State leaf: a
 * `Variable`, or a `jnp` Array held directly by a Module. The types know which kinds a filter selects (`KindOf`), so
 * `nnx.state(model, nnx.Param)` is a `State<Param>`; anything that is not a filter does not compile.
 *
 * @since 0.1.0
 */
import { Equal, Hash } from "effect"
import { FilterError } from "../graph/errors.ts"
import type { Path, PathKey } from "../graph/path.ts"
import type { Variable, VariableClass } from "../graph/Variable.ts"
import { isVariable, isVariableClass, isVariableState } from "../graph/Variable.ts"

/** @category symbols @since 0.1.0 */
export const TypeId: unique symbol = Symbol.for("effect-nnx/Filter")

/**
 * A predicate over a path and a state leaf.
 * @category models
 * @since 0.1.0
 */
export type Predicate = (path: Path, value: unknown) => boolean

interface FilterBase extends Equal.Equal {
  readonly [TypeId]: typeof TypeId
  /** The normalised predicate. */
  readonly predicate: Predicate
}

/**
 * Variables of a kind (or a subclass of it).
 * @category models
 * @since 0.1.0
 */
export interface OfType<V extends Variable<unknown> = Variable<unknown>> extends FilterBase {
  readonly _tag: "OfType"
  readonly type: VariableClass<V>
}
/**
 * Variables whose `tag` metadata equals `tag`.
 * @category models
 * @since 0.1.0
 */
export interface WithTag extends FilterBase {
  readonly _tag: "WithTag"
  readonly tag: string
}
/**
 * Leaves whose path contains `key` (exactly, or as a substring of a part).
 * @category models
 * @since 0.1.0
 */
export interface PathContains extends FilterBase {
  readonly _tag: "PathContains"
  readonly key: PathKey
  readonly exact: boolean
}
/**
 * Leaves that any of the filters selects.
 * @category models
 * @since 0.1.0
 */
export interface Any<Fs extends ReadonlyArray<Filter> = ReadonlyArray<Filter>> extends FilterBase {
  readonly _tag: "Any"
  readonly filters: Fs
}
/**
 * Leaves that every filter selects.
 * @category models
 * @since 0.1.0
 */
export interface All<Fs extends ReadonlyArray<Filter> = ReadonlyArray<Filter>> extends FilterBase {
  readonly _tag: "All"
  readonly filters: Fs
}
/**
 * Leaves the filter does not select.
 * @category models
 * @since 0.1.0
 */
export interface Not<F extends Filter = Filter> extends FilterBase {
  readonly _tag: "Not"
  readonly filter: F
}
/**
 * Every leaf.
 * @category models
 * @since 0.1.0
 */
export interface Everything extends FilterBase {
  readonly _tag: "Everything"
}
/**
 * No leaf.
 * @category models
 * @since 0.1.0
 */
export interface Nothing extends FilterBase {
  readonly _tag: "Nothing"
}

/**
 * A filter made by one of the constructors of this module.
 * @category models
 * @since 0.1.0
 */
export type FilterObject = OfType | WithTag | PathContains | Any | All | Not | Everything | Nothing

/**
 * Any filter form.
 * @category models
 * @since 0.1.0
 */
export type Filter = VariableClass | string | Predicate | boolean | FilterObject | ReadonlyArray<Filter>

/**
 * The Variables a filter can select, as a type: `KindOf<typeof Param>` is `Param`, arrays and `Any`
 * give unions, `All` intersections, `Nothing`/`false` `never`; forms that do not constrain the kind
 * (tags, predicates, paths, `Not`, everything) give `Variable`.
 * @category models
 * @since 0.1.0
 */
export type KindOf<F> = [Filter] extends [F] ? Variable<unknown> : KindOfForm<F>

type KindOfForm<F> =
  F extends VariableClass<infer V>
    ? V
    : F extends OfType<infer V>
      ? V
      : F extends false | Nothing
        ? never
        : F extends Any<infer Fs>
          ? KindOf<Fs[number]>
          : F extends All<infer Fs>
            ? AllKinds<Fs>
            : F extends ReadonlyArray<infer G>
              ? KindOf<G>
              : Variable<unknown>

type AllKinds<Fs> = Fs extends readonly [infer H, ...infer T] ? Narrow<KindOf<H>, AllKinds<T>> : Variable<unknown>

/**
 * The kinds of `V` that are also `K`: what filtering a `State<V>` by a filter of kind `K` leaves.
 * Kinds are classes with single inheritance, so two kinds neither of which extends the other have
 * no Variables in common (`never`).
 * @category models
 * @since 0.1.0
 */
export type Narrow<V, K> = V extends unknown ? ([V] extends [K] ? V : [K] extends [V] ? K : never) : never

/** The Variable type a kind class makes (its type parameters left `unknown`). */
type InstanceOf<C> = C extends VariableClass<infer V> ? V : never

// ---------------------------------------------------------------------------------------------

const describe = (f: Filter): string => {
  if (typeof f === "string") return f === "..." ? "..." : `'${f}'`
  if (typeof f === "boolean") return String(f)
  if (isVariableClass(f)) return f.name
  if (typeof f === "function") return `<predicate ${f.name || "anonymous"}>`
  if (Array.isArray(f)) return `[${f.map(describe).join(", ")}]`
  return String(f)
}

const filterHash = (f: FilterObject): number => {
  switch (f._tag) {
    case "OfType":
      return Hash.combine(Hash.hash(f.type))(Hash.string("OfType"))
    case "WithTag":
      return Hash.combine(Hash.string(f.tag))(Hash.string("WithTag"))
    case "PathContains":
      return Hash.combine(Hash.hash([f.key, f.exact]))(Hash.string("PathContains"))
    case "Any":
    case "All":
      return Hash.combine(Hash.array(f.filters.map(hashFilter)))(Hash.string(f._tag))
    case "Not":
      return Hash.combine(hashFilter(f.filter))(Hash.string("Not"))
    case "Everything":
    case "Nothing":
      return Hash.string(f._tag)
  }
}

const hashFilter = (f: Filter): number => (isFilterObject(f) ? filterHash(f) : Hash.hash(f))

const equalFilters = (a: Filter, b: Filter): boolean => {
  if (isFilterObject(a) && isFilterObject(b)) return a[Equal.symbol](b)
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equalFilters(x, b[i]!))
  return a === b
}

const FilterProto = {
  [TypeId]: TypeId,
  toString(this: FilterObject): string {
    switch (this._tag) {
      case "OfType":
        return `OfType(${this.type.name})`
      case "WithTag":
        return `WithTag('${this.tag}')`
      case "PathContains":
        return `PathContains(${JSON.stringify(this.key)}, exact=${this.exact})`
      case "Any":
      case "All":
        return `${this._tag}(${(this.filters as ReadonlyArray<Filter>).map(describe).join(", ")})`
      case "Not":
        return `Not(${describe(this.filter as Filter)})`
      case "Everything":
      case "Nothing":
        return `${this._tag}()`
    }
  },
  [Symbol.for("nodejs.util.inspect.custom")](this: FilterObject): string {
    return this.toString()
  },
  [Equal.symbol](this: FilterObject, that: unknown): boolean {
    if (!isFilterObject(that) || that._tag !== this._tag) return false
    switch (this._tag) {
      case "OfType":
        return this.type === (that as OfType).type
      case "WithTag":
        return this.tag === (that as WithTag).tag
      case "PathContains":
        return this.key === (that as PathContains).key && this.exact === (that as PathContains).exact
      case "Any":
      case "All":
        return equalFilters(this.filters as ReadonlyArray<Filter>, (that as Any).filters)
      case "Not":
        return equalFilters(this.filter as Filter, (that as Not).filter)
      case "Everything":
      case "Nothing":
        return true
    }
  },
  [Hash.symbol](this: FilterObject): number {
    return filterHash(this)
  }
}

const make = <F extends FilterObject>(fields: Omit<F, typeof TypeId | typeof Equal.symbol | typeof Hash.symbol>): F =>
  Object.freeze(Object.assign(Object.create(FilterProto), fields))

/**
 * Whether `u` is a filter object made by this module's constructors.
 * @category guards
 * @since 0.1.0
 */
export const isFilterObject = (u: unknown): u is FilterObject => typeof u === "object" && u !== null && TypeId in u

const isVariableLike = (
  value: unknown
): { readonly kindClass: Function; readonly metadata: Readonly<Record<string, unknown>> } | undefined => {
  if (isVariableState(value)) return { kindClass: value.type, metadata: value.metadata }
  if (isVariable(value)) return { kindClass: value.constructor, metadata: value.metadata }
  return undefined
}

/**
 * Selects Variables of `type` or its subclasses (what a bare kind means as a filter).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const f = nnx.toPredicate(nnx.OfType(nnx.RngState))
 * f([], new nnx.RngKey(jnp.zeros([2], { dtype: "uint32" })).toState()) // true
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const OfType = <C extends VariableClass>(type: C): OfType<InstanceOf<C>> =>
  make<OfType<InstanceOf<C>>>({
    _tag: "OfType",
    // C is a class making InstanceOf<C>; the compiler cannot see through the conditional type.
    type: type as unknown as VariableClass<InstanceOf<C>>,
    predicate: (_path, value) => {
      const v = isVariableLike(value)
      return v !== undefined && (v.kindClass === type || v.kindClass.prototype instanceof type)
    }
  })

/**
 * Selects Variables whose `tag` metadata is `tag` (what a string means as a filter).
 * @category constructors
 * @since 0.1.0
 */
export const WithTag = (tag: string): WithTag =>
  make<WithTag>({
    _tag: "WithTag",
    tag,
    predicate: (_path, value) => isVariableLike(value)?.metadata["tag"] === tag
  })

/**
 * Selects leaves whose path has `key` as one of its parts, or with `exact: false` a part whose
 * text contains `key`'s.
 *
 * @example
 * ```ts
 * import { nnx } from "effect-nnx"
 *
 * nnx.toPredicate(nnx.PathContains("kernel"))(["layers", 0, "kernel"], undefined) // true
 * nnx.toPredicate(nnx.PathContains("ker", { exact: false }))(["kernel"], undefined) // true
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const PathContains = (key: PathKey, options?: { readonly exact?: boolean | undefined }): PathContains => {
  const exact = options?.exact ?? true
  const text = String(key)
  return make<PathContains>({
    _tag: "PathContains",
    key,
    exact,
    predicate: exact ? (path) => path.includes(key) : (path) => path.some((part) => String(part).includes(text))
  })
}

/**
 * Selects what any of `filters` selects (what an array of filters means).
 * @category constructors
 * @since 0.1.0
 */
export const Any = <const Fs extends ReadonlyArray<Filter>>(...filters: Fs): Any<Fs> => {
  const ps = filters.map(toPredicate)
  return make<Any<Fs>>({ _tag: "Any", filters, predicate: (path, value) => ps.some((p) => p(path, value)) })
}

/**
 * Selects what all of `filters` select.
 *
 * @example
 * ```ts
 * import { nnx } from "effect-nnx"
 *
 * // Flax's NotKey: random state other than keys
 * const notKey = nnx.All(nnx.RngState, nnx.Not(nnx.RngKey))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const All = <const Fs extends ReadonlyArray<Filter>>(...filters: Fs): All<Fs> => {
  const ps = filters.map(toPredicate)
  return make<All<Fs>>({ _tag: "All", filters, predicate: (path, value) => ps.every((p) => p(path, value)) })
}

/**
 * Selects what `filter` does not.
 * @category constructors
 * @since 0.1.0
 */
export const Not = <const F extends Filter>(filter: F): Not<F> => {
  const p = toPredicate(filter)
  return make<Not<F>>({ _tag: "Not", filter, predicate: (path, value) => !p(path, value) })
}

const everything = make<Everything>({ _tag: "Everything", predicate: () => true })
const nothing = make<Nothing>({ _tag: "Nothing", predicate: () => false })

/**
 * Selects everything (also written `true` or `"..."`).
 * @category constructors
 * @since 0.1.0
 */
export const Everything = (): Everything => everything

/**
 * Selects nothing (also written `false`).
 * @category constructors
 * @since 0.1.0
 */
export const Nothing = (): Nothing => nothing

/**
 * Whether a filter selects everything by its form (`true`, `"..."`, `Everything()`), which is only
 * allowed as the last of several filters.
 * @category guards
 * @since 0.1.0
 */
export const isEverything = (f: Filter): boolean =>
  f === true || f === "..." || (isFilterObject(f) && f._tag === "Everything")

/**
 * Normalises any filter form to a predicate.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const isParam = nnx.toPredicate(nnx.Param)
 * isParam(["w"], new nnx.Param(jnp.zeros([1])).toState()) // true
 * nnx.toPredicate("...")(["anything"], 1) // true
 * ```
 * @category conversions
 * @since 0.1.0
 */
export function toPredicate(filter: Filter): Predicate {
  if (typeof filter === "string") return filter === "..." ? everything.predicate : WithTag(filter).predicate
  if (typeof filter === "boolean") return filter ? everything.predicate : nothing.predicate
  if (isVariableClass(filter)) return OfType(filter).predicate
  if (typeof filter === "function") return filter
  if (Array.isArray(filter)) return Any(...filter).predicate
  if (isFilterObject(filter)) return filter.predicate
  throw new FilterError({
    reason: `not a filter: ${String(filter)} (expected a Variable kind, a tag, a predicate, a boolean, "...", an array of filters or a filter object)`,
    unmatched: []
  })
}

/**
 * Checks several filters for positional rules (an everything-filter only at the end) and
 * normalises them. @internal
 */
export const filtersToPredicates = (filters: ReadonlyArray<Filter>): Array<Predicate> => {
  filters.forEach((f, i) => {
    if (isEverything(f) && !filters.slice(i + 1).every(isEverything)) {
      throw new FilterError({
        reason: `\`...\`, \`true\` or Everything() can only be used as the last filter, got ${describe(f)} at position ${i}`,
        unmatched: []
      })
    }
  })
  return filters.map(toPredicate)
}

/** A filter as text, for messages. @internal */
export const formatFilter = describe
