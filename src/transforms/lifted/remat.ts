/**
 * `nnx.remat`: `checkpoint` over functions of Modules and Arrays. Reverse mode
 * stores only the call's inputs and recomputes its intermediates in the backward pass; values and
 * gradients equal those of the plain call, and state updates inside propagate out.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import { checkpoint as coreCheckpoint } from "../core/custom.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted } from "../combinator.ts"
import { AliasTracker, mergeTree, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"
import { pack, resolveAll, showDiff } from "./gradPartition.ts"
import type { Diff, Packed } from "./gradPartition.ts"

/**
 * Rematerialises `f` under reverse mode, like `nnx.remat`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Mlp extends nnx.Module {
 *   w = new nnx.Param(jnp.array([0.5, 1, 2]))
 *   call(x: jnp.Array): jnp.Array { return jnp.tanh(x.mul(this.w.value)) }
 * }
 * const block = nnx.remat((m: Mlp, x: jnp.Array) => m.call(x))
 * const x = jnp.ones([3])
 * const g1 = nnx.grad((m: Mlp) => jnp.sum(block.sync(m, x))).sync(new Mlp())
 * const g2 = nnx.grad((m: Mlp) => jnp.sum(m.call(x))).sync(new Mlp())
 * jnp.allclose(g1.w.value, g2.w.value).item() // true
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const remat = <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R): Lifted<Args, R> =>
  lifted<Args, R>((args) => {
    const base = {
      transform: "nnx.remat",
      what: "args",
      isPrefixLeaf: (u: unknown) => u === null,
      resolve: resolveAll,
      show: showDiff,
      corePrefix: () => null
    }
    // 1. Outer split: every Array is an input of the checkpointed program.
    const refMap = new Map<object, number>()
    const outer = splitTree<Diff>(args, null, { ...base, refMap, aliases: new AliasTracker() })
    const inPack = pack(outer.pure)
    let outPack: Packed | undefined
    const inner = (xs: ReadonlyArray<JArray>): ReadonlyArray<JArray> => {
      // 2. Inner merge, call, 3. inner split of (arguments, output).
      const indexMap = new Map<number, object>()
      const innerArgs = mergeTree<Diff>(inPack.put(xs), { indexMap }) as unknown as Args
      const out = withMutationCheck(() => callUser(() => f(...innerArgs)))
      const splitOptions: SplitOptions<Diff> = {
        ...base,
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker()
      }
      const a = splitTree<Diff>(innerArgs, null, splitOptions)
      const o = splitTree<Diff>(out, null, { ...splitOptions, what: "output", aliases: new AliasTracker() })
      outPack = pack([a.pure, o.pure])
      return outPack.arrays
    }
    const outs = coreCheckpoint(inner)(inPack.arrays)
    // 4. Outer merge.
    const [argsOut, outPure] = outPack!.put(outs) as readonly [unknown, unknown]
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    mergeTree(argsOut, mergeOptions)
    return mergeTree(outPure, mergeOptions) as never
  }, "nnx.remat")
