/**
 * The wasm elementwise and reduction kernels against the cpu reference kernels, bit for bit: every
 * unary, binary and comparison primitive, select, convert_element_type and round on every dtype it
 * accepts, with NaN, ±inf, ±0, subnormals, huge values, int32 extremes and uint32 above 2^31, over
 * equal shapes, broadcasts and arrays large enough to split across threads; reductions over every
 * set of axes. The f64 math the float32 transcendentals use is checked against `Math` on doubles.
 * No primitive here falls back to the cpu kernel.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType } from "effect-nnx"
import type { Aval, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import { elementwiseDTypes } from "../../src/backend/Primitive.ts"
import type {
  BinaryPrimitive,
  FirstOrderPrimitive,
  Params,
  ReducePrimitive,
  UnaryPrimitive
} from "../../src/backend/Primitive.ts"
import { ModuleBuilder } from "../../src/backend/wasm/encoder.ts"
import { inlineMathF32 } from "../../src/backend/wasm/kernels/mathf32.ts"
import type { MathF32 } from "../../src/backend/wasm/kernels/mathf32.ts"
import { evaluateMathF64 } from "./seeded.ts"
import { aval, kernelBackends, mulberry32, run, size } from "./support.ts"

const { cpu, wasm1, wasm2 } = kernelBackends()

const rnd = mulberry32(20260101)
const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rnd() * xs.length)]!

const floatSpecials = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1.1754943508222875e-38,
  1e-30,
  88.7,
  89,
  -103,
  -104,
  22,
  -22,
  9.5,
  2147483648,
  -2147483904,
  4294967296,
  4294967040,
  16777217,
  0.49999997
]
const intSpecials = [0, 1, -1, 2, -2, 3, -0x80000000, 0x7fffffff, 31, 32, 33, -32, 65536]
const uintSpecials = [0, 1, 2, 3, 31, 32, 33, 0xffffffff, 0x80000000, 0x7fffffff]

const sample = (dtype: DType): number => {
  const r = rnd()
  switch (dtype) {
    case "float32":
      if (r < 0.15) return pick(floatSpecials)
      if (r < 0.45) return (rnd() + rnd() + rnd() - 1.5) * 3
      if (r < 0.65) return (rnd() - 0.5) * 200
      if (r < 0.8) return (rnd() < 0.5 ? -1 : 1) * 2 ** ((rnd() - 0.5) * 120)
      if (r < 0.9) return Math.round((rnd() - 0.5) * 20) / 2
      return rnd() * 2 - 1
    case "int32":
      if (r < 0.2) return pick(intSpecials)
      if (r < 0.6) return Math.floor((rnd() - 0.5) * 80)
      return Math.floor((rnd() - 0.5) * 2 ** 32)
    case "uint32":
      if (r < 0.2) return pick(uintSpecials)
      if (r < 0.6) return Math.floor(rnd() * 40)
      return Math.floor(rnd() * 2 ** 32)
    default:
      return r < 0.5 ? 1 : 0
  }
}

const randomArray = (dtype: DType, n: number): HostArray => {
  const data = allocHost(dtype, n)
  for (let i = 0; i < n; i++) data[i] = sample(dtype)
  return data
}

/** float32 bits as integers ordered like the values, so that ulp distance is a difference. */
const ordered = (x: number): number => {
  const b = new Int32Array(new Float32Array([x]).buffer)[0]!
  return b < 0 ? -0x80000000 - b : b
}

/** Asserts `got` equals `want` bit for bit (any NaN equals any NaN), or within `ulps` for float32. */
const assertClose = (got: HostArray, want: HostArray, ulps: number, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!,
      w = want[i]!
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue
    if (ulps > 0 && want instanceof Float32Array && Math.abs(ordered(g) - ordered(w)) <= ulps) continue
    assert.fail(
      `${label}: element ${i} is ${Object.is(g, -0) ? "-0" : g}, the cpu kernel gives ${Object.is(w, -0) ? "-0" : w}`
    )
  }
}

/**
 * float32 transcendentals and the float32 ulps the wasm kernel may differ from the cpu kernel by: log
 * and log1p are computed in double from the engine's own `Math` on the cpu side (one ulp, in rare
 * double-rounding cases); exp, expm1, tanh and logistic on float32 lanes (see `mathf32.ts`, and the
 * accuracy test below, which measures them against the correctly rounded value).
 */
