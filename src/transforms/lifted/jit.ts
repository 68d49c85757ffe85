/**
 * `nnx.jit`: `jit` over functions of Modules, Variables and Rngs. It is the extract protocol around
 * the core `jit`'s machinery: the same cache key ({@link signatureKey}, functions by identity), the
 * same bounded cache and executable programs. The key includes each graph node's GraphDef, so a
 * structure change (an attribute added inside, a new shared reference) retraces; state changes
 * propagate out like every lifted transform.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { printJaxpr } from "../../backend/Jaxpr.ts"
import { Hash } from "effect"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import { VariableState } from "../../graph/Variable.ts"
import { isStateSharding } from "../../filters/LiftTypes.ts"
import type { PartitionSpec, StateSharding } from "../../filters/LiftTypes.ts"
import { flatten as treeFlatten, treedefKey, unflatten as treeUnflatten } from "../core/pytree.ts"
import { signatureKey, staticKey } from "../core/cacheKey.ts"
import { checkStaticPositions, makeJitCache, runJitEntry, staticPositions } from "../core/jit.ts"
import { StructureError } from "../core/TransformError.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted, Out } from "../combinator.ts"
import type { Module } from "../../graph/Module.ts"
import type { Variable } from "../../graph/Variable.ts"
import type { CheckArgnums } from "./grad.ts"
import { AliasTracker, checkPrefixForm, filterMappingResolver, mergeTree, NodeStates, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"

type Sharding = PartitionSpec | null

/** A sharding prefix for a value of type `A`: graph nodes also take a `StateSharding`. */
export type ShardingFor<A> = A extends Module | Variable<unknown>
  ? Sharding | StateSharding
  : A extends JArray
    ? Sharding
    : A extends ReadonlyArray<unknown>
      ? Sharding | { readonly [K in keyof A]: ShardingFor<A[K]> }
      : A extends Record<string, unknown>
        ? Sharding | { readonly [K in keyof A]?: ShardingFor<A[K]> }
        : Sharding

/** `Args` without the parameters at the indices `S` (the static ones). */
type DynamicArgs<Args extends ReadonlyArray<unknown>, S, I extends ReadonlyArray<0> = []> = Args extends readonly [
  infer H,
  ...infer T
]
  ? I["length"] extends S
    ? DynamicArgs<T, S, [...I, 0]>
    : [H, ...DynamicArgs<T, S, [...I, 0]>]
  : Args extends readonly []
    ? []
    : Args

/** The static indices given (`never` for none). */
type StaticIndices<S> = S extends number ? S : S extends ReadonlyArray<infer I> ? I : never

/**
 * `inShardings` of {@link jit}: one prefix for all arguments, or one entry per dynamic argument
 * (the `staticArgnums` have none), each fitting its argument's type.
 */
export type InShardings<Args extends ReadonlyArray<unknown>, S> =
  | Sharding
  | StateSharding
  | (number extends StaticIndices<S>
      ? ReadonlyArray<ShardingFor<Args[number]>>
      : ShardingsFor<DynamicArgs<Args, StaticIndices<S>>>)

/** One sharding prefix per element of a tuple of arguments. */
type ShardingsFor<T extends ReadonlyArray<unknown>> = { readonly [K in keyof T]: ShardingFor<T[K]> }

/** Options of {@link jit}. */
export interface JitOptions<
  Args extends ReadonlyArray<unknown> = ReadonlyArray<unknown>,
  R = unknown,
  S = number | ReadonlyArray<number>
> {
  /**
   * Sharding of each argument: `null`, a spec, or a `StateSharding` for graph nodes (recorded as
   * metadata of the call). Given per argument, it has no entries for the `staticArgnums`.
   */
  readonly inShardings?: InShardings<Args, S> | undefined
  /** Sharding of the output, a prefix of its structure. */
  readonly outShardings?: ShardingFor<Out<R>> | undefined
  /**
   * Positional arguments that are static (part of the cache key): plain data compared by value,
   * functions by identity.
   */
  readonly staticArgnums?: S | undefined
  /**
   * How many signatures the cache keeps (default 64); past it the least recently used is dropped
   * and retraces when called again.
   */
  readonly maxCacheSize?: number | undefined
}

