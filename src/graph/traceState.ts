/**
 * Which trace level a graph object belongs to, and the hook that refuses mutations from another one.
 *
 * Every Variable and Module records `currentTraceLevel()` when it is made. Every write to one (a
 * Variable's value or metadata, a Module attribute set or deleted) calls {@link checkMutable}. The
 * check compares levels only inside a level that a lifted transform has marked with
 * {@link withMutationCheck}: there, an object made at another level (captured by a closure rather
 * than passed in as an argument, so the transform cannot propagate its changes) may not be mutated,
 * as in Flax ("Cannot mutate Param from a different trace level"). Elsewhere writes are free, so
 * plain array-level transforms and ordinary code are unaffected.
 *
 * @since 0.1.0
 */
import { currentTraceLevel } from "../backend/bind.ts"
import { TraceContextError } from "./errors.ts"

/** @internal */
export const TraceStateKey: unique symbol = Symbol.for("effect-nnx/graph/TraceState")

/**
 * The trace level an object was made at.
 * @category models
 * @since 0.1.0
 */
export interface TraceState {
  readonly level: number
}

/** An object that carries a {@link TraceState} (Variables and Modules). */
export interface HasTraceState {
  readonly [TraceStateKey]: TraceState
}

const stateByLevel: Array<TraceState> = []

/** The trace state of an object being made now (shared by all objects of a level). @internal */
export const makeTraceState = (): TraceState => {
  const level = currentTraceLevel()
  return (stateByLevel[level] ??= Object.freeze({ level }))
}

/** Whether `u` carries a trace state. */
export const hasTraceState = (u: unknown): u is HasTraceState =>
  (typeof u === "object" || typeof u === "function") && u !== null && TraceStateKey in u

/**
 * The trace level a Variable or Module belongs to (the level current when it was made; 0 outside
 * every transform).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * nnx.traceLevel(new nnx.Param(jnp.zeros([3]))) // 0
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const traceLevel = (obj: HasTraceState): number => obj[TraceStateKey].level

/** Levels inside which mutation is checked, with multiplicity (a level may be re-entered). */
const checkedLevels = new Map<number, number>()

/**
 * Runs `f` with mutation checks on at the current trace level: inside, writing to a Variable or
 * Module made at another level fails with `TraceContextError`. Lifted transforms wrap the traced
 * call of the user's function in it (after entering their own trace level). @internal
 */
export const withMutationCheck = <A>(f: () => A): A => {
  const level = currentTraceLevel()
  checkedLevels.set(level, (checkedLevels.get(level) ?? 0) + 1)
  try {
    return f()
  } finally {
    const n = checkedLevels.get(level)! - 1
    if (n === 0) checkedLevels.delete(level)
    else checkedLevels.set(level, n)
  }
}

/**
 * The mutation hook: called before every write to a Variable or Module. Throws
 * `TraceContextError` when the current level is checked (see {@link withMutationCheck}) and the
 * object belongs to another level. `kind` names the object in the message (`Param`, `Weights`); a
 * function is called only when the error is raised, keeping the common path cheap.
 * @internal
 */
export const checkMutable = (obj: HasTraceState, kind: string | (() => string)): void => {
  if (checkedLevels.size === 0) return
  const current = currentTraceLevel()
  if (!checkedLevels.has(current)) return
  const level = obj[TraceStateKey].level
  if (level !== current) {
    throw new TraceContextError({ kind: typeof kind === "string" ? kind : kind(), objectLevel: level, currentLevel: current })
  }
}

/** Whether a write to `obj` would be refused now, as an error value instead of a throw. @internal */
export const mutationError = (obj: HasTraceState, kind: string): TraceContextError | undefined => {
  try {
    checkMutable(obj, kind)
    return undefined
  } catch (e) {
    if (e instanceof TraceContextError) return e
    throw e
  }
}
