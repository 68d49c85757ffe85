/**
 * `Variable<A>`: a typed mutable reference with metadata, the unit of state in an object graph (the
 * Effect sense of `Ref`, Flax's `nnx.Variable`). Kinds of state are subclasses used as tags:
 * `Param`, `BatchStat`, `Cache`, `Intermediate`, `RngState` (with `RngKey` and `RngCount`), and any
 * user kind (`class Count extends nnx.Variable<jnp.Array> {}`). Filters select state by kind.
 *
 * A Variable is read and written synchronously (`v.value`, `v.value = x`, `v.update(f)`) or through
 * Effect (`Variable.get`, `Variable.set`, `Variable.update`, data-first or pipeable). Writes go
 * through the trace-level check of `traceState.ts`, so a transform can refuse mutations of objects
 * it was not given.
 *
 * A `State`'s leaves are the live Variables themselves, as in Flax 0.12 (`nnx.state(m).get("w")`
 * is `m.w`). `VariableState`, an immutable snapshot, is internal: the transforms' protocol uses it.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { dual } from "effect/Function"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import { isArray } from "../backend/Array.ts"
import type { TraceContextError } from "./errors.ts"
import { displayStyle } from "../backend/displayStyle.ts"
import { formatSizeBytes, reprIn, sizeBytesOf } from "./format.ts"
import type { HasTraceState, TraceState } from "./traceState.ts"
import { checkMutable, makeTraceState, mutationError, TraceStateKey } from "./traceState.ts"

/** @category symbols @since 0.1.0 */
export const TypeId: unique symbol = Symbol.for("effect-nnx/Variable")
const ValueKey: unique symbol = Symbol.for("effect-nnx/Variable/value")
const MetadataKey: unique symbol = Symbol.for("effect-nnx/Variable/metadata")

/**
 * A Variable's metadata: any keys, with the ones the library reads typed. `shardingNames` names the
 * mesh axis each array dimension is sharded over (`null` for none), as Flax's `sharding_names`.
 * @category models
 * @since 0.1.0
 */
export interface Metadata {
  readonly shardingNames?: ReadonlyArray<string | null>
  readonly [key: string]: unknown
}

/**
 * A Variable class (a kind): the class itself, used as a filter and as the `type` of a
 * `VariableState`.
 * @category models
 * @since 0.1.0
 */
export type VariableClass<V extends Variable<unknown> = Variable<unknown>> = abstract new (...args: never) => V

/**
 * The value type a Variable holds.
 * @category models
 * @since 0.1.0
 */
export type ValueOf<V> = V extends Variable<infer A> ? A : never

const emptyMetadata: Metadata = Object.freeze({})

const freezeMetadata = (m: Metadata | undefined): Metadata => {
  if (m === undefined) return emptyMetadata
  // Metadata this module froze is shared as is (merging many Variables copies nothing).
  if (frozen.has(m)) return m
  // Object.fromEntries defines own properties, so a "__proto__" key cannot reach the prototype.
  const out: Metadata = Object.freeze(Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)))
  frozen.add(out)
  return out
}
const frozen = new WeakSet<object>([emptyMetadata])

const className = (u: object): string => {
  const ctor: unknown = (u as { constructor?: unknown }).constructor
  return typeof ctor === "function" && ctor.name !== "" ? ctor.name : "Variable"
}

/** Flax's `repr` of a Variable, in the display style: the kind, its size, the full value and the metadata. */
const variableRepr = (
  kind: string,
  value: unknown,
  metadata: Metadata,
  extra: ReadonlyArray<readonly [string, string]> = []
): string => {
  const style = displayStyle()
  const stats = sizeBytesOf(value)
  const comment = stats.size > 0 ? ` # ${formatSizeBytes(stats)}` : ""
  const valueRepr = isArray(value) ? value.repr({ style }) : reprIn(value, style)
  const lines = [
    ...extra,
    ["value", valueRepr] as const,
    ...Object.entries(metadata).map(([k, v]) => [k, reprIn(v, style)] as const)
  ]
  const body = lines.map(([k, v]) => `  ${k}=${v.replace(/\n/g, "\n  ")}`).join(",\n")
  return `${kind}(${comment}\n${body}\n)`
}

/**
 * A typed mutable reference with metadata. Subclass it (empty body) to make a kind of state.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Count extends nnx.Variable<jnp.Array> {}
 *
 * const count = new Count(jnp.arange(3))
 * count.value = count.value.add(1)
 * count.update((c) => c.mul(2))
 * count.value.tolist() // [2, 4, 6]
 *
 * const w = new nnx.Param(jnp.ones([3, 4]), { shardingNames: ["a", null] })
 * w.shardingNames // ["a", null]
 * ```
 * @category models
 * @since 0.1.0
 */
