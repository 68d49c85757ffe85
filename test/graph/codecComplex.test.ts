/** complex64 state round-trips through both checkpoint codecs, bit for bit. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { jnp, lax, nnx } from "effect-nnx"

describe("complex64 checkpoints", () => {
  it("binary and JSON round-trip a complex Param exactly", () => {
    class M extends nnx.Module {
      z = new nnx.Param(lax.complex(jnp.array([1.5, -0.25, 3]), jnp.array([-2, 0.125, Number.NaN])))
    }
    const state = nnx.state(new M())
    for (const back of [
      Effect.runSync(Effect.flatMap(nnx.saveState(state), (b) => nnx.loadState(b))),
      Effect.runSync(Effect.flatMap(nnx.stateToJson(state), (t) => nnx.stateFromJson(t)))
    ]) {
      const z = back.get("z") as nnx.Param<jnp.Array>
      expect(z.value.dtype).toBe("complex64")
      expect(z.value.tolist()).toEqual([
        { re: 1.5, im: -2 },
        { re: -0.25, im: 0.125 },
        { re: 3, im: Number.NaN }
      ])
    }
  })
})

describe("nnx.grad of complex state", () => {
  it("differentiates a complex Param as jax.grad does (the conjugate convention)", () => {
    class M extends nnx.Module {
      z = new nnx.Param(lax.complex(jnp.array([1, -2], { dtype: "float32" }), jnp.array([3, 0.5])))
    }
    const g = nnx.grad((m: M) => jnp.sum(jnp.real(m.z.value.mul(jnp.conj(m.z.value))))).sync(new M())
    // JAX 0.10.2: jax.grad(lambda z: jnp.sum(jnp.real(z * jnp.conj(z))))(z) = [2.-6.j, -4.-1.j]
    expect(g.z.value.tolist()).toEqual([
      { re: 2, im: -6 },
      { re: -4, im: -1 }
    ])
  })
})
