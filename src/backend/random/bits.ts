/**
 * Raw random bits: the counter-mode threefry stream every sampler draws from.
 *
 * @since 0.1.0
 */
import type { Array } from "../Array.ts"
import { DTypeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { checkKey, hashCounters } from "./keys.ts"
import type { ShapeLike } from "./shapes.ts"
import { canonicalShape } from "./shapes.ts"

/**
 * 32 random bits per element of `shape` from a scalar key already checked: the XOR of the two
 * threefry output words of each counter, as JAX's partitionable threefry produces them.
 */
export const randomBits = (key: Array, shape: ReadonlyArray<number>): Array => {
  const [w1, w2] = hashCounters(key, shape)
  return lax.bitwiseXor(w1, w2)
}

/**
 * Uniformly random bits as unsigned integers, like `jax.random.bits`. Only `uint32` is supported
 * (the sole unsigned dtype).
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.bits(random.key(0), [3]).tolist() // three uint32 values
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const bits = (key: Array, shape: ShapeLike = [], dtype: "uint32" = "uint32"): Array => {
  const op = "random.bits"
  const k = checkKey(op, key)
  if (dtype !== "uint32")
    throw new DTypeError({ op, dtypes: [String(dtype)], reason: "dtype must be an unsigned integer dtype (uint32)" })
  return randomBits(k, canonicalShape(op, shape))
}
