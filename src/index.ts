/**
 * effect-nnx: Flax NNX's object model and lifted transforms for the Effect ecosystem, on
 * JAX-compatible arrays and random numbers.
 *
 * ```ts
 * import { jnp, random, lax, nn, nnx, Backend, vmap, grad, jit } from "effect-nnx"
 * ```
 *
 * @since 0.1.0
 */
// Array's methods come from the numpy functions (a side-effect installation, like JAX's).
import "./backend/numpy/install.ts"
// The interpreters' rule tables, assembled above them.
import "./transforms/core/installRules.ts"

export * as jnp from "./backend/numpy/ops.ts"
export * as random from "./backend/random/index.ts"
export * as lax from "./transforms/lax.ts"
export * as nn from "./backend/numpy/nn.ts"
export * as nnx from "./nnx.ts"
export * as optax from "./optax/index.ts"
export * as Backend from "./backend/Backends.ts"
export {
  ArgumentError,
  ArrayLiteralError,
  AxisError,
  DTypeError,
  ShapeError,
  isArrayError
} from "./backend/ArrayError.ts"
export type { ArrayError } from "./backend/ArrayError.ts"
export type { Array, ArrayLike } from "./backend/Array.ts"
export { displayStyle, setDisplayStyle, withDisplayStyle } from "./backend/displayStyle.ts"
export type { DisplayStyle, StyleOptions } from "./backend/displayStyle.ts"
export type { DType, NumericDType } from "./backend/DType.ts"
export {
  checkpoint,
  customJvp,
  customVjp,
  evalShape,
  grad,
  GradError,
  hessian,
  isTransformError,
  jacfwd,
  jacrev,
  jit,
  jvp,
  linearize,
  makeJaxpr,
  remat,
  stopGradient,
  StructureError,
  treeFlatten,
  treeMap,
  treeUnflatten,
  valueAndGrad,
  vjp,
  vmap,
  VmapError
} from "./transforms/core/index.ts"
export type {
  Abstract,
  ArgIndex,
  Argnums,
  AxisPrefix,
  AxisSpec,
  GradOf,
  GradOptions,
  GradRequirements,
  GradResult,
  InAxes,
  JacobianOptions,
  JitOptions,
  Jitted,
  MakeJaxprResult,
  OutAxes,
  Position,
  ShapeDtypeStruct,
  TransformError,
  VmapOptions
} from "./transforms/core/index.ts"
export { CollectiveError } from "./transforms/core/collectives.ts"
export { devicePut } from "./transforms/core/associativeScan.ts"
export {
  ConcretizationError,
  EscapedTracerError,
  OutOfMemoryError,
  isPendingReadError,
  OverflowError,
  PendingReadError
} from "./backend/ArrayError.ts"
