/**
 * How lifted transforms meet Effect: each transform's call is an `Effect` whose error channel holds
 * the typed errors (array errors, transform errors, graph errors, the user's own failures), and `f`
 * may return a plain value or an Effect. The `.sync` form runs the same code for scripts and throws.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit } from "effect"
import type { Context } from "effect"
import { isArrayError } from "../backend/ArrayError.ts"
import type { ArrayError } from "../backend/ArrayError.ts"
import { isGraphError } from "../graph/errors.ts"
import type { GraphError } from "../graph/errors.ts"
import { isTransformError } from "./core/TransformError.ts"
import type { TransformError } from "./core/TransformError.ts"
import { AliasingError, LiftTypeError } from "./LiftError.ts"

/**
 * Every typed error a lifted transform can fail with (besides the user's own).
 * @category errors
 * @since 0.1.0
 */
export type LiftError = ArrayError | TransformError | GraphError | AliasingError | LiftTypeError

/** @category guards @since 0.1.0 */
export const isLiftError = (u: unknown): u is LiftError =>
  isArrayError(u) || isTransformError(u) || isGraphError(u) || u instanceof AliasingError || u instanceof LiftTypeError

/** A failure of the user's Effect, carried through the synchronous tracing code. */
class EffectFailure {
  constructor(readonly cause: Cause.Cause<unknown>) {}
}

/** The services the current lifted call runs with, for Effects returned by `f`. */
let currentContext: Context.Context<never> | undefined

/**
 * Calls `f` and, when it returns an Effect, runs it synchronously (with the caller's services) and
 * returns its value; its failure travels to the transform's error channel.
 */
export const callUser = <A>(f: () => A | Effect.Effect<A, unknown, unknown>): A => {
  const r = f()
  if (!Effect.isEffect(r)) return r
  const effect = r as Effect.Effect<A, unknown, never>
  const exit = Effect.runSyncExit(currentContext === undefined ? effect : Effect.provide(effect, currentContext))
  if (Exit.isSuccess(exit)) return exit.value
  throw new EffectFailure(exit.cause)
}

/** What `f` returns, unwrapped from an Effect. */
export type Out<R> = R extends Effect.Effect<infer A, infer _E, infer _R> ? A : R
/** The failures of `f`'s Effect, if it returns one. */
export type ErrOf<R> = R extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
/** The services `f`'s Effect needs. */
export type ReqOf<R> = R extends Effect.Effect<infer _A, infer _E, infer Q> ? Q : never

/**
 * A lifted transform's result: call it for an Effect, or use `.sync` for a plain call that throws
 * the typed error.
 * @category models
 * @since 0.1.0
 */
export interface Lifted<Args extends ReadonlyArray<unknown>, R> {
  (...args: Args): Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>>
  readonly sync: (...args: Args) => Out<R>
}

/** Wraps a synchronous implementation as a lifted transform. */
export const lifted = <Args extends ReadonlyArray<unknown>, R>(impl: (args: Args) => Out<R>): Lifted<Args, R> => {
  const sync = (...args: Args): Out<R> => {
    try {
      return impl(args)
    } catch (e) {
      if (e instanceof EffectFailure) throw Cause.squash(e.cause)
      throw e
    }
  }
  const asEffect = (...args: Args): Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>> =>
    Effect.flatMap(Effect.context<never>(), (ctx) =>
      Effect.suspend((): Effect.Effect<Out<R>, LiftError | ErrOf<R>> => {
        const prev = currentContext
        currentContext = ctx
        try {
          return Effect.succeed(impl(args))
        } catch (e) {
          if (e instanceof EffectFailure) return Effect.failCause(e.cause as Cause.Cause<ErrOf<R>>)
          if (isLiftError(e)) return Effect.fail(e)
          return Effect.die(e)
        } finally {
          currentContext = prev
        }
      })) as Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>>
  return Object.assign(asEffect, { sync })
}
