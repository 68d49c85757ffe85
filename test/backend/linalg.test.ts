/**
 * `jnp.linalg` and the `jnp.fft` helpers against JAX (tools/goldens/linalg_random.py): values and
 * gradients within float32 tolerances (the decompositions are iterative or pivoted, so the last bits
 * differ); eigenvectors and singular vectors compared up to their sign, which JAX leaves to LAPACK;
 * gradients against finite differences; properties over random shapes (Q orthonormal and QR = A,
 * A v = v w, U S Vh = A, A x = b); `vmap` equal to a loop and `jit` equal to eager; typed errors.
 */
import { fc, test } from "@fast-check/vitest"
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, AxisError, DTypeError, grad, jit, jnp, random, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

interface G {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly data: ReadonlyArray<number | null>
  readonly special?: Record<string, string>
}
type Named = { readonly name: string; readonly a: G } & Record<string, unknown>
interface Goldens {
  readonly linalg: {
    readonly qr: ReadonlyArray<Named & { q: G; r: G; q_complete: G; r_complete: G }>
    readonly cholesky: ReadonlyArray<Named & { l: G }>
    readonly cholesky_not_pd: G
    readonly det: ReadonlyArray<Named & { det: G; sign: G; logabsdet: G }>
    readonly inv: ReadonlyArray<Named & { inv: G }>
    readonly solve: ReadonlyArray<Named & { b: G; x: G }>
    readonly solve_triangular: ReadonlyArray<Named & { b: G; x: G; lower: boolean; trans: 0 | 1; unit: boolean }>
    readonly eigh: ReadonlyArray<Named & { w: G; v: G }>
    readonly svd: ReadonlyArray<Named & { s: G; u: G; vh: G; rank: G; pinv: G }>
    readonly norm: {
      readonly matrix: G
      readonly vector: G
      readonly cases: ReadonlyArray<{
        x: "matrix" | "vector"
        ord: number | string | null
        axis: number | [number, number] | null
        keepdims: boolean
        out: G
      }>
    }
    readonly lstsq: ReadonlyArray<Named & { b: G; x: G; resid: G; rank: G; s: G }>
    readonly matrix_power: ReadonlyArray<Named & { n: number; out: G }>
    readonly weights: { readonly w3: G; readonly w43: G; readonly b_mat: G; readonly bt: G }
    readonly grads: ReadonlyArray<Named & { grad: G }>
  }
  readonly fft: {
    readonly fftfreq: ReadonlyArray<{ n: number; d: number; out: G }>
    readonly rfftfreq: ReadonlyArray<{ n: number; d: number; out: G }>
    readonly shift: ReadonlyArray<{ axes: number | Array<number> | null; fftshift: G; ifftshift: G }>
  }
}

const GOLD: Goldens = JSON.parse(fs.readFileSync(new URL("../goldens/linalg_random.json", import.meta.url), "utf8"))
const L = GOLD.linalg

const values = (g: G): Array<number> =>
  g.data.map((v, i) =>
    v === null ? (g.special?.[String(i)] === "nan" ? NaN : g.special?.[String(i)] === "inf" ? Infinity : -Infinity) : v
  )
const arr = (g: G): JArray => jnp.array(values(g), { dtype: "float32" }).reshape([...g.shape])
const flat = (a: JArray): Array<number> => Array.from(a.reshape([-1]).tolist() as Array<number>)

/** `|a - e| <= atol + rtol·|e|` elementwise, with equal shapes; NaN matches NaN. */
const expectClose = (actual: JArray, expected: G | JArray, label: string, atol = 1e-4, rtol = 1e-4): void => {
  const golden = !jnp.isArray(expected)
  const e = golden ? values(expected as G) : flat(expected as JArray)
  const shape = expected.shape
  expect(actual.shape, label).toEqual([...shape])
  const a = flat(actual)
  e.forEach((x, i) => {
    const y = a[i]!
    if (Number.isNaN(x) && Number.isNaN(y)) return
    if (x === y) return
    if (!(Math.abs(y - x) <= atol + rtol * Math.abs(x)))
      expect.fail(`${label}[${i}]: got ${y}, expected ${x} (all: ${a})`)
  })
}

/** Flips each column of `m` (`[..., r, c]`) to point the way of the same column of `ref`. */
const alignColumns = (m: JArray, ref: JArray): JArray => {
  const dots = jnp.sum(m.mul(ref), -2, { keepdims: true })
  return m.mul(jnp.where(jnp.less(dots, 0), -1, 1))
}

