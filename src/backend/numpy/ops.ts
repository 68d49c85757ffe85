/**
 * The `jnp` namespace: NumPy's API over effect-nnx arrays, with JAX's promotion and semantics.
 *
 * @since 0.1.0
 */
export { Array, isArray } from "../Array.ts"
export type { ArrayLike, Complex, NestedList } from "../Array.ts"
export type { DType, NumericDType } from "../DType.ts"
export * from "./creation.ts"
export * from "./elementwise.ts"
export * from "./shapeOps.ts"
export * from "./reductions.ts"
export * from "./linalg.ts"
export * as linalg from "./linalgNamespace.ts"
export * as fft from "./fft.ts"
export { getItem, indexUpdate, take, takeAlongAxis } from "./indexing.ts"
export type { GetOptions, Index, IndexUpdate, OutOfBoundsMode, Slice, TakeOptions, UpdateOptions } from "./indexing.ts"
export * from "./sorting.ts"
export { allclose, attempt } from "./checks.ts"
export * from "./extraMath.ts"
export * from "./extraShape.ts"
export * from "./extraReductions.ts"
export * from "./extraSearch.ts"
export * from "./binning.ts"
export * from "./polynomial.ts"
// These two replace shapeOps' narrower versions (constant padding, a number of repeats) in `jnp`.
export { pad } from "./padding.ts"
export type { PadMode, PadOptions, PerAxis } from "./padding.ts"
export { repeat } from "./repeat.ts"
export type { RepeatOptions } from "./repeat.ts"
export { einsum } from "./einsum.ts"
