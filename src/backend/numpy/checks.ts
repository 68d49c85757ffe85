/** Whole-array checks and the bridge from synchronous array code to Effect. */
import { Effect } from "effect"
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { isArrayError } from "../ArrayError.ts"
import type { ArrayError } from "../ArrayError.ts"
import { isclose } from "./elementwise.ts"
import { all } from "./reductions.ts"

/** Whether every element of `a` is close to `b` (`jnp.allclose`); a 0-d bool Array. */
export const allclose = (
  a: ArrayLike,
  b: ArrayLike,
  options?: { readonly rtol?: number; readonly atol?: number; readonly equalNan?: boolean }
): JArray => all(isclose(a, b, options))

/**
 * Runs synchronous array code as an Effect: array errors (`ShapeError`, `AxisError`, ...) land in the
 * typed error channel; anything else is a defect.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const program = jnp.attempt(() => jnp.ones([2, 3]).matmul(jnp.ones([2, 3])))
 * // Effect<Array, ArrayError>: fails with a ShapeError naming matmul and both shapes
 * ```
 */
export const attempt = <A>(f: () => A): Effect.Effect<A, ArrayError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return isArrayError(e) ? Effect.fail(e) : Effect.die(e)
    }
  })
