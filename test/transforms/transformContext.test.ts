/**
 * The one transform context (src/backend/transformContext.ts): the trace entry, the capturing
 * trace, the backend, the mesh, the Effect services, the lifted transform's name and the jit being
 * traced, in one immutable object scoped over the synchronous extent of a call. A provided Backend
 * layer is the backend of every lifted Effect; fibers that interleave between calls each see their
 * own backend and mesh; a call that fails leaves the context as it was.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit } from "effect"
import { Backend, jnp, nnx, vmap } from "effect-nnx"
import { currentTraceContext, currentTraceLevel } from "../../src/backend/bind.ts"
import { current, root, rootTrace, withContext } from "../../src/backend/transformContext.ts"
import { currentJitTrace } from "../../src/transforms/core/jit.ts"
import { currentMesh, makeMesh, P, withMesh } from "../../src/transforms/lifted/mesh.ts"
import type { Mesh } from "../../src/transforms/lifted/mesh.ts"
import { shardMap } from "../../src/transforms/lifted/shardMap.ts"

class Dense extends nnx.Module {
  w: nnx.Param<jnp.Array>
  constructor() {
    super()
    this.w = new nnx.Param(jnp.arange(3).astype("float32"))
  }
}

/** What `f` saw of the context while a transform traced it. */
interface Seen {
  readonly backend: Backend.BackendImpl
  readonly level: number
  readonly transform: string | undefined
  readonly jitTrace: string | undefined
  readonly services: boolean
}

const look = (): Seen => ({
  backend: Backend.currentBackend(),
  level: currentTraceLevel(),
  transform: current().transform,
  jitTrace: currentJitTrace(),
  services: current().services !== undefined
})

/** The context is back to the root: no transform, no scope, the default backend. */
const assertRoot = (): void => {
  assert.strictEqual(current(), root)
  assert.strictEqual(currentTraceContext(), rootTrace)
  assert.strictEqual(currentTraceLevel(), 0)
  assert.strictEqual(Backend.currentBackend(), Backend.defaultBackend())
  assert.isUndefined(currentMesh())
  assert.isUndefined(currentJitTrace())
  assert.isUndefined(current().transform)
  assert.isUndefined(current().services)
  assert.isUndefined(current().capturing)
}

/** Each lifted transform called as an Effect, recording what `f` saw into `seen`. */
const transforms: ReadonlyArray<
  readonly [
    string,
    (seen: Array<Seen>, m: Dense, x: jnp.Array, c: jnp.Array) => Effect.Effect<unknown, unknown>,
    string | undefined
  ]
> = [
  [
    "nnx.vmap",
    (seen, m, x) =>
      nnx.vmap(
        (d: Dense, xi: jnp.Array) => {
          seen.push(look())
          return xi.mul(d.w.value).sum()
        },
        { inAxes: [null, 0] }
      )(m, x),
    undefined
  ],
  [
    "nnx.jit",
    (seen, m, x) =>
      nnx.jit((d: Dense, xs: jnp.Array) => {
        seen.push(look())
        return xs.mul(d.w.value).sum()
      })(m, x),
    "nnx.jit"
  ],
  [
    "nnx.grad",
    (seen, m, x) =>
      nnx.grad((d: Dense, xs: jnp.Array) => {
        seen.push(look())
        return xs.mul(d.w.value).sum()
      })(m, x),
    undefined
  ],
  [
    "nnx.scan",
    (seen, m, x, c0) =>
      nnx.scan(
        (c: jnp.Array, xi: jnp.Array) => {
          seen.push(look())
          return [c.add(xi.mul(m.w.value).sum()), null] as const
        },
        { inAxes: [nnx.Carry, 0] }
      )(c0, x),
    undefined
  ]
]

/** A Module, a batch and a scan carry, made on `b`. */
const inputs = (b: Backend.BackendImpl) =>
  Backend.withBackend(b, () => [new Dense(), jnp.ones([2, 3]), jnp.zeros([])] as const)

