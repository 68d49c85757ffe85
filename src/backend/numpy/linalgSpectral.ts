/**
 * Spectral decompositions of `jnp.linalg`: `eigh` / `eigvalsh` (symmetric eigenproblems), `svd` /
 * `svdvals`, and what is built on them: `pinv` and `matrixRank`.
 *
 * Both decompositions are Jacobi methods in the parallel (round-robin) ordering: each round rotates
 * `n/2` disjoint index pairs at once, applied as one batched matrix product, so a sweep is `n - 1`
 * rounds of a few products rather than `n²/2` scalar steps. `eigh` rotates `a` two-sidedly; `svd`
 * rotates the columns of `a` one-sidedly (Hestenes), which keeps the accuracy of small singular values
 * that forming `aᵀa` would lose. Jacobi converges quadratically; a fixed number of sweeps (enough for
 * float32 at these sizes) keeps the computation a static composite, so `vmap` and `jit` apply as to any
 * other code. Derivatives are not taken through the iterations (their rotation angles are not smooth
 * where an off-diagonal entry vanishes) but given by `customJvp` with the standard formulas, as JAX's
 * `eigh` and `svd` rules.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ShapeError } from "../ArrayError.ts"
// The eigen- and singular value decompositions need hand-written derivatives (see the module doc).
import { customJvp } from "../../transforms/core/custom.ts"
import { fromHost } from "./creation.ts"
import {
  abs,
  add,
  convertTo,
  divide,
  equal,
  greater,
  greaterEqual,
  less,
  lessEqual,
  logicalAnd,
  multiply,
  negative,
  notEqual,
  reciprocal,
  sqrt,
  subtract,
  where
} from "./elementwise.ts"
import { getItem, takeAlongAxis } from "./indexing.ts"
import { matmul } from "./linalg.ts"
import { checkOptionKeys } from "./options.ts"
import { batchOf, colVec, dims, eyeBatch, f32, floatInput, indices, mT, rowVec, squareInput } from "./linalgCommon.ts"
import { diagOf, qr } from "./linalgDecomp.ts"
import { all, any, argmax, max, sum } from "./reductions.ts"
import { argsort } from "./sorting.ts"
import { broadcastTo, concatenate, reshape as reshapeTo } from "./shapeOps.ts"

/** float32's machine epsilon. */
const EPS = 2 ** -23

// ---------------------------------------------------------------------------------------------------
// Jacobi rotations

interface Round {
  /** One-hot rows `[r, n]` selecting the first index of each pair. */
  readonly p: JArray
  /** One-hot rows `[r, n]` selecting the second index of each pair. */
  readonly q: JArray
}

/**
 * The round-robin schedule: with `n` padded to even `N`, `N - 1` rounds in which every index meets every
 * other exactly once (a pair with the padding index is dropped).
 */
const schedule = (n: number): ReadonlyArray<Round> => {
  const N = n % 2 === 0 ? n : n + 1
  const players = [...Array(N).keys()]
  const out: Array<Round> = []
  for (let r = 0; r < N - 1; r++) {
    const pairs: Array<readonly [number, number]> = []
    for (let i = 0; i < N / 2; i++) {
      const a = players[i]!
      const b = players[N - 1 - i]!
      if (a < n && b < n) pairs.push(a < b ? [a, b] : [b, a])
    }
    const P = new Float32Array(pairs.length * n)
    const Q = new Float32Array(pairs.length * n)
    pairs.forEach(([a, b], i) => {
      P[i * n + a] = 1
      Q[i * n + b] = 1
    })
    out.push({ p: fromHost(P, [pairs.length, n], "float32"), q: fromHost(Q, [pairs.length, n], "float32") })
    // Keep the first player fixed and rotate the rest one place.
    players.splice(1, 0, players.pop()!)
  }
  return out
}

/** Sweeps over all pairs: quadratic convergence makes a handful enough for float32. */
const sweepsFor = (n: number): number => (n <= 2 ? 2 : Math.min(14, 6 + Math.ceil(Math.log2(n))))

/**
 * The rotation `[[c, s], [-s, c]]` that diagonalises the symmetric 2×2 `[[app, apq], [apq, aqq]]`
 * (Golub and Van Loan's `sym.schur2`), the smaller of the two possible angles; none where `apq = 0`.
 */
const rotation = (app: JArray, apq: JArray, aqq: JArray): readonly [JArray, JArray] => {
  const zero = equal(apq, 0)
  const theta = divide(subtract(aqq, app), multiply(2, where(zero, 1, apq)))
  const sgn = where(greaterEqual(theta, 0), 1, -1)
  const t = where(zero, 0, divide(sgn, add(abs(theta), sqrt(add(multiply(theta, theta), 1)))))
  const c = reciprocal(sqrt(add(multiply(t, t), 1)))
  return [c, multiply(t, c)] as const
}

