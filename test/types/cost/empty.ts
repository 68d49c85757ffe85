/** The baseline for `node scripts/type-cost.mjs`: importing effect-nnx and using nothing. */
import { jnp } from "effect-nnx"

export const one: jnp.Array = jnp.ones([1])
