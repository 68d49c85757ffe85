/**
 * Laws of the gradient transformations (fast-check over random trees of float32 Arrays), the
 * transformations under `jit`, and the typed errors of mismatched trees and bad arguments.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { jit, jnp, nnx, optax } from "effect-nnx"

/** A record tree `{ a: [n], b: [m, k] }` with values in [-10, 10]. */
const treeArb = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
  .chain(([n, m, k]) =>
    fc
      .tuple(
        fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }),
        fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), {
          minLength: m * k,
          maxLength: m * k
        })
      )
      .map(([a, b]) => ({ a: jnp.array(a, { dtype: "float32" }), b: jnp.array(b, { dtype: "float32" }).reshape(m, k) }))
  )

type Tree = { readonly a: jnp.Array; readonly b: jnp.Array }
const data = (t: Tree) => [t.a.tolist(), t.b.tolist()]
const run = (tx: optax.GradientTransformation<any>, params: Tree, grads: ReadonlyArray<Tree>) => {
  let state = tx.init(params)
  let p = params
  const out: Array<unknown> = []
  for (const g of grads) {
    const [u, s] = tx.update(g, state, p)
    state = s
    p = optax.applyUpdates(p, u)
    out.push(data(u))
  }
  return out
}

describe("laws", () => {
  test.prop([treeArb], { numRuns: 20 })("chain(identity) and identity change nothing", (g) => {
    for (const tx of [optax.identity(), optax.chain(optax.identity()), optax.chain()] as ReadonlyArray<
      optax.GradientTransformation<any>
    >) {
      const [u] = tx.update(g, tx.init(g), g)
      expect(data(u)).toEqual(data(g))
    }
  })

  test.prop([treeArb, treeArb], { numRuns: 10 })("chain(identity, tx, identity) is tx", (p, g) => {
    fc.pre(p.a.shape[0] === g.a.shape[0] && p.b.shape.join() === g.b.shape.join())
    const a = run(optax.adam(0.01), p, [g, g])
    const b = run(optax.chain(optax.identity(), optax.adam(0.01), optax.identity()), p, [g, g])
    expect(b).toEqual(a)
  })

  test.prop([treeArb, fc.float({ min: Math.fround(0.1), max: 20, noNaN: true })], { numRuns: 25 })(
    "clipByGlobalNorm bounds the global norm, and leaves smaller updates as they are",
    (g, maxNorm) => {
      const tx = optax.clipByGlobalNorm(maxNorm)
      const [u] = tx.update(g, tx.init(g))
      const before = optax.globalNorm(g).item() as number
      const after = optax.globalNorm(u).item() as number
      expect(after).toBeLessThanOrEqual(maxNorm * (1 + 1e-5))
      if (before < maxNorm) expect(data(u)).toEqual(data(g))
      else expect(after).toBeCloseTo(maxNorm, 3)
    }
  )

  test.prop([treeArb, fc.float({ min: Math.fround(0.01), max: 5, noNaN: true })], { numRuns: 20 })(
    "clip bounds every element",
    (g, delta) => {
      const [u] = optax.clip(delta).update(g, {})
      for (const x of [u.a, u.b]) expect(jnp.all(jnp.abs(x).le(Math.fround(delta))).item()).toBe(true)
    }
  )

  test.prop([treeArb], { numRuns: 10 })("sgd(lr) moves parameters by -lr · grad", (g) => {
    const [u] = optax.sgd(0.5).update(g, optax.sgd(0.5).init(g))
    expect(jnp.allclose(u.b, g.b.mul(-0.5)).item()).toBe(true)
  })

  it("a jitted update equals the eager one (states are pytrees)", () => {
    const tx: optax.GradientTransformation<any> = optax.chain(
      optax.clipByGlobalNorm(1),
      optax.adamw(optax.cosineDecaySchedule({ initValue: 0.1, decaySteps: 4 }), { weightDecay: 0.1 })
    )
    const params = { a: jnp.array([1, -2, 3], { dtype: "float32" }), b: jnp.ones([2, 2]) }
    const grads = { a: jnp.array([0.5, 0.5, -3], { dtype: "float32" }), b: jnp.full([2, 2], 0.25) }
    const step = jit((p: Tree, s: unknown, g: Tree) => {
      const [u, next] = tx.update(g, s, p)
      return [optax.applyUpdates(p, u), next] as const
    })
    let pe: Tree = params
    let se = tx.init(params)
    let pj: Tree = params
    let sj = tx.init(params)
    for (let i = 0; i < 3; i++) {
      const [u, s] = tx.update(grads, se, pe)
      pe = optax.applyUpdates(pe, u)
      se = s
      ;[pj, sj] = step(pj, sj, grads) as unknown as [Tree, unknown]
    }
    expect(jnp.allclose(pj.a, pe.a, { atol: 1e-6 }).item()).toBe(true)
    expect(jnp.allclose(pj.b, pe.b, { atol: 1e-6 }).item()).toBe(true)
  })

  it("step counts saturate at the int32 maximum", () => {
    expect(optax.safeIncrement(jnp.array(2147483647, { dtype: "int32" })).item()).toBe(2147483647)
    expect(optax.safeIncrement(jnp.array(5, { dtype: "int32" })).item()).toBe(6)
  })

  it("the warmup-cosine schedule peaks at the end of the warmup and ends at endValue", () => {
    const s = optax.warmupCosineDecaySchedule({
      initValue: 0,
      peakValue: 1,
      warmupSteps: 10,
      decaySteps: 100,
      endValue: 0.1
    })
    expect(s(10).item()).toBeCloseTo(1, 6)
    expect(s(100).item()).toBeCloseTo(0.1, 6)
    expect(s(1000).item()).toBeCloseTo(0.1, 6)
  })
})

