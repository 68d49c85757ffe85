/**
 * Factorisations of `jnp.linalg`: `qr` (Householder), `cholesky`, `solveTriangular`, and the LU-based
 * `det`, `slogdet`, `solve` and `inv`.
 *
 * Each is an unrolled composite of float32 primitives over the static matrix size (one reflection,
 * column or pivot step at a time, each a few batched products), so leading batch dimensions, `vmap`,
 * `jit` and `grad` all come from the primitives' own rules. Where an algorithm branches (a zero column,
 * a zero pivot) it selects with `where`, and the untaken side divides by a safe 1, so derivatives stay
 * finite.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { ArgumentError, ShapeError } from "../ArrayError.ts"
import { asArray, eye, zeros } from "./creation.ts"
import {
  abs,
  add,
  divide,
  equal,
  greater,
  greaterEqual,
  less,
  log,
  logicalAnd,
  multiply,
  negative,
  notEqual,
  sign,
  sqrt,
  subtract,
  where
} from "./elementwise.ts"
import { isfinite } from "./elementwise.ts"
import { getItem, takeAlongAxis } from "./indexing.ts"
import { checkOptionKeys } from "./options.ts"
import { matmul } from "./linalg.ts"
import {
  batchOf,
  colVec,
  column,
  dims,
  entry,
  eyeBatch,
  floatInput,
  indices,
  mT,
  row,
  rowVec,
  squareInput
} from "./linalgCommon.ts"
import { all, argmax, prod, sum } from "./reductions.ts"
import { broadcastTo, reshape } from "./shapeOps.ts"

// ---------------------------------------------------------------------------------------------------
// QR

/**
 * Options of {@link qr}.
 * @category models
 * @since 0.1.0
 */
export interface QrOptions {
  /**
   * `"reduced"` (default): `Q` is `m×k` and `R` is `k×n` with `k = min(m, n)`; `"complete"`: `Q` is
   * `m×m` and `R` is `m×n`; `"r"`: only `R` (reduced).
   */
  readonly mode?: "reduced" | "complete" | "r" | undefined
}

/**
 * Householder QR of every matrix in `a` (`[..., m, n]`), returning `[q, r]` with `a = q @ r`, `q`
 * orthonormal columns and `r` upper triangular.
 *
 * The reflections follow LAPACK's `geqrf`, which JAX calls on CPU: column `k`'s reflector maps it to
 * `-sign(a_kk)·‖a_k‖ e_k` (`sign(0) = +1`), and a column already zero below the diagonal is left as it
 * is. So `q` and `r` carry the same signs as JAX's, and a diagonal entry of `r` may be negative.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const [q, r] = jnp.linalg.qr(jnp.array([[1, 2], [3, 4]]))
 * jnp.allclose(jnp.matmul(q, r), jnp.array([[1, 2], [3, 4]]), { atol: 1e-5 }) // true
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export function qr(a: ArrayLike, options: { readonly mode: "r" }): JArray
export function qr(a: ArrayLike, options?: QrOptions): readonly [JArray, JArray]
export function qr(a: ArrayLike, options?: QrOptions): JArray | readonly [JArray, JArray] {
  const op = "linalg.qr"
  checkOptionKeys(op, options, ["mode"])
  const mode = options?.mode ?? "reduced"
  if (mode !== "reduced" && mode !== "complete" && mode !== "r") {
    throw new ArgumentError({ op, reason: `mode must be "reduced", "complete" or "r", got ${JSON.stringify(mode)}` })
  }
  const x = floatInput(op, a)
  const [q, r] = householder(x)
  const [m, n] = dims(x)
  const k = Math.min(m, n)
  const rReduced = m > k ? sliceRows(r, 0, k) : r
  if (mode === "r") return rReduced
  if (mode === "complete") return [q, r] as const
  return [n < m ? sliceCols(q, 0, k) : q, rReduced] as const
}

const sliceRows = (a: JArray, start: number, stop: number): JArray => getItem(a, ["...", `${start}:${stop}`, ":"])
const sliceCols = (a: JArray, start: number, stop: number): JArray => getItem(a, ["...", `${start}:${stop}`])

/** The full `m×m` Q and `m×n` R of Householder QR. */
const householder = (a: JArray): readonly [JArray, JArray] => {
  const [m, n] = dims(a)
  const batch = batchOf(a)
  const rows = indices(m)
  const cols = indices(n)
  let r = a
  let q = eyeBatch(m, batch)
  for (let k = 0; k < Math.min(m, n); k++) {
    const x = column(r, k)
    const alpha = entry(x, k)
    const below = greater(rows, k)
    const tail = where(below, x, 0)
    const sigma2 = sum(multiply(tail, tail), -1)
    // No reflection when nothing lies below the diagonal (LAPACK's tau = 0).
    const reflect = greater(sigma2, 0)
    const norm = sqrt(where(reflect, add(multiply(alpha, alpha), sigma2), 1))
    const beta = where(greaterEqual(alpha, 0), negative(norm), norm)
    const tau = where(reflect, divide(subtract(beta, alpha), beta), 0)
    const scale = where(reflect, subtract(alpha, beta), 1)
    const v = where(equal(rows, k), 1, where(below, divide(x, colVec(scale)), 0))
    const tv = multiply(colVec(tau), v)
    // R ← (I - τ v vᵀ) R, then column k set to its exact result (zeros below the diagonal).
    r = subtract(r, multiply(colVec(tv), matmul(rowVec(v), r)))
    const newCol = where(less(rows, k), x, where(equal(rows, k), colVec(where(reflect, beta, alpha)), 0))
    r = where(equal(cols, k), colVec(newCol), r)
    // Q ← Q (I - τ v vᵀ)
    q = subtract(q, multiply(matmul(q, colVec(tv)), rowVec(v)))
  }
  return [q, r] as const
}

