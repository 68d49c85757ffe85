/**
 * `nnx.scan` traces its body once per signature, as Flax does (`jax.lax.scan` caches the traced
 * body): the graph nodes' structure, the Arrays' shapes and dtypes without the scanned axis, and the
 * static values. The number of iterations is not part of it. Flax 0.12.8:
 *
 *   s = nnx.scan(f, in_axes=(nnx.Carry, 0), out_axes=(nnx.Carry, 0))
 *   s(zeros(3), ones((4, 3))); s(zeros(3), ones((4, 3)))   # f traced 1 time
 *   s(zeros(2), ones((4, 2)))                               # 2
 *   s(zeros(2), ones((5, 2)))                               # still 2
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { jnp, nnx } from "effect-nnx"

class Count extends nnx.Variable<jnp.Array> {
  declare readonly "~kind": { Count: true }
}

class Counter extends nnx.Module {
  count: Count
  constructor() {
    super()
    this.count = new Count(jnp.zeros([]))
  }
}

class Scale extends nnx.Module {
  w: nnx.Param<jnp.Array>
  constructor(w: jnp.Array) {
    super()
    this.w = new nnx.Param(w)
  }
}

describe("nnx.scan caches its traced body per signature", () => {
  it.effect("repeated calls with one signature trace once; a new shape retraces; a new length does not", () =>
    Effect.gen(function* () {
      let runs = 0
      const cumsum = nnx.scan(
        (c: jnp.Array, x: jnp.Array) => {
          runs++
          return [c.add(x), c] as const
        },
        { inAxes: [nnx.Carry, 0], outAxes: [nnx.Carry, 0] }
      )
      const [a] = yield* cumsum(jnp.zeros([3]), jnp.ones([4, 3]))
      const [b, ys] = yield* cumsum(jnp.zeros([3]), jnp.ones([4, 3]).mul(2))
      assert.deepStrictEqual(a.tolist(), [4, 4, 4])
      assert.deepStrictEqual(b.tolist(), [8, 8, 8])
      assert.deepStrictEqual(ys.get(3).tolist(), [6, 6, 6])
      assert.strictEqual(cumsum.traceCount, 1)
      assert.strictEqual(runs, 1)
      yield* cumsum(jnp.zeros([2]), jnp.ones([4, 2]))
      assert.strictEqual(cumsum.traceCount, 2)
      const [c] = yield* cumsum(jnp.zeros([2]), jnp.ones([5, 2]))
      assert.deepStrictEqual(c.tolist(), [5, 5])
      assert.strictEqual(cumsum.traceCount, 2)
      assert.strictEqual(cumsum.cacheSize, 2)
      cumsum.clearCache()
      yield* cumsum(jnp.zeros([2]), jnp.ones([5, 2]))
      assert.strictEqual(cumsum.traceCount, 3)
    })
  )

  it.effect("a carried Module is updated in place on every call, cached or not", () =>
    Effect.gen(function* () {
      const counter = new Counter()
      const step = nnx.scan((c: Counter, x: jnp.Array) => {
        c.count.value = c.count.value.add(x)
        return [c, c.count.value] as const
      })
      const [same] = yield* step(counter, jnp.ones([3]))
      assert.strictEqual(same, counter)
      const [, partial] = yield* step(counter, jnp.ones([3]))
      assert.deepStrictEqual(counter.count.value.tolist(), 6)
      assert.deepStrictEqual(partial.tolist(), [4, 5, 6])
      assert.strictEqual(step.traceCount, 1)
    })
  )

  it.effect("broadcast Arrays and Variables are inputs of the cached body, not constants: new values are seen", () =>
    Effect.gen(function* () {
      const f = nnx.scan(
        (c: jnp.Array, m: Scale, k: jnp.Array, x: jnp.Array) => [c.add(x.mul(m.w.value).mul(k)), null] as const,
        {
          inAxes: [nnx.Carry, null, null, 0]
        }
      )
      const m = new Scale(jnp.array(2))
      const [a] = yield* f(jnp.zeros([]), m, jnp.array(1), jnp.ones([3]))
      m.w.value = jnp.array(10)
      const [b] = yield* f(jnp.zeros([]), m, jnp.array(3), jnp.ones([3]))
      assert.strictEqual(a.item(), 6)
      assert.strictEqual(b.item(), 90)
      assert.strictEqual(f.traceCount, 1)
    })
  )

  it.effect("a change of graph structure or of a static value retraces", () =>
    Effect.gen(function* () {
      const f = nnx.scan(
        (c: jnp.Array, m: Scale, tag: string, x: jnp.Array) => [c.add(x.mul(m.w.value)), tag] as const,
        {
          inAxes: [nnx.Carry, null, null, 0],
          outAxes: [nnx.Carry, 0]
        }
      )
      const m = new Scale(jnp.array(2))
      yield* f(jnp.zeros([]), m, "a", jnp.ones([3]))
      yield* f(jnp.zeros([]), m, "a", jnp.ones([3]))
      assert.strictEqual(f.traceCount, 1)
      yield* f(jnp.zeros([]), m, "b", jnp.ones([3]))
      assert.strictEqual(f.traceCount, 2)
      ;(m as unknown as { extra: nnx.Param<jnp.Array> }).extra = new nnx.Param(jnp.zeros([1]))
      yield* f(jnp.zeros([]), m, "b", jnp.ones([3]))
      assert.strictEqual(f.traceCount, 3)
    })
  )

  it.effect("an f that returns an Effect is traced on every call, so its Effect runs every time", () =>
    Effect.gen(function* () {
      let effects = 0
      const f = nnx.scan(
        (c: jnp.Array, x: jnp.Array) =>
          Effect.sync(() => {
            effects++
            return [c.add(x), null] as const
          }),
        { inAxes: [nnx.Carry, 0] }
      )
      yield* f(jnp.zeros([]), jnp.ones([3]))
      yield* f(jnp.zeros([]), jnp.ones([3]))
      assert.strictEqual(effects, 2)
      assert.strictEqual(f.cacheSize, 0)
    })
  )
})
