/**
 * nnx.customVjp on functions of Modules: fwd returns [output, residuals] (residuals may hold
 * Modules), bwd(residuals, cotangent) returns one cotangent per argument, a State for a graph node
 * (as Flax's nnx.custom_vjp); nnx.grad through it uses the custom rule; DiffState in
 * nondiffArgnums selects the differentiated part; state updates inside propagate.
 */
import { describe, expect, it as vit } from "vitest"
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { grad as coreGrad, jnp, nnx, random, StructureError } from "effect-nnx"
import { customVjp } from "../../src/transforms/lifted/customVjp.ts"
import { grad } from "../../src/transforms/lifted/grad.ts"

const close = (a: jnp.Array, b: jnp.Array, tol = 1e-5): void => {
  expect(a.shape).toEqual(b.shape)
  expect(jnp.allclose(a, b, { rtol: tol, atol: tol }).item()).toBe(true)
}
const leaf = (s: nnx.State, ...path: ReadonlyArray<string>): jnp.Array => {
  const l = s.at(...path)
  return (l instanceof nnx.Variable ? l.value : l) as jnp.Array
}
const paths = (s: nnx.State): Array<string> => s.toFlat().map(([p]) => p.join("."))

class Linear extends nnx.Module {
  kernel = new nnx.Param(random.normal(random.key(0), [2, 3]).mul(3))
  bias = new nnx.Param(random.normal(random.key(1), [3]))
  calls = new nnx.BatchStat(jnp.array(0, { dtype: "int32" }))
  call(x: jnp.Array): jnp.Array {
    return x.matmul(this.kernel.value).add(this.bias.value)
  }
}

const x = random.normal(random.key(2), [4, 2])
const y = random.normal(random.key(3), [4, 3])
const clip = (g: jnp.Array): jnp.Array => jnp.clip(g, -1, 1)

/** A Linear whose parameter gradients are clipped to [-1, 1] (the input's is not). */
const clippedApply = customVjp(
  (m: Linear, v: jnp.Array) => {
    m.calls.value = m.calls.value.add(1)
    return m.call(v)
  },
  (m: Linear, v: jnp.Array) => [m.call(v), [m, v]] as const,
  ([m, v]: readonly [Linear, jnp.Array], g: jnp.Array) => {
    const params = nnx.state(m, nnx.Param).map((path, l) => {
      const value = path[0] === "kernel" ? clip(v.T.matmul(g)) : clip(jnp.sum(g, 0))
      return (l as nnx.Variable<unknown>).replace(value)
    })
    return [params, g.matmul(m.kernel.value.T)] as const
  }
)

