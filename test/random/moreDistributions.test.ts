/**
 * The extra samplers against JAX (tools/goldens/nn_random_extra.py): integer and index results bit for
 * bit, float results within float32 rounding of the final `log`/`log1p`/`sqrt`/`pow` (the uniform bits
 * beneath them are identical); typed errors for bad arguments; and the same samples under `jit` and
 * `vmap` over keys.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, DTypeError, jit, jnp, random, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

type Nested = number | ReadonlyArray<Nested>
interface Sample {
  readonly seed: number
  readonly shape: ReadonlyArray<number> | null
  readonly out: Nested
}
interface Goldens {
  readonly random: {
    readonly gumbel: ReadonlyArray<Sample>
    readonly gumbel_high: ReadonlyArray<Sample>
    readonly exponential: ReadonlyArray<Sample>
    readonly laplace: ReadonlyArray<Sample>
    readonly logistic: ReadonlyArray<Sample>
    readonly pareto: ReadonlyArray<Sample & { b: number | ReadonlyArray<number> }>
    readonly rayleigh: ReadonlyArray<Sample & { scale: number }>
    readonly weibull_min: ReadonlyArray<Sample & { scale: number; concentration: number }>
    readonly rademacher: ReadonlyArray<Sample>
    readonly maxwell: ReadonlyArray<Sample>
    readonly geometric: ReadonlyArray<Sample & { p: number | ReadonlyArray<number> }>
    readonly choice: ReadonlyArray<{
      seed: number
      a: number | ReadonlyArray<ReadonlyArray<number>>
      shape: ReadonlyArray<number>
      replace: boolean
      p: ReadonlyArray<number> | null
      axis: number
      dtype: string
      out: Nested
    }>
  }
}

const G: Goldens = JSON.parse(fs.readFileSync(new URL("../goldens/nn_random_extra.json", import.meta.url), "utf8"))
const R = G.random

const flat = (x: Nested): Array<number> => (typeof x === "number" ? [x] : x.flatMap(flat))
const shapeOf = (x: Nested): Array<number> =>
  typeof x === "number" ? [] : [x.length, ...(x.length > 0 ? shapeOf(x[0]!) : [])]
const valuesOf = (a: JArray): Array<number> => {
  const t = a.tolist()
  return typeof t === "number" ? [t] : ((t as ReadonlyArray<unknown>).flat(Infinity as 1) as Array<number>)
}

/** Within a float32 ulp or two (relative 5e-7 by default), the rounding of one special function. */
const expectClose = (actual: JArray, expected: Nested, label: string, rtol = 5e-7): void => {
  expect(actual.dtype, label).toBe("float32")
  expect(actual.shape, label).toEqual(shapeOf(expected))
  const a = valuesOf(actual)
  flat(expected).forEach((e, i) => {
    const tol = 1e-7 + rtol * Math.abs(e)
    if (!(Math.abs(a[i]! - e) <= tol)) expect.fail(`${label}[${i}]: got ${a[i]}, JAX ${e} (tolerance ${tol})`)
  })
}
const expectExact = (actual: JArray, expected: Nested, label: string): void => {
  expect(actual.shape, label).toEqual(shapeOf(expected))
  expect(valuesOf(actual).map(Math.fround), label).toEqual(flat(expected).map(Math.fround))
}

const k = (seed: number): JArray => random.key(seed)

