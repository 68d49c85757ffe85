/**
 * `Rngs` and `RngStream`: random-number state kept in the object graph like any other state.
 *
 * An `RngStream` holds a PRNG key (`RngKey`) and a counter (`RngCount`, uint32, shaped like the
 * key), both tagged with the stream's name. Calling the stream returns `random.foldIn(key, count)`
 * and increments the counter, so successive calls give independent keys and the whole stream is
 * reproducible from its seed. `Rngs` groups named streams: `new nnx.Rngs({ params: 0, dropout: 1 })`
 * makes `rngs.params()` and `rngs.dropout()`; `new nnx.Rngs(0)` makes the `default` stream, which
 * `rngs()` calls and which other names (`rngs.dropout`, `rngs.stream("dropout")`) fall back to, as
 * in Flax 0.12. `split`/`fork` make new Rngs for lifted transforms, and the `random` functions are
 * bound to Rngs and streams (`rngs.normal([2])`).
 *
 * A stream's key may be an array of keys (`random.split(random.key(0), 10)`): its counter then has
 * the same shape, and the stream is meant to be called under `vmap`, one key per batch element, as
 * in Flax (calling it outside `vmap` fails like `random.foldIn` on a batch of keys).
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import { zeros } from "../backend/numpy/creation.ts"
import * as random from "../backend/random/index.ts"
import type { Filter } from "../filters/Filter.ts"
import { toPredicate } from "../filters/Filter.ts"
import { RngError } from "./errors.ts"
import { Module } from "./Module.ts"
import type { ModuleLike } from "./node.ts"
import { CreateEmpty, defineAttribute, isRecord, wrapModule } from "./node.ts"
import type { ModuleTypeId } from "./node.ts"
import type { TraceStateKey } from "./traceState.ts"
import { checkMutable } from "./traceState.ts"
import { RngCount, RngKey } from "./Variable.ts"

/**
 * What seeds a stream: an integer seed, a PRNG key array (`random.key`, `random.split`), or raw
 * uint32 key data (last dimension 2).
 * @category models
 * @since 0.1.0
 */
export type RngSeed = number | JArray

const toKey = (stream: string, seed: unknown): JArray => {
  if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed)) throw new RngError({ stream, reason: `a seed must be an integer, got ${seed}` })
    return random.key(seed)
  }
  if (isArray(seed)) {
    if (seed.dtype === "key<fry>") return seed
    if (seed.dtype === "uint32" && seed.shape[seed.ndim - 1] === 2) return random.wrapKeyData(seed)
    throw new RngError({
      stream,
      reason: `expected an integer seed, a PRNG key array or uint32 key data, got an Array of dtype ${seed.dtype} and shape (${seed.shape.join(", ")})`
    })
  }
  throw new RngError({
    stream,
    reason: `expected an integer seed, a PRNG key array or uint32 key data, got ${seed === null ? "null" : typeof seed}`
  })
}

/** A `random` function with its key argument bound: the rest of its parameters. */
type KeyBound<F> = F extends (key: JArray, ...rest: infer R) => infer O ? (...rest: R) => O : never

/**
 * The `random` functions bound to a stream, as Flax's `Rngs` and `RngStream` have them: each draws
 * the next key and passes the other arguments through in `random`'s order
 * (`rngs.normal([2, 3])` is `random.normal(rngs(), [2, 3])`). Flax binds 38 `jax.random` functions
 * and 13 initializers; these are the ones this library's `random` has.
 * @category models
 * @since 0.1.0
 */
export interface RandomMethods {
  readonly bernoulli: KeyBound<typeof random.bernoulli>
  readonly bits: KeyBound<typeof random.bits>
  readonly categorical: KeyBound<typeof random.categorical>
  readonly normal: KeyBound<typeof random.normal>
  readonly permutation: KeyBound<typeof random.permutation>
  readonly randint: KeyBound<typeof random.randint>
  readonly truncatedNormal: KeyBound<typeof random.truncatedNormal>
  readonly uniform: KeyBound<typeof random.uniform>
}

const randomFunctions: { readonly [K in keyof RandomMethods]: (key: JArray, ...rest: Array<never>) => JArray } = {
  bernoulli: random.bernoulli,
  bits: random.bits,
  categorical: random.categorical,
  normal: random.normal,
  permutation: random.permutation,
  randint: random.randint,
  truncatedNormal: random.truncatedNormal,
  uniform: random.uniform
}

/** Installs the bound `random` functions on a prototype whose instances are callable for keys. */
const installRandomMethods = (proto: object): void => {
  for (const [name, f] of Object.entries(randomFunctions)) {
    Object.defineProperty(proto, name, {
      value: function (this: () => JArray, ...rest: Array<never>): JArray {
        return f(this(), ...rest)
      },
      writable: true,
      configurable: true
    })
  }
}

