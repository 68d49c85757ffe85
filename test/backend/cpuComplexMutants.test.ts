/**
 * The complex64 cpu kernels (src/backend/cpu/complex.ts), called directly through the cpu kernel table
 * (issue 16: tests that catch injected bugs): every elementwise operation against its definition in
 * double (and special values: zeros with signs, the branch cut of sqrt, division by zero, overflow
 * of tanh, NaN in max and min), broadcasting of size-1 axes, select, pad (interior and, called
 * directly, negative edges), reductions over every axis set, scans both ways, and `dot_general` with
 * batch, free and contracting axes anywhere, against naive references written here.
 */
import { describe, expect, it } from "vitest"
import { allocHost, aval } from "../../src/backend/DType.ts"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { fromParts, toComplex64 } from "../../src/backend/cpu/complex.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"
import type { FirstOrderPrimitive, Params } from "../../src/backend/Primitive.ts"
import { sizeOf } from "../../src/backend/shape.ts"
import { naive, ravel, unravel } from "../support/multiIndex.ts"

type Z = readonly [number, number]

/** mulberry32: a seeded uniform generator on [0, 1). */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

interface Arr {
  readonly data: HostArray
  readonly shape: ReadonlyArray<number>
  readonly dtype: DType
}

const cx = (shape: ReadonlyArray<number>, zs: ReadonlyArray<Z>): Arr => ({
  data: Float32Array.from(zs.flat()),
  shape,
  dtype: "complex64"
})
const real = (dtype: DType, shape: ReadonlyArray<number>, v: ReadonlyArray<number>): Arr => {
  const data = allocHost(dtype, v.length)
  data.set(v)
  return { data, shape, dtype }
}
const randomZ = (n: number, seed: number, scale = 4): Array<Z> => {
  const rnd = mulberry32(seed)
  return Array.from(
    { length: n },
    () => [Math.fround((rnd() - 0.5) * scale), Math.fround((rnd() - 0.5) * scale)] as const
  )
}

const run = <P extends FirstOrderPrimitive>(prim: P, params: Params<P>, ...xs: ReadonlyArray<Arr>): Arr => {
  const inAvals = xs.map((x) => aval(x.shape, x.dtype))
  const outAvals = abstractEval[prim](inAvals, params)
  const out = cpuKernels[prim](
    xs.map((x) => x.data),
    inAvals,
    outAvals,
    params
  )[0]!
  return { data: out, shape: outAvals[0]!.shape, dtype: outAvals[0]!.dtype }
}

const pairs = (a: HostArray): Array<Z> =>
  Array.from({ length: a.length / 2 }, (_, i) => [a[2 * i]!, a[2 * i + 1]!] as const)

/** float32 results of double computations: each part within a few float32 ulps of the modulus. */
const expectClose = (got: ReadonlyArray<Z>, want: ReadonlyArray<Z>, label: string, tol = 4e-7): void => {
  expect(got.length, label).toBe(want.length)
  got.forEach(([gr, gi], k) => {
    const [wr, wi] = want[k]!
    const scale = Math.max(Math.hypot(wr, wi), 1e-30)
    const ok = (g: number, w: number) => (Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= tol * scale)
    if (!ok(gr, wr) || !ok(gi, wi)) expect.fail(`${label}: element ${k} is ${gr} ${gi}i, want ${wr} ${wi}i`)
  })
}

/** Exactly equal, signed zeros and NaN included. */
const expectSame = (got: ReadonlyArray<number>, want: ReadonlyArray<number>, label: string): void => {
  expect(got.length, label).toBe(want.length)
  got.forEach((g, k) => {
    if (!Object.is(g, want[k]!)) expect.fail(`${label}: element ${k} is ${g}, want ${want[k]}`)
  })
}

