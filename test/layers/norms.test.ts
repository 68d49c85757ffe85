/**
 * The normalization layers against Flax NNX (test/goldens/layers.json): LayerNorm, RMSNorm,
 * GroupNorm, InstanceNorm and BatchNorm (training, a second training step, evaluation; running statistics after
 * each), gradients against finite differences, `train()`/`eval()`, and the errors.
 */
import { describe, expect, it } from "vitest"
import { grad, jnp, nnx } from "effect-nnx"
import { checkGrad, expectClose, expectState, fromResult, layerCase, leafAt } from "./support.ts"

const golden = (name: string, make: () => nnx.Module & { call: (x: jnp.Array) => jnp.Array }) => {
  const c = layerCase(name)
  it(`${name}: Flax's initial parameters and output`, () => {
    const m = make()
    expectState(m, c.params)
    expectClose(m.call(fromResult(c.inputs[0]!)), c.outputs["call"]!, 1e-5, 1e-5)
  })
}

describe("LayerNorm, RMSNorm, GroupNorm", () => {
  const rngs = () => new nnx.Rngs(0)
  golden("LayerNorm(6)", () => new nnx.LayerNorm(6, { rngs: rngs() }))
  golden("LayerNorm(6,noScale,eps)", () => new nnx.LayerNorm(6, { useScale: false, epsilon: 1e-2, rngs: rngs() }))
  golden("LayerNorm(axes)", () => new nnx.LayerNorm(4, { reductionAxes: [1, 2], featureAxes: -1, rngs: rngs() }))
  golden("RMSNorm(6)", () => new nnx.RMSNorm(6, { rngs: rngs() }))
  golden("GroupNorm(6,2)", () => new nnx.GroupNorm(6, 2, { rngs: rngs() }))
  golden("GroupNorm(6,groupSize3)", () => new nnx.GroupNorm(6, null, { groupSize: 3, rngs: rngs() }))
  golden("InstanceNorm(3)", () => new nnx.InstanceNorm(3, { rngs: rngs() }))

  it("the slow variance gives the same answer as the fast one", () => {
    const x = jnp.arange(12).reshape([2, 6]).mul(0.7)
    const fast = new nnx.LayerNorm(6, { rngs: rngs() }).call(x)
    expectClose(new nnx.LayerNorm(6, { useFastVariance: false, rngs: rngs() }).call(x), fast, 1e-5)
  })

  it("gradients with respect to input, scale and bias match finite differences", () => {
    const x = jnp.array([
      [0.3, -1.2, 2.0, 0.7, -0.4, 1.1],
      [1.0, 0.2, -0.5, -2.0, 0.9, 0.1]
    ])
    const w = jnp.array([
      [0.5, -1, 2, 0.25, 1, -0.5],
      [1, 1, -1, 0.5, 0.3, 2]
    ])
    for (const m of [
      new nnx.LayerNorm(6, { rngs: rngs() }),
      new nnx.RMSNorm(6, { rngs: rngs() }),
      new nnx.GroupNorm(6, 3, { rngs: rngs() })
    ]) {
      const f = (x: jnp.Array) => jnp.sum(m.call(x).mul(w))
      checkGrad(f, x, grad(f)(x))
      const gs = nnx.grad((m: nnx.LayerNorm) => jnp.sum(m.call(x).mul(w))).sync(m as nnx.LayerNorm)
      const s0 = m.scale!.value
      checkGrad(
        (s: jnp.Array) => {
          m.scale!.value = s
          const out = f(x)
          m.scale!.value = s0
          return out
        },
        s0,
        leafAt(gs, "scale")
      )
    }
  })

  it("wrong feature sizes and group counts are LayerErrors naming the layer", () => {
    expect(() => new nnx.LayerNorm(6, { rngs: rngs() }).call(jnp.ones([2, 5]))).toThrow(
      "LayerNorm: expected 6 features along axes (1), got inputs of shape (2, 5)"
    )
    expect(() => new nnx.RMSNorm(6, { rngs: rngs() }).call(jnp.ones([4]))).toThrow(
      "RMSNorm: expected 6 features along axes (0), got inputs of shape (4,)"
    )
    expect(() => new nnx.GroupNorm(6, 2, { rngs: rngs() }).call(jnp.ones([6]))).toThrow(
      "GroupNorm: expected inputs of rank at least 2 whose last axis has 6 features, got shape (6,)"
    )
    expect(() => new nnx.GroupNorm(6, 4, { rngs: rngs() })).toThrow(
      "GroupNorm: the number of groups (4) does not divide the number of features (6)"
    )
    expect(() => new nnx.GroupNorm(6, null, { groupSize: 4, rngs: rngs() })).toThrow(
      "the number of features (6) is not a multiple of the group size (4)"
    )
    expect(() => new nnx.GroupNorm(6, 2, { groupSize: 3, rngs: rngs() })).toThrow("give either numGroups or groupSize")
    expect(() => new nnx.LayerNorm(6, { reductionAxes: 3, rngs: rngs() }).call(jnp.ones([2, 6]))).toThrow(
      "LayerNorm: axes (3) are out of range for inputs of rank 2"
    )
    expect(() => new nnx.InstanceNorm(2, { featureAxes: 0, rngs: rngs() }).call(jnp.ones([2, 6]))).toThrow(
      "InstanceNorm: the feature axes cannot include the leading axis"
    )
    expect(() => new nnx.InstanceNorm(3, { rngs: rngs() }).call(jnp.ones([2, 6]))).toThrow(
      "InstanceNorm: expected 3 features along axes (1), got inputs of shape (2, 6)"
    )
  })
})