const withinUlps: ReadonlyMap<string, number> = new Map([
  ["log", 1],
  ["log1p", 1],
  ["exp", 2],
  ["expm1", 3],
  ["tanh", 7],
  ["logistic", 3]
])

const check = <P extends FirstOrderPrimitive>(
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>,
  label: string
): void => {
  const want = run(cpu, prim, data, avals, params)
  for (const backend of [wasm1, wasm2]) {
    const got = run(backend, prim, data, avals, params)
    got.forEach((g, i) => assertClose(g, want[i]!, withinUlps.get(prim) ?? 0, `${label} on ${backend.threads} threads`))
  }
}

const noFallbacks = () => {
  for (const b of [wasm1, wasm2])
    assert.deepStrictEqual([...b.stats.fallbacks.keys()], [], "primitives fell back to the cpu kernels")
}

const unaries: ReadonlyArray<UnaryPrimitive> = [
  "neg",
  "exp",
  "log",
  "sin",
  "cos",
  "tanh",
  "logistic",
  "sqrt",
  "rsqrt",
  "abs",
  "sign",
  "floor",
  "ceil",
  "erf",
  "erf_inv",
  "log1p",
  "expm1",
  "not",
  "is_finite"
]
const binaries: ReadonlyArray<BinaryPrimitive> = [
  "add",
  "sub",
  "mul",
  "div",
  "rem",
  "pow",
  "max",
  "min",
  "and",
  "or",
  "xor",
  "shift_left",
  "shift_right_logical",
  "shift_right_arithmetic",
  "nextafter",
  "atan2",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge"
]
const unaryShapes: ReadonlyArray<ReadonlyArray<number>> = [[], [37], [3, 70], [70001]]
const binaryShapes: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<number>]> = [
  [[], []],
  [
    [5, 7],
    [5, 7]
  ],
  [
    [1, 1],
    [9, 13]
  ],
  [
    [9, 1],
    [1, 13]
  ],
  [
    [4, 1, 6],
    [1, 3, 6]
  ],
  [
    [2, 3, 5],
    [2, 1, 5]
  ],
  [[70001], [70001]],
  [
    [257, 1],
    [257, 300]
  ]
]

describe("wasm elementwise kernels", () => {
  it("compute every unary primitive as the cpu kernel does", () => {
    for (const prim of unaries) {
      for (const dtype of elementwiseDTypes[prim]) {
        for (const shape of unaryShapes) {
          check(prim, [randomArray(dtype, size(shape))], [aval(shape, dtype)], {}, `${prim} ${dtype} [${shape}]`)
        }
      }
    }
    noFallbacks()
  })

  it("compute every binary and comparison primitive as the cpu kernel does, with broadcasting", () => {
    for (const prim of binaries) {
      for (const dtype of elementwiseDTypes[prim]) {
        for (const [sa, sb] of binaryShapes) {
          const avals = [aval(sa, dtype), aval(sb, dtype)]
          check(
            prim,
            [randomArray(dtype, size(sa)), randomArray(dtype, size(sb))],
            avals,
            {},
            `${prim} ${dtype} [${sa}] [${sb}]`
          )
        }
      }
    }
    noFallbacks()
  })

  it("handle division by zero, INT_MIN / -1 and out-of-range shifts as the cpu kernel does", () => {
    const x = Int32Array.from([7, -7, -0x80000000, -0x80000000, 0x7fffffff, 5, 1, -1, 3, 12, -12, 0])
    const y = Int32Array.from([0, 0, -1, 0, -1, 32, 31, -33, 40, -1, 2, 0])
    const avals = [aval([12], "int32"), aval([12], "int32")]
    for (const prim of ["div", "rem", "shift_left", "shift_right_logical", "shift_right_arithmetic", "pow"] as const) {
      check(prim, [x, y], avals, {}, `${prim} int32`)
      check(
        prim,
        [new Uint32Array(x.buffer), new Uint32Array(y.buffer)],
        [aval([12], "uint32"), aval([12], "uint32")],
        {},
        `${prim} uint32`
      )
    }
    const base = Float32Array.from([1, -1, -1, 1, 0, -0, -2, 2, Infinity, -Infinity, NaN, 0.5])
    const exponent = Float32Array.from([NaN, Infinity, -Infinity, Infinity, -1, -3, 0.5, -2, -0, 3, 0, Infinity])
    for (const prim of ["pow", "rem", "atan2", "nextafter"] as const) {
      check(prim, [base, exponent], [aval([12], "float32"), aval([12], "float32")], {}, `${prim} float32 specials`)
    }
  })

  it("select, convert and round as the cpu kernels do", () => {
    const numeric: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool"]
    for (const dtype of numeric) {
      for (const [p, a, b] of [
        [
          [6, 5],
          [6, 5],
          [6, 5]
        ],
        [
          [1, 5],
          [6, 1],
          [6, 5]
        ],
        [[], [], []],
        [[70001], [70001], [1]]
      ] as const) {
        const avals = [aval(p, "bool"), aval(a, dtype), aval(b, dtype)]
        check(
          "select",
          [randomArray("bool", size(p)), randomArray(dtype, size(a)), randomArray(dtype, size(b))],
          avals,
          {},
          `select ${dtype}`
        )
      }
      for (const to of numeric) {
        for (const shape of [[3, 9], [70001]]) {
          check(
            "convert_element_type",
            [randomArray(dtype, size(shape))],
            [aval(shape, dtype)],
            { newDtype: to as "float32", weakType: false },
            `convert ${dtype} to ${to}`
          )
        }
      }
    }
    for (const method of ["awayFromZero", "toNearestEven"] as const) {
      const data = Float32Array.from({ length: 4099 }, (_, i) => (i < 200 ? (i - 100) / 4 : sample("float32")))
      check("round", [data], [aval([4099], "float32")], { method }, `round ${method}`)
    }
    noFallbacks()
  })
})

