/**
 * Example-based tests of differentiation: analytic higher derivatives, `linearize` against `jvp`,
 * the tricky rules one by one (broadcasting, ties, indexing, padding, sorting, cumulative ops,
 * zeros of products), integer and non-differentiable primitives, and the argument checks of `grad`.
 */
import { describe, expect, it } from "vitest"
import { jit, jnp, lax, nn, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { jvp, linearize } from "../../src/transforms/core/jvp.ts"
import { grad, valueAndGrad, vjp } from "../../src/transforms/core/reverse.ts"
import { GradError } from "../../src/transforms/core/TransformError.ts"

const f32 = (x: ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>> | number): JArray =>
  jnp.array(x as never, { dtype: "float32" })
const i32 = (x: ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>>): JArray =>
  jnp.array(x as never, { dtype: "int32" })

const close = (a: JArray, expected: ReadonlyArray<number> | number | JArray, tol = 1e-5): void => {
  const b =
    typeof expected === "number"
      ? [expected]
      : Array.isArray(expected)
        ? expected
        : Array.from((expected as JArray).dataSync())
  const x = Array.from(a.dataSync())
  expect(x.length, `size of ${a.shape}`).toBe(b.length)
  x.forEach((v, i) => {
    const w = b[i]!
    expect(Math.abs(v - w), `[${i}]: ${v} vs ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)))
  })
}

const sum = (x: JArray): JArray => jnp.sum(x)
const xs = [-1.3, -0.4, 0.2, 0.9, 1.7]

describe("higher-order derivatives match analytic ones", () => {
  const cases: ReadonlyArray<readonly [string, (x: JArray) => JArray, (x: number) => number, (x: number) => number]> = [
    ["sin", jnp.sin, Math.cos, (x) => -Math.sin(x)],
    ["cos", jnp.cos, (x) => -Math.sin(x), (x) => -Math.cos(x)],
    ["tanh", jnp.tanh, (x) => 1 - Math.tanh(x) ** 2, (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)],
    ["x^3 (pow)", (x) => jnp.power(x, 3), (x) => 3 * x * x, (x) => 6 * x],
    ["x^3 (mul)", (x) => jnp.multiply(jnp.multiply(x, x), x), (x) => 3 * x * x, (x) => 6 * x],
    ["exp", jnp.exp, Math.exp, Math.exp],
    ["expm1", jnp.expm1, Math.exp, Math.exp],
    [
      "log1p(x^2)",
      (x) => jnp.log1p(jnp.square(x)),
      (x) => (2 * x) / (1 + x * x),
      (x) => (2 - 2 * x * x) / (1 + x * x) ** 2
    ],
    [
      "logistic",
      nn.sigmoid,
      (x) => {
        const s = 1 / (1 + Math.exp(-x))
        return s * (1 - s)
      },
      (x) => {
        const s = 1 / (1 + Math.exp(-x))
        return s * (1 - s) * (1 - 2 * s)
      }
    ],
    [
      "erf",
      lax.erf,
      (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x),
      (x) => ((-4 * x) / Math.sqrt(Math.PI)) * Math.exp(-x * x)
    ],
    ["atan2(x, 2)", (x) => jnp.arctan2(x, 2), (x) => 2 / (x * x + 4), (x) => (-4 * x) / (x * x + 4) ** 2],
    ["abs(x)·x", (x) => jnp.multiply(jnp.abs(x), x), (x) => 2 * Math.abs(x), (x) => 2 * Math.sign(x)]
  ]
  for (const [name, f, d1, d2] of cases) {
    it(name, () => {
      const x = f32(xs)
      const g = grad((x: JArray) => sum(f(x)))
      close(g(x), xs.map(d1), 1e-5)
      close(grad((x: JArray) => sum(g(x)))(x), xs.map(d2), 1e-4)
    })
  }

  it("log, sqrt, rsqrt on positive inputs", () => {
    const p = [0.3, 0.8, 1.5, 2.2]
    const x = f32(p)
    const second = (f: (x: JArray) => JArray) => grad((x: JArray) => sum(grad((y: JArray) => sum(f(y)))(x)))(x)
    close(
      second(jnp.log),
      p.map((v) => -1 / (v * v)),
      1e-4
    )
    close(
      second(jnp.sqrt),
      p.map((v) => -0.25 * v ** -1.5),
      1e-4
    )
    close(
      second(lax.rsqrt),
      p.map((v) => 0.75 * v ** -2.5),
      1e-4
    )
  })

  it("third and fourth derivatives of sin", () => {
    const d = (f: (x: JArray) => JArray) => (x: JArray) => grad((y: JArray) => sum(f(y)))(x)
    const x = f32(xs)
    close(
      d(d(d(jnp.sin)))(x),
      xs.map((v) => -Math.cos(v)),
      1e-4
    )
    close(
      d(d(d(d(jnp.sin))))(x),
      xs.map((v) => Math.sin(v)),
      1e-4
    )
  })

  it("mixed partials and the exponent of pow", () => {
    // f(x, y) = x y sin(x): d²f/dxdy = sin x + x cos x
    const f = (x: JArray, y: JArray) => jnp.multiply(jnp.multiply(x, y), jnp.sin(x))
    const dfdx = (x: JArray, y: JArray) => grad(f)(x, y)
    close(grad(dfdx, { argnums: 1 })(f32(0.7), f32(1.9)), Math.sin(0.7) + 0.7 * Math.cos(0.7), 1e-5)
    // d²/dy² 2^y = ln(2)² 2^y
    const two = f32(2)
    const d2 = grad((y: JArray) => grad((z: JArray) => jnp.power(two, z))(y))
    close(d2(f32(1.5)), Math.LN2 ** 2 * 2 ** 1.5, 1e-5)
  })

  it("forward over reverse and reverse over forward", () => {
    const f = (x: JArray) => sum(jnp.multiply(jnp.sin(x), jnp.exp(x)))
    const x = f32(xs)
    const v = f32([1, 0.5, -1, 2, 0.25])
    // Hessian of sum(sin x exp x) is diagonal: 2 cos(x) exp(x).
    const hv = xs.map((a, i) => 2 * Math.cos(a) * Math.exp(a) * [1, 0.5, -1, 2, 0.25][i]!)
    close(jvp(grad(f), [x], [v])[1], hv, 1e-4)
    const jvpDir = (y: JArray) => jvp(f, [y], [v])[1]
    close(grad(jvpDir)(x), hv, 1e-4)
  })
})

describe("linearize", () => {
  it("gives the same outputs and tangents as jvp", () => {
    const f = (x: JArray, y: JArray) => jnp.add(jnp.tanh(jnp.matmul(x, y)), jnp.sum(jnp.square(x)))
    const x = f32([
      [0.1, -0.5, 0.3],
      [0.7, 0.2, -0.9]
    ])
    const y = f32([
      [0.4, 0.1],
      [-0.2, 0.8],
      [0.5, -0.3]
    ])
    const tx = f32([
      [1, 0, -1],
      [0.5, 0.5, 2]
    ])
    const ty = f32([
      [0.3, -0.2],
      [1, 0],
      [0, 1]
    ])
    const [out, lin] = linearize(f, x, y)
    const [out2, tan] = jvp(f, [x, y], [tx, ty])
    close(out, out2, 0)
    close(lin(tx, ty), tan, 1e-6)
  })

  it("is linear and reusable", () => {
    const f = (x: JArray) => jnp.prod(jnp.sin(x))
    const [, lin] = linearize(f, f32([0.5, 1, 1.5]))
    const a = f32([1, 2, 3])
    const b = f32([-1, 0.5, 0])
    close(lin(jnp.add(jnp.multiply(a, 2), b)), jnp.add(jnp.multiply(lin(a), 2), lin(b)), 1e-5)
  })

  it("covers sort, cummax and gather", () => {
    const f = (x: JArray) => jnp.add(jnp.sort(x), jnp.add(lax.cummax(x, 0), jnp.take(x, i32([2, 0, 2, 1]))))
    const x = f32([0.3, -1, 2, 0.5])
    const t = f32([1, 2, 3, 4])
    const [, lin] = linearize(f, x)
    close(lin(t), jvp(f, [x], [t])[1], 1e-6)
  })
})

describe("broadcasting binary primitives", () => {
  it("sums cotangents over size-1 dimensions", () => {
    const a = f32([[1], [2], [3]]) // [3, 1]
    const b = f32([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12]
    ]) // [3, 4]
    const [y, back] = vjp((a: JArray, b: JArray) => lax.mul(a, b), a, b)
    expect(y.shape).toEqual([3, 4])
    const [ga, gb] = back(jnp.ones([3, 4]))
    expect(ga.shape).toEqual([3, 1])
    close(ga, [10, 26, 42])
    close(gb, jnp.broadcastTo(a, [3, 4]))
    // add with a [1, 4] operand
    const [, back2] = vjp((u: JArray, v: JArray) => lax.add(u, v), f32([[1, 2, 3, 4]]), b)
    const [gu] = back2(b)
    expect(gu.shape).toEqual([1, 4])
    close(gu, [15, 18, 21, 24])
  })

  it("broadcasts a single tangent to the output shape", () => {
    const c = jnp.ones([3, 4])
    const [y, t] = jvp((a: JArray) => lax.sub(c, a), [f32([[1], [2], [3]])], [f32([[1], [2], [3]])])
    expect(y.shape).toEqual([3, 4])
    expect(t.shape).toEqual([3, 4])
    close(t, [-1, -1, -1, -1, -2, -2, -2, -2, -3, -3, -3, -3])
  })

  it("select broadcasts its predicate and branches", () => {
    const pred = jnp.array([[true], [false]])
    const [, back] = vjp((a: JArray, b: JArray) => lax.select(pred, a, b), f32([[1, 2, 3]]), f32([[4], [5]]))
    const [ga, gb] = back(
      f32([
        [1, 2, 3],
        [4, 5, 6]
      ])
    )
    close(ga, [1, 2, 3])
    close(gb, [0, 15])
    const [, t] = jvp(
      (a: JArray) =>
        lax.select(
          pred,
          a,
          f32([
            [0, 0, 0],
            [0, 0, 0]
          ])
        ),
      [f32([[1, 2, 3]])],
      [f32([[1, 1, 1]])]
    )
    close(t, [1, 1, 1, 0, 0, 0])
  })
})

describe("ties split the derivative evenly, as in JAX", () => {
  it("max and min", () => {
    const g = grad((x: JArray, y: JArray) => sum(jnp.maximum(x, y)), { argnums: [0, 1] })(
      f32([1, 2, 3]),
      f32([1, 5, 0])
    )
    close(g[0], [0.5, 0, 1])
    close(g[1], [0.5, 1, 0])
    const h = grad((x: JArray) => sum(jnp.minimum(x, 2)))(f32([1, 2, 3]))
    close(h, [1, 0.5, 0])
  })

  it("reduce_max and reduce_min", () => {
    close(grad((x: JArray) => jnp.max(x))(f32([1, 3, 3, 2])), [0, 0.5, 0.5, 0])
    close(grad((x: JArray) => jnp.min(x))(f32([1, 3, 1, 1])), [1 / 3, 0, 1 / 3, 1 / 3])
    const m = f32([
      [1, 4, 4],
      [2, 2, 0]
    ])
    close(grad((x: JArray) => sum(jnp.max(x, 1)))(m), [0, 0.5, 0.5, 0.5, 0.5, 0])
    close(
      jvp(
        (x: JArray) => jnp.max(x, 1),
        [m],
        [
          f32([
            [1, 2, 4],
            [8, 16, 32]
          ])
        ]
      )[1],
      [3, 12]
    )
  })

  it("cummax and cummin", () => {
    // cummax([1, 3, 3, 2]) = [1, 3, 3, 3]: y[2] and y[3] split between positions 1 and 2.
    close(grad((x: JArray) => sum(lax.cummax(x, 0)))(f32([1, 3, 3, 2])), [1, 2, 1, 0])
    close(jvp((x: JArray) => lax.cummax(x, 0), [f32([1, 3, 3, 2])], [f32([1, 2, 4, 8])])[1], [1, 2, 3, 3])
    // reverse cummin([2, 1, 3, 1]) = [1, 1, 1, 1]: y[0], y[1] tie between positions 1 and 3; y[2], y[3] are x[3]
    close(grad((x: JArray) => sum(lax.cummin(x, 0, true)))(f32([2, 1, 3, 1])), [0, 1, 0, 3])
  })
})

describe("dot_general", () => {
  it("batch dimensions: the cotangents are batched matrix products", () => {
    const a = jnp.reshape(jnp.multiply(jnp.arange(24), 0.1), [2, 3, 4]).astype("float32")
    const b = jnp.reshape(jnp.cos(jnp.arange(40).astype("float32")), [2, 4, 5])
    const w = jnp.reshape(jnp.sin(jnp.arange(30).astype("float32")), [2, 3, 5])
    const f = (a: JArray, b: JArray) =>
      lax.dotGeneral(a, b, [
        [[2], [1]],
        [[0], [0]]
      ])
    const [y, back] = vjp(f, a, b)
    expect(y.shape).toEqual([2, 3, 5])
    const [ga, gb] = back(w)
    close(ga, jnp.matmul(w, jnp.swapaxes(b, 1, 2)), 1e-5)
    close(gb, jnp.matmul(jnp.swapaxes(a, 1, 2), w), 1e-5)
  })

  it("batch dimensions in the middle, several contracting dimensions", () => {
    // out[b, m, n] = sum_{i, j} x[i, b, j, m] y[j, n, i, b]
    const x = jnp.reshape(jnp.sin(jnp.arange(2 * 3 * 4 * 2).astype("float32")), [2, 3, 4, 2])
    const y = jnp.reshape(jnp.cos(jnp.arange(4 * 5 * 2 * 3).astype("float32")), [4, 5, 2, 3])
    const f = (x: JArray, y: JArray) =>
      lax.dotGeneral(x, y, [
        [
          [0, 2],
          [2, 0]
        ],
        [[1], [3]]
      ])
    const [out, back] = vjp(f, x, y)
    expect(out.shape).toEqual([3, 2, 5])
    const w = jnp.reshape(jnp.arange(30).astype("float32"), [3, 2, 5])
    const [gx, gy] = back(w)
    const xd = x.dataSync(),
      yd = y.dataSync(),
      wd = w.dataSync()
    const gxRef = new Float64Array(48),
      gyRef = new Float64Array(120)
    for (let i = 0; i < 2; i++)
      for (let b = 0; b < 3; b++)
        for (let j = 0; j < 4; j++)
          for (let m = 0; m < 2; m++)
            for (let n = 0; n < 5; n++) {
              const xi = ((i * 3 + b) * 4 + j) * 2 + m
              const yi = ((j * 5 + n) * 2 + i) * 3 + b
              const wi = (b * 2 + m) * 5 + n
              gxRef[xi] = gxRef[xi]! + wd[wi]! * yd[yi]!
              gyRef[yi] = gyRef[yi]! + wd[wi]! * xd[xi]!
            }
    close(gx, Array.from(gxRef), 1e-5)
    close(gy, Array.from(gyRef), 1e-5)
  })
})

describe("indexing", () => {
  it("gather: repeated indices accumulate", () => {
    const g = grad((x: JArray) => sum(jnp.multiply(x.get(i32([0, 2, 2, 2])), f32([1, 2, 3, 4]))))(f32([5, 6, 7]))
    close(g, [1, 0, 9])
  })

  it("gather in fill mode: out-of-bounds rows have zero tangent and cotangent", () => {
    const params = { indexedAxes: [0], batchDims: 0, mode: "fill" } as const
    const idx = i32([[1], [5], [-1], [0]])
    const x = f32([10, 20, 30])
    const [y, t] = jvp((x: JArray) => lax.gather(x, idx, params), [x], [f32([1, 2, 3])])
    expect(Number.isNaN(y.dataSync()[1])).toBe(true)
    close(t, [2, 0, 0, 1])
    const [, back] = vjp((x: JArray) => lax.gather(x, idx, params), x)
    close(back(f32([1, 2, 3, 4]))[0], [4, 1, 0])
  })

  it("scatter_add: operand gets the cotangent, updates get it gathered", () => {
    const idx = i32([[1], [1], [3]])
    const params = { indexedAxes: [0], batchDims: 0, mode: "clip" } as const
    const [, back] = vjp((x: JArray, u: JArray) => lax.scatterAdd(x, idx, u, params), jnp.zeros([4]), f32([1, 2, 3]))
    const [gx, gu] = back(f32([10, 20, 30, 40]))
    close(gx, [10, 20, 30, 40])
    close(gu, [20, 20, 40])
    // fill mode drops out-of-bounds updates: their cotangent is zero, not NaN
    const fill = { indexedAxes: [0], batchDims: 0, mode: "fill" } as const
    const [, back2] = vjp((u: JArray) => lax.scatterAdd(jnp.zeros([4]), i32([[1], [7]]), u, fill), f32([1, 2]))
    close(back2(f32([10, 20, 30, 40]))[0], [20, 0])
  })

  it("scatter: the last write wins, overwritten operand positions get nothing", () => {
    const f = (x: JArray, u: JArray) => x.at(i32([1, 3, 1])).set(u)
    const [y, back] = vjp(f, f32([1, 2, 3, 4]), f32([10, 20, 30]))
    close(y, [1, 30, 3, 20])
    const [gx, gu] = back(f32([1, 2, 3, 4]))
    close(gx, [1, 0, 3, 0])
    close(gu, [0, 4, 2])
    const [, t] = jvp(f, [f32([1, 2, 3, 4]), f32([10, 20, 30])], [f32([1, 1, 1, 1]), f32([5, 6, 7])])
    close(t, [1, 7, 1, 6])
  })

  it("dynamic_slice and dynamic_update_slice, with clamped starts", () => {
    const x = jnp.reshape(jnp.arange(12).astype("float32"), [3, 4])
    const g = grad((x: JArray) => sum(lax.dynamicSlice(x, [2, 1], [2, 2])))(x) // start row 2 clamps to 1
    close(g, [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0])
    const [gx, gu] = grad((x: JArray, u: JArray) => sum(jnp.multiply(lax.dynamicUpdateSlice(x, u, [0, 3]), x)), {
      argnums: [0, 1]
    })(
      x,
      f32([
        [1, 2],
        [3, 4]
      ])
    )
    // columns 2 and 3 of rows 0 and 1 are overwritten (start column 3 clamps to 2)
    close(gx, [0, 2, 1, 2, 8, 10, 3, 4, 16, 18, 20, 22])
    close(gu, [2, 3, 6, 7])
    const traced = grad(
      (x: JArray, i: JArray) => sum(lax.dynamicSlice(x, [i, jnp.array(0, { dtype: "int32" })], [1, 4])),
      { allowInt: true }
    )
    close(traced(x, jnp.array(1, { dtype: "int32" })), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
  })

  it("slice with strides, concatenate", () => {
    const g = grad((x: JArray) => sum(jnp.multiply(lax.slice(x, [1], [8], [3]), f32([1, 2, 3]))))(jnp.zeros([9]))
    close(g, [0, 1, 0, 0, 2, 0, 0, 3, 0])
    const [ga, gb] = grad(
      (a: JArray, b: JArray) => sum(jnp.multiply(jnp.concatenate([a, b, a]), jnp.arange(7).astype("float32"))),
      { argnums: [0, 1] }
    )(jnp.zeros([2]), jnp.zeros([3]))
    close(ga, [0 + 5, 1 + 6])
    close(gb, [2, 3, 4])
  })
})

describe("pad", () => {
  it("interior padding: the operand gets strided positions, the value all the others", () => {
    const w = jnp.arange(1, 11).astype("float32") // output has 1 + 3 + 2·2 + 2 = 10 elements
    const f = (x: JArray, v: JArray) => sum(jnp.multiply(lax.pad(x, v, [[1, 2, 2]]), w))
    const [gx, gv] = grad(f, { argnums: [0, 1] })(f32([1, 2, 3]), f32(0))
    // positions of x: 1, 4, 7 (weights 2, 5, 8); the rest sum to 55 - 15
    close(gx, [2, 5, 8])
    close(gv, 40)
    const [, t] = jvp(
      (x: JArray, v: JArray) => lax.pad(x, v, [[1, 2, 2]]),
      [f32([1, 2, 3]), f32(0)],
      [f32([1, 1, 1]), f32(-1)]
    )
    close(t, [-1, 1, -1, -1, 1, -1, -1, 1, -1, -1])
  })

  it("2-d padding with interior on one axis", () => {
    const x = f32([
      [1, 2],
      [3, 4]
    ])
    const cfg = [
      [0, 1, 1],
      [2, 0, 0]
    ] as const
    const w = jnp.reshape(jnp.arange(16).astype("float32"), [4, 4])
    const gx = grad((x: JArray) => sum(jnp.multiply(lax.pad(x, f32(0), cfg), w)))(x)
    close(gx, [2, 3, 10, 11])
  })
})

describe("products", () => {
  it("reduce_prod handles zeros exactly", () => {
    const g = grad((x: JArray) => jnp.prod(x))
    close(g(f32([2, 3, 4])), [12, 8, 6])
    close(g(f32([2, 0, 3])), [0, 6, 0])
    close(g(f32([0, 0, 3])), [0, 0, 0])
    // the Hessian of a product: H[i][j] = product of the others than i and j
    const hRow = (k: number) => grad((x: JArray) => g(x).get(k))(f32([2, 0, 3]))
    close(hRow(0), [0, 3, 0])
    close(hRow(1), [3, 0, 2])
    close(hRow(2), [0, 2, 0])
    close(jvp((x: JArray) => jnp.prod(x), [f32([2, 0, 3])], [f32([1, 1, 1])])[1], 6)
  })

  it("reduce_prod over several axes", () => {
    const x = f32([
      [1, 2],
      [3, 0.5],
      [2, 2]
    ])
    const g = grad((x: JArray) => sum(jnp.prod(x, 0)))(x)
    close(g, [6, 1, 2, 4, 3, 1])
    close(grad((x: JArray) => jnp.prod(x))(x), [12, 6, 4, 24, 6, 6])
  })

  it("cumprod with zeros, both directions", () => {
    close(grad((x: JArray) => sum(jnp.cumprod(x)))(f32([2, 0, 3])), [1, 8, 0])
    close(grad((x: JArray) => sum(lax.cumprod(x, 0, true)))(f32([3, 0, 2])), [0, 8, 1])
    close(jvp((x: JArray) => jnp.cumprod(x), [f32([2, 0, 3])], [f32([1, 1, 1])])[1], [1, 2, 6])
    // second derivative of sum(cumprod([x0, x1, x2])) in x1: sum of the products that contain x1 twice = 0
    const h = grad((x: JArray) => grad((y: JArray) => sum(jnp.cumprod(y)))(x).get(1))(f32([2, 0, 3]))
    close(h, [1 + 3, 0, 2])
  })

  it("cumsum transposes to a reverse cumsum", () => {
    const w = f32([1, 2, 3, 4])
    close(grad((x: JArray) => sum(jnp.multiply(jnp.cumsum(x), w)))(jnp.zeros([4])), [10, 9, 7, 4])
    close(grad((x: JArray) => sum(jnp.multiply(lax.cumsum(x, 0, true), w)))(jnp.zeros([4])), [1, 3, 6, 10])
  })
})

describe("sort", () => {
  it("routes derivatives through the permutation", () => {
    const x = f32([
      [3, 1, 2],
      [0, 5, -1]
    ])
    const w = f32([
      [1, 10, 100],
      [2, 20, 200]
    ])
    close(grad((x: JArray) => sum(jnp.multiply(jnp.sort(x, 1), w)))(x), [100, 1, 10, 20, 200, 2])
    close(grad((x: JArray) => sum(jnp.multiply(jnp.sort(x, 0), w)))(x), [2, 10, 200, 1, 20, 100])
    close(jvp((x: JArray) => jnp.sort(x, 1), [x], [w])[1], [10, 100, 1, 200, 2, 20])
  })

  it("sorts values alongside keys", () => {
    const k = f32([3, 1, 2])
    const v = f32([30, 10, 20])
    const [gk, gv] = grad(
      (k: JArray, v: JArray) => {
        const [sk, sv] = lax.sortKeyVal(k, v)
        return sum(jnp.multiply(jnp.add(sk, jnp.multiply(sv, 2)), f32([1, 2, 3])))
      },
      { argnums: [0, 1] }
    )(k, v)
    close(gk, [3, 1, 2])
    close(gv, [6, 2, 4])
  })
})

describe("non-differentiable primitives", () => {
  it("give zero derivatives", () => {
    const x = f32([-1.5, 0.3, 2.7])
    const f = (x: JArray) => sum(jnp.add(jnp.add(jnp.floor(x), jnp.ceil(x)), jnp.add(jnp.round(x), jnp.sign(x))))
    close(grad(f)(x), [0, 0, 0])
    close(jvp(f, [x], [f32([1, 1, 1])])[1], 0)
    close(
      grad((x: JArray) => sum(jnp.multiply(jnp.greater(x, 0).astype("float32"), x.astype("int32").astype("float32"))))(
        x
      ),
      [0, 0, 0]
    )
    close(grad((x: JArray) => sum(lax.nextafter(x, jnp.zeros([3]))))(x), [0, 0, 0])
  })

  it("argmax selects without a derivative of its own", () => {
    const x = f32([0.5, 3, 1])
    close(grad((x: JArray) => jnp.multiply(x.get(jnp.argmax(x)), 2))(x), [0, 2, 0])
  })

  it("stop_gradient", () => {
    const x = f32([1, 2, 3])
    close(grad((x: JArray) => sum(jnp.multiply(x, lax.stopGradient(x))))(x), [1, 2, 3])
    close(jvp((x: JArray) => jnp.multiply(x, lax.stopGradient(x)), [x], [f32([1, 1, 1])])[1], [1, 2, 3])
  })

  it("convert_element_type: through an integer is zero, between floats the identity", () => {
    const x = f32([1.5, 2.5])
    close(grad((x: JArray) => sum(jnp.multiply(x.astype("int32").astype("float32"), x)))(x), [1, 2])
    close(grad((x: JArray) => sum(lax.convertElementType(x, "float32", true)))(x), [1, 1])
    const [, t] = jvp((x: JArray) => x.astype("int32"), [x], [f32([1, 1])])
    expect(t.dtype).toBe("int32")
    close(t, [0, 0])
  })

  it("integer inputs get zero tangents in jvp", () => {
    const [y, t] = jvp((n: JArray) => jnp.multiply(n, 2), [i32([1, 2])], [i32([5, 5])])
    close(y, [2, 4])
    close(t, [0, 0])
  })
})

describe("edge cases of elementwise rules", () => {
  it("pow at zero", () => {
    close(grad((x: JArray) => jnp.power(x, 2))(f32(0)), 0)
    close(grad((x: JArray) => jnp.power(x, f32(0)))(f32(0)), 0)
    close(grad((y: JArray) => jnp.power(f32(0), y))(f32(2)), 0)
    close(grad((x: JArray) => jnp.power(x, f32(0.5)))(f32(4)), 0.25)
    close(grad((x: JArray) => jnp.power(x, -1))(f32(2)), -0.25)
  })

  it("abs at zero, rem", () => {
    // as JAX: the derivative of |x| at 0 is taken as +1
    close(grad((x: JArray) => sum(jnp.abs(x)))(f32([-2, 0, 2])), [-1, 1, 1])
    const [gx, gy] = grad((x: JArray, y: JArray) => sum(lax.rem(x, y)), { argnums: [0, 1] })(
      f32([5.5, -5.5, 1]),
      f32([2, 2, 3])
    )
    close(gx, [1, 1, 1])
    close(gy, [-2, 2, 0])
  })

  it("tangents and cotangents keep float32 and the primal's weak type", () => {
    const x = f32([1, 2])
    const [, t] = jvp((x: JArray) => jnp.multiply(jnp.exp(x), 3), [x], [f32([1, 1])])
    expect(t.dtype).toBe("float32")
    expect(t.weakType).toBe(false)
    const g = grad((x: JArray) => sum(jnp.tanh(x)))(x)
    expect(g.dtype).toBe("float32")
    expect(g.weakType).toBe(false)
  })
})

describe("composition with jit and vmap", () => {
  it("jit(grad(f)) and vmap(grad(f))", () => {
    const f = (x: JArray) => sum(jnp.multiply(jnp.sin(x), jnp.cumsum(x)))
    const x = f32([
      [0.1, 0.2, 0.3],
      [1, -1, 0.5]
    ])
    const rows = [0, 1].map((i) => grad(f)(x.get(i)))
    close(vmap(grad(f))(x), jnp.stack(rows), 1e-6)
    close(jit(grad(f))(x.get(0)), rows[0]!, 1e-6)
    close(jit(grad(grad((y: JArray) => jnp.prod(jnp.sin(y)))))(f32(0.4)), -Math.sin(0.4), 1e-5)
  })
})

describe("grad's argument checks and options", () => {
  const f = (x: JArray, y: JArray) => sum(jnp.multiply(x, y))

  it("refuses integer inputs unless allowInt", () => {
    expect(() => grad(f)(i32([1, 2]), f32([1, 2]))).toThrow(GradError)
    const g = grad(f, { allowInt: true, argnums: [0, 1] })(i32([1, 2]), f32([3, 4]))
    close(g[0], [0, 0])
    expect(g[0].dtype).toBe("int32")
    close(g[1], [1, 2])
  })

  it("refuses non-scalar and non-float outputs", () => {
    expect(() => grad((x: JArray) => jnp.sin(x))(f32([1, 2]))).toThrow(GradError)
    expect(() => grad((x: JArray) => jnp.argmax(x))(f32([1, 2]))).toThrow(GradError)
    expect(() => grad((x: JArray) => x.astype("int32").sum())(f32(1))).toThrow(GradError)
  })

  it("refuses argnums out of range and JavaScript numbers", () => {
    // @ts-expect-error argnums past f's parameters does not compile (the run-time check is for casts)
    expect(() => grad(f, { argnums: 2 })(f32(1), f32(2))).toThrow(GradError)
    // @ts-expect-error likewise from the end
    expect(() => grad(f, { argnums: -3 })(f32(1), f32(2))).toThrow(GradError)
    expect(() => grad((x: unknown) => f32(0).mul(x as number))(3)).toThrow(GradError)
  })

  it("argnums: a number, a negative number, a list", () => {
    const x = f32([1, 2])
    const y = f32([3, 4])
    close(grad(f, { argnums: 1 })(x, y), [1, 2])
    close(grad(f, { argnums: -1 })(x, y), [1, 2])
    const [gy, gx] = grad(f, { argnums: [1, 0] })(x, y)
    close(gy, [1, 2])
    close(gx, [3, 4])
  })

  it("hasAux with an aux without leaves", () => {
    const [[value, aux], gr] = valueAndGrad((x: JArray) => [sum(jnp.square(x)), null] as const, { hasAux: true })(
      f32([1, 2])
    )
    close(value, 5)
    expect(aux).toBeNull()
    close(gr, [2, 4])
  })

  it("hasAux returns the auxiliary value undifferentiated; grad gives [gradient, aux] as jax.grad", () => {
    const g = (x: JArray) => [sum(jnp.square(x)), { doubled: jnp.multiply(x, 2) }] as const
    const [[value, aux], gr] = valueAndGrad(g, { hasAux: true })(f32([1, 2]))
    close(value, 5)
    close(aux.doubled, [2, 4])
    close(gr, [2, 4])
    const [only, onlyAux] = grad(g, { hasAux: true })(f32([1, 2]))
    close(only, [2, 4])
    close(onlyAux.doubled, [2, 4])
  })

  it("differentiates pytrees of arrays", () => {
    const loss = (p: { readonly w: JArray; readonly b: ReadonlyArray<JArray> }) =>
      sum(jnp.add(jnp.multiply(p.w, p.b[0]!), p.b[1]!))
    const g = grad(loss)({ w: f32([1, 2]), b: [f32([3, 4]), f32([5, 6])] })
    close(g.w, [3, 4])
    close(g.b[0]!, [1, 2])
    close(g.b[1]!, [1, 1])
  })

  it("valueAndGrad", () => {
    const [v, g] = valueAndGrad((x: JArray) => sum(jnp.exp(x)))(f32([0, 1]))
    close(v, 1 + Math.E, 1e-6)
    close(g, [1, Math.E], 1e-6)
  })
})

describe("JAX parity of small corners", () => {
  it("nn.relu's gradient is 0 at 0 (JAX's), also under vmap, and relu keeps NaN", () => {
    expect(grad((x: JArray) => nn.relu(x))(jnp.array(0, { dtype: "float32" })).item()).toBe(0)
    expect(vmap(grad((x: JArray) => nn.relu(x)))(jnp.array([-1, 0, 1], { dtype: "float32" })).tolist()).toEqual([
      0, 0, 1
    ])
    expect(Number.isNaN(nn.relu(jnp.array(NaN)).item() as number)).toBe(true)
    expect(nn.relu(jnp.array([-2, 0, 3], { dtype: "float32" })).tolist()).toEqual([0, 0, 3])
  })

  it("lax.dynamicSlice and dynamicUpdateSlice wrap a negative start once, then clamp (as JAX)", () => {
    expect(lax.dynamicSlice(jnp.arange(5), [-2], [2]).tolist()).toEqual([3, 4])
    expect(lax.dynamicSlice(jnp.arange(5), [jnp.array(-2)], [2]).tolist()).toEqual([3, 4])
    expect(lax.dynamicSlice(jnp.arange(5), [-7], [2]).tolist()).toEqual([0, 1])
    expect(lax.dynamicSlice(jnp.arange(5), [4], [2]).tolist()).toEqual([3, 4])
    expect(lax.dynamicUpdateSlice(jnp.arange(5), jnp.array([9, 9]), [-1]).tolist()).toEqual([0, 1, 2, 9, 9])
    expect(vmap((i: JArray) => lax.dynamicSlice(jnp.arange(5), [i], [2]))(jnp.array([-2, 0, -5])).tolist()).toEqual([
      [3, 4],
      [0, 1],
      [0, 1]
    ])
  })
})
