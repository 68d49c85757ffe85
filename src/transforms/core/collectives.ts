/**
 * Collectives over a named mapped axis (`lax.psum`, `pmean`, `pmax`, `pmin`, `allGather`,
 * `axisIndex`, `ppermute`, `psumScatter`, `allToAll`), for `vmap`/`nnx.vmap` with `axisName`,
 * `nnx.pmap` and `nnx.shardMap` (whose devices are the members of a vmapped axis here).
 *
 * The members of a named axis are the slices of one batched value, so a collective is what JAX's
 * batching rule for it computes: a reduction, gather or permutation over the batch dimension of the
 * `vmap` that bound the name. They are not primitives: each is written with ordinary operations at
 * the level of that `vmap`, so transforms outside it (`jit`, `grad`, another `vmap`) see ordinary
 * operations and differentiate, batch and stage them as such. Transforms inside it (a `vmap` of
 * another name, `jvp`, `grad`) are handled here, one trace at a time: the linear collectives carry
 * tangents through themselves and transpose to their adjoint collective (`psum` to `psum`, as in
 * JAX). Staging (`jit`) inside the mapped function is refused with a typed error.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Array as JArray, ArrayLike } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { arange, asArray, zeros } from "../../backend/numpy/creation.ts"
import { max, mean, min, sum } from "../../backend/numpy/reductions.ts"
import { broadcastTo, concatenate, moveaxis, reshape } from "../../backend/numpy/shapeOps.ts"
import { getItem } from "../../backend/numpy/indexing.ts"
import { BatchTrace, namedAxes } from "./batching.ts"
import { JVPTrace } from "./jvp.ts"
import { treeMap } from "./pytree.ts"
import { ReverseTrace } from "./reverse.ts"

/**
 * A collective that cannot run: an axis name bound by no enclosing `vmap`/`pmap`/`shardMap` (JAX's
 * "unbound axis name" NameError), a bad permutation or dimension, or a transform inside the mapped
 * function that the collective cannot pass through.
 * @category errors
 * @since 0.1.0
 */
export class CollectiveError extends Data.TaggedError("CollectiveError")<{
  readonly op: string
  readonly axisName: string
  readonly reason: string
}> {
  override get message(): string {
    return `lax.${this.op}: ${this.reason}`
  }
}

const frameOf = (op: string, name: string): BatchTrace => {
  if (typeof name !== "string")
    throw new CollectiveError({
      op,
      axisName: String(name),
      reason: `the axis name must be a string, got ${typeof name}`
    })
  const frames = namedAxes()
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i]!.axisName === name) return frames[i]!
  const bound = [...new Set(frames.map((f) => f.axisName))]
  throw new CollectiveError({
    op,
    axisName: name,
    reason: `unbound axis name '${name}' (${bound.length === 0 ? "no axis is bound here" : `bound here: ${bound.map((b) => `'${b}'`).join(", ")}`}); call it inside vmap, nnx.pmap or nnx.shardMap with axisName '${name}'`
  })
}

/**
 * One collective, as the batching rule computes it: `v` holds every member's value along axis 0,
 * then `lead` axes of transforms nested inside, then the value's own axes. The result is batched
 * along axis 0 (one value per member) or `null` (the same value for every member).
 */
interface Rule {
  readonly op: string
  readonly apply: (v: JArray, lead: number, n: number) => readonly [JArray, 0 | null]
  /** The adjoint collective, for the linear ones (tangents pass through the collective itself). */
  readonly transpose?: () => Rule
}

const failOn = (rule: Rule, frame: BatchTrace, reason: string): never => {
  throw new CollectiveError({ op: rule.op, axisName: frame.axisName!, reason })
}