const reduces: ReadonlyArray<ReducePrimitive> = [
  "reduce_sum",
  "reduce_max",
  "reduce_min",
  "reduce_prod",
  "reduce_and",
  "reduce_or"
]
const reduceCases: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<ReadonlyArray<number>>]> = [
  [
    [2, 3, 4],
    [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]
  ],
  [
    [5, 130],
    [[0], [1], [0, 1]]
  ],
  [
    [130, 5],
    [[0], [1]]
  ],
  [
    [3, 1, 70, 2],
    [[1], [0, 2], [2, 3], [1, 3], [-1]]
  ],
  [
    [300, 257],
    [[0], [1]]
  ],
  [[70001], [[0]]],
  [
    [0, 5],
    [[0], [1]]
  ],
  [[3, 1], [[1]]]
]

describe("wasm reductions", () => {
  it("reduce over any axes as the cpu kernel does, float32 sums and products in its order", () => {
    for (const prim of reduces) {
      const dtypes: ReadonlyArray<DType> =
        prim === "reduce_and" || prim === "reduce_or" ? ["bool"] : ["float32", "int32", "uint32", "bool"]
      for (const dtype of dtypes) {
        for (const [shape, axesList] of reduceCases) {
          for (const axes of axesList) {
            if (
              (prim === "reduce_max" || prim === "reduce_min") &&
              axes.some((a) => shape[a < 0 ? a + shape.length : a] === 0)
            )
              continue
            const data = randomArray(dtype, size(shape))
            if (prim === "reduce_prod" && dtype === "float32")
              data.forEach((x, i) => (data[i] = Number.isFinite(x) && Math.abs(x) > 4 ? 1 + x / 256 : x))
            check(prim, [data], [aval(shape, dtype)], { axes }, `${prim} ${dtype} [${shape}] axes [${axes}]`)
          }
        }
      }
    }
    noFallbacks()
  })

  it("find the first extreme with argmax and argmin, NaN first, as the cpu kernel does", () => {
    for (const prim of ["argmax", "argmin"] as const) {
      for (const dtype of ["float32", "int32", "uint32", "bool"] as const) {
        for (const [shape, axis] of [
          [[5, 130], 1],
          [[130, 5], 0],
          [[3, 7, 6], 1],
          [[3, 7, 6], -1],
          [[9], 0],
          [[3], 0],
          [[70001], 0],
          [[2, 70001], 0],
          [[4, 0], 0]
        ] as const) {
          const data = randomArray(dtype, size(shape))
          if (dtype !== "float32")
            data.forEach(
              (x, i) => (data[i] = rnd() < 0.5 ? x : pick(dtype === "bool" ? [0, 1] : [0, 1, 2, 0xffffffff]))
            )
          check(
            prim,
            [data],
            [aval(shape, dtype)],
            { axis, indexDtype: "int32" },
            `${prim} ${dtype} [${shape}] along ${axis}`
          )
        }
      }
    }
    noFallbacks()
  })

  it("sum float32 in the cpu kernel's order, where the order changes the result", () => {
    const data = Float32Array.from([1e30, 1, -1e30, 3, 1e-8, -3, 2 ** 24, 1, 1, 1, 1, 1])
    check("reduce_sum", [data], [aval([12], "float32")], { axes: [0] }, "reduce_sum order")
    check("reduce_sum", [data], [aval([3, 4], "float32")], { axes: [1] }, "reduce_sum rows")
    check("reduce_sum", [data], [aval([4, 3], "float32")], { axes: [0] }, "reduce_sum columns")
  })
})

