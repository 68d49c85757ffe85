/**
 * effect-nnx: Flax NNX's object model and lifted transforms for the Effect ecosystem, on
 * JAX-compatible arrays and random numbers.
 *
 * ```ts
 * import { jnp, random, lax, nn, nnx, Backend } from "effect-nnx"
 * ```
 *
 * @since 0.1.0
 */
export * as jnp from "./backend/numpy/ops.ts"
export * as random from "./backend/random/index.ts"
export * as lax from "./backend/lax.ts"
export * as nn from "./backend/numpy/nn.ts"
export * as nnx from "./graph/index.ts"
export * as Backend from "./backend/Backend.ts"
export { ArgumentError, ArrayLiteralError, AxisError, DTypeError, ShapeError, isArrayError } from "./backend/ArrayError.ts"
export type { ArrayError } from "./backend/ArrayError.ts"
export type { Array, ArrayLike } from "./backend/Array.ts"
export type { DType, NumericDType } from "./backend/DType.ts"