const applyAt = (rule: Rule, frame: BatchTrace, x: JArray, lead: number): JArray => {
  const t = x.trace
  if (t === undefined || t.level < frame.level) {
    // The same value on every member (it does not depend on the mapped inputs).
    const [out, dim] = rule.apply(broadcastTo(x, [frame.axisSize, ...x.shape]), lead, frame.axisSize)
    return dim === null ? out : frame.wrap(out, 0)
  }
  if (t === frame) {
    const [val, d] = frame.unwrap(x)
    const [out, dim] = rule.apply(moveaxis(val, d!, 0), lead, frame.axisSize)
    return dim === null ? out : frame.wrap(out, 0)
  }
  if (t instanceof BatchTrace) {
    const [val, d] = t.unwrap(x)
    if (d === null) return applyAt(rule, frame, val, lead)
    return t.wrap(applyAt(rule, frame, moveaxis(val, d, 0), lead + 1), 0)
  }
  if (t instanceof JVPTrace) {
    const [p, tan] = t.unwrap(x)
    const out = applyAt(rule, frame, p, lead)
    if (tan === null) return out
    if (rule.transpose === undefined)
      failOn(
        rule,
        frame,
        `it is not differentiable (as in JAX); differentiate outside the mapped function, or use a linear collective`
      )
    return t.wrap(out, applyAt(rule, frame, tan, lead))
  }
  if (t instanceof ReverseTrace) {
    const [p] = t.unwrap(x)
    const out = applyAt(rule, frame, p, lead)
    const transpose = rule.transpose
    if (transpose === undefined)
      return t.recordLinear(x, out, () =>
        failOn(
          rule,
          frame,
          `it is not differentiable (as in JAX); differentiate outside the mapped function, or use a linear collective`
        )
      )
    return t.recordLinear(x, out, (ct) => applyAt(transpose(), frame, ct, lead))
  }
  // Staging would need the collective as a primitive of the staged program; it is not one.
  const fix =
    t.name === "jit"
      ? "apply jit outside the mapped function (jit(pmap(f)) rather than pmap(jit(f)))"
      : `compute the collective outside the ${t.name} body and pass its result in`
  return failOn(
    rule,
    frame,
    `it cannot run inside ${t.name} within the function mapped over '${frame.axisName}'; ${fix}`
  )
}

const run = (rule: Rule, name: string, x: ArrayLike): JArray =>
  applyAt(rule, frameOf(rule.op, name), isArray(x) ? x : asArray(x), 0)

type AxisNames = string | ReadonlyArray<string>

const overNames = <T>(rule: Rule, names: AxisNames, x: T): T => {
  const list = typeof names === "string" ? [names] : names
  return treeMap((leaf) => list.reduce<unknown>((acc, name) => run(rule, name, acc as ArrayLike), leaf), x) as T
}

const reduction = (op: string, reduce: (v: JArray) => JArray, linear: boolean): Rule => {
  const rule: Rule = {
    op,
    apply: (v) => [reduce(v), null],
    ...(linear ? { transpose: () => rule } : {})
  }
  return rule
}

const psumRule = reduction("psum", (v) => sum(v, 0), true)
const pmeanRule = reduction("pmean", (v) => mean(v, 0), true)
const pmaxRule = reduction("pmax", (v) => max(v, 0), false)
const pminRule = reduction("pmin", (v) => min(v, 0), false)

/**
 * Sums `x` (a pytree of arrays) over the members of the named axis (or of several axes), like
 * `jax.lax.psum`; every member gets the total. A value that does not depend on the mapped inputs
 * is summed once per member (`psum(1, "i")` is the axis size).
 *
 * @example
 * ```ts
 * import { jnp, lax, vmap } from "effect-nnx"
 *
 * vmap((x: jnp.Array) => lax.psum(x, "i"), { axisName: "i" })(jnp.arange(4)) // [6, 6, 6, 6]
 * ```
 * @category collectives
 * @since 0.1.0
 */
export const psum = <T>(x: T, axisName: AxisNames): T => overNames(psumRule, axisName, x)

/** The mean over the members of the named axis, like `jax.lax.pmean`. @category collectives @since 0.1.0 */
export const pmean = <T>(x: T, axisName: AxisNames): T => overNames(pmeanRule, axisName, x)

/**
 * The maximum over the members of the named axis, like `jax.lax.pmax`. Differentiating it inside the
 * mapped function is refused, as in JAX. @category collectives @since 0.1.0
 */
