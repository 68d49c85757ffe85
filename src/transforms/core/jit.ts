/**
 * `jit`: stage a function into a jaxpr once per input signature (pytree structure, shapes, dtypes,
 * weak types and static argument values), cache it, and run it. On concrete arguments it runs the
 * program's compiled plan (see `compile/plan.ts`: common subexpressions merged, constants folded,
 * elementwise chains fused into one kernel where the backend can, buffers freed after their last
 * use), compiled once per backend. Under an enclosing transform the cached jaxpr is evaluated on
 * that transform's tracers, so `vmap(jit(f))` and `grad(jit(f))` work.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import type { Aval } from "../../backend/DType.ts"
import { printJaxpr } from "../../backend/Jaxpr.ts"
import { makeExecutable } from "./compile/executable.ts"
import type { Executable } from "./compile/executable.ts"
import type { Plan } from "./compile/plan.ts"
import { flatten, treedefKey, unflatten } from "./pytree.ts"
import { restoreOutput, stage } from "./staging.ts"
import type { Staged } from "./staging.ts"
import { StructureError } from "./TransformError.ts"

/** Options of {@link jit}. */
export interface JitOptions {
  /** Positional arguments that are static: part of the cache key, passed to `f` as they are. */
  readonly staticArgnums?: number | ReadonlyArray<number> | undefined
}

/** A jitted function: callable, with its trace count and cache exposed. */
export interface Jitted<Args extends ReadonlyArray<unknown>, R> {
  (...args: Args): R
  /** How many times `f` was traced (once per new input signature). */
  readonly traceCount: number
  /** How many signatures are cached. */
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
interface Entry {
  readonly staged: Staged
  readonly executable: Executable
}

const avalKey = (a: Aval): string => `${a.dtype}${a.weakType ? "~" : ""}[${a.shape.join(",")}]`

const staticKey = (v: unknown): string => {
  if (typeof v === "function") throw new StructureError({ transform: "jit", reason: "a static argument is a function; functions are compared by identity and cannot be part of a cache key: close over it instead" })
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    throw new StructureError({ transform: "jit", reason: "a static argument is not serialisable (cyclic?); static arguments must be plain data" })
  }
}

/**
 * Compiles `f` by tracing: the first call with a new signature traces `f` into a jaxpr (dead code
 * removed) and caches it; calls run its plan, compiled once per backend, without running `f`'s
 * JavaScript. `f.plan(...)` shows the plan: which primitives run as one fused kernel.
 *
 * @example
 * ```ts
 * const f = jit((x: jnp.Array) => jnp.tanh(x).sum())
 * f(jnp.ones([3])); f(jnp.zeros([3]))
 * f.traceCount // 1
 * String(f.plan(jnp.ones([3]))) // one step on a fusing backend: fused[reduce_sum ... : tanh]
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const jit = <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, options?: JitOptions): Jitted<Args, R> => {
  const staticArgnums = new Set(typeof options?.staticArgnums === "number" ? [options.staticArgnums] : options?.staticArgnums ?? [])
  const cache = new Map<string, Entry>()
  let traces = 0

  const prepare = (args: Args): { key: string; dynamic: Array<JArray>; build: (dyn: ReadonlyArray<JArray>) => Args } => {
    const statics: Array<unknown> = []
    const dynamicArgs: Array<unknown> = []
    args.forEach((a, i) => (staticArgnums.has(i) ? statics.push(a) : dynamicArgs.push(a)))
    const [leaves, def] = flatten(dynamicArgs)
    // JavaScript numbers and booleans in dynamic positions are traced as weak scalars, as JAX does.
    const dynamic = leaves.map((l, i) => {
      if (isArray(l)) return l
      throw new StructureError({ transform: "jit", reason: `dynamic argument leaf ${i} is ${typeof l}, not an Array; mark its argument static with staticArgnums or pass jnp.array(...)` })
    })
    const key = `${treedefKey(def)}|${dynamic.map((d) => avalKey(d.aval)).join(";")}|${statics.map(staticKey).join(";")}`
    const build = (dyn: ReadonlyArray<JArray>): Args => {
      const rebuilt = unflatten(def, dyn) as Array<unknown>
      let s = 0
      let d = 0
      return args.map((_, i) => (staticArgnums.has(i) ? statics[s++] : rebuilt[d++])) as unknown as Args
    }
    return { key, dynamic, build }
  }

  const lookup = (args: Args): { entry: Entry; dynamic: Array<JArray> } => {
    const { key, dynamic, build } = prepare(args)
    let entry = cache.get(key)
    if (entry === undefined) {
      traces++
      const staged = stage("jit", (tracers) => f(...build(tracers)), dynamic.map((d) => d.aval))
      entry = { staged, executable: makeExecutable(staged.closed) }
      // A jaxpr that closed over another transform's tracers is only valid in that context.
      if (staged.closed.consts.every((c) => c.isConcrete)) cache.set(key, entry)
    }
    return { entry, dynamic }
  }

  const jitted = ((...args: Args): R => {
    const { entry, dynamic } = lookup(args)
    return restoreOutput(entry.staged, entry.executable.call(dynamic)) as R
  }) as Jitted<Args, R>
  Object.defineProperties(jitted, {
    traceCount: { get: () => traces },
    cacheSize: { get: () => cache.size },
    lower: { value: (...args: Args) => printJaxpr(lookup(args).entry.staged.closed) },
    plan: {
      value: (...args: Args) => {
        const { entry } = lookup(args)
        if (!entry.staged.closed.consts.every((c) => c.isConcrete)) {
          throw new StructureError({ transform: "jit", reason: "this call closes over values traced by an enclosing transform, so it runs through that transform and has no compiled plan; call plan(...) outside the transform" })
        }
        return entry.executable.plan()
      }
    },
    clearCache: { value: () => cache.clear() }
  })
  return jitted
}
