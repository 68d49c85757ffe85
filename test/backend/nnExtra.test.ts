/**
 * The extra `nn` activations against JAX (tools/goldens/nn_random_extra.py): values and elementwise
 * derivatives, at the kinks and through NaN and the infinities, and the same values under `vmap` and
 * `jit` as eagerly.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { grad, jit, jnp, nn, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

type Num = number | "NaN" | "Infinity" | "-Infinity"
type Nested = Num | ReadonlyArray<Nested>

interface Goldens {
  readonly nn: {
    readonly xs: ReadonlyArray<Num>
    readonly activations: Record<string, { readonly value: ReadonlyArray<Num>; readonly grad: ReadonlyArray<Num> }>
    readonly standardize: ReadonlyArray<{
      x: Nested
      axis: number
      mean?: number
      variance?: number
      epsilon?: number
      out: Nested
    }>
    readonly glu: ReadonlyArray<{ x: Nested; axis: number; out: Nested }>
  }
}

const G: Goldens = JSON.parse(fs.readFileSync(new URL("../goldens/nn_random_extra.json", import.meta.url), "utf8"))

const num = (v: Num): number =>
  typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : -Infinity
const flat = (x: Nested): Array<number> => (typeof x === "object" ? x.flatMap(flat) : [num(x)])
const shapeOf = (x: Nested): Array<number> =>
  typeof x === "object" ? [x.length, ...(x.length > 0 ? shapeOf(x[0]!) : [])] : []
const fromNested = (x: Nested): JArray => jnp.reshape(jnp.array(flat(x), { dtype: "float32" }), shapeOf(x))
const valuesOf = (a: JArray): Array<number> => {
  const t = a.tolist()
  return typeof t === "number" ? [t] : ((t as ReadonlyArray<unknown>).flat(Infinity as 1) as Array<number>)
}

const expectClose = (actual: JArray, expected: Nested, label: string, rtol = 2e-6): void => {
  expect(actual.shape, label).toEqual(shapeOf(expected))
  const a = valuesOf(actual)
  flat(expected).forEach((e, i) => {
    const v = a[i]!
    if (Number.isNaN(e)) return expect(v, `${label}[${i}]`).toBeNaN()
    if (!Number.isFinite(e)) return expect(v, `${label}[${i}]`).toBe(e)
    const tol = 1e-6 + rtol * Math.abs(e)
    if (!(Math.abs(v - e) <= tol)) expect.fail(`${label}[${i}]: got ${v}, JAX ${e} (tolerance ${tol})`)
  })
}

const ACTIVATIONS: Record<string, (x: JArray) => JArray> = {
  leakyRelu: (x) => nn.leakyRelu(x),
  "leakyRelu_0.2": (x) => nn.leakyRelu(x, 0.2),
  elu: (x) => nn.elu(x),
  "elu_0.5": (x) => nn.elu(x, 0.5),
  celu: (x) => nn.celu(x),
  "celu_0.7": (x) => nn.celu(x, 0.7),
  selu: nn.selu,
  logSigmoid: nn.logSigmoid,
  hardTanh: nn.hardTanh,
  relu6: nn.relu6,
  hardSigmoid: nn.hardSigmoid,
  hardSilu: nn.hardSilu,
  softSign: nn.softSign,
  sparsePlus: nn.sparsePlus
}

const xs = jnp.array(G.nn.xs.map(num), { dtype: "float32" })

describe("nn activations match jax.nn", () => {
  it("covers every activation in the goldens", () => {
    expect(Object.keys(ACTIVATIONS).sort()).toEqual(Object.keys(G.nn.activations).sort())
  })

  describe.each(Object.entries(ACTIVATIONS))("%s", (name, f) => {
    const golden = G.nn.activations[name]!
    it("gives JAX's values, NaN and the infinities included", () => {
      expectClose(f(xs), golden.value, `${name}(x)`)
    })
    it("gives JAX's derivative everywhere, at the kinks included", () => {
      expectClose(vmap(grad((x: JArray) => f(x)))(xs), golden.grad, `${name}'(x)`, 1e-5)
    })
    it("gives the same values under vmap and jit as eagerly", () => {
      const eager = valuesOf(f(xs))
      expect(valuesOf(vmap(f)(xs))).toEqual(eager)
      expect(valuesOf(jit(f)(xs))).toEqual(eager)
    })
  })

  it("takes the derivative at the kinks as JAX does", () => {
    const at = (f: (x: JArray) => JArray, x: number): number =>
      grad(f)(jnp.array(x, { dtype: "float32" })).item() as number
    expect(at(nn.relu6, 0)).toBe(0)
    expect(at(nn.relu6, 6)).toBe(0)
    expect(at((x) => nn.leakyRelu(x), 0)).toBe(1)
    expect(at(nn.hardTanh, 1)).toBe(1)
    expect(at(nn.hardTanh, -1)).toBe(1)
    expect(at((x) => nn.elu(x, 0.5), 0)).toBe(0.5)
    expect(at((x) => nn.celu(x), 0)).toBe(1)
  })

  it("standardize matches jax.nn.standardize", () => {
    for (const c of G.nn.standardize) {
      const options = c.mean === undefined ? undefined : { mean: c.mean, variance: c.variance, epsilon: c.epsilon }
      expectClose(nn.standardize(fromNested(c.x), c.axis, options), c.out, `standardize axis ${c.axis}`, 1e-5)
    }
  })

  it("glu matches jax.nn.glu, and refuses an odd axis", () => {
    for (const c of G.nn.glu) expectClose(nn.glu(fromNested(c.x), c.axis), c.out, `glu axis ${c.axis}`)
    expect(() => nn.glu(jnp.ones([2, 3]))).toThrow(ShapeError)
  })

  it("keeps integer inputs working (as float32)", () => {
    expect(nn.relu6(jnp.array([-1, 3, 9])).tolist()).toEqual([0, 3, 6])
    expect(nn.hardTanh(jnp.array([-2, 0, 2])).dtype).toBe("float32")
  })
})