const W = { w3: arr(L.weights.w3), w43: arr(L.weights.w43), bMat: arr(L.weights.b_mat), bt: arr(L.weights.bt) }

describe("jnp.linalg matches JAX", () => {
  it.each(L.qr)("qr $name: Q and R with LAPACK's signs, reduced and complete", (c) => {
    const a = arr(c.a)
    const [q, r] = jnp.linalg.qr(a)
    expectClose(q, c.q, "q")
    expectClose(r, c.r, "r", 2e-4)
    const [qc, rc] = jnp.linalg.qr(a, { mode: "complete" })
    expectClose(qc, c.q_complete, "q complete")
    expectClose(rc, c.r_complete, "r complete", 2e-4)
    expectClose(jnp.linalg.qr(a, { mode: "r" }), c.r, "mode r", 2e-4)
  })

  it.each(L.cholesky)("cholesky $name", (c) => expectClose(jnp.linalg.cholesky(arr(c.a)), c.l, "l"))

  it("cholesky of a matrix that is not positive definite is NaN, as JAX", () => {
    expectClose(
      jnp.linalg.cholesky(
        jnp.array([
          [1, 2],
          [2, 1]
        ])
      ),
      L.cholesky_not_pd,
      "not pd"
    )
  })

  it.each(L.det)("det and slogdet $name", (c) => {
    const a = arr(c.a)
    expectClose(jnp.linalg.det(a), c.det, "det", 1e-4, 1e-4)
    const [sign, logabs] = jnp.linalg.slogdet(a)
    if (c.name === "singular") {
      // JAX's float32 LU leaves a rounding residue where the exact pivot is zero; ours is exact.
      expect(Math.abs(flat(jnp.linalg.det(a))[0]!)).toBeLessThan(1e-5)
      return
    }
    expectClose(sign, c.sign, "sign")
    expectClose(logabs, c.logabsdet, "logabsdet", 1e-4, 1e-4)
  })

  it.each(L.inv)("inv $name", (c) => expectClose(jnp.linalg.inv(arr(c.a)), c.inv, "inv", 2e-4, 2e-4))

  it.each(L.solve)("solve $name", (c) => expectClose(jnp.linalg.solve(arr(c.a), arr(c.b)), c.x, "x", 2e-4, 2e-4))

  it.each(L.solve_triangular)("solveTriangular $name", (c) => {
    const x = jnp.linalg.solveTriangular(arr(c.a), arr(c.b), { lower: c.lower, trans: c.trans, unitDiagonal: c.unit })
    expectClose(x, c.x, "x", 1e-4, 1e-4)
  })

  it.each(L.eigh)("eigh $name: eigenvalues ascending, eigenvectors up to sign", (c) => {
    const [w, v] = jnp.linalg.eigh(arr(c.a))
    expectClose(w, c.w, "w", 1e-4, 1e-4)
    expectClose(alignColumns(v, arr(c.v)), c.v, "v", 2e-4)
    expectClose(jnp.linalg.eigvalsh(arr(c.a)), c.w, "eigvalsh", 1e-4, 1e-4)
  })

  it.each(L.svd)("svd $name: singular values, vectors up to sign, pinv, matrixRank", (c) => {
    const a = arr(c.a)
    const [u, s, vh] = jnp.linalg.svd(a)
    expectClose(s, c.s, "s", 1e-4, 1e-4)
    expectClose(jnp.linalg.svdvals(a), c.s, "svdvals", 1e-4, 1e-4)
    expectClose(jnp.linalg.svd(a, { computeUv: false }), c.s, "computeUv false", 1e-4, 1e-4)
    expect(u.shape).toEqual(c.u.shape)
    expect(vh.shape).toEqual(c.vh.shape)
    if (c.name !== "rank1" && c.name !== "zero_col") {
      // Unique up to sign: distinct non-zero singular values (the zero one and the complement basis are not).
      const k = Math.min(...c.a.shape.slice(-2))
      const uk = u.get("...", `:${k}`)
      const uRef = arr(c.u).get("...", `:${k}`)
      expectClose(alignColumns(uk, uRef), uRef, "u", 2e-4)
      const vRef = jnp.swapaxes(arr(c.vh), -1, -2).get("...", `:${k}`)
      expectClose(alignColumns(jnp.swapaxes(vh, -1, -2).get("...", `:${k}`), vRef), vRef, "vh", 2e-4)
    }
    expectClose(jnp.linalg.pinv(a), c.pinv, "pinv", 2e-4, 2e-4)
    expect(flat(jnp.linalg.matrixRank(a))).toEqual(values(c.rank))
  })

  it.each(L.lstsq)("lstsq $name: minimum-norm solution, residuals, rank, singular values", (c) => {
    const [x, resid, rank, s] = jnp.linalg.lstsq(arr(c.a), arr(c.b))
    expectClose(x, c.x, "x", 2e-4, 2e-4)
    expectClose(resid, c.resid, "residuals", 1e-4, 1e-3)
    expect(flat(rank)).toEqual(values(c.rank))
    expectClose(s, c.s, "s", 1e-4, 1e-4)
  })

  it.each(L.matrix_power)("matrixPower $name", (c) =>
    expectClose(jnp.linalg.matrixPower(arr(c.a), c.n), c.out, "power", 2e-4, 2e-4)
  )

  it.each(L.norm.cases)("norm of a $x, ord $ord, axis $axis, keepdims $keepdims", (c) => {
    const ord = c.ord === "inf" ? Infinity : c.ord === "-inf" ? -Infinity : (c.ord as number | "fro" | "nuc" | null)
    const x = arr(c.x === "matrix" ? L.norm.matrix : L.norm.vector)
    expectClose(jnp.linalg.norm(x, { ord, axis: c.axis, keepdims: c.keepdims }), c.out, "norm", 1e-4, 1e-4)
  })
})