// ---------------------------------------------------------------------------------------------------
// Cholesky

/**
 * The lower Cholesky factor `L` of each symmetric positive-definite matrix (`a = L @ Lᵀ`), like
 * `jnp.linalg.cholesky`. As in JAX the input is symmetrised first (`(a + aᵀ) / 2`), so its gradient is
 * symmetric; a matrix that is not positive definite gives a matrix of NaN rather than an error (the
 * check would need the values, which a traced function does not have).
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.cholesky(jnp.array([[4, 2], [2, 3]])).tolist() // [[2, 0], [1, 1.4142135]]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const cholesky = (a: ArrayLike): JArray => {
  const x0 = squareInput("linalg.cholesky", a)
  const x = multiply(add(x0, mT(x0)), 0.5)
  const [n] = dims(x)
  const rows = indices(n)
  const cols = indices(n)
  let l = zeros([...x.shape])
  for (let j = 0; j < n; j++) {
    // Column j of a minus what the columns before it already account for: c = a_j - L (row j of L)ᵀ.
    const c = subtract(column(x, j), reshape(matmul(l, colVec(row(l, j))), [...batchOf(x), n]))
    const d = entry(c, j)
    const ljj = sqrt(d)
    const safe = where(greater(d, 0), ljj, 1)
    const colJ = where(equal(rows, j), colVec(ljj), where(greater(rows, j), divide(c, colVec(safe)), 0))
    l = where(equal(cols, j), colVec(colJ), l)
  }
  // JAX fills the lower triangle of a factor that failed (a non-positive pivot) with NaN.
  const ok = all(isfinite(l), [-2, -1], { keepdims: true })
  const pivotsOk = all(greater(diagOf(l), 0), -1, { keepdims: true })
  const lowerMask = greaterEqual(colVec(rows), rowVec(cols))
  return where(logicalAnd(ok, colVec(pivotsOk)), l, where(lowerMask, Number.NaN, 0))
}

/** The main diagonal of each matrix: `[..., n, n]` → `[..., n]`. */
export const diagOf = (a: JArray): JArray => {
  const [m, n] = dims(a)
  const k = Math.min(m, n)
  const mask = equal(colVec(indices(m)), rowVec(indices(n)))
  const d = sum(where(mask, a, 0), -1)
  return k === m ? d : getItem(d, ["...", `0:${k}`])
}

