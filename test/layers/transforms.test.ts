/**
 * The layers under the lifted transforms, as Flax's docs use them: a stack of layers made with
 * `splitRngs` + `vmap` (a vmapped constructor) and run with `scan`; `jit` of a training step over a
 * model with BatchNorm and Dropout (statistics and rng counts propagate out); `grad` over a model;
 * `vmap` of a layer over a batch axis; `eval()` inside a jitted evaluation.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx, random } from "effect-nnx"
import { expectClose, leafAt } from "./support.ts"

class Block extends nnx.Module {
  linear: nnx.Linear
  norm: nnx.LayerNorm
  dropout: nnx.Dropout
  constructor(rngs: nnx.Rngs) {
    super()
    this.linear = new nnx.Linear(4, 4, { rngs })
    this.norm = new nnx.LayerNorm(4, { rngs })
    this.dropout = new nnx.Dropout(0.1, { rngs })
  }
  call(x: jnp.Array): jnp.Array {
    return this.dropout.call(nnx.gelu(this.norm.call(this.linear.call(x))))
  }
}

class Net extends nnx.Module {
  l1: nnx.Linear
  bn: nnx.BatchNorm
  drop: nnx.Dropout
  l2: nnx.Linear
  constructor(rngs: nnx.Rngs) {
    super()
    this.l1 = new nnx.Linear(3, 8, { rngs })
    this.bn = new nnx.BatchNorm(8, { rngs })
    this.drop = new nnx.Dropout(0.2, { rngs })
    this.l2 = new nnx.Linear(8, 1, { rngs })
  }
  call(x: jnp.Array): jnp.Array {
    return this.l2.call(this.drop.call(nnx.relu(this.bn.call(this.l1.call(x)))))
  }
}

describe("layers under lifted transforms", () => {
  it("a vmapped constructor with splitRngs makes a stack of Blocks that scan runs; it equals running them one by one", () => {
    const rngs = new nnx.Rngs(0)
    const stack = nnx
      .splitRngs(
        nnx.vmap((r: nnx.Rngs) => new Block(r)),
        { splits: 3 }
      )
      .sync(rngs)
    expect(stack.linear.kernel.value.shape).toEqual([3, 4, 4])
    expect(stack.norm.scale!.value.shape).toEqual([3, 4])
    stack.eval()
    const forward = nnx.scan((x: jnp.Array, block: Block) => [block.call(x), null] as const, { inAxes: [nnx.Carry, 0] })
    const x = jnp.linspace(-1, 1, 8).reshape([2, 4])
    const [out] = forward.sync(x, stack)
    let manual = x
    for (let i = 0; i < 3; i++) {
      const k = stack.linear.kernel.value.get(i)
      const b = stack.linear.bias!.value.get(i)
      const h = manual.matmul(k).add(b)
      const mu = jnp.mean(h, -1, { keepdims: true })
      const v = jnp.mean(h.sub(mu).pow(2), -1, { keepdims: true })
      manual = nnx.gelu(
        h
          .sub(mu)
          .div(jnp.sqrt(v.add(1e-6)))
          .mul(stack.norm.scale!.value.get(i))
          .add(stack.norm.bias!.value.get(i))
      )
    }
    expectClose(out, manual, 1e-5, 1e-4)
    // The layers differ: each got its own key.
    expect(jnp.arrayEqual(stack.linear.kernel.value.get(0), stack.linear.kernel.value.get(1)).item()).toBe(false)
  })

  it("a jitted training step moves BatchNorm's statistics and Dropout's rng count outside, and lowers the loss", () => {
    const model = new Net(new nnx.Rngs({ params: 0, dropout: 1 }))
    const x = random.normal(random.key(2), [16, 3])
    const y = jnp.sum(x, -1, { keepdims: true })
    const loss = (m: Net) => jnp.mean(m.call(x).sub(y).pow(2))
    const step = nnx.jit((m: Net) => {
      const [value, grads] = nnx.valueAndGrad(loss).sync(m)
      const params = nnx.state(m, nnx.Param)
      nnx.update(
        m,
        params.map((path, leaf) => {
          const l = leaf as nnx.Param<jnp.Array>
          return l.replace(l.value.sub(leafAt(grads, ...path).mul(0.05)))
        })
      )
      return value
    })
    const count0 = model.drop.rngs!.count.value.tolist() as number
    const first = step.sync(model).item() as number
    expect(model.bn.mean.value.tolist()).not.toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    let last = first
    for (let i = 0; i < 20; i++) last = step.sync(model).item() as number
    expect(model.drop.rngs!.count.value.tolist()).toBe(count0 + 21)
    expect(last).toBeLessThan(first)
    expect(step.traceCount).toBe(1)
    model.eval()
    const evaluate = nnx.jit((m: Net) => m.call(x))
    expectClose(evaluate.sync(model), model.call(x), 1e-5)
  })

  it("grad over a Sequential gives a State shaped like its parameters", () => {
    const model = new nnx.Sequential(
      new nnx.Linear(2, 3, { rngs: new nnx.Rngs(0) }),
      nnx.tanh,
      new nnx.Linear(3, 1, { rngs: new nnx.Rngs(1) })
    )
    const x = jnp.ones([4, 2])
    const grads = nnx.grad((m: nnx.Sequential) => jnp.sum(m.call(x) as jnp.Array)).sync(model)
    expect(leafAt(grads, "layers", 0, "kernel").shape).toEqual([2, 3])
    expect(leafAt(grads, "layers", 2, "bias").tolist()).toEqual([4])
  })

  it("vmap of a layer over a batch axis of its input equals the batched call", () => {
    const layer = new nnx.Linear(3, 2, { rngs: new nnx.Rngs(0) })
    const xs = random.normal(random.key(1), [5, 3])
    const ys = nnx.vmap((m: nnx.Linear, x: jnp.Array) => m.call(x), { inAxes: [null, 0] }).sync(layer, xs)
    expectClose(ys, layer.call(xs), 1e-6)
  })

  it("Dropout under vmap with split rngs draws a different mask per example", () => {
    const d = new nnx.Dropout(0.5, { rngs: new nnx.Rngs({ dropout: 0 }) })
    const xs = jnp.ones([4, 6])
    const ys = nnx
      .splitRngs(
        nnx.vmap((m: nnx.Dropout, x: jnp.Array) => m.call(x), {
          inAxes: [
            new nnx.StateAxes([
              [nnx.RngState, 0],
              [true, null]
            ]),
            0
          ]
        }),
        { splits: 4 }
      )
      .sync(d, xs)
    expect(ys.shape).toEqual([4, 6])
    const rows = ys.tolist() as Array<Array<number>>
    expect(new Set(rows.map((r) => r.join(","))).size).toBeGreaterThan(1)
  })
})
