/**
 * optax's answers (test/goldens/optax.json): every optimizer over several steps from the same
 * parameters and gradients (schedules and chains included), on records and on nnx States; every
 * schedule at several steps; every loss's values and gradients.
 */
import { describe, expect, it } from "vitest"
import { grad, jnp, nnx, optax } from "effect-nnx"
import { expectClose, fromResult, goldens } from "./support.ts"

const warmupCosine = optax.warmupCosineDecaySchedule({
  initValue: 0,
  peakValue: 0.1,
  warmupSteps: 2,
  decaySteps: 6,
  endValue: 0.01
})
const maskW = { b: false, w: true }

/** The TypeScript spelling of each case of tools/goldens/optax_goldens.py. */
const optimizers: Record<string, () => optax.GradientTransformation<any>> = {
  sgd: () => optax.sgd(0.1),
  sgd_momentum: () => optax.sgd(0.1, { momentum: 0.9 }),
  sgd_nesterov: () => optax.sgd(0.1, { momentum: 0.9, nesterov: true }),
  sgd_warmup_cosine: () => optax.sgd(warmupCosine),
  adam: () => optax.adam(0.01),
  adam_nesterov: () => optax.adam(0.01, { nesterov: true }),
  adam_eps_root: () => optax.adam(0.01, { b1: 0.8, b2: 0.99, eps: 1e-6, epsRoot: 1e-4 }),
  adam_exponential_decay: () =>
    optax.adam(optax.exponentialDecay({ initValue: 0.05, transitionSteps: 2, decayRate: 0.5 })),
  adamw: () => optax.adamw(0.01, { weightDecay: 0.1 }),
  adamw_mask: () => optax.adamw(0.01, { weightDecay: 0.1, mask: maskW }),
  adamw_schedule_decay: () =>
    optax.adamw(0.01, { weightDecay: optax.linearSchedule({ initValue: 0.1, endValue: 0, transitionSteps: 4 }) }),
  rmsprop: () => optax.rmsprop(0.01),
  rmsprop_centered_momentum: () => optax.rmsprop(0.01, { decay: 0.8, centered: true, momentum: 0.5 }),
  rmsprop_eps_outside: () => optax.rmsprop(0.01, { eps: 1e-3, epsInSqrt: false, initialScale: 0.1 }),
  adagrad: () => optax.adagrad(0.1),
  lion: () => optax.lion(0.001),
  lion_smooth: () => optax.chain(optax.scaleByLion({ mode: "smooth", smoothBeta: 2 }), optax.scaleByLearningRate(0.01)),
  lamb: () => optax.lamb(0.01, { weightDecay: 0.01 }),
  adabelief: () => optax.adabelief(0.01),
  chain_clip_adam: () => optax.chain(optax.clipByGlobalNorm(1), optax.adam(0.01)),
  chain_clip_sgd: () => optax.chain(optax.clip(0.5), optax.sgd(0.1, { momentum: 0.5 })),
  piecewise_sgd: () => optax.sgd(optax.piecewiseConstantSchedule(0.1, { 2: 0.5, 4: 0.1 })),
  masked_scale: () => optax.chain(optax.masked(optax.scale(0.5), maskW), optax.sgd(1))
}

const G = goldens.optimizers
const record = (leaves: ReadonlyArray<jnp.Array>) => ({ b: leaves[0]!, w: leaves[1]! })
const asState = (leaves: ReadonlyArray<jnp.Array>) =>
  nnx.State.fromFlat([
    [["b"], new nnx.Param(leaves[0]!)],
    [["w"], new nnx.Param(leaves[1]!)]
  ] as const)
const leavesOfRecord = (t: { readonly b: jnp.Array; readonly w: jnp.Array }) => [t.b, t.w]
const leavesOfState = (s: nnx.State) => ["b", "w"].map((k) => (s.at(k) as nnx.Param<jnp.Array>).value)

// The arithmetic is optax's operation for operation, so results agree with XLA's to an ulp or two
// (pow and summation order may round differently), over five steps.
const TOL = { rtol: 2e-6, atol: 2e-7 }

describe("optax optimizers against optax", () => {
  it("every golden case has a TypeScript spelling", () => {
    expect(Object.keys(optimizers).sort()).toEqual(Object.keys(G.cases).sort())
  })

  for (const [name, make] of Object.entries(optimizers)) {
    it(`${name}: updates and parameters over ${G.grads.length} steps, on records`, () => {
      const tx = make()
      let params = record(G.params.map(fromResult))
      let state = tx.init(params)
      G.cases[name]!.forEach((want, step) => {
        const grads = record(G.grads[step]!.map(fromResult))
        const [updates, next] = tx.update(grads, state, params)
        state = next
        params = optax.applyUpdates(params, updates)
        leavesOfRecord(updates).forEach((u, i) =>
          expectClose(u, want.updates[i]!, `${name} step ${step} updates[${i}]`, TOL)
        )
        leavesOfRecord(params).forEach((p, i) =>
          expectClose(p, want.params[i]!, `${name} step ${step} params[${i}]`, TOL)
        )
      })
    })
  }

  for (const name of ["adam", "adamw_mask", "lamb", "chain_clip_adam", "sgd_warmup_cosine"]) {
    it(`${name}: the same on an nnx.State of Params, which the updates keep`, () => {
      const tx = optimizers[name]!()
      let params = asState(G.params.map(fromResult))
      let state = tx.init(params)
      G.cases[name]!.forEach((want, step) => {
        const [updates, next] = tx.update(asState(G.grads[step]!.map(fromResult)), state, params)
        state = next
        params = optax.applyUpdates(params, updates)
        expect(nnx.isState(updates)).toBe(true)
        expect((params.at("w") as nnx.Variable<unknown>).kind).toBe("Param")
        leavesOfState(params).forEach((p, i) =>
          expectClose(p, want.params[i]!, `${name} step ${step} params[${i}]`, TOL)
        )
      })
    })
  }
})

