/**
 * An end-to-end training loop with the lifted transforms, as the docs show it: a jitted SGD step
 * with valueAndGrad and nnx.update, per-example gradients with vmap(grad), and a scanned layer
 * stack built with splitRngs + vmap.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"

class Linear extends nnx.Module {
  w: nnx.Param<jnp.Array>
  b: nnx.Param<jnp.Array>
  constructor(din: number, dout: number, rngs: nnx.Rngs<"params">) {
    super()
    this.w = new nnx.Param(random.normal(rngs.params(), [din, dout]).mul(0.5))
    this.b = new nnx.Param(jnp.zeros([dout]))
  }
  call(x: jnp.Array): jnp.Array {
    return x.matmul(this.w.value).add(this.b.value)
  }
}

const loss = (model: Linear, x: jnp.Array, y: jnp.Array) => jnp.mean(model.call(x).sub(y).pow(2))

/** Plain SGD: every Param moves against its gradient. */
const sgd = (model: Linear, grads: nnx.State, lr: number): void => {
  const params = nnx.state(model, nnx.Param)
  nnx.update(
    model,
    params.map((path, leaf) => {
      const g = grads.at(...path) as nnx.Variable<unknown>
      return (leaf as nnx.Variable<unknown>).replace(
        (leaf as nnx.Param<jnp.Array>).value.sub((g.value as jnp.Array).mul(lr))
      )
    })
  )
}

describe("training with lifted transforms", () => {
  it("a jitted SGD step lowers the loss and is traced once", () => {
    const model = new Linear(3, 1, new nnx.Rngs({ params: 0 }))
    const x = random.normal(random.key(1), [16, 3])
    const y = x.matmul(jnp.array([[1], [-2], [0.5]], { dtype: "float32" }))
    const step = nnx.jit((m: Linear, xb: jnp.Array, yb: jnp.Array) => {
      const [value, grads] = nnx.valueAndGrad(loss).sync(m, xb, yb)
      sgd(m, grads, 0.1)
      return value
    })
    const first = step.sync(model, x, y).item() as number
    let last = first
    for (let i = 0; i < 30; i++) last = step.sync(model, x, y).item() as number
    expect(last).toBeLessThan(first * 0.1)
    expect(step.traceCount).toBe(1)
  })

  it("per-example gradients with vmap(grad) average to the batch gradient", () => {
    const model = new Linear(3, 2, new nnx.Rngs({ params: 1 }))
    const x = random.normal(random.key(2), [5, 3])
    const y = random.normal(random.key(3), [5, 2])
    const perExample = nnx
      .vmap((m: Linear, xi: jnp.Array, yi: jnp.Array) => nnx.grad(loss).sync(m, xi.reshape(1, 3), yi.reshape(1, 2)), {
        inAxes: [null, 0, 0]
      })
      .sync(model, x, y)
    const perW = (perExample.at("w") as nnx.Variable<unknown>).value as jnp.Array
    const batch = nnx.grad(loss).sync(model, x, y).at("w") as nnx.Variable<unknown>
    expect(perW.shape).toEqual([5, 3, 2])
    expect((perExample.at("w") as nnx.Variable<unknown>).kind).toBe("Param")
    expect(jnp.allclose(jnp.mean(perW, 0), batch.value as jnp.Array, { atol: 1e-5 }).item()).toBe(true)
  })

  it("a scanned stack of layers equals applying them one by one", () => {
    const rngs = new nnx.Rngs({ params: 4 })
    const layers = nnx
      .splitRngs(
        nnx.vmap((r: nnx.Rngs<"params">) => new Linear(4, 4, r)),
        { splits: 3 }
      )
      .sync(rngs)
    const forward = nnx.scan((x: jnp.Array, layer: Linear) => [jnp.tanh(layer.call(x)), null] as const, {
      inAxes: [nnx.Carry, 0]
    })
    const x = jnp.ones([4])
    const [out] = forward.sync(x, layers)
    let manual = x
    for (let i = 0; i < 3; i++) manual = jnp.tanh(manual.matmul(layers.w.value.get(i)).add(layers.b.value.get(i)))
    expect(jnp.allclose(out, manual, { atol: 1e-6 }).item()).toBe(true)
  })
})
