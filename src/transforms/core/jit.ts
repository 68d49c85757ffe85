/**
 * `jit`: stage a function into a jaxpr once per input signature (pytree structure, shapes, dtypes,
 * weak types and static argument values), cache it, and run it. On concrete arguments it runs the
 * program's compiled plan (see `compile/plan.ts`: common subexpressions merged, constants folded,
 * elementwise chains fused into one kernel where the backend can, buffers freed after their last
 * use), compiled once per backend. Under an enclosing transform the cached jaxpr is evaluated on
 * that transform's tracers, so `vmap(jit(f))` and `grad(jit(f))` work.
 *
 * The cache is shared machinery: `nnx.jit` keys its calls with the same {@link signatureKey} and keeps
 * them in the same bounded cache ({@link makeJitCache}), adding only the extract protocol around it.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { checkOptionKeys } from "../../backend/numpy/options.ts"
import { isArray } from "../../backend/Array.ts"
import type { Aval } from "../../backend/DType.ts"
import { printJaxpr } from "../../backend/Jaxpr.ts"
import { current as context, withContext } from "../../backend/transformContext.ts"
import { defaultMaxCacheSize, makeLruCache, signatureKey, staticKey } from "./cacheKey.ts"
import { makeExecutable } from "./compile/executable.ts"
import type { Executable } from "./compile/executable.ts"
import type { Plan } from "./compile/plan.ts"
import { flatten, treedefKey, unflatten } from "./pytree.ts"
import { restoreOutput, stage } from "./staging.ts"
import type { Staged } from "./staging.ts"
import { StructureError } from "./TransformError.ts"
import { checkStaticPositions, staticPositions } from "./argnums.ts"
import type { Position, UniqueStaticArgnums } from "./argnums.ts"

/**
 * Options of {@link jit}. `S` is the type of `staticArgnums`: at a call of `jit` it is checked
 * against `f`'s parameters, so a position past them, or one given twice, does not compile.
 */
export interface JitOptions<S extends number | ReadonlyArray<number> = number | ReadonlyArray<number>> {
  /**
   * Positional arguments that are static: part of the cache key, passed to `f` as they are. Plain
   * data is compared by value (its JSON form), functions by identity. Positions are non-negative,
   * within `f`'s parameters and listed once (a `StructureError` otherwise, when the types are bypassed).
   */
  readonly staticArgnums?: S | undefined
  /**
   * How many signatures the cache keeps (default 64). When a new signature would pass the bound,
   * the least recently used one is dropped; calling with it again retraces.
   */
  readonly maxCacheSize?: number | undefined
}

/** A jitted function: callable, with its trace count and cache exposed. */
export interface Jitted<Args extends ReadonlyArray<unknown>, R> {
  (...args: Args): R
  /** How many times `f` was traced (once per new input signature). */
  readonly traceCount: number
  /** How many signatures are cached (at most `maxCacheSize`). */
  readonly cacheSize: number
  /** The jaxpr cached for these arguments, printed (traces if needed). */
  readonly lower: (...args: Args) => string
  /**
   * The plan compiled for these arguments on the current backend (traces and compiles if needed):
   * its steps, with fused groups, and its text with `String(plan)`.
   */
  readonly plan: (...args: Args) => Plan
  /** Drops the cache. */
  readonly clearCache: () => void
}

/** A cached signature: the staged function and its executable program. */
export interface JitEntry {
  readonly staged: Staged
  readonly executable: Executable
}

/**
 * The name of the jit (`"jit"`, `"nnx.jit"`) whose function is being traced, or `undefined`. Code
 * that runs only while tracing (an Effect returned by `f`) uses it to refuse what a replay would skip.
 * @category tracing
 * @since 0.2.0
 */
export const currentJitTrace = (): string | undefined => context().jitTrace

/**
 * The cache of a jitted function, shared by `jit` and `nnx.jit`: signatures (see {@link signatureKey})
 * to staged programs, least recently used first out past `maxCacheSize`.
 * @category compilation
 * @since 0.2.0
 */
export interface JitCache {
  /** The entry for `key`, tracing `trace` on tracers of `avals` when the signature is new. */
  readonly lookup: (
    key: string,
    avals: ReadonlyArray<Aval>,
    trace: (tracers: ReadonlyArray<JArray>) => unknown
  ) => JitEntry
  readonly traceCount: () => number
  readonly size: () => number
  readonly clear: () => void
}

/**
 * A new jit cache for the transform `transform`.
 * @category compilation
 * @since 0.2.0
 */
