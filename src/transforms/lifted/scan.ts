/**
 * `nnx.scan`: `lax.scan` over functions of Modules, Variables and Rngs. Each argument (or, with a
 * `StateAxes`, each sub-state of a graph node) is either
 *
 * - scanned over an axis (`0`, `1`, ...): each iteration sees one slice; what `f` leaves in that
 *   state is stacked back along the same axis,
 * - the loop carry (`nnx.Carry`): threaded from one iteration to the next; its structure (which
 *   Variables it holds, their shapes and dtypes) must stay the same,
 * - broadcast (`null`): the same value for every iteration. Broadcast state must not change inside
 *   the loop; Flax silently drops such changes, here they fail with `LiftTypeError` (give the
 *   state `nnx.Carry` to update it across iterations).
 *
 * As in Flax, `inAxes` defaults to `[nnx.Carry, 0]` and `outAxes` to `[nnx.Carry, 0]`: argument 0
 * is the carry and `f` returns `[carry, y]`. The carry is one whole top-level argument; `f` must
 * return the same graph nodes in it (their state may change). `outAxes` cannot hold `null`.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { asArray } from "../../backend/numpy/creation.ts"
import { moveaxis } from "../../backend/numpy/shapeOps.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import type { Module } from "../../graph/Module.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import type { Metadata, Variable } from "../../graph/Variable.ts"
import { VariableState } from "../../graph/Variable.ts"
import { Carry as CARRY, isCarry, isStateAxes } from "../../filters/LiftTypes.ts"
import type { AxisOrCarry, CarryMarker, StateAxes } from "../../filters/LiftTypes.ts"
import { scan as coreScan } from "../core/controlFlow.ts"
import { broadcastPrefix, flatten as treeFlatten, isRecord, leafPaths, unflatten as treeUnflatten } from "../core/pytree.ts"
import type { TreeDef } from "../core/pytree.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted, Out } from "../combinator.ts"
import { AliasTracker, filterMappingResolver, isGraphNode, isPureNode, mergeTree, NodeStates, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"
import { LiftTypeError } from "../LiftError.ts"
import { PARTITION_NAME } from "./vmap.ts"

/** A scan prefix: an axis to scan over, `null` (broadcast) or `nnx.Carry`. */
export type ScanAxis = number | null | CarryMarker

/** A scan prefix for a value of type `A`: graph nodes also accept a `StateAxes` (with `Carry`). */
export type ScanAxisFor<A> = A extends Module | Variable<unknown> ? ScanAxis | StateAxes<AxisOrCarry>
  : A extends JArray ? ScanAxis
  : A extends ReadonlyArray<unknown> ? ScanAxis | { readonly [K in keyof A]: ScanAxisFor<A[K]> }
  : A extends Record<string, unknown> ? ScanAxis | { readonly [K in keyof A]?: ScanAxisFor<A[K]> }
  : ScanAxis

/** `inAxes` of {@link scan}: one prefix for all arguments, or one entry per parameter. */
export type ScanInAxes<Args extends ReadonlyArray<unknown>> = ScanAxis | { readonly [K in keyof Args]: ScanAxisFor<Args[K]> }

/** Options of {@link scan}. */
export interface ScanOptions<Args extends ReadonlyArray<unknown>, R> {
  /** Default `[nnx.Carry, 0]`: argument 0 is the carry, argument 1 is scanned over axis 0. */
  readonly inAxes?: ScanInAxes<Args> | undefined
  /** Default `[nnx.Carry, 0]`: `f` returns `[carry, y]`, `y` stacked on axis 0. No `null`. */
  readonly outAxes?: ScanAxisFor<Out<R>> | undefined
  /** The number of iterations; required when nothing is scanned over. */
  readonly length?: number | undefined
  /** Iterate from the last slice to the first (stacked outputs stay in input order). */
  readonly reverse?: boolean | undefined
  /** With `{ [PARTITION_NAME]: name }`, `shardingNames` lose the scanned axis inside and regain it outside. */
  readonly transformMetadata?: { readonly [PARTITION_NAME]?: string } | undefined
}

const T = "nnx.scan"

const fail = (reason: string): never => {
  throw new LiftTypeError({ transform: T, reason })
}

const isScanPrefix = (u: unknown): boolean => u === null || typeof u === "number" || isCarry(u) || isStateAxes(u)

