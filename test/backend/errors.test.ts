/**
 * Bad input gets a typed error naming the operation, the shapes or axes, and what is wrong; no
 * partially built array escapes. In Effect code the same errors arrive in the error channel.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { expect } from "vitest"
import { ArgumentError, ArrayLiteralError, AxisError, DTypeError, jnp, lax, random, ShapeError } from "effect-nnx"
import { thrown } from "../support/thrown.ts"

describe("typed errors", () => {
  it("incompatible broadcast names the op, both shapes and the dimension", () => {
    const e = thrown(() => jnp.add(jnp.ones([2, 3]), jnp.ones([4])))
    assert.instanceOf(e, ShapeError)
    assert.strictEqual(e.op, "add")
    assert.deepStrictEqual(e.shapes, [[2, 3], [4]])
    expect(e.message).toBe(
      "add: shapes are not broadcast-compatible: dimension -1 is 4 in one and 3 in another (shapes (2, 3), (4,))"
    )
  })

  it("matmul with mismatched contraction sizes", () => {
    const e = thrown(() => jnp.matmul(jnp.ones([2, 3]), jnp.ones([4, 5])))
    assert.instanceOf(e, ShapeError)
    expect(e.message).toContain("matmul: contraction dimensions differ (3 vs 4)")
  })

  it("dot_general names the offending dimensions", () => {
    const e = thrown(() =>
      lax.dotGeneral(jnp.ones([2, 3, 4]), jnp.ones([3, 4, 5]), [
        [[2], [1]],
        [[0], [0]]
      ])
    )
    assert.instanceOf(e, ShapeError)
    expect(e.message).toContain("batch dimension 0 of lhs (2) does not match dimension 0 of rhs (3)")
  })

  it("axis out of range names the axis and ndim", () => {
    const e = thrown(() => jnp.sum(jnp.ones([2, 3]), 2))
    assert.instanceOf(e, AxisError)
    assert.strictEqual(e.op, "sum")
    assert.strictEqual(e.ndim, 2)
    expect(e.message).toBe("sum: axis out of range [-2, 2): axis 2 for an array of ndim 2")
    assert.instanceOf(
      thrown(() => jnp.transpose(jnp.ones([2, 3]), [0, 0])),
      AxisError
    )
    assert.instanceOf(
      thrown(() => jnp.squeeze(jnp.ones([2, 3]), -3)),
      AxisError
    )
  })

  it("wrong dtype: bit operations on floats, arithmetic on keys", () => {
    const e = thrown(() => jnp.bitwiseAnd(jnp.ones([2]), jnp.ones([2])))
    assert.instanceOf(e, DTypeError)
    expect(e.message).toBe("bitwise_and: expected bool or int32 or uint32 (dtypes float32)")
    const k = thrown(() => jnp.add(random.key(0), 1))
    assert.instanceOf(k, DTypeError)
    expect(k.message).toContain("PRNG key arrays do not support arithmetic")
  })

  it("ragged nested arrays name the path of the first bad row", () => {
    const e = thrown(() => jnp.array([[1, 2], [3]]))
    assert.instanceOf(e, ArrayLiteralError)
    assert.strictEqual(e.path, "[1]")
    expect(e.message).toBe("array: ragged nesting: expected length 2, got 1 at [1]")
    const deep = thrown(() =>
      jnp.array([
        [[1], [2]],
        [[3], 4]
      ] as never)
    )
    assert.instanceOf(deep, ArrayLiteralError)
    assert.strictEqual(deep.path, "[1][1]")
    const leaf = thrown(() => jnp.array([1, "2"] as never))
    assert.instanceOf(leaf, ArrayLiteralError)
    expect(leaf.message).toBe("array: expected a number or boolean, got string at [1]")
  })

  it("reshape to a different size, bad split, bad index", () => {
    const r = thrown(() => jnp.reshape(jnp.ones([2, 3]), [4, 2]))
    assert.instanceOf(r, ShapeError)
    expect(r.message).toBe("reshape: cannot reshape 6 elements into the new shape (shapes (2, 3), (4, 2))")
    assert.instanceOf(
      thrown(() => jnp.split(jnp.ones([5]), 2)),
      ArgumentError
    )
    // A static index past the end clamps, as in JAX; only an empty axis has nothing to clamp to.
    expect(jnp.arange(6).reshape([2, 3]).get(2).tolist()).toEqual([3, 4, 5])
    const i = thrown(() => jnp.ones([0, 3]).get(0))
    assert.instanceOf(i, ArgumentError)
    expect(i.message).toBe("index: index 0 is out of bounds for axis 0 with size 0")
    assert.instanceOf(
      thrown(() => jnp.ones([2]).get(0, 0)),
      ArgumentError
    )
  })

  it("a failed operation returns nothing and leaves its inputs intact", () => {
    const a = jnp.arange(6)
    const before = a.tolist()
    let out: unknown = "untouched"
    try {
      out = jnp.reshape(a, [4])
    } catch {
      // expected
    }
    assert.strictEqual(out, "untouched")
    assert.deepStrictEqual(a.tolist(), before)
  })

  it.effect("jnp.attempt carries the typed error in the Effect error channel", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(jnp.attempt(() => jnp.matmul(jnp.ones([2, 3]), jnp.ones([2, 3]))))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(jnp.attempt(() => jnp.sum(jnp.ones([2]), 5)))
      assert.strictEqual(error._tag, "AxisError")
      const caught = yield* jnp
        .attempt(() => jnp.add(jnp.ones([2]), jnp.ones([3])))
        .pipe(Effect.catchTag("ShapeError", (e) => Effect.succeed(`recovered from ${e.op}`)))
      assert.strictEqual(caught, "recovered from add")
    })
  )
})
