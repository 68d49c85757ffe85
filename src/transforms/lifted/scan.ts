/**
 * `nnx.scan`: `lax.scan` over functions of Modules, Variables and Rngs. Each argument (or, with a
 * `StateAxes`, each sub-state of a graph node) is either
 *
 * - scanned over an axis (`0`, `1`, ...): each iteration sees one slice; what `f` leaves in that
 *   state is stacked back along the same axis,
 * - the loop carry (`nnx.Carry`): threaded from one iteration to the next; its structure (which
 *   Variables it holds, their shapes and dtypes) must stay the same,
 * - broadcast (`null`): the same value for every iteration. Broadcast state that `f` writes is
 *   threaded through the iterations like a carry (each iteration sees the value the previous one
 *   left) and its final value is written back, as Flax 0.12.8 does in its tree mode
 *   (`graph_updates=False`; its default graph mode drops such writes silently). It must keep its
 *   shape and dtype, and a broadcast graph node must keep its structure.
 *
 * As in Flax, `inAxes` defaults to `[nnx.Carry, 0]` and `outAxes` to `[nnx.Carry, 0]`: argument 0
 * is the carry and `f` returns `[carry, y]`. The carry is one whole top-level argument; `f` must
 * return the same graph nodes in it (their state may change). `outAxes` cannot hold `null`.
 *
 * As in Flax, what does not depend on the arguments is checked when `nnx.scan(f, options)` is
 * called (two Carry entries, Carry on one side only, a nested Carry, broadcast or carried outputs,
 * axes of another form), and the body is traced once per signature and cached.
 *
 * @since 0.1.0
 */
import { Effect, Hash } from "effect"
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import type { Aval } from "../../backend/DType.ts"
import type { ClosedJaxpr } from "../../backend/Jaxpr.ts"
import { asArray } from "../../backend/numpy/creation.ts"
import { moveaxis } from "../../backend/numpy/shapeOps.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import type { Module } from "../../graph/Module.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import type { Metadata, Variable } from "../../graph/Variable.ts"
import { VariableState } from "../../graph/Variable.ts"
import { Carry as CARRY, isCarry, isStateAxes } from "../../filters/LiftTypes.ts"
import type { AxisOrCarry, CarryMarker, StateAxes } from "../../filters/LiftTypes.ts"
import { defaultMaxCacheSize, makeLruCache, signatureKey, staticKey } from "../core/cacheKey.ts"
import { outAvalsOf } from "../core/jaxprTransforms.ts"
import {
  broadcastPrefix,
  flatten as treeFlatten,
  isRecord,
  leafPaths,
  treedefKey,
  unflatten as treeUnflatten
} from "../core/pytree.ts"
import { closeOverConsts, stage } from "../core/staging.ts"
import type { TreeDef } from "../core/pytree.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted, Out } from "../combinator.ts"
import {
  AliasTracker,
  checkPrefixForm,
  filterMappingResolver,
  isGraphNode,
  isPureNode,
  mergeTree,
  NodeStates,
  splitTree
} from "../extract.ts"
import type { SplitOptions } from "../extract.ts"
import { LiftTypeError } from "../LiftError.ts"
import { PARTITION_NAME } from "./vmap.ts"

/** A scan prefix: an axis to scan over, `null` (broadcast) or `nnx.Carry`. */
export type ScanAxis = number | null | CarryMarker

/** A scan prefix for a value of type `A`: graph nodes also accept a `StateAxes` (with `Carry`). */
export type ScanAxisFor<A> = A extends Module | Variable<unknown>
  ? ScanAxis | StateAxes<AxisOrCarry>
  : A extends JArray
    ? ScanAxis
    : A extends ReadonlyArray<unknown>
      ? ScanAxis | { readonly [K in keyof A]: NestedScanAxisFor<A[K]> }
      : A extends Record<string, unknown>
        ? ScanAxis | { readonly [K in keyof A]?: NestedScanAxisFor<A[K]> }
        : ScanAxis

/** `outAxes` of {@link scan}: for a tuple output (`[carry, y]`), one prefix per element, each may be Carry. */
export type ScanOutAxes<O> =
  O extends ReadonlyArray<unknown> ? ScanAxis | { readonly [K in keyof O]: ScanAxisFor<O[K]> } : ScanAxisFor<O>

/** A prefix below the top level: `Carry` is one whole argument (or output), never part of one. */
type NestedScanAxisFor<A> = A extends Module | Variable<unknown>
  ? number | null | StateAxes<AxisOrCarry>
  : A extends JArray
    ? number | null
    : A extends ReadonlyArray<unknown>
      ? number | null | { readonly [K in keyof A]: NestedScanAxisFor<A[K]> }
      : A extends Record<string, unknown>
        ? number | null | { readonly [K in keyof A]?: NestedScanAxisFor<A[K]> }
        : number | null

