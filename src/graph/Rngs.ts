/**
 * `Rngs` and `RngStream`: random-number state kept in the object graph like any other state.
 *
 * An `RngStream` holds a PRNG key (`RngKey`) and a counter (`RngCount`, uint32, shaped like the
 * key), both tagged with the stream's name. Calling the stream returns `random.foldIn(key, count)`
 * and increments the counter, so successive calls give independent keys and the whole stream is
 * reproducible from its seed. `Rngs` groups named streams: `new nnx.Rngs({ params: 0, dropout: 1 })`
 * makes `rngs.params()` and `rngs.dropout()`; `new nnx.Rngs(0)` makes the `default` stream, which
 * `rngs.stream(name)` falls back to for names it does not hold.
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
  throw new RngError({ stream, reason: `expected an integer seed, a PRNG key array or uint32 key data, got ${seed === null ? "null" : typeof seed}` })
}

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

  /** @internal */
  static [CreateEmpty](this: { readonly prototype: object }): ModuleLike {
    return makeCallableStream(this)
  }
}

/** Calling a stream draws its next key. */
export interface RngStream {
  (): JArray
}

/** Names an `Rngs` cannot use for a stream: its own members and JavaScript's object machinery. */
const isReservedName = (name: string): boolean =>
  name === "__proto__" || name === "constructor" || name === "prototype" || name in RngsClass.prototype

/**
 * The keys Module instances carry; named here so that declaration files can spell out the type of
 * the Rngs class. @internal
 */
export type ModuleKeys = typeof ModuleTypeId | typeof TraceStateKey

const RngsClass = class Rngs extends Module {
  constructor(seedOrStreams: RngSeed | Readonly<Record<string, RngSeed>>, streams?: Readonly<Record<string, RngSeed>>) {
    super()
    const entries: Array<[string, RngSeed]> = []
    if (isRecord(seedOrStreams)) {
      entries.push(...Object.entries(seedOrStreams))
    } else {
      entries.push(["default", seedOrStreams])
    }
    if (streams !== undefined) entries.push(...Object.entries(streams))
    const names = new Set<string>()
    for (const [name, seed] of entries) {
      if (isReservedName(name)) {
        throw new RngError({ stream: name, reason: "this name is reserved (an Rngs member or an object key); choose another stream name" })
      }
      if (names.has(name)) throw new RngError({ stream: name, reason: "the stream is given twice" })
      names.add(name)
      defineAttribute(this, name, new RngStream(seed, { tag: name }))
    }
  }

  /**
   * The stream called `name`, or the `default` stream when there is none by that name.
   * @throws RngError when neither exists.
   */
  stream(name: string): RngStream {
    const own: unknown = Object.hasOwn(this, name) ? Reflect.get(this, name) : undefined
    if (own instanceof RngStream) return own
    const fallback: unknown = Object.hasOwn(this, "default") ? Reflect.get(this, "default") : undefined
    if (fallback instanceof RngStream) return fallback
    const known = Object.keys(this).filter((k) => Reflect.get(this, k) instanceof RngStream)
    throw new RngError({
      stream: name,
      reason: `no such stream in Rngs (it has ${known.length === 0 ? "none" : known.map((k) => `'${k}'`).join(", ")}) and no 'default' stream to fall back to`
    })
  }
}

/**
 * Named random streams, typed by their names: `Rngs<"params" | "dropout">` has `params` and
 * `dropout` streams as callable properties; plain `Rngs` knows no names (use `rngs.stream(name)`).
 * @category models
 * @since 0.1.0
 */
export type Rngs<K extends string = never> = InstanceType<typeof RngsClass> & { readonly [P in K]: RngStream }

/**
 * How `Rngs` is constructed: from a record of named seeds, from one seed (the `default` stream), or
 * both.
 * @category models
 * @since 0.1.0
 */
export interface RngsConstructor {
  new <const S extends Readonly<Record<string, RngSeed>>>(streams: S): Rngs<Extract<keyof S, string>>
  new (seed: RngSeed): Rngs<"default">
  new <const S extends Readonly<Record<string, RngSeed>>>(seed: RngSeed, streams: S): Rngs<"default" | Extract<keyof S, string>>
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
 * d.default()
 * d.stream("anything")() // falls back to default
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