/**
 * A split size: a number of keys, or a shape of keys (`random.split`'s `num`).
 * @category models
 * @since 0.1.0
 */
export type SplitSize = number | ReadonlyArray<number>

/** The next key of a stream: fold the counter into the key, then count. */
const nextKey = (stream: RngStream): JArray => {
  const count = stream.count
  checkMutable(count, "RngCount")
  const key = random.foldIn(stream.key.value, count.value)
  count.value = count.value.add(1)
  return key
}

/** A callable module object: calling it draws the stream's next key. */
const makeCallableStream = (type: { readonly prototype: object }): RngStream => {
  let self: RngStream | undefined
  // An arrow function has no own enumerable keys (nor a `prototype`), so traversal sees only the
  // attributes set on it: tag, key and count.
  const call = (): JArray => nextKey(self!)
  const target: RngStream = Object.setPrototypeOf(call, type.prototype)
  self = wrapModule(target)
  return self
}

/**
 * A named stream of PRNG keys: `stream()` returns `random.foldIn(key, count)` and increments
 * `count`.
 *
 * @example
 * ```ts
 * import { nnx, random } from "effect-nnx"
 *
 * const s = new nnx.RngStream(0, { tag: "dropout" })
 * const k0 = s() // random.foldIn(random.key(0), 0)
 * const k1 = s() // random.foldIn(random.key(0), 1)
 * s.count.value.tolist() // 2
 * ```
 * @category models
 * @since 0.1.0
 */
export class RngStream extends Module {
  declare tag: string
  declare key: RngKey<JArray>
  declare count: RngCount<JArray>

  constructor(seed: RngSeed, options: { readonly tag: string }) {
    super()
    const key = toKey(options.tag, seed)
    const self = makeCallableStream(new.target)
    defineAttribute(self, "tag", options.tag)
    defineAttribute(self, "key", new RngKey(key, { tag: options.tag }))
    defineAttribute(self, "count", new RngCount(zeros(key.shape, { dtype: "uint32" }), { tag: options.tag }))
    return self
  }

  /**
   * A new stream of the same tag whose key is `random.split(this(), k)`: `k` keys (or a shape of
   * keys), for use under `vmap`. Draws one key from this stream. Flax's `RngStream.split`.
   */
  split(k: SplitSize): RngStream {
    return new RngStream(random.split(this(), k), { tag: this.tag })
  }

  /** A new stream of the same tag seeded by this stream's next key. Flax's `RngStream.fork()`. */
  fork(): RngStream {
    return new RngStream(this(), { tag: this.tag })
  }

  /** @internal */
  static [CreateEmpty](this: { readonly prototype: object }): ModuleLike {
    return makeCallableStream(this)
  }
}

/** Calling a stream draws its next key; the `random` functions are bound to it. */
export interface RngStream extends RandomMethods {
  (): JArray
}

installRandomMethods(RngStream.prototype)

/** Names an `Rngs` cannot use for a stream: its own members and JavaScript's object machinery. */
const isReservedName = (name: string): boolean =>
  name === "__proto__" || name === "constructor" || name === "prototype" || name in RngsClass.prototype

/**
 * The keys Module instances carry; named here so that declaration files can spell out the type of
 * the Rngs class. @internal
 */
export type ModuleKeys = typeof ModuleTypeId | typeof TraceStateKey

/** Flax's message when a stream is missing and there is no `default` stream to fall back to. */
const noStream = (name: string): RngError =>
  new RngError({ stream: undefined, reason: `No RngStream named '${name}' found in Rngs.` })

const ownStream = (rngs: object, name: string): RngStream | undefined => {
  const own: unknown = Object.hasOwn(rngs, name) ? Reflect.get(rngs, name) : undefined
  return own instanceof RngStream ? own : undefined
}

/** The streams of an Rngs, in attribute order (as Flax's `rngs.items()`). */
const streamsOf = (rngs: object): Array<[string, RngStream]> => {
  const out: Array<[string, RngStream]> = []
  for (const name of Object.keys(rngs)) {
    const s = ownStream(rngs, name)
    if (s !== undefined) out.push([name, s])
  }
  return out
}

/**
 * How `Rngs.split` sizes each stream: one size for all, a record from stream name (or `"..."` for
 * the rest) to a size or `null` (not split), or ordered pairs of any filter and a size or `null`.
 * As in Flax, the first entry that matches a stream decides; a stream no entry matches is not split.
 * @category models
 * @since 0.1.0
 */
