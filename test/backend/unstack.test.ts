/**
 * `jnp.unstack`: the slices along an axis as a JavaScript array (JAX's `jnp.unstack`), the way to
 * destructure a split key; a 0-d array is a ShapeError.
 */
import { assert, describe, it } from "@effect/vitest"
import { jit, jnp, random, ShapeError } from "effect-nnx"

describe("jnp.unstack", () => {
  it("gives the slices along the first axis, or any axis", () => {
    const m = jnp.arange(6).reshape(3, 2)
    assert.deepStrictEqual(
      jnp.unstack(m).map((r) => r.tolist()),
      [
        [0, 1],
        [2, 3],
        [4, 5]
      ]
    )
    assert.deepStrictEqual(
      jnp.unstack(m, 1).map((r) => r.tolist()),
      [
        [0, 2, 4],
        [1, 3, 5]
      ]
    )
    assert.deepStrictEqual(
      jnp.unstack(m, -1).map((r) => r.tolist()),
      [
        [0, 2, 4],
        [1, 3, 5]
      ]
    )
    assert.deepStrictEqual(jnp.unstack(jnp.zeros([0, 4])), [])
  })

  it("destructures a split key into keys equal to indexing it", () => {
    const [k1, k2] = jnp.unstack(random.split(random.key(0)))
    const keys = random.split(random.key(0))
    assert.deepStrictEqual(random.keyData(k1!).tolist(), random.keyData(keys.get(0)).tolist())
    assert.deepStrictEqual(random.keyData(k2!).tolist(), random.keyData(keys.get(1)).tolist())
  })

  it("works on traced arrays", () => {
    const f = jit((x: jnp.Array) => {
      const [first, second] = jnp.unstack(x)
      return first!.add(second!)
    })
    assert.deepStrictEqual(
      f(
        jnp.array([
          [1, 2],
          [3, 4]
        ])
      ).tolist(),
      [4, 6]
    )
  })

  it("refuses a 0-d array and an axis out of range with typed errors", () => {
    assert.throws(() => jnp.unstack(jnp.array(3)), ShapeError)
    assert.throws(() => jnp.unstack(jnp.array(3)), /0-d array has no axis/)
    assert.throws(() => jnp.unstack(jnp.ones([2]), 1), /axis/)
  })
})
