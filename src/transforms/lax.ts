/**
 * The public `lax` namespace: the primitives (from the array layer) and structured control flow
 * (`scan`, `cond`, `switch`, `whileLoop`, `foriLoop`) with `stopGradient`, as in `jax.lax`.
 *
 * @since 0.1.0
 */
export * from "../backend/lax.ts"
export { cond, foriLoop, scan, switchCase as switch, switchCase, whileLoop } from "./core/controlFlow.ts"
export type { ScanOptions } from "./core/controlFlow.ts"
export { stopGradient } from "./core/custom.ts"
