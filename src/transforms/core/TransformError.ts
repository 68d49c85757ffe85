/**
 * Typed errors of the core transforms. Each names the transform, the argument path (as JAX writes
 * it: `args[0]['w']`) and what to change.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Bad `vmap` axes: inconsistent batch sizes, an axis out of range, a batched output mapped to
 * `null`, a prefix that does not match the arguments.
 * @category errors
 * @since 0.1.0
 */
export class VmapError extends Data.TaggedError("VmapError")<{
  readonly reason: string
}> {
  override get message(): string {
    return `vmap: ${this.reason}`
  }
}

/**
 * Bad input to a differentiation transform: integer inputs, non-scalar outputs of `grad`,
 * `argnums` out of range, forward mode through a custom VJP, reverse mode through `whileLoop`.
 * @category errors
 * @since 0.1.0
 */
export class GradError extends Data.TaggedError("GradError")<{
  readonly transform: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.transform}: ${this.reason}`
  }
}

/**
 * A structure mismatch in a transform or control-flow primitive: a `scan` carry that changes
 * shape, `cond` branches returning different types, a pytree that is not a valid prefix.
 * @category errors
 * @since 0.1.0
 */
export class StructureError extends Data.TaggedError("StructureError")<{
  readonly transform: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.transform}: ${this.reason}`
  }
}

/** @category errors @since 0.1.0 */
export type TransformError = VmapError | GradError | StructureError

/** @category guards @since 0.1.0 */
export const isTransformError = (u: unknown): u is TransformError =>
  u instanceof VmapError || u instanceof GradError || u instanceof StructureError