/** `inAxes` of {@link scan}: one prefix for all arguments, or one entry per parameter. */
export type ScanInAxes<Args extends ReadonlyArray<unknown>> =
  | ScanAxis
  | { readonly [K in keyof Args]: ScanAxisFor<Args[K]> }

/** Whether a prefix entry is `Carry` (a StateAxes holding Carry carries part of a node, as any position may). */
type HoldsCarry<X> = X extends CarryMarker ? true : false

/** The top-level positions of `Carry` in `inAxes`/`outAxes` (`"all"` for a bare Carry). */
type CarryAt<P> =
  P extends ReadonlyArray<unknown>
    ? { [K in keyof P]-?: HoldsCarry<P[K]> extends true ? K : never }[number]
    : HoldsCarry<P> extends true
      ? "all"
      : never

type IsUnion<U, All = U> = U extends unknown ? ([All] extends [U] ? false : true) : never

/** Whether `null`, or a StateAxes holding `null` or `Carry`, is anywhere in `outAxes`. */
type BadOut<P, D extends ReadonlyArray<0> = []> = D["length"] extends 6
  ? false
  : P extends null
    ? true
    : P extends StateAxes<infer A>
      ? null extends A
        ? true
        : CarryMarker extends A
          ? true
          : false
      : P extends ReadonlyArray<unknown>
        ? true extends { [K in keyof P]: BadOut<P[K], [...D, 0]> }[number]
          ? true
          : false
        : P extends CarryMarker | number
          ? false
          : P extends object
            ? true extends { [K in keyof P]-?: BadOut<P[K], [...D, 0]> }[keyof P]
              ? true
              : false
            : false

/** `inAxes` with one Carry at most: `unknown`, else a message no value has. */
type CheckScanIn<I> =
  true extends IsUnion<CarryAt<I>> ? "a scan has one carry: Carry may appear once in inAxes" : unknown

/**
 * `outAxes` that agree with `inAxes` (a carry on both sides or neither, one Carry, no broadcast
 * output): `unknown`, else a message no value has. The same rules are checked at run time when
 * the transform is made, for calls the compiler cannot see.
 */
type CheckScanOut<I, O> =
  true extends IsUnion<CarryAt<O>>
    ? "a scan has one carry: Carry may appear once in outAxes"
    : ([CarryAt<Given<I>>] extends [never] ? false : true) extends ([CarryAt<O>] extends [never] ? false : true)
      ? IsTrue<BadOut<Exclude<O, CarryMarker>>> extends true
        ? "outAxes cannot hold null (no broadcast outputs), nor a StateAxes holding null or Carry"
        : unknown
      : "Carry must be in both inAxes and outAxes, or in neither"

type IsTrue<B> = [B] extends [never] ? false : [B] extends [true] ? true : false

/** `inAxes` as given, or its default `[Carry, 0]`. */
type Given<I> = [I] extends [never] ? readonly [CarryMarker, 0] : I

/** Options of {@link scan}. */
export interface ScanOptions<
  Args extends ReadonlyArray<unknown>,
  R,
  I extends ScanInAxes<Args> = ScanInAxes<Args>,
  O extends ScanOutAxes<Out<R>> = ScanOutAxes<Out<R>>
> {
  /** Default `[nnx.Carry, 0]`: argument 0 is the carry, argument 1 is scanned over axis 0. */
  readonly inAxes?: I | undefined
  /** Default `[nnx.Carry, 0]`: `f` returns `[carry, y]`, `y` stacked on axis 0. No `null`. */
  readonly outAxes?: O | undefined
  /** The number of iterations; required when nothing is scanned over. */
  readonly length?: number | undefined
  /** Iterate from the last slice to the first (stacked outputs stay in input order). */
  readonly reverse?: boolean | undefined
  /** With `{ [PARTITION_NAME]: name }`, `shardingNames` lose the scanned axis inside and regain it outside. */
  readonly transformMetadata?: { readonly [PARTITION_NAME]?: string } | undefined
  /** How many traced signatures the cache keeps (default 64); past it the least recently used is dropped. */
  readonly maxCacheSize?: number | undefined
}

const T = "nnx.scan"

const fail = (reason: string): never => {
  throw new LiftTypeError({ transform: T, reason })
}

const isScanAxis = (u: unknown): boolean => u === null || Number.isInteger(u) || isCarry(u)

/** A leaf of `inAxes`/`outAxes` as `nnx.scan` takes it (checked when the transform is made). */
const isScanForm = (u: unknown): boolean =>
  isScanAxis(u) || (isStateAxes(u) && u.entries.every(([, a]) => isScanAxis(a)))