// Complex arithmetic by definition, in double.
const mul = ([a, b]: Z, [c, d]: Z): Z => [a * c - b * d, a * d + b * c]
const div = ([a, b]: Z, [c, d]: Z): Z => {
  const m = c * c + d * d
  return [(a * c + b * d) / m, (b * c - a * d) / m]
}
const cexp = ([a, b]: Z): Z => [Math.exp(a) * Math.cos(b), Math.exp(a) * Math.sin(b)]
const clog = ([a, b]: Z): Z => [Math.log(Math.hypot(a, b)), Math.atan2(b, a)]
/** The principal square root: the root with a non-negative real part (by polar form). */
const csqrt = ([a, b]: Z): Z => {
  const r = Math.sqrt(Math.hypot(a, b)),
    t = Math.atan2(b, a) / 2
  return [r * Math.cos(t), r * Math.sin(t)]
}
const add = ([a, b]: Z, [c, d]: Z): Z => [a + c, b + d]
const sub = ([a, b]: Z, [c, d]: Z): Z => [a - c, b - d]
const neg = ([a, b]: Z): Z => [-a, -b]
const I: Z = [0, 1]
const ONE: Z = [1, 0]

const unaryRefs: Record<string, (z: Z) => Z> = {
  neg,
  conj: ([a, b]) => [a, -b],
  exp: cexp,
  log: clog,
  sqrt: csqrt,
  // sin z = (e^{iz} - e^{-iz}) / 2i, cos z = (e^{iz} + e^{-iz}) / 2
  sin: (z) => div(sub(cexp(mul(I, z)), cexp(neg(mul(I, z)))), [0, 2]),
  cos: (z) => div(add(cexp(mul(I, z)), cexp(neg(mul(I, z)))), [2, 0]),
  tanh: (z) => div(sub(cexp(z), cexp(neg(z))), add(cexp(z), cexp(neg(z)))),
  logistic: (z) => div(ONE, add(ONE, cexp(neg(z)))),
  rsqrt: (z) => div(ONE, csqrt(z)),
  log1p: (z) => clog(add(ONE, z)),
  expm1: (z) => sub(cexp(z), ONE),
  sign: ([a, b]) => (a === 0 && b === 0 ? [0, 0] : [a / Math.hypot(a, b), b / Math.hypot(a, b)])
}

const unary = (prim: string, zs: ReadonlyArray<Z>): Array<Z> => pairs(run(prim as "exp", {}, cx([zs.length], zs)).data)

