/**
 * The `jnp` namespace: NumPy's API over effect-nnx arrays, with JAX's promotion and semantics.
 *
 * @since 0.1.0
 */
export { Array, isArray } from "../Array.ts"
export type { ArrayLike, NestedList } from "../Array.ts"
export type { DType, NumericDType } from "../DType.ts"
export * from "./creation.ts"
export * from "./elementwise.ts"
export * from "./shapeOps.ts"
export * from "./reductions.ts"
export * from "./linalg.ts"
export { getItem, indexUpdate, take, takeAlongAxis } from "./indexing.ts"
export type { Index, IndexUpdate, Slice } from "./indexing.ts"
export * from "./sorting.ts"
export { allclose, attempt } from "./checks.ts"
export * from "./extraMath.ts"
export * from "./extraShape.ts"
export * from "./extraReductions.ts"
export * from "./extraSearch.ts"