describe("wasm f64x2 math", () => {
  const evaluate = evaluateMathF64
  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))

  it("equals Math.log and log1p on doubles (fdlibm's operations)", () => {
    const xs = Float64Array.from({ length: 1 << 14 }, () => {
      const r = rnd()
      if (r < 0.1)
        return pick([
          0,
          -0,
          Infinity,
          -Infinity,
          NaN,
          1,
          -1,
          5e-324,
          -5e-324,
          1e-310,
          709.78,
          709.79,
          -745.1,
          -745.2,
          1e300,
          -1e300,
          2 ** 53,
          2 ** 1023
        ])
      if (r < 0.5) return (rnd() - 0.5) * 60
      if (r < 0.7) return (rnd() - 0.5) * 1500
      if (r < 0.8) return 1 + (rnd() - 0.5) * 1e-5
      return (rnd() < 0.5 ? -1 : 1) * 2 ** ((rnd() - 0.5) * 2100)
    })
    const reference = { log: Math.log, log1p: Math.log1p }
    for (const name of ["log", "log1p"] as const) {
      const got = evaluate(name, xs)
      xs.forEach((x, i) => {
        const want = reference[name](x)
        // Engines whose Math takes these from another library agree to within one double ulp.
        if (!same(got[i]!, want))
          assert.isTrue(
            Math.abs(got[i]! - want) <= Math.abs(want) * 2 ** -52,
            `${name}(${x}) = ${got[i]}, Math gives ${want}`
          )
      })
    }
  })
})