describe("complex64 unary operations", () => {
  const zs: Array<Z> = [...randomZ(24, 1), [0.5, 0], [0, -1.25], [-2, 0.5], [-1.5, -0.75]]
  for (const prim of Object.keys(unaryRefs)) {
    it(`${prim} equals its definition`, () => {
      expectClose(unary(prim, zs), zs.map(unaryRefs[prim]!), prim, prim === "tanh" || prim === "logistic" ? 2e-6 : 4e-7)
    })
  }

  it("small arguments of log1p and expm1 keep their accuracy", () => {
    const small: Array<Z> = [
      [1e-7, 2e-7],
      [-3e-8, 1e-7],
      [2e-4, -1e-4]
    ]
    // log(1 + z) ≈ z - z²/2 + z³/3, exp(z) - 1 ≈ z + z²/2 + z³/6.
    const series = (z: Z, c2: number, c3: number): Z => {
      const z2 = mul(z, z),
        z3 = mul(z2, z)
      return [z[0] + c2 * z2[0] + c3 * z3[0], z[1] + c2 * z2[1] + c3 * z3[1]]
    }
    expectClose(
      unary("log1p", small),
      small.map((z) => series(z, -1 / 2, 1 / 3)),
      "log1p",
      1e-6
    )
    expectClose(
      unary("expm1", small),
      small.map((z) => series(z, 1 / 2, 1 / 6)),
      "expm1",
      1e-6
    )
    // exp(a) cos b - 1 for a = 0, b small: -2 sin²(b/2) ≈ -b²/2, lost in 1 - cos b rounding.
    expectClose(unary("expm1", [[0, 1e-4]]), [[-5e-9, 1e-4]], "expm1 real", 1e-6)
  })

  it("special values: signed zeros, the branch cut of sqrt, infinities, overflow of tanh", () => {
    const flat = (prim: string, z: ReadonlyArray<Z>) => unary(prim, z).flat()
    expectSame(
      flat("sqrt", [
        [0, 0],
        [0, -0],
        [-0, 0],
        [-4, 0],
        [-4, -0],
        [4, 0],
        [4, -0],
        [0, 2],
        [-0, -2]
      ]),
      [0, 0, 0, -0, 0, 0, 0, 2, 0, -2, 2, 0, 2, -0, 1, 1, 1, -1],
      "sqrt"
    )
    expectSame(
      flat("rsqrt", [
        [4, 0],
        [-4, 0]
      ]),
      [0.5, 0, 0, -0.5],
      "rsqrt"
    )
    expectSame(
      flat("exp", [
        [Infinity, 0],
        [Infinity, -0],
        [0, -0],
        [1, 0]
      ]),
      [Infinity, 0, Infinity, -0, 1, -0, Math.fround(Math.E), 0],
      "exp"
    )
    // Past |a| = 20 tanh is ±1 with a zero imaginary part of the sign of sin 2b; at 20 the formula.
    expectSame(
      flat("tanh", [
        [1000, 1],
        [1000, 2],
        [-1000, 2],
        [25, 0],
        [-25, -0.5]
      ]),
      [1, 0, 1, -0, -1, -0, 1, 0, -1, -0],
      "tanh"
    )
    const at20 = unary("tanh", [
      [20, 1],
      [-20, 1]
    ])
    const want20 = Math.fround(Math.sin(2) / (Math.cosh(40) + Math.cos(2)))
    expectSame(at20.flat(), [1, want20, -1, want20], "tanh at 20")
    expectSame(
      flat("sign", [
        [0, 0],
        [-0, -0],
        [3, -4]
      ]),
      [0, 0, 0, 0, 0.6000000238418579, -0.800000011920929],
      "sign"
    )
    expectSame(flat("neg", [[0, -0]]), [-0, 0], "neg")
    expectSame(flat("conj", [[1, 0]]), [1, -0], "conj")
    expectSame(
      flat("log", [
        [0, 0],
        [-1, 0],
        [-1, -0]
      ]),
      [-Infinity, 0, 0, Math.fround(Math.PI), 0, -Math.fround(Math.PI)],
      "log"
    )
  })

  it("abs, real and imag give float32", () => {
    const z = cx(
      [2, 2],
      [
        [3, -4],
        [-0, 2],
        [1e-30, 1e-30],
        [Infinity, Number.NaN]
      ]
    )
    for (const [prim, want] of [
      ["abs", [5, 2, Math.fround(Math.hypot(1e-30, 1e-30)), Infinity]],
      ["real", [3, -0, Math.fround(1e-30), Infinity]],
      ["imag", [-4, 2, Math.fround(1e-30), Number.NaN]]
    ] as const) {
      const out = run(prim, {}, z)
      expect(out.data).toBeInstanceOf(Float32Array)
      expect(out.shape).toEqual([2, 2])
      expectSame(Array.from(out.data), want, prim)
    }
  })

  it("a real operand keeps the real kernel", () => {
    expectSame(Array.from(run("neg", {}, real("float32", [2], [1, -2])).data), [-1, 2], "neg")
    expectSame(Array.from(run("abs", {}, real("int32", [2], [-3, 4])).data), [3, 4], "abs")
  })
})

// ---- binary -----------------------------------------------------------------------------------

/** Broadcast `a` (equal rank, size-1 axes repeat) to `shape`, by multi-index. */
const at = (x: Arr, idx: ReadonlyArray<number>): number =>
  ravel(
    idx.map((v, d) => (x.shape[d] === 1 ? 0 : v)),
    x.shape
  )