export class Variable<A = unknown> implements Pipeable, HasTraceState {
  /** Type-level brand of the kind; subclasses add their name so kinds differ for the compiler. */
  declare readonly "~kind": {}
  declare readonly [TypeId]: typeof TypeId
  /** @internal */
  declare [ValueKey]: A
  /** @internal */
  declare [MetadataKey]: Metadata
  /** @internal */
  declare readonly [TraceStateKey]: TraceState

  constructor(value: A, metadata?: Metadata) {
    initVariable(this, value, metadata)
  }

  /** The value. Assigning it checks the trace level (see `nnx.traceLevel`). */
  get value(): A {
    return this[ValueKey]
  }
  set value(value: A) {
    checkMutable(this, () => this.kind)
    store(this, value)
  }

  /** Replaces the value by `f(value)`. */
  update(f: (a: A) => A): void {
    this.value = f(this[ValueKey])
  }

  /**
   * The metadata (a frozen record). Assigning it replaces all of it, as Flax's
   * `v.set_metadata(dict)`; the write is trace-level checked.
   */
  get metadata(): Metadata {
    return this[MetadataKey]
  }
  set metadata(metadata: Metadata) {
    checkMutable(this, () => this.kind)
    this[MetadataKey] = freezeMetadata({ ...metadata })
  }

  /**
   * Reads metadata, in Flax's `get_metadata` forms: `v.getMetadata()` is the whole (frozen) record;
   * `v.getMetadata("key")` one entry, `undefined` when absent (Flax raises `KeyError`; metadata
   * never holds `undefined`, so here it means absent); `v.getMetadata("key", fallback)` the entry
   * or `fallback`.
   */
  getMetadata(): Metadata
  getMetadata<K extends string>(key: K): Metadata[K] | undefined
  getMetadata<K extends string, D>(key: K, fallback: D): Exclude<Metadata[K], undefined> | D
  getMetadata(key?: string, ...fallback: [] | [unknown]): unknown {
    const metadata = this[MetadataKey]
    if (key === undefined) return metadata
    if (Object.hasOwn(metadata, key)) return metadata[key]
    return fallback.length === 1 ? fallback[0] : undefined
  }

  /**
   * Sets metadata, in Flax's `set_metadata` forms: `v.setMetadata("key", value)` sets one entry
   * (`undefined` removes it), `v.setMetadata({ key: value })` merges entries (Flax's keyword form).
   * Replace all of it by assigning `v.metadata` (Flax's `set_metadata(dict)`). Trace-level checked.
   */
  setMetadata<K extends string>(key: K, value: Metadata[K]): void
  setMetadata(entries: Metadata): void
  setMetadata(keyOrEntries: string | Metadata, value?: unknown): void {
    checkMutable(this, () => this.kind)
    const next =
      typeof keyOrEntries === "string"
        ? { ...this[MetadataKey], [keyOrEntries]: value }
        : { ...this[MetadataKey], ...keyOrEntries }
    this[MetadataKey] = freezeMetadata(next)
  }

  /** Whether the metadata has an entry `key` (Flax's `has_metadata`). */
  hasMetadata(key: string): boolean {
    return Object.hasOwn(this[MetadataKey], key)
  }

  /** Removes the entry `key` from the metadata (Flax's `del_metadata`). Trace-level checked. */
  delMetadata(key: string): void {
    checkMutable(this, () => this.kind)
    const next = { ...this[MetadataKey] }
    delete (next as Record<string, unknown>)[key]
    this[MetadataKey] = freezeMetadata(next)
  }

  /** The `shardingNames` metadata, if any. */
  get shardingNames(): ReadonlyArray<string | null> | undefined {
    return this[MetadataKey].shardingNames
  }

  /** The kind's name: the class name (`Param`, `Count`). */
  get kind(): string {
    return className(this)
  }

  /** The trace level this Variable belongs to (0 outside every transform). */
  get traceLevel(): number {
    return this[TraceStateKey].level
  }

  /** A new Variable of the same kind holding the same value and metadata (owned by this level). */
  copy(): this {
    return makeVariable(kindOf(this), this[ValueKey] as ValueOf<this>, this[MetadataKey])
  }

  /**
   * A new Variable of the same kind and metadata holding `value` (Flax's `Variable.replace`): how a
   * State's leaves are mapped (`State.map`, gradients, `replaceByPureDict`) without touching the
   * live Variable.
   */
  replace(value: A): this {
    return makeVariable(kindOf(this), value as ValueOf<this>, this[MetadataKey])
  }

