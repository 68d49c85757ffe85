/**
 * A trained model round-trips through the checkpoint codecs: a small CNN (Conv, BatchNorm,
 * Dropout, Linear) trained a few steps with nnx.Optimizer(optax.adamw) under nnx.jit, saved in the
 * binary and JSON formats, restored into a fresh model of another seed, gives the same outputs in
 * evaluation mode; the optimizer's state (moments, step) round-trips too, so training resumes where
 * it stopped.
 */
import { Effect } from "effect"
import { assert, describe, it } from "@effect/vitest"
import { jnp, nnx, optax, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

class Net extends nnx.Module {
  conv: nnx.Conv
  bn: nnx.BatchNorm
  dropout: nnx.Dropout
  linear: nnx.Linear
  constructor(rngs: nnx.Rngs) {
    super()
    this.conv = new nnx.Conv(1, 4, [3, 3], { rngs })
    this.bn = new nnx.BatchNorm(4, { rngs })
    this.dropout = new nnx.Dropout(0.2, { rngs })
    this.linear = new nnx.Linear(4 * 4 * 4, 3, { rngs })
  }
  call(x: JArray): JArray {
    x = nnx.maxPool(nnx.relu(this.bn.call(this.conv.call(x))), [2, 2], { strides: [2, 2] })
    return this.linear.call(this.dropout.call(x.reshape(x.shape[0]!, -1)))
  }
}

const x = random.uniform(random.key(7), [6, 8, 8, 1])
const y = jnp.array([0, 1, 2, 0, 1, 2])

const trained = (): readonly [Net, nnx.Optimizer<Net>] => {
  const model = new Net(new nnx.Rngs({ params: 0, dropout: 1 }))
  const optimizer = new nnx.Optimizer(model, optax.adamw(0.01), { wrt: nnx.Param })
  const step = nnx.jit((m: Net, opt: nnx.Optimizer<Net>, xb: JArray, yb: JArray) => {
    const [loss, grads] = nnx
      .valueAndGrad((n: Net) => optax.softmaxCrossEntropyWithIntegerLabels(n.call(xb), yb).mean())
      .sync(m)
    opt.update(m, grads)
    return loss
  })
  model.train()
  for (let i = 0; i < 3; i++) step.sync(model, optimizer, x, y)
  model.eval()
  return [model, optimizer]
}

describe("a trained model through the checkpoint codecs", () => {
  it.effect("restores into a fresh model (binary and JSON) with the same evaluation outputs and optimizer state", () =>
    Effect.gen(function* () {
      const [model, optimizer] = trained()
      const want = model.call(x).tolist()

      const fresh = new Net(new nnx.Rngs({ params: 5, dropout: 6 }))
      fresh.eval()
      assert.notDeepEqual(fresh.call(x).tolist(), want)
      yield* nnx.restore(fresh, yield* nnx.saveState(nnx.state(model)))
      assert.deepStrictEqual(fresh.call(x).tolist(), want)
      assert.deepStrictEqual(fresh.bn.mean.value.tolist(), model.bn.mean.value.tolist())

      const viaJson = new Net(new nnx.Rngs({ params: 9, dropout: 9 }))
      viaJson.eval()
      nnx.update(viaJson, yield* nnx.stateFromJson(yield* nnx.stateToJson(nnx.state(model))))
      assert.deepStrictEqual(viaJson.call(x).tolist(), want)

      // The optimizer: its step count and moments come back, in a new optimizer over the restored model.
      const resumed = new nnx.Optimizer(fresh, optax.adamw(0.01), { wrt: nnx.Param })
      yield* nnx.restore(resumed, yield* nnx.saveState(nnx.state(optimizer)))
      assert.strictEqual(resumed.step.value.item(), 3)
      assert.deepStrictEqual(
        nnx
          .state(resumed)
          .toFlat()
          .map(([p]) => p.join(".")),
        nnx
          .state(optimizer)
          .toFlat()
          .map(([p]) => p.join("."))
      )
      for (const [[, a], [, b]] of nnx
        .state(resumed)
        .toFlat()
        .map((e, i) => [e, nnx.state(optimizer).toFlat()[i]!] as const)) {
        const value = (leaf: unknown): unknown => ((leaf as { value: JArray }).value ?? leaf) as JArray
        assert.deepStrictEqual((value(a) as JArray).tolist(), (value(b) as JArray).tolist())
      }
    })
  )
})