/** The prefix forms of `nnx.scan`, in words. */
const SCAN_FORMS = "an integer, null, Carry or a StateAxes (of those)"

const isScanPrefix = (u: unknown): boolean => u === null || typeof u === "number" || isCarry(u) || isStateAxes(u)

const resolveScan = filterMappingResolver<ScanAxis>(
  T,
  (u): u is StateAxes<AxisOrCarry> => isStateAxes(u),
  (u) => u as ScanAxis
)

const showScan = (a: ScanAxis): string => (a === null ? "null" : String(a))

/** An axes option as the user wrote it, for error messages. */
const showAxes = (u: unknown): string => {
  if (u === null) return "null"
  if (isCarry(u)) return "Carry"
  if (isStateAxes(u)) return u.toString()
  if (Array.isArray(u)) return `[${u.map(showAxes).join(", ")}]`
  if (isRecord(u))
    return `{ ${Object.keys(u)
      .map((k) => `${k}: ${showAxes(u[k])}`)
      .join(", ")} }`
  return String(u)
}

/** The key of a static leaf of the split arguments: a graph node's structure, or the value itself. */
const leafKey = (u: unknown): string => {
  if (u instanceof NodeStates) {
    // A Variable holding a non-Array value (group -1) is static: its value is part of the key, as a
    // static attribute's is part of the GraphDef, so a new value retraces instead of replaying the old one.
    const templates = u.templates.map((t, k) =>
      t instanceof VariableState
        ? `${t.kind}:${staticKey(T, t.metadata)}${u.groupOf[k] === -1 ? `=${staticKey(T, t.value)}` : ""}`
        : staticKey(T, t)
    )
    return `G${Hash.hash(u.graphdef)}|${u.groupOf.join(",")}|${templates.join(";")}`
  }
  return `L${staticKey(T, u)}`
}

/** Removes (inside) or re-inserts (outside) the partition name at a scanned axis. */
export const shardingMetadataMap = (partition: string | undefined, inside: boolean) =>
  partition === undefined
    ? undefined
    : (metadata: Metadata, axis: unknown): Metadata => {
        const names = metadata["shardingNames"]
        if (typeof axis !== "number" || !Array.isArray(names)) return metadata
        const list = [...(names as ReadonlyArray<string | null>)]
        if (inside) list.splice(axis, 1)
        else list.splice(axis, 0, partition)
        return { ...metadata, shardingNames: list }
      }

/**
 * Where `Carry` stands in `axes`: `"all"` (the whole prefix is Carry), a top-level index, or
 * `undefined`. Carry nested deeper (outside a StateAxes) or given twice is an error, as in Flax.
 */
const carryIndex = (axes: unknown, what: string): number | "all" | undefined => {
  if (isCarry(axes)) return "all"
  let found: { readonly index: number; readonly path: string } | undefined
  const visit = (u: unknown, path: string, top: number | undefined): void => {
    if (isCarry(u)) {
      if (top === undefined || path.includes("][") || path.includes("['")) {
        fail(
          `Carry must be at the top level, it cannot be nested. Found ${what}=${showAxes(axes)} (Carry at ${what}${path}); make the carry one whole argument, and choose its sub-states with a StateAxes`
        )
      }
      if (found !== undefined)
        fail(
          `Found multiple Carry definitions at ${what}${found.path} and ${what}${path}; a scan has one carry: put its parts in one argument`
        )
      found = { index: top!, path }
      return
    }
    if (Array.isArray(u)) u.forEach((c, i) => visit(c, `${path}[${i}]`, top ?? i))
    else if (isRecord(u)) for (const k of Object.keys(u)) visit(u[k], `${path}['${k}']`, top ?? -1)
  }
  if (Array.isArray(axes)) axes.forEach((c, i) => visit(c, `[${i}]`, i))
  else if (isRecord(axes)) for (const k of Object.keys(axes)) visit(axes[k], `['${k}']`, undefined)
  return found?.index
}

/** `outAxes` cannot broadcast (`null`) and a StateAxes in it cannot hold `null` or `Carry`. */
const checkOutAxes = (axes: unknown): void => {
  const visit = (u: unknown, path: string): void => {
    const at = `outAxes${path}`
    if (u === null)
      fail(`Cannot broadcast output state. Got outAxes=null at: ${at}; give the output an axis to stack it on`)
    if (isStateAxes(u)) {
      for (const [, value] of u.entries) {
        if (value === null)
          fail(
            `Cannot broadcast output state. Got ${u.toString()} at: ${at}; give every filter of an output StateAxes an axis`
          )
        if (isCarry(value))
          fail(
            `Cannot carry output state. Got ${u.toString()} at: ${at}; return the carry argument itself at the Carry position of outAxes`
          )
      }
      return
    }
    if (Array.isArray(u)) u.forEach((c, i) => visit(c, `${path}[${i}]`))
    else if (isRecord(u)) for (const k of Object.keys(u)) visit(u[k], `${path}['${k}']`)
  }
  visit(axes, "")
}