/** The `n×n` product of a round's rotations: `J_pp = J_qq = c`, `J_pq = s`, `J_qp = -s`. */
const roundMatrix = (round: Round, c: JArray, s: JArray, n: number, batch: ReadonlyArray<number>): JArray => {
  const pT = mT(round.p)
  const qT = mT(round.q)
  const cm1 = rowVec(subtract(c, 1))
  const sr = rowVec(s)
  const onP = subtract(multiply(pT, cm1), multiply(qT, sr))
  const onQ = add(multiply(qT, cm1), multiply(pT, sr))
  return add(eyeBatch(n, batch), add(matmul(onP, round.p), matmul(onQ, round.q)))
}

/** Two-sided Jacobi on symmetric `a`: `[diagonal of the rotated a, accumulated rotations]`. */
const jacobiEigen = (a: JArray): readonly [JArray, JArray] => {
  const [n] = dims(a)
  const batch = batchOf(a)
  let A = a
  let V = eyeBatch(n, batch)
  if (n > 1) {
    const rounds = schedule(n)
    for (let sweep = 0; sweep < sweepsFor(n); sweep++) {
      for (const round of rounds) {
        const PA = matmul(round.p, A)
        const QA = matmul(round.q, A)
        const app = sum(multiply(PA, round.p), -1)
        const apq = sum(multiply(PA, round.q), -1)
        const aqq = sum(multiply(QA, round.q), -1)
        const [c, s] = rotation(app, apq, aqq)
        const J = roundMatrix(round, c, s, n, batch)
        A = matmul(mT(J), matmul(A, J))
        V = matmul(V, J)
      }
      if (converged(A)) break
    }
  }
  return [diagOf(A), V] as const
}

/**
 * Whether every symmetric matrix in `g` is diagonal to float32 precision (off-diagonal norm at most
 * eps times the Frobenius norm). Only asked of concrete values: eager calls stop sweeping once
 * converged, while traced ones (under `jit`, `vmap`, `grad`) run the fixed number of sweeps, which
 * changes the result by rounding only (a converged sweep's rotations are the identity to float32).
 */
const converged = (g: JArray): boolean => {
  if (!g.isConcrete) return false
  const [n] = dims(g)
  const offMask = notEqual(colVec(indices(n)), rowVec(indices(n)))
  const sq = multiply(g, g)
  const off = sum(where(offMask, sq, 0), [-2, -1])
  const total = sum(sq, [-2, -1])
  return all(lessEqual(off, multiply(total, EPS * EPS))).item() === true
}

/** Flips each column of `v` so that its entry of largest magnitude (the first, on ties) is positive. */
const normalizeColumns = (v: JArray): JArray => {
  const big = argmax(abs(v), -2, { keepdims: true })
  const lead = takeAlongAxis(v, big, -2)
  return multiply(v, where(less(lead, 0), -1, 1))
}

/** Reorders the last axis of `v` (and the columns of `m`) by `order`. */
const permuteColumns = (m: JArray, order: JArray): JArray => takeAlongAxis(m, broadcastTo(rowVec(order), m.shape), -1)

// ---------------------------------------------------------------------------------------------------
// eigh

const symmetrize = (a: JArray): JArray => multiply(add(a, mT(a)), 0.5)

const eighRaw = (a: JArray): readonly [JArray, JArray] => {
  const [w0, v0] = jacobiEigen(symmetrize(a))
  const order = argsort(w0, -1)
  const w = takeAlongAxis(w0, order, -1)
  return [w, normalizeColumns(permuteColumns(v0, order))] as const
}

/** `eigh` with JAX's derivative: `dw = diag(vᵀ da v)`, `dv = v (F ∘ vᵀ da v)`, `F_ij = 1/(w_j - w_i)`. */
const eighDiff = customJvp(
  (a: JArray): readonly [JArray, JArray] => eighRaw(a),
  ([a], [da]): readonly [readonly [JArray, JArray], readonly [JArray, JArray]] => {
    const [w, v] = eighRaw(a)
    const [n] = dims(a)
    const vdv = matmul(mT(v), matmul(symmetrize(da), v))
    const dw = diagOf(vdv)
    const eye = eyeBatch(n, batchOf(a))
    const F = subtract(reciprocal(add(eye, subtract(rowVec(w), colVec(w)))), eye)
    return [
      [w, v],
      [dw, matmul(v, multiply(F, vdv))]
    ] as const
  }
)