/** A jitted lifted function: an Effect per call, `.sync`, and its trace count. */
export interface LiftedJit<Args extends ReadonlyArray<unknown>, R> extends Lifted<Args, R> {
  /** How many times `f` was traced. */
  readonly traceCount: number
  /** How many signatures are cached (at most `maxCacheSize`). */
  readonly cacheSize: number
  /** The cached program for these arguments, printed. */
  readonly lower: (...args: Args) => string
  /** Drops the cache. */
  readonly clearCache: () => void
}

const resolveSharding = filterMappingResolver<Sharding>(
  "nnx.jit",
  (u): u is StateSharding => isStateSharding(u),
  (u) => (u ?? null) as Sharding
)

/** The prefix forms of `nnx.jit`, in words. */
const SHARDING_FORMS = "null, a PartitionSpec (an array of axis names and null) or a StateSharding"

const isShardingPrefix = (u: unknown): boolean =>
  u === null ||
  u === undefined ||
  isStateSharding(u) ||
  (Array.isArray(u) && u.every((x) => x === null || typeof x === "string"))

/** The key of a Variable's metadata: most have none, which spares serialising an empty record per leaf per call. */
const metadataKey = (m: object): string => (Object.keys(m).length === 0 ? "{}" : staticKey("nnx.jit", m))

/** The key of a static leaf of the split arguments: a graph node's structure, or the value itself. */
const leafKey = (u: unknown): string => {
  if (u instanceof NodeStates) {
    // A Variable holding a non-Array value (group -1) is static: its value is part of the key, as a
    // static attribute's is part of the GraphDef, so a new value retraces instead of replaying the old one.
    const templates = u.templates.map((t, k) =>
      t instanceof VariableState
        ? `${t.kind}:${metadataKey(t.metadata)}${u.groupOf[k] === -1 ? `=${staticKey("nnx.jit", t.value)}` : ""}`
        : staticKey("nnx.jit", t)
    )
    return `G${Hash.hash(u.graphdef)}|${u.groupOf.join(",")}|${templates.join(";")}`
  }
  return `L${staticKey("nnx.jit", u)}`
}

/**
 * `inShardings` given per argument has entries for the dynamic arguments only, as in Flax: a
 * static argument has no sharding, so `null` is put at each static position (in increasing order)
 * before it is matched with the arguments.
 */
const withStaticEntries = (inShardings: unknown, staticArgnums: ReadonlySet<number>): unknown => {
  if (!Array.isArray(inShardings) || isShardingPrefix(inShardings) || staticArgnums.size === 0) return inShardings
  const entries: Array<unknown> = [...inShardings]
  for (const i of [...staticArgnums].sort((a, b) => a - b)) entries.splice(i, 0, null)
  return entries
}

