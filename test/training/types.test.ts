/**
 * Type tests of the training API: `tsc --noEmit` runs over test/, so every `@ts-expect-error`
 * below must be an error and every `expectTypeOf` must hold. The wrong forms sit in functions that
 * never run.
 */
import { describe, expectTypeOf, it } from "vitest"
import { jnp, nnx, optax } from "effect-nnx"

class Model extends nnx.Module {
  w = new nnx.Param(jnp.ones([2]))
}

describe("training types", () => {
  it("an Optimizer needs { wrt } and takes the model's grads", () => {
    const model = new Model()
    const optimizer = new nnx.Optimizer(model, optax.adam(1e-3), { wrt: nnx.Param })
    expectTypeOf(optimizer).toEqualTypeOf<nnx.Optimizer<Model>>()
    expectTypeOf(optimizer.step).toEqualTypeOf<nnx.OptState<jnp.Array>>()
    const grads = nnx.grad((m: Model) => jnp.sum(m.w.value)).sync(model)
    expectTypeOf(optimizer.update(model, grads)).toEqualTypeOf<nnx.State>()
    const wrong = () => {
      // @ts-expect-error wrt is required, as in Flax 0.11+
      new nnx.Optimizer(model, optax.adam(1e-3))
      // @ts-expect-error grads are a State, not an Array
      optimizer.update(model, jnp.ones([2]))
    }
    void wrong
  })

  it("a MultiMetric's metrics are attributes and compute gives each one's result", () => {
    const metrics = new nnx.MultiMetric({ accuracy: new nnx.metrics.Accuracy(), stats: new nnx.metrics.Welford() })
    expectTypeOf(metrics.accuracy).toEqualTypeOf<nnx.metrics.Accuracy>()
    expectTypeOf(metrics.compute().accuracy).toEqualTypeOf<jnp.Array>()
    expectTypeOf(metrics.compute().stats).toEqualTypeOf<nnx.metrics.Statistics>()
    const wrong = () => {
      // @ts-expect-error no such metric
      void metrics.loss
    }
    void wrong
  })

  it("learning rates are numbers or schedules", () => {
    optax.sgd(0.1)
    optax.sgd(optax.linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10 }))
    const wrong = () => {
      // @ts-expect-error a string is not a learning rate
      optax.sgd("0.1")
    }
    void wrong
  })
})
