/**
 * `nnx.vmap`: `vmap` over functions of Modules, Variables and Rngs. Graph nodes take `inAxes` /
 * `outAxes` like pytrees of Arrays, or a `StateAxes` choosing an axis per sub-state; state changes
 * made inside (Variable updates, attributes added, deleted or swapped, new shared references)
 * propagate to the objects outside.
 *
 * Axes of a form no argument can fit (not an integer, `null` or a `StateAxes` of those) fail when
 * `nnx.vmap(f, options)` is called, as in Flax; a prefix that does not fit the arguments fails at the
 * call with a `LiftTypeError` naming the argument, the path, the prefix expected and what was found.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { currentTraceLevel } from "../../backend/bind.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import type { GraphNode } from "../../graph/graph.ts"
import type { Module } from "../../graph/Module.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import type { Metadata, Variable } from "../../graph/Variable.ts"
import { isStateAxes, StateAxes } from "../../filters/LiftTypes.ts"
import { lateOutAxes, vmap as coreVmap } from "../core/batching.ts"
import { AliasTracker, checkPrefixForm, filterMappingResolver, forEachGroup, mergeTree, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted, Out } from "../combinator.ts"
import { LiftTypeError } from "../LiftError.ts"

/** The metadata key `transformMetadata` uses to keep `shardingNames` in step with vmapped axes. */
export const PARTITION_NAME = "partitionName" as const

type Axis = number | null

/** An axis prefix for a value of type `A`: graph nodes also accept a `StateAxes`. */
export type AxisFor<A> = A extends Module | Variable<unknown>
  ? Axis | StateAxes
  : A extends JArray
    ? Axis
    : A extends ReadonlyArray<unknown>
      ? Axis | { readonly [K in keyof A]: AxisFor<A[K]> }
      : A extends Record<string, unknown>
        ? Axis | { readonly [K in keyof A]?: AxisFor<A[K]> }
        : Axis

/**
 * `inAxes` for a function of `Args`: one prefix for all, or a tuple with one entry per parameter.
 * A bare `StateAxes` stands for every argument, so it is allowed only when every one is a graph
 * node (a StateAxes has no meaning for an Array).
 */
export type InAxes<Args extends ReadonlyArray<unknown>> =
  | Axis
  | (AllGraphNodes<Args> extends true ? StateAxes : never)
  | { readonly [K in keyof Args]: AxisFor<Args[K]> }

/** Whether every argument is a Module or a Variable. */
type AllGraphNodes<Args extends ReadonlyArray<unknown>> = Args[number] extends Module | Variable<unknown> ? true : false

/** Options of {@link vmap}. */
export interface VmapOptions<Args extends ReadonlyArray<unknown>, R> {
  readonly inAxes?: InAxes<Args> | undefined
  readonly outAxes?: AxisFor<Out<R>> | undefined
  readonly axisSize?: number | undefined
  readonly axisName?: string | undefined
  /** With `{ [PARTITION_NAME]: name }`, `shardingNames` lose the mapped axis inside and regain it outside. */
  readonly transformMetadata?: { readonly [PARTITION_NAME]?: string } | undefined
}

const isAxisPrefix = (u: unknown): boolean => u === null || typeof u === "number" || isStateAxes(u)

const resolveAxis = filterMappingResolver<Axis>(
  "nnx.vmap",
  (u): u is StateAxes => isStateAxes(u),
  (u) => u as Axis
)

const showAxis = (a: Axis): string => (a === null ? "null" : String(a))

const isAxis = (u: unknown): boolean => u === null || Number.isInteger(u)

/** A leaf of `inAxes`/`outAxes` as `nnx.vmap` takes it (checked when the transform is made). */
const isAxisForm = (u: unknown): boolean => isAxis(u) || (isStateAxes(u) && u.entries.every(([, a]) => isAxis(a)))

/** The prefix forms of `nnx.vmap`, in words. */
const AXIS_FORMS = "an integer, null or a StateAxes (of integers and null)"

/** Removes (inside) or re-inserts (outside) the partition name at the mapped axis. */
const shardingMap = (partition: string | undefined, inside: boolean) =>
  partition === undefined
    ? undefined
    : (metadata: Metadata, axis: Axis): Metadata => {
        const names = metadata["shardingNames"]
        if (axis === null || !Array.isArray(names)) return metadata
        const list = [...(names as ReadonlyArray<string | null>)]
        if (inside) list.splice(axis, 1)
        else list.splice(axis, 0, partition)
        return { ...metadata, shardingNames: list }
      }

