/** What a test expects `f` to throw, or an Effect to fail with, for checking the error's type, message and fields. */
import { Effect, Exit } from "effect"
import { expect } from "vitest"

/** The error `f` throws (the test fails when it throws nothing). */
export const thrown = (f: () => unknown): Error => {
  try {
    f()
  } catch (e) {
    return e as Error
  }
  throw new Error("expected an error")
}

/** The error `f` throws, checked to be an instance of `type`. */
export const thrownAs = <E>(type: abstract new (...args: never) => E, f: () => unknown): E => {
  const e: unknown = thrown(f)
  expect(e).toBeInstanceOf(type)
  return e as E
}

/** Runs an Effect expected to fail, returning its typed error (the test fails on success or a defect). */
export const failure = <A, E>(effect: Effect.Effect<A, E>): E => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const found = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (found === undefined || found._tag !== "Fail")
    throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return found.error
}
