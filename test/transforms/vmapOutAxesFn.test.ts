/** outAxes is data, as JAX's out_axes: a function given for it (past the types) is a typed error. */
import { describe, expect, it } from "vitest"
import { jnp, StructureError, vmap } from "effect-nnx"

describe("vmap outAxes", () => {
  it("refuses a function, naming outAxes", () => {
    const f = vmap((x: jnp.Array) => x.sum(), { outAxes: (() => 0) as never })
    expect(() => f(jnp.ones([2, 3]))).toThrow(StructureError)
    expect(() => f(jnp.ones([2, 3]))).toThrow(/outAxes .* got function/)
  })
})
