/**
 * Vectorising map. A `BatchTrace` carries, for each tracer, the batched value and where its batch
 * axis is; each primitive is batched by its rule, so the work done (and the number of kernel
 * dispatches) does not depend on the batch size.
 *
 * @since 0.1.0
 */
import type { Array as JArray, TracerPayload } from "../../backend/Array.ts"
import { checkOptionKeys } from "../../backend/numpy/options.ts"
import { isArray } from "../../backend/Array.ts"
import { bind } from "../../backend/bind.ts"
import { current as context, withContext } from "../../backend/transformContext.ts"
import type { Aval } from "../../backend/DType.ts"
import type { Params, Primitive } from "../../backend/Primitive.ts"
import { formatShape } from "../../backend/format.ts"
import { moveAxis } from "./batchUtil.ts"
import { broadcastPrefix, flatten, leafPaths, unflatten } from "./pytree.ts"
import type { BatchDim } from "./rules.ts"
import { CoreTrace, runWithTrace } from "./trace.ts"
import { VmapError } from "./TransformError.ts"

export { batchRules } from "./ruleTables.ts"
import { batchRules } from "./ruleTables.ts"

interface BatchPayload extends TracerPayload {
  readonly val: JArray
  readonly dim: number
}

const unbatchedAval = (a: Aval, dim: number): Aval => ({ ...a, shape: a.shape.filter((_, i) => i !== dim) })

/** The trace of one `vmap` application. */
export class BatchTrace extends CoreTrace<BatchPayload> {
  constructor(
    level: number,
    readonly axisSize: number,
    readonly axisName: string | undefined
  ) {
    super(level, "vmap")
  }

  /** Wraps a batched value, or returns an unbatched one as it is. */
  wrap(val: JArray, dim: BatchDim): JArray {
    if (dim === null) return val
    return this.tracer(unbatchedAval(val.aval, dim), { val, dim })
  }

  /** The batched value and batch axis of any input (values of other traces are unbatched). */
  unwrap(x: JArray): readonly [JArray, BatchDim] {
    if (this.owns(x)) {
      const p = this.payload(x)
      return [p.val, p.dim]
    }
    return [x, null]
  }

  process<P extends Primitive>(prim: P, inputs: ReadonlyArray<JArray>, params: Params<P>): Array<JArray> {
    const vals: Array<JArray> = []
    const dims: Array<BatchDim> = []
    for (const x of inputs) {
      const [v, d] = this.unwrap(x)
      vals.push(v)
      dims.push(d)
    }
    if (dims.every((d) => d === null)) return bind(prim, vals, params)
    const [outs, outDims] = batchRules()[prim](vals, dims, params, this.axisSize)
    return outs.map((o, i) => this.wrap(o, outDims[i] ?? null))
  }
}

/** The running `vmap`s that name their axis, innermost last (a slot of the transform context). */
export const namedAxes = (): ReadonlyArray<BatchTrace> => context().namedAxes as ReadonlyArray<BatchTrace>

const withNamedAxis = <A>(trace: BatchTrace, f: () => A): A =>
  trace.axisName === undefined ? f() : withContext({ namedAxes: [...context().namedAxes, trace] }, f)

/** Axis prefix: a number, `null` (not mapped), or a pytree of them matching the arguments. */
export type AxisSpec = number | null | ReadonlyArray<unknown> | { readonly [k: string]: unknown }

type Decrement = [0, 0, 1, 2, 3]

/**
 * The axes a value of type `T` may be given, as a pytree prefix: a number (the axis of every Array
 * in it) or `null` (not mapped), or for a list or record, the same structure holding prefixes of
 * its entries. Past depth 3, and for `unknown` (generic code), any {@link AxisSpec}; the run-time
 * check (a `StructureError` naming the path) covers what the types let through.
 */