describe("errors", () => {
  const p = { a: jnp.ones([3]), b: jnp.ones([2, 2]) }

  it("applyUpdates with a missing leaf names it", () => {
    expect(() => optax.applyUpdates(p, { a: jnp.ones([3]) })).toThrow(
      /optax\.applyUpdates: no leaf at b in the updates \(the parameters have one\)/
    )
  })

  it("applyUpdates with a wrong shape names the leaf", () => {
    expect(() => optax.applyUpdates(p, { a: jnp.ones([3]), b: jnp.ones([3]) })).toThrow(
      /shape \[3\] at b in the updates, where the parameters have \[2, 2\]/
    )
  })

  it("States name the State path", () => {
    const s = nnx.State.fromFlat([[["layers", 0, "w"], new nnx.Param(jnp.ones([2]))]] as const)
    const t = nnx.State.fromFlat([[["layers", 1, "w"], new nnx.Param(jnp.ones([2]))]] as const)
    expect(() => optax.applyUpdates(s, t)).toThrow(/no leaf at layers\[0\]\.w in the updates/)
  })

  it("a state from another transformation", () => {
    const tx = optax.chain(optax.identity(), optax.adam(1))
    expect(() => tx.update(p, [{}], p)).toThrow(/optax\.chain: the state has 1 entries for 2 transformations/)
  })

  it("moments of another structure", () => {
    const tx = optax.adam(0.1)
    const state = tx.init({ a: jnp.ones([3]) })
    expect(() => tx.update(p, state, p)).toThrow(
      /optax\.scaleByAdam: a leaf at b in the updates with no counterpart in the state|optax\.scaleByAdam: no leaf at b in the state/
    )
  })

  it("moments of another shape, on States, name the State path", () => {
    const at = (n: number) => nnx.State.fromFlat([[["layers", 0, "w"], new nnx.Param(jnp.ones([n]))]] as const)
    const tx = optax.adam(0.1)
    expect(() => tx.update(at(3), tx.init(at(2)), at(3))).toThrow(
      "optax.scaleByAdam: shape [2] at layers[0].w in the state, where the updates have [3]"
    )
  })

  it("weight decay without the parameters", () => {
    const tx = optax.adamw(0.1)
    expect(() => tx.update(p, tx.init(p))).toThrow(/reads the parameters: pass them/)
  })

  it("a mask of the wrong size", () => {
    const tx = optax.adamw(0.1, { mask: { a: true } })
    expect(() => tx.init(p)).toThrow(/the mask has 1 leaves for 2 parameters/)
  })

  it("bad schedule arguments", () => {
    expect(() => optax.cosineDecaySchedule({ initValue: 1, decaySteps: 0 })).toThrow(/decaySteps must be positive/)
    expect(() => optax.piecewiseConstantSchedule(1, { 3: -1 })).toThrow(/non-negative/)
  })

  it("losses check dtypes and shapes", () => {
    expect(() => optax.squaredError(jnp.ones([3]), jnp.ones([2]))).toThrow(/same shape/)
    expect(() => optax.softmaxCrossEntropyWithIntegerLabels(jnp.ones([2, 3]), jnp.ones([2]))).toThrow(
      /integer class labels/
    )
    expect(() => optax.softmaxCrossEntropy(jnp.array([[1, 2]], { dtype: "int32" }), jnp.ones([1, 2]))).toThrow(
      /floating-point/
    )
  })
})