/**
 * Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix, `[w, v]` with
 * `a v = v diag(w)`, like `jnp.linalg.eigh`. The input is symmetrised (`(a + aᵀ) / 2`) as JAX's
 * default `symmetrize_input=True` does.
 *
 * An eigenvector's sign is arbitrary (JAX returns whatever LAPACK's `syevd` gives); here each is
 * flipped so its entry of largest magnitude is positive, so results are reproducible but may differ in
 * sign from JAX's. Within a repeated eigenvalue the basis is arbitrary too. Gradients use the standard
 * formula (undefined, as in JAX, where eigenvalues repeat).
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const [w, v] = jnp.linalg.eigh(jnp.array([[2, 1], [1, 2]]))
 * jnp.round(w).tolist() // [1, 3] (w is [0.99999994, 2.9999998] in float32)
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const eigh = (a: ArrayLike): readonly [JArray, JArray] => eighDiff(squareInput("linalg.eigh", a))

/**
 * The eigenvalues of each symmetric matrix, ascending, like `jnp.linalg.eigvalsh`.
 * @category linear algebra
 * @since 0.1.0
 */
export const eigvalsh = (a: ArrayLike): JArray => eighDiff(squareInput("linalg.eigvalsh", a))[0]

// ---------------------------------------------------------------------------------------------------
// svd

/** One-sided Jacobi on `a` (`m ≥ n`): `[u, s, v]` reduced, singular values descending. */
const svdTall = (a: JArray): readonly [JArray, JArray, JArray] => {
  const [, n] = dims(a)
  const batch = batchOf(a)
  let A = a
  let V = eyeBatch(n, batch)
  if (n > 1) {
    const rounds = schedule(n)
    for (let sweep = 0; sweep < sweepsFor(n); sweep++) {
      for (const round of rounds) {
        const AP = matmul(A, mT(round.p))
        const AQ = matmul(A, mT(round.q))
        const alpha = sum(multiply(AP, AP), -2)
        const gamma = sum(multiply(AP, AQ), -2)
        const beta = sum(multiply(AQ, AQ), -2)
        const [c, s] = rotation(alpha, gamma, beta)
        const J = roundMatrix(round, c, s, n, batch)
        A = matmul(A, J)
        V = matmul(V, J)
      }
      if (converged(matmul(mT(A), A))) break
    }
  }
  const s0 = sqrt(sum(multiply(A, A), -2))
  const order = argsort(negative(s0), -1)
  const s = takeAlongAxis(s0, order, -1)
  const Vs = normalizeColumns(permuteColumns(V, order))
  // u = a v / s; the orthonormalisation below repairs the columns of zero (or tiny) singular values.
  const U0 = divide(matmul(a, Vs), rowVec(where(greater(s, 0), s, 1)))
  return [orthonormalize(U0, false), s, Vs] as const
}

/**
 * An orthonormal basis whose first columns follow those of `u` (QR with the signs of `r`'s diagonal
 * undone): unchanged where `u` is already orthonormal, a completion where a column is zero, and, with
 * `complete`, extended to a square matrix.
 */
const orthonormalize = (u: JArray, complete: boolean): JArray => {
  const [q, r] = qr(u, { mode: complete ? "complete" : "reduced" })
  const d = diagOf(r)
  const flip = where(less(d, 0), -1, 1)
  const [m, k] = dims(u)
  if (!complete || m === k) return multiply(q, rowVec(flip))
  const ones = broadcastTo(f32(1), [...batchOf(u), m - k])
  return multiply(q, rowVec(concat(flip, ones)))
}

const concat = (a: JArray, b: JArray): JArray => concatenate([a, b], -1)

/** Reduced SVD `[u, s, v]` of any `[..., m, n]` (transposing a wide matrix). */
const svdReducedRaw = (a: JArray): readonly [JArray, JArray, JArray] => {
  const [m, n] = dims(a)
  if (m >= n) return svdTall(a)
  const [u, s, v] = svdTall(mT(a))
  return [v, s, u] as const
}

