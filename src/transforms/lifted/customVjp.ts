/**
 * `nnx.customVjp`: a function of Modules and Arrays with a hand-written VJP, like
 * `nnx.custom_vjp`. `fwd(...args)` returns `[output, residuals]` (residuals may hold Modules);
 * `bwd(residuals, cotangent)` returns one cotangent per argument: a `State` of the differentiated
 * Variables for a graph node (a missing leaf, or `null` for the whole argument, is zero), an Array
 * for an Array.
 *
 * Differentiated state: every float Array of every argument, or, for argument `i`, what
 * `DiffState(i, filter)` in `nondiffArgnums` selects (as Flax, whose name for the option is kept
 * although a `DiffState` there names the differentiated part). Updates of state inside `f`
 * propagate out; they are not differentiated through (their cotangents are dropped), and state
 * that `f` leaves unchanged keeps its identity, so later uses differentiate as usual.
 *
 * An integer `i` in `nondiffArgnums` makes argument `i` not differentiable at all, as JAX's
 * `nondiff_argnums`: it is passed to `f` and `fwd` as it is, and to `bwd` before the residuals
 * (`bwd(...nondiffArgs, residuals, cotangent)`, in the order of `nondiffArgnums`), and `bwd` returns
 * cotangents for the other arguments only. It is for values that are not traced (functions,
 * numbers, configuration): a graph node there is refused (use a `DiffState` to keep part of a
 * Module out), and so is an Array traced by an enclosing transform, as Flax and JAX refuse them.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import { isVariable, isVariableState } from "../../graph/Variable.ts"
import type { Variable } from "../../graph/Variable.ts"
import type { Module } from "../../graph/Module.ts"
import type { State } from "../../graph/State.ts"
import { Everything, toPredicate } from "../../filters/Filter.ts"
import type { Predicate } from "../../filters/Filter.ts"
import { isDiffState } from "../../filters/LiftTypes.ts"
import type { DiffState } from "../../filters/LiftTypes.ts"
import { customVjp as coreCustomVjp } from "../core/custom.ts"
import { zerosLike } from "../core/jvp.ts"
import { GradError, StructureError } from "../core/TransformError.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted, Out } from "../combinator.ts"
import { AliasTracker, isGraphNode, mergeTree, splitTree } from "../extract.ts"
import { flatten as treeFlatten, leafPaths } from "../core/pytree.ts"
import { typeName } from "../../graph/node.ts"
import type { Resolver, Split, SplitOptions } from "../extract.ts"
import type { GradFor } from "./grad.ts"
import {
  cotangentsOf,
  DIFF,
  gradientTree,
  isFloat,
  NONDIFF,
  pack,
  partition,
  resolveAll,
  showDiff
} from "./gradPartition.ts"
import type { Diff, Packed, Partition } from "./gradPartition.ts"

/** Options of {@link customVjp}. */
export interface CustomVjpOptions {
  /**
   * `DiffState(argnum, filter)`: differentiate only the part of graph-node argument `argnum` the
   * filter selects; an integer `argnum`: do not differentiate that argument at all (it goes to
   * `bwd` first, and `bwd` returns no cotangent for it).
   */
  readonly nondiffArgnums?: ReadonlyArray<DiffState | number> | undefined
}

/**
 * A cotangent for an argument of type `T` (`null` for zeros): a `State` of its differentiated
 * Variables for a graph node (built with `State.map`/`fromFlat`, so its fields are not typed; the
 * paths are checked at run time), the Variable or Array's own type otherwise.
 */
export type TangentFor<T> = LooseGrad<T> | null

/** The gradient structure of `T` with graph nodes' States untyped by field. */
type LooseGrad<T> = T extends Module
  ? State
  : T extends Variable<unknown>
    ? T
    : T extends JArray
      ? JArray
      : T extends ReadonlyArray<unknown>
        ? { -readonly [I in keyof T]: LooseGrad<T[I]> }
        : T extends Record<string, unknown>
          ? { -readonly [I in keyof T]: LooseGrad<T[I]> }
          : T

/** What `bwd` returns: one cotangent per argument. */
export type Tangents<Args extends ReadonlyArray<unknown>> = { readonly [K in keyof Args]: TangentFor<Args[K]> }