/** Keeps only the graph nodes of a tree (other leaves become `null`). */
export const graphNodesOnly = (tree: unknown): unknown => {
  const [leaves, def] = treeFlatten(tree, isGraphNode)
  return treeUnflatten(
    def,
    leaves.map((l) => (isGraphNode(l) ? l : null))
  )
}

/**
 * A name for every leaf of a pure tree (aligned with `treeFlatten(pure)`): its pytree path and, for
 * a graph node's Arrays, the Variable's path and kind.
 */
export const describePureLeaves = (pure: unknown, root: string): Array<string> => {
  const [top, def] = treeFlatten(pure, isPureNode)
  const paths = leafPaths(def, root)
  const out: Array<string> = []
  top.forEach((leaf, i) => {
    const at = paths[i]!
    if (!isPureNode(leaf)) {
      out.push(at)
      return
    }
    const ns = leaf.n
    out.push(`${at} (graph)`)
    leaf.v.forEach((group, g) => {
      const idx = ns.groupOf.flatMap((gg, k) => (gg === g ? [k] : []))
      group.forEach((_, j) => {
        const k = idx[j]!
        const t = ns.templates[k]
        out.push(`${at}/${ns.paths[k]!.join("/")} (${t instanceof VariableState ? t.kind : "Array"})`)
      })
      // Lists of a group without Arrays flatten to nothing; keep alignment by construction.
    })
  })
  return out
}

/** Per-leaf prefixes of a pure tree whose prefix tree came from `splitTree`. */
const leafPrefixes = (prefix: unknown, def: TreeDef, what: string): Array<unknown> =>
  broadcastPrefix(T, what, prefix, def, (u): u is unknown => isScanPrefix(u), "args")

/** The carry returned by `f` must hold the same graph nodes as the carry it received. */
const checkSameReferences = (input: unknown, output: unknown): void => {
  const [a, da] = treeFlatten(input, isGraphNode)
  const [b, db] = treeFlatten(output, isGraphNode)
  const pa = leafPaths(da, "carry")
  if (pa.length !== leafPaths(db, "carry").length || JSON.stringify(da) !== JSON.stringify(db)) {
    fail(
      `the carry returned by f has a different structure from the carry argument: it had ${pa.length} leaves (${pa.join(", ")}) and f returned ${leafPaths(db, "carry").join(", ") || "none"}`
    )
  }
  a.forEach((x, i) => {
    const y = b[i]
    if ((isGraphNode(x) || isGraphNode(y)) && x !== y) {
      fail(
        `Carry references must be the same between iterations: ${pa[i]} was a different object (or not a graph node) in the carry f returned; return the carry's own Modules and Variables (their state may change)`
      )
    }
  })
}

type Slot =
  | { readonly kind: "carry" }
  | { readonly kind: "xs"; readonly axis: number }
  | { readonly kind: "broadcast"; readonly index: number }
  | { readonly kind: "written"; readonly index: number }
  | { readonly kind: "keep" }

/** A scanned lifted function: an Effect per call, `.sync`, and its trace cache. */
export interface LiftedScan<Args extends ReadonlyArray<unknown>, R> extends Lifted<Args, R> {
  /** How many times `f` was traced (once per new signature; again when a weakly typed carry is promoted or broadcast state is written). */
  readonly traceCount: number
  /** How many signatures are cached (at most `maxCacheSize`). */
  readonly cacheSize: number
  /** Drops the cache. */
  readonly clearCache: () => void
}

/** What one traced signature leaves: the loop body as a program, and how to rebuild the outputs. */
interface ScanEntry {
  /** The body, its constants turned into leading inputs: `[consts, broadcast, carry, x]`. */
  readonly jaxpr: ClosedJaxpr
  readonly consts: ReadonlyArray<JArray>
  /** Per carry Array: the aval the body returns when it differs in weak type (JAX promotes the initial carry). */
  readonly promote: ReadonlyArray<Aval | undefined>
  /** The broadcast Arrays `f` writes: carried after the carry proper, in this order. */
  readonly written: ReadonlyArray<number>
  readonly aLeaves: ReadonlyArray<unknown>
  readonly aDef: TreeDef
  readonly aSlots: ReadonlyArray<Slot>
  readonly oLeaves: ReadonlyArray<unknown>
  readonly oDef: TreeDef
  readonly oSlots: ReadonlyArray<Slot>
}