describe("withContext", () => {
  it("patches the context for the synchronous extent of f and restores it after a return or a throw", () => {
    assertRoot()
    const b = Backend.makeCpu()
    const inner = withContext({ backend: b, transform: "t" }, () => {
      const here = current()
      assert.strictEqual(here.backend, b)
      assert.strictEqual(here.transform, "t")
      assert.strictEqual(here.trace, rootTrace)
      // Nested patches keep the outer slots they do not name.
      withContext({ jitTrace: "jit" }, () => {
        assert.strictEqual(current().backend, b)
        assert.strictEqual(current().jitTrace, "jit")
      })
      assert.strictEqual(current(), here)
      return here
    })
    assert.notStrictEqual(inner, root)
    assertRoot()
    assert.throws(() =>
      withContext({ backend: b }, () => {
        throw new Error("boom")
      })
    )
    assertRoot()
  })

  it("withBackend, withMesh and nested transforms are slots of the one context", () => {
    const b = Backend.makeCpu()
    const mesh = makeMesh([2], ["data"])
    Backend.withBackend(b, () =>
      withMesh(mesh, () => {
        assert.strictEqual(current().backend, b)
        assert.strictEqual(current().mesh, mesh)
        const levels: Array<number> = []
        const traces = new Set<unknown>()
        nnx
          .vmap((xi: jnp.Array) => {
            levels.push(currentTraceLevel())
            traces.add(currentTraceContext())
            // The backend and mesh of the enclosing scopes are still in force inside the trace.
            assert.strictEqual(Backend.currentBackend(), b)
            assert.strictEqual(currentMesh(), mesh)
            return nnx
              .vmap((xj: jnp.Array) => {
                levels.push(currentTraceLevel())
                traces.add(currentTraceContext())
                return xj.mul(2)
              })
              .sync(xi)
          })
          .sync(jnp.ones([2, 3]))
        assert.deepStrictEqual(levels, [1, 2])
        assert.strictEqual(traces.size, 2)
        assert.strictEqual(currentTraceLevel(), 0)
      })
    )
    assertRoot()
  })

  it("named vmap axes are a slot too: innermost last, popped after a return or a throw", () => {
    const names = () => current().namedAxes.map((t) => (t as unknown as { readonly axisName: string }).axisName)
    const seen: Array<ReadonlyArray<string>> = []
    vmap(
      (x: jnp.Array) => {
        seen.push(names())
        return vmap((y: jnp.Array) => {
          seen.push(names())
          return vmap((z: jnp.Array) => (seen.push(names()), z), { axisName: "i" })(y)
        }, {})(x)
      },
      { axisName: "i" }
    )(jnp.ones([2, 3, 4]))
    // An unnamed vmap adds no frame; a repeated name stacks (collectives take the innermost).
    assert.deepStrictEqual(seen, [["i"], ["i"], ["i", "i"]])
    assert.throws(() =>
      vmap(
        (x: jnp.Array) => {
          throw new Error(`boom ${x.ndim}`)
        },
        { axisName: "j" }
      )(jnp.ones([2]))
    )
    assertRoot()
    assert.deepStrictEqual(current().namedAxes, [])
  })

  it("two transforms one after the other at the same depth have different trace entries", () => {
    const entries: Array<unknown> = []
    const f = nnx.vmap((xi: jnp.Array) => {
      entries.push(currentTraceContext())
      return xi
    })
    f.sync(jnp.ones([2]))
    f.sync(jnp.ones([2]))
    assert.strictEqual(entries.length, 2)
    assert.notStrictEqual(entries[0], entries[1])
    assert.deepStrictEqual(
      entries.map((e) => (e as { level: number }).level),
      [1, 1]
    )
  })
})

describe("a provided Backend layer is the backend of a lifted Effect", () => {
  for (const [name, call, jit] of transforms) {
    it.effect(`${name}: f runs on the provided backend, with the call's services and name`, () =>
      Effect.gen(function* () {
        const b = Backend.makeCpu()
        const [m, x, c] = inputs(b)
        const seen: Array<Seen> = []
        const before = b.stats.dispatches
        yield* call(seen, m, x, c).pipe(Effect.provide(Backend.layer(b)))
        assert.isAbove(seen.length, 0)
        for (const s of seen) {
          assert.strictEqual(s.backend, b)
          assert.isAbove(s.level, 0)
          assert.strictEqual(s.transform, name)
          assert.strictEqual(s.jitTrace, jit)
          assert.isTrue(s.services)
        }
        assert.isAbove(b.stats.dispatches, before)
        assertRoot()
      })
    )
  }

  it.effect("without a layer, the Effect runs on the current backend, as .sync does", () =>
    Effect.gen(function* () {
      const b = Backend.makeCpu()
      const [m, x, c] = inputs(b)
      const seen: Array<Seen> = []
      const [, call] = transforms[0]!
      Backend.withBackend(b, () => Effect.runSync(call(seen, m, x, c)))
      assert.strictEqual(seen[0]!.backend, b)
      assertRoot()
    })
  )
})