class DiffMark {
  constructor(readonly predicate: Predicate) {}
}

/** Float leaves the argument's filter selects are differentiated; integer state never is. */
const resolveCustom: Resolver<Diff> = (nodePrefix, path, leaf) => {
  const value = isVariableState(leaf) || isVariable(leaf) ? leaf.value : leaf
  if (!(nodePrefix instanceof DiffMark) || !isArray(value) || !isFloat(value)) return NONDIFF
  return path.length === 0 || nodePrefix.predicate(path, leaf) ? DIFF : NONDIFF
}

const everything = toPredicate(Everything())

/** Where an Array of the inner split comes from: an input Array unchanged (by index), or an output. */
type Slot = { readonly input: number } | { readonly output: number }

/** What the traced call of `f` left on the side: the static parts of the updated arguments and output. */
interface CallInfo {
  readonly argsPart: Packed
  readonly argsSlots: ReadonlyArray<Slot>
  readonly outPart: Partition
}

/**
 * A function of Modules and Arrays with a custom VJP, like `nnx.custom_vjp`. `nnx.grad` (or any
 * reverse mode) through it calls `fwd`, then `bwd` with the residuals and the output's cotangent.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Scale extends nnx.Module {
 *   w = new nnx.Param(jnp.ones([2]))
 * }
 * // m.w * x, with the gradient of w clipped to [-1, 1]
 * const scale = nnx.customVjp(
 *   (m: Scale, x: jnp.Array) => m.w.value.mul(x),
 *   (m: Scale, x: jnp.Array) => [m.w.value.mul(x), [m, x]] as const,
 *   ([m, x]: readonly [Scale, jnp.Array], g: jnp.Array) =>
 *     [nnx.state(m).map((_path, w) => w.replace(jnp.clip(x.mul(g), -1, 1))), g.mul(m.w.value)] as const
 * )
 * const x = jnp.array([0.5, 4])
 * const grads = nnx.grad((m: Scale) => jnp.sum(scale.sync(m, x))).sync(new Scale())
 * grads.w.value // Array([0.5, 1. ], dtype=float32)
 * ```
 * @category transforms
 * @since 0.1.0
 */