export const makeJitCache = (transform: string, maxCacheSize: number = defaultMaxCacheSize): JitCache => {
  const cache = makeLruCache<JitEntry>(transform, maxCacheSize)
  let traces = 0
  const lookup = (
    key: string,
    avals: ReadonlyArray<Aval>,
    trace: (tracers: ReadonlyArray<JArray>) => unknown
  ): JitEntry => {
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    traces++
    const staged: Staged = withContext({ jitTrace: transform }, () => stage(transform, trace, avals))
    const entry = { staged, executable: makeExecutable(staged.closed) }
    // A jaxpr that closed over another transform's tracers is only valid in that context.
    if (staged.closed.consts.every((c) => c.isConcrete)) cache.set(key, entry)
    return entry
  }
  return { lookup, traceCount: () => traces, size: cache.size, clear: cache.clear }
}

/**
 * Runs a cached entry on its dynamic arguments and re-assembles its output.
 * @category compilation
 * @since 0.2.0
 */
export const runJitEntry = (entry: JitEntry, dynamic: ReadonlyArray<JArray>): unknown =>
  restoreOutput(entry.staged, entry.executable.call(dynamic))

export { checkStaticPositions, staticPositions } from "./argnums.ts"

/**
 * Compiles `f` by tracing: the first call with a new signature traces `f` into a jaxpr (dead code
 * removed) and caches it; calls run its plan, compiled once per backend, without running `f`'s
 * JavaScript. `f.plan(...)` shows the plan: which primitives run as one fused kernel. The cache
 * keeps the `maxCacheSize` (default 64) most recently used signatures.
 *
 * @example
 * ```ts
 * import { jit, jnp } from "effect-nnx"
 *
 * const f = jit((x: jnp.Array) => jnp.tanh(x).sum())
 * f(jnp.ones([3])); f(jnp.zeros([3]))
 * f.traceCount // 1
 * String(f.plan(jnp.ones([3]))) // one step on a fusing backend: fused[reduce_sum ... : tanh]
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const jit = <
  Args extends ReadonlyArray<unknown>,
  R,
  const S extends Position<Args> | ReadonlyArray<Position<Args>> = never
>(
  f: ((...args: Args) => R) & NoInfer<UniqueStaticArgnums<S>>,
  options?: JitOptions<S>
): Jitted<Args, R> => {
  // The repeated-position check sits on `f`, behind `NoInfer`: on the contextually typed options it
  // was evaluated for the unresolved constraint and cost 2,500 instantiations per call (now under 100).
  checkOptionKeys("jit", options, ["staticArgnums", "maxCacheSize"])
  const staticArgnums = staticPositions(options?.staticArgnums)
  const cache = makeJitCache("jit", options?.maxCacheSize)

  const lookup = (args: Args): { entry: JitEntry; dynamic: Array<JArray> } => {
    checkStaticPositions("jit", staticArgnums, args.length)
    const statics: Array<unknown> = []
    const dynamicArgs: Array<unknown> = []
    args.forEach((a, i) => (staticArgnums.has(i) ? statics.push(a) : dynamicArgs.push(a)))
    const [leaves, def] = flatten(dynamicArgs)
    const dynamic = leaves.map((l, i) => {
      if (isArray(l)) return l
      throw new StructureError({
        transform: "jit",
        reason: `dynamic argument leaf ${i} is ${typeof l}, not an Array; mark its argument static with staticArgnums or pass jnp.array(...)`
      })
    })
    const key = signatureKey({
      treedef: treedefKey(def),
      avals: dynamic.map((d) => d.aval),
      statics: statics.map((s) => staticKey("jit", s))
    })
    const entry = cache.lookup(
      key,
      dynamic.map((d) => d.aval),
      (tracers) => {
        const rebuilt = unflatten(def, tracers) as Array<unknown>
        let s = 0
        let d = 0
        return f(...(args.map((_, i) => (staticArgnums.has(i) ? statics[s++] : rebuilt[d++])) as unknown as Args))
      }
    )
    return { entry, dynamic }
  }

  const jitted = ((...args: Args): R => {
    const { entry, dynamic } = lookup(args)
    return runJitEntry(entry, dynamic) as R
  }) as Jitted<Args, R>
  Object.defineProperties(jitted, {
    traceCount: { get: cache.traceCount },
    cacheSize: { get: cache.size },
    lower: { value: (...args: Args) => printJaxpr(lookup(args).entry.staged.closed) },
    plan: {
      value: (...args: Args) => {
        const { entry } = lookup(args)
        if (!entry.staged.closed.consts.every((c) => c.isConcrete)) {
          throw new StructureError({
            transform: "jit",
            reason:
              "this call closes over values traced by an enclosing transform, so it runs through that transform and has no compiled plan; call plan(...) outside the transform"
          })
        }
        return entry.executable.plan()
      }
    },
    clearCache: { value: cache.clear }
  })
  return jitted
}
