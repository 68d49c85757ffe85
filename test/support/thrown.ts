/** What a test expects `f` to throw, for checking the error's type, message and fields. */
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