describe("BatchNorm", () => {
  it("BatchNorm(3): training normalizes by the batch and moves the running statistics as Flax; evaluation uses them", () => {
    const c = layerCase("BatchNorm(3)")
    const m = new nnx.BatchNorm(3, { rngs: new nnx.Rngs(0) })
    expectState(m, c.params)
    const x = fromResult(c.inputs[0]!)
    expectClose(m.call(x, { useRunningAverage: false }), c.outputs["train"]!, 1e-5, 1e-5)
    expectState(m, c.stateAfter["train"]!)
    expectClose(m.call(x.mul(0.5), { useRunningAverage: false }), c.outputs["train2"]!, 1e-5, 1e-5)
    expectState(m, c.stateAfter["train2"]!)
    expectClose(m.call(x, { useRunningAverage: true }), c.outputs["eval"]!, 1e-5, 1e-5)
    expectState(m, c.stateAfter["eval"]!)
  })

  it("BatchNorm(4, axis 1, momentum 0.9): the same with model.eval() switching mode", () => {
    const c = layerCase("BatchNorm(4,axis1,momentum)")
    const m = new nnx.BatchNorm(4, { axis: 1, momentum: 0.9, epsilon: 1e-3, rngs: new nnx.Rngs(0) })
    const x = fromResult(c.inputs[0]!)
    expectClose(m.call(x), c.outputs["train"]!, 1e-5, 1e-5)
    expectState(m, c.stateAfter["train"]!)
    m.eval()
    expect(m.useRunningAverage).toBe(true)
    expectClose(m.call(x), c.outputs["eval"]!, 1e-5, 1e-5)
    m.train()
    expect(m.useRunningAverage).toBe(false)
  })

  it("running statistics are BatchStats that gradients stop at; gradients match finite differences", () => {
    const m = new nnx.BatchNorm(2, { rngs: new nnx.Rngs(0) })
    expect(m.mean).toBeInstanceOf(nnx.BatchStat)
    expect(m.var).toBeInstanceOf(nnx.BatchStat)
    const x = jnp.array([
      [0.3, -1.2],
      [2.0, 0.7],
      [-0.4, 1.1]
    ])
    const w = jnp.array([
      [0.5, -1],
      [2, 0.25],
      [1, -0.5]
    ])
    const loss = (m: nnx.BatchNorm, x: jnp.Array) => jnp.sum(m.call(x).mul(w))
    const g = nnx.grad(loss, { argnums: 1 }).sync(m, x) as jnp.Array
    // Training-mode outputs depend on the batch only, so the statistics moving between calls is harmless.
    checkGrad((x) => loss(m, x), x, g)
    const gs = nnx.grad(loss).sync(m, x)
    expect((gs as nnx.State).toFlat().map(([p]) => p.join("."))).toEqual(["bias", "scale"])
  })

  it("a wrong feature size, or no mode anywhere, is a LayerError and the statistics do not move", () => {
    const m = new nnx.BatchNorm(3, { rngs: new nnx.Rngs(0) })
    const mean = m.mean.value
    expect(() => m.call(jnp.ones([4, 2]))).toThrow(
      "BatchNorm: expected 3 features along axis -1, got inputs of shape (4, 2)"
    )
    const undecided = new nnx.BatchNorm(3, { useRunningAverage: null, rngs: new nnx.Rngs(0) })
    expect(() => undecided.call(jnp.ones([4, 3]))).toThrow(
      "BatchNorm: no useRunningAverage was given to the constructor or the call"
    )
    expect(m.mean.value).toBe(mean)
    expect(undecided.mean.value.tolist()).toEqual([0, 0, 0])
  })
})
