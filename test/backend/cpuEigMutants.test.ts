/**
 * The cpu `eig` kernel (src/backend/cpu/eig.ts), called directly through the cpu kernel table (issue
 * 16: tests that catch injected bugs): eigenvalues of matrices with known answers (JAX 0.10.2's, or
 * worked out by hand) as sets, and for every eigenpair `A v = λ v` checked in double, `‖v‖ = 1`, and
 * the entry of largest modulus real and positive (the first of equal ones); real and complex input,
 * batches, with and without vectors, matrices that need the exceptional shift (a cyclic
 * permutation), Jordan blocks, zero columns in the Hessenberg reduction, non-finite input.
 */
import { describe, expect, it } from "vitest"
import { aval } from "../../src/backend/DType.ts"
import type { DType } from "../../src/backend/DType.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"
import { abstractEval } from "../../src/backend/Primitive.ts"

type Z = readonly [number, number]

/** mulberry32: a seeded uniform generator on [0, 1). */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const eig = (dtype: DType, shape: ReadonlyArray<number>, data: ArrayLike<number>, vectors: boolean) => {
  const inAvals = [aval(shape, dtype)]
  const host = dtype === "complex64" ? Float32Array.from(data) : Float32Array.from(data)
  const outAvals = abstractEval.eig(inAvals, { vectors })
  const outs = cpuKernels.eig([host], inAvals, outAvals, { vectors })
  expect(outs.length).toBe(vectors ? 2 : 1)
  return outs.map((o) => o as Float32Array)
}

const pairs = (a: Float32Array): Array<Z> =>
  Array.from({ length: a.length / 2 }, (_, i) => [a[2 * i]!, a[2 * i + 1]!] as const)
const byValue = (a: Z, b: Z) => a[0] - b[0] || a[1] - b[1]

/** Checks one matrix (row-major complex entries): eigenvalues against `want` (as a set), every eigenpair. */
const checkMatrix = (
  a: ReadonlyArray<Z>,
  n: number,
  w: ReadonlyArray<Z>,
  v: ReadonlyArray<Z> | undefined,
  want?: ReadonlyArray<Z>
) => {
  let norm = 0
  for (const [re, im] of a) norm = Math.max(norm, Math.hypot(re, im))
  const tol = 2e-5 * Math.max(norm, 1) * n
  if (want !== undefined) {
    const got = [...w].sort(byValue),
      exp = [...want].sort(byValue)
    got.forEach(([re, im], k) => {
      const [er, ei] = exp[k]!
      if (!(Math.hypot(re - er, im - ei) <= tol))
        expect.fail(`eigenvalue ${k} is ${re} ${im}i, want ${er} ${ei}i (all: ${JSON.stringify(got)})`)
    })
  }
  if (v === undefined) return
  for (let k = 0; k < n; k++) {
    const [lr, li] = w[k]!
    let nrm = 0,
      best = -1,
      bestAbs = -1
    for (let r = 0; r < n; r++) {
      // (A v)_r - λ v_r
      let sr = 0,
        si = 0
      for (let j = 0; j < n; j++) {
        const [ar, ai] = a[r * n + j]!,
          [xr, xi] = v[j * n + k]!
        sr += ar * xr - ai * xi
        si += ar * xi + ai * xr
      }
      const [xr, xi] = v[r * n + k]!
      sr -= lr * xr - li * xi
      si -= lr * xi + li * xr
      if (!(Math.hypot(sr, si) <= tol)) expect.fail(`eigenpair ${k}: residual ${Math.hypot(sr, si)} in row ${r}`)
      const m = Math.hypot(xr, xi)
      nrm += m * m
      if (m > bestAbs + 1e-5) {
        bestAbs = m
        best = r
      }
    }
    expect(Math.abs(Math.sqrt(nrm) - 1), `norm of vector ${k}`).toBeLessThan(1e-6)
    const [pr, pi] = v[best * n + k]!
    expect(pr, `largest entry of vector ${k}`).toBeGreaterThan(0)
    expect(Math.abs(pi), `largest entry of vector ${k} is real`).toBeLessThan(1e-6 * pr)
  }
}

const realZ = (m: ReadonlyArray<ReadonlyArray<number>>): Array<Z> => m.flat().map((x) => [x, 0] as const)

const checkReal = (m: ReadonlyArray<ReadonlyArray<number>>, want?: ReadonlyArray<Z>) => {
  const n = m.length
  const [w, v] = eig("float32", [n, n], m.flat(), true)
  checkMatrix(realZ(m), n, pairs(w!), pairs(v!), want)
  const [w2] = eig("float32", [n, n], m.flat(), false)
  expect(Array.from(w2!)).toEqual(Array.from(w!))
  return { w: pairs(w!), v: pairs(v!) }
}

const r = (x: number): Z => [x, 0]

