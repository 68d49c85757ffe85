/**
 * Type tests of the layers: `tsc --noEmit` runs over test/, so every `@ts-expect-error` below must
 * be an error and every `expectTypeOf` must hold. The wrong forms sit in functions that never run.
 */
import { describe, expect, expectTypeOf, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

describe("layer types", () => {
  it("a Sequential takes its first layer's arguments and returns its last layer's output", () => {
    const rngs = new nnx.Rngs(0)
    const model = new nnx.Sequential(new nnx.Linear(3, 4, { rngs }), nnx.relu, new nnx.Linear(4, 2, { rngs }))
    const y = model.call(jnp.ones([1, 3]))
    expectTypeOf(y).toEqualTypeOf<jnp.Array>()
    expect(y.shape).toEqual([1, 2])
    const pair = new nnx.Sequential(new nnx.Linear(3, 4, { rngs }), (h: jnp.Array) => [h, h.sum()] as const)
    expectTypeOf(pair.call(jnp.ones([2, 3]))).toEqualTypeOf<readonly [jnp.Array, jnp.Array]>()
    const wrong = () => {
      // @ts-expect-error Linear.call takes one Array
      model.call(jnp.ones([1, 3]), jnp.ones([1]))
      // @ts-expect-error the first layer takes an Array, not a number
      model.call(3)
    }
    void wrong
  })

  it("an empty Sequential, or one typed only as nnx.Sequential, returns unknown", () => {
    const empty = new nnx.Sequential()
    const x = jnp.ones([2])
    expectTypeOf(empty.call(x)).toEqualTypeOf<unknown>()
    expect(empty.call(x)).toBe(x)
    const loss = (m: nnx.Sequential) => jnp.sum(m.call(x) as jnp.Array)
    expectTypeOf(loss).parameter(0).toEqualTypeOf<nnx.Sequential>()
    // A typed Sequential is still an nnx.Sequential.
    const model = new nnx.Sequential(new nnx.Linear(2, 1, { rngs: new nnx.Rngs(0) }))
    expectTypeOf(loss(model)).toEqualTypeOf<jnp.Array>()
  })
})
