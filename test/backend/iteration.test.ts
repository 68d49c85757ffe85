/**
 * Arrays iterate over their first axis as JAX arrays do: destructuring a split key, `for ... of`
 * over rows, spreading; a 0-d array refuses with a ShapeError.
 */
import { assert, describe, it } from "@effect/vitest"
import { jit, jnp, random, ShapeError } from "effect-nnx"

describe("iterating an Array", () => {
  it("yields the slices along the first axis", () => {
    const m = jnp.arange(6).reshape(3, 2)
    const rows = [...m]
    assert.strictEqual(rows.length, 3)
    assert.deepStrictEqual(rows.map((r) => r.tolist()), [[0, 1], [2, 3], [4, 5]])
    const [a, b] = jnp.arange(2)
    assert.strictEqual(a!.item(), 0)
    assert.strictEqual(b!.item(), 1)
    assert.deepStrictEqual([...jnp.zeros([0, 4])], [])
  })

  it("destructures a split key into keys equal to indexing it", () => {
    const [k1, k2] = random.split(random.key(0))
    const keys = random.split(random.key(0))
    assert.deepStrictEqual(random.keyData(k1!).tolist(), random.keyData(keys.get(0)).tolist())
    assert.deepStrictEqual(random.keyData(k2!).tolist(), random.keyData(keys.get(1)).tolist())
  })

  it("works on traced arrays with a static first axis", () => {
    const f = jit((x: jnp.Array) => {
      const [first, second] = x
      return first!.add(second!)
    })
    assert.deepStrictEqual(f(jnp.array([[1, 2], [3, 4]])).tolist(), [4, 6])
  })

  it("refuses a 0-d array with a ShapeError that says why", () => {
    const attempt = () => [...jnp.array(3)]
    assert.throws(attempt, ShapeError)
    assert.throws(attempt, /iteration over a 0-d array/)
  })
})