/** The functions the golden script differentiates, by name. */
const gradFns: Record<string, (a: JArray) => JArray> = {
  det: (a) => jnp.linalg.det(a),
  slogdet: (a) => jnp.linalg.slogdet(a)[1],
  inv: (a) => jnp.sum(jnp.linalg.inv(a).mul(W.w3)),
  solve: (a) => jnp.sum(jnp.linalg.solve(a, W.bMat).mul(W.w3.get(":", ":2"))),
  cholesky: (a) => jnp.sum(jnp.linalg.cholesky(a).mul(W.w3)),
  qr_q: (a) => jnp.sum(jnp.linalg.qr(a)[0].mul(W.w43)),
  qr_r: (a) => jnp.sum(jnp.linalg.qr(a)[1].mul(W.w3)),
  eigh_w: (a) => jnp.sum(jnp.linalg.eigh(a)[0].mul(W.w3.get(0))),
  eigh_v2: (a) => jnp.sum(jnp.square(jnp.linalg.eigh(a)[1]).mul(W.w3)),
  svd_s: (a) => jnp.sum(jnp.linalg.svd(a, { computeUv: false }).mul(W.w3.get(0))),
  svd_u2: (a) => jnp.sum(jnp.square(jnp.linalg.svd(a, { fullMatrices: false })[0]).mul(W.w43)),
  svd_vh2: (a) => jnp.sum(jnp.square(jnp.linalg.svd(a, { fullMatrices: false })[2]).mul(W.w43.T)),
  pinv: (a) => jnp.sum(jnp.linalg.pinv(a).mul(W.w43.T)),
  norm_2: (a) => jnp.linalg.norm(a, { ord: 2 }),
  norm_nuc: (a) => jnp.linalg.norm(a, { ord: "nuc" }),
  norm_fro: (a) => jnp.linalg.norm(a),
  solve_triangular: (a) => jnp.sum(jnp.linalg.solveTriangular(a, W.bt)),
  lstsq: (a) => jnp.sum(jnp.linalg.lstsq(a, W.w43.get(":", ":2"))[0].mul(W.w3.get(":", ":2"))),
  matrix_power: (a) => jnp.sum(jnp.linalg.matrixPower(a, 3).mul(W.w3))
}

/** Central differences of `f` at `a`, one element at a time. */
const finiteDifferences = (f: (a: JArray) => JArray, a: JArray, h = 1e-2): JArray => {
  const base = flat(a)
  const out = base.map((_, i) => {
    const plus = base.slice()
    const minus = base.slice()
    plus[i]! += h
    minus[i]! -= h
    const fp = flat(f(jnp.array(plus, { dtype: "float32" }).reshape([...a.shape])))[0]!
    const fm = flat(f(jnp.array(minus, { dtype: "float32" }).reshape([...a.shape])))[0]!
    return (fp - fm) / (2 * h)
  })
  return jnp.array(out, { dtype: "float32" }).reshape([...a.shape])
}