  /** The immutable snapshot of this Variable: kind, value, metadata (the transforms' protocol). @internal */
  toState(): VariableState<this> {
    return new VariableState(kindOf(this), this[ValueKey] as ValueOf<this>, this[MetadataKey])
  }

  /** Flax's repr: `Count( # 10 (40 B)\n  value=Array([...], dtype=int32)\n)`. */
  toString(): string {
    return variableRepr(this.kind, this[ValueKey], this[MetadataKey])
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }

  declare pipe: Pipeable["pipe"]

  /**
   * Reads a Variable's value as an Effect.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { jnp, nnx } from "effect-nnx"
   *
   * const p = new nnx.Param(jnp.ones([2]))
   * const program = Effect.gen(function* () {
   *   yield* nnx.Variable.update(p, (x) => x.mul(3))
   *   return yield* nnx.Variable.get(p)
   * })
   * Effect.runSync(program).tolist() // [3, 3]
   * ```
   * @category effect
   * @since 0.1.0
   */
  static get<A>(self: Variable<A>): Effect.Effect<A> {
    return Effect.sync(() => self[ValueKey])
  }

  /**
   * Writes a Variable's value as an Effect; fails with `TraceContextError` where the write is
   * refused. Data-first `Variable.set(v, x)` or pipeable `pipe(v, Variable.set(x))`.
   * @category effect
   * @since 0.1.0
   */
  static readonly set: {
    <A>(value: A): (self: Variable<A>) => Effect.Effect<void, TraceContextError>
    <A>(self: Variable<A>, value: A): Effect.Effect<void, TraceContextError>
  } = dual(
    2,
    <A>(self: Variable<A>, value: A): Effect.Effect<void, TraceContextError> =>
      Effect.suspend(() => {
        const error = mutationError(self, self.kind)
        if (error !== undefined) return Effect.fail(error)
        store(self, value)
        return Effect.void
      })
  )

  /**
   * Replaces a Variable's value by `f(value)` as an Effect; fails with `TraceContextError` where the
   * write is refused. Data-first or pipeable.
   * @category effect
   * @since 0.1.0
   */
  static readonly update: {
    <A>(f: (a: A) => A): (self: Variable<A>) => Effect.Effect<void, TraceContextError>
    <A>(self: Variable<A>, f: (a: A) => A): Effect.Effect<void, TraceContextError>
  } = dual(
    2,
    <A>(self: Variable<A>, f: (a: A) => A): Effect.Effect<void, TraceContextError> =>
      Effect.suspend(() => Variable.set(self, f(self[ValueKey])))
  )
}

Object.defineProperty(Variable.prototype, "pipe", {
  value: function (this: unknown) {
    return pipeArguments(this, arguments)
  }
})

Object.defineProperty(Variable.prototype, TypeId, { value: TypeId })

/**
 * Stores a value. An array stored in a Variable outlives any `Backend.tidy` open now: a training
 * step run inside a tidy replaces the parameters with arrays it made, and the tidy must not
 * dispose them (it still disposes everything else the step made).
 */
const store = <A>(self: Variable<A>, value: A): void => {
  self[ValueKey] = value
  if (isArray(value)) value.keep()
}

const initVariable = <A>(self: Variable<A>, value: A, metadata: Metadata | undefined): void => {
  ;(self as { [TraceStateKey]: TraceState })[TraceStateKey] = makeTraceState()
  store(self, value)
  self[MetadataKey] = freezeMetadata(metadata)
}

/**
 * Makes a Variable of a kind from a value and metadata without running the kind's constructor (a
 * kind may define one with other parameters), as Flax's `Variable._new` does. Used by `merge`,
 * `clone` and loading. @internal
 */
export const makeVariable = <V extends Variable<unknown>>(
  type: VariableClass<V>,
  value: ValueOf<V>,
  metadata: Metadata
): V => {
  const v: V = Object.create(type.prototype)
  initVariable(v, value, metadata)
  return v
}

/**
 * Sets a Variable's value and metadata in place from a snapshot (trace-level checked). Used by
 * `update` and by merges that reuse existing objects. @internal
 */
export const setVariableState = (v: Variable<unknown>, value: unknown, metadata: Metadata | undefined): void => {
  checkMutable(v, () => v.kind)
  store(v, value)
  if (metadata !== undefined) v[MetadataKey] = freezeMetadata(metadata)
}

/** The raw value, bypassing nothing but the getter (for hot internal loops). @internal */
export const rawValue = (v: Variable<unknown>): unknown => v[ValueKey]

/**
 * Whether `u` is a Variable (of any kind).
 * @category guards
 * @since 0.1.0
 */