describe("optax schedules against optax", () => {
  const S = goldens.schedules
  const schedules: Record<string, optax.Schedule> = {
    constant: optax.constantSchedule(0.3),
    linear: optax.linearSchedule({ initValue: 1, endValue: 0.1, transitionSteps: 10 }),
    linear_begin: optax.linearSchedule({ initValue: 0.5, endValue: 1.5, transitionSteps: 4, transitionBegin: 3 }),
    polynomial: optax.polynomialSchedule({ initValue: 1, endValue: 0, power: 2, transitionSteps: 10 }),
    cosine: optax.cosineDecaySchedule({ initValue: 0.5, decaySteps: 10 }),
    cosine_alpha: optax.cosineDecaySchedule({ initValue: 0.5, decaySteps: 10, alpha: 0.1, exponent: 2 }),
    warmup_cosine: optax.warmupCosineDecaySchedule({
      initValue: 0,
      peakValue: 1,
      warmupSteps: 3,
      decaySteps: 20,
      endValue: 0.05
    }),
    exponential: optax.exponentialDecay({ initValue: 1, transitionSteps: 4, decayRate: 0.5 }),
    exponential_staircase: optax.exponentialDecay({
      initValue: 1,
      transitionSteps: 4,
      decayRate: 0.5,
      transitionBegin: 2,
      staircase: true
    }),
    exponential_end: optax.exponentialDecay({ initValue: 1, transitionSteps: 2, decayRate: 0.5, endValue: 0.2 }),
    exponential_growth: optax.exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 2, endValue: 1 }),
    piecewise: optax.piecewiseConstantSchedule(0.1, { 3: 0.5, 10: 0.2 }),
    join: optax.joinSchedules(
      [optax.constantSchedule(1), optax.linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 5 })],
      [3]
    )
  }

  it("every golden schedule has a TypeScript spelling", () => {
    expect(Object.keys(schedules).sort()).toEqual(Object.keys(S.cases).sort())
  })

  for (const [name, schedule] of Object.entries(schedules)) {
    it(`${name} at steps ${S.steps.join(", ")}`, () => {
      S.steps.forEach((t, i) => {
        const value = jnp.astype(schedule(jnp.array(t, { dtype: "int32" })), "float32")
        expectClose(value, S.cases[name]![i]!, `${name}(${t})`, { rtol: 1e-6, atol: 1e-7 })
      })
    })
  }

  it("a schedule also takes a JavaScript step", () => {
    expect(optax.linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 4 })(2).item()).toBeCloseTo(0.5, 6)
  })
})

describe("optax losses against optax", () => {
  const L = goldens.losses
  const losses: Record<string, (a: jnp.Array, b: jnp.Array) => jnp.Array> = {
    softmax_cross_entropy: optax.softmaxCrossEntropy,
    softmax_cross_entropy_with_integer_labels: optax.softmaxCrossEntropyWithIntegerLabels,
    sigmoid_binary_cross_entropy: optax.sigmoidBinaryCrossEntropy,
    l2_loss: optax.l2Loss,
    squared_error: optax.squaredError,
    huber_loss: (p, t) => optax.huberLoss(p, t, { delta: 1 }),
    huber_loss_delta: (p, t) => optax.huberLoss(p, t, { delta: 0.5 }),
    cosine_similarity: optax.cosineSimilarity,
    cosine_distance: (p, t) => optax.losses.cosineDistance(p, t, { epsilon: 1e-3 })
  }

  it("every golden loss has a TypeScript spelling", () => {
    expect(Object.keys(losses).sort()).toEqual(Object.keys(L).sort())
  })

  for (const [name, loss] of Object.entries(losses)) {
    it(`${name}: values, and the gradient of their sum`, () => {
      const [a, b] = L[name]!.args.map(fromResult) as [jnp.Array, jnp.Array]
      expectClose(loss(a, b), L[name]!.value, `${name} value`)
      const g = grad((x: jnp.Array) => jnp.sum(loss(x, b)))(a)
      expectClose(g as jnp.Array, L[name]!.grad, `${name} grad`)
    })
  }
})
