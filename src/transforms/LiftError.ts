/**
 * Errors of the lifted (object-graph) transforms.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * The same object reached a transform with different prefixes (axes, shardings), among the inputs
 * or between an input and an output. The report lists, per Variable, each path and prefix seen.
 * @category errors
 * @since 0.1.0
 */
export class AliasingError extends Data.TaggedError("AliasingError")<{
  readonly report: string
}> {
  override get message(): string {
    return `Inconsistent aliasing detected. The following nodes have different prefixes:\n${this.report}`
  }
}

/**
 * A lift type or prefix that does not fit: a Variable no `StateAxes` filter matches, a batched
 * value written to broadcast (`null`) state, a `Carry` whose structure changed.
 * @category errors
 * @since 0.1.0
 */
export class LiftTypeError extends Data.TaggedError("LiftTypeError")<{
  readonly transform: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.transform}: ${this.reason}`
  }
}