const resolveScan = filterMappingResolver<ScanAxis>(T, (u): u is StateAxes<AxisOrCarry> => isStateAxes(u), (u) => u as ScanAxis)

const showScan = (a: ScanAxis): string => (a === null ? "null" : String(a))

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
  let found: number | undefined
  const visit = (u: unknown, path: string, top: number | undefined): void => {
    if (isCarry(u)) {
      if (top === undefined || path.includes("][") || path.includes("['")) {
        fail(`Carry must be a whole top-level argument, it cannot be nested; found it at ${what}${path}`)
      }
      if (found !== undefined) fail(`found several Carry entries in ${what} (at [${found}] and ${path}); there is one carry`)
      found = top
      return
    }
    if (Array.isArray(u)) u.forEach((c, i) => visit(c, `${path}[${i}]`, top ?? i))
    else if (isRecord(u)) for (const k of Object.keys(u)) visit(u[k], `${path}['${k}']`, top ?? -1)
  }
  if (Array.isArray(axes)) axes.forEach((c, i) => visit(c, `[${i}]`, i))
  else if (isRecord(axes)) for (const k of Object.keys(axes)) visit(axes[k], `['${k}']`, undefined)
  return found
}

/** `outAxes` cannot broadcast (`null`) and a StateAxes in it cannot hold `null` or `Carry`. */
const checkOutAxes = (axes: unknown): void => {
  const visit = (u: unknown, path: string): void => {
    if (u === null) fail(`cannot broadcast output state: outAxes${path} is null; give the output an axis to stack it on`)
    if (isStateAxes(u)) {
      for (const [filter, value] of u.entries) {
        if (value === null) fail(`cannot broadcast output state: ${u.toString()} at outAxes${path} maps ${String(filter)} to null`)
        if (isCarry(value)) fail(`cannot carry output state through a StateAxes: ${u.toString()} at outAxes${path}; return the carry argument itself`)
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
  return treeUnflatten(def, leaves.map((l) => (isGraphNode(l) ? l : null)))
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
    fail(`the carry returned by f has a different structure from the carry argument: it had ${pa.length} leaves (${pa.join(", ")}) and f returned ${leafPaths(db, "carry").join(", ") || "none"}`)
  }
  a.forEach((x, i) => {
    const y = b[i]
    if ((isGraphNode(x) || isGraphNode(y)) && x !== y) {
      fail(`Carry references must be the same between iterations: ${pa[i]} was a different object (or not a graph node) in the carry f returned; return the carry's own Modules and Variables (their state may change)`)
    }
  })
}

type Slot =
  | { readonly kind: "carry" }
  | { readonly kind: "xs"; readonly axis: number }
  | { readonly kind: "keep" }

/**
 * Scans `f` over Modules, Variables and Arrays, like `nnx.scan`.
 *
 * @example
 * ```ts
 * // apply a stack of layers (made by a vmapped initializer) one after the other
 * const forward = nnx.scan((x: jnp.Array, layer: Layer) => [layer.call(x), null] as const, { inAxes: [nnx.Carry, 0] })
 * const [y] = forward.sync(x, layers)
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const scan = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options?: ScanOptions<Args, R>
): Lifted<Args, R> =>
  lifted<Args, R>((args) => {
    const inAxes: unknown = options?.inAxes === undefined ? [CARRY, 0] : options.inAxes
    const outAxes: unknown = options?.outAxes === undefined ? [CARRY, 0] : options.outAxes
    const inCarry = carryIndex(inAxes, "inAxes")
    const outCarry = carryIndex(outAxes, "outAxes")
    if ((inCarry === undefined) !== (outCarry === undefined)) {
      fail(`if one of inAxes or outAxes has Carry, the other must also have Carry; got inAxes with${inCarry === undefined ? "out" : ""} and outAxes with${outCarry === undefined ? "out" : ""} Carry`)
    }
    if (inCarry === "all" && args.length !== 1) fail(`when inAxes is Carry, the function must take exactly one argument, got ${args.length}`)
    checkOutAxes(outAxes)
    const carryArg = inCarry === "all" ? 0 : inCarry
    const partition = options?.transformMetadata?.[PARTITION_NAME]
    const base = { transform: T, isPrefixLeaf: isScanPrefix, resolve: resolveScan, show: showScan, corePrefix: (a: ScanAxis) => a }

    // 1. Outer split; sort every leaf into carry, scanned (xs) or kept (broadcast and static).
    const refMap = new Map<object, number>()
    const outer = splitTree<ScanAxis>(args, inAxes, { ...base, what: "inAxes", refMap, aliases: new AliasTracker() })
    const [inLeaves, inDef] = treeFlatten(outer.pure)
    const inPrefixes = leafPrefixes(outer.prefix, inDef, "inAxes")
    const inNames = describePureLeaves(outer.pure, "args")
    const carryIn: Array<JArray> = []
    const carryInNames: Array<string> = []
    const xs: Array<JArray> = []
    const inSlots: Array<Slot> = inLeaves.map((leaf, i) => {
      const p = inPrefixes[i]
      if (isStateAxes(p)) return fail(`StateAxes can only be used on graph nodes (Modules, Variables); ${inNames[i]} is not one`)
      if (leaf instanceof NodeStates) return { kind: "keep" }
      if (isCarry(p)) {
        if (isArray(leaf) || typeof leaf === "number" || typeof leaf === "boolean") {
          carryIn.push(asArray(leaf))
          carryInNames.push(inNames[i]!)
          return { kind: "carry" }
        }
        return { kind: "keep" }
      }
      if (typeof p === "number") {
        if (!isArray(leaf)) return fail(`${inNames[i]} is ${typeof leaf}, not an Array, so it cannot be scanned over axis ${p}; give it null (broadcast) or Carry`)
        if (!Number.isInteger(p) || p < -leaf.ndim || p >= leaf.ndim) return fail(`cannot scan ${inNames[i]} (shape [${leaf.shape.join(", ")}]) over axis ${p}`)
        const axis = p < 0 ? p + leaf.ndim : p
        xs.push(axis === 0 ? leaf : moveaxis(leaf, axis, 0))
        return { kind: "xs", axis }
      }
      return { kind: "keep" }
    })
    const broadcastIn = new Map<string, unknown>()
    inLeaves.forEach((leaf, i) => {
      if (inPrefixes[i] === null && isArray(leaf)) broadcastIn.set(inNames[i]!, leaf)
    })

    // What the traced body leaves for the outer merge (the body is traced once, or twice when the
    // carry's weak types are promoted; the last trace wins, and both are alike).
    let outSaved: { aLeaves: Array<unknown>; aDef: TreeDef; aSlots: Array<Slot>; oLeaves: Array<unknown>; oDef: TreeDef; oSlots: Array<Slot> } | undefined

    const body = (c: ReadonlyArray<JArray>, x: ReadonlyArray<JArray>): readonly [Array<JArray>, Array<JArray>] => {
      // 2. Inner merge: fresh objects for this iteration, in the outer objects' index space.
      let ci = 0
      let xi = 0
      const leaves = inLeaves.map((l, i) => {
        const s = inSlots[i]!
        return s.kind === "carry" ? c[ci++] : s.kind === "xs" ? x[xi++] : l
      })
      const indexMap = new Map<number, object>()
      const innerArgs = mergeTree<ScanAxis>(treeUnflatten(inDef, leaves), { indexMap, metadata: shardingMetadataMap(partition, true) }) as Array<unknown>
      const out: unknown = withMutationCheck(() => callUser(() => f(...(innerArgs as unknown as Args))))
      // The carry f returned, and the rest of its output.
      let carryOut: unknown
      let rest: unknown = out
      if (outCarry === "all") {
        carryOut = out
        rest = null
      } else if (outCarry !== undefined) {
        if (!Array.isArray(out) || out.length <= outCarry) {
          return fail(`outAxes puts the carry at [${outCarry}], so f must return an array with the carry there (e.g. [carry, y]); it returned ${Array.isArray(out) ? `an array of ${out.length}` : typeof out}`)
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
        metadata: shardingMetadataMap(partition, false)
      }
      const a = splitTree<ScanAxis>(argsOut, inAxes, splitOptions)
      const o = splitTree<ScanAxis>(rest, outAxes, { ...splitOptions, what: "outAxes" })
      const carryOutArrays: Array<JArray> = []
      const carryOutNames: Array<string> = []
      const ys: Array<JArray> = []
      const sort = (pure: unknown, prefix: unknown, what: string, root: string) => {
        const [leaves, def] = treeFlatten(pure)
        const prefixes = leafPrefixes(prefix, def, what)
        const names = describePureLeaves(pure, root)
        const slots = leaves.map((leaf, i): Slot => {
          const p = prefixes[i]
          if (isStateAxes(p)) return fail(`StateAxes can only be used on graph nodes (Modules, Variables); ${names[i]} is not one`)
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
            if (!Number.isInteger(p) || p < -(y.ndim + 1) || p > y.ndim) return fail(`cannot stack ${names[i]} (shape [${y.shape.join(", ")}]) on axis ${p}`)
            ys.push(y)
            return { kind: "xs", axis: p < 0 ? p + y.ndim + 1 : p }
          }
          // Broadcast state must come out exactly as it went in.
          if (isArray(leaf) && broadcastIn.get(names[i]!) !== leaf) {
            return fail(`the state at ${names[i]} is broadcast (its axis is null) but changed inside the loop; broadcast state must stay the same for every iteration, so give it Carry (to update it across iterations) or an axis (one slice per iteration)`)
          }
          return { kind: "keep" }
        })
        return { leaves, def, slots }
      }
      const as = sort(a.pure, a.prefix, "inAxes", "args")
      const os = sort(o.pure, o.prefix, "outAxes", "out")
      checkCarryStructure(carryInNames, carryIn, carryOutNames, carryOutArrays)
      outSaved = { aLeaves: as.leaves, aDef: as.def, aSlots: as.slots, oLeaves: os.leaves, oDef: os.def, oSlots: os.slots }
      return [carryOutArrays, ys]
    }

    const [carryFinal, ysStacked] = coreScan(body, carryIn, xs, { length: options?.length, reverse: options?.reverse }) as readonly [Array<JArray>, Array<JArray>]
    const saved = outSaved!
    let ci = 0
    let yi = 0
    const fill = (leaves: ReadonlyArray<unknown>, slots: ReadonlyArray<Slot>): Array<unknown> =>
      leaves.map((l, i) => {
        const s = slots[i]!
        if (s.kind === "carry") return carryFinal[ci++]
        if (s.kind === "xs") {
          const y = ysStacked[yi++]!
          return s.axis === 0 ? y : moveaxis(y, 0, s.axis)
        }
        return l
      })
    const argsPure = treeUnflatten(saved.aDef, fill(saved.aLeaves, saved.aSlots))
    const outPure = treeUnflatten(saved.oDef, fill(saved.oLeaves, saved.oSlots))
    // 4. Outer merge: update the original objects in place.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    const argsOut = mergeTree(argsPure, mergeOptions) as Array<unknown>
    const out = mergeTree(outPure, mergeOptions)
    if (outCarry === undefined) return out as never
    const carry = argsOut[carryArg as number]
    if (outCarry === "all") return carry as never
    return (out as Array<unknown>).map((o, i) => (i === outCarry ? carry : o)) as never
  }, "nnx.scan")

/** The carry f returns must hold the same state (paths, kinds, shapes, dtypes) as the one it got. */
const checkCarryStructure = (inNames: ReadonlyArray<string>, inArrays: ReadonlyArray<JArray>, outNames: ReadonlyArray<string>, outArrays: ReadonlyArray<JArray>): void => {
  const added = outNames.filter((n) => !inNames.includes(n))
  const removed = inNames.filter((n) => !outNames.includes(n))
  if (added.length > 0 || removed.length > 0) {
    fail(`the carry's structure changed inside the loop (it must stay fixed): ${[...added.map((n) => `added ${n}`), ...removed.map((n) => `removed ${n}`)].join("; ")}`)
  }
  if (inNames.some((n, i) => outNames[i] !== n)) fail(`the carry's state was reordered inside the loop (it must stay fixed): ${inNames.join(", ")} became ${outNames.join(", ")}`)
  inArrays.forEach((a, i) => {
    const b = outArrays[i]!
    if (a.dtype !== b.dtype || a.shape.join(",") !== b.shape.join(",")) {
      fail(`the carry at ${inNames[i]} changed type inside the loop: ${a.dtype}[${a.shape.join(", ")}] became ${b.dtype}[${b.shape.join(", ")}]; the carry must keep its shapes and dtypes`)
    }
  })
}

