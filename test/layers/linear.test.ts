/**
 * The dense layers against Flax NNX (test/goldens/layers.json): `Linear`, `LinearGeneral`,
 * `Einsum`, `Embed` and `Sequential` start from Flax's parameters for the same `nnx.Rngs` seed
 * and give Flax's outputs; gradients agree with finite differences; bad inputs are `LayerError`s
 * that name the layer and its path and change nothing.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { grad, jnp, nnx } from "effect-nnx"
import { checkGrad, expectClose, expectState, fromResult, layerCase, leafAt } from "./support.ts"

const golden = (name: string, make: () => nnx.Module & { call: (x: jnp.Array) => jnp.Array }) => {
  const c = layerCase(name)
  it(`${name}: Flax's initial parameters and output`, () => {
    const m = make()
    expectState(m, c.params)
    expectClose(m.call(fromResult(c.inputs[0]!)), c.outputs["call"]!, 2e-6, 2e-5)
  })
}

describe("Linear", () => {
  golden("Linear(3,4)", () => new nnx.Linear(3, 4, { rngs: new nnx.Rngs(0) }))
  golden("Linear(3,4,noBias)", () => new nnx.Linear(3, 4, { useBias: false, rngs: new nnx.Rngs(0) }))
  golden(
    "Linear(3,2,normal,ones)",
    () =>
      new nnx.Linear(3, 2, {
        kernelInit: nnx.initializers.normal(0.5),
        biasInit: nnx.initializers.ones,
        rngs: new nnx.Rngs({ params: 7 })
      })
  )

  it("has Flax's attributes, a null bias without useBias, and draws two keys from the params stream", () => {
    const rngs = new nnx.Rngs({ params: 0 })
    const m = new nnx.Linear(3, 4, { rngs })
    expect(rngs.params.count.value.tolist()).toBe(2)
    expect([m.inFeatures, m.outFeatures, m.useBias, m.dtype, m.paramDtype]).toEqual([3, 4, true, null, "float32"])
    const nb = new nnx.Linear(3, 4, { useBias: false, rngs })
    expect(nb.bias).toBe(null)
    expect(rngs.params.count.value.tolist()).toBe(3)
  })

  it("promotes integer inputs to the kernel's float32, and computes in dtype when given", () => {
    const m = new nnx.Linear(2, 2, { rngs: new nnx.Rngs(0) })
    const y = m.call(jnp.array([[1, 2]]))
    expect(y.dtype).toBe("float32")
    expectClose(y, m.call(jnp.array([[1.0, 2.0]])))
  })

  it("gradients with respect to the input and to the kernel match finite differences", () => {
    const m = new nnx.Linear(3, 2, { rngs: new nnx.Rngs(0) })
    const x = jnp.array([
      [0.5, -1.0, 2.0],
      [1.5, 0.25, -0.75]
    ])
    const f = (x: jnp.Array) => jnp.sum(jnp.tanh(m.call(x)))
    checkGrad(f, x, grad(f)(x))
    const loss = (model: nnx.Linear) => jnp.sum(jnp.tanh(model.call(x)))
    const grads = nnx.grad(loss).sync(m)
    const gk = leafAt(grads, "kernel")
    const k0 = m.kernel.value
    checkGrad(
      (k: jnp.Array) => {
        m.kernel.value = k
        const out = loss(m)
        m.kernel.value = k0
        return out
      },
      k0,
      gk
    )
  })

  it("a wrong feature size is a LayerError naming Linear, and nothing changes", () => {
    const m = new nnx.Linear(3, 4, { rngs: new nnx.Rngs(0) })
    const before = m.kernel.value
    expect(() => m.call(jnp.ones([2, 5]))).toThrow(
      "Linear: expected inputs whose last axis has 3 features, got shape (2, 5)"
    )
    try {
      m.call(jnp.ones([5]))
    } catch (e) {
      expect(e).toBeInstanceOf(nnx.LayerError)
      expect((e as nnx.LayerError)._tag).toBe("LayerError")
      expect((e as nnx.LayerError).layer).toBe("Linear")
    }
    expect(m.kernel.value).toBe(before)
  })
})

describe("LinearGeneral", () => {
  golden(
    "LinearGeneral((2,3),(4,5))",
    () => new nnx.LinearGeneral([2, 3], [4, 5], { axis: [-2, -1], rngs: new nnx.Rngs(0) })
  )
  golden(
    "LinearGeneral(3,4,batch)",
    () => new nnx.LinearGeneral(3, 4, { axis: -1, batchAxis: { 0: 2 }, rngs: new nnx.Rngs(0) })
  )
  golden("LinearGeneral(3,(2,2),axis1)", () => new nnx.LinearGeneral(3, [2, 2], { axis: 1, rngs: new nnx.Rngs(3) }))

  it("mismatched inFeatures and axis, non-leading batch axes and wrong input sizes are LayerErrors", () => {
    const rngs = new nnx.Rngs(0)
    expect(() => new nnx.LinearGeneral([2, 3], 4, { axis: -1, rngs })).toThrow(
      "LinearGeneral: inFeatures and axis must have the same length, got (2, 3) and (-1)"
    )
    expect(() => new nnx.LinearGeneral(3, 4, { batchAxis: { 1: 2 }, rngs })).toThrow(
      "batchAxis keys (1) must be consecutive leading dimensions starting from 0"
    )
    const m = new nnx.LinearGeneral([2, 3], 4, { axis: [-2, -1], rngs })
    expect(() => m.call(jnp.ones([5, 3, 2]))).toThrow(
      "LinearGeneral: expected inputs with axes (-2, -1) of sizes (2, 3), got shape (5, 3, 2)"
    )
  })
})

describe("Einsum", () => {
  golden("Einsum(abc,cde->abde)", () => new nnx.Einsum("abc,cde->abde", [3, 4, 5], [4, 5], { rngs: new nnx.Rngs(0) }))
  golden("Einsum(ab,bc->ac,noBias)", () => new nnx.Einsum("ab,bc->ac", [3, 4], null, { rngs: new nnx.Rngs(1) }))

  it("an implicit equation, three operands, or inputs that do not fit are LayerErrors", () => {
    const rngs = new nnx.Rngs(0)
    expect(() => new nnx.Einsum("ab,bc", [3, 4], null, { rngs })).toThrow(
      "Einsum: the equation 'ab,bc' must be explicit and include '->'"
    )
    expect(() => new nnx.Einsum("ab,bc,cd->ad", [3, 4], null, { rngs })).toThrow(
      "must have exactly two operands (one comma), not 3"
    )
    const m = new nnx.Einsum("ab,bc->ac", [3, 4], null, { rngs })
    expect(() => m.call(jnp.ones([2, 5]))).toThrow("Einsum: inputs of shape (2, 5) do not fit 'ab,bc->ac'")
  })

  it("takes another equation at call time", () => {
    const m = new nnx.Einsum("ab,bc->ac", [3, 3], null, { rngs: new nnx.Rngs(0) })
    expectClose(m.call(jnp.eye(3), "ab,cb->ac"), jnp.transpose(m.kernel.value))
  })
})

describe("Embed", () => {
  const c = layerCase("Embed(10,4)")
  it("Embed(10,4): Flax's table, lookups and attend", () => {
    const m = new nnx.Embed(10, 4, { rngs: new nnx.Rngs(0) })
    expectState(m, c.params)
    expectClose(m.call(fromResult(c.inputs[0]!)), c.outputs["call"]!)
    expectClose(m.attend(fromResult(c.inputs[1]!)), c.outputs["attend"]!, 2e-6, 2e-5)
  })

  it("float ids and queries of the wrong width are LayerErrors", () => {
    const m = new nnx.Embed(10, 4, { rngs: new nnx.Rngs(0) })
    expect(() => m.call(jnp.ones([2]))).toThrow(
      "Embed: inputs must be integer ids (int32 or uint32), got dtype float32"
    )
    expect(() => m.attend(jnp.ones([2, 3]))).toThrow(
      "Embed: attend expects queries whose last axis has 4 features, got shape (2, 3)"
    )
  })

  it("gradients flow to the rows looked up, and to the table through attend", () => {
    const m = new nnx.Embed(5, 3, { rngs: new nnx.Rngs(0) })
    const ids = jnp.array([1, 1, 4])
    const g = leafAt(nnx.grad((m: nnx.Embed) => jnp.sum(m.call(ids))).sync(m), "embedding")
    expect(g.tolist()).toEqual([
      [0, 0, 0],
      [2, 2, 2],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1]
    ])
    const q = jnp.array([[0.5, -1, 2]])
    const e0 = m.embedding.value
    const ga = leafAt(nnx.grad((m: nnx.Embed) => jnp.sum(jnp.tanh(m.attend(q)))).sync(m), "embedding")
    checkGrad((e: jnp.Array) => jnp.sum(jnp.tanh(jnp.dot(q, jnp.transpose(e)))), e0, ga)
  })
})

describe("Sequential", () => {
  const c = layerCase("Sequential")
  it("Sequential(Linear, relu, Linear): Flax's parameters (layers.0.kernel, ...) and output", () => {
    const m = new nnx.Sequential(
      new nnx.Linear(3, 4, { rngs: new nnx.Rngs(0) }),
      nnx.relu,
      new nnx.Linear(4, 2, { rngs: new nnx.Rngs(1) })
    )
    expectState(m, c.params)
    expectClose(m.call(fromResult(c.inputs[0]!)), c.outputs["call"]!, 2e-6, 2e-5)
  })

  it("an empty Sequential returns its argument, and arrays returned spread into the next layer", () => {
    const x = jnp.ones([2])
    expect(new nnx.Sequential().call(x)).toBe(x)
    const s = new nnx.Sequential(
      (a: jnp.Array) => [a, a.mul(2)],
      (a: jnp.Array, b: jnp.Array) => a.add(b)
    )
    expect((s.call(x) as jnp.Array).tolist()).toEqual([3, 3])
  })

  it("a LayerError from inside carries the path of the failing layer", () => {
    const rngs = new nnx.Rngs(0)
    const m = new nnx.Sequential(new nnx.Linear(3, 4, { rngs }), nnx.relu, new nnx.Linear(5, 2, { rngs }))
    expect(() => m.call(jnp.ones([1, 3]))).toThrow(
      "Linear at layers[2]: expected inputs whose last axis has 5 features, got shape (1, 4)"
    )
    try {
      m.call(jnp.ones([1, 3]))
    } catch (e) {
      expect((e as nnx.LayerError).path).toEqual(["layers", 2])
    }
  })
})

describe("LayerError in Effect code and in types", () => {
  it("a layer's bad input inside an nnx.jit Effect fails in the error channel with the LayerError, and nothing changes", () => {
    const m = new nnx.Linear(3, 4, { rngs: new nnx.Rngs(0) })
    const kernel = m.kernel.value
    const apply = nnx.jit((m: nnx.Linear, x: jnp.Array) => m.call(x))
    const error = Effect.runSync(Effect.flip(apply(m, jnp.ones([2, 5]))))
    expect(error._tag).toBe("LayerError")
    expect((error as unknown as nnx.LayerError).message).toBe(
      "Linear: expected inputs whose last axis has 3 features, got shape (2, 5)"
    )
    expect(m.kernel.value).toBe(kernel)
  })

  it("options without rngs, or of the wrong type, do not compile", () => {
    const rngs = new nnx.Rngs(0)
    // @ts-expect-error rngs is required
    expect(() => new nnx.Linear(3, 4, {})).toThrow()
    // @ts-expect-error useBias is a boolean
    void (() => new nnx.Linear(3, 4, { useBias: "yes", rngs }))
    // @ts-expect-error a dtype is a dtype name
    void (() => new nnx.LayerNorm(3, { dtype: "float64", rngs }))
    // @ts-expect-error an initializer takes a key and a shape
    void (() => new nnx.Linear(3, 4, { kernelInit: (n: string) => n, rngs }))
  })
})