describe("jnp.linalg gradients", () => {
  it.each(L.grads)("grad of $name matches JAX", (c) => {
    const f = gradFns[c.name]!
    expectClose(grad(f)(arr(c.a)), c.grad, `grad ${c.name}`, 5e-4, 2e-3)
  })

  it.each(["det", "cholesky", "qr_r", "eigh_w", "svd_s", "inv", "solve_triangular", "lstsq", "matrix_power"])(
    "grad of %s matches finite differences",
    (name) => {
      const c = L.grads.find((g) => g.name === name)!
      const a = arr(c.a)
      // Finite differences in float32 carry about h² truncation and eps/h rounding error.
      expectClose(grad(gradFns[name]!)(a), finiteDifferences(gradFns[name]!, a), `fd ${name}`, 2e-2, 2e-2)
    }
  )

  it("vmap of grad equals a loop of grads", () => {
    const a = arr(L.det.find((c) => c.name === "2x3x3")!.a)
    const batched = vmap(grad((x: JArray) => jnp.linalg.slogdet(x)[1]))(a)
    const looped = jnp.stack([0, 1].map((i) => grad((x: JArray) => jnp.linalg.slogdet(x)[1])(a.get(i))))
    expectClose(batched, looped, "vmap grad", 1e-5, 1e-5)
  })
})

// ---------------------------------------------------------------------------------------------------
// Properties over random shapes

const f32 = (x: number): number => Math.fround(x)
const matrixCase = (minDim: number, square: boolean) =>
  fc
    .record({
      batch: fc.array(fc.integer({ min: 1, max: 2 }), { maxLength: 1 }),
      m: fc.integer({ min: minDim, max: 5 }),
      n: fc.integer({ min: minDim, max: 5 }),
      seed: fc.integer({ min: 0, max: 1000 })
    })
    .map((c) => ({ ...c, n: square ? c.m : c.n }))
const randomMatrix = (c: { batch: ReadonlyArray<number>; m: number; n: number; seed: number }): JArray =>
  random.uniform(random.key(c.seed), [...c.batch, c.m, c.n], { minval: -2, maxval: 2 })
const eyeLike = (n: number): JArray => jnp.eye(n)
const mT = (x: JArray): JArray => jnp.swapaxes(x, -1, -2)