export function customVjp<Args extends ReadonlyArray<unknown>, R, Res>(
  f: (...args: Args) => R,
  fwd: (...args: Args) => readonly [Out<R>, Res],
  bwd: (residuals: Res, cotangent: GradFor<Out<R>>) => Tangents<Args>,
  options?: { readonly nondiffArgnums?: ReadonlyArray<DiffState> | undefined }
): Lifted<Args, R>
/** With integer `nondiffArgnums`: `bwd(...nondiffArgs, residuals, cotangent)` returns the other arguments' cotangents. */
export function customVjp<Args extends ReadonlyArray<unknown>, R, Res>(
  f: (...args: Args) => R,
  fwd: (...args: Args) => readonly [Out<R>, Res],
  // The leading nondiff arguments depend on runtime positions, which the types cannot follow.
  bwd: (...nondiffResidualsCotangent: ReadonlyArray<any>) => ReadonlyArray<unknown>,
  options: CustomVjpOptions
): Lifted<Args, R>
export function customVjp<Args extends ReadonlyArray<unknown>, R, Res>(
  f: (...args: Args) => R,
  fwd: (...args: Args) => readonly [Out<R>, Res],
  bwd: (...a: ReadonlyArray<any>) => ReadonlyArray<unknown>,
  options?: CustomVjpOptions
): Lifted<Args, R> {
  return lifted<Args, R>((allArgs) => {
    const transform = "nnx.customVjp"
    const marks: Array<DiffMark> = allArgs.map(() => new DiffMark(everything))
    const nondiff: Array<number> = []
    const seen = new Set<number>()
    for (const d of options?.nondiffArgnums ?? []) {
      const argnum = typeof d === "number" ? d : isDiffState(d) ? d.argnum : Number.NaN
      if (!Number.isInteger(argnum) || argnum < -allArgs.length || argnum >= allArgs.length) {
        throw new GradError({
          transform,
          reason: `nondiffArgnums takes integers or DiffState(argnum, filter), with argnum in range for ${allArgs.length} arguments`
        })
      }
      const i = argnum < 0 ? argnum + allArgs.length : argnum
      if (seen.has(i)) throw new GradError({ transform, reason: `argnum ${i} is repeated in nondiffArgnums` })
      seen.add(i)
      if (typeof d === "number") {
        checkNondiffArgument(transform, allArgs[i], i)
        nondiff.push(i)
      } else marks[i] = new DiffMark((d as DiffState).predicate)
    }
    const isNondiff = (i: number) => nondiff.includes(i)
    // Integer-nondiff arguments stay out of the extract protocol: f and fwd get them as they are.
    const args = allArgs.map((a, i) => (isNondiff(i) ? undefined : a)) as unknown as Args
    const withNondiff = (inner: ReadonlyArray<unknown>): Args =>
      inner.map((a, i) => (isNondiff(i) ? allArgs[i] : a)) as unknown as Args
    const base = {
      transform,
      what: "args",
      isPrefixLeaf: (u: unknown) => u === null || u instanceof DiffMark,
      resolve: resolveCustom,
      show: showDiff,
      corePrefix: () => null
    }
    // 1. Outer split.
    const refMap = new Map<object, number>()
    const outer = splitTree<Diff>(args, marks, { ...base, refMap, aliases: new AliasTracker() })
    const parts = (outer.pure as ReadonlyArray<unknown>).map((p) => partition(p, isFloat))
    const offsets = parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.diff.length, 0))
    const restOffsets = parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.rest.length, 0))
    const diff0 = parts.flatMap((p) => p.diff)
    const rest0 = parts.flatMap((p) => p.rest)

    /** Steps 2 and 3 around a user function: merge inside, call, split the arguments and output. */
    const around = <X>(user: (...a: Args) => X, diff: ReadonlyArray<JArray>, rest: ReadonlyArray<JArray>) => {
      const inPure = parts.map((p, i) =>
        p.put(
          diff.slice(offsets[i]!, offsets[i]! + p.diff.length),
          rest.slice(restOffsets[i]!, restOffsets[i]! + p.rest.length)
        )
      )
      const indexMap = new Map<number, object>()
      const innerArgs = mergeTree<Diff>(inPure, { indexMap }) as unknown as Args
      const result = withMutationCheck(() => callUser(() => user(...withNondiff(innerArgs))))
      const splitOptions: SplitOptions<Diff> = {
        ...base,
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker()
      }
      const a = splitTree<Diff>(innerArgs, marks, splitOptions)
      return { result, a, splitOptions }
    }
    const splitOut = (out: unknown, o: SplitOptions<Diff>): Split =>
      splitTree<Diff>(out, null, { ...o, what: "output", resolve: resolveAll, aliases: new AliasTracker() })

    let info: CallInfo | undefined
    const call = (diff: ReadonlyArray<JArray>, rest: ReadonlyArray<JArray>): Array<JArray> => {
      const { result, a, splitOptions } = around(f, diff, rest)
      const o = splitOut(result, splitOptions)
      const argsPart = pack(a.pure)
      const outPart = partition(o.pure, () => true)
      // Unchanged state is not an output: it keeps the identity of the input, so uses after the
      // call differentiate through it as usual.
      const inputs = new Map<JArray, number>()
      ;[...diff, ...rest].forEach((x, k) => inputs.set(x, k))
      const changed: Array<JArray> = []
      const argsSlots = argsPart.arrays.map((x): Slot => {
        const k = inputs.get(x)
        if (k !== undefined) return { input: k }
        changed.push(x)
        return { output: changed.length - 1 }
      })
      info = { argsPart, argsSlots, outPart }
      return [...changed, ...outPart.diff]
    }

    let resPart: Packed | undefined
    const fwdCore = (
      diff: ReadonlyArray<JArray>,
      rest: ReadonlyArray<JArray>
    ): readonly [Array<JArray>, Array<JArray>] => {
      const { result, a, splitOptions } = around(fwd, diff, rest)
      if (!Array.isArray(result) || result.length !== 2) {
        throw new StructureError({ transform, reason: "fwd must return [output, residuals]" })
      }
      const [out, res] = result as readonly [unknown, unknown]
      const o = splitOut(out, splitOptions)
      const argsPart = pack(a.pure)
      const outPart = partition(o.pure, () => true)
      const ci = info!
      if (outPart.diff.length !== ci.outPart.diff.length) {
        throw new StructureError({
          transform,
          reason: `fwd's output has ${outPart.diff.length} Arrays but f's has ${ci.outPart.diff.length}; fwd must return [f(...args), residuals]`
        })
      }
      const changed: Array<JArray> = []
      ci.argsSlots.forEach((s, k) => {
        if ("output" in s) changed.push(argsPart.arrays[k] ?? zerosLike(ci.argsPart.arrays[k]!))
      })
      // Residuals may hold graph nodes: split them on their own, to be rebuilt fresh in bwd.
      const r = splitTree<Diff>(res, null, {
        ...base,
        what: "residuals",
        resolve: resolveAll,
        refMap: new Map(),
        aliases: new AliasTracker()
      })
      resPart = pack(r.pure)
      return [[...changed, ...outPart.diff], [...resPart.arrays]]
    }

    const bwdCore = (
      residuals: ReadonlyArray<JArray>,
      cts: ReadonlyArray<JArray>
    ): readonly [Array<JArray>, Array<JArray>] => {
      const ci = info!
      const nChanged = ci.argsSlots.filter((s) => "output" in s).length
      const res = mergeTree<Diff>(resPart!.put(residuals), { indexMap: new Map() }) as Res
      const ct = gradientTree(ci.outPart, cts.slice(nChanged), (x) => x) as GradFor<Out<R>>
      const returned = bwd(...nondiff.map((i) => allArgs[i]), res, ct) as unknown
      const expected = args.length - nondiff.length
      if (!Array.isArray(returned) || returned.length !== expected) {
        throw new StructureError({
          transform,
          reason: `bwd must return one cotangent per ${nondiff.length === 0 ? "argument" : "differentiable argument (none for the integer nondiffArgnums)"} (${expected}), got ${Array.isArray(returned) ? `${returned.length}` : typeof returned}`
        })
      }
      let k = 0
      const tangents = args.map((_, i) => (isNondiff(i) ? null : returned[k++]))
      const diffCts = parts.flatMap((p, i) => cotangentsOf(transform, p, tangents[i], `args[${i}]`, zerosLike))
      return [diffCts, rest0.map(zerosLike)]
    }

    const outs = coreCustomVjp(call, fwdCore, bwdCore)(diff0, rest0)
    const ci = info!
    const nChanged = ci.argsSlots.filter((s) => "output" in s).length
    const inputs = [...diff0, ...rest0]
    const argsOutArrays = ci.argsSlots.map((s) => ("input" in s ? inputs[s.input]! : outs[s.output]!))
    // 4. Outer merge.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    mergeTree(ci.argsPart.put(argsOutArrays), mergeOptions)
    return mergeTree(ci.outPart.put(outs.slice(nChanged), []), mergeOptions) as never
  }, "nnx.customVjp")
}

/** An integer-nondiff argument may hold neither graph nodes nor Arrays traced by an enclosing transform. */
const checkNondiffArgument = (transform: string, arg: unknown, i: number): void => {
  const [leaves, def] = treeFlatten(arg, isGraphNode)
  const paths = leafPaths(def, `args[${i}]`)
  leaves.forEach((leaf, k) => {
    if (isGraphNode(leaf)) {
      throw new GradError({
        transform,
        reason: `Passing integers to nondiffArgnums for graph node arguments is not supported: ${paths[k]} is a ${typeName(leaf as object)}; to keep part of a Module out of differentiation use DiffState(${i}, filter)`
      })
    }
    if (isArray(leaf) && leaf.tracer !== undefined) {
      throw new GradError({
        transform,
        reason: `${paths[k]} is an Array traced by an enclosing transform, at a position nondiffArgnums marks as non-differentiable; nondiffArgnums is for values that are never traced (functions, numbers, configuration): pass Arrays as differentiable arguments`
      })
    }
  })
}