export const pmax = <T>(x: T, axisName: AxisNames): T => overNames(pmaxRule, axisName, x)

/** The minimum over the members of the named axis, like `jax.lax.pmin`. @category collectives @since 0.1.0 */
export const pmin = <T>(x: T, axisName: AxisNames): T => overNames(pminRule, axisName, x)

/**
 * The index of this member along the named axis (int32), like `jax.lax.axis_index`.
 * @category collectives
 * @since 0.1.0
 */
export const axisIndex = (axisName: string): JArray => {
  const frame = frameOf("axisIndex", axisName)
  return frame.wrap(arange(frame.axisSize, undefined, undefined, { dtype: "int32" }), 0)
}

const checkAxis = (op: string, name: string, axis: number, rank: number, what: string): number => {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new CollectiveError({
      op,
      axisName: name,
      reason: `${what} ${axis} is out of range for a value of rank ${rank - (what === "axis" ? 1 : 0)}`
    })
  }
  return axis < 0 ? axis + rank : axis
}

/** Options of {@link allGather}. */
export interface AllGatherOptions {
  /** Where the members' axis goes in the result; default 0. */
  readonly axis?: number | undefined
  /** Concatenate along `axis` instead of stacking a new axis. */
  readonly tiled?: boolean | undefined
}

const allGatherRule = (name: string, axis: number, tiled: boolean): Rule => ({
  op: "allGather",
  apply: (v, lead, n) => {
    const rank = v.ndim - 1 - lead
    const a = checkAxis("allGather", name, axis, tiled ? rank : rank + 1, "axis")
    if (tiled && rank === 0)
      throw new CollectiveError({
        op: "allGather",
        axisName: name,
        reason: "tiled gathering needs a value of rank at least 1"
      })
    const stacked = moveaxis(v, 0, lead + a)
    if (!tiled) return [stacked, null]
    const s = stacked.shape
    return [reshape(stacked, [...s.slice(0, lead + a), n * s[lead + a + 1]!, ...s.slice(lead + a + 2)]), null]
  },
  transpose: () => psumScatterRule(name, axis, tiled)
})

/**
 * Every member's `x`, stacked along `axis` (or concatenated with `tiled`), on every member, like
 * `jax.lax.all_gather`.
 * @category collectives
 * @since 0.1.0
 */
export const allGather = <T>(x: T, axisName: string, options?: AllGatherOptions): T =>
  treeMap(
    (leaf) => run(allGatherRule(axisName, options?.axis ?? 0, options?.tiled ?? false), axisName, leaf as ArrayLike),
    x
  ) as T

/** Options of {@link psumScatter}. */
export interface PsumScatterOptions {
  /** The axis of `x` split among the members; default 0. */
  readonly scatterDimension?: number | undefined
  /** Keep the split axis (each member gets a block of it) instead of removing it. */
  readonly tiled?: boolean | undefined
}

const psumScatterRule = (name: string, dimension: number, tiled: boolean): Rule => ({
  op: "psumScatter",
  apply: (v, lead, n) => {
    const d = checkAxis("psumScatter", name, dimension, v.ndim - 1 - lead, "scatterDimension")
    const total = sum(v, 0)
    const size = total.shape[lead + d]!
    if (!tiled) {
      if (size !== n)
        throw new CollectiveError({
          op: "psumScatter",
          axisName: name,
          reason: `dimension ${d} has size ${size}, which must equal the size ${n} of axis '${name}' (or pass tiled: true)`
        })
      return [moveaxis(total, lead + d, 0), 0]
    }
    if (size % n !== 0)
      throw new CollectiveError({
        op: "psumScatter",
        axisName: name,
        reason: `dimension ${d} has size ${size}, which must be a multiple of the size ${n} of axis '${name}'`
      })
    const s = total.shape
    const blocks = reshape(total, [...s.slice(0, lead + d), n, size / n, ...s.slice(lead + d + 1)])
    return [moveaxis(blocks, lead + d, 0), 0]
  },
  transpose: () => allGatherRule(name, dimension, tiled)
})