describe("jnp.linalg properties", () => {
  test.prop([matrixCase(1, false)], { numRuns: 12 })(
    "qr: Q has orthonormal columns, R is upper triangular, QR = A",
    (c) => {
      const a = randomMatrix(c)
      const [q, r] = jnp.linalg.qr(a)
      const k = Math.min(c.m, c.n)
      expectClose(jnp.matmul(q, r), a, "qr = a", 1e-4, 1e-4)
      expectClose(jnp.matmul(mT(q), q), jnp.broadcastTo(eyeLike(k), [...c.batch, k, k]), "qᵀq = i", 1e-5)
      expectClose(jnp.triu(r), r, "r upper")
    }
  )

  test.prop([matrixCase(1, true)], { numRuns: 10 })("eigh: a v = v diag(w), w ascending, v orthonormal", (c) => {
    const x = randomMatrix(c)
    const a = x.add(mT(x))
    const [w, v] = jnp.linalg.eigh(a)
    expectClose(jnp.matmul(a, v), v.mul(w.get("...", null, ":")), "av = vw", 1e-4, 1e-4)
    expectClose(jnp.matmul(mT(v), v), jnp.broadcastTo(eyeLike(c.m), [...c.batch, c.m, c.m]), "vᵀv = i", 1e-5)
    const ws = flat(w)
    for (let i = 0; i + 1 < ws.length; i++)
      if ((i + 1) % c.m !== 0) expect(ws[i]!).toBeLessThanOrEqual(ws[i + 1]! + 1e-6)
  })

  test.prop([matrixCase(1, false)], { numRuns: 10 })(
    "svd: u diag(s) vh = a, u and vh orthonormal, s descending",
    (c) => {
      const a = randomMatrix(c)
      const [u, s, vh] = jnp.linalg.svd(a)
      const k = Math.min(c.m, c.n)
      const us = u.get("...", `:${k}`).mul(s.get("...", null, ":"))
      expectClose(jnp.matmul(us, vh.get("...", `:${k}`, ":")), a, "usvh = a", 1e-4, 1e-4)
      expectClose(jnp.matmul(mT(u), u), jnp.broadcastTo(eyeLike(c.m), [...c.batch, c.m, c.m]), "uᵀu = i", 1e-5)
      expectClose(jnp.matmul(vh, mT(vh)), jnp.broadcastTo(eyeLike(c.n), [...c.batch, c.n, c.n]), "vhvhᵀ = i", 1e-5)
    }
  )

  test.prop([matrixCase(1, true)], { numRuns: 10 })(
    "solve, inv, det and cholesky agree with their definitions",
    (c) => {
      // Diagonally dominant, so well conditioned.
      const a = randomMatrix(c).add(jnp.eye(c.m).mul(3 * c.m))
      const b = random.normal(random.key(c.seed + 1), [...c.batch, c.m, 2])
      expectClose(jnp.matmul(a, jnp.linalg.solve(a, b)), b, "a x = b", 1e-4, 1e-4)
      expectClose(jnp.matmul(a, jnp.linalg.inv(a)), jnp.broadcastTo(eyeLike(c.m), a.shape), "a inv(a) = i", 1e-4)
      const [sign, logabs] = jnp.linalg.slogdet(a)
      expectClose(sign.mul(jnp.exp(logabs)), jnp.linalg.det(a), "slogdet = det", 1e-3, 1e-4)
      const spd = jnp.matmul(a, mT(a))
      const l = jnp.linalg.cholesky(spd)
      expectClose(jnp.matmul(l, mT(l)), spd, "l lᵀ = a", 1e-3, 1e-4)
    }
  )

  test.prop([fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 4 })], { numRuns: 6 })(
    "vmap equals a loop and jit equals eager",
    (seed, n) => {
      const a = random.normal(random.key(seed), [3, n, n]).add(jnp.eye(n).mul(2))
      const f = (x: JArray): JArray =>
        jnp.concatenate([
          jnp.linalg.qr(x)[1].reshape([-1]),
          jnp.linalg.svdvals(x),
          jnp.linalg.det(x).reshape([1]),
          jnp.linalg.eigvalsh(x.add(x.T))
        ])
      const looped = jnp.stack([0, 1, 2].map((i) => f(a.get(i))))
      expectClose(vmap(f)(a), looped, "vmap", 1e-4, 1e-4)
      expectClose(jit(f)(a.get(0)), f(a.get(0)), "jit", 1e-5, 1e-5)
    }
  )
})

