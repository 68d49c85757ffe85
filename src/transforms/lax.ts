/**
 * The public `lax` namespace: the primitives (from the array layer) and structured control flow
 * (`scan`, `cond`, `switch`, `whileLoop`, `foriLoop`, `map`) with `stopGradient`, as in `jax.lax`.
 *
 * @since 0.1.0
 */
import { scan } from "./core/controlFlow.ts"

export * from "../backend/lax.ts"
export * from "../backend/laxConv.ts"
export * from "../backend/laxExtra.ts"
export { cond, foriLoop, scan, switchCase as switch, switchCase, whileLoop } from "./core/controlFlow.ts"
export type { ScanOptions } from "./core/controlFlow.ts"
export { stopGradient } from "./core/custom.ts"

/**
 * Applies `f` to each slice of `xs` along its leading axis, one after another, and stacks the
 * results, like `jax.lax.map`: a `scan` without a carry. Use it instead of `vmap` when the slices
 * must not be computed all at once (memory), or `f` does not batch; `xs` and the results may be
 * pytrees of Arrays.
 *
 * @example
 * ```ts
 * import { jnp, lax } from "effect-nnx"
 * import type { Array } from "effect-nnx"
 *
 * const ys = lax.map((x: Array) => jnp.sum(x), jnp.ones([3, 4])) // [4, 4, 4]
 * ```
 * @category control flow
 * @since 0.1.0
 */
export const map = <X, Y>(f: (x: X) => Y, xs: X): Y =>
  scan((carry: ReadonlyArray<never>, x: X) => [carry, f(x)] as const, [], xs)[1]

export { associativeScan } from "./core/associativeScan.ts"
export type { AssociativeScanOptions } from "./core/associativeScan.ts"
export {
  allGather,
  allToAll,
  axisIndex,
  CollectiveError,
  pmax,
  pmean,
  pmin,
  ppermute,
  psum,
  psumScatter
} from "./core/collectives.ts"
export type { AllGatherOptions, PsumScatterOptions } from "./core/collectives.ts"
