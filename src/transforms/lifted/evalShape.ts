/**
 * `nnx.evalShape`: the output `f` would return, without computing anything, like `nnx.eval_shape`.
 * Arrays in the output become `{ shape, dtype }` (`ShapeDtypeStruct`); graph nodes in the output
 * come back as new objects whose Variables hold `ShapeDtypeStruct`s (an abstract model, e.g. to
 * see the shapes of a model without initialising it). The arguments are left as they were:
 * updates made inside do not propagate.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type { Array as JArray } from "../../backend/Array.ts"
import type { Module } from "../../graph/Module.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import type { Variable } from "../../graph/Variable.ts"
import { evalShape as coreEvalShape } from "../core/custom.ts"
import type { ShapeDtypeStruct } from "../core/custom.ts"
import { callUser, lifted } from "../combinator.ts"
import type { ErrOf, LiftError, Out, ReqOf } from "../combinator.ts"
import { AliasTracker, mergeTree, splitTree } from "../extract.ts"
import { pack, resolveAll, showDiff } from "./gradPartition.ts"
import type { Diff } from "./gradPartition.ts"

/**
 * A value with its Arrays replaced by their shapes and dtypes, graph nodes included: a Module's
 * fields and a Variable's `value` are abstract too (`.value` is a {@link ShapeDtypeStruct}, so
 * `abstract.kernel.value.add(1)` does not compile), its other members as they were.
 */
export type Abstract<T, D extends ReadonlyArray<0> = []> = D["length"] extends 8
  ? T
  : T extends JArray
    ? ShapeDtypeStruct
    : T extends Variable<infer A>
      ? AbstractVariable<T, A, D>
      : T extends Module
        ? { -readonly [K in keyof T]: T[K] extends (...args: never) => unknown ? T[K] : Abstract<T[K], [...D, 0]> }
        : T extends ReadonlyArray<unknown>
          ? { -readonly [K in keyof T]: Abstract<T[K], [...D, 0]> }
          : T extends Record<string, unknown>
            ? { -readonly [K in keyof T]: Abstract<T[K], [...D, 0]> }
            : T

/** A Variable whose value is abstract: its members that read or write the value are left out. */
type AbstractVariable<T, A, D extends ReadonlyArray<0>> = Omit<T, "value" | "update" | "replace"> & {
  readonly value: Abstract<A, [...D, 0]>
}

/** {@link evalShape}: an Effect per call, and `.sync` for scripts. */
export interface EvalShape {
  <Args extends ReadonlyArray<unknown>, R>(
    f: (...args: Args) => R,
    ...args: Args
  ): Effect.Effect<Abstract<Out<R>>, LiftError | ErrOf<R>, ReqOf<R>>
  readonly sync: <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, ...args: Args) => Abstract<Out<R>>
}

const base = {
  transform: "nnx.evalShape",
  what: "args",
  isPrefixLeaf: (u: unknown) => u === null,
  resolve: resolveAll,
  show: showDiff,
  corePrefix: () => null
}

const evalShapeOf = <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R) =>
  lifted<Args, Effect.Effect<Abstract<Out<R>>, ErrOf<R>, ReqOf<R>>>((args) => {
    const outer = splitTree<Diff>(args, null, { ...base, refMap: new Map(), aliases: new AliasTracker() })
    const inPack = pack(outer.pure)
    const abstractOut = coreEvalShape((xs: ReadonlyArray<JArray>) => {
      const innerArgs = mergeTree<Diff>(inPack.put(xs), { indexMap: new Map() }) as unknown as Args
      const out = withMutationCheck(() => callUser(() => f(...innerArgs)))
      // Output graph nodes are split on their own: they come back as new (abstract) objects.
      return splitTree<Diff>(out, null, { ...base, what: "output", refMap: new Map(), aliases: new AliasTracker() })
        .pure
    }, inPack.arrays)
    return mergeTree<Diff>(abstractOut, { indexMap: new Map() }) as Abstract<Out<R>>
  }, "nnx.evalShape")

/**
 * The shapes and dtypes `f(...args)` would return, as an Effect; `nnx.evalShape.sync` for scripts.
 *
 * @example
 * ```ts
 * import { nnx } from "effect-nnx"
 *
 * const abstract = nnx.evalShape.sync((rngs: nnx.Rngs) => new nnx.Linear(2, 3, { rngs }), new nnx.Rngs(0))
 * abstract.kernel.value // { shape: [2, 3], dtype: "float32" }
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const evalShape: EvalShape = Object.assign(
  <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, ...args: Args) => evalShapeOf(f)(...args),
  {
    sync: <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, ...args: Args) =>
      evalShapeOf(f).sync(...args)
  }
)