/**
 * Compiles a function of Modules and Arrays by tracing, like `nnx.jit`. The cache keeps the
 * `maxCacheSize` (default 64) most recently used signatures.
 *
 * Effects: `f` must return a plain value. `f` runs only when a new signature is traced; later calls
 * replay the compiled program without running it, so an Effect returned by `f` (or by the `f` of a
 * transform nested inside) would run once and then be skipped, failures and services included.
 * Such an `f` is refused with a `JitEffectError`: run Effects outside the jitted function and pass
 * their values in. The call itself is an Effect that runs on the `Backend` service of its context.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Counter extends nnx.Module {
 *   count = new nnx.Variable(jnp.array(0))
 * }
 * const counter = new Counter()
 * const step = nnx.jit((m: Counter, x: jnp.Array) => { m.count.value = m.count.value.add(1); return x.mul(2) })
 * step.sync(counter, jnp.array([1, 2]))
 * step.sync(counter, jnp.array([3, 4])) // [6, 8]
 * step.traceCount // 1
 * counter.count.value.item() // 2
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const jit = <Args extends ReadonlyArray<unknown>, R, const S extends number | ReadonlyArray<number> = never>(
  f: (...args: Args) => R,
  options?: JitOptions<Args, R, S> & {
    readonly staticArgnums?: NoInfer<[S] extends [never] ? unknown : CheckArgnums<Args, S>>
  }
): LiftedJit<Args, R> => {
  const staticArgnums = staticPositions(options?.staticArgnums)
  const cache = makeJitCache("nnx.jit", options?.maxCacheSize)
  const inPrefix = withStaticEntries(options?.inShardings ?? null, staticArgnums)
  const outPrefix = options?.outShardings ?? null
  checkPrefixForm("nnx.jit", "inShardings", inPrefix, isShardingPrefix, SHARDING_FORMS)
  checkPrefixForm("nnx.jit", "outShardings", outPrefix, isShardingPrefix, SHARDING_FORMS)
  const base = {
    transform: "nnx.jit",
    isPrefixLeaf: isShardingPrefix,
    resolve: resolveSharding,
    show: (s: Sharding) => (s === null ? "null" : `(${s.join(", ")})`),
    corePrefix: () => null,
    expected: SHARDING_FORMS
  }

  /** The traced body: inner merge, `f`, inner split (phases 2 and 3 of the extract protocol). */
  const body =
    (args: Args, rebuild: (dyn: ReadonlyArray<JArray>) => unknown) =>
    (tracers: ReadonlyArray<JArray>): unknown => {
      const pureArgs = rebuild(tracers) as ReadonlyArray<unknown>
      const indexMap = new Map<number, object>()
      const innerDyn = mergeTree<Sharding>(pureArgs, { indexMap }) as Array<unknown>
      const innerArgs = args.map((a, i) => (staticArgnums.has(i) ? a : innerDyn[i])) as unknown as Args
      const out = withMutationCheck(() => callUser(() => f(...innerArgs)))
      const splitOptions: SplitOptions<Sharding> = {
        ...base,
        what: "inShardings",
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker(),
        checkTrace: true
      }
      const a = splitTree<Sharding>(
        innerArgs.map((x, i) => (staticArgnums.has(i) ? undefined : x)),
        inPrefix,
        splitOptions
      )
      const o = splitTree<Sharding>(out, outPrefix, { ...splitOptions, what: "outShardings" })
      return [a.pure, o.pure]
    }

  /** Outer split (phase 1), then the cached entry for the call's signature. */
  const lookup = (args: Args) => {
    checkStaticPositions("nnx.jit", staticArgnums, args.length)
    const dynamicArgs = args.map((a, i) => (staticArgnums.has(i) ? undefined : a))
    const statics = args.filter((_, i) => staticArgnums.has(i))
    const refMap = new Map<object, number>()
    const outer = splitTree<Sharding>(dynamicArgs, inPrefix, {
      ...base,
      what: "inShardings",
      refMap,
      aliases: new AliasTracker(),
      checkTrace: true
    })
    const [leaves, def] = treeFlatten(outer.pure)
    const dynamic: Array<JArray> = []
    const staticLeaves: Array<unknown> = []
    const isDyn = leaves.map((l) => {
      if (isArray(l)) {
        dynamic.push(l)
        return true
      }
      if (typeof l === "number" || typeof l === "boolean") {
        throw new StructureError({
          transform: "nnx.jit",
          reason: `a dynamic argument leaf is the JavaScript ${typeof l} ${String(l)}; pass an Array (jnp.array(...)) or mark the argument static with staticArgnums`
        })
      }
      staticLeaves.push(l)
      return false
    })
    const key = signatureKey({
      treedef: treedefKey(def),
      avals: dynamic.map((d) => d.aval),
      statics: [...staticLeaves.map(leafKey), ...statics.map((s) => `S${staticKey("nnx.jit", s)}`)]
    })
    const rebuild = (dyn: ReadonlyArray<JArray>): unknown => {
      let d = 0
      let s = 0
      return treeUnflatten(
        def,
        isDyn.map((b) => (b ? dyn[d++] : staticLeaves[s++]))
      )
    }
    const entry = cache.lookup(
      key,
      dynamic.map((d) => d.aval),
      body(args, rebuild)
    )
    return { entry, dynamic, refMap }
  }

  const impl = (args: Args): never => {
    const { entry, dynamic, refMap } = lookup(args)
    const [argsOut, outPure] = runJitEntry(entry, dynamic) as readonly [unknown, unknown]
    // 4. Outer merge: update the original objects in place.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    mergeTree(argsOut, mergeOptions)
    return mergeTree(outPure, mergeOptions) as never
  }

  const result = lifted<Args, R>(impl, "nnx.jit")
  Object.defineProperties(result, {
    traceCount: { get: cache.traceCount },
    cacheSize: { get: cache.size },
    lower: { value: (...args: Args) => printJaxpr(lookup(args).entry.staged.closed) },
    clearCache: { value: cache.clear }
  })
  return result as LiftedJit<Args, R>
}