// ---------------------------------------------------------------------------------------------------
// Triangular solves

/**
 * Options of {@link solveTriangular}.
 * @category models
 * @since 0.1.0
 */
export interface SolveTriangularOptions {
  /** Use the lower triangle of `a` (default: the upper, as SciPy). */
  readonly lower?: boolean | undefined
  /** Solve `a x = b` (`0`, default) or `aᵀ x = b` (`1` or `"T"`; `2` or `"C"` is the same for real `a`). */
  readonly trans?: 0 | 1 | 2 | "N" | "T" | "C" | undefined
  /** Take the diagonal of `a` as ones without reading it. */
  readonly unitDiagonal?: boolean | undefined
}

/**
 * Solves `a x = b` for triangular `a` (`[..., n, n]`), like `jax.scipy.linalg.solve_triangular`: `b` is
 * `[n]` (one vector) or `[..., n, k]`, and only the chosen triangle of `a` is read. Substitution row by row.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const l = jnp.array([[2, 0], [1, 1]])
 * jnp.linalg.solveTriangular(l, jnp.array([2, 3]), { lower: true }).tolist() // [1, 2]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const solveTriangular = (a: ArrayLike, b: ArrayLike, options?: SolveTriangularOptions): JArray => {
  const op = "linalg.solveTriangular"
  checkOptionKeys(op, options, ["lower", "trans", "unitDiagonal"])
  const trans = options?.trans ?? 0
  if (![0, 1, 2, "N", "T", "C"].includes(trans)) {
    throw new ArgumentError({ op, reason: `trans must be 0, 1, 2, "N", "T" or "C", got ${JSON.stringify(trans)}` })
  }
  const A = squareInput(op, a)
  const B = floatInput(op, b, 1)
  const [n] = dims(A)
  // Only a 1-d b is one vector; JAX deprecates reading [..., n] as a stack of vectors, so [..., n, k] it is.
  const vector = B.ndim === 1
  const Bm = vector ? colVec(B) : B
  if (Bm.shape[Bm.ndim - 2] !== n) {
    throw new ShapeError({ op, shapes: [A.shape, B.shape], reason: `b must have ${n} rows to match a (${n}×${n})` })
  }
  let lower = options?.lower ?? false
  let T = A
  if (trans !== 0 && trans !== "N") {
    T = mT(A)
    lower = !lower
  }
  const x = substitute(T, Bm, lower, options?.unitDiagonal ?? false)
  return vector ? reshape(x, x.shape.slice(0, -1)) : x
}

/** Forward (lower) or back (upper) substitution of `t x = b` for `b` of shape `[..., n, k]`. */
export const substitute = (t: JArray, b: JArray, lower: boolean, unitDiagonal: boolean): JArray => {
  const [n] = dims(t)
  const batch = broadcastBatch(batchOf(t), batchOf(b))
  const tt = broadcastTo(t, [...batch, n, n])
  const bb = broadcastTo(b, [...batch, n, b.shape[b.ndim - 1]!])
  const rows = indices(n)
  let x = zeros([...bb.shape])
  const order = lower ? [...Array(n).keys()] : [...Array(n).keys()].reverse()
  for (const i of order) {
    // Rows of x not solved yet are still zero, so the full row product sums only the solved ones.
    const ti = row(tt, i)
    const acc = reshape(matmul(rowVec(ti), x), [...batch, bb.shape[bb.ndim - 1]!])
    let xi = subtract(row(bb, i), acc)
    if (!unitDiagonal) xi = divide(xi, colVec(entry(ti, i)))
    x = where(colVec(equal(rows, i)), rowVec(xi), x)
  }
  return x
}

const broadcastBatch = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): Array<number> => {
  const n = Math.max(a.length, b.length)
  const out: Array<number> = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) {
      throw new ShapeError({ op: "linalg", shapes: [a, b], reason: "batch dimensions do not broadcast" })
    }
    out.push(x === 1 ? y : x)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------
// LU with partial pivoting

