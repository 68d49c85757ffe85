/**
 * nnx.pmap: a map over virtual devices (the leading axis), with Modules, StateAxes and state
 * propagation, as Flax's nnx.pmap over a stacked module.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { jnp, nnx, random } from "effect-nnx"
import { pmap } from "../../src/transforms/lifted/pmap.ts"

const D = 3
const DEVICES = 4

class Count extends nnx.Variable<jnp.Array> {
  declare readonly "~kind": { Count: true }
}

class Layer extends nnx.Module {
  w: nnx.Param<jnp.Array>
  count: Count
  constructor(rngs: nnx.Rngs) {
    super()
    this.w = new nnx.Param(random.normal(rngs.stream("params")(), [D, D]))
    this.count = new Count(jnp.array(0))
  }
  call(x: jnp.Array): jnp.Array {
    this.count.value = this.count.value.add(1)
    return x.matmul(this.w.value)
  }
}

const close = (a: jnp.Array, b: jnp.Array): void => {
  expect(a.shape).toEqual(b.shape)
  expect(jnp.allclose(a, b, { atol: 1e-5 }).tolist()).toBe(true)
}

const stack = (): Layer =>
  nnx
    .splitRngs(
      nnx.vmap((rngs: nnx.Rngs) => new Layer(rngs)),
      { splits: DEVICES }
    )
    .sync(new nnx.Rngs({ params: 0 }))

describe("nnx.pmap", () => {
  it("runs one layer of a stacked module per virtual device; state updates propagate per device", () => {
    const layers = stack()
    expect(layers.w.value.shape).toEqual([DEVICES, D, D])
    const xs = random.normal(random.key(1), [DEVICES, 2, D])
    const ys = pmap((layer: Layer, x: jnp.Array) => layer.call(x), { axisName: "devices" }).sync(layers, xs)
    for (let i = 0; i < DEVICES; i++) close(ys.get(i), xs.get(i).matmul(layers.w.value.get(i)))
    expect(layers.count.value.tolist()).toEqual([1, 1, 1, 1])
  })

  it("StateAxes: Params per device, Count broadcast; axisSize initialises a stack with no input", () => {
    const layers = stack()
    const x = random.normal(random.key(2), [D])
    const axes = new nnx.StateAxes([
      [nnx.Param, 0],
      [Count, null]
    ])
    const f = pmap(
      (layer: Layer, x: jnp.Array) => {
        layer.count.value = jnp.array(7)
        return x.matmul(layer.w.value)
      },
      { inAxes: [axes, null] }
    )
    const ys = f.sync(layers, x)
    expect(ys.shape).toEqual([DEVICES, D])
    close(ys.get(2), x.matmul(layers.w.value.get(2)))

    const made = pmap(() => new Count(jnp.zeros([2])), { axisSize: DEVICES, inAxes: [] }).sync()
    expect(made.value.shape).toEqual([DEVICES, 2])
  })

  it.effect("the Effect form; a failing f changes nothing", () =>
    Effect.gen(function* () {
      const layers = stack()
      const before = layers.count.value
      const err = yield* Effect.flip(
        pmap((layer: Layer) => {
          layer.call(jnp.ones([D]))
          return Effect.fail("down" as const)
        })(layers)
      )
      expect(err).toBe("down")
      expect(layers.count.value).toBe(before)
    })
  )
})
