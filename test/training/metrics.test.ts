/**
 * `nnx.metrics` against Flax 0.12 (test/goldens/optax.json): Average (Arrays, numbers, masks),
 * Accuracy (multi-class and with a threshold), Welford and MultiMetric, eagerly and accumulated
 * inside `nnx.jit`; argument errors.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import type { Result } from "../optax/support.ts"
import { expectClose, goldens } from "../optax/support.ts"

const M = goldens.metrics as Record<string, Result> & {
  readonly welford: {
    readonly mean: Result
    readonly standard_error_of_mean: Result
    readonly standard_deviation: Result
  }
  readonly multi: { readonly accuracy: Result; readonly loss: Result }
  readonly multi_after_reset: { readonly count: number; readonly total: number }
}

const logits = jnp.array(
  [
    [0.1, 0.9, 0.0],
    [0.8, 0.1, 0.1],
    [0.2, 0.3, 0.5],
    [0.6, 0.3, 0.1]
  ],
  { dtype: "float32" }
)
const labels = jnp.array([1, 0, 1, 2], { dtype: "int32" })

describe("nnx.metrics against Flax", () => {
  it("Average over Arrays, a number and a masked Array", () => {
    const avg = new nnx.metrics.Average()
    avg.update({ values: jnp.array([1, 2, 4], { dtype: "float32" }) })
    avg.update({ values: 3 })
    avg.update({ values: jnp.array([[0.5, 1.5]], { dtype: "float32" }), mask: jnp.array([[true, false]]) })
    expectClose(avg.compute(), M.average!, "average")
  })

  it("Accuracy, multi-class, across two updates", () => {
    const acc = new nnx.metrics.Accuracy()
    acc.update({ logits, labels })
    expectClose(acc.compute(), M.accuracy_first!, "first")
    acc.update({ logits: logits.get("0:2"), labels: jnp.array([0, 0], { dtype: "int32" }) })
    expectClose(acc.compute(), M.accuracy_second!, "second")
  })

  it("Accuracy with a threshold (binary)", () => {
    const acc = new nnx.metrics.Accuracy({ threshold: 0.5 })
    acc.update({
      logits: jnp.array([0.2, 0.7, 0.5, 0.9], { dtype: "float32" }),
      labels: jnp.array([0, 1, 0, 0], { dtype: "int32" })
    })
    expectClose(acc.compute(), M.accuracy_binary!, "binary")
  })

  it("Welford's mean, standard deviation and standard error", () => {
    const w = new nnx.metrics.Welford()
    w.update({ values: jnp.array([1, 2, 3, 4], { dtype: "float32" }) })
    w.update({ values: jnp.array([10, -2], { dtype: "float32" }) })
    w.update({ values: 5 })
    const stats = w.compute()
    expectClose(stats.mean, M.welford.mean, "mean")
    expectClose(stats.standardErrorOfMean, M.welford.standard_error_of_mean, "sem")
    expectClose(stats.standardDeviation, M.welford.standard_deviation, "std")
  })

  it("MultiMetric updates every metric with the arguments it takes, and resets them", () => {
    const metrics = new nnx.MultiMetric({ accuracy: new nnx.metrics.Accuracy(), loss: new nnx.metrics.Average("loss") })
    metrics.update({ logits, labels, loss: jnp.array(0.75, { dtype: "float32" }) })
    metrics.update({ logits: logits.get("1:"), labels: labels.get("1:"), loss: jnp.array(0.25, { dtype: "float32" }) })
    const out = metrics.compute()
    expectClose(out.accuracy, M.multi.accuracy, "accuracy")
    expectClose(out.loss, M.multi.loss, "loss")
    metrics.reset()
    expect(metrics.loss.count.value.item()).toBe(M.multi_after_reset.count)
    expect(metrics.loss.total.value.item()).toBe(M.multi_after_reset.total)
  })
})

describe("nnx.metrics as graph nodes", () => {
  it("accumulate inside nnx.jit and propagate out", () => {
    const metrics = new nnx.MultiMetric({ accuracy: new nnx.metrics.Accuracy(), loss: new nnx.metrics.Average("loss") })
    const evalStep = nnx.jit((m: typeof metrics, lg: jnp.Array, lb: jnp.Array) => {
      m.update({ logits: lg, labels: lb, loss: jnp.mean(lg) })
      return jnp.zeros([])
    })
    evalStep.sync(metrics, logits, labels)
    evalStep.sync(metrics, logits, labels)
    expect(evalStep.traceCount).toBe(1)
    expect(metrics.accuracy.count.value.item()).toBe(8)
    expect(metrics.compute().accuracy.item()).toBeCloseTo(0.5, 6)
    expect(nnx.state(metrics, nnx.metrics.MetricState).size).toBe(4)
  })

  it("a per-metric mask record", () => {
    const metrics = new nnx.MultiMetric({ a: new nnx.metrics.Average(), b: new nnx.metrics.Average() })
    metrics.update({ values: jnp.array([1, 3], { dtype: "float32" }), mask: { a: jnp.array([true, false]) } })
    expect(metrics.compute().a.item()).toBe(1)
    expect(metrics.compute().b.item()).toBe(2)
  })
})

describe("nnx.metrics argument errors", () => {
  it("a missing argument names it", () => {
    expect(() => new nnx.metrics.Average("loss").update({ values: 1 })).toThrow(/expected the argument 'loss'/)
  })
  it("a mask with a number", () => {
    expect(() => new nnx.metrics.Average().update({ values: 1, mask: jnp.array(true) })).toThrow(/must be an Array/)
  })
  it("Accuracy checks ranks and the labels' dtype", () => {
    expect(() => new nnx.metrics.Accuracy().update({ logits, labels: labels.reshape(4, 1) })).toThrow(
      /one more dimension/
    )
    expect(() => new nnx.metrics.Accuracy().update({ logits, labels: labels.astype("float32") })).toThrow(
      /labels must be int32/
    )
  })
  it("a MultiMetric refuses names of its own methods", () => {
    expect(() => new nnx.MultiMetric({ update: new nnx.metrics.Average() })).toThrow(/cannot name a metric/)
  })
})