export type AxisPrefix<T, D extends number = 3> =
  | number
  | null
  | (0 extends 1 & T
      ? AxisSpec
      : unknown extends T
        ? AxisSpec
        : T extends
              | JArray
              | string
              | number
              | boolean
              | bigint
              | symbol
              | null
              | undefined
              | ((...args: never) => unknown)
          ? never
          : D extends 0
            ? AxisSpec
            : { readonly [K in keyof T]: AxisPrefix<T[K], Decrement[D]> })

/**
 * `inAxes` for a function of parameters `Args`: one axis for every argument, or a list with a prefix
 * per argument (as JAX's tuple `in_axes`).
 */
export type InAxes<Args extends ReadonlyArray<unknown>> = number | null | PerArgument<Args>

// Behind a conditional so that inference does not try to reverse the mapping from `inAxes` to `Args`
// (`f` gives `Args`): about a third fewer instantiations per call.
type PerArgument<Args extends ReadonlyArray<unknown>> = Args extends unknown
  ? { readonly [K in keyof Args]: AxisPrefix<Args[K]> }
  : never

/** `outAxes` for an output of type `R`: a prefix of it. */
export type OutAxes<R> = AxisPrefix<R>

/**
 * An `outAxes` known only after `f` has run (the lifted transforms learn it from the graph nodes `f`
 * returns): given under this symbol, which the public options do not name. @internal
 */
export const lateOutAxes: unique symbol = Symbol.for("effect-nnx/vmap/lateOutAxes")

/** Options of {@link vmap}; the axes are typed by the arguments and the output of the mapped function. */
export interface VmapOptions<Args extends ReadonlyArray<unknown> = ReadonlyArray<unknown>, R = unknown> {
  /** Which axis of each argument to map over (a pytree prefix of the arguments); default 0. */
  readonly inAxes?: InAxes<Args> | undefined
  /** Where the mapped axis goes in each output (a pytree prefix of the output); default 0. */
  readonly outAxes?: OutAxes<R> | undefined
  /** The batch size, required when no argument is mapped. */
  readonly axisSize?: number | undefined
  /** A name for the mapped axis (for collectives and sharding metadata). */
  readonly axisName?: string | undefined
}

const isAxis = (u: unknown): u is number | null => u === null || typeof u === "number"

const typeStr = (x: JArray): string => `${x.dtype}${formatShape(x.shape)}`