describe("jnp.linalg typed errors", () => {
  const rect = jnp.ones([2, 3])
  const cases: ReadonlyArray<readonly [string, () => unknown, new (...args: never) => Error, string]> = [
    [
      "det of a non-square matrix",
      () => jnp.linalg.det(rect),
      ShapeError,
      "linalg.det: the last two dimensions must be equal (square matrices), got 2×3"
    ],
    [
      "inv of a non-square matrix",
      () => jnp.linalg.inv(rect),
      ShapeError,
      "linalg.inv: the last two dimensions must be equal"
    ],
    [
      "cholesky of a non-square matrix",
      () => jnp.linalg.cholesky(rect),
      ShapeError,
      "linalg.cholesky: the last two dimensions must be equal"
    ],
    [
      "eigh of a non-square matrix",
      () => jnp.linalg.eigh(rect),
      ShapeError,
      "linalg.eigh: the last two dimensions must be equal"
    ],
    [
      "slogdet of a non-square matrix",
      () => jnp.linalg.slogdet(rect),
      ShapeError,
      "linalg.slogdet: the last two dimensions must be equal"
    ],
    [
      "qr of a vector",
      () => jnp.linalg.qr(jnp.ones([3])),
      ShapeError,
      "linalg.qr: input must have at least 2 dimensions (a matrix, or a stack of them in the leading axes), got 1"
    ],
    [
      "svd of a scalar",
      () => jnp.linalg.svd(jnp.array(1)),
      ShapeError,
      "linalg.svd: input must have at least 2 dimensions"
    ],
    [
      "qr with an unknown mode",
      () => jnp.linalg.qr(rect, { mode: "full" as never }),
      ArgumentError,
      'linalg.qr: mode must be "reduced", "complete" or "r", got "full"'
    ],
    [
      "solve with b of the wrong length",
      () => jnp.linalg.solve(jnp.eye(3), jnp.ones([2])),
      ShapeError,
      "linalg.solve: b must have 3 rows to match a (3×3)"
    ],
    [
      "solveTriangular with b of the wrong length",
      () => jnp.linalg.solveTriangular(jnp.eye(3), jnp.ones([4, 1])),
      ShapeError,
      "linalg.solveTriangular: b must have 3 rows"
    ],
    [
      "norm with three axes",
      () => jnp.linalg.norm(jnp.ones([2, 2, 2]), { ord: 2 }),
      AxisError,
      "linalg.norm: pass one axis for a vector norm or two for a matrix norm"
    ],
    [
      "norm with a bad matrix ord",
      () => jnp.linalg.norm(rect, { ord: 3 }),
      ArgumentError,
      "linalg.norm: invalid order 3 for a matrix norm"
    ],
    [
      "norm with a matrix ord on a vector",
      () => jnp.linalg.norm(jnp.ones([3]), { ord: "fro" }),
      ArgumentError,
      'linalg.norm: ord "fro" is a matrix norm'
    ],
    [
      "det of PRNG keys",
      () => jnp.linalg.det(random.split(random.key(0), 4).reshape([2, 2])),
      DTypeError,
      "linalg.det: expected a numeric array, not PRNG keys"
    ],
    [
      "lstsq of a stack of matrices",
      () => jnp.linalg.lstsq(jnp.ones([2, 3, 3]), jnp.ones([3])),
      ShapeError,
      "linalg.lstsq: a must be 2-dimensional, got 3 dimensions"
    ],
    [
      "lstsq with b of the wrong length",
      () => jnp.linalg.lstsq(rect, jnp.ones([3])),
      ShapeError,
      "linalg.lstsq: b must have 2 rows to match a (2×3)"
    ],
    [
      "matrixPower with a fractional power",
      () => jnp.linalg.matrixPower(jnp.eye(2), 0.5),
      ArgumentError,
      "linalg.matrixPower: n must be an integer, got 0.5"
    ],
    [
      "matrixPower of a non-square matrix",
      () => jnp.linalg.matrixPower(rect, 2),
      ShapeError,
      "linalg.matrixPower: the last two dimensions must be equal"
    ],
    [
      "fftfreq with a negative length",
      () => jnp.fft.fftfreq(-1),
      ArgumentError,
      "fft.fftfreq: n must be a non-negative integer, got -1"
    ],
    [
      "qr with a misspelt option",
      () => jnp.linalg.qr(rect, { mod: "r" } as never),
      ArgumentError,
      'linalg.qr: unknown option "mod"; did you mean "mode"?'
    ],
    [
      "svd with options that are not an object",
      () => jnp.linalg.svd(rect, "full" as never),
      ArgumentError,
      "linalg.svd: expected an options object"
    ],
    [
      "norm with a misspelt option",
      () => jnp.linalg.norm(rect, { keepdim: true } as never),
      ArgumentError,
      'linalg.norm: unknown option "keepdim"; did you mean "keepdims"?'
    ],
    [
      "solveTriangular with a bad trans",
      () => jnp.linalg.solveTriangular(jnp.eye(2), jnp.ones([2]), { trans: 3 as never }),
      ArgumentError,
      'linalg.solveTriangular: trans must be 0, 1, 2, "N", "T" or "C", got 3'
    ]
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

describe("jnp.fft helpers match JAX", () => {
  it.each(GOLD.fft.fftfreq)("fftfreq($n, $d)", (c) =>
    expect(flat(jnp.fft.fftfreq(c.n, c.d))).toEqual(values(c.out).map(f32))
  )
  it.each(GOLD.fft.rfftfreq)("rfftfreq($n, $d)", (c) =>
    expect(flat(jnp.fft.rfftfreq(c.n, c.d))).toEqual(values(c.out).map(f32))
  )
  it.each(GOLD.fft.shift)("fftshift and ifftshift over axes $axes", (c) => {
    const x = jnp.arange(15, undefined, undefined, { dtype: "float32" }).reshape([3, 5])
    expect(jnp.fft.fftshift(x, c.axes).tolist()).toEqual(arr(c.fftshift).tolist())
    expect(jnp.fft.ifftshift(x, c.axes).tolist()).toEqual(arr(c.ifftshift).tolist())
  })
})
