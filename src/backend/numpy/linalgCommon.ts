/**
 * Shared pieces of the `jnp.linalg` decompositions: input checks (typed errors naming the op and what
 * to pass instead), the dtype rule (integers and booleans become float32, as JAX promotes them to its
 * default float), and small batched helpers over the last two axes.
 *
 * Every decomposition here is a composite of existing primitives, unrolled over the (static) matrix
 * size, so `vmap`, `jit` and `grad` apply to them with no rules of their own; they run in float32.
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { DTypeError, ShapeError } from "../ArrayError.ts"
import * as lax from "../lax.ts"
import { arange, asArray, eye, fromScalar } from "./creation.ts"
import { convertTo } from "./elementwise.ts"
import { broadcastTo, reshape, swapaxes } from "./shapeOps.ts"

/** The input as a float32 array of at least `minNdim` dimensions (`[..., m, n]` for matrices). */
export const floatInput = (op: string, x: ArrayLike, minNdim = 2): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "expected a numeric array, not PRNG keys" })
  if (a.dtype === "complex64") {
    throw new DTypeError({
      op,
      dtypes: [a.dtype],
      reason: "complex matrices are not supported here (only jnp.linalg.eig and eigvals take them); pass a real matrix"
    })
  }
  if (a.ndim < minNdim) {
    throw new ShapeError({
      op,
      shapes: [a.shape],
      reason: `input must have at least ${minNdim} dimensions (a matrix, or a stack of them in the leading axes), got ${a.ndim}`
    })
  }
  return a.dtype === "float32" ? a : convertTo(a, "float32")
}

/** A float32 stack of square matrices `[..., n, n]`. */
export const squareInput = (op: string, x: ArrayLike): JArray => {
  const a = floatInput(op, x)
  const [m, n] = a.shape.slice(-2) as [number, number]
  if (m !== n) {
    throw new ShapeError({
      op,
      shapes: [a.shape],
      reason: `the last two dimensions must be equal (square matrices), got ${m}×${n}`
    })
  }
  return a
}

/** Rows and columns of the trailing matrix. */
export const dims = (a: JArray): readonly [number, number] => [a.shape[a.ndim - 2]!, a.shape[a.ndim - 1]!]
/** The leading (batch) dimensions. */
export const batchOf = (a: JArray): ReadonlyArray<number> => a.shape.slice(0, -2)

/** Swaps the last two axes. */
export const mT = (a: JArray): JArray => swapaxes(a, -1, -2)

/** The `n`×`n` identity, broadcast over `batch`. */
export const eyeBatch = (n: number, batch: ReadonlyArray<number>): JArray => broadcastTo(eye(n), [...batch, n, n])

/** Column `k` of each matrix: `[..., m, n]` → `[..., m]`. */
export const column = (a: JArray, k: number): JArray => {
  const nd = a.ndim
  const s = lax.slice(
    a,
    a.shape.map((_, i) => (i === nd - 1 ? k : 0)),
    a.shape.map((d, i) => (i === nd - 1 ? k + 1 : d))
  )
  return reshape(s, a.shape.slice(0, -1))
}

/** Row `k` of each matrix: `[..., m, n]` → `[..., n]`. */
export const row = (a: JArray, k: number): JArray => {
  const nd = a.ndim
  const s = lax.slice(
    a,
    a.shape.map((_, i) => (i === nd - 2 ? k : 0)),
    a.shape.map((d, i) => (i === nd - 2 ? k + 1 : d))
  )
  return reshape(s, [...a.shape.slice(0, -2), a.shape[nd - 1]!])
}

/** Element `k` of the last axis: `[..., m]` → `[...]`. */
export const entry = (v: JArray, k: number): JArray => {
  const nd = v.ndim
  const s = lax.slice(
    v,
    v.shape.map((_, i) => (i === nd - 1 ? k : 0)),
    v.shape.map((d, i) => (i === nd - 1 ? k + 1 : d))
  )
  return reshape(s, v.shape.slice(0, -1))
}

/** Appends a unit axis at the end (`x[..., None]`). */
export const colVec = (v: JArray): JArray => reshape(v, [...v.shape, 1])
/** Inserts a unit axis before the last (`x[..., None, :]`). */
export const rowVec = (v: JArray): JArray => reshape(v, [...v.shape.slice(0, -1), 1, v.shape[v.ndim - 1]!])

/** Index vector `[0, 1, ..., n-1]` (int32). */
export const indices = (n: number): JArray => arange(n)

/** A float32 scalar constant. */
export const f32 = (v: number): JArray => fromScalar(v, "float32")
