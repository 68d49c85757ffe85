/**
 * The scalar helpers of the generated kernels (src/backend/wasm/kernels/scalarMath.ts: integer
 * powers, the exact float remainder, erf and its inverse) through one-node plans (issue 16: tests
 * that catch injected bugs), compared with the cpu reference kernels bit for bit on the values that
 * take each branch: negative int32 exponents of ±1 and other bases, exponents with high bits,
 * remainders of every exponent distance (subnormal divisors, huge dividends, quotients just below
 * and above a power of two), erf's series, continued fraction and saturated ranges, and erf_inv's
 * central and tail polynomials, ±1 and values outside [-1, 1].
 */
import { describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import type { FusedNode } from "../../src/backend/fusion.ts"
import type { BinaryPrimitive, UnaryPrimitive } from "../../src/backend/Primitive.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"
import { checkPlan, mulberry32 } from "./planCheck.ts"

const rnd = mulberry32(20261203)

const unary = (prim: UnaryPrimitive, x: Float32Array): void => {
  const plan: Plan = {
    shape: [x.length],
    inputs: [{ dtype: "float32", strides: [1] }],
    nodes: [
      { kind: "input", input: 0, dtype: "float32" },
      { kind: "unary", prim, arg: 0, dtype: "float32" }
    ],
    outputs: { kind: "map", results: [{ node: 1, strides: [1] }] }
  }
  checkPlan(plan, [x], prim, [1])
}

const binary = (prim: BinaryPrimitive, dtype: "float32" | "int32" | "uint32", a: HostArray, b: HostArray): void => {
  const node: FusedNode = { kind: "binary", prim, args: [0, 1], dtype }
  const plan: Plan = {
    shape: [a.length],
    inputs: [
      { dtype: dtype as DType, strides: [1] },
      { dtype: dtype as DType, strides: [1] }
    ],
    nodes: [{ kind: "input", input: 0, dtype }, { kind: "input", input: 1, dtype }, node],
    outputs: { kind: "map", results: [{ node: 2, strides: [1] }] }
  }
  checkPlan(plan, [a, b], `${prim} ${dtype}`, [1])
}

/** Every pair of `xs` and `ys`, as two arrays. */
const cross = <A extends Float32Array | Int32Array | Uint32Array>(
  make: (n: number) => A,
  xs: ReadonlyArray<number>,
  ys: ReadonlyArray<number>
): [A, A] => {
  const a = make(xs.length * ys.length),
    b = make(xs.length * ys.length)
  xs.forEach((x, i) =>
    ys.forEach((y, j) => {
      a[i * ys.length + j] = x
      b[i * ys.length + j] = y
    })
  )
  return [a, b]
}

describe("the scalar helpers of the generated kernels", () => {
  it("raise int32 and uint32 to integer powers, wrapping, as the reference does", () => {
    const bases = [0, 1, -1, 2, -2, 3, -3, 5, 7, -7, 10, 0x7fffffff, -0x80000000, 65537, -65535, 12345]
    const exps = [
      0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 63, 100, 1000001, 0x7fffffff, -1, -2, -3, -4, -0x80000000, -7
    ]
    binary("pow", "int32", ...cross((n) => new Int32Array(n), bases, exps))
    const ubases = [0, 1, 2, 3, 5, 7, 10, 0xffffffff, 0x80000000, 0x7fffffff, 65537, 12345]
    const uexps = [0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 33, 100, 0x80000000, 0x80000001, 0xffffffff, 0xfffffffe]
    binary("pow", "uint32", ...cross((n) => new Uint32Array(n), ubases, uexps))
  })

  it("computes float32 remainders exactly, of every exponent distance", () => {
    const xs = [
      0,
      -0,
      1,
      -1,
      2.5,
      -2.5,
      7,
      -7,
      0.1,
      1e-45,
      -1e-45,
      1.1754944e-38,
      3.4028235e38,
      -3.4028235e38,
      16777215,
      16777216,
      33554431,
      1e10,
      -1e20,
      123456.789,
      5.5,
      Infinity,
      -Infinity,
      Number.NaN
    ]
    const ys = [
      0,
      -0,
      1,
      -1,
      0.1,
      -0.1,
      0.75,
      3,
      -3,
      1e-45,
      2e-45,
      1.1754944e-38,
      3.4028235e38,
      7,
      1e-20,
      1e10,
      2.5,
      16777215,
      Infinity,
      -Infinity,
      Number.NaN,
      0.3,
      1e-30
    ]
    binary("rem", "float32", ...cross((n) => new Float32Array(n), xs, ys))
    const n = 4000
    const a = new Float32Array(n),
      b = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      a[i] = (rnd() - 0.5) * 2 ** Math.floor(rnd() * 260 - 140)
      b[i] = (rnd() - 0.5) * 2 ** Math.floor(rnd() * 260 - 140)
    }
    binary("rem", "float32", a, b)
    // quotients near powers of two and of 2^25, where a step's floor and its correction matter
    const c = new Float32Array(n),
      d = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      const y = 1 + Math.floor(rnd() * 1000) / 7
      const q = 2 ** Math.floor(rnd() * 60) + Math.floor((rnd() - 0.5) * 8)
      c[i] = (rnd() < 0.5 ? -1 : 1) * q * y
      d[i] = (rnd() < 0.5 ? -1 : 1) * y
    }
    binary("rem", "float32", c, d)
  })

  it("computes erf and erf_inv as the reference does in every range", () => {
    const n = 6000
    const x = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      const r = rnd()
      x[i] =
        r < 0.4
          ? (rnd() - 0.5) * 5
          : r < 0.7
            ? (rnd() - 0.5) * 14
            : r < 0.9
              ? (rnd() - 0.5) * 1e-3
              : (rnd() - 0.5) * 1e6
    }
    const special = [
      0,
      -0,
      Number.NaN,
      Infinity,
      -Infinity,
      2.5,
      -2.5,
      2.4999998,
      6,
      -6,
      5.9999995,
      1e-45,
      -1e-45,
      1e-20,
      3.4028235e38
    ]
    unary("erf", Float32Array.from([...special, ...x]))
    const y = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      const r = rnd()
      y[i] =
        r < 0.5
          ? (rnd() - 0.5) * 2
          : r < 0.8
            ? (rnd() < 0.5 ? -1 : 1) * (1 - rnd() * 2 ** -Math.floor(rnd() * 24))
            : (rnd() - 0.5) * 6
    }
    const ispecial = [
      0,
      -0,
      1,
      -1,
      Number.NaN,
      Infinity,
      -Infinity,
      1.0000001,
      -1.0000001,
      0.99999994,
      -0.99999994,
      0.9966,
      0.9967,
      1e-45,
      0.5
    ]
    unary("erf_inv", Float32Array.from([...ispecial, ...y]))
  })

  it("call the host functions they name, whatever the module imports first", () => {
    // sin is imported first (function 0): a helper calling another index computes sines
    const x = Float32Array.from({ length: 41 }, (_, i) => (i - 20) / 8 + 0.01)
    const plan: Plan = {
      shape: [x.length],
      inputs: [{ dtype: "float32", strides: [1] }],
      nodes: [
        { kind: "input", input: 0, dtype: "float32" },
        { kind: "unary", prim: "sin", arg: 0, dtype: "float32" },
        { kind: "unary", prim: "erf", arg: 0, dtype: "float32" },
        { kind: "binary", prim: "mul", args: [0, 1], dtype: "float32" },
        { kind: "unary", prim: "erf_inv", arg: 1, dtype: "float32" }
      ],
      outputs: {
        kind: "map",
        results: [
          { node: 1, strides: [1] },
          { node: 2, strides: [1] },
          { node: 4, strides: [1] }
        ]
      }
    }
    checkPlan(plan, [x], "sin, erf and erf_inv", [1])
  })
})