/**
 * Sums over the members of the named axis and gives member `j` block `j` of the total along
 * `scatterDimension`, like `jax.lax.psum_scatter`.
 * @category collectives
 * @since 0.1.0
 */
export const psumScatter = <T>(x: T, axisName: string, options?: PsumScatterOptions): T =>
  treeMap(
    (leaf) =>
      run(
        psumScatterRule(axisName, options?.scatterDimension ?? 0, options?.tiled ?? false),
        axisName,
        leaf as ArrayLike
      ),
    x
  ) as T

const ppermuteRule = (name: string, perm: ReadonlyArray<readonly [number, number]>): Rule => ({
  op: "ppermute",
  apply: (v, _lead, n) => {
    const source = new Map<number, number>()
    const sources = new Set<number>()
    for (const pair of perm) {
      const [from, to] = pair
      for (const i of [from, to]) {
        if (!Number.isInteger(i) || i < 0 || i >= n) {
          throw new CollectiveError({
            op: "ppermute",
            axisName: name,
            reason: `the pair [${from}, ${to}] names member ${i}, outside axis '${name}' of size ${n}`
          })
        }
      }
      if (source.has(to) || sources.has(from)) {
        throw new CollectiveError({
          op: "ppermute",
          axisName: name,
          reason: `the pair [${from}, ${to}] repeats a ${source.has(to) ? "destination" : "source"}; each member sends and receives at most once`
        })
      }
      source.set(to, from)
      sources.add(from)
    }
    const blank = zeros([1, ...v.shape.slice(1)], { dtype: v.dtype === "key<fry>" ? "uint32" : v.dtype })
    const rows = Array.from({ length: n }, (_, j) => {
      const from = source.get(j)
      return from === undefined ? blank : getItem(v, [{ start: from, stop: from + 1 }])
    })
    return [concatenate(rows, 0), 0]
  },
  transpose: () =>
    ppermuteRule(
      name,
      perm.map(([a, b]) => [b, a] as const)
    )
})

/**
 * Sends each member's `x` to another: for each pair `[from, to]` of `perm`, member `to` receives
 * member `from`'s value; members that receive nothing get zeros. Like `jax.lax.ppermute`.
 * @category collectives
 * @since 0.1.0
 */
export const ppermute = <T>(x: T, axisName: string, perm: ReadonlyArray<readonly [number, number]>): T =>
  treeMap((leaf) => run(ppermuteRule(axisName, perm), axisName, leaf as ArrayLike), x) as T

const allToAllRule = (name: string, splitAxis: number, concatAxis: number): Rule => ({
  op: "allToAll",
  apply: (v, lead, n) => {
    const rank = v.ndim - 1 - lead
    const s = checkAxis("allToAll", name, splitAxis, rank, "splitAxis")
    const c = checkAxis("allToAll", name, concatAxis, rank, "concatAxis")
    if (v.shape[1 + lead + s] !== n) {
      throw new CollectiveError({
        op: "allToAll",
        axisName: name,
        reason: `splitAxis ${s} has size ${v.shape[1 + lead + s]}, which must equal the size ${n} of axis '${name}'`
      })
    }
    // Member j receives chunk j of every member's split axis, stacked at concatAxis.
    const bySplit = moveaxis(v, 1 + lead + s, 0)
    return [moveaxis(bySplit, 1, 1 + lead + c), 0]
  },
  transpose: () => allToAllRule(name, concatAxis, splitAxis)
})

/**
 * Splits `x` along `splitAxis` (of size the axis size) and sends block `j` to member `j`, which
 * stacks the blocks it receives along `concatAxis`, like `jax.lax.all_to_all` (untiled).
 * @category collectives
 * @since 0.1.0
 */
export const allToAll = <T>(x: T, axisName: string, splitAxis: number, concatAxis: number): T =>
  treeMap((leaf) => run(allToAllRule(axisName, splitAxis, concatAxis), axisName, leaf as ArrayLike), x) as T
