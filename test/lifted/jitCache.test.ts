/**
 * The jit caches (core `jit` and `nnx.jit` share one cache-key function and one bounded cache):
 * static functions are compared by identity, not by name, and a cache holds at most `maxCacheSize`
 * signatures, dropping the least recently used, which retraces when called again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { jit, jnp, nnx } from "effect-nnx"

/** Two different closures with the same `name`, as every `const step = ...` in two scopes is. */
const makeScale = (k: number) => {
  const scale = (x: jnp.Array) => x.mul(k)
  return scale
}

class Counter extends nnx.Module {
  count: nnx.Param<jnp.Array>
  constructor() {
    super()
    this.count = new nnx.Param(jnp.array(0))
  }
}

describe("static functions are keyed by identity", () => {
  it.effect("nnx.jit: two closures named alike as static arguments give their own results", () =>
    Effect.gen(function* () {
      const double = makeScale(2)
      const triple = makeScale(3)
      assert.strictEqual(double.name, triple.name)
      const apply = nnx.jit((fn: (x: jnp.Array) => jnp.Array, x: jnp.Array) => fn(x), { staticArgnums: 0 })
      const x = jnp.ones([2])
      assert.deepStrictEqual((yield* apply(double, x)).tolist(), [2, 2])
      assert.deepStrictEqual((yield* apply(triple, x)).tolist(), [3, 3])
      assert.deepStrictEqual((yield* apply(double, x)).tolist(), [2, 2])
      assert.strictEqual(apply.traceCount, 2)
    })
  )

  it.effect("nnx.jit: closures inside a static record are compared by identity too", () =>
    Effect.gen(function* () {
      const apply = nnx.jit((cfg: { readonly fn: (x: jnp.Array) => jnp.Array }, x: jnp.Array) => cfg.fn(x), {
        staticArgnums: 0
      })
      const x = jnp.ones([2])
      assert.deepStrictEqual((yield* apply({ fn: makeScale(2) }, x)).tolist(), [2, 2])
      assert.deepStrictEqual((yield* apply({ fn: makeScale(5) }, x)).tolist(), [5, 5])
    })
  )

  it.effect("core jit: two closures named alike as static arguments give their own results", () =>
    Effect.sync(() => {
      const apply = jit((fn: (x: jnp.Array) => jnp.Array, x: jnp.Array) => fn(x), { staticArgnums: 0 })
      const x = jnp.ones([2])
      assert.deepStrictEqual(apply(makeScale(2), x).tolist(), [2, 2])
      assert.deepStrictEqual(apply(makeScale(3), x).tolist(), [3, 3])
      assert.strictEqual(apply.traceCount, 2)
    })
  )
})

describe("the caches are bounded", () => {
  it.effect(
    "nnx.jit: the cache never holds more than maxCacheSize signatures; an evicted one retraces, a recent one does not",
    () =>
      Effect.gen(function* () {
        const counter = new Counter()
        const step = nnx.jit(
          (c: Counter, x: jnp.Array) => {
            c.count.value = c.count.value.add(1)
            return x.sum()
          },
          { maxCacheSize: 2 }
        )
        for (const n of [1, 2, 3, 4]) {
          yield* step(counter, jnp.ones([n]))
          assert.isAtMost(step.cacheSize, 2)
        }
        assert.strictEqual(step.traceCount, 4)
        assert.strictEqual(step.cacheSize, 2)
        // [4] and [3] are cached; [1] was evicted and retraces.
        yield* step(counter, jnp.ones([4]))
        assert.strictEqual(step.traceCount, 4)
        assert.strictEqual((yield* step(counter, jnp.ones([1]))).item(), 1)
        assert.strictEqual(step.traceCount, 5)
        assert.strictEqual(step.cacheSize, 2)
        // The hit on [4] made it recent, so [1] evicted [3]: [4] still hits.
        yield* step(counter, jnp.ones([4]))
        assert.strictEqual(step.traceCount, 5)
        assert.strictEqual(counter.count.value.item(), 7)
        step.clearCache()
        assert.strictEqual(step.cacheSize, 0)
      })
  )

  it.effect("nnx.jit keeps 64 signatures by default", () =>
    Effect.gen(function* () {
      const f = nnx.jit((x: jnp.Array) => x.sum())
      for (let n = 1; n <= 66; n++) yield* f(jnp.ones([n]))
      assert.strictEqual(f.cacheSize, 64)
      assert.strictEqual(f.traceCount, 66)
    })
  )

  it.effect("core jit: bounded by maxCacheSize, least recently used out", () =>
    Effect.sync(() => {
      const f = jit((x: jnp.Array) => x.mul(2), { maxCacheSize: 1 })
      f(jnp.ones([1]))
      f(jnp.ones([2]))
      assert.strictEqual(f.cacheSize, 1)
      f(jnp.ones([2]))
      assert.strictEqual(f.traceCount, 2)
      assert.deepStrictEqual(f(jnp.ones([1])).tolist(), [2])
      assert.strictEqual(f.traceCount, 3)
      assert.strictEqual(f.cacheSize, 1)
    })
  )

  it("a maxCacheSize that is not a positive integer is a StructureError", () => {
    assert.throws(() => jit((x: jnp.Array) => x, { maxCacheSize: 0 }), /maxCacheSize must be a positive integer/)
    assert.throws(() => nnx.jit((x: jnp.Array) => x, { maxCacheSize: 1.5 }), /maxCacheSize must be a positive integer/)
  })
})
