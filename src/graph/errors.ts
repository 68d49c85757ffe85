/**
 * Typed errors of the object graph: Variables, Modules, Rngs, graph operations, filters and codecs.
 * Each says what was wrong, where (the path into the graph, printed like `layers[0].kernel`), and
 * what to do. Synchronous graph operations throw them; Effect APIs (`Variable.set`, the codecs) carry
 * them in the error channel, where `Effect.catchTag` tells them apart.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Path } from "./path.ts"
import { formatPath } from "./path.ts"

const at = (path: Path | undefined): string => (path === undefined ? "" : ` at ${formatPath(path)}`)

/**
 * A Variable or Module was mutated from a trace level other than its own: typically an object
 * captured by a closure inside a transform instead of being passed as an argument.
 * @category errors
 * @since 0.1.0
 */
export class TraceContextError extends Data.TaggedError("TraceContextError")<{
  /** The class of the object, e.g. `Param`. */
  readonly kind: string
  readonly objectLevel: number
  readonly currentLevel: number
}> {
  override get message(): string {
    return `Cannot mutate ${this.kind} from a different trace level (https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.TraceContextError)`
  }
  /** What to do about it. */
  get hint(): string {
    return this.objectLevel === this.currentLevel
      ? `the ${this.kind} was made inside another transform at the same level ${this.objectLevel}, which has returned (it leaked through a closure, a global or a mutated object): return it from that transform, or pass it as an argument`
      : `the ${this.kind} belongs to trace level ${this.objectLevel} but the current level is ${this.currentLevel}: pass it to the transformed function as an argument instead of capturing it in a closure`
  }
}

/**
 * Filters that cannot be used as given: `...`/`true` before the last position, or filters that leave
 * part of the state unmatched where every element must land somewhere (`split`).
 * @category errors
 * @since 0.1.0
 */
export class FilterError extends Data.TaggedError("FilterError")<{
  readonly reason: string
  /** Paths of the elements no filter matched, when that is the problem. */
  readonly unmatched: ReadonlyArray<Path>
}> {
  override get message(): string {
    if (this.unmatched.length === 0) return this.reason
    const shown = this.unmatched.slice(0, 5).map(formatPath).join(", ")
    const more = this.unmatched.length > 5 ? `, and ${this.unmatched.length - 5} more` : ""
    return `${this.reason}: ${shown}${more}`
  }
}

/**
 * A GraphDef and State(s) that do not fit together in `merge`/`unflatten`: a missing or extra leaf,
 * a leaf of the wrong kind, a reference to an object not seen yet.
 * @category errors
 * @since 0.1.0
 */
export class MergeError extends Data.TaggedError("MergeError")<{
  readonly path: Path | undefined
  readonly reason: string
}> {
  override get message(): string {
    return `merge: ${this.reason}${at(this.path)}`
  }
}

/**
 * A State that cannot be written into a graph by `update`: a subtree where the graph has a leaf,
 * a leaf where it has a subgraph, an unsafe key. Nothing was changed.
 * @category errors
 * @since 0.1.0
 */
export class UpdateError extends Data.TaggedError("UpdateError")<{
  readonly path: Path
  readonly reason: string
}> {
  override get message(): string {
    return `update: ${this.reason}${at(this.path)}`
  }
}

/**
 * A value that cannot be part of an object graph where it was found: a plain list or record that
 * contains itself (use a Module for cyclic structure), a root that is not a graph node, a key that
 * is not a string or list index.
 * @category errors
 * @since 0.1.0
 */
export class GraphStructureError extends Data.TaggedError("GraphStructureError")<{
  readonly path: Path | undefined
  readonly reason: string
}> {
  override get message(): string {
    return `${this.reason}${at(this.path)}`
  }
}

/**
 * An Rngs misuse: an unknown stream with no `default` to fall back to, an invalid seed, a stream
 * name that collides with an Rngs method.
 * @category errors
 * @since 0.1.0
 */
export class RngError extends Data.TaggedError("RngError")<{
  readonly stream: string | undefined
  readonly reason: string
}> {
  override get message(): string {
    return this.stream === undefined ? this.reason : `RngStream '${this.stream}': ${this.reason}`
  }
}

/**
 * A State or GraphDef that cannot be saved (a non-JSON metadata value, a tracer) or loaded (a
 * truncated, corrupted or hostile file, or one that does not match the target). Loading never
 * changes the target when it fails.
 * @category errors
 * @since 0.1.0
 */
export class CodecError extends Data.TaggedError("CodecError")<{
  readonly path: Path | undefined
  readonly reason: string
}> {
  override get message(): string {
    return `${this.reason}${at(this.path)}`
  }
}

/**
 * A layer (a Module of `nnx`'s layer library, or a user's) refused its input or configuration: a
 * wrong feature size, Dropout in training with no rngs. It names the layer's class and its path in
 * the model; a layer reports the empty path and containers (`Sequential`) prefix theirs. Nothing
 * was changed. It lives here, among the graph's errors, so that lifted transforms carry it in their
 * error channel like the others.
 * @category errors
 * @since 0.1.0
 */
export class LayerError extends Data.TaggedError("LayerError")<{
  /** The layer's class, e.g. `Linear`. */
  readonly layer: string
  /** Where the layer sits in the model it was called through (empty when called directly). */
  readonly path: Path
  readonly reason: string
}> {
  override get message(): string {
    return `${this.layer}${this.path.length === 0 ? "" : at(this.path)}: ${this.reason}`
  }
}

/**
 * Any error of the object graph.
 * @category errors
 * @since 0.1.0
 */
export type GraphError =
  | TraceContextError
  | FilterError
  | MergeError
  | UpdateError
  | GraphStructureError
  | RngError
  | CodecError
  | LayerError

/** @category guards @since 0.1.0 */
export const isGraphError = (u: unknown): u is GraphError =>
  u instanceof TraceContextError ||
  u instanceof FilterError ||
  u instanceof MergeError ||
  u instanceof UpdateError ||
  u instanceof GraphStructureError ||
  u instanceof RngError ||
  u instanceof CodecError ||
  u instanceof LayerError