/**
 * Vectorises `f` over Modules, Variables and Arrays, like `nnx.vmap`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Weights extends nnx.Module {
 *   kernel = new nnx.Param(jnp.ones([10, 2, 3]))
 *   bias = new nnx.Param(jnp.zeros([10, 3]))
 * }
 * const vectorDot = (w: Weights, x: jnp.Array) => x.matmul(w.kernel.value).add(w.bias.value)
 * const batched = nnx.vmap(vectorDot, { inAxes: 0, outAxes: 1 })
 * batched.sync(new Weights(), jnp.ones([10, 2])).shape // [3, 10]
 * Effect.runSync(batched(new Weights(), jnp.ones([10, 2]))).shape // [3, 10]; the call is an Effect
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const vmap = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options?: VmapOptions<Args, R>
): Lifted<Args, R> => {
  const inAxes: unknown = options?.inAxes === undefined ? 0 : options.inAxes
  const outAxes: unknown = options?.outAxes === undefined ? 0 : options.outAxes
  // As Flax, forms that no argument can fit fail here, when the transform is made.
  checkPrefixForm("nnx.vmap", "inAxes", inAxes, isAxisForm, AXIS_FORMS)
  checkPrefixForm("nnx.vmap", "outAxes", outAxes, isAxisForm, AXIS_FORMS)
  const partition = options?.transformMetadata?.[PARTITION_NAME]
  const base = {
    transform: "nnx.vmap",
    isPrefixLeaf: isAxisPrefix,
    resolve: resolveAxis,
    show: showAxis,
    corePrefix: (a: Axis) => a,
    expected: AXIS_FORMS
  }
  return lifted<Args, R>((args) => {
    // 1. Outer split.
    const refMap = new Map<object, number>()
    const outer = splitTree<Axis>(args, inAxes, {
      ...base,
      what: "inAxes",
      refMap,
      aliases: new AliasTracker(),
      checkTrace: true
    })
    let outPrefix: unknown
    const inner = (...pureArgs: ReadonlyArray<unknown>): unknown => {
      // 2. Inner merge: fresh objects in the outer objects' index space.
      const indexMap = new Map<number, object>()
      const innerArgs = mergeTree<Axis>(pureArgs, { indexMap, metadata: shardingMap(partition, true) }) as Args
      const out = withMutationCheck(() => callUser(() => f(...innerArgs)))
      // 3. Inner split of (arguments, output), stamped with outer indices.
      const splitOptions: SplitOptions<Axis> = {
        ...base,
        what: "inAxes",
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker(),
        metadata: shardingMap(partition, false),
        checkTrace: true
      }
      const a = splitTree<Axis>(innerArgs, inAxes, splitOptions)
      const o = splitTree<Axis>(out, outAxes, { ...splitOptions, what: "outAxes" })
      checkBroadcastWrites(a.pure)
      outPrefix = [a.prefix, o.prefix]
      return [a.pure, o.pure]
    }
    const [argsOut, outPure] = coreVmap(inner, {
      inAxes: outer.prefix as never,
      axisSize: options?.axisSize,
      axisName: options?.axisName,
      [lateOutAxes]: () => outPrefix
    } as never)(...(outer.pure as ReadonlyArray<unknown>)) as readonly [unknown, unknown]
    // 4. Outer merge: update the original objects in place.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    mergeTree(argsOut, mergeOptions)
    return mergeTree(outPure, mergeOptions) as never
  }, "nnx.vmap")
}

/** Broadcast (`null`) state may only be written with values that do not vary over the batch. */
const checkBroadcastWrites = (pure: unknown): void => {
  const level = currentTraceLevel()
  forEachGroup<Axis>(pure, (axis, values, paths, kinds) => {
    if (axis !== null) return
    values.forEach((v, i) => {
      if (v.tracer !== undefined && v.tracer.trace.level === level) {
        throw new LiftTypeError({
          transform: "nnx.vmap",
          reason: `the ${kinds[i]} at '${paths[i]!.join("/")}' is broadcast (its axis is null) but was assigned a value that varies over the batch; give it a batch axis in inAxes (e.g. a StateAxes) or keep its updates independent of the mapped inputs`
        })
      }
    })
  })
}

export type { GraphNode }
