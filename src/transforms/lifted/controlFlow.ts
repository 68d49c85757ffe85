/**
 * `nnx.cond`, `nnx.switch`, `nnx.whileLoop`, `nnx.foriLoop`: the control-flow primitives over
 * values that hold Modules, Variables and Rngs. Each stages its functions once (both branches of a
 * `cond`, the loop body), so:
 *
 * - state changes made in the branch taken (or by the loop body) propagate to the objects outside;
 * - shared references keep their sharing: the same Module twice in the operands, or a Module and
 *   one of its sub-modules, come back as the same objects, updated once;
 * - the graph structure must be the same in every branch and in every iteration (a loop body
 *   returns the same objects it got, with the same Variables, shapes and dtypes); otherwise the
 *   call fails with `LiftTypeError` naming the path;
 * - state that no branch writes comes back as it went in (the core `cond` forwards such outputs,
 *   as JAX does), so under `nnx.vmap` a batched predicate leaves unwritten broadcast state
 *   broadcast, as in Flax; written broadcast state becomes batched and is refused there.
 *
 * A failing function leaves every outer object exactly as it was. `condFn` of a loop must not
 * change state (it is an error, where Flax drops such changes).
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Hash } from "effect"
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { asArray } from "../../backend/numpy/creation.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import { VariableState } from "../../graph/Variable.ts"
import {
  cond as coreCond,
  foriLoop as coreForiLoop,
  switchCase as coreSwitch,
  whileLoop as coreWhile
} from "../core/controlFlow.ts"
import { flatten as treeFlatten, treedefKey, unflatten as treeUnflatten } from "../core/pytree.ts"
import type { TreeDef } from "../core/pytree.ts"
import { callUser, lifted } from "../combinator.ts"
import type { ErrOf, LiftError, Out, ReqOf } from "../combinator.ts"
import { AliasTracker, mergeTree, NodeStates, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"
import { LiftTypeError } from "../LiftError.ts"
import { describePureLeaves, graphNodesOnly } from "./scan.ts"

type NoPrefix = null

const splitBase = (transform: string) => ({
  transform,
  what: "operands",
  isPrefixLeaf: (u: unknown) => u === null,
  resolve: () => ({ group: 0, prefix: null }),
  show: () => "null",
  corePrefix: () => null
})

/** A pure tree cut into its Arrays (the dynamic part) and everything else. */
interface Cut {
  readonly leaves: ReadonlyArray<unknown>
  readonly def: TreeDef
  /** Per leaf: whether it is dynamic (an Array, or a number/boolean when `numbersAreArrays`). */
  readonly isDyn: ReadonlyArray<boolean>
  readonly dynamic: ReadonlyArray<JArray>
  readonly names: ReadonlyArray<string>
}

const cut = (pure: unknown, root: string, numbersAreArrays: boolean): Cut => {
  const [leaves, def] = treeFlatten(pure)
  const names = describePureLeaves(pure, root)
  const dynamic: Array<JArray> = []
  const isDyn = leaves.map((l) => {
    if (isArray(l) || (numbersAreArrays && (typeof l === "number" || typeof l === "boolean"))) {
      dynamic.push(asArray(l as JArray))
      return true
    }
    return false
  })
  return { leaves, def, isDyn, dynamic, names }
}

const paste = (c: Cut, arrays: ReadonlyArray<JArray>): unknown => {
  let k = 0
  return treeUnflatten(
    c.def,
    c.leaves.map((l, i) => (c.isDyn[i] ? arrays[k++] : l))
  )
}

/** A comparable description of a static leaf (graph structure, kinds, metadata, static values). */
const staticKey = (u: unknown): string => {
  if (u instanceof NodeStates) {
    const templates = u.templates.map((t) =>
      t instanceof VariableState ? `${t.kind}:${JSON.stringify(t.metadata)}` : (JSON.stringify(t) ?? String(t))
    )
    return `G${Hash.hash(u.graphdef)}|${u.groupOf.join(",")}|${u.paths.map((p) => p.join("/")).join(",")}|${templates.join(";")}`
  }
  return `${typeof u}:${JSON.stringify(u) ?? String(u)}`
}