interface Lu {
  /** Unit lower triangular factor (ones on the diagonal). */
  readonly l: JArray
  /** Upper triangular factor. */
  readonly u: JArray
  /** Row permutation: row `i` of `p @ a` is row `perm[i]` of `a`, `[..., n]` int32. */
  readonly perm: JArray
  /** `(-1)^(number of row swaps)`, `[...]` float32. */
  readonly parity: JArray
}

/**
 * `p a = l u` with partial pivoting (the largest magnitude in the column, first on ties, as LAPACK's
 * `getrf`). A zero pivot column is skipped rather than divided by, so a singular matrix gives a `u`
 * with a zero on its diagonal (and a determinant of exactly 0).
 */
const lu = (a: JArray): Lu => {
  const [n] = dims(a)
  const batch = batchOf(a)
  const rows = indices(n)
  const cols = indices(n)
  let u = a
  let l = zeros([...a.shape])
  let perm = broadcastTo(rows, [...batch, n])
  let parity = add(zeros([...batch]), 1)
  for (let k = 0; k < n; k++) {
    const x = column(u, k)
    const p = argmax(where(less(rows, k), -1, abs(x)), -1)
    const swapped = notEqual(p, k)
    parity = where(swapped, negative(parity), parity)
    // Swap rows k and p: row i reads row idx[i].
    const pp = colVec(p)
    const idx = where(equal(rows, k), pp, where(equal(rows, pp), k, rows))
    const idxM = colVec(idx)
    const gatherRows = (m: JArray): JArray => takeAlongAxis(m, broadcastTo(idxM, [...batch, n, n]), -2)
    u = gatherRows(u)
    l = gatherRows(l)
    perm = takeAlongAxis(perm, idx, -1)
    const xs = column(u, k)
    const pivot = entry(xs, k)
    const nonzero = notEqual(pivot, 0)
    const safe = where(nonzero, pivot, 1)
    const mult = where(greater(rows, k), where(colVec(nonzero), divide(xs, colVec(safe)), 0), 0)
    const uk = row(u, k)
    u = subtract(u, multiply(colVec(mult), rowVec(uk)))
    // Below the pivot column k is now zero; write it exactly, and keep the multipliers in l.
    u = where(multiplyMask(greater(rows, k), equal(cols, k)), 0, u)
    l = where(equal(cols, k), colVec(mult), l)
  }
  l = add(l, eyeBatch(n, batch))
  return { l, u, perm, parity }
}

const multiplyMask = (rowMask: JArray, colMask: JArray): JArray => logicalAnd(colVec(rowMask), rowVec(colMask))

