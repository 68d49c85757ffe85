/**
 * The gamma family, Poisson, binomial, multivariate normal and orthogonal samplers against JAX
 * (tools/goldens/linalg_random.py). The same key drives the same rejection tries as JAX's, so samples
 * agree to float32 rounding of the final `log`/`pow`/`sqrt` (Poisson's and binomial's counts exactly); also the same
 * samples under `jit` and `vmap` over keys, distribution checks on larger draws, and typed errors.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, DTypeError, jit, jnp, random, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

interface G {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly data: ReadonlyArray<number | null>
}
type Case<T> = T & { readonly seed: number; readonly shape: ReadonlyArray<number> | null; readonly out: G }
interface Goldens {
  readonly random: {
    readonly gamma: ReadonlyArray<Case<{ a: number }>>
    readonly gamma_array: ReadonlyArray<Case<{ a: ReadonlyArray<number> }>>
    readonly loggamma: ReadonlyArray<Case<{ a: number }>>
    readonly beta: ReadonlyArray<Case<{ a: number; b: number }>>
    readonly dirichlet: ReadonlyArray<Case<{ alpha: ReadonlyArray<number> }>>
    readonly chisquare: ReadonlyArray<Case<{ df: number }>>
    readonly t: ReadonlyArray<Case<{ df: number }>>
    readonly poisson: ReadonlyArray<Case<{ lam: number }>>
    readonly binomial: ReadonlyArray<Case<{ n: number; p: number }>>
    readonly multivariate_normal: ReadonlyArray<Case<{ mean: G; cov: G; method: "cholesky" | "eigh" | "svd" }>>
    readonly orthogonal: ReadonlyArray<Case<{ n: number }>>
  }
}

const R = (JSON.parse(fs.readFileSync(new URL("../goldens/linalg_random.json", import.meta.url), "utf8")) as Goldens)
  .random
const k = (seed: number): JArray => random.key(seed)
const arr = (g: G): JArray => jnp.array(g.data as Array<number>, { dtype: "float32" }).reshape([...g.shape])
const flat = (a: JArray): Array<number> => Array.from(a.reshape([-1]).tolist() as Array<number>)
const shapeOpt = (s: ReadonlyArray<number> | null): ReadonlyArray<number> | undefined => s ?? undefined

const expectClose = (actual: JArray, expected: G, label: string, rtol = 2e-6, atol = 1e-6): void => {
  expect(actual.shape, label).toEqual([...expected.shape])
  expect(actual.dtype, label).toBe(expected.dtype)
  const a = flat(actual)
  expected.data.forEach((e, i) => {
    const tol = atol + rtol * Math.abs(e!)
    if (!(Math.abs(a[i]! - e!) <= tol))
      expect.fail(`${label}[${i}]: got ${a[i]}, JAX ${e} (tolerance ${tol}; all ${a})`)
  })
}

describe("gamma-family samplers match jax.random", () => {
  it.each(R.gamma)("gamma(key($seed), $a, $shape)", (c) =>
    expectClose(random.gamma(k(c.seed), c.a, c.shape!), c.out, "gamma")
  )
  it.each(R.gamma_array)("gamma with an array of shape parameters", (c) =>
    expectClose(random.gamma(k(c.seed), jnp.array(c.a as Array<number>, { dtype: "float32" })), c.out, "gamma")
  )
  // Log-space samples near 0 have a larger relative rounding error.
  it.each(R.loggamma)("loggamma(key($seed), $a, $shape)", (c) =>
    expectClose(random.loggamma(k(c.seed), c.a, c.shape!), c.out, "loggamma", 2e-6, 1e-6)
  )
  it.each(R.beta)("beta(key($seed), $a, $b, $shape)", (c) =>
    expectClose(random.beta(k(c.seed), c.a, c.b, c.shape!), c.out, "beta", 1e-5, 1e-6)
  )
  it.each(R.dirichlet)("dirichlet(key($seed), $alpha, $shape)", (c) =>
    expectClose(
      random.dirichlet(k(c.seed), jnp.array(c.alpha as Array<number>, { dtype: "float32" }), shapeOpt(c.shape)),
      c.out,
      "dirichlet",
      1e-5,
      1e-6
    )
  )
  it.each(R.chisquare)("chisquare(key($seed), $df, $shape)", (c) =>
    expectClose(random.chisquare(k(c.seed), c.df, c.shape!), c.out, "chisquare", 1e-5)
  )
  it.each(R.t)("t(key($seed), $df, $shape)", (c) => expectClose(random.t(k(c.seed), c.df, c.shape!), c.out, "t", 1e-5))
  it.each(R.poisson)("poisson(key($seed), $lam, $shape) exactly", (c) => {
    const x = random.poisson(k(c.seed), c.lam, c.shape!)
    expect(x.dtype).toBe("int32")
    expect(flat(x)).toEqual(c.out.data)
  })
  it.each(R.binomial)("binomial(key($seed), $n, $p, $shape) exactly", (c) => {
    const x = random.binomial(k(c.seed), c.n, c.p, c.shape!)
    expect(x.dtype).toBe("float32")
    expect(flat(x)).toEqual(c.out.data)
  })
  it.each(R.multivariate_normal)("multivariateNormal(key($seed), shape $shape, $method)", (c) =>
    expectClose(
      random.multivariateNormal(k(c.seed), arr(c.mean), arr(c.cov), shapeOpt(c.shape), { method: c.method }),
      c.out,
      "mvn",
      1e-5,
      2e-6
    )
  )
  it.each(R.orthogonal)("orthogonal(key($seed), $n, $shape)", (c) =>
    expectClose(random.orthogonal(k(c.seed), c.n, c.shape!), c.out, "orthogonal", 1e-4, 2e-5)
  )
})

describe("gamma-family samplers under transforms and in distribution", () => {
  it("jit gives the same gamma samples as eager", () => {
    const f = jit((key: JArray) => random.gamma(key, 2.5, [6]))
    expect(flat(f(k(7)))).toEqual(flat(random.gamma(k(7), 2.5, [6])))
  })

  it("vmap over keys equals a loop over keys", () => {
    const keys = random.split(k(3), 3)
    const batched = vmap((key: JArray) => random.beta(key, 0.7, 2, [4]))(keys)
    const looped = jnp.stack([0, 1, 2].map((i) => random.beta(keys.get(i), 0.7, 2, [4])))
    expect(flat(batched)).toEqual(flat(looped))
  })

  it("sample means and variances are near the distributions' moments", () => {
    const n = 4000
    const moments = (x: JArray): readonly [number, number] => [
      jnp.mean(x).item() as number,
      jnp.variance(x).item() as number
    ]
    const [gm, gv] = moments(random.gamma(k(11), 3, [n]))
    expect(Math.abs(gm - 3)).toBeLessThan(0.15)
    expect(Math.abs(gv - 3)).toBeLessThan(0.4)
    const [bm] = moments(random.beta(k(12), 2, 6, [n]))
    expect(Math.abs(bm - 0.25)).toBeLessThan(0.02)
    const [pm, pv] = moments(random.poisson(k(13), 4, [n]).astype("float32"))
    expect(Math.abs(pm - 4)).toBeLessThan(0.2)
    expect(Math.abs(pv - 4)).toBeLessThan(0.5)
    const [pm2] = moments(random.poisson(k(14), 40, [n]).astype("float32"))
    expect(Math.abs(pm2 - 40)).toBeLessThan(0.6)
    const [bn, bv] = moments(random.binomial(k(16), 30, 0.6, [n]))
    expect(Math.abs(bn - 18)).toBeLessThan(0.3)
    expect(Math.abs(bv - 7.2)).toBeLessThan(0.8)
    const [bn2] = moments(random.binomial(k(17), 8, 0.2, [n]))
    expect(Math.abs(bn2 - 1.6)).toBeLessThan(0.1)
    const d = random.dirichlet(k(15), jnp.array([1, 2, 3], { dtype: "float32" }), [50])
    const sums = flat(jnp.sum(d, -1))
    for (const s of sums) expect(Math.abs(s - 1)).toBeLessThan(1e-5)
  })

  it("orthogonal matrices are orthogonal, including n×m", () => {
    const q = random.orthogonal(k(1), 4, [3])
    const qtq = jnp.matmul(jnp.swapaxes(q, -1, -2), q)
    expect(jnp.allclose(qtq, jnp.broadcastTo(jnp.eye(4), [3, 4, 4]), { atol: 1e-5 }).item()).toBe(true)
    const wide = random.orthogonal(k(2), 2, [], { m: 5 })
    expect(wide.shape).toEqual([2, 5])
    expect(jnp.allclose(jnp.matmul(wide, wide.T), jnp.eye(2), { atol: 1e-5 }).item()).toBe(true)
  })
})

describe("gamma-family samplers reject bad arguments with typed errors", () => {
  const cases: ReadonlyArray<readonly [string, () => unknown, new (...args: never) => Error, string]> = [
    [
      "a non-positive gamma shape",
      () => random.gamma(k(0), 0, [2]),
      ArgumentError,
      "random.gamma: a must be positive, got 0"
    ],
    [
      "a float64 dtype",
      () => random.gamma(k(0), 1, [2], { dtype: "float64" as never }),
      DTypeError,
      "random.gamma: dtype must be a floating dtype"
    ],
    [
      "a shape parameter that does not broadcast",
      () => random.gamma(k(0), jnp.ones([3]), [2]),
      ShapeError,
      "random.gamma: parameter shapes must broadcast"
    ],
    [
      "a negative beta parameter",
      () => random.beta(k(0), 1, -2),
      ArgumentError,
      "random.beta: b must be positive, got -2"
    ],
    [
      "a scalar dirichlet alpha",
      () => random.dirichlet(k(0), jnp.array(1, { dtype: "float32" })),
      ShapeError,
      "random.dirichlet: alpha must have at least one dimension"
    ],
    [
      "a binomial count that is a PRNG key",
      () => random.binomial(k(0), k(1), 0.5),
      DTypeError,
      "random.binomial: n must be a number or a numeric Array"
    ],
    [
      "a negative poisson rate",
      () => random.poisson(k(0), -1),
      ArgumentError,
      "random.poisson: lam must be non-negative, got -1"
    ],
    [
      "a covariance of the wrong size",
      () => random.multivariateNormal(k(0), jnp.zeros([2]), jnp.eye(3)),
      ShapeError,
      "random.multivariateNormal: cov must have shape [..., 2, 2]"
    ],
    [
      "an unknown factorisation",
      () => random.multivariateNormal(k(0), jnp.zeros([2]), jnp.eye(2), undefined, { method: "lu" as never }),
      ArgumentError,
      "random.multivariateNormal: method must be"
    ],
    [
      "a fractional orthogonal size",
      () => random.orthogonal(k(0), 2.5),
      ArgumentError,
      "random.orthogonal: n must be a non-negative integer, got 2.5"
    ],
    [
      "a misspelt option",
      () => random.gamma(k(0), 1, [2], { dtyp: "float32" } as never),
      ArgumentError,
      'random.gamma: unknown option "dtyp"; did you mean "dtype"?'
    ],
    [
      "a misspelt orthogonal option",
      () => random.orthogonal(k(0), 2, [], { n: 3 } as never),
      ArgumentError,
      'random.orthogonal: unknown option "n"'
    ],
    ["a non-key", () => random.gamma(jnp.zeros([2]), 1), DTypeError, "random.gamma: expected a PRNG key array"]
  ]
  it.each(cases)("%s", (_, f, E, message) => {
    let caught: unknown
    try {
      f()
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(E)
    expect((caught as Error).message).toContain(message)
  })
})