const zAt = (x: Arr, idx: ReadonlyArray<number>): Z => {
  const k = at(x, idx)
  return [x.data[2 * k]!, x.data[2 * k + 1]!]
}

const binaryRefs: Record<string, (a: Z, b: Z) => Z | number> = {
  add,
  sub,
  mul,
  div,
  // JAX's lax.max/lax.min: the first operand where strictly greater (smaller), else the second.
  max: (a, b) => ((a[0] === b[0] ? a[1] > b[1] : a[0] > b[0]) ? a : b),
  min: (a, b) => ((a[0] === b[0] ? a[1] < b[1] : a[0] < b[0]) ? a : b),
  eq: (a, b) => (a[0] === b[0] && a[1] === b[1] ? 1 : 0),
  ne: (a, b) => (a[0] === b[0] && a[1] === b[1] ? 0 : 1),
  lt: (a, b) => (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]) ? 1 : 0),
  le: (a, b) => (a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? 1 : 0),
  gt: (a, b) => (a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]) ? 1 : 0),
  ge: (a, b) => (a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? 1 : 0)
}

describe("complex64 binary operations", () => {
  // Ties in the real parts, equal elements, and imaginary parts that decide.
  const vals: Array<Z> = [
    [1, 2],
    [1, -1],
    [-2, 0.5],
    [0.25, 2],
    [1, 2],
    [3, -3]
  ]
  const pick = (n: number, seed: number): Array<Z> => {
    const rnd = mulberry32(seed)
    return Array.from({ length: n }, () => vals[Math.floor(rnd() * vals.length)]!)
  }
  for (const [sa, sb] of [
    [
      [2, 3],
      [2, 3]
    ],
    [
      [2, 1, 3],
      [1, 4, 3]
    ],
    [
      [3, 1],
      [1, 1]
    ],
    [[], []]
  ] as const) {
    it(`every operation on shapes [${sa}] and [${sb}]`, () => {
      const a = cx(sa, pick(sizeOf(sa), sa.length)),
        b = cx(sb, pick(sizeOf(sb), sb.length + 7))
      for (const [prim, ref] of Object.entries(binaryRefs)) {
        const out = run(prim as "add", {}, a, b)
        const shape = out.shape
        const want = Array.from({ length: sizeOf(shape) }, (_, e) =>
          ref(zAt(a, unravel(e, shape)), zAt(b, unravel(e, shape)))
        )
        if (out.dtype === "bool") {
          expect(out.data).toBeInstanceOf(Uint8Array)
          expectSame(Array.from(out.data), want as Array<number>, prim)
        } else expectClose(pairs(out.data), want as Array<Z>, prim)
      }
    })
  }

  it("random operands, both ways of broadcasting", () => {
    const a = cx([3, 1, 2], randomZ(6, 5)),
      b = cx([1, 4, 2], randomZ(8, 6))
    for (const prim of ["add", "sub", "mul", "div"] as const) {
      for (const [x, y] of [
        [a, b],
        [b, a]
      ] as const) {
        const out = run(prim, {}, x, y)
        expect(out.shape).toEqual([3, 4, 2])
        const want = naive([3, 4, 2], () => 0).map(
          (_, e) => binaryRefs[prim]!(zAt(x, unravel(e, out.shape)), zAt(y, unravel(e, out.shape))) as Z
        )
        expectClose(pairs(out.data), want, prim)
      }
    }
  })

  it("division: both orders of |re| and |im|, by a real or imaginary divisor, by zero", () => {
    const a = cx(
      [7],
      [
        [1, 1],
        [3, -2],
        [-2, 5],
        [1, 0],
        [0, 1],
        [-2, -3],
        [0, 0]
      ]
    )
    const b = cx(
      [7],
      [
        [2, 0],
        [0, 4],
        [1, -3],
        [0, 0],
        [0, 0],
        [-0, 0],
        [0, 0]
      ]
    )
    expectSame(
      pairs(run("div", {}, a, b).data).flat(),
      [
        0.5,
        0.5,
        -0.5,
        -0.75,
        -1.7000000476837158,
        -0.10000000149011612,
        Infinity,
        Number.NaN,
        Number.NaN,
        Infinity,
        -Infinity,
        -Infinity,
        Number.NaN,
        Number.NaN
      ],
      "div"
    )
    // |b.re| = |b.im|, and a large quotient.
    expectClose(
      pairs(
        run(
          "div",
          {},
          cx(
            [2],
            [
              [1, 2],
              [3e30, 1]
            ]
          ),
          cx(
            [2],
            [
              [2, 2],
              [1e-8, -1e-8]
            ]
          )
        ).data
      ),
      [div([1, 2], [2, 2]), div([3e30, 1], [Math.fround(1e-8), Math.fround(-1e-8)])],
      "div"
    )
  })

  it("max and min are JAX's: lexicographic, the second operand on ties and against NaN", () => {
    // Expected values from JAX 0.10.2 (lax.max and lax.min on complex64).
    const a = cx(
      [6],
      [
        [1, 2],
        [1, 2],
        [Number.NaN, 0],
        [0, Number.NaN],
        [1, 0],
        [-0, 1]
      ]
    )
    const b = cx(
      [6],
      [
        [1, 2],
        [1, 3],
        [5, 5],
        [-5, 5],
        [Number.NaN, 0],
        [0, 1]
      ]
    )
    const NaN = Number.NaN
    expectSame(Array.from(run("max", {}, a, b).data), [1, 2, 1, 3, 5, 5, 0, NaN, NaN, 0, 0, 1], "max")
    expectSame(Array.from(run("max", {}, b, a).data), [1, 2, 1, 3, NaN, 0, 0, NaN, 1, 0, -0, 1], "max swapped")
    expectSame(Array.from(run("min", {}, a, b).data), [1, 2, 1, 2, 5, 5, -5, 5, NaN, 0, 0, 1], "min")
    expectSame(Array.from(run("min", {}, b, a).data), [1, 2, 1, 2, NaN, 0, -5, 5, 1, 0, -0, 1], "min swapped")
  })

  it("complex(re, im) broadcasts its parts; select picks pairs by a broadcast predicate", () => {
    const re = real("float32", [2, 1], [1, 2]),
      im = real("float32", [1, 3], [-1, -0, 3])
    const z = run("complex", {}, re, im)
    expect(z.shape).toEqual([2, 3])
    expectSame(Array.from(z.data), [1, -1, 1, -0, 1, 3, 2, -1, 2, -0, 2, 3], "complex")
    const z2 = run("complex", {}, im, re)
    expectSame(Array.from(z2.data), [-1, 1, -0, 1, 3, 1, -1, 2, -0, 2, 3, 2], "complex swapped")
    const p = real("bool", [2, 1], [1, 0])
    const a = cx([2, 3], randomZ(6, 9)),
      b = cx([1, 3], randomZ(3, 10))
    const s = run("select", {}, p, a, b)
    expect(s.shape).toEqual([2, 3])
    const want = naive([2, 3], () => 0).flatMap((_, e) => {
      const idx = unravel(e, [2, 3])
      return [...(idx[0] === 0 ? zAt(a, idx) : zAt(b, idx))]
    })
    expectSame(Array.from(s.data), want, "select")
    const s2 = run("select", {}, real("bool", [1, 3], [0, 1, 0]), b, a)
    const want2 = naive([2, 3], () => 0).flatMap((_, e) => {
      const idx = unravel(e, [2, 3])
      return [...(idx[1] === 1 ? zAt(b, idx) : zAt(a, idx))]
    })
    expectSame(Array.from(s2.data), want2, "select 2")
  })
})

