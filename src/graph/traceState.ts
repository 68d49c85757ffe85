/**
 * Which trace a graph object belongs to, and the hook that refuses mutations from another one.
 *
 * Every Variable and Module records the trace context current when it is made (an object with a
 * level, compared by identity). Every write to one (a Variable's value or metadata, a Module
 * attribute set or deleted) calls {@link checkMutable}, which refuses the write when the current
 * trace is another one, as in Flax ("Cannot mutate Param from a different trace level"): inside any
 * transform, core or lifted, for an object captured by a closure rather than passed in as an
 * argument (the transform could not propagate its changes, and a core transform would leak its
 * tracers into it); and outside, or inside a later transform at the same depth, for an object made
 * inside a transform that has returned. Traces compare by identity, not by level, so two
 * transforms one after the other at the same depth are different traces.
 *
 * @since 0.1.0
 */
import { currentTraceContext } from "../backend/bind.ts"
import type { TraceContext } from "../backend/bind.ts"
import { TraceContextError } from "./errors.ts"

/** @internal */
export const TraceStateKey: unique symbol = Symbol.for("effect-nnx/graph/TraceState")

/**
 * The trace an object was made in: its level, and (by identity) which entry into a transform.
 * @category models
 * @since 0.1.0
 */
export type TraceState = TraceContext

/** An object that carries a {@link TraceState} (Variables and Modules). */
export interface HasTraceState {
  readonly [TraceStateKey]: TraceState
}

/** The trace state of an object being made now (shared by all objects made in one trace). @internal */
export const makeTraceState = (): TraceState => currentTraceContext()

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

/**
 * Marks the traced call of a lifted transform's function. The check itself is global (see the
 * module doc); this remains the one place a lifted transform enters user code. @internal
 */
export const withMutationCheck = <A>(f: () => A): A => f()

/** Whether `obj` was made in the current trace (and so may be mutated or extracted now). @internal */
export const isCurrentTrace = (obj: HasTraceState): boolean => obj[TraceStateKey] === currentTraceContext()

/**
 * The mutation hook: called before every write to a Variable or Module. Throws
 * `TraceContextError` when the object was made in another trace than the current one. `kind` names
 * the object in the message (`Param`, `Weights`); a function is called only when the error is
 * raised, keeping the common path cheap.
 * @internal
 */
export const checkMutable = (obj: HasTraceState, kind: string | (() => string)): void => {
  const own = obj[TraceStateKey]
  const current = currentTraceContext()
  if (own !== current) {
    throw new TraceContextError({
      kind: typeof kind === "string" ? kind : kind(),
      objectLevel: own.level,
      currentLevel: current.level
    })
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