/** Why two cuts differ in structure, naming the first path that differs; `undefined` when alike. */
const structureDiff = (a: Cut, b: Cut): string | undefined => {
  const na = new Set(a.names)
  const nb = new Set(b.names)
  const added = b.names.filter((n) => !na.has(n))
  const removed = a.names.filter((n) => !nb.has(n))
  if (added.length > 0 || removed.length > 0)
    return [...added.map((n) => `added ${n}`), ...removed.map((n) => `removed ${n}`)].join("; ")
  if (treedefKey(a.def) !== treedefKey(b.def)) return "the pytree structure differs"
  for (let i = 0; i < a.leaves.length; i++) {
    if (a.isDyn[i] !== b.isDyn[i]) return `${a.names[i]} is an Array on one side only`
    if (!a.isDyn[i] && staticKey(a.leaves[i]) !== staticKey(b.leaves[i])) {
      const x = a.leaves[i]
      return x instanceof NodeStates
        ? `the graph at ${a.names[i]} differs (attributes, shared references or Variable metadata changed, or another object took its place)`
        : `the static value at ${a.names[i]} differs`
    }
  }
  return undefined
}

const avalDiff = (a: Cut, b: Cut): string | undefined => {
  const names = a.names.filter((_, i) => a.isDyn[i])
  for (let i = 0; i < a.dynamic.length; i++) {
    const x = a.dynamic[i]!
    const y = b.dynamic[i]!
    if (x.dtype !== y.dtype || x.shape.join(",") !== y.shape.join(",")) {
      return `${names[i]} is ${x.dtype}[${x.shape.join(", ")}] on one side and ${y.dtype}[${y.shape.join(", ")}] on the other`
    }
  }
  return undefined
}

/** The outer split of `tree`, its nodes stamped with their own index (so a loop body that returns the same objects gives equal GraphDefs). */
const outerSplit = (transform: string, tree: unknown, numbersAreArrays: boolean) => {
  const refMap = new Map<object, number>()
  const outer = splitTree<NoPrefix>(tree, null, {
    ...splitBase(transform),
    refMap,
    outerRefMap: refMap,
    aliases: new AliasTracker()
  })
  return { refMap, cut: cut(outer.pure, "init", numbersAreArrays) }
}

/** Inner merge of a cut with traced Arrays. */
const innerMerge = (c: Cut, arrays: ReadonlyArray<JArray>) => {
  const indexMap = new Map<number, object>()
  const value = mergeTree<NoPrefix>(paste(c, arrays), { indexMap })
  return { value, indexMap }
}

/** Inner split of `tree` with the inner objects' outer indices. */
const innerSplit = (
  transform: string,
  tree: unknown,
  indexMap: ReadonlyMap<number, object>,
  root: string,
  numbersAreArrays: boolean
): Cut => {
  const options: SplitOptions<NoPrefix> = {
    ...splitBase(transform),
    refMap: new Map(),
    outerRefMap: refMapFromIndexMap(indexMap),
    aliases: new AliasTracker()
  }
  return cut(splitTree<NoPrefix>(tree, null, options).pure, root, numbersAreArrays)
}

const outerMerge = (c: Cut, arrays: ReadonlyArray<JArray>, refMap: ReadonlyMap<object, number>): unknown =>
  mergeTree<NoPrefix>(paste(c, arrays), { indexMap: new Map(), reuse: indexMapFromRefMap(refMap) })

const fail = (transform: string, reason: string): never => {
  throw new LiftTypeError({ transform, reason })
}

// ---------------------------------------------------------------------------------------------
// cond / switch

const switchImpl = (
  transform: string,
  index: JArray | number | boolean,
  branches: ReadonlyArray<(...ops: Array<unknown>) => unknown>,
  operands: ReadonlyArray<unknown>,
  isCond: boolean
): unknown => {
  if (branches.length === 0) fail(transform, "needs at least one branch")
  const refMap = new Map<object, number>()
  const outer = splitTree<NoPrefix>(operands, null, { ...splitBase(transform), refMap, aliases: new AliasTracker() })
  const inCut = cut(outer.pure, "operands", false)
  const results: Array<Cut | undefined> = branches.map(() => undefined)
  const staged = branches.map((branch, k) => (...arrays: Array<JArray>): Array<JArray> => {
    const { value, indexMap } = innerMerge(inCut, arrays)
    const ops = value as Array<unknown>
    const out = withMutationCheck(() => callUser(() => branch(...ops)))
    const c = innerSplit(transform, [graphNodesOnly(ops), out], indexMap, "[operands, out]", true)
    results[k] = c
    const first = results[0]
    if (k > 0 && first !== undefined) {
      const diff = structureDiff(first, c) ?? avalDiff(first, c)
      if (diff !== undefined) {
        fail(
          transform,
          `every branch must leave the same graph structure and types, but branch ${isCond ? (k === 1 ? "trueFn" : "falseFn") : k} differs from branch ${isCond ? "falseFn" : 0}: ${diff}`
        )
      }
    }
    return [...c.dynamic]
  })
  const outs = isCond
    ? coreCond(typeof index === "number" ? index !== 0 : index, staged[1]!, staged[0]!, ...inCut.dynamic)
    : coreSwitch(typeof index === "boolean" ? Number(index) : index, staged, ...inCut.dynamic)
  const [, out] = outerMerge(results[0]!, outs, refMap) as [unknown, unknown]
  return out
}