/** The reduced SVD with the standard derivative (JAX's `svd` JVP rule for real matrices). */
const svdDiff = customJvp(
  (a: JArray): readonly [JArray, JArray, JArray] => svdReducedRaw(a),
  ([a], [da]): readonly [readonly [JArray, JArray, JArray], readonly [JArray, JArray, JArray]] => {
    const [u, s, v] = svdReducedRaw(a)
    const [m, n] = dims(a)
    const k = Math.min(m, n)
    const eye = eyeBatch(k, batchOf(a))
    const dP = matmul(mT(u), matmul(da, v))
    const ds = diagOf(dP)
    const s2 = multiply(s, s)
    const F = subtract(reciprocal(add(eye, subtract(rowVec(s2), colVec(s2)))), eye)
    const sInv = where(equal(s, 0), 0, reciprocal(where(equal(s, 0), 1, s)))
    const dPS = multiply(dP, rowVec(s))
    const SdP = multiply(colVec(s), dP)
    let du = matmul(u, multiply(F, add(dPS, mT(dPS))))
    let dv = matmul(v, multiply(F, add(SdP, mT(SdP))))
    if (m > k) {
      const daV = matmul(da, v)
      du = add(du, multiply(subtract(daV, matmul(u, matmul(mT(u), daV))), rowVec(sInv)))
    }
    if (n > k) {
      const daU = matmul(mT(da), u)
      dv = add(dv, multiply(subtract(daU, matmul(v, matmul(mT(v), daU))), rowVec(sInv)))
    }
    return [
      [u, s, v],
      [du, ds, dv]
    ] as const
  }
)

/**
 * Options of {@link svd}.
 * @category models
 * @since 0.1.0
 */
export interface SvdOptions {
  /** `u` is `m×m` and `vh` `n×n` (default `true`, as JAX); `false` gives `m×k` and `k×n`, `k = min(m, n)`. */
  readonly fullMatrices?: boolean | undefined
  /** Return `[u, s, vh]` (default `true`); `false` returns only `s`. */
  readonly computeUv?: boolean | undefined
}

/**
 * Singular value decomposition `a = u @ diag(s) @ vh` of each matrix in `a` (`[..., m, n]`), like
 * `jnp.linalg.svd`: `[u, s, vh]` with `s` descending, or `s` alone with `computeUv: false`.
 *
 * A pair of singular vectors is defined up to a common sign (JAX returns LAPACK's `gesdd` choice); here
 * each right singular vector (row of `vh`) has its entry of largest magnitude positive. Gradients use
 * the standard formula for the reduced decomposition (undefined, as in JAX, where singular values
 * repeat); as in JAX, the extra columns of `fullMatrices` for a non-square matrix have no derivative.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.svd(jnp.array([[3, 0], [0, -4]]), { computeUv: false }).tolist() // [4, 3]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export function svd(a: ArrayLike, options: SvdOptions & { readonly computeUv: false }): JArray
export function svd(a: ArrayLike, options?: SvdOptions): readonly [JArray, JArray, JArray]
export function svd(a: ArrayLike, options?: SvdOptions): JArray | readonly [JArray, JArray, JArray] {
  checkOptionKeys("linalg.svd", options, ["fullMatrices", "computeUv"])
  const x = floatInput("linalg.svd", a)
  const [u, s, v] = svdDiff(x)
  if (options?.computeUv === false) return s
  const [m, n] = dims(x)
  if (options?.fullMatrices === false || m === n) return [u, s, mT(v)] as const
  if (m > n) return [orthonormalize(u, true), s, mT(v)] as const
  return [u, s, mT(orthonormalize(v, true))] as const
}

/**
 * The singular values of each matrix, descending, like `jnp.linalg.svdvals`.
 * @category linear algebra
 * @since 0.1.0
 */
export const svdvals = (a: ArrayLike): JArray => svdDiff(floatInput("linalg.svdvals", a))[1]

// ---------------------------------------------------------------------------------------------------
// pinv, matrixRank

const pinvRaw = (a: JArray, rtol: JArray | undefined): JArray => {
  const [m, n] = dims(a)
  const [u, s, v] = svdDiff(a)
  const tol = rtol ?? f32(10 * Math.max(m, n) * EPS)
  const cutoff = multiply(colVecIf(tol, s), max(s, -1, { keepdims: true }))
  const keep = greater(s, cutoff)
  const sInv = where(keep, reciprocal(where(keep, s, 1)), 0)
  return matmul(multiply(v, rowVec(sInv)), mT(u))
}

const colVecIf = (tol: JArray, s: JArray): JArray =>
  tol.ndim === 0 ? tol : broadcastTo(colVec(tol), [...s.shape.slice(0, -1), 1])

