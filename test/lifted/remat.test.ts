/**
 * nnx.remat over Modules: values and gradients equal the plain call's, state updates propagate
 * with identity preserved, a failing f changes nothing; and nnx.evalShape: abstract outputs
 * (ShapeDtypeStructs, Modules holding them) without touching the arguments.
 */
import { describe, expect, it as vit } from "vitest"
import { assert, it } from "@effect/vitest"
import { Data, Effect } from "effect"
import fc from "fast-check"
import { jnp, nnx, random } from "effect-nnx"
import { evalShape } from "../../src/transforms/lifted/evalShape.ts"
import { grad } from "../../src/transforms/lifted/grad.ts"
import { remat } from "../../src/transforms/lifted/remat.ts"

const close = (a: jnp.Array, b: jnp.Array, tol = 1e-5): void => {
  expect(a.shape).toEqual(b.shape)
  expect(jnp.allclose(a, b, { rtol: tol, atol: tol }).item()).toBe(true)
}
const leaf = (s: nnx.State, ...path: ReadonlyArray<string>): jnp.Array => {
  const l = s.at(...path)
  return (l instanceof nnx.Variable ? l.value : l) as jnp.Array
}

class Mlp extends nnx.Module {
  w1: nnx.Param<jnp.Array>
  w2: nnx.Param<jnp.Array>
  steps = new nnx.BatchStat(jnp.array(0, { dtype: "int32" }))
  constructor(rngs: nnx.Rngs) {
    super()
    this.w1 = new nnx.Param(random.normal(rngs.stream("params")(), [3, 4]))
    this.w2 = new nnx.Param(random.normal(rngs.stream("params")(), [4, 2]))
  }
  call(x: jnp.Array): jnp.Array {
    this.steps.value = this.steps.value.add(1)
    return jnp.tanh(jnp.sin(x.matmul(this.w1.value))).matmul(this.w2.value)
  }
}

const x = random.normal(random.key(9), [5, 3])

describe("nnx.remat", () => {
  vit("gradients through remat equal the plain ones; the state update propagates once per call", () => {
    const plain = new Mlp(new nnx.Rngs(0))
    const checkpointed = new Mlp(new nnx.Rngs(0))
    const block = remat((m: Mlp, v: jnp.Array) => m.call(v))
    const gPlain = grad((m: Mlp) => jnp.sum(m.call(x).pow(2))).sync(plain)
    const gRemat = grad((m: Mlp) => jnp.sum(block.sync(m, x).pow(2))).sync(checkpointed)
    close(leaf(gRemat, "w1"), leaf(gPlain, "w1"))
    close(leaf(gRemat, "w2"), leaf(gPlain, "w2"))
    expect(checkpointed.steps.value.tolist()).toBe(1)
  })

  vit("outside grad: the value equals the plain call, updates propagate and identity is kept", () => {
    const m = new Mlp(new nnx.Rngs(1))
    const w1 = m.w1
    const out = remat((n: Mlp, v: jnp.Array) => n.call(v)).sync(m, x)
    expect(m.steps.value.tolist()).toBe(1)
    expect(m.w1).toBe(w1)
    m.steps.value = jnp.array(0, { dtype: "int32" })
    close(out, m.call(x))
  })

  vit("property: for random inputs, grad of remat(f) equals grad of f", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), (seed) => {
        const a = new Mlp(new nnx.Rngs(seed))
        const b = new Mlp(new nnx.Rngs(seed))
        const v = random.normal(random.key(seed + 1), [2, 3])
        const ga = grad((m: Mlp, u: jnp.Array) => jnp.mean(m.call(u)), { argnums: [0, 1] }).sync(a, v)
        const gb = grad((m: Mlp, u: jnp.Array) => jnp.mean(remat((n: Mlp, w: jnp.Array) => n.call(w)).sync(m, u)), {
          argnums: [0, 1]
        }).sync(b, v)
        close(leaf(gb[0], "w1"), leaf(ga[0], "w1"), 1e-4)
        close(gb[1], ga[1], 1e-4)
      }),
      { numRuns: 8 }
    )
  })

  vit("Rngs (key and count state) pass through the checkpointed program and advance outside", () => {
    const rngs = new nnx.Rngs({ dropout: 5 })
    const noise = remat((r: nnx.Rngs<"dropout">) => random.normal(r.dropout(), [3])).sync(rngs)
    close(noise, random.normal(random.foldIn(random.key(5), 0), [3]))
    expect(rngs.dropout.count.value.tolist()).toBe(1)
  })

  it.effect("a failing f leaves the module as it was", () =>
    Effect.gen(function* () {
      class Oops extends Data.TaggedError("Oops")<{}> {}
      const m = new Mlp(new nnx.Rngs(2))
      const e = yield* Effect.flip(
        remat((n: Mlp) => {
          n.call(x)
          return Effect.fail(new Oops())
        })(m)
      )
      assert.instanceOf(e, Oops)
      assert.strictEqual(m.steps.value.tolist(), 0)
    })
  )
})

class Linear extends nnx.Module {
  kernel: nnx.Param<jnp.Array>
  bias: nnx.Param<jnp.Array>
  constructor(din: number, dout: number, rngs: nnx.Rngs) {
    super()
    this.kernel = new nnx.Param(random.normal(rngs.stream("params")(), [din, dout]))
    this.bias = new nnx.Param(jnp.zeros([dout]))
  }
}

describe("nnx.evalShape", () => {
  vit("an initializer gives an abstract Module whose Variables hold ShapeDtypeStructs; the Rngs are untouched", () => {
    const rngs = new nnx.Rngs(0)
    const abstract = evalShape.sync((r: nnx.Rngs) => new Linear(2, 3, r), rngs)
    expect(abstract).toBeInstanceOf(Linear)
    expect(abstract.kernel).toBeInstanceOf(nnx.Param)
    expect(abstract.kernel.value).toEqual({ shape: [2, 3], dtype: "float32" })
    expect(abstract.bias.value).toEqual({ shape: [3], dtype: "float32" })
    expect(rngs.default.count.value.tolist()).toBe(0)
  })

  vit("Array outputs become { shape, dtype }; the arguments keep their values", () => {
    const m = new Mlp(new nnx.Rngs(3))
    const out = evalShape.sync((n: Mlp, v: jnp.Array) => ({ y: n.call(v), n: 3, s: jnp.sum(v).astype("int32") }), m, x)
    expect(out).toEqual({ y: { shape: [5, 2], dtype: "float32" }, n: 3, s: { shape: [], dtype: "int32" } })
    expect(m.steps.value.tolist()).toBe(0)
  })

  it.effect("the Effect form returns the same", () =>
    Effect.gen(function* () {
      const out = yield* evalShape((v: jnp.Array) => v.matmul(v.T), x)
      assert.deepStrictEqual(out, { shape: [5, 5], dtype: "float32" })
    })
  )
})
