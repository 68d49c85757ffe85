/**
 * `jnp.einsum` against JAX (test/goldens/layers.json, written by tools/goldens/layers.py): explicit
 * and implicit subscripts, ellipses (broadcast, summed), repeated letters (diagonals), three
 * operands, scalars, integers; its gradients and batching; and the subscripts it refuses.
 */
import { describe, expect, it } from "vitest"
import { grad, jnp, vmap } from "effect-nnx"
import { checkGrad, expectClose, fromResult, goldens } from "../layers/support.ts"

describe("einsum against JAX", () => {
  goldens.einsum.forEach((c, i) => {
    it(`${JSON.stringify(c.spec)} on (${c.operands.map((o) => `(${o.shape.join(", ")})`).join(", ")}) [${i}]`, () => {
      const ops = c.operands.map(fromResult)
      const got = jnp.einsum(c.spec, ...ops)
      expect(got.dtype).toBe(c.value.dtype)
      expectClose(got, c.value, 1e-5, 1e-5)
    })
  })
})

describe("einsum under transforms", () => {
  it("gradients of a contraction with a diagonal and an ellipsis match finite differences", () => {
    const a = jnp.array([
      [
        [0.5, -1],
        [2, 0.3]
      ],
      [
        [1, 0.2],
        [-0.7, 0.4]
      ]
    ])
    const b = jnp.array([
      [0.1, 0.2, -0.3],
      [0.4, -0.5, 0.6]
    ])
    const f = (a: jnp.Array) => jnp.sum(jnp.tanh(jnp.einsum("...ij,jk->...ik", a, b)))
    checkGrad(f, a, grad(f)(a))
    const d = (a: jnp.Array) => jnp.sum(jnp.sin(jnp.einsum("bii->bi", a)))
    checkGrad(d, a, grad(d)(a))
  })

  it("vmap of einsum equals einsum of the batch", () => {
    const xs = jnp.arange(24).reshape([4, 2, 3]).astype("float32")
    const w = jnp.arange(12).reshape([3, 4]).astype("float32")
    const batched = vmap((x: jnp.Array) => jnp.einsum("ij,jk->ik", x, w))(xs)
    expectClose(batched, jnp.einsum("bij,jk->bik", xs, w))
  })
})

describe("einsum errors", () => {
  const a = jnp.ones([2, 3])
  it("names what is wrong with the subscripts", () => {
    expect(() => jnp.einsum("ij,jk->ik", a)).toThrow("einsum: subscripts 'ij,jk->ik' name 2 operands but 1 were given")
    expect(() => jnp.einsum("ijk->i", a)).toThrow("operand 0's subscripts 'ijk' name 3 dimensions but it has 2")
    expect(() => jnp.einsum("ij->ii", a)).toThrow("output subscript 'i' appears more than once")
    expect(() => jnp.einsum("ij->z", a)).toThrow("output subscript 'z' is not among the operands' subscripts")
    expect(() => jnp.einsum("i1->i", a)).toThrow("has '1'; subscripts are letters and at most one '...'")
    expect(() => jnp.einsum("ij,jk->ik", a, jnp.ones([4, 2]))).toThrow(
      "einsum: subscript 'j' has sizes 3 and 4, which do not broadcast"
    )
    expect(() => jnp.einsum("ii->i", a)).toThrow("subscript 'i' is repeated over dimensions of sizes 2 and 3")
    expect(() => jnp.einsum("ij")).toThrow("einsum: needs at least one operand")
  })
})
