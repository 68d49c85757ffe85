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
  /** The same, to read: per aliased object, its kind and each path (`args[0]`-relative) with the prefix it had there. */
  readonly nodes?: ReadonlyArray<AliasedNode> | undefined
}> {
  override get message(): string {
    return `Inconsistent aliasing detected. The following nodes have different prefixes:\n${this.report}`
  }
}

/**
 * One object an {@link AliasingError} found with different prefixes: its kind, and each path it
 * was reached at with the prefix it had there.
 * @category errors
 * @since 0.2.0
 */
export interface AliasedNode {
  readonly node: string
  readonly seen: ReadonlyArray<{ readonly path: string; readonly prefix: string }>
}

/**
 * A lift type or prefix that does not fit: a Variable no `StateAxes` filter matches, a batched
 * value written to broadcast (`null`) state, a `Carry` whose structure changed, an axes option of a
 * form the transform does not take (thrown when the transform is made), a prefix tree that does not
 * match the arguments.
 *
 * Prefix errors carry, besides the message, which option (`what`: `"inAxes"`, ...), where (`path`,
 * e.g. `args[0]['a']`, and `argument`, the index of the positional argument), the prefix expected
 * there and what was found.
 * @category errors
 * @since 0.1.0
 */
export class LiftTypeError extends Data.TaggedError("LiftTypeError")<{
  readonly transform: string
  readonly reason: string
  /** The option whose prefix did not fit (`"inAxes"`, `"outAxes"`, `"inShardings"`, ...). */
  readonly what?: string | undefined
  /** Where: a path into the arguments (`args[1]['w']`), the output (`out[0]`) or the option itself (`inAxes[0]`). */
  readonly path?: string | undefined
  /** The index of the positional argument the path is in, when it is in one. */
  readonly argument?: number | undefined
  /** The prefix form expected at `path`. */
  readonly expected?: string | undefined
  /** What was found at `path`. */
  readonly found?: string | undefined
}> {
  override get message(): string {
    return `${this.transform}: ${this.reason}`
  }
}

/**
 * `f` returned an Effect that did not complete synchronously (it sleeps, awaits a promise, forks
 * and joins, ...). Tracing is synchronous, so the Effect `f` returns must finish without
 * suspending: return a synchronous Effect or a plain value, and run asynchronous work before or
 * after the transform.
 * @category errors
 * @since 0.2.0
 */
export class AsyncEffectError extends Data.TaggedError("AsyncEffectError")<{
  readonly transform: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.transform}: ${this.reason}`
  }
}

/**
 * `f` returned an Effect while a jit traced it. Under `jit`/`nnx.jit`, `f` runs only when a new
 * signature is traced and later calls replay the compiled program, so the Effect (its failures, its
 * services) would run once and then be skipped. Return a plain value; run Effects outside the jitted
 * function and pass their values in.
 * @category errors
 * @since 0.2.0
 */
export class JitEffectError extends Data.TaggedError("JitEffectError")<{
  readonly transform: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.transform}: ${this.reason}`
  }
}
