/**
 * How lifted transforms meet Effect: each transform's call is an `Effect` whose error channel holds
 * the typed errors (array errors, transform errors, graph errors, the user's own failures), and `f`
 * may return a plain value or an Effect. The `.sync` form runs the same code for scripts and throws.
 *
 * The Effect runs on the `Backend` service of its context: `nnx.vmap(f)(m, x).pipe(Effect.provide(
 * Backend.layer(b)))` computes on `b`. Where no Backend is provided, it runs on the current backend
 * (the default, or the one a surrounding `withBackend` set), as `.sync` does. An Effect returned by
 * `f` runs synchronously inside the trace with the call's services; it must not suspend
 * (`AsyncEffectError`), and under a jit it is refused (`JitEffectError`), since a replay of the
 * compiled program would skip it.
 *
 * The backend, the services and the transform's name are slots of the one transform context
 * (`backend/transformContext.ts`), set for the synchronous extent of one call and restored after
 * it, so fibers interleaving between calls each see their own.
 *
 * @since 0.1.0
 */
import { Cause, Context, Effect, Exit } from "effect"
import { isArrayError } from "../backend/ArrayError.ts"
import type { ArrayError } from "../backend/ArrayError.ts"
import { Backend } from "../backend/Backend.ts"
import { currentBackend } from "../backend/current.ts"
import { current as context, withContext } from "../backend/transformContext.ts"
import { isGraphError } from "../graph/errors.ts"
import type { GraphError } from "../graph/errors.ts"
import { isTransformError } from "./core/TransformError.ts"
import type { TransformError } from "./core/TransformError.ts"
import { currentJitTrace } from "./core/jit.ts"
import { AliasingError, AsyncEffectError, JitEffectError, LiftTypeError } from "./LiftError.ts"

/**
 * Every typed error a lifted transform can fail with (besides the user's own).
 * @category errors
 * @since 0.1.0
 */
export type LiftError =
  | ArrayError
  | TransformError
  | GraphError
  | AliasingError
  | LiftTypeError
  | AsyncEffectError
  | JitEffectError

/** @category guards @since 0.1.0 */
export const isLiftError = (u: unknown): u is LiftError =>
  isArrayError(u) ||
  isTransformError(u) ||
  isGraphError(u) ||
  u instanceof AliasingError ||
  u instanceof LiftTypeError ||
  u instanceof AsyncEffectError ||
  u instanceof JitEffectError

/** A failure of the user's Effect, carried through the synchronous tracing code. */
class EffectFailure {
  constructor(readonly cause: Cause.Cause<unknown>) {}
}

const isAsyncDefect = (cause: Cause.Cause<unknown>): boolean =>
  cause.reasons.some((r) => Cause.isDieReason(r) && Cause.isAsyncFiberError(r.defect))

/**
 * Calls `f` and, when it returns an Effect, runs it synchronously (with the caller's services) and
 * returns its value; its failure travels to the transform's error channel. An Effect under a jit's
 * trace is a `JitEffectError`; one that suspends is an `AsyncEffectError`.
 */
export const callUser = <A>(f: () => A | Effect.Effect<A, unknown, unknown>): A => {
  const r = f()
  if (!Effect.isEffect(r)) return r
  const { services, transform: innermost } = context()
  const transform = innermost ?? "a lifted transform"
  const jit = currentJitTrace()
  if (jit !== undefined) {
    throw new JitEffectError({
      transform: jit,
      reason: `the function ${jit === transform ? "" : `of ${transform} `}returned an Effect while ${jit} traced it; ${jit} runs it only when it traces a new signature and replays the compiled program after, so the Effect would run once and then be skipped (its failures and services included): return a plain value, and run Effects outside the jitted function`
    })
  }
  const effect = r as Effect.Effect<A, unknown, never>
  const exit = Effect.runSyncExit(services === undefined ? effect : Effect.provide(effect, services))
  if (Exit.isSuccess(exit)) return exit.value
  if (isAsyncDefect(exit.cause)) {
    throw new AsyncEffectError({
      transform,
      reason:
        "the function returned an Effect that did not complete synchronously (it sleeps, awaits, or waits on another fiber); tracing is synchronous: return a synchronous Effect or a plain value, and run asynchronous work before or after the transform"
    })
  }
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

/**
 * Wraps a synchronous implementation as a lifted transform named `transform` (the name errors about
 * `f`'s Effect give).
 */
export const lifted = <Args extends ReadonlyArray<unknown>, R>(
  impl: (args: Args) => Out<R>,
  transform?: string
): Lifted<Args, R> => {
  const sync = (...args: Args): Out<R> => {
    try {
      return withContext({ transform }, () => impl(args))
    } catch (e) {
      if (e instanceof EffectFailure) throw Cause.squash(e.cause)
      throw e
    }
  }
  const asEffect = (...args: Args): Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>> =>
    Effect.flatMap(Effect.context<never>(), (ctx) =>
      Effect.suspend((): Effect.Effect<Out<R>, LiftError | ErrOf<R>> => {
        try {
          // The call's services, its backend (the provided one, else the current one) and its name,
          // installed together for the synchronous extent of the call.
          const backend = Context.getOrUndefined(ctx, Backend) ?? currentBackend()
          return Effect.succeed(withContext({ services: ctx, backend, transform }, () => impl(args)))
        } catch (e) {
          if (e instanceof EffectFailure) return Effect.failCause(e.cause as Cause.Cause<ErrOf<R>>)
          if (isLiftError(e)) return Effect.fail(e)
          return Effect.die(e)
        }
      })
    ) as Effect.Effect<Out<R>, LiftError | ErrOf<R>, ReqOf<R>>
  return Object.assign(asEffect, { sync })
}