describe("nnx.customVjp", () => {
  vit("the forward value is f's, and state updates inside f propagate", () => {
    const m = new Linear()
    const out = clippedApply.sync(m, x)
    close(out, m.call(x))
    expect(m.calls.value.tolist()).toBe(1)
  })

  vit("nnx.grad through it gives bwd's States: clipped parameter gradients", () => {
    const m = new Linear()
    const loss = (l: Linear, v: jnp.Array, t: jnp.Array) => jnp.sum(clippedApply.sync(l, v).sub(t).pow(2))
    const [gm, gx] = grad(loss, { argnums: [0, 1] }).sync(m, x, y)
    expect(paths(gm)).toEqual(["bias", "kernel"])
    const raw = (k: jnp.Array, b: jnp.Array, v: jnp.Array) => jnp.sum(v.matmul(k).add(b).sub(y).pow(2))
    const [gk, gb, gv] = coreGrad(raw, { argnums: [0, 1, 2] })(m.kernel.value, m.bias.value, x)
    close(leaf(gm, "kernel"), clip(gk))
    close(leaf(gm, "bias"), clip(gb))
    close(gx, gv)
    // the plain gradient is not within the clip: the custom rule really applied
    expect(jnp.max(jnp.abs(gk)).item()).toBeGreaterThan(1)
    // the call's state update propagated through grad too
    expect(m.calls.value.tolist()).toBe(1)
  })

  vit("state the custom function leaves unchanged keeps differentiating as usual after the call", () => {
    const m = new Linear()
    // The bias is used again after the custom call: its gradient adds the plain use's.
    const loss = (l: Linear) => jnp.sum(clippedApply.sync(l, x)).add(jnp.sum(l.bias.value.mul(5)))
    const g = grad(loss).sync(m)
    const gb = clip(jnp.full([3], 4, { dtype: "float32" })).add(5)
    close(leaf(g, "bias"), gb)
  })

  vit("DiffState in nondiffArgnums: bwd returns a State of only the selected Variables", () => {
    const m = new Linear()
    let seen: ReadonlyArray<string> = []
    const kernelOnly = customVjp(
      (l: Linear, v: jnp.Array) => l.call(v),
      (l: Linear, v: jnp.Array) => [l.call(v), v] as const,
      (v: jnp.Array, g: jnp.Array) => {
        const s = nnx.State.fromFlat([[["kernel"], new nnx.Param(v.T.matmul(g).mul(0))]])
        seen = paths(s)
        return [s, null] as const
      },
      { nondiffArgnums: [new nnx.DiffState(0, nnx.PathContains("kernel"))] }
    )
    const g = grad((l: Linear) => jnp.sum(kernelOnly.sync(l, x)), { argnums: new nnx.DiffState(0, nnx.Param) }).sync(m)
    expect(seen).toEqual(["kernel"])
    close(leaf(g, "kernel"), jnp.zeros([2, 3]))
    // the bias is not differentiated by the custom function: no gradient flows to it through it
    close(leaf(g, "bias"), jnp.zeros([3]))
  })

  vit("composes with nnx.vmap (per-example clipped gradients)", () => {
    const m = new Linear()
    // Without the counter update: the core custom_vjp batching rule batches every output, so a
    // broadcast (null) BatchStat written inside would be refused by nnx.vmap.
    const clipped = customVjp(
      (l: Linear, v: jnp.Array) => l.call(v),
      (l: Linear, v: jnp.Array) => [l.call(v), [l, v]] as const,
      ([l, v]: readonly [Linear, jnp.Array], g: jnp.Array) =>
        [
          nnx
            .state(l, nnx.Param)
            .map((path, s) =>
              (s as nnx.Variable<unknown>).replace(path[0] === "kernel" ? clip(v.T.matmul(g)) : clip(jnp.sum(g, 0)))
            ),
          null
        ] as const
    )
    const per = nnx
      .vmap(
        (l: Linear, v: jnp.Array) =>
          grad((k: Linear) => jnp.sum(clipped.sync(k, v.reshape([1, 2])).pow(2)))
            .sync(l)
            .toPureDict(),
        { inAxes: [null, 0] }
      )
      .sync(m, x) as { kernel: jnp.Array }
    expect(per.kernel.shape).toEqual([4, 2, 3])
    for (let i = 0; i < 4; i++) {
      const gi = grad((k: Linear) => jnp.sum(clipped.sync(k, x.get(`${i}:${i + 1}`)).pow(2))).sync(m)
      close(per.kernel.get(i), leaf(gi, "kernel"))
    }
  })

  it.effect("bwd returning a State with a leaf that is not differentiated state is a StructureError", () =>
    Effect.gen(function* () {
      const bad = customVjp(
        (l: Linear) => jnp.sum(l.call(x)),
        (l: Linear) => [jnp.sum(l.call(x)), null] as const,
        () => [nnx.State.fromFlat([[["calls"], new nnx.BatchStat(jnp.zeros([]))]])] as const
      )
      const e = yield* Effect.flip(grad((l: Linear) => bad.sync(l))(new Linear()))
      assert.instanceOf(e, StructureError)
      assert.match(e.message, /not differentiated state/)
    })
  )

  it.effect("a failing f leaves the outer module as it was", () =>
    Effect.gen(function* () {
      const m = new Linear()
      const f = customVjp(
        (l: Linear): jnp.Array => {
          l.calls.value = l.calls.value.add(1)
          throw new StructureError({ transform: "test", reason: "boom" })
        },
        (l: Linear) => [jnp.zeros([]), l] as const,
        () => [null] as const
      )
      const e = yield* Effect.flip(f(m))
      assert.instanceOf(e, StructureError)
      assert.strictEqual(m.calls.value.tolist(), 0)
    })
  )
})
