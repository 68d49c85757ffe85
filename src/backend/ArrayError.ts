/**
 * Typed errors raised by array operations. Each names the operation, the offending shapes, axes or
 * dtypes, and what to change. Synchronous array code throws them; Effect code (`jnp.attempt`, the
 * transforms) carries them in the error channel, where `Effect.catchTag` tells them apart.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

// A shape argument that was not an array (`zeros({ length: 2 })`) still has to print, not throw.
const fmtShape = (s: ReadonlyArray<number>): string =>
  Array.isArray(s)
    ? `(${s.join(", ")}${s.length === 1 ? "," : ""})`
    : typeof s === "object" && s !== null
      ? (JSON.stringify(s) ?? String(s))
      : String(s)

// Numbers print as JavaScript writes them (JSON would print NaN as null); anything else as JSON.
const fmtAxis = (a: unknown): string =>
  typeof a === "number"
    ? String(a)
    : Array.isArray(a)
      ? `[${a.map(fmtAxis).join(",")}]`
      : (JSON.stringify(a) ?? String(a))

/**
 * Shapes that do not fit an operation: broadcasting, matmul contraction, reshape sizes, concatenation.
 * @category errors
 * @since 0.1.0
 */
export class ShapeError extends Data.TaggedError("ShapeError")<{
  readonly op: string
  readonly shapes: ReadonlyArray<ReadonlyArray<number>>
  readonly reason: string
}> {
  override get message(): string {
    return this.shapes.length === 0
      ? `${this.op}: ${this.reason}`
      : `${this.op}: ${this.reason} (shapes ${this.shapes.map(fmtShape).join(", ")})`
  }
}

/**
 * An axis outside `[-ndim, ndim)`, or repeated where axes must be distinct.
 * @category errors
 * @since 0.1.0
 */
export class AxisError extends Data.TaggedError("AxisError")<{
  readonly op: string
  readonly axis: number | ReadonlyArray<number>
  readonly ndim: number
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: ${this.reason}: axis ${fmtAxis(this.axis)} for an array of ndim ${this.ndim}`
  }
}

/**
 * A dtype an operation does not accept (bit operations on floats, arithmetic on PRNG keys, ...).
 * @category errors
 * @since 0.1.0
 */
export class DTypeError extends Data.TaggedError("DTypeError")<{
  readonly op: string
  readonly dtypes: ReadonlyArray<string>
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: ${this.reason} (dtypes ${this.dtypes.join(", ")})`
  }
}

/**
 * A nested JavaScript array that is not a valid array literal: ragged rows, non-numeric leaves.
 * `path` locates the first offending element, e.g. `[1][2]`.
 * @category errors
 * @since 0.1.0
 */
export class ArrayLiteralError extends Data.TaggedError("ArrayLiteralError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `array: ${this.reason} at ${this.path === "" ? "the top level" : this.path}`
  }
}

/**
 * An argument out of its domain that is neither a shape, an axis nor a dtype: a negative size, a bad
 * index expression, a split that does not divide evenly.
 * @category errors
 * @since 0.1.0
 */
export class ArgumentError extends Data.TaggedError("ArgumentError")<{
  readonly op: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: ${this.reason}`
  }
}

/**
 * A traced value was needed as a concrete one: `tolist()`, `item()`, a JavaScript comparison or
 * `if` on an Array inside `vmap`, `grad` or `jit`. Use `jnp.where` or `lax.cond` instead.
 * @category errors
 * @since 0.1.0
 */
export class ConcretizationError extends Data.TaggedError("ConcretizationError")<{
  readonly op: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: ${this.reason}`
  }
}

/**
 * A tracer was used after the transform that made it returned.
 * @category errors
 * @since 0.1.0
 */
export class EscapedTracerError extends Data.TaggedError("EscapedTracerError")<{
  readonly op: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: ${this.reason}`
  }
}

/**
 * A JavaScript integer that does not fit the integer dtype it would become (JAX's OverflowError):
 * `int32` holds `[-2^31, 2^31)`, `uint32` `[0, 2^32)`; a weakly typed literal meeting a `uint32`
 * array must fit `int32` and then wraps, as in JAX. Give the literal a float dtype, or convert the
 * array, to compute outside that range.
 * @category errors
 * @since 0.2.0
 */
export class OverflowError extends Data.TaggedError("OverflowError")<{
  readonly op: string
  readonly value: number
  readonly dtype: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: the integer ${this.value} is out of bounds for ${this.dtype}: ${this.reason}`
  }
}

/**
 * An allocation the backend could not serve: its memory is at its maximum and nothing it holds can
 * be released or moved out. Dispose arrays you no longer need (`Array.dispose`, `Backend.tidy`) or
 * lower the backend's resident limit.
 * @category errors
 * @since 0.2.0
 */
export class OutOfMemoryError extends Data.TaggedError("OutOfMemoryError")<{
  readonly op: string
  readonly bytes: number
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: cannot allocate ${this.bytes} bytes: ${this.reason}`
  }
}

/**
 * A synchronous read (`tolist()`, `item()`, `dataSync()`, printing) of a value an asynchronous
 * backend (webgpu) has not read back yet. Its kernels are queued on the device and WebGPU has no
 * synchronous readback, so read it asynchronously: `await x.data()`, `await x.blockUntilReady()`
 * (after which synchronous reads work), or `Backend.data(x)` / `Backend.tolist(x)` in an Effect.
 * @category errors
 * @since 0.2.0
 */
export class PendingReadError extends Data.TaggedError("PendingReadError")<{
  readonly op: string
  readonly backend: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.op}: ${this.reason}`
  }
}

/**
 * Whether `u` is a {@link PendingReadError}, by its tag: also one thrown by another copy of this
 * module (two installed copies of effect-nnx, a test runner's module reloads).
 * @category guards
 * @since 0.2.0
 */
export const isPendingReadError = (u: unknown): u is PendingReadError =>
  u instanceof PendingReadError ||
  (typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === "PendingReadError")

/**
 * Any error raised by an array operation.
 * @category errors
 * @since 0.1.0
 */
export type ArrayError =
  | OverflowError
  | OutOfMemoryError
  | ShapeError
  | AxisError
  | DTypeError
  | ArrayLiteralError
  | ArgumentError
  | ConcretizationError
  | EscapedTracerError
  | PendingReadError

/** @category guards @since 0.1.0 */
export const isArrayError = (u: unknown): u is ArrayError =>
  u instanceof ShapeError ||
  u instanceof AxisError ||
  u instanceof DTypeError ||
  u instanceof ArrayLiteralError ||
  u instanceof ArgumentError ||
  u instanceof ConcretizationError ||
  u instanceof EscapedTracerError ||
  u instanceof OutOfMemoryError ||
  u instanceof OverflowError ||
  isPendingReadError(u)

export { fmtShape }