describe("wasm f32x4 math", () => {
  const evaluate = (name: MathF32, xs: Float32Array): Float32Array => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true })
    const m = new ModuleBuilder({ initialPages: 64, maximumPages: 64, shared: true })
    m.addFunction("run", ["i32"], [], (f) => {
      const i = f.local("i32"),
        x = f.local("v128")
      f.forLoop(i, { const: 0 }, 0, { const: 16 }, () => {
        f.get(i).get(i).v128_load().set(x)
        inlineMathF32(f, name, x)
        f.v128_store()
      })
    })
    const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory } })
    new Float32Array(memory.buffer, 0, xs.length).set(xs)
    ;(instance.exports["run"] as (bytes: number) => void)(xs.length * 4)
    return new Float32Array(memory.buffer, 0, xs.length).slice()
  }
  const reference: { readonly [K in MathF32]: (x: number) => number } = {
    exp: Math.exp,
    expm1: Math.expm1,
    tanh: Math.tanh,
    logistic: (x) => 1 / (1 + Math.exp(-x))
  }
  /** The bound each function is held to, in float32 ulps from the correctly rounded value. */
  const bound: { readonly [K in MathF32]: number } = { exp: 1, expm1: 2, tanh: 6, logistic: 2 }
  const ulpsApart = (a: number, b: number): number => Math.abs(ordered(a) - ordered(b))
  // Dense sweeps where each function changes regime, plus specials.
  const sweep = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo + (hi - lo) * (i / n))
  const xs = Float32Array.from([
    ...floatSpecials,
    88.72283,
    88.72284,
    -87.33655,
    -87.33656,
    -103.97,
    -103.98,
    -17.32,
    -17.33,
    9.01,
    9.02,
    7.9,
    0.3465736,
    ...sweep(-110, 110, 1 << 16),
    ...sweep(-20, 20, 1 << 16),
    ...sweep(-1, 1, 1 << 15),
    ...sweep(-1e-3, 1e-3, 1 << 12),
    ...Array.from({ length: 1 << 14 }, () => sample("float32"))
  ])

  it("computes exp, expm1, tanh and logistic of float32 within their ulp bounds of the correctly rounded value", () => {
    for (const name of ["exp", "expm1", "tanh", "logistic"] as const) {
      const got = evaluate(name, xs)
      let worst = 0
      xs.forEach((x, i) => {
        const want = Math.fround(reference[name](x)),
          g = got[i]!
        if (Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want))) return
        assert.isTrue(
          Number.isFinite(want) && Number.isFinite(g),
          `${name}(${x}) = ${g}, the correctly rounded value is ${want}`
        )
        worst = Math.max(worst, ulpsApart(g, want))
        assert.isAtMost(ulpsApart(g, want), bound[name], `${name}(${x}) = ${g}, the correctly rounded value is ${want}`)
      })
      assert.isAbove(worst, 0, `${name}: a float32 polynomial that is never off by an ulp means the sweep missed`)
    }
  })

  it("keeps tanh within [-1, 1], exactly ±1 from |x| = 9 on, and odd bit for bit", () => {
    const near = Float32Array.from([...sweep(8, 9.5, 1 << 14), ...sweep(-9.5, -8, 1 << 14), 9, -9, 1e30, -1e30])
    const got = evaluate("tanh", near)
    near.forEach((x, i) => {
      const g = got[i]!
      assert.isAtMost(Math.abs(g), 1, `tanh(${x}) = ${g} leaves [-1, 1]`)
      if (Math.abs(x) >= 9) assert.strictEqual(g, Math.sign(x), `tanh(${x})`)
    })
    const half = Float32Array.from(sweep(0, 12, 1 << 15))
    const positive = evaluate("tanh", half)
    const negative = evaluate(
      "tanh",
      half.map((x) => -x)
    )
    positive.forEach((g, i) =>
      assert.isTrue(Object.is(negative[i], -g), `tanh(-${half[i]}) = ${negative[i]}, -tanh(${half[i]}) = ${-g}`)
    )
  })

  it("keeps the special values: NaN, infinities, signed zeros, overflow and underflow", () => {
    const specials = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 89, -104, 1e-45, -1e-45, 100, -100])
    const want: { readonly [K in MathF32]: ReadonlyArray<number> } = {
      exp: [NaN, Infinity, 0, 1, 1, Infinity, 0, 1, 1, Infinity, Math.fround(Math.exp(-100))],
      expm1: [NaN, Infinity, -1, 0, -0, Infinity, -1, Math.fround(1e-45), -Math.fround(1e-45), Infinity, -1],
      tanh: [NaN, 1, -1, 0, -0, 1, -1, Math.fround(1e-45), -Math.fround(1e-45), 1, -1],
      logistic: [
        NaN,
        1,
        0,
        0.5,
        0.5,
        1,
        Math.fround(1 / (1 + Math.exp(104))),
        0.5,
        0.5,
        1,
        Math.fround(1 / (1 + Math.exp(100)))
      ]
    }
    for (const name of ["exp", "expm1", "tanh", "logistic"] as const) {
      const got = [...evaluate(name, specials)]
      got.forEach((g, i) => {
        const w = want[name][i]!
        if (Number.isNaN(w)) assert.isTrue(Number.isNaN(g), `${name}(${specials[i]}) = ${g}, want NaN`)
        else if (w === 0 || !Number.isFinite(w) || Math.abs(w) < 1e-30)
          assert.isTrue(Object.is(g, w), `${name}(${specials[i]}) = ${g}, want ${w}`)
        else assert.isAtMost(ulpsApart(g, w), bound[name], `${name}(${specials[i]}) = ${g}, want ${w}`)
      })
    }
  })
})

