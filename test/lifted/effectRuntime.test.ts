/**
 * Lifted transforms as Effects: each call runs on the `Backend` service of its context (fibers that
 * provide different backends each see their own, however they interleave), an `f` whose Effect
 * suspends is a typed `AsyncEffectError`, and an Effect-returning `f` under `nnx.jit` is refused with
 * a `JitEffectError` (a replay of the compiled program would skip it).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Backend, jnp, nnx } from "effect-nnx"

class Dense extends nnx.Module {
  w: nnx.Param<jnp.Array>
  constructor() {
    super()
    this.w = new nnx.Param(jnp.arange(3).astype("float32"))
  }
}

/** Runs `make` with `b` as the current backend, so the inputs live on `b`. */
const on = <A>(b: Backend.BackendImpl, make: () => A): A => Backend.withBackend(b, make)

/** A Module, a batch and a scan carry, all made on `b`. */
const inputs = (b: Backend.BackendImpl) => on(b, () => [new Dense(), jnp.ones([2, 3]), jnp.zeros([])] as const)

const transforms: ReadonlyArray<
  readonly [string, (m: Dense, x: jnp.Array, c: jnp.Array) => Effect.Effect<unknown, unknown>]
> = [
  ["nnx.vmap", (m, x) => nnx.vmap((d: Dense, xi: jnp.Array) => xi.mul(d.w.value).sum(), { inAxes: [null, 0] })(m, x)],
  ["nnx.jit", (m, x) => nnx.jit((d: Dense, xs: jnp.Array) => xs.mul(d.w.value).sum())(m, x)],
  ["nnx.grad", (m, x) => nnx.grad((d: Dense, xs: jnp.Array) => xs.mul(d.w.value).sum())(m, x)],
  [
    "nnx.scan",
    (m, x, c0) =>
      nnx.scan((c: jnp.Array, xi: jnp.Array) => [c.add(xi.mul(m.w.value).sum()), null] as const, {
        inAxes: [nnx.Carry, 0]
      })(c0, x)
  ]
]

describe("a provided Backend layer", () => {
  for (const [name, call] of transforms) {
    it.effect(`${name}: the Effect computes on the provided backend, not on the default`, () =>
      Effect.gen(function* () {
        const b = Backend.makeCpu()
        const [m, x, c] = inputs(b)
        const def = Backend.defaultBackend()
        const before = b.stats.dispatches
        const defBefore = def.stats.dispatches
        yield* call(m, x, c).pipe(Effect.provide(Backend.layer(b)))
        assert.isAbove(b.stats.dispatches, before)
        assert.strictEqual(def.stats.dispatches, defBefore)
      })
    )
  }

  it.effect(
    "two fibers providing different backends, interleaved between transform calls, each compute on their own",
    () =>
      Effect.gen(function* () {
        const def = Backend.defaultBackend()
        const defBefore = def.stats.dispatches
        const worker = (b: Backend.BackendImpl) =>
          Effect.gen(function* () {
            const [m, x, c] = inputs(b)
            const seen: Array<number> = []
            for (const [, call] of transforms) {
              const before = b.stats.dispatches
              yield* call(m, x, c)
              seen.push(b.stats.dispatches - before)
              yield* Effect.yieldNow
            }
            return seen
          }).pipe(Effect.provide(Backend.layer(b)))
        const b1 = Backend.makeCpu()
        const b2 = Backend.makeCpu()
        const [s1, s2] = yield* Effect.all([worker(b1), worker(b2)], { concurrency: "unbounded" })
        // Every call dispatched on its own fiber's backend; the two fibers ran the same work.
        s1.forEach((n) => assert.isAbove(n, 0))
        assert.deepStrictEqual(s1, s2)
        assert.strictEqual(b1.stats.dispatches, b2.stats.dispatches)
        assert.strictEqual(def.stats.dispatches, defBefore)
      })
  )

  it.effect("an Effect returned by f sees the call's services, the provided backend among them", () =>
    Effect.gen(function* () {
      const b = Backend.makeCpu()
      const [m, x] = on(b, () => [new Dense(), jnp.ones([2, 3])] as const)
      let seen: Backend.BackendImpl | undefined
      const y = yield* nnx
        .vmap(
          (d: Dense, xi: jnp.Array) =>
            Effect.map(Backend.Backend, (service) => {
              seen = service
              return xi.mul(d.w.value).sum()
            }),
          { inAxes: [null, 0] }
        )(m, x)
        .pipe(Effect.provide(Backend.layer(b)))
      assert.strictEqual(seen, b)
      assert.deepStrictEqual(y.tolist(), [3, 3])
    })
  )
})

describe("Effects returned by f", () => {
  it.effect(
    "an Effect that suspends is a typed AsyncEffectError saying to return a synchronous Effect or a value",
    () =>
      Effect.gen(function* () {
        const m = new Dense()
        const before = m.w.value.tolist()
        const exit = yield* Effect.exit(
          nnx.vmap((d: Dense, xi: jnp.Array) => Effect.sleep("1 millis").pipe(Effect.as(xi.mul(d.w.value))), {
            inAxes: [null, 0]
          })(m, jnp.ones([2, 3]))
        )
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(Effect.suspend(() => exit))
        assert.strictEqual((error as { _tag: string })._tag, "AsyncEffectError")
        assert.instanceOf(error, nnx.AsyncEffectError)
        assert.strictEqual((error as nnx.AsyncEffectError).transform, "nnx.vmap")
        assert.include((error as Error).message, "return a synchronous Effect or a plain value")
        assert.deepStrictEqual(m.w.value.tolist(), before)
      })
  )

  it.effect("the error can be caught by tag; a synchronous Effect still works", () =>
    Effect.gen(function* () {
      const f = nnx.grad((d: Dense) => Effect.sleep("1 millis").pipe(Effect.as(d.w.value.sum())))
      const caught = yield* f(new Dense()).pipe(
        Effect.as("no error"),
        Effect.catchTag("AsyncEffectError", (e) => Effect.succeed(`${e._tag} in ${e.transform}`))
      )
      assert.strictEqual(caught, "AsyncEffectError in nnx.grad")
      const g = yield* nnx.grad((d: Dense) => Effect.succeed(d.w.value.sum()))(new Dense())
      assert.deepStrictEqual((g.at("w") as nnx.Param<jnp.Array>).value.tolist(), [1, 1, 1])
    })
  )

  it.effect("nnx.jit refuses an Effect-returning f with a JitEffectError naming nnx.jit, and changes nothing", () =>
    Effect.gen(function* () {
      const m = new Dense()
      const step = nnx.jit((d: Dense) => {
        d.w.value = d.w.value.add(1)
        return Effect.succeed(d.w.value.sum())
      })
      const error = yield* Effect.flip(step(m))
      assert.strictEqual(error._tag, "JitEffectError")
      assert.strictEqual((error as { transform: string }).transform, "nnx.jit")
      assert.include(error.message, "return a plain value")
      assert.deepStrictEqual(m.w.value.tolist(), [0, 1, 2])
    })
  )

  it.effect("an Effect returned by a transform nested inside nnx.jit is refused too", () =>
    Effect.gen(function* () {
      const inner = nnx.vmap((xi: jnp.Array) => Effect.succeed(xi.mul(2)))
      const step = nnx.jit((xs: jnp.Array) => inner.sync(xs))
      const error = yield* Effect.flip(step(jnp.ones([2, 3])))
      assert.strictEqual(error._tag, "JitEffectError")
    })
  )
})