// ---- pad ----------------------------------------------------------------------------------------

describe("complex64 pad", () => {
  const padRef = (
    x: Arr,
    v: Z,
    config: ReadonlyArray<readonly [number, number, number]>,
    outShape: ReadonlyArray<number>
  ) =>
    naive(outShape, () => 0).flatMap((_, e) => {
      const idx = unravel(e, outShape)
      const src: Array<number> = []
      for (let d = 0; d < idx.length; d++) {
        const [lo, , interior] = config[d]!
        const q = idx[d]! - lo
        if (q < 0 || q % (interior + 1) !== 0 || q / (interior + 1) >= x.shape[d]!) return [...v]
        src.push(q / (interior + 1))
      }
      return [...zAt(x, src)]
    })

  it("edges and interior padding with a complex value", () => {
    const x = cx([2, 3], randomZ(6, 11))
    const v = cx([], [[7, -0]])
    for (const config of [
      [
        [1, 0, 0],
        [0, 2, 1]
      ],
      [
        [0, 0, 2],
        [2, 1, 0]
      ],
      [
        [0, 0, 0],
        [0, 0, 0]
      ]
    ] as const) {
      const out = run("pad", { config }, x, v)
      expectSame(Array.from(out.data), padRef(x, [7, -0], config, out.shape), `pad ${JSON.stringify(config)}`)
    }
  })

  it("negative edges (called directly) drop the elements outside", () => {
    const x = cx([2, 3], randomZ(6, 12))
    const config = [
      [-1, 1, 0],
      [1, -2, 1]
    ] as const
    // rows: 2 - 1 + 1 = 2; columns: 3 + 2 (interior) + 1 - 2 = 4.
    const outShape = [2, 4]
    const out = cpuKernels.pad(
      [x.data, Float32Array.from([9, 8])],
      [aval([2, 3], "complex64"), aval([], "complex64")],
      [aval(outShape, "complex64")],
      { config }
    )[0]!
    const want = naive(outShape, () => 0).flatMap((_, e) => {
      const [r, c] = unravel(e, outShape) as [number, number]
      const sr = r + 1,
        q = c - 1
      if (sr >= 2 || q < 0 || q % 2 !== 0) return [9, 8]
      return [...zAt(x, [sr, q / 2])]
    })
    expectSame(Array.from(out), want, "negative pad")
    const low = cpuKernels.pad(
      [x.data, Float32Array.from([9, 8])],
      [aval([2, 3], "complex64"), aval([], "complex64")],
      [aval([2, 2], "complex64")],
      {
        config: [
          [0, 0, 0],
          [-2, 1, 0]
        ]
      }
    )[0]!
    expectSame(Array.from(low), [...zAt(x, [0, 2]), 9, 8, ...zAt(x, [1, 2]), 9, 8], "negative low pad")
    // A cropped element lands exactly one past the row (position = width) while the next row starts
    // with padding: it must not be written there.
    const edge = cpuKernels.pad(
      [x.data, Float32Array.from([9, 8])],
      [aval([2, 3], "complex64"), aval([], "complex64")],
      [aval([2, 2], "complex64")],
      {
        config: [
          [0, 0, 0],
          [1, -2, 0]
        ]
      }
    )[0]!
    expectSame(Array.from(edge), [9, 8, ...zAt(x, [0, 0]), 9, 8, ...zAt(x, [1, 0])], "crop at the row end")
  })
})