describe("wasm copy kernels", () => {
  const dtypes: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool", "key<fry>"]
  const data = (dtype: DType, shape: ReadonlyArray<number>): HostArray =>
    dtype === "key<fry>" ? randomArray("uint32", 2 * size(shape)) : randomArray(dtype, size(shape))

  it("broadcast, transpose, slice and concatenate every dtype, keys as units", () => {
    for (const dtype of dtypes) {
      for (const [from, shape, broadcastDimensions] of [
        [[3], [2, 3], [1]],
        [
          [3, 1],
          [3, 4],
          [0, 1]
        ],
        [[], [5], []],
        [
          [2, 3],
          [2, 4, 3],
          [0, 2]
        ],
        [[1], [70001], [0]]
      ] as const) {
        check(
          "broadcast_in_dim",
          [data(dtype, from)],
          [aval(from, dtype)],
          { shape, broadcastDimensions },
          `broadcast ${dtype} [${from}] to [${shape}]`
        )
      }
      for (const [shape, permutation] of [
        [
          [2, 3, 4],
          [2, 0, 1]
        ],
        [
          [2, 3, 4],
          [1, 0, 2]
        ],
        [
          [2, 3, 4],
          [0, 1, 2]
        ],
        [
          [70, 301],
          [1, 0]
        ]
      ] as const) {
        check(
          "transpose",
          [data(dtype, shape)],
          [aval(shape, dtype)],
          { permutation },
          `transpose ${dtype} [${shape}] by [${permutation}]`
        )
      }
      check(
        "slice",
        [data(dtype, [10, 12])],
        [aval([10, 12], dtype)],
        { startIndices: [1, 2], limitIndices: [9, 12], strides: [2, 3] },
        `slice ${dtype}`
      )
      check(
        "slice",
        [data(dtype, [10, 12])],
        [aval([10, 12], dtype)],
        { startIndices: [0, 5], limitIndices: [10, 7], strides: [1, 1] },
        `slice ${dtype}`
      )
      for (const [shapes, dimension] of [
        [
          [
            [2, 3],
            [4, 3]
          ],
          0
        ],
        [
          [
            [2, 3],
            [2, 1],
            [2, 5]
          ],
          1
        ],
        [
          [
            [2, 0],
            [2, 2]
          ],
          -1
        ]
      ] as const) {
        check(
          "concatenate",
          shapes.map((s) => data(dtype, s)),
          shapes.map((s) => aval(s, dtype)),
          { dimension },
          `concatenate ${dtype} on ${dimension}`
        )
      }
    }
    noFallbacks()
  })

  it("clamp dynamic slice starts, pad with interior padding and write iota as the cpu kernels do", () => {
    for (const dtype of dtypes) {
      for (const [i, j] of [
        [1, 2],
        [5, -1],
        [-3, 9],
        [0, 0]
      ] as const) {
        const starts = [Int32Array.of(i), Int32Array.of(j)]
        const idx = [aval([], "int32"), aval([], "int32")]
        check(
          "dynamic_slice",
          [data(dtype, [6, 7]), ...starts],
          [aval([6, 7], dtype), ...idx],
          { sliceSizes: [2, 3] },
          `dynamic_slice ${dtype} at ${i}, ${j}`
        )
        check(
          "dynamic_update_slice",
          [data(dtype, [6, 7]), data(dtype, [2, 3]), ...starts],
          [aval([6, 7], dtype), aval([2, 3], dtype), ...idx],
          {},
          `dynamic_update_slice ${dtype} at ${i}, ${j}`
        )
      }
      const unsigned = [Uint32Array.of(0xffffffff), Uint32Array.of(1)]
      check(
        "dynamic_slice",
        [data(dtype, [6, 7]), ...unsigned],
        [aval([6, 7], dtype), aval([], "uint32"), aval([], "uint32")],
        { sliceSizes: [2, 3] },
        `dynamic_slice ${dtype} at uint32 starts`
      )
      if (dtype === "key<fry>") continue
      check(
        "pad",
        [data(dtype, [3, 4]), data(dtype, [])],
        [aval([3, 4], dtype), aval([], dtype)],
        {
          config: [
            [1, 2, 0],
            [0, 1, 2]
          ]
        },
        `pad ${dtype}`
      )
    }
    for (const [dtype, shape, dimension] of [
      ["int32", [3, 4], 1],
      ["float32", [5], 0],
      ["uint32", [2, 3, 4], 1],
      ["int32", [2, 0], 0]
    ] as const) {
      check("iota", [], [], { dtype, shape, dimension }, `iota ${dtype} [${shape}] along ${dimension}`)
    }
    noFallbacks()
  })
})
