/**
 * `lax.pad` with negative low/high amounts, which crop after interior padding as in XLA. Expected
 * values are JAX 0.10.2's (`jax.lax.pad`, `jax.grad` through it).
 */
import { describe, expect, it } from "vitest"
import { grad, jnp, lax, ShapeError } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

describe("lax.pad with negative padding", () => {
  it("crops low and high amounts after interior padding, per axis", () => {
    const x = jnp.arange(1, 7).astype("float32").reshape([2, 3])
    expect(
      lax
        .pad(x, jnp.array(0, { dtype: "float32" }), [
          [-1, 1, 0],
          [1, -2, 1]
        ])
        .tolist()
    ).toEqual([
      [0, 4, 0, 5],
      [0, 0, 0, 0]
    ])
    expect(
      lax.pad(jnp.arange(1, 5).astype("float32"), jnp.array(-1, { dtype: "float32" }), [[-2, -1, 2]]).tolist()
    ).toEqual([-1, 2, -1, -1, 3, -1, -1])
  })

  it("differentiates through the crop", () => {
    const f = (v: JArray) =>
      jnp.sum(lax.pad(v, jnp.array(0, { dtype: "float32" }), [[-1, 2, 1]]).mul(jnp.arange(1, 9).astype("float32")))
    expect(grad(f)(jnp.arange(1, 5).astype("float32")).tolist()).toEqual([0, 2, 4, 6])
  })

  it("refuses a crop larger than the padded axis with a ShapeError naming the axis", () => {
    const run = () => lax.pad(jnp.arange(3).astype("float32"), jnp.array(0, { dtype: "float32" }), [[-3, -1, 0]])
    expect(run).toThrow(ShapeError)
    expect(run).toThrow(/padding \(-3, -1\) of axis 0 crops more than its 3 elements/)
  })
})