export type RngsSplit =
  | SplitSize
  | Readonly<Record<string, SplitSize | null>>
  | ReadonlyArray<readonly [Filter, SplitSize | null]>

const isSplitSize = (k: unknown): k is SplitSize =>
  typeof k === "number" || (globalThis.Array.isArray(k) && k.every((d) => typeof d === "number"))

/** Whether a split filter selects a stream. A tag string names a stream, as Flax's `WithTag`. */
const selectsStream = (filter: Filter, stream: RngStream): boolean => {
  if (typeof filter === "string") return filter === "..." || stream.tag === filter
  return toPredicate(filter)([], stream)
}

const splitEntries = (k: RngsSplit): ReadonlyArray<readonly [Filter, SplitSize | null]> => {
  if (isSplitSize(k)) return [["...", k]]
  if (globalThis.Array.isArray(k)) return k as ReadonlyArray<readonly [Filter, SplitSize | null]>
  return Object.entries(k as Readonly<Record<string, SplitSize | null>>)
}

/**
 * Names that never fall back to the `default` stream: JavaScript's protocol probes (a thenable's
 * `then`, `JSON.stringify`'s `toJSON`, test matchers' and DOM checks), the analogue of the dunder
 * names Flax's `__getattr__` refuses. Only identifier-like names fall back.
 */
const notStreamNames = new Set(["then", "toJSON", "asymmetricMatch", "nodeType", "inspect", "constructor", "prototype"])
const isFallbackName = (name: string | symbol): name is string =>
  typeof name === "string" && /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !notStreamNames.has(name)

/** Calls the default stream of an Rngs (`rngs()`), as Flax's `Rngs.__call__`. */
const callDefault = (rngs: object): JArray => {
  const stream = ownStream(rngs, "default")
  if (stream === undefined) throw noStream("default")
  return stream()
}

/** A callable Rngs object: calling it draws from the `default` stream. */
const makeCallableRngs = (type: { readonly prototype: object }): ModuleLike => {
  let self: ModuleLike | undefined
  const call = (): JArray => callDefault(self!)
  const target: ModuleLike = Object.setPrototypeOf(call, type.prototype)
  self = wrapModule(target)
  return self
}

// A class declaration, not a class expression: declaration files cannot spell a class expression's
// `this`-returning methods. Its name is Flax's, for displays and errors.
class RngsClass extends Module {
  static {
    Object.defineProperty(this, "name", { value: "Rngs" })
  }

  declare readonly bernoulli: RandomMethods["bernoulli"]
  declare readonly bits: RandomMethods["bits"]
  declare readonly categorical: RandomMethods["categorical"]
  declare readonly normal: RandomMethods["normal"]
  declare readonly permutation: RandomMethods["permutation"]
  declare readonly randint: RandomMethods["randint"]
  declare readonly truncatedNormal: RandomMethods["truncatedNormal"]
  declare readonly uniform: RandomMethods["uniform"]

  constructor(
    seedOrStreams: RngSeed | RngStream | Readonly<Record<string, RngSeed | RngStream>>,
    streams?: Readonly<Record<string, RngSeed | RngStream>>
  ) {
    super()
    const entries: Array<[string, RngSeed | RngStream]> = []
    if (isRecord(seedOrStreams)) {
      entries.push(...Object.entries(seedOrStreams))
    } else {
      entries.push(["default", seedOrStreams])
    }
    if (streams !== undefined) entries.push(...Object.entries(streams))
    const names = new Set<string>()
    const made: Array<[string, RngStream]> = []
    for (const [name, seed] of entries) {
      if (isReservedName(name)) {
        throw new RngError({
          stream: name,
          reason: "this name is reserved (an Rngs member or an object key); choose another stream name"
        })
      }
      if (names.has(name)) throw new RngError({ stream: name, reason: "the stream is given twice" })
      names.add(name)
      // A stream given as a seed lends its key (its count starts again at 0), as in Flax.
      made.push([name, new RngStream(seed instanceof RngStream ? seed.key.value : seed, { tag: name })])
    }
    const self = makeCallableRngs(new.target)
    for (const [name, stream] of made) defineAttribute(self, name, stream)
    return self as this
  }

  /**
   * The stream called `name`, or the `default` stream when there is none by that name (Flax's
   * `rngs[name]`).
   * @throws RngError naming the streams it has when neither exists.
   */
  stream(name: string): RngStream {
    const stream = ownStream(this, name) ?? ownStream(this, "default")
    if (stream !== undefined) return stream
    const known = streamsOf(this).map(([k]) => `'${k}'`)
    throw new RngError({
      stream: name,
      reason: `no such stream in Rngs (it has ${known.length === 0 ? "none" : known.join(", ")}) and no 'default' stream to fall back to`
    })
  }