describe("eig of matrices with known eigenvalues", () => {
  it("2 × 2: a rotation, a swap, a Jordan block, a nilpotent block, a diagonal", () => {
    checkReal(
      [
        [0, -1],
        [1, 0]
      ],
      [
        [0, 1],
        [0, -1]
      ]
    )
    const swap = checkReal(
      [
        [0, 1],
        [1, 0]
      ],
      [r(1), r(-1)]
    )
    // [1, -1] / √2: the first of the two equal largest entries is made positive.
    const minus = swap.w.findIndex(([re]) => re < 0)
    expect(swap.v[minus]![0]).toBeCloseTo(Math.SQRT1_2, 6)
    expect(swap.v[2 + minus]![0]).toBeCloseTo(-Math.SQRT1_2, 6)
    const jordan = checkReal(
      [
        [1, 1],
        [0, 1]
      ],
      [r(1), r(1)]
    )
    // Both vectors are e1 (the second from the perturbed back substitution).
    for (const k of [0, 1]) {
      expect(jordan.v[k]![0]).toBeCloseTo(1, 6)
      expect(Math.abs(jordan.v[2 + k]![0])).toBeLessThan(1e-6)
    }
    checkReal(
      [
        [0, 1],
        [0, 0]
      ],
      [r(0), r(0)]
    )
    checkReal(
      [
        [3, 0],
        [0, -2]
      ],
      [r(3), r(-2)]
    )
    checkReal(
      [
        [0, 0],
        [1, 0]
      ],
      [r(0), r(0)]
    )
  })

  it("triangular, Hessenberg-ready and general matrices", () => {
    checkReal(
      [
        [1, 2, 3],
        [0, 4, 5],
        [0, 0, 6]
      ],
      [r(1), r(4), r(6)]
    )
    checkReal(
      [
        [2, 0, 0],
        [1, 3, 0],
        [4, 5, 7]
      ],
      [r(7), r(3), r(2)]
    )
    checkReal(
      [
        [2, 1, 0],
        [1, 3, 1],
        [0, 1, 4]
      ],
      [r(3 - Math.sqrt(3)), r(3), r(3 + Math.sqrt(3))]
    )
    checkReal(
      [
        [4, -2, 1, 3],
        [1, 0, 2, -1],
        [0, 3, 1, 2],
        [2, 1, -1, 5]
      ],
      [r(6.896488), [-0.001621, 0.778938], [-0.001621, -0.778938], r(3.10675)]
    )
    // A zero where the Householder vector starts (x0 = 0) with a nonzero entry below it.
    const m = [
      [1, 2, 3],
      [0, 4, 5],
      [6, 7, 8]
    ]
    checkReal(m)
    checkReal([
      [0, 0, 1, 2],
      [0, 1, 0, 3],
      [5, 0, 2, 1],
      [1, 4, 0, 0]
    ])
  })

  it("a cyclic permutation (roots of unity), which needs the exceptional shift", () => {
    for (const n of [3, 4, 5, 6]) {
      const m = Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => ((i + n - 1) % n === j ? 1 : 0))
      )
      const roots = Array.from(
        { length: n },
        (_, k) => [Math.cos((2 * Math.PI * k) / n), Math.sin((2 * Math.PI * k) / n)] as const
      )
      checkReal(m, roots)
    }
  })

  it("random real and complex matrices of sizes 1 to 8, in batches", () => {
    const rnd = mulberry32(2026)
    for (const n of [1, 2, 3, 5, 8]) {
      const batch = 2
      const real = Array.from({ length: batch * n * n }, () => rnd() * 4 - 2)
      const [w, v] = eig("float32", [batch, n, n], real, true)
      for (let b = 0; b < batch; b++) {
        const a = realZ([real.slice(b * n * n, (b + 1) * n * n)])
        checkMatrix(a, n, pairs(w!).slice(b * n, (b + 1) * n), pairs(v!).slice(b * n * n, (b + 1) * n * n))
      }
      const cplx = Array.from({ length: 2 * batch * n * n }, () => Math.fround(rnd() * 4 - 2))
      const [cw, cv] = eig("complex64", [batch, n, n], cplx, true)
      const [cw2] = eig("complex64", [batch, n, n], cplx, false)
      expect(Array.from(cw2!)).toEqual(Array.from(cw!))
      for (let b = 0; b < batch; b++) {
        const a = pairs(Float32Array.from(cplx.slice(2 * b * n * n, 2 * (b + 1) * n * n)))
        checkMatrix(a, n, pairs(cw!).slice(b * n, (b + 1) * n), pairs(cv!).slice(b * n * n, (b + 1) * n * n))
      }
    }
  })

  it("complex triangular input and a 1 × 1 matrix", () => {
    const a: Array<Z> = [
      [1, 1],
      [2, 0],
      [0, 0],
      [3, -1]
    ]
    const [w, v] = eig("complex64", [2, 2], a.flat(), true)
    checkMatrix(a, 2, pairs(w!), pairs(v!), [
      [1, 1],
      [3, -1]
    ])
    const [w1, v1] = eig("float32", [1, 1], [-5], true)
    expect(Array.from(w1!)).toEqual([-5, 0])
    expect(Array.from(v1!)).toEqual([1, 0])
  })

  it("a non-finite matrix gives NaN for its batch member only; empty matrices give nothing", () => {
    const data = [1, 2, 3, 4, Number.NaN, 0, 0, 1, 2, 0, 0, Number.POSITIVE_INFINITY]
    const [w, v] = eig("float32", [3, 2, 2], data, true)
    const wp = pairs(w!)
    checkMatrix(realZ([[1, 2, 3, 4]]), 2, wp.slice(0, 2), pairs(v!).slice(0, 4), [
      r((5 - Math.sqrt(33)) / 2),
      r((5 + Math.sqrt(33)) / 2)
    ])
    expect(Array.from(w!.slice(4))).toEqual(new Array(8).fill(Number.NaN))
    expect(Array.from(v!.slice(8))).toEqual(new Array(16).fill(Number.NaN))
    const [wc] = eig("complex64", [2, 2], [1, 0, 0, Number.NaN, 0, 0, 1, 0], false)
    expect(Array.from(wc!)).toEqual(new Array(4).fill(Number.NaN))
    const [w0, v0] = eig("float32", [0, 0], [], true)
    expect(w0!.length).toBe(0)
    expect(v0!.length).toBe(0)
    const [wb] = eig("float32", [0, 3, 3], [], false)
    expect(wb!.length).toBe(0)
  })
})