export const isVariable = (u: unknown): u is Variable<unknown> => typeof u === "object" && u !== null && TypeId in u

/**
 * Whether `cls` is a Variable class (Variable itself or a subclass).
 * @category guards
 * @since 0.1.0
 */
export const isVariableClass = (cls: unknown): cls is VariableClass =>
  typeof cls === "function" && (cls === Variable || cls.prototype instanceof Variable)

/** The class of a Variable. */
export const kindOf = <V extends Variable<unknown>>(v: V): VariableClass<V> => {
  const ctor: unknown = Object.getPrototypeOf(v).constructor
  if (!isVariableClass(ctor)) throw new TypeError("a Variable's prototype lost its constructor")
  return ctor as VariableClass<V>
}

/**
 * An immutable snapshot of a Variable: its kind (class), value and metadata. Internal: the lifted
 * transforms split their arguments into snapshots, so the graph they rebuild inside never aliases
 * the live objects they update afterwards. (Flax 0.12 removed `VariableState` from its API: a
 * `State` holds the live Variables.)
 * @internal
 */
export class VariableState<V extends Variable<unknown> = Variable<unknown>> {
  constructor(
    readonly type: VariableClass<V>,
    readonly value: ValueOf<V>,
    readonly metadata: Metadata = {}
  ) {
    Object.freeze(this)
  }

  /** The kind's name (`Param`). */
  get kind(): string {
    return this.type.name
  }

  /** The same kind and metadata with another value. */
  replace(value: ValueOf<V>): VariableState<V> {
    return new VariableState(this.type, value, this.metadata)
  }

  /** The same kind and value with metadata entries merged in. */
  withMetadata(entries: Metadata): VariableState<V> {
    return new VariableState(this.type, this.value, freezeMetadata({ ...this.metadata, ...entries }))
  }

  /** A new live Variable of this kind, value and metadata. */
  toVariable(): V {
    return makeVariable(this.type, this.value, this.metadata)
  }

  toString(): string {
    return variableRepr("VariableState", this.value, this.metadata, [["type", this.kind]])
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

/** Whether `u` is a VariableState. @internal */
export const isVariableState = (u: unknown): u is VariableState => u instanceof VariableState

/**
 * Trainable parameters (what optimizers update).
 * @category kinds
 * @since 0.1.0
 */
export class Param<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly Param: true }
}

/**
 * The low-rank factors of a LoRA adapter (`nnx.LoRA`, `nnx.LoRALinear`), as Flax's `nnx.LoRAParam`:
 * a kind of `Param`, so an optimizer over `nnx.Param` trains them too, and `nnx.LoRAParam` alone
 * selects the adapters (to train them and freeze the rest).
 * @category kinds
 * @since 0.2.0
 */
export class LoRAParam<A = unknown> extends Param<A> {
  declare readonly "~kind": { readonly Param: true; readonly LoRAParam: true }
}

/**
 * Running statistics (batch norm's mean and variance).
 * @category kinds
 * @since 0.1.0
 */
export class BatchStat<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly BatchStat: true }
}

/**
 * Caches (attention key/value caches during decoding).
 * @category kinds
 * @since 0.1.0
 */
export class Cache<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly Cache: true }
}

/**
 * Intermediate values sown during a call, to be popped afterwards.
 * @category kinds
 * @since 0.1.0
 */
export class Intermediate<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly Intermediate: true }
}

/**
 * The base kind of random-number state held by `Rngs` streams; its `tag` metadata names the stream.
 * @category kinds
 * @since 0.1.0
 */
export class RngState<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly RngState: true }
  /** The stream this state belongs to (its `tag` metadata). */
  get tag(): string | undefined {
    const t = this.getMetadata("tag")
    return typeof t === "string" ? t : undefined
  }
}

/**
 * A stream's PRNG key (a key array).
 * @category kinds
 * @since 0.1.0
 */
export class RngKey<A = unknown> extends RngState<A> {
  declare readonly "~kind": { readonly RngState: true; readonly RngKey: true }
}

/**
 * A stream's counter (a uint32 array shaped like its key).
 * @category kinds
 * @since 0.1.0
 */
export class RngCount<A = unknown> extends RngState<A> {
  declare readonly "~kind": { readonly RngState: true; readonly RngCount: true }
}

/**
 * The Variable kinds the library defines, by name: what loading resolves kind names against
 * before the kinds a caller supplies.
 * @category kinds
 * @since 0.1.0
 */
export const builtinKinds: ReadonlyArray<VariableClass> = [
  Variable,
  Param,
  LoRAParam,
  BatchStat,
  Cache,
  Intermediate,
  RngState,
  RngKey,
  RngCount
]