/** The scan prefixes of `options`, checked as Flax checks them when `nnx.scan` is called. */
const decorate = (options: ScanOptions<ReadonlyArray<unknown>, unknown> | undefined) => {
  const inAxes: unknown = options?.inAxes === undefined ? [CARRY, 0] : options.inAxes
  const outAxes: unknown = options?.outAxes === undefined ? [CARRY, 0] : options.outAxes
  checkPrefixForm(T, "inAxes", inAxes, isScanForm, SCAN_FORMS)
  checkPrefixForm(T, "outAxes", outAxes, isScanForm, SCAN_FORMS)
  const inCarry = carryIndex(inAxes, "inAxes")
  const outCarry = carryIndex(outAxes, "outAxes")
  checkOutAxes(outAxes)
  if ((inCarry === undefined) !== (outCarry === undefined)) {
    fail(
      `If one of inAxes or outAxes has Carry, the other must also have Carry. Got inAxes=${showAxes(inAxes)} and outAxes=${showAxes(outAxes)}`
    )
  }
  return { inAxes, outAxes, inCarry, outCarry }
}

/**
 * Scans `f` over Modules, Variables and Arrays, like `nnx.scan`. The loop body is traced once per
 * signature (the graph nodes' structure, the Arrays' shapes and dtypes without the scanned axis,
 * the static values) and cached, as `nnx.jit` caches; `traceCount` shows it. The number of
 * iterations is not part of the signature. Prefix errors that do not depend on the arguments (two
 * Carry entries, Carry on one side only, broadcast or carried outputs) are thrown by `nnx.scan`
 * itself, as Flax does.
 *
 * Effects: an `f` that returns an Effect is traced on every call (its Effect runs each time), so
 * such a body is never cached.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Layer extends nnx.Module {
 *   w: nnx.Param<jnp.Array>
 *   constructor(w: jnp.Array) { super(); this.w = new nnx.Param(w) }
 * }
 * // 3 stacked layers (made by a vmapped initializer), applied one after the other
 * const layers = nnx.vmap((w: jnp.Array) => new Layer(w)).sync(jnp.array([1, 2, 3]))
 * const forward = nnx.scan((x: jnp.Array, layer: Layer) => [x.mul(layer.w.value), null] as const, { inAxes: [nnx.Carry, 0] })
 * const [y] = forward.sync(jnp.ones([2]), layers)
 * y // [6, 6]
 * forward.sync(jnp.zeros([2]), layers)
 * forward.traceCount // 1
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const scan = <
  Args extends ReadonlyArray<unknown>,
  R,
  const I extends ScanInAxes<Args> = never,
  const O extends ScanOutAxes<Out<R>> = never
>(
  f: (...args: Args) => R,
  options?: ScanOptions<Args, R, I, O> & {
    readonly inAxes?: NoInfer<CheckScanIn<I>>
    readonly outAxes?: NoInfer<CheckScanOut<I, O>>
  }
): LiftedScan<Args, R> => {
  const { inAxes, inCarry, outAxes, outCarry } = decorate(
    options as ScanOptions<ReadonlyArray<unknown>, unknown> | undefined
  )
  const carryArg = inCarry === "all" ? 0 : inCarry
  const partition = options?.transformMetadata?.[PARTITION_NAME]
  const base = {
    transform: T,
    isPrefixLeaf: isScanPrefix,
    resolve: resolveScan,
    show: showScan,
    corePrefix: (a: ScanAxis) => a,
    expected: SCAN_FORMS
  }
  const cache = makeLruCache<ScanEntry>(T, options?.maxCacheSize ?? defaultMaxCacheSize)
  let traces = 0

  const impl = (args: Args): never => {
    if (inCarry === "all" && args.length !== 1)
      fail(`when inAxes is Carry, the function must take exactly one argument, got ${args.length}`)

    // 1. Outer split; sort every leaf into carry, scanned (xs), broadcast or static.
    const refMap = new Map<object, number>()
    const outer = splitTree<ScanAxis>(args, inAxes, {
      ...base,
      what: "inAxes",
      refMap,
      aliases: new AliasTracker(),
      checkTrace: true
    })
    const [inLeaves, inDef] = treeFlatten(outer.pure)
    const inPrefixes = leafPrefixes(outer.prefix, inDef, "inAxes")
    const inNames = describePureLeaves(outer.pure, "args")
    const carryIn: Array<JArray> = []
    const carryInNames: Array<string> = []
    const xs: Array<JArray> = []
    const broadcast: Array<JArray> = []
    const broadcastNames: Array<string> = []
    const staticKeys: Array<string> = []
    const inSlots: Array<Slot> = inLeaves.map((leaf, i): Slot => {
      const p = inPrefixes[i]
      if (isStateAxes(p))
        return fail(`StateAxes can only be used on graph nodes (Modules, Variables); ${inNames[i]} is not one`)
      if (isCarry(p) && (isArray(leaf) || typeof leaf === "number" || typeof leaf === "boolean")) {
        carryIn.push(asArray(leaf))
        carryInNames.push(inNames[i]!)
        return { kind: "carry" }
      }
      if (typeof p === "number" && !(leaf instanceof NodeStates)) {
        if (!isArray(leaf))
          return fail(
            `${inNames[i]} is ${typeof leaf}, not an Array, so it cannot be scanned over axis ${p}; give it null (broadcast) or Carry`
          )
        if (!Number.isInteger(p) || p < -leaf.ndim || p >= leaf.ndim)
          return fail(`cannot scan ${inNames[i]} (shape [${leaf.shape.join(", ")}]) over axis ${p}`)
        const axis = p < 0 ? p + leaf.ndim : p
        xs.push(axis === 0 ? leaf : moveaxis(leaf, axis, 0))
        return { kind: "xs", axis }
      }
      if (isArray(leaf)) {
        broadcast.push(leaf)
        broadcastNames.push(inNames[i]!)
        return { kind: "broadcast", index: broadcast.length - 1 }
      }
      staticKeys.push(leafKey(leaf))
      return { kind: "keep" }
    })
    const xAvals = xs.map((x) => ({ ...x.aval, shape: x.shape.slice(1) }))
    const key = signatureKey({
      treedef: treedefKey(inDef),
      avals: [...broadcast.map((b) => b.aval), ...carryIn.map((c) => c.aval), ...xAvals],
      statics: staticKeys
    })

    /**
     * Traces the loop body for these carry avals (phases 2 and 3 of the extract protocol). The
     * carry is the carry proper, then the broadcast Arrays in `written` (found by an earlier trace).
     */
    const trace = (carryAvals: ReadonlyArray<Aval>, written: ReadonlyArray<number>) => {
      let saved: Omit<ScanEntry, "jaxpr" | "consts" | "promote" | "written"> | undefined
      const writes = new Set<number>()
      let returnedEffect = false
      traces++
      const staged = stage(
        T,
        (flat) => {
          const b = flat.slice(0, broadcast.length)
          const c = flat.slice(broadcast.length, broadcast.length + carryAvals.length)
          const x = flat.slice(broadcast.length + carryAvals.length)
          // A written broadcast Array is read from the carry, so each iteration sees the last write.
          written.forEach((k, j) => {
            b[k] = c[carryIn.length + j]!
          })
          // 2. Inner merge: fresh objects for this iteration, in the outer objects' index space.
          let ci = 0
          let xi = 0
          const leaves = inLeaves.map((l, i) => {
            const s = inSlots[i]!
            return s.kind === "carry" ? c[ci++] : s.kind === "xs" ? x[xi++] : s.kind === "broadcast" ? b[s.index] : l
          })
          const indexMap = new Map<number, object>()
          const innerArgs = mergeTree<ScanAxis>(treeUnflatten(inDef, leaves), {
            indexMap,
            metadata: shardingMetadataMap(partition, true)
          }) as Array<unknown>
          const out: unknown = withMutationCheck(() =>
            callUser(() => {
              const r = f(...(innerArgs as unknown as Args))
              if (Effect.isEffect(r)) returnedEffect = true
              return r
            })
          )
          // The carry f returned, and the rest of its output.
          let carryOut: unknown
          let rest: unknown = out
          if (outCarry === "all") {
            carryOut = out
            rest = null
          } else if (outCarry !== undefined) {
            if (!Array.isArray(out) || out.length <= outCarry) {
              return fail(
                `outAxes puts the carry at [${outCarry}], so f must return an array with the carry there (e.g. [carry, y]); it returned ${Array.isArray(out) ? `an array of ${out.length}` : typeof out}`
              )
            }
            carryOut = out[outCarry]
            rest = out.map((o: unknown, i: number) => (i === outCarry ? null : o))
          }
          if (carryArg !== undefined) checkSameReferences(innerArgs[carryArg], carryOut)
          const argsOut = innerArgs.map((a, i) => (i === carryArg ? carryOut : graphNodesOnly(a)))
          // 3. Inner split of (arguments, output), stamped with outer indices.
          const splitOptions: SplitOptions<ScanAxis> = {
            ...base,
            what: "inAxes",
            refMap: new Map(),
            outerRefMap: refMapFromIndexMap(indexMap),
            aliases: new AliasTracker(),
            metadata: shardingMetadataMap(partition, false),
            checkTrace: true
          }
          const a = splitTree<ScanAxis>(argsOut, inAxes, splitOptions)
          const o = splitTree<ScanAxis>(rest, outAxes, { ...splitOptions, what: "outAxes" })
          const carryOutArrays: Array<JArray> = []
          const writtenOut: Array<JArray> = []
          const carryOutNames: Array<string> = []
          const ys: Array<JArray> = []
          const sort = (pure: unknown, prefix: unknown, what: string, root: string) => {
            const [leaves, def] = treeFlatten(pure)
            const prefixes = leafPrefixes(prefix, def, what)
            const names = describePureLeaves(pure, root)
            const slots = leaves.map((leaf, i): Slot => {
              const p = prefixes[i]
              if (isStateAxes(p))
                return fail(`StateAxes can only be used on graph nodes (Modules, Variables); ${names[i]} is not one`)
              if (leaf instanceof NodeStates) return { kind: "keep" }
              const arrayLike = isArray(leaf) || typeof leaf === "number" || typeof leaf === "boolean"
              if (isCarry(p)) {
                if (!arrayLike) return { kind: "keep" }
                carryOutArrays.push(asArray(leaf as JArray))
                carryOutNames.push(names[i]!)
                return { kind: "carry" }
              }
              if (typeof p === "number") {
                if (!arrayLike) return { kind: "keep" }
                const y = asArray(leaf as JArray)
                if (!Number.isInteger(p) || p < -(y.ndim + 1) || p > y.ndim)
                  return fail(`cannot stack ${names[i]} (shape [${y.shape.join(", ")}]) on axis ${p}`)
                ys.push(y)
                return { kind: "xs", axis: p < 0 ? p + y.ndim + 1 : p }
              }
              if (isArray(leaf)) {
                const index = broadcastNames.indexOf(names[i]!)
                if (index === -1) {
                  return fail(
                    `the state at ${names[i]} is broadcast (its axis is null) and was added inside the loop; a broadcast graph node must keep its structure (its Variables) in every iteration`
                  )
                }
                const j = written.indexOf(index)
                if (j === -1 && b[index] === leaf) return { kind: "broadcast", index }
                const before = broadcast[index]!.aval
                if (leaf.dtype !== before.dtype || leaf.shape.join(",") !== before.shape.join(",")) {
                  return fail(
                    `the broadcast state at ${names[i]} was written with ${leaf.dtype}[${leaf.shape.join(", ")}] but is ${before.dtype}[${before.shape.join(", ")}]; broadcast state written inside the loop is carried from one iteration to the next, so it must keep its shape and dtype`
                  )
                }
                if (j === -1) {
                  writes.add(index)
                  return { kind: "broadcast", index }
                }
                writtenOut[j] = leaf
                return { kind: "written", index }
              }
              return { kind: "keep" }
            })
            return { leaves: leaves.map((l, i) => (slots[i]!.kind === "keep" ? l : undefined)), def, slots }
          }
          const as = sort(a.pure, a.prefix, "inAxes", "args")
          const os = sort(o.pure, o.prefix, "outAxes", "out")
          checkCarryStructure(
            carryInNames,
            carryAvals.slice(0, carryIn.length),
            carryOutNames,
            carryOutArrays.map((y) => y.aval)
          )
          saved = {
            aLeaves: as.leaves,
            aDef: as.def,
            aSlots: as.slots,
            oLeaves: os.leaves,
            oDef: os.def,
            oSlots: os.slots
          }
          return [[...carryOutArrays, ...writtenOut], ys]
        },
        [...broadcast.map((x) => x.aval), ...carryAvals, ...xAvals]
      )
      if (staged.isArrayOut.some((isArr) => !isArr)) fail("the carry and the stacked outputs must be Arrays")
      return { staged, saved: saved!, returnedEffect, writes }
    }

    let entry = cache.get(key)
    if (entry === undefined) {
      const written: Array<number> = []
      const carryAvals = () => [...carryIn, ...written.map((k) => broadcast[k]!)].map((c) => c.aval)
      let traced = trace(carryAvals(), written)
      // Broadcast state that f wrote joins the carry; trace again with it there.
      if (traced.writes.size > 0) {
        written.push(...[...traced.writes].sort((p, q) => p - q))
        traced = trace(carryAvals(), written)
        if (traced.writes.size > 0)
          fail(
            "f wrote different broadcast state when traced again; its writes must not depend on how often it is traced"
          )
      }
      const avals = carryAvals()
      const carryOutAvals = outAvalsOf(traced.staged.closed).slice(0, avals.length)
      const promote = carryOutAvals.map((a, i) => (a.weakType === avals[i]!.weakType ? undefined : a))
      if (promote.some((p) => p !== undefined))
        traced = trace(
          avals.map((a, i) => promote[i] ?? a),
          written
        )
      const [jaxpr, consts] = closeOverConsts(traced.staged.closed)
      entry = { jaxpr, consts, promote, written, ...traced.saved }
      // A body that closed over another transform's tracers is only valid in that context; an
      // Effect returned by f must run on every call.
      if (!traced.returnedEffect && consts.every((c) => c.isConcrete)) cache.set(key, entry)
    }

    const { promote } = entry
    const carry = [...carryIn, ...entry.written.map((k) => broadcast[k]!)].map((c, i) => {
      const p = promote[i]
      return p === undefined
        ? c
        : bind1("convert_element_type", [c], { newDtype: c.dtype as "float32", weakType: p.weakType })
    })
    const numConsts = entry.consts.length + broadcast.length
    const lengths = [...new Set(xs.map((x) => x.shape[0]))]
    if (
      lengths.length > 1 ||
      (options?.length !== undefined && lengths.length === 1 && lengths[0] !== options.length)
    ) {
      fail(
        `the scanned Arrays and length disagree on the number of iterations: ${[...lengths, ...(options?.length === undefined ? [] : [`length ${options.length}`])].join(", ")}`
      )
    }
    const length = options?.length ?? lengths[0]
    if (length === undefined) fail("nothing is scanned over (no Array has an axis in inAxes), so pass length")
    const outs = bind("scan", [...entry.consts, ...broadcast, ...carry, ...xs], {
      jaxpr: entry.jaxpr,
      numConsts,
      numCarry: carry.length,
      length: length!,
      reverse: options?.reverse === true
    })
    const carryFinal = outs.slice(0, carry.length)
    const ysStacked = outs.slice(carry.length)
    let ci = 0
    let yi = 0
    const fill = (leaves: ReadonlyArray<unknown>, slots: ReadonlyArray<Slot>): Array<unknown> =>
      leaves.map((l, i) => {
        const s = slots[i]!
        if (s.kind === "carry") return carryFinal[ci++]
        if (s.kind === "broadcast") return broadcast[s.index]
        if (s.kind === "written") return carryFinal[carryIn.length + entry.written.indexOf(s.index)]
        if (s.kind === "xs") {
          const y = ysStacked[yi++]!
          return s.axis === 0 ? y : moveaxis(y, 0, s.axis)
        }
        return l
      })
    const argsPure = treeUnflatten(entry.aDef, fill(entry.aLeaves, entry.aSlots))
    const outPure = treeUnflatten(entry.oDef, fill(entry.oLeaves, entry.oSlots))
    // 4. Outer merge: update the original objects in place.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    const argsOut = mergeTree(argsPure, mergeOptions) as Array<unknown>
    const out = mergeTree(outPure, mergeOptions)
    if (outCarry === undefined) return out as never
    const carryResult = argsOut[carryArg as number]
    if (outCarry === "all") return carryResult as never
    return (out as Array<unknown>).map((o, i) => (i === outCarry ? carryResult : o)) as never
  }

  const result = lifted<Args, R>(impl, T)
  Object.defineProperties(result, {
    traceCount: { get: () => traces },
    cacheSize: { get: cache.size },
    clearCache: { value: cache.clear }
  })
  return result as LiftedScan<Args, R>
}

