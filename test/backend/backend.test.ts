/**
 * The Backend service: cpu by default without any layer, selectable by layer, counting dispatches.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Backend, jnp, ShapeError } from "effect-nnx"

describe("Backend", () => {
  it.effect("defaults to the wasm backend (or EFFECT_NNX_BACKEND's) when no layer is provided", () =>
    Effect.gen(function* () {
      const backend = yield* Backend.Backend
      assert.strictEqual(backend.name, (process.env["EFFECT_NNX_BACKEND"] ?? "wasm").replace(/:\d+$/, ""))
      assert.strictEqual(backend, Backend.defaultBackend())
      assert.strictEqual(Backend.currentBackend(), Backend.defaultBackend())
    })
  )

  it.effect("a layer chooses the backend that Backend.run makes current", () =>
    Effect.gen(function* () {
      const mine = Backend.makeCpu()
      const result = yield* Backend.run(() => {
        jnp.ones([3]).add(1)
        return Backend.currentBackend()
      }).pipe(Effect.provide(Backend.layer(mine)))
      assert.strictEqual(result, mine)
      assert.isAbove(mine.stats.dispatches, 0)
      assert.strictEqual(Backend.currentBackend(), Backend.defaultBackend())
    })
  )

  it.effect("Backend.run turns array errors into typed failures", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Backend.run(() => jnp.ones([2]).add(jnp.ones([3]))))
      assert.instanceOf(error, ShapeError)
    })
  )

  it("counts one dispatch per primitive and per primitive name", () => {
    const b = Backend.makeCpu()
    Backend.withBackend(b, () => {
      const x = jnp.ones([4, 4])
      Backend.resetStats(b)
      x.matmul(x).sum()
    })
    assert.strictEqual(b.stats.dispatches, 2)
    assert.strictEqual(b.stats.byPrimitive.get("dot_general"), 1)
    assert.strictEqual(b.stats.byPrimitive.get("reduce_sum"), 1)
  })

  it("moves arrays made on one backend to another on use", () => {
    const a = Backend.makeCpu()
    const b = Backend.makeCpu()
    const x = Backend.withBackend(a, () => jnp.arange(4))
    const y = Backend.withBackend(b, () => x.mul(2))
    assert.deepStrictEqual(y.tolist(), [0, 2, 4, 6])
    assert.strictEqual(b.stats.byPrimitive.get("mul"), 1)
    assert.isUndefined(a.stats.byPrimitive.get("mul"))
  })
})
