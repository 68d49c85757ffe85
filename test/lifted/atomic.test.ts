/**
 * Property: when `f` fails (throws, or returns a failing Effect) at any point inside any lifted
 * transform, every outer object is exactly as it was before the call: values, attributes, and
 * identities of sub-objects and shared references.
 */
import { fc, test } from "@fast-check/vitest"
import { Effect, Exit } from "effect"
import { describe, expect } from "vitest"
import { jnp, nnx } from "effect-nnx"

class Leaf extends nnx.Module {
  p: nnx.Param<jnp.Array>
  s: nnx.BatchStat<jnp.Array>
  constructor(n: number, seed: number) {
    super()
    this.p = new nnx.Param(jnp.arange(n).astype("float32").add(seed))
    this.s = new nnx.BatchStat(jnp.zeros([n]))
  }
}

class Root extends nnx.Module {
  a: Leaf
  b: Leaf
  shared: nnx.Param<jnp.Array>
  constructor(n: number, share: boolean) {
    super()
    this.a = new Leaf(n, 1)
    this.b = share ? this.a : new Leaf(n, 2)
    this.shared = this.a.p
  }
}

interface Snapshot {
  readonly values: string
  readonly keys: string
  readonly ids: ReadonlyArray<unknown>
}

const snapshot = (r: Root): Snapshot => ({
  values: JSON.stringify(
    nnx
      .state(r)
      .toFlat()
      .map(([path, leaf]) => [path, String((leaf as { value: jnp.Array }).value)])
  ),
  keys: JSON.stringify([Object.keys(r).sort(), Object.keys(r.a).sort(), Object.keys(r.b).sort()]),
  ids: [r.a, r.b, r.shared, r.a.p, r.b.p, r.a.s]
})

class Injected extends Error {}

/** A function that mutates state and structure, then fails at a chosen point. */
const mutateThenFail =
  (where: number, asEffect: boolean) =>
  (r: Root): unknown => {
    r.a.s.value = r.a.s.value.add(1)
    if (where === 0) throw new Injected("early")
    ;(r as unknown as { extra: nnx.Param<jnp.Array> }).extra = new nnx.Param(jnp.ones([1]))
    r.b.p.value = r.b.p.value.mul(3)
    if (where === 1) throw new Injected("after updates")
    delete (r as unknown as { shared?: unknown }).shared
    const t = r.a
    r.a = r.b
    r.b = t
    return asEffect
      ? Effect.fail(new Injected("effect"))
      : (() => {
          throw new Injected("late")
        })()
  }

type Transform = (f: (r: Root) => unknown) => (r: Root) => Effect.Effect<unknown, unknown>

const transforms: Record<string, Transform> = {
  vmap: (f) => (r) => nnx.vmap(f, { inAxes: null, axisSize: 2, outAxes: null })(r),
  jit: (f) => (r) => nnx.jit(f)(r),
  grad: (f) => (r) =>
    nnx.grad((m: Root) => {
      const out = f(m)
      return Effect.isEffect(out)
        ? Effect.map(out as Effect.Effect<unknown, unknown>, () => jnp.sum(m.a.p.value))
        : jnp.sum(m.a.p.value)
    })(r) as Effect.Effect<unknown, unknown>,
  remat: (f) => (r) => nnx.remat(f)(r),
  cond: (f) => (r) => nnx.cond(jnp.array(true), f, f, r),
  foriLoop: (f) => (r) =>
    nnx.foriLoop(
      0,
      2,
      (_i: jnp.Array, m: Root) => {
        f(m)
        return m
      },
      r
    )
}

describe("a failed transform leaves every object as it was", () => {
  for (const [name, transform] of Object.entries(transforms)) {
    test.prop([fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.boolean()], {
      numRuns: 12
    })(name, (n, share, where, asEffect) => {
      const root = new Root(n, share)
      const before = snapshot(root)
      const exit = Effect.runSyncExit(
        Effect.suspend(() => transform(mutateThenFail(where, asEffect))(root)).pipe(
          Effect.catchDefect((d) => Effect.fail(d))
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const after = snapshot(root)
      expect(after.values).toBe(before.values)
      expect(after.keys).toBe(before.keys)
      after.ids.forEach((x, i) => expect(x).toBe(before.ids[i]))
    })
  }
})