/** The carry f returns must hold the same state (paths, kinds, shapes, dtypes) as the one it got. */
const checkCarryStructure = (
  inNames: ReadonlyArray<string>,
  inArrays: ReadonlyArray<Aval>,
  outNames: ReadonlyArray<string>,
  outArrays: ReadonlyArray<Aval>
): void => {
  const added = outNames.filter((n) => !inNames.includes(n))
  const removed = inNames.filter((n) => !outNames.includes(n))
  if (added.length > 0 || removed.length > 0) {
    fail(
      `the carry's structure changed inside the loop (it must stay fixed): ${[...added.map((n) => `added ${n}`), ...removed.map((n) => `removed ${n}`)].join("; ")}`
    )
  }
  if (inNames.some((n, i) => outNames[i] !== n))
    fail(
      `the carry's state was reordered inside the loop (it must stay fixed): ${inNames.join(", ")} became ${outNames.join(", ")}`
    )
  inArrays.forEach((a, i) => {
    const b = outArrays[i]!
    if (a.dtype !== b.dtype || a.shape.join(",") !== b.shape.join(",")) {
      fail(
        `the carry at ${inNames[i]} changed type inside the loop: ${a.dtype}[${a.shape.join(", ")}] became ${b.dtype}[${b.shape.join(", ")}]; the carry must keep its shapes and dtypes`
      )
    }
  })
}