/**
 * Vectorises `f` over a batch axis of its arguments, like `jax.vmap`.
 *
 * @example
 * ```ts
 * import { jnp, vmap } from "effect-nnx"
 *
 * const dot = (a: jnp.Array, b: jnp.Array) => a.dot(b)
 * const batched = vmap(dot, { inAxes: [0, null] })
 * batched(jnp.ones([10, 3]), jnp.ones([3])).shape // [10]
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const vmap = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options?: VmapOptions<Args, R>
) => {
  checkOptionKeys("vmap", options, ["inAxes", "outAxes", "axisSize", "axisName"])
  return (...args: Args): R => {
    const inAxes = options?.inAxes === undefined ? 0 : options.inAxes
    const late = (options as { readonly [lateOutAxes]?: () => unknown } | undefined)?.[lateOutAxes]
    const outAxes: unknown = options?.outAxes === undefined ? 0 : options.outAxes
    const [leaves, def] = flatten(args)
    // A list `inAxes` stands for the argument tuple, as JAX's tuple in_axes.
    const axes = broadcastPrefix("vmap", "inAxes", inAxes, def, isAxis, "args")
    const paths = leafPaths(def, "args")
    let size: number | undefined = options?.axisSize
    const sizes: Array<string> = []
    const resolved: Array<BatchDim> = leaves.map((leaf, i) => {
      const axis = axes[i]!
      if (axis === null) return null
      if (!isArray(leaf)) {
        throw new VmapError({
          reason: `${paths[i]} is ${typeof leaf === "number" || typeof leaf === "boolean" ? `the JavaScript ${typeof leaf} ${String(leaf)}` : "not an Array"}, which cannot be mapped over axis ${axis}; give it an axis of null or pass an Array`
        })
      }
      if (!Number.isInteger(axis)) {
        throw new VmapError({
          reason: `inAxes gives ${paths[i]} the axis ${axis}, which is not an integer; an axis is an integer or null`
        })
      }
      if (axis < -leaf.ndim || axis >= leaf.ndim) {
        throw new VmapError({
          reason: `vmap was requested to map ${paths[i]} along axis ${axis}, which implies that its rank should be at least ${axis < 0 ? -axis : axis + 1}, but is only ${leaf.ndim} (its type is ${typeStr(leaf)})`
        })
      }
      const d = axis < 0 ? axis + leaf.ndim : axis
      sizes.push(`axis ${d} of ${paths[i]} of type ${typeStr(leaf)} has size ${leaf.shape[d]}`)
      return d
    })
    const mappedSizes = resolved.flatMap((d, i) => (d === null ? [] : [(leaves[i] as JArray).shape[d]!]))
    if (mappedSizes.length > 0) {
      const distinct = [...new Set(options?.axisSize === undefined ? mappedSizes : [options.axisSize, ...mappedSizes])]
      if (distinct.length > 1) {
        throw new VmapError({
          reason: `inconsistent sizes for array axes to be mapped:\n${options?.axisSize === undefined ? "" : `  * axisSize is ${options.axisSize}\n`}${sizes.map((s) => `  * ${s}`).join("\n")}`
        })
      }
      size = distinct[0]
    }
    if (size === undefined) {
      throw new VmapError({
        reason: "no argument is mapped (every inAxes entry is null), so the batch size is unknown; pass axisSize"
      })
    }
    const batchSize = size
    return runWithTrace(
      (level) => new BatchTrace(level, batchSize, options?.axisName),
      (trace) => {
        const inner = leaves.map((leaf, i) => (resolved[i] === null ? leaf : trace.wrap(leaf as JArray, resolved[i]!)))
        const out = withNamedAxis(trace, () => f(...(unflatten(def, inner) as Args)))
        const [outLeaves, outDef] = flatten(out)
        const outAxesPerLeaf = broadcastPrefix(
          "vmap",
          "outAxes",
          late !== undefined ? late() : outAxes,
          outDef,
          isAxis,
          "out"
        )
        const outPaths = leafPaths(outDef, "out")
        const results = outLeaves.map((leaf, i) => {
          const target = outAxesPerLeaf[i]!
          if (!isArray(leaf)) {
            if (target === null) return leaf
            throw new VmapError({
              reason: `${outPaths[i]} is not an Array (got ${typeof leaf}); vmap outputs must be Arrays unless their outAxes is null`
            })
          }
          const [val, dim] = trace.unwrap(leaf)
          if (target === null) {
            if (dim !== null) {
              throw new VmapError({
                reason: `${outPaths[i]} is batched (it depends on a mapped input) but its outAxes is null; give it an axis or make it independent of the mapped inputs`
              })
            }
            return val
          }
          const rank = val.ndim + (dim === null ? 1 : 0)
          if (!Number.isInteger(target)) {
            throw new VmapError({
              reason: `outAxes gives ${outPaths[i]} the axis ${target}, which is not an integer; an axis is an integer or null`
            })
          }
          if (target < -rank || target >= rank) {
            throw new VmapError({
              reason: `outAxes ${target} is out of range for ${outPaths[i]} of rank ${rank - 1} (batched rank ${rank})`
            })
          }
          const to = target < 0 ? target + rank : target
          if (dim === null) {
            return moveAxis(
              bind("broadcast_in_dim", [val], {
                shape: [batchSize, ...val.shape],
                broadcastDimensions: val.shape.map((_, k) => k + 1)
              })[0]!,
              0,
              to
            )
          }
          return moveAxis(val, dim, to)
        })
        return unflatten(outDef, results) as R
      }
    )
  }
}
