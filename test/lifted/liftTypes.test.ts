/**
 * Type tests for the lift types and axes of the lifted transforms: the wrong forms do not compile
 * (`npm test` type-checks this file), and the right ones do.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

class Layer extends nnx.Module {
  w: nnx.Param<jnp.Array>
  s: nnx.BatchStat<jnp.Array>
  constructor() {
    super()
    this.w = new nnx.Param(jnp.ones([2]))
    this.s = new nnx.BatchStat(jnp.zeros([2]))
  }
}

describe("lift types", () => {
  it("StateAxes only where the argument is a graph node; tuples match the parameters; Carry only in scan", () => {
    const f = (m: Layer, x: jnp.Array) => x.mul(m.w.value)
    const axes = new nnx.StateAxes([[nnx.Param, 0], [nnx.BatchStat, null]])
    const ok = nnx.vmap(f, { inAxes: [axes, 0] })
    // @ts-expect-error a StateAxes cannot stand for an Array argument
    const bad1 = nnx.vmap(f, { inAxes: [0, axes] })
    // @ts-expect-error the inAxes tuple has one entry per parameter
    const bad2 = nnx.vmap(f, { inAxes: [0, 0, 0] })
    // Forms no argument can fit fail when the transform is made, as in Flax.
    // @ts-expect-error Carry is not an axis of vmap
    expect(() => nnx.vmap(f, { inAxes: [nnx.Carry, 0] })).toThrow(nnx.LiftTypeError)
    const carried = new nnx.StateAxes<nnx.AxisOrCarry>([[nnx.Param, null], [nnx.BatchStat, nnx.Carry]])
    const scanOk = nnx.scan((m: Layer, x: jnp.Array) => [m, x] as const, { inAxes: [carried, 0], outAxes: 0 })
    // @ts-expect-error a StateAxes holding Carry is not a vmap prefix
    expect(() => nnx.vmap(f, { inAxes: [carried, 0] })).toThrow(nnx.LiftTypeError)
    expect([ok, bad1, bad2, scanOk].every((g) => typeof g === "function")).toBe(true)
  })
})
