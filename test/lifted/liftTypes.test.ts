/**
 * Type tests for the lift types and axes of the lifted transforms: the wrong forms do not compile
 * (`npm test` type-checks this file), and the right ones do.
 */
import { describe, expect, expectTypeOf, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import type { ShapeDtypeStruct } from "effect-nnx"

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
    const axes = new nnx.StateAxes([
      [nnx.Param, 0],
      [nnx.BatchStat, null]
    ])
    const ok = nnx.vmap(f, { inAxes: [axes, 0] })
    // @ts-expect-error a StateAxes cannot stand for an Array argument
    const bad1 = nnx.vmap(f, { inAxes: [0, axes] })
    // @ts-expect-error the inAxes tuple has one entry per parameter
    const bad2 = nnx.vmap(f, { inAxes: [0, 0, 0] })
    // Forms no argument can fit fail when the transform is made, as in Flax.
    // @ts-expect-error Carry is not an axis of vmap
    expect(() => nnx.vmap(f, { inAxes: [nnx.Carry, 0] })).toThrow(nnx.LiftTypeError)
    const carried = new nnx.StateAxes<nnx.AxisOrCarry>([
      [nnx.Param, null],
      [nnx.BatchStat, nnx.Carry]
    ])
    const scanOk = nnx.scan((m: Layer, x: jnp.Array) => [m, x] as const, { inAxes: [carried, 0], outAxes: 0 })
    // @ts-expect-error a StateAxes holding Carry is not a vmap prefix
    expect(() => nnx.vmap(f, { inAxes: [carried, 0] })).toThrow(nnx.LiftTypeError)
    expect([ok, bad1, bad2, scanOk].every((g) => typeof g === "function")).toBe(true)
  })

  it("a bare StateAxes only when every argument is a graph node; outAxes a StateAxes only for a graph node output", () => {
    const axes = new nnx.StateAxes([
      [nnx.Param, 0],
      [nnx.BatchStat, null]
    ])
    const wrong = (): void => {
      // @ts-expect-error a bare StateAxes stands for every argument, and x is an Array
      nnx.vmap((m: Layer, x: jnp.Array) => x.mul(m.w.value), { inAxes: axes })
      // @ts-expect-error nor for a function of Arrays
      nnx.vmap((x: jnp.Array) => x, { inAxes: axes })
      // @ts-expect-error the output is an Array
      nnx.vmap((m: Layer, x: jnp.Array) => x.mul(m.w.value), { inAxes: [axes, 0], outAxes: axes })
    }
    void wrong
    const both = nnx.vmap((a: Layer, b: Layer) => a.w.value.add(b.w.value), { inAxes: axes })
    const out = nnx.vmap((m: Layer) => m, { inAxes: [axes], outAxes: axes })
    expect([both, out].every((g) => typeof g === "function")).toBe(true)
  })

  it("scan's Carry rules at compile time: one Carry, on both sides or neither, no broadcast or carried output state", () => {
    const body = (x: jnp.Array, l: Layer) => [x.mul(l.w.value), x] as const
    const wrong = (): void => {
      // @ts-expect-error two Carry entries
      nnx.scan(body, { inAxes: [nnx.Carry, nnx.Carry] })
      // @ts-expect-error Carry in inAxes only
      nnx.scan(body, { inAxes: [nnx.Carry, 0], outAxes: [0, 0] })
      // @ts-expect-error Carry in outAxes only
      nnx.scan((x: jnp.Array, y: jnp.Array) => [x, y] as const, { inAxes: [0, 0], outAxes: [nnx.Carry, 0] })
      // @ts-expect-error the default inAxes carry argument 0, so outAxes must carry too
      nnx.scan(body, { outAxes: [0, 0] })
      // @ts-expect-error null (broadcast) in outAxes
      nnx.scan(body, { inAxes: [nnx.Carry, 0], outAxes: [nnx.Carry, null] })
      nnx.scan((l: Layer, x: jnp.Array) => [l, x] as const, {
        inAxes: [0, 0],
        // @ts-expect-error a StateAxes holding Carry in outAxes
        outAxes: [
          new nnx.StateAxes([
            [nnx.Param, 0],
            [nnx.BatchStat, nnx.Carry]
          ]),
          0
        ]
      })
      nnx.scan((c: { a: jnp.Array }, y: jnp.Array) => [c, y] as const, {
        // @ts-expect-error Carry nested in a record
        inAxes: [{ a: nnx.Carry }, 0],
        // @ts-expect-error nor in outAxes
        outAxes: [{ a: nnx.Carry }, 0]
      })
    }
    void wrong
    // right forms, including a StateAxes mixing axes and Carry written inline
    const fs = [
      nnx.scan(body),
      nnx.scan(body, { inAxes: [nnx.Carry, 0], outAxes: [nnx.Carry, 0] }),
      nnx.scan((x: jnp.Array, y: jnp.Array) => [x, y] as const, { inAxes: [0, 0], outAxes: [0, 0] }),
      nnx.scan((l: Layer, x: jnp.Array) => [l, x] as const, {
        inAxes: [
          new nnx.StateAxes([
            [nnx.Param, 0],
            [nnx.BatchStat, nnx.Carry]
          ]),
          0
        ],
        outAxes: [
          new nnx.StateAxes([
            [nnx.Param, 0],
            [nnx.BatchStat, 1]
          ]),
          0
        ]
      })
    ]
    expect(fs.every((g) => typeof g === "function")).toBe(true)
  })
})

describe("evalShape's result is typed as abstract", () => {
  it("a Module's Variables hold ShapeDtypeStructs, so Array methods on them do not compile", () => {
    const abstract = nnx.evalShape.sync((rngs: nnx.Rngs) => new nnx.Linear(2, 3, { rngs }), new nnx.Rngs(0))
    expectTypeOf(abstract.kernel.value).toEqualTypeOf<ShapeDtypeStruct>()
    expect(abstract.kernel.value).toEqual({ shape: [2, 3], dtype: "float32" })
    const wrong = (): void => {
      // @ts-expect-error the value is abstract: no Array methods
      abstract.kernel.value.add(1)
    }
    void wrong
  })
})