/**
 * The Moore–Penrose pseudo-inverse of each matrix, like `jnp.linalg.pinv`: singular values at or
 * below `rtol · max(s)` (default `10 · max(m, n) · eps`) are treated as zero. Its gradient is the
 * pseudo-inverse's own formula (as JAX's `pinv` rule), not the SVD's, so it is defined for
 * rank-deficient input.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.pinv(jnp.array([[1, 0], [0, 0]])).tolist() // [[1, 0], [0, 0]]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const pinv = (a: ArrayLike, options?: { readonly rtol?: number | undefined }): JArray => {
  checkOptionKeys("linalg.pinv", options, ["rtol"])
  const x = floatInput("linalg.pinv", a)
  const rtol = options?.rtol === undefined ? undefined : f32(options.rtol)
  return pinvDiff(rtol)(x)
}

const pinvDiff = (rtol: JArray | undefined) =>
  customJvp(
    (a: JArray): JArray => pinvRaw(a, rtol),
    ([a], [da]): readonly [JArray, JArray] => {
      const p = pinvRaw(a, rtol)
      const [m, n] = dims(a)
      const batch = batchOf(a)
      const pa = matmul(p, a)
      const ap = matmul(a, p)
      const daT = mT(da)
      let dp = negative(matmul(p, matmul(da, p)))
      dp = add(dp, matmul(matmul(p, mT(p)), matmul(daT, subtract(eyeBatch(m, batch), ap))))
      dp = add(dp, matmul(subtract(eyeBatch(n, batch), pa), matmul(daT, matmul(mT(p), p))))
      return [p, dp] as const
    }
  )

/**
 * The rank of each matrix (int32), like `jnp.linalg.matrixRank`: the number of singular values above
 * `rtol · max(s)`, with `rtol` defaulting to `max(m, n) · eps`. For a vector or scalar, 1 unless every
 * element is zero.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.matrixRank(jnp.array([[1, 2], [2, 4]])).item() // 1
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const matrixRank = (a: ArrayLike, options?: { readonly rtol?: number | undefined }): JArray => {
  checkOptionKeys("linalg.matrixRank", options, ["rtol"])
  const x = floatInput("linalg.matrixRank", a, 0)
  if (x.ndim < 2) return convertTo(any(notEqual(x, 0)), "int32")
  const s = svdvals(x)
  const [m, n] = dims(x)
  const rtol = options?.rtol ?? Math.max(m, n) * EPS
  const tol = multiply(max(s, -1, { keepdims: true }), rtol)
  return sum(greater(s, tol), -1)
}

// ---------------------------------------------------------------------------------------------------
// lstsq

/**
 * The least-squares solution of `a x = b` (`a` is `m×n`, `b` is `[m]` or `[m, k]`), like
 * `jnp.linalg.lstsq`: `[x, residuals, rank, s]`, from the SVD with singular values below
 * `rcond · s_max` (default `max(m, n) · eps`) dropped, so rank-deficient and underdetermined systems get
 * the minimum-norm solution. `residuals` is always the squared norm of each column of `b - a x` (JAX's
 * default; NumPy returns an empty array in some cases). As in JAX, `a` must be 2-d.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const a = jnp.array([[1, 0], [0, 1], [1, 1]])
 * const [x] = jnp.linalg.lstsq(a, jnp.array([1, 2, 3])) // [1, 2]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const lstsq = (
  a: ArrayLike,
  b: ArrayLike,
  options?: { readonly rcond?: number | undefined }
): readonly [JArray, JArray, JArray, JArray] => {
  const op = "linalg.lstsq"
  checkOptionKeys(op, options, ["rcond"])
  const A = floatInput(op, a)
  const B0 = floatInput(op, b, 1)
  if (A.ndim !== 2)
    throw new ShapeError({ op, shapes: [A.shape], reason: `a must be 2-dimensional, got ${A.ndim} dimensions` })
  if (B0.ndim > 2)
    throw new ShapeError({ op, shapes: [B0.shape], reason: `b must be 1- or 2-dimensional, got ${B0.ndim} dimensions` })
  const [m, n] = dims(A)
  if (B0.shape[0] !== m)
    throw new ShapeError({ op, shapes: [A.shape, B0.shape], reason: `b must have ${m} rows to match a (${m}×${n})` })
  const B = B0.ndim === 1 ? colVec(B0) : B0
  const [u, s, v] = svdDiff(A)
  const rc = options?.rcond === undefined ? Math.max(m, n) * EPS : options.rcond < 0 ? EPS : options.rcond
  const sMax = getItem(s, ["0:1"])
  const mask = logicalAnd(greater(s, 0), greaterEqual(s, multiply(f32(rc), sMax)))
  const rank = sum(mask)
  const sInv = where(mask, reciprocal(where(mask, s, 1)), 0)
  const x = matmul(v, multiply(colVec(sInv), matmul(mT(u), B)))
  const r = subtract(B, matmul(A, x))
  const resid = sum(multiply(r, r), 0)
  return [B0.ndim === 1 ? reshapeTo(x, [n]) : x, resid, rank, s] as const
}
