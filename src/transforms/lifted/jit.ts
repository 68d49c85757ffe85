/**
 * `nnx.jit`: `jit` over functions of Modules, Variables and Rngs. The cache key includes each graph
 * node's GraphDef, so a structure change (an attribute added inside, a new shared reference)
 * retraces; state changes propagate out like every lifted transform.
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
import { makeExecutable } from "../core/compile/executable.ts"
import type { Executable } from "../core/compile/executable.ts"
import { restoreOutput, stage } from "../core/staging.ts"
import type { Staged } from "../core/staging.ts"
import { StructureError } from "../core/TransformError.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted } from "../combinator.ts"
import { AliasTracker, filterMappingResolver, mergeTree, NodeStates, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"

type Sharding = PartitionSpec | null

/** Options of {@link jit}. */
export interface JitOptions {
  /** Sharding of each argument: `null`, a spec, or a `StateSharding` for graph nodes (recorded as metadata of the call). */
  readonly inShardings?: unknown
  readonly outShardings?: unknown
  /** Positional arguments that are static (part of the cache key). */
  readonly staticArgnums?: number | ReadonlyArray<number> | undefined
}

/** A jitted lifted function: an Effect per call, `.sync`, and its trace count. */
export interface LiftedJit<Args extends ReadonlyArray<unknown>, R> extends Lifted<Args, R> {
  /** How many times `f` was traced. */
  readonly traceCount: number
  /** The cached program for these arguments, printed. */
  readonly lower: (...args: Args) => string
}

const resolveSharding = filterMappingResolver<Sharding>("nnx.jit", (u): u is StateSharding => isStateSharding(u), (u) => (u ?? null) as Sharding)

const isShardingPrefix = (u: unknown): boolean => u === null || u === undefined || isStateSharding(u) || (Array.isArray(u) && u.every((x) => x === null || typeof x === "string"))

const avalKey = (a: JArray): string => `${a.dtype}${a.weakType ? "~" : ""}[${a.shape.join(",")}]`

const staticKey = (u: unknown): string => {
  if (u instanceof NodeStates) {
    const templates = u.templates.map((t) => (t instanceof VariableState ? `${t.kind}:${JSON.stringify(t.metadata)}` : JSON.stringify(t) ?? String(t)))
    return `G${Hash.hash(u.graphdef)}|${u.groupOf.join(",")}|${templates.join(";")}`
  }
  if (typeof u === "function") return `F${String(u.name)}`
  return JSON.stringify(u) ?? String(u)
}

/**
 * Compiles a function of Modules and Arrays by tracing, like `nnx.jit`.
 *
 * @example
 * ```ts
 * const step = nnx.jit((m: Counter, x: jnp.Array) => { m.count.value = m.count.value.add(1); return x.mul(2) })
 * step.sync(counter, x); step.sync(counter, x)
 * step.traceCount // 1
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const jit = <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, options?: JitOptions): LiftedJit<Args, R> => {
  const staticArgnums = new Set(typeof options?.staticArgnums === "number" ? [options.staticArgnums] : options?.staticArgnums ?? [])
  const cache = new Map<string, { readonly staged: Staged; readonly exec: Executable }>()
  let traces = 0
  const inPrefix = options?.inShardings ?? null
  const outPrefix = options?.outShardings ?? null
  const base = {
    transform: "nnx.jit",
    isPrefixLeaf: isShardingPrefix,
    resolve: resolveSharding,
    show: (s: Sharding) => (s === null ? "null" : `(${s.join(", ")})`),
    corePrefix: () => null
  }

  const prepare = (args: Args) => {
    const dynamicArgs = args.map((a, i) => (staticArgnums.has(i) ? undefined : a))
    const statics = args.filter((_, i) => staticArgnums.has(i))
    const refMap = new Map<object, number>()
    const outer = splitTree<Sharding>(dynamicArgs, inPrefix, { ...base, what: "inShardings", refMap, aliases: new AliasTracker() })
    const [leaves, def] = treeFlatten(outer.pure)
    const dynamic: Array<JArray> = []
    const staticLeaves: Array<unknown> = []
    const isDyn = leaves.map((l) => {
      if (isArray(l)) {
        dynamic.push(l)
        return true
      }
      if (typeof l === "number" || typeof l === "boolean") {
        throw new StructureError({ transform: "nnx.jit", reason: `a dynamic argument leaf is the JavaScript ${typeof l} ${String(l)}; pass an Array (jnp.array(...)) or mark the argument static with staticArgnums` })
      }
      staticLeaves.push(l)
      return false
    })
    const key = `${treedefKey(def)}|${dynamic.map(avalKey).join(";")}|${staticLeaves.map(staticKey).join(";")}|${statics.map((s) => JSON.stringify(s)).join(";")}`
    const rebuild = (dyn: ReadonlyArray<JArray>): unknown => {
      let d = 0
      let s = 0
      return treeUnflatten(def, isDyn.map((b) => (b ? dyn[d++] : staticLeaves[s++])))
    }
    return { key, dynamic, rebuild, refMap }
  }

  const trace = (args: Args, p: ReturnType<typeof prepare>): Staged => {
    traces++
    return stage("nnx.jit", (tracers) => {
      const pureArgs = p.rebuild(tracers) as ReadonlyArray<unknown>
      const indexMap = new Map<number, object>()
      const innerDyn = mergeTree<Sharding>(pureArgs, { indexMap }) as Array<unknown>
      const innerArgs = args.map((a, i) => (staticArgnums.has(i) ? a : innerDyn[i])) as unknown as Args
      const out = withMutationCheck(() => callUser(() => f(...innerArgs)))
      const splitOptions: SplitOptions<Sharding> = {
        ...base,
        what: "inShardings",
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker()
      }
      const a = splitTree<Sharding>(innerArgs.map((x, i) => (staticArgnums.has(i) ? undefined : x)), inPrefix, splitOptions)
      const o = splitTree<Sharding>(out, outPrefix, { ...splitOptions, what: "outShardings" })
      return [a.pure, o.pure]
    }, p.dynamic.map((d) => d.aval))
  }

  const lookup = (args: Args) => {
    const p = prepare(args)
    let entry = cache.get(p.key)
    if (entry === undefined) {
      const staged = trace(args, p)
      entry = { staged, exec: makeExecutable(staged.closed) }
      if (staged.closed.consts.every((c) => c.isConcrete)) cache.set(p.key, entry)
    }
    return { staged: entry.staged, exec: entry.exec, p }
  }

  const impl = (args: Args): never => {
    const { staged, exec, p } = lookup(args)
    const [argsOut, outPure] = restoreOutput(staged, exec.call(p.dynamic)) as readonly [unknown, unknown]
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(p.refMap) }
    mergeTree(argsOut, mergeOptions)
    return mergeTree(outPure, mergeOptions) as never
  }

  const result = lifted<Args, R>((args) => callUser(() => impl(args)))
  Object.defineProperties(result, {
    traceCount: { get: () => traces },
    lower: { value: (...args: Args) => printJaxpr(lookup(args).staged.closed) }
  })
  return result as LiftedJit<Args, R>
}