describe("random samplers beyond the basics match jax.random", () => {
  const floatSamplers: ReadonlyArray<readonly [string, ReadonlyArray<Sample>, (c: never) => JArray]> = [
    ["gumbel", R.gumbel, (c: Sample) => random.gumbel(k(c.seed), c.shape!)],
    ["gumbel (high)", R.gumbel_high, (c: Sample) => random.gumbel(k(c.seed), c.shape!, { mode: "high" })],
    ["exponential", R.exponential, (c: Sample) => random.exponential(k(c.seed), c.shape!)],
    ["laplace", R.laplace, (c: Sample) => random.laplace(k(c.seed), c.shape!)],
    ["logistic", R.logistic, (c: Sample) => random.logistic(k(c.seed), c.shape!)],
    [
      "pareto",
      R.pareto,
      (c: Sample & { b: number | ReadonlyArray<number> }) =>
        random.pareto(
          k(c.seed),
          typeof c.b === "number" ? c.b : jnp.array(c.b, { dtype: "float32" }),
          c.shape ?? undefined
        )
    ],
    ["rayleigh", R.rayleigh, (c: Sample & { scale: number }) => random.rayleigh(k(c.seed), c.scale, c.shape!)],
    [
      "weibullMin",
      R.weibull_min,
      (c: Sample & { scale: number; concentration: number }) =>
        random.weibullMin(k(c.seed), c.scale, c.concentration, c.shape!)
    ]
  ]
  describe.each(floatSamplers)("%s", (name, cases, sample) => {
    it("gives JAX's samples for every key and shape", () => {
      for (const c of cases)
        expectClose(sample(c as never), c.out, `${name} seed ${c.seed} shape ${JSON.stringify(c.shape)}`)
    })
  })

  it("maxwell gives JAX's samples (to the tolerance of normal: erf⁻¹ is an approximation)", () => {
    for (const c of R.maxwell) expectClose(random.maxwell(k(c.seed), c.shape!), c.out, `maxwell seed ${c.seed}`, 2e-6)
  })

  it("geometric gives JAX's counts", () => {
    for (const c of R.geometric) {
      const p = typeof c.p === "number" ? c.p : jnp.array(c.p, { dtype: "float32" })
      const out = random.geometric(k(c.seed), p, c.shape ?? undefined)
      expect(out.dtype).toBe("int32")
      expectExact(out, c.out, `geometric seed ${c.seed} p ${JSON.stringify(c.p)}`)
    }
  })

  it("rademacher gives JAX's signs bit for bit", () => {
    for (const c of R.rademacher) {
      const out = random.rademacher(k(c.seed), c.shape!)
      expect(out.dtype).toBe("int32")
      expectExact(out, c.out, `rademacher seed ${c.seed}`)
    }
  })

  it("choice gives JAX's draws bit for bit: with and without replacement, weighted, along an axis", () => {
    for (const c of R.choice) {
      const a = typeof c.a === "number" ? c.a : jnp.array(c.a, { dtype: "float32" })
      const out = random.choice(k(c.seed), a, c.shape, { replace: c.replace, p: c.p ?? undefined, axis: c.axis })
      const label = `choice ${JSON.stringify({ ...c, out: undefined })}`
      expect(out.dtype, label).toBe(c.dtype)
      expectExact(out, c.out, label)
    }
  })

  it("choice without replacement draws distinct entries", () => {
    const out = valuesOf(random.choice(k(3), 20, [20], { replace: false }))
    expect(new Set(out).size).toBe(20)
    const weighted = valuesOf(random.choice(k(4), 6, [6], { replace: false, p: [0.1, 0.1, 0.2, 0.2, 0.3, 0.1] }))
    expect([...weighted].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5])
  })

  it("gives the same samples under jit and under vmap over keys as eagerly", () => {
    const keys = random.split(k(7), 3)
    for (const f of [
      (key: JArray) => random.gumbel(key, [4]),
      (key: JArray) => random.laplace(key, [4]),
      (key: JArray) => random.choice(key, 10, [3], { replace: false }),
      (key: JArray) => random.choice(key, 5, [4], { p: [0.1, 0.2, 0.3, 0.2, 0.2] })
    ]) {
      const eager = [0, 1, 2].map((i) => valuesOf(f(keys.get(i))))
      expect(valuesOf(jit(f)(keys.get(0)))).toEqual(eager[0])
      expect(valuesOf(vmap(f)(keys))).toEqual(eager.flat())
    }
  })

  it("answers bad arguments with typed errors", () => {
    expect(() => random.choice(k(0), 3, [4], { replace: false })).toThrow(ArgumentError)
    expect(() => random.choice(k(0), 0, [2])).toThrow(ArgumentError)
    expect(() => random.choice(k(0), 4, [2], { p: [0.5, 0.5] })).toThrow(ShapeError)
    expect(() => random.rayleigh(k(0), -1, [2])).toThrow(ArgumentError)
    expect(() => random.weibullMin(k(0), 1, 0, [2])).toThrow(ArgumentError)
    expect(() => random.pareto(k(0), -2, [2])).toThrow(ArgumentError)
    expect(() => random.geometric(k(0), 1.5, [2])).toThrow(ArgumentError)
    expect(() => random.gumbel(k(0), [2], { mode: "highest" as "high" })).toThrow(ArgumentError)
    expect(() => random.exponential(k(0), [2], { dtype: "int32" })).toThrow(DTypeError)
    expect(() => random.laplace(jnp.zeros([2]), [2])).toThrow(DTypeError)
    expect(() => random.pareto(k(0), jnp.ones([3]), [2])).toThrow(ShapeError)
  })

  it("takes zero draws as an empty array of the population's shape", () => {
    expect(random.choice(k(0), jnp.ones([2, 3]), [0], { axis: 1 }).shape).toEqual([2, 0])
    expect(random.choice(k(0), 0, [0]).shape).toEqual([0])
  })
})