/**
 * The determinant of each square matrix, like `jnp.linalg.det` (from an LU factorisation with partial
 * pivoting; a singular matrix gives 0).
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.round(jnp.linalg.det(jnp.array([[1, 2], [3, 4]]))).item() // -2 (the determinant is -1.9999999 in float32)
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const det = (a: ArrayLike): JArray => {
  const x = squareInput("linalg.det", a)
  if (dims(x)[0] === 0) return add(zeros([...batchOf(x)]), 1)
  const f = lu(x)
  return multiply(f.parity, prod(diagOf(f.u), -1))
}

/**
 * Sign and natural log of the absolute determinant, `[sign, logabsdet]`, like `jnp.linalg.slogdet`:
 * stable where `det` would overflow or underflow. A singular matrix gives `[0, -Infinity]`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const [sign, logabsdet] = jnp.linalg.slogdet(jnp.array([[1, 2], [3, 4]]))
 * // sign -1, logabsdet log(2)
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const slogdet = (a: ArrayLike): readonly [JArray, JArray] => {
  const x = squareInput("linalg.slogdet", a)
  if (dims(x)[0] === 0) {
    const one = add(zeros([...batchOf(x)]), 1)
    return [one, zeros([...batchOf(x)])] as const
  }
  const f = lu(x)
  const d = diagOf(f.u)
  const s = multiply(f.parity, prod(sign(d), -1))
  const logabs = sum(log(abs(d)), -1)
  return [s, logabs] as const
}

/**
 * Solves `a x = b`, like `jnp.linalg.solve`: `a` is `[..., n, n]`; a 1-d `b` (`[n]`) is one right-hand
 * side, otherwise `b` is `[..., n, k]` with batch dimensions broadcasting against `a`'s.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.solve(jnp.array([[3, 1], [1, 2]]), jnp.array([9, 8])).tolist() // [2, 3]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const solve = (a: ArrayLike, b: ArrayLike): JArray => {
  const op = "linalg.solve"
  const A = squareInput(op, a)
  const B = floatInput(op, b, 1)
  const [n] = dims(A)
  const vector = B.ndim === 1
  const Bm = vector ? colVec(B) : B
  if (Bm.shape[Bm.ndim - 2] !== n) {
    throw new ShapeError({
      op,
      shapes: [A.shape, B.shape],
      reason: `b must have ${n} rows to match a (${n}×${n}); a stack of vectors needs a trailing axis of 1`
    })
  }
  const x = luSolve(A, Bm)
  return vector ? reshape(x, x.shape.slice(0, -1)) : x
}

/** Solves through `p a = l u`: permute b, forward-substitute with `l`, back-substitute with `u`. */
const luSolve = (A: JArray, B: JArray): JArray => {
  const [n] = dims(A)
  const batch = broadcastBatch(batchOf(A), batchOf(B))
  const AA = broadcastTo(A, [...batch, n, n])
  const k = B.shape[B.ndim - 1]!
  const BB = broadcastTo(B, [...batch, n, k])
  if (n === 0) return BB
  const f = lu(AA)
  const pb = takeAlongAxis(BB, broadcastTo(colVec(f.perm), [...batch, n, k]), -2)
  const y = substitute(f.l, pb, true, true)
  return substitute(f.u, y, false, false)
}

/**
 * The inverse of each square matrix, like `jnp.linalg.inv` (by solving against the identity). A
 * singular matrix gives infinities or NaN, as in JAX.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.inv(jnp.array([[2, 0], [0, 4]])).tolist() // [[0.5, 0], [0, 0.25]]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const inv = (a: ArrayLike): JArray => {
  const A = squareInput("linalg.inv", a)
  const [n] = dims(A)
  return luSolve(A, eyeBatch(n, batchOf(A)))
}

/**
 * `a` raised to the integer power `n` (`[..., m, m]`), like `jnp.linalg.matrix_power`: repeated
 * squaring; `n = 0` gives the identity and a negative `n` a power of `inv(a)`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.linalg.matrixPower(jnp.array([[1, 1], [0, 1]]), 3).tolist() // [[1, 3], [0, 1]]
 * ```
 * @category linear algebra
 * @since 0.1.0
 */
export const matrixPower = (a: ArrayLike, n: number): JArray => {
  const op = "linalg.matrixPower"
  if (!Number.isInteger(n)) throw new ArgumentError({ op, reason: `n must be an integer, got ${n}` })
  const x0 = asArray(a)
  if (x0.ndim < 2) {
    throw new ShapeError({
      op,
      shapes: [x0.shape],
      reason: `input must have at least 2 dimensions (a matrix, or a stack of them in the leading axes), got ${x0.ndim}`
    })
  }
  const [r, c] = dims(x0)
  if (r !== c)
    throw new ShapeError({
      op,
      shapes: [x0.shape],
      reason: `the last two dimensions must be equal (square matrices), got ${r}×${c}`
    })
  // Like JAX, integer matrices keep their dtype for non-negative powers.
  if (n === 0)
    return broadcastTo(
      eye(r, r, { dtype: x0.dtype === "bool" ? "int32" : (x0.dtype as "float32" | "int32" | "uint32") }),
      x0.shape
    )
  let base = n < 0 ? inv(x0) : x0
  let k = Math.abs(n)
  let result: JArray | undefined
  // Binary powering: square the base once per bit of k, multiplying in the set bits.
  while (k > 0) {
    if (k % 2 === 1) result = result === undefined ? base : matmul(result, base)
    k = Math.floor(k / 2)
    if (k > 0) base = matmul(base, base)
  }
  return result!
}