// ---- reductions, scans, products ------------------------------------------------------------------

describe("complex64 reductions and scans", () => {
  const x = cx([2, 3, 2], randomZ(12, 13, 2))
  const reduceRef = (prim: "reduce_sum" | "reduce_prod", axes: ReadonlyArray<number>): Array<Z> => {
    const outShape = x.shape.filter((_, d) => !axes.includes(d))
    return naive(outShape, () => 0).map((_, e) => {
      const oi = unravel(e, outShape)
      let acc: Z = prim === "reduce_sum" ? [0, 0] : [1, 0]
      for (let f = 0; f < sizeOf(x.shape); f++) {
        const idx = unravel(f, x.shape)
        if (idx.filter((_, d) => !axes.includes(d)).some((v, j) => v !== oi[j])) continue
        acc = prim === "reduce_sum" ? add(acc, zAt(x, idx)) : mul(acc, zAt(x, idx))
      }
      return acc
    })
  }
  for (const prim of ["reduce_sum", "reduce_prod"] as const) {
    it(`${prim} over every set of axes`, () => {
      for (const axes of [[], [0], [1], [2], [0, 2], [-1, 1], [0, 1, 2]]) {
        const out = run(prim, { axes }, x)
        expectClose(
          pairs(out.data),
          reduceRef(
            prim,
            axes.map((a) => (a + 3) % 3)
          ),
          `${prim} ${axes}`,
          1e-6
        )
      }
    })
  }

  it("sums and products in double, rounded once; empty reductions give the identity", () => {
    const big = cx(
      [3],
      [
        [16777216, 1],
        [1, 16777216],
        [1, 1]
      ]
    )
    expectSame(Array.from(run("reduce_sum", { axes: [0] }, big).data), [16777218, 16777218], "sum")
    const p = cx(
      [3],
      [
        [4097, 0],
        [4097, 0],
        [1, 1]
      ]
    )
    // 4097² = 16785409 is not a float32; (4097² + 4097²i) rounds once.
    expectSame(Array.from(run("reduce_prod", { axes: [0] }, p).data), [16785408, 16785408], "prod")
    const empty = cx([2, 0], [])
    expectSame(Array.from(run("reduce_sum", { axes: [1] }, empty).data), [0, 0, 0, 0], "empty sum")
    expectSame(Array.from(run("reduce_prod", { axes: [1] }, empty).data), [1, 0, 1, 0], "empty prod")
  })

  const scanRef = (prim: "cumsum" | "cumprod", axis: number, reverse: boolean): Array<Z> =>
    naive(x.shape, () => 0).map((_, e) => {
      const idx = unravel(e, x.shape)
      let acc: Z = prim === "cumsum" ? [0, 0] : [1, 0]
      for (let k = 0; k < x.shape[axis]!; k++) {
        if (reverse ? k < idx[axis]! : k > idx[axis]!) continue
        const j = idx.slice()
        j[axis] = k
        acc = prim === "cumsum" ? add(acc, zAt(x, j)) : mul(acc, zAt(x, j))
      }
      return acc
    })
  for (const prim of ["cumsum", "cumprod"] as const) {
    it(`${prim} along every axis, both ways`, () => {
      for (const axis of [0, 1, 2, -1]) {
        for (const reverse of [false, true]) {
          const out = run(prim, { axis, reverse }, x)
          expectClose(pairs(out.data), scanRef(prim, (axis + 3) % 3, reverse), `${prim} ${axis} ${reverse}`, 1e-6)
        }
      }
    })
  }

  it("scans accumulate in double", () => {
    const s = cx(
      [3],
      [
        [16777216, 0],
        [1, 16777216],
        [1, 1]
      ]
    )
    expectSame(
      Array.from(run("cumsum", { axis: 0, reverse: false }, s).data),
      [16777216, 0, 16777216, 16777216, 16777218, 16777216],
      "cumsum"
    )
    const p = cx(
      [2],
      [
        [4097, 1],
        [4097, -1]
      ]
    )
    // (4097 + i)(4097 - i) = 4097² + 1 = 16785410 (4097² alone, 16785409, is no float32).
    expectSame(Array.from(run("cumprod", { axis: 0, reverse: false }, p).data), [4097, 1, 16785410, 0], "cumprod")
  })
})

