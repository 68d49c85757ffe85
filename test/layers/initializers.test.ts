/**
 * `nnx.initializers` against `jax.nn.initializers` (test/goldens/layers.json): the same values for
 * the same key — bit for bit where JAX's arithmetic is replayed, within float32 rounding for
 * `orthogonal` (whose QR is computed here by Householder reflections) — plus the errors and the
 * transforms an initializer runs under.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx, random, vmap, jit } from "effect-nnx"
import { expectClose, goldens } from "./support.ts"

const I = nnx.initializers
const byName: Record<string, nnx.Initializer> = {
  zeros: I.zeros,
  ones: I.ones,
  "constant(-7)": I.constant(-7),
  "uniform()": I.uniform(),
  "uniform(2)": I.uniform(2),
  "normal()": I.normal(),
  "normal(0.5)": I.normal(0.5),
  "truncatedNormal(0.3)": I.truncatedNormal(0.3),
  "truncatedNormal(1,-1,0.5)": I.truncatedNormal(1, { lower: -1, upper: 0.5 }),
  "varianceScaling(2,fan_in,normal)": I.varianceScaling(2, "fan_in", "normal"),
  "varianceScaling(0.5,fan_out,uniform)": I.varianceScaling(0.5, "fan_out", "uniform"),
  "varianceScaling(1,fan_avg,truncated_normal)": I.varianceScaling(1, "fan_avg", "truncated_normal"),
  "varianceScaling(1,fan_geo_avg,normal)": I.varianceScaling(1, "fan_geo_avg", "normal"),
  "varianceScaling(1,fan_in,normal,axes)": I.varianceScaling(1, "fan_in", "normal", {
    inAxis: [1, 2],
    outAxis: 0,
    batchAxis: 3
  }),
  "varianceScaling(1,fan_in,normal,outAxis0)": I.varianceScaling(1, "fan_in", "normal", { outAxis: 0 }),
  "varianceScaling(1,fan_in,normal,1d)": I.varianceScaling(1, "fan_in", "normal", { inAxis: 0 }),
  "orthogonal()": I.orthogonal(),
  "orthogonal(tall)": I.orthogonal(),
  "orthogonal(2,3d)": I.orthogonal(2),
  "orthogonal(columnAxis0)": I.orthogonal(1, { columnAxis: 0 }),
  "deltaOrthogonal()": I.deltaOrthogonal(),
  "glorotUniform()": I.glorotUniform(),
  "glorotUniform(conv)": I.xavierUniform(),
  "glorotNormal()": I.glorotNormal(),
  "glorotNormal(conv)": I.xavierNormal(),
  "lecunUniform()": I.lecunUniform(),
  "lecunUniform(conv)": I.lecunUniform(),
  "lecunNormal()": I.lecunNormal(),
  "lecunNormal(conv)": I.lecunNormal(),
  "heUniform()": I.heUniform(),
  "heUniform(conv)": I.kaimingUniform(),
  "heNormal()": I.heNormal(),
  "heNormal(conv)": I.kaimingNormal()
}

const key = random.key(42)

describe("initializers against jax.nn.initializers", () => {
  it("every golden case has an initializer here", () => {
    expect(goldens.initializers.map((c) => c.name).filter((n) => !(n in byName))).toEqual([])
  })

  for (const c of goldens.initializers) {
    const orthogonal = c.name.includes("rthogonal")
    // erf⁻¹ (normal, truncated normal) may differ from XLA's by a few ulp; uniform draws are bit-identical.
    const normalBased = /ormal/.test(c.name) || (c.name.startsWith("varianceScaling") && !c.name.includes("uniform"))
    const how = orthogonal ? "is float32-close to" : normalBased ? "is within a few ulp of" : "equals"
    it(`${c.name} on shape (${c.shape.join(", ")}) ${how} JAX's`, () => {
      const got = byName[c.name]!(key, c.shape)
      expect(got.dtype).toBe("float32")
      if (orthogonal) expectClose(got, c.value, 2e-6, 1e-5)
      else if (normalBased) expectClose(got, c.value, 1e-8, 5e-6)
      else expectClose(got, c.value, 0, 0)
    })
  }
})

describe("initializer properties", () => {
  it("orthogonal rows are orthonormal for a wide matrix and columns for a tall one", () => {
    const wide = I.orthogonal()(random.key(3), [4, 9])
    expectClose(wide.matmul(jnp.transpose(wide)), jnp.eye(4), 1e-5)
    const tall = I.orthogonal()(random.key(3), [9, 4])
    expectClose(jnp.transpose(tall).matmul(tall), jnp.eye(4), 1e-5)
  })

  it("an initializer runs under vmap over keys and under jit, giving what it gives per key", () => {
    const keys = random.split(random.key(0), 3)
    for (const init of [I.lecunNormal(), I.orthogonal()]) {
      const stacked = vmap((k: jnp.Array) => init(k, [3, 3]))(keys)
      expect(stacked.shape).toEqual([3, 3, 3])
      for (let i = 0; i < 3; i++) expectClose(stacked.get(i), init(keys.get(i), [3, 3]), 1e-6)
      const jitted = jit((k: jnp.Array) => init(k, [3, 3]))
      expectClose(jitted(keys.get(1)), init(keys.get(1), [3, 3]), 1e-6)
    }
  })

  it("zeros and constant take the dtype they are given", () => {
    expect(I.zeros(key, [2], "int32").dtype).toBe("int32")
    expect(I.constant(3, "int32")(key, 2).tolist()).toEqual([3, 3])
    expect(I.zerosInit()).toBe(I.zeros)
    expect(I.onesInit()(key, [1]).tolist()).toEqual([1])
  })
})

describe("initializer errors", () => {
  it("fans of a 1-dimensional weight with the default inAxis are a ShapeError saying to pass inAxis", () => {
    expect(() => I.lecunNormal()(key, [5])).toThrow(
      "initializers.varianceScaling: cannot compute the fans of a 1-dimensional weight with the default inAxis; it must be at least 2-dimensional, or pass inAxis (shapes (5,))"
    )
  })

  it("an out-of-range fan axis is a ShapeError", () => {
    expect(() => I.varianceScaling(1, "fan_in", "normal", { inAxis: 4 })(key, [2, 3])).toThrow(
      "axis 4 is out of range for a 2-dimensional weight"
    )
  })

  it("a bad mode or distribution is an ArgumentError naming the choices", () => {
    expect(() => I.varianceScaling(1, "fan_x" as never, "normal")).toThrow(
      'invalid mode "fan_x": expected fan_in, fan_out, fan_avg or fan_geo_avg'
    )
    expect(() => I.varianceScaling(1, "fan_in", "cauchy" as never)).toThrow('invalid distribution "cauchy"')
  })

  it("orthogonal of a vector and deltaOrthogonal of a matrix or a narrowing kernel are ShapeErrors", () => {
    expect(() => I.orthogonal()(key, [4])).toThrow("the orthogonal initializer needs at least a 2-dimensional shape")
    expect(() => I.deltaOrthogonal()(key, [4, 4])).toThrow("needs a 3, 4 or 5-dimensional shape")
    expect(() => I.deltaOrthogonal()(key, [3, 4, 2])).toThrow(
      "fan_in (the second-to-last dimension) must be at most fan_out"
    )
  })

  it("an initializer asked for PRNG keys is an ArgumentError", () => {
    expect(() => I.zeros(key, [2], "key<fry>")).toThrow("an initializer cannot make PRNG keys")
  })
})