/**
 * `nnx.cond(pred, trueFn, falseFn, ...operands)`: a call is an Effect; `.sync` runs it directly.
 * @category control flow
 * @since 0.1.0
 */
export interface LiftedCond {
  <Ops extends ReadonlyArray<unknown>, R>(
    pred: JArray | boolean,
    trueFn: (...operands: Ops) => R,
    falseFn: (...operands: Ops) => R,
    ...operands: Ops
  ): Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>>
  readonly sync: <Ops extends ReadonlyArray<unknown>, R>(
    pred: JArray | boolean,
    trueFn: (...operands: Ops) => R,
    falseFn: (...operands: Ops) => R,
    ...operands: Ops
  ) => Out<R>
}

/**
 * Runs `trueFn` or `falseFn` on operands that may hold Modules, like `nnx.cond`: both branches are
 * traced, the taken one's state changes propagate, and both must leave the same graph structure.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Counter extends nnx.Module {
 *   count = new nnx.Variable(jnp.array(0))
 * }
 * const counter = new Counter()
 * const x = jnp.array([1, -2, 3])
 * const increment = (c: Counter) => { c.count.value = c.count.value.add(1) }
 * nnx.cond.sync(x.sum().gt(0), increment, (_c: Counter) => {}, counter)
 * counter.count.value.item() // 1
 * ```
 * @category control flow
 * @since 0.1.0
 */
export const cond: LiftedCond = lifted<ReadonlyArray<unknown>, unknown>((args) => {
  const [pred, trueFn, falseFn, ...operands] = args as [
    JArray | boolean,
    (...ops: Array<unknown>) => unknown,
    (...ops: Array<unknown>) => unknown,
    ...Array<unknown>
  ]
  return switchImpl("nnx.cond", pred, [falseFn, trueFn], operands, true)
}, "nnx.cond") as unknown as LiftedCond

/**
 * `nnx.switch(index, branches, ...operands)`: a call is an Effect; `.sync` runs it directly.
 * @category control flow
 * @since 0.1.0
 */
export interface LiftedSwitch {
  <Ops extends ReadonlyArray<unknown>, R>(
    index: JArray | number,
    branches: ReadonlyArray<(...operands: Ops) => R>,
    ...operands: Ops
  ): Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>>
  readonly sync: <Ops extends ReadonlyArray<unknown>, R>(
    index: JArray | number,
    branches: ReadonlyArray<(...operands: Ops) => R>,
    ...operands: Ops
  ) => Out<R>
}

/**
 * Runs `branches[index]` (clamped) on operands that may hold Modules, like `nnx.switch`.
 * @category control flow
 * @since 0.1.0
 */
export const switchCase: LiftedSwitch = lifted<ReadonlyArray<unknown>, unknown>((args) => {
  const [index, branches, ...operands] = args as [
    JArray | number,
    ReadonlyArray<(...ops: Array<unknown>) => unknown>,
    ...Array<unknown>
  ]
  return switchImpl("nnx.switch", index, branches, operands, false)
}, "nnx.switch") as unknown as LiftedSwitch

export { switchCase as switch }

// ---------------------------------------------------------------------------------------------
// whileLoop / foriLoop

/** One loop step on the carried Arrays: merge, call, split, check the structure is unchanged. */
const loopStep = (
  transform: string,
  init: Cut,
  arrays: ReadonlyArray<JArray>,
  call: (val: unknown) => unknown
): Array<JArray> => {
  const { value, indexMap } = innerMerge(init, arrays)
  const out = withMutationCheck(() => callUser(() => call(value)))
  const c = innerSplit(transform, out, indexMap, "init", true)
  const diff = structureDiff(init, c) ?? avalDiff(init, c)
  if (diff !== undefined) {
    fail(
      transform,
      `the loop body must return the same graph structure and types as the loop value it got (the same objects, Variables, shapes and dtypes): ${diff}`
    )
  }
  return [...c.dynamic]
}

/** Runs a loop condition; it may read the state but not change it. */
const loopCond = (
  transform: string,
  init: Cut,
  arrays: ReadonlyArray<JArray>,
  condFn: (val: unknown) => JArray | boolean
): JArray | boolean => {
  const { value, indexMap } = innerMerge(init, arrays)
  const pred = withMutationCheck(() => condFn(value))
  const c = innerSplit(transform, value, indexMap, "init", true)
  if (structureDiff(init, c) !== undefined || c.dynamic.some((x, i) => x !== arrays[i])) {
    fail(transform, "condFn changed the loop value's state; the condition may only read it (change state in the body)")
  }
  return pred
}