describe("complex64 dot_general", () => {
  const dotRef = (a: Arr, b: Arr, p: Params<"dot_general">, outShape: ReadonlyArray<number>): Array<Z> => {
    const lc = p.lhsContracting,
      rc = p.rhsContracting,
      lb = p.lhsBatch,
      rb = p.rhsBatch
    const lf = a.shape.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i))
    const rf = b.shape.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i))
    const cShape = lc.map((d) => a.shape[d]!)
    return naive(outShape, () => 0).map((_, e) => {
      const oi = unravel(e, outShape)
      let acc: Z = [0, 0]
      for (let k = 0; k < sizeOf(cShape); k++) {
        const ci = unravel(k, cShape)
        const ai = new Array<number>(a.shape.length),
          bi = new Array<number>(b.shape.length)
        lb.forEach((d, j) => (ai[d] = oi[j]!))
        rb.forEach((d, j) => (bi[d] = oi[j]!))
        lf.forEach((d, j) => (ai[d] = oi[lb.length + j]!))
        rf.forEach((d, j) => (bi[d] = oi[lb.length + lf.length + j]!))
        lc.forEach((d, j) => (ai[d] = ci[j]!))
        rc.forEach((d, j) => (bi[d] = ci[j]!))
        acc = add(acc, mul(zAt(a, ai), zAt(b, bi)))
      }
      return acc
    })
  }
  const cases: ReadonlyArray<{
    readonly a: ReadonlyArray<number>
    readonly b: ReadonlyArray<number>
    readonly p: Params<"dot_general">
  }> = [
    { a: [2, 3], b: [3, 4], p: { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] } },
    { a: [3, 2], b: [4, 3], p: { lhsContracting: [0], rhsContracting: [1], lhsBatch: [], rhsBatch: [] } },
    { a: [2, 3, 4], b: [4, 2, 5], p: { lhsContracting: [2], rhsContracting: [0], lhsBatch: [0], rhsBatch: [1] } },
    {
      a: [3, 2, 2, 4],
      b: [2, 4, 3],
      p: { lhsContracting: [3, 0], rhsContracting: [1, 2], lhsBatch: [1], rhsBatch: [0] }
    },
    { a: [3], b: [3], p: { lhsContracting: [0], rhsContracting: [0], lhsBatch: [], rhsBatch: [] } },
    { a: [2], b: [3], p: { lhsContracting: [], rhsContracting: [], lhsBatch: [], rhsBatch: [] } },
    { a: [2, 0], b: [0, 3], p: { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] } }
  ]
  it("batch, free and contracting axes in any position", () => {
    for (const [j, c] of cases.entries()) {
      const a = cx(c.a, randomZ(sizeOf(c.a), 20 + j)),
        b = cx(c.b, randomZ(sizeOf(c.b), 40 + j))
      const out = run("dot_general", c.p, a, b)
      expectClose(pairs(out.data), dotRef(a, b, c.p, out.shape), `case ${j}`, 1e-6)
    }
  })

  it("sums in double, rounding once", () => {
    const a = cx(
      [1, 3],
      [
        [16777216, 1],
        [1, 1],
        [1, 16777216]
      ]
    )
    const b = cx(
      [3, 1],
      [
        [1, 0],
        [1, 0],
        [1, 0]
      ]
    )
    const p = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }
    expectSame(Array.from(run("dot_general", p, a, b).data), [16777218, 16777218], "sum")
  })
})

describe("complex64 storage helpers", () => {
  it("toComplex64 reads pairs or real words; fromParts interleaves", () => {
    const z = toComplex64(Float32Array.from([1, 2, 3, 4]), true)
    expect(Array.from(z.re)).toEqual([1, 3])
    expect(Array.from(z.im)).toEqual([2, 4])
    const r = toComplex64(Int32Array.from([5, -6, 7]), false)
    expect(Array.from(r.re)).toEqual([5, -6, 7])
    expect(Array.from(r.im)).toEqual([0, 0, 0])
    expect(Array.from(fromParts([1, 2], [3, 4]))).toEqual([1, 3, 2, 4])
    expect(fromParts([], []).length).toBe(0)
  })
})