describe("fibers interleaving between transform calls", () => {
  it.effect("each fiber's calls see its own backend and mesh, and the context ends at the root", () =>
    Effect.gen(function* () {
      const defBefore = Backend.defaultBackend().stats.dispatches
      const worker = (b: Backend.BackendImpl, mesh: Mesh) =>
        Effect.gen(function* () {
          const [m, x, c] = inputs(b)
          const seen: Array<Seen> = []
          const meshes: Array<Mesh | undefined> = []
          for (const [, call] of transforms) {
            yield* call(seen, m, x, c)
            yield* Effect.yieldNow
            // Between calls the fiber is at the root: nothing of the call it made, or of the other
            // fiber's calls, is left in force.
            assert.strictEqual(current(), root)
            yield* Backend.run(() =>
              withMesh(mesh, () =>
                shardMap(
                  (xs: jnp.Array) => {
                    seen.push(look())
                    meshes.push(currentMesh())
                    return xs.mul(2)
                  },
                  { inSpecs: [P("data", null)], outSpecs: P("data", null) }
                ).sync(x)
              )
            )
            yield* Effect.yieldNow
          }
          return { seen, meshes }
        }).pipe(Effect.provide(Backend.layer(b)))
      const b1 = Backend.makeCpu()
      const b2 = Backend.makeWasm({ threads: 1 })
      const mesh1 = makeMesh([2], ["data"])
      const mesh2 = makeMesh([1], ["data"])
      try {
        const [r1, r2] = yield* Effect.all([worker(b1, mesh1), worker(b2, mesh2)], { concurrency: "unbounded" })
        assert.isAbove(r1.seen.length, transforms.length)
        assert.strictEqual(r1.seen.length, r2.seen.length)
        for (const s of r1.seen) assert.strictEqual(s.backend, b1)
        for (const s of r2.seen) assert.strictEqual(s.backend, b2)
        assert.deepStrictEqual(
          r1.meshes,
          transforms.map(() => mesh1)
        )
        assert.deepStrictEqual(
          r2.meshes,
          transforms.map(() => mesh2)
        )
        assert.isAbove(b1.stats.dispatches, 0)
        assert.isAbove(b2.stats.dispatches, 0)
        assert.strictEqual(Backend.defaultBackend().stats.dispatches, defBefore)
        assertRoot()
      } finally {
        b2.close()
      }
    })
  )

  it.effect("an Effect returned by f sees its own fiber's services", () =>
    Effect.gen(function* () {
      class Tag extends Context.Service<Tag, string>()("test/Tag") {}
      const worker = (name: string) =>
        Effect.gen(function* () {
          const got: Array<string> = []
          for (let i = 0; i < 3; i++) {
            yield* nnx.vmap((xi: jnp.Array) =>
              Effect.gen(function* () {
                got.push(yield* Tag)
                return xi
              })
            )(jnp.ones([2]))
            yield* Effect.yieldNow
          }
          return got
        }).pipe(Effect.provideService(Tag, name))
      const [a, b] = yield* Effect.all([worker("a"), worker("b")], { concurrency: "unbounded" })
      assert.deepStrictEqual(a, ["a", "a", "a"])
      assert.deepStrictEqual(b, ["b", "b", "b"])
      assertRoot()
    })
  )
})

describe("a failed transform leaves the context as it was", () => {
  it.effect("a throwing f, as an Effect and with .sync, inside and outside other scopes", () =>
    Effect.gen(function* () {
      const boom = (_xi: jnp.Array): jnp.Array => {
        assert.isAbove(currentTraceLevel(), 0)
        throw new Error("boom")
      }
      const b = Backend.makeCpu()
      const mesh = makeMesh([2], ["data"])
      const exit = yield* Effect.exit(
        nnx
          .vmap(boom)(jnp.ones([2]))
          .pipe(Effect.provide(Backend.layer(b)))
      )
      assert.isTrue(Exit.isFailure(exit))
      assertRoot()
      assert.throws(() => nnx.vmap(boom).sync(jnp.ones([2])), "boom")
      assertRoot()
      assert.throws(() => nnx.jit(boom).sync(jnp.ones([2])), "boom")
      assertRoot()
      assert.throws(() => nnx.grad((xi: jnp.Array) => boom(xi).sum()).sync(jnp.ones([2])), "boom")
      assertRoot()
      Backend.withBackend(b, () =>
        withMesh(mesh, () => {
          const here = current()
          assert.throws(() => nnx.vmap((xi: jnp.Array) => nnx.jit(boom).sync(xi)).sync(jnp.ones([2])), "boom")
          assert.strictEqual(current(), here)
        })
      )
      assertRoot()
    })
  )

  it.effect("a typed failure of f's Effect, and an Effect refused under jit, restore it too", () =>
    Effect.gen(function* () {
      const failed = yield* Effect.flip(
        nnx.vmap((xi: jnp.Array) => Effect.fail("nope" as const).pipe(Effect.as(xi)))(jnp.ones([2]))
      )
      assert.strictEqual(failed, "nope")
      assertRoot()
      const refused = yield* Effect.flip(nnx.jit((xs: jnp.Array) => Effect.succeed(xs))(jnp.ones([2])))
      assert.strictEqual((refused as { _tag: string })._tag, "JitEffectError")
      assertRoot()
    })
  )
})
