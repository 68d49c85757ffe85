/**
 * Dropout against Flax NNX (test/goldens/layers.json): the same masks for the same seeds (a stream
 * forked at construction, Rngs given at call time, broadcast dimensions), the identity when
 * deterministic; `Module.train()` / `eval()` and `nnx.view` switching Dropout and BatchNorm across a
 * model; and the errors.
 */
import { describe, expect, it } from "vitest"
import { grad, jnp, nnx, random } from "effect-nnx"
import { checkGrad, expectClose, expectState, fromResult, layerCase } from "./support.ts"

describe("Dropout against Flax", () => {
  it("Dropout(0.5) with Rngs({ dropout: 1 }): two training masks, then the identity, with Flax's rng state", () => {
    const c = layerCase("Dropout(0.5)")
    const m = new nnx.Dropout(0.5, { rngs: new nnx.Rngs({ dropout: 1 }) })
    expectState(m, c.params)
    const x = fromResult(c.inputs[0]!)
    expectClose(m.call(x), c.outputs["train"]!, 0, 0)
    expectClose(m.call(x), c.outputs["train2"]!, 0, 0)
    expectState(m, c.stateAfter["train2"]!)
    expectClose(m.call(x, { deterministic: true }), c.outputs["eval"]!, 0, 0)
  })

  it("Dropout(0.3, broadcastDims [0]) falls back to the default stream and shares the mask along axis 0", () => {
    const c = layerCase("Dropout(0.3,broadcast)")
    const m = new nnx.Dropout(0.3, { broadcastDims: [0], rngs: new nnx.Rngs(2) })
    const y = m.call(fromResult(c.inputs[0]!))
    expectClose(y, c.outputs["train"]!, 0, 0)
    const zero = jnp.equal(y, 0).tolist() as Array<Array<boolean>>
    expect(zero[1]).toEqual(zero[0])
  })

  it("Dropout(0.5) without rngs takes them at call time", () => {
    const c = layerCase("Dropout(0.5,callRngs)")
    const m = new nnx.Dropout(0.5)
    expectState(m, c.params)
    expectClose(m.call(fromResult(c.inputs[0]!), { rngs: new nnx.Rngs({ dropout: 5 }) }), c.outputs["train"]!, 0, 0)
  })

  it("a stream or a key given to the call is used directly; rates 0 and 1 need no key", () => {
    const x = jnp.ones([3, 4])
    const m = new nnx.Dropout(0.5)
    const key = random.key(3)
    expect(m.call(x, { rngs: key }).tolist()).toEqual(jnp.where(random.bernoulli(key, 0.5, [3, 4]), 2, 0).tolist())
    const stream = new nnx.RngStream(3, { tag: "dropout" })
    expect(m.call(x, { rngs: stream }).shape).toEqual([3, 4])
    expect(stream.count.value.tolist()).toBe(1)
    expect(new nnx.Dropout(0).call(x)).toBe(x)
    expect(new nnx.Dropout(1).call(x).tolist()).toEqual(jnp.zeros([3, 4]).tolist())
  })

  it("the gradient is the mask over keep-probability, as finite differences say", () => {
    const x = jnp.array([
      [0.3, -1.2, 2.0],
      [0.7, -0.4, 1.1]
    ])
    const f = (x: jnp.Array) => jnp.sum(jnp.tanh(new nnx.Dropout(0.4).call(x, { rngs: random.key(7) })))
    checkGrad(f, x, grad(f)(x))
  })
})

describe("Dropout errors", () => {
  it("training without rngs is a LayerError naming Dropout, and nothing is drawn", () => {
    const m = new nnx.Dropout(0.5)
    expect(() => m.call(jnp.ones([2]))).toThrow(
      "Dropout: deterministic is false but there are no rngs: give rngs to the constructor or the call, or switch the model to evaluation with model.eval()"
    )
    expect(m.call(jnp.ones([2]), { deterministic: true }).tolist()).toEqual([1, 1])
  })

  it("inside a Sequential the error names the path; the stream's count does not move", () => {
    const model = new nnx.Sequential(new nnx.Linear(2, 2, { rngs: new nnx.Rngs(0) }), new nnx.Dropout(0.5))
    expect(() => model.call(jnp.ones([1, 2]))).toThrow(
      "Dropout at layers[1]: deterministic is false but there are no rngs"
    )
  })

  it("no mode anywhere, a bad rate, an out-of-range broadcast axis are LayerErrors", () => {
    expect(() => new nnx.Dropout(0.5, { deterministic: null }).call(jnp.ones([2]))).toThrow(
      "Dropout: no deterministic was given to the constructor or the call"
    )
    expect(() => new nnx.Dropout(1.5)).toThrow("Dropout: rate must be in [0, 1], got 1.5")
    const m = new nnx.Dropout(0.5, { broadcastDims: [2], rngs: new nnx.Rngs(0) })
    const count = m.rngs!.count.value
    expect(() => m.call(jnp.ones([2, 2]))).toThrow(
      "Dropout: broadcastDims has axis 2, out of range for inputs of rank 2"
    )
    expect(m.rngs!.count.value).toBe(count)
  })
})

class Block extends nnx.Module {
  linear: nnx.Linear
  bn: nnx.BatchNorm
  dropout: nnx.Dropout
  constructor(rngs: nnx.Rngs) {
    super()
    this.linear = new nnx.Linear(3, 4, { rngs })
    this.bn = new nnx.BatchNorm(4, { rngs })
    this.dropout = new nnx.Dropout(0.5, { rngs })
  }
  call(x: jnp.Array): jnp.Array {
    return this.dropout.call(nnx.relu(this.bn.call(this.linear.call(x))))
  }
}

describe("train, eval and view", () => {
  it("model.eval() makes Dropout deterministic and BatchNorm use its running averages, model.train() undoes it", () => {
    const m = new Block(new nnx.Rngs(0))
    m.eval()
    expect([m.dropout.deterministic, m.bn.useRunningAverage]).toEqual([true, true])
    const x = jnp.ones([2, 3])
    expect(m.call(x).tolist()).toEqual(m.call(x).tolist())
    m.train()
    expect([m.dropout.deterministic, m.bn.useRunningAverage]).toEqual([false, false])
  })

  it("setAttributes sets any attribute the tree has and refuses names no Module has", () => {
    const m = new Block(new nnx.Rngs(0))
    m.setAttributes({ rate: 0.25 })
    expect(m.dropout.rate).toBe(0.25)
    expect(() => m.setAttributes({ nope: 1 })).toThrow("no Module in the tree has the attribute 'nope' to set")
  })

  it("nnx.view gives new Modules in the mode asked, sharing the model's Variables; the model keeps its mode", () => {
    const m = new Block(new nnx.Rngs(0))
    const v = nnx.view(m, { deterministic: true, useRunningAverage: true })
    expect(v).not.toBe(m)
    expect(v.dropout).not.toBe(m.dropout)
    expect(v.linear.kernel).toBe(m.linear.kernel)
    expect(v.bn.mean).toBe(m.bn.mean)
    expect([v.dropout.deterministic, v.bn.useRunningAverage]).toEqual([true, true])
    expect([m.dropout.deterministic, m.bn.useRunningAverage]).toEqual([false, false])
    // Training through the model moves statistics the view reads.
    m.call(jnp.arange(6).reshape([2, 3]))
    expect(v.bn.mean.value.tolist()).toEqual(m.bn.mean.value.tolist())
    expect(() => nnx.view(m, { foo: true })).toThrow("nnx.view: no Module in the tree reads the mode 'foo'")
  })
})
