/**
 * The core transforms, as in `jax`: `vmap`, `jvp`, `vjp`, `linearize`, `grad`, `valueAndGrad`,
 * `jacfwd`, `jacrev`, `hessian`, `jit`, `makeJaxpr`, `evalShape`, `checkpoint`/`remat`,
 * `customJvp`, `customVjp`, `stopGradient`. Control flow lives in `lax`.
 *
 * @since 0.1.0
 */
export { vmap } from "./batching.ts"
export type { AxisPrefix, AxisSpec, InAxes, OutAxes, VmapOptions } from "./batching.ts"
export { jvp, linearize } from "./jvp.ts"
export { grad, valueAndGrad, vjp } from "./reverse.ts"
export type { GradOf, GradOptions, GradRequirements, GradResult } from "./reverse.ts"
export { hessian, jacfwd, jacrev } from "./jacobians.ts"
export type { JacobianOptions } from "./jacobians.ts"
export type { ArgIndex, Argnums, Position } from "./argnums.ts"
export { jit } from "./jit.ts"
export type { JitOptions, Jitted } from "./jit.ts"
export { makeJaxpr } from "./staging.ts"
export type { MakeJaxprResult } from "./staging.ts"
export { checkpoint, customJvp, customVjp, evalShape, remat, stopGradient } from "./custom.ts"
export type { Abstract, ShapeDtypeStruct } from "./custom.ts"
export { cond, foriLoop, scan, switchCase, whileLoop } from "./controlFlow.ts"
export type { ScanOptions } from "./controlFlow.ts"
export { GradError, StructureError, VmapError, isTransformError } from "./TransformError.ts"
export type { TransformError } from "./TransformError.ts"
export { flatten as treeFlatten, unflatten as treeUnflatten, treeMap } from "./pytree.ts"