  /** The stream names, in order (Flax's `list(rngs)`). */
  names(): Array<string> {
    return streamsOf(this).map(([name]) => name)
  }

  /**
   * A new Rngs whose selected streams are split: each holds `random.split(stream(), k)` (one draw
   * from this Rngs' stream), for use under `vmap`. Streams not selected keep their key with the
   * count back at 0, as in Flax (`Rngs(**keys)` re-seeds from the key).
   */
  split(k: RngsSplit): this {
    const entries = splitEntries(k)
    const out: Record<string, RngStream> = {}
    for (const [name, stream] of streamsOf(this)) {
      const entry = entries.find(([filter]) => selectsStream(filter, stream))
      out[name] = entry === undefined || entry[1] === null ? stream : stream.split(entry[1])
    }
    return new RngsClass(out) as this
  }

  /** A new Rngs whose every stream is seeded by this one's next key (Flax's `rngs.fork()`). */
  fork(): this {
    const out: Record<string, RngStream> = {}
    for (const [name, stream] of streamsOf(this)) out[name] = stream.fork()
    return new RngsClass(out) as this
  }

  /** @internal */
  static [CreateEmpty](this: { readonly prototype: object }): ModuleLike {
    return makeCallableRngs(this)
  }
}

installRandomMethods(RngsClass.prototype)

// Attribute fallback, as Flax's `Rngs.__getattr__`: a name that is neither an own stream nor a
// member reads as the `default` stream. A proxy placed in the prototype chain sees only the lookups
// that missed, so own streams, members, identity and `in` (Flax's `__contains__`) are untouched.
Object.setPrototypeOf(
  RngsClass.prototype,
  new Proxy(Object.create(Module.prototype), {
    get(target, name, receiver) {
      if (isFallbackName(name) && !Reflect.has(target, name)) return ownStream(receiver, "default")
      return Reflect.get(target, name, receiver)
    }
  })
)

/**
 * Named random streams, typed by their names: `Rngs<"params" | "dropout">` has `params` and
 * `dropout` streams as callable properties; plain `Rngs` knows no names (use `rngs.stream(name)`).
 * An Rngs with a `default` stream is callable (`rngs()` draws from `default`). At run time any other
 * name reads as the `default` stream (`rngs.dropout()`), as in Flax; the type has only the names the
 * constructor was given, since TypeScript cannot type "every other name" beside the methods: reach
 * a fallback with `rngs.stream("dropout")`.
 * @category models
 * @since 0.1.0
 */
export type Rngs<K extends string = never> = InstanceType<typeof RngsClass> & {
  readonly [P in K]: RngStream
} & ("default" extends K ? { (): JArray } : unknown)

/**
 * How `Rngs` is constructed: from a record of named seeds, from one seed (the `default` stream), or
 * both. A seed may be a stream, whose key the new stream starts from (count 0).
 * @category models
 * @since 0.1.0
 */
export interface RngsConstructor {
  new <const S extends Readonly<Record<string, RngSeed | RngStream>>>(streams: S): Rngs<Extract<keyof S, string>>
  new (seed: RngSeed | RngStream): Rngs<"default">
  new <const S extends Readonly<Record<string, RngSeed | RngStream>>>(
    seed: RngSeed | RngStream,
    streams: S
  ): Rngs<"default" | Extract<keyof S, string>>
  readonly prototype: Rngs
}

/**
 * Named random streams.
 *
 * @example
 * ```ts
 * import { nnx, random } from "effect-nnx"
 *
 * const rngs = new nnx.Rngs({ params: 0, dropout: 1 })
 * const k = rngs.params() // random.foldIn(random.key(0), 0)
 * rngs.stream("dropout")() // the dropout stream
 *
 * const d = new nnx.Rngs(0)
 * d() // the default stream, as d.default()
 * d.stream("anything")() // falls back to default
 * d.normal([2]) // random.normal(d(), [2])
 *
 * const batched = new nnx.Rngs({ noise: random.split(random.key(0), 10) })
 * batched.noise.count.value.shape // [10]
 * ```
 * @category models
 * @since 0.1.0
 */
// The class has no static knowledge of its stream names; this typed view adds them from the
// constructor's argument. It is the same class at run time (`instanceof nnx.Rngs` works).
export const Rngs: RngsConstructor = RngsClass as unknown as RngsConstructor

/**
 * Whether `u` is an `Rngs`.
 * @category guards
 * @since 0.1.0
 */
export const isRngs = (u: unknown): u is Rngs => u instanceof RngsClass