/**
 * `nnx.whileLoop(condFn, bodyFn, init)`: a call is an Effect; `.sync` runs it directly.
 * @category control flow
 * @since 0.1.0
 */
export interface LiftedWhileLoop {
  <C, B extends NoInfer<C> | Effect.Effect<NoInfer<C>, unknown, unknown>>(
    condFn: (val: NoInfer<C>) => JArray | boolean,
    bodyFn: (val: NoInfer<C>) => B,
    init: C
  ): Effect.Effect<C, LiftError | ErrOf<B>, ReqOf<B>>
  readonly sync: <C, B extends NoInfer<C> | Effect.Effect<NoInfer<C>, unknown, unknown>>(
    condFn: (val: NoInfer<C>) => JArray | boolean,
    bodyFn: (val: NoInfer<C>) => B,
    init: C
  ) => C
}

/**
 * `while (condFn(val)) val = bodyFn(val)` over a value holding Modules, like `nnx.while_loop`: the
 * body must return the same objects (same graph structure); their state changes propagate, and
 * shared references stay shared.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Counter extends nnx.Module {
 *   count = new nnx.Variable(jnp.array(0))
 * }
 * type Carry = readonly [Counter, jnp.Array]
 * const counter = new Counter()
 * const init: Carry = [counter, jnp.array(1)]
 * const [m, y] = nnx.whileLoop.sync(
 *   ([m]: Carry) => m.count.value.lt(3),
 *   ([m, x]: Carry): Carry => { m.count.value = m.count.value.add(1); return [m, x.mul(2)] },
 *   init
 * )
 * m === counter // true
 * counter.count.value.item() // 3
 * y.item() // 8
 * ```
 * @category control flow
 * @since 0.1.0
 */
export const whileLoop: LiftedWhileLoop = lifted<ReadonlyArray<unknown>, unknown>((args) => {
  const [condFn, bodyFn, init] = args as [(val: unknown) => JArray | boolean, (val: unknown) => unknown, unknown]
  const T = "nnx.whileLoop"
  const { refMap, cut: initCut } = outerSplit(T, init, true)
  const final = coreWhile(
    (arrays: ReadonlyArray<JArray>) => loopCond(T, initCut, arrays, condFn),
    (arrays: ReadonlyArray<JArray>) => loopStep(T, initCut, arrays, bodyFn),
    [...initCut.dynamic]
  )
  return outerMerge(initCut, final, refMap)
}, "nnx.whileLoop") as unknown as LiftedWhileLoop

/**
 * `nnx.foriLoop(lower, upper, body, init)`: a call is an Effect; `.sync` runs it directly.
 * @category control flow
 * @since 0.1.0
 */
export interface LiftedForiLoop {
  <C, B extends NoInfer<C> | Effect.Effect<NoInfer<C>, unknown, unknown>>(
    lower: number | JArray,
    upper: number | JArray,
    body: (i: JArray, val: NoInfer<C>) => B,
    init: C
  ): Effect.Effect<C, LiftError | ErrOf<B>, ReqOf<B>>
  readonly sync: <C, B extends NoInfer<C> | Effect.Effect<NoInfer<C>, unknown, unknown>>(
    lower: number | JArray,
    upper: number | JArray,
    body: (i: JArray, val: NoInfer<C>) => B,
    init: C
  ) => C
}

/**
 * `for (i = lower; i < upper; i++) val = body(i, val)` over a value holding Modules, like
 * `nnx.fori_loop`. With number bounds it lowers to a scan (reverse-differentiable).
 * @category control flow
 * @since 0.1.0
 */
export const foriLoop: LiftedForiLoop = lifted<ReadonlyArray<unknown>, unknown>((args) => {
  const [lower, upper, body, init] = args as [
    number | JArray,
    number | JArray,
    (i: JArray, val: unknown) => unknown,
    unknown
  ]
  const T = "nnx.foriLoop"
  const { refMap, cut: initCut } = outerSplit(T, init, true)
  const final = coreForiLoop(
    lower,
    upper,
    (i: JArray, arrays: ReadonlyArray<JArray>) => loopStep(T, initCut, arrays, (val) => body(i, val)),
    [...initCut.dynamic]
  )
  return outerMerge(initCut, final, refMap)
}, "nnx.foriLoop") as unknown as LiftedForiLoop
