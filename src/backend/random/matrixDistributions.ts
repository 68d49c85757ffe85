/**
 * Samplers of `jax.random` built on `jnp.linalg`: `multivariateNormal` (a factor of the covariance
 * times standard normals) and `orthogonal` (Haar-distributed orthogonal matrices from the QR of a
 * normal matrix). The normal draws are JAX's bit for bit; the factorisations match JAX's to float32
 * rounding (the QR carries LAPACK's signs, so `orthogonal` gives JAX's matrices, not merely the same
 * distribution).
 *
 * @since 0.1.0
 */
import type { Array, ArrayLike } from "../Array.ts"
import { ArgumentError, ShapeError } from "../ArrayError.ts"
import { asArray } from "../numpy/creation.ts"
import { checkOptionKeys } from "../numpy/options.ts"
import { add, convertTo, multiply, sign, sqrt } from "../numpy/elementwise.ts"
import { matmul } from "../numpy/linalg.ts"
import { cholesky, diagOf, qr } from "../numpy/linalgDecomp.ts"
import { eigh, svd } from "../numpy/linalgSpectral.ts"
import { reshape, swapaxes } from "../numpy/shapeOps.ts"
import { broadcastShapes } from "../shape.ts"
import { normal } from "./distributions.ts"
import type { FloatOptions } from "./distributions.ts"
import { checkKey } from "./keys.ts"
import type { ShapeLike } from "./shapes.ts"
import { canonicalShape, checkParamShapes } from "./shapes.ts"

/**
 * Options of {@link multivariateNormal}.
 * @category models
 * @since 0.1.0
 */
export interface MultivariateNormalOptions extends FloatOptions {
  /** How to factor the covariance: `"cholesky"` (default), `"eigh"` or `"svd"` (for semi-definite ones). */
  readonly method?: "cholesky" | "eigh" | "svd" | undefined
}

/**
 * Samples of a multivariate normal with `mean` (`[..., n]`) and covariance `cov` (`[..., n, n]`), like
 * `jax.random.multivariate_normal`: `mean + factor @ z` for standard normal `z`. `shape` is the batch
 * shape (the trailing `n` is added); without it, the broadcast batch shape of `mean` and `cov`.
 *
 * @example
 * ```ts
 * import { jnp, random } from "effect-nnx"
 *
 * const x = random.multivariateNormal(random.key(0), jnp.zeros([2]), jnp.eye(2), [5])
 * x.shape // [5, 2]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const multivariateNormal = (
  key: Array,
  mean: Array | ReadonlyArray<number>,
  cov: Array | ReadonlyArray<ReadonlyArray<number>>,
  shape?: ShapeLike,
  options?: MultivariateNormalOptions
): Array => {
  const op = "random.multivariateNormal"
  checkOptionKeys(op, options, ["method", "dtype"])
  const k = checkKey(op, key)
  const method = options?.method ?? "cholesky"
  if (method !== "cholesky" && method !== "eigh" && method !== "svd") {
    throw new ArgumentError({ op, reason: `method must be "cholesky", "eigh" or "svd", got ${JSON.stringify(method)}` })
  }
  const m = convertTo(asArray(mean as ArrayLike), "float32")
  const c = convertTo(asArray(cov as ArrayLike), "float32")
  if (m.ndim < 1) throw new ShapeError({ op, shapes: [m.shape], reason: "mean must have at least one dimension" })
  if (c.ndim < 2) throw new ShapeError({ op, shapes: [c.shape], reason: "cov must have at least two dimensions" })
  const n = m.shape[m.ndim - 1]!
  if (c.shape[c.ndim - 1] !== n || c.shape[c.ndim - 2] !== n) {
    throw new ShapeError({
      op,
      shapes: [m.shape, c.shape],
      reason: `cov must have shape [..., ${n}, ${n}] to match mean's last dimension ${n}`
    })
  }
  const batch =
    shape === undefined ? broadcastShapes(op, [m.shape.slice(0, -1), c.shape.slice(0, -2)]) : canonicalShape(op, shape)
  checkParamShapes(op, batch, [m.shape.slice(0, -1), c.shape.slice(0, -2)])
  let factor: Array
  if (method === "cholesky") factor = cholesky(c)
  else if (method === "eigh") {
    const [w, v] = eigh(c)
    factor = multiply(v, reshape(sqrt(w), [...w.shape.slice(0, -1), 1, n]))
  } else {
    const [u, s] = svd(c)
    factor = multiply(u, reshape(sqrt(s), [...s.shape.slice(0, -1), 1, n]))
  }
  const z = normal(k, [...batch, n], options)
  const fz = matmul(factor, reshape(z, [...z.shape, 1]))
  return add(m, reshape(fz, fz.shape.slice(0, -1)))
}

/**
 * Samples of `n×n` orthogonal matrices from the Haar measure, like `jax.random.orthogonal`: the Q of
 * a standard normal matrix with its columns signed by R's diagonal. With `m`, an `n×m` matrix with
 * orthonormal columns (if `n ≥ m`) or rows.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * random.orthogonal(random.key(0), 3).shape // [3, 3]
 * ```
 * @category samplers
 * @since 0.1.0
 */
export const orthogonal = (
  key: Array,
  n: number,
  shape: ShapeLike = [],
  options?: FloatOptions & { readonly m?: number | undefined }
): Array => {
  const op = "random.orthogonal"
  checkOptionKeys(op, options, ["m", "dtype"])
  const k = checkKey(op, key)
  const m = options?.m ?? n
  for (const [name, v] of [
    ["n", n],
    ["m", m]
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new ArgumentError({ op, reason: `${name} must be a non-negative integer, got ${v}` })
  }
  const s = canonicalShape(op, shape)
  const z = normal(k, [...s, Math.max(n, m), Math.min(n, m)], options)
  const [q, r] = qr(z)
  const d = diagOf(r)
  const x = multiply(q, reshape(sign(d), [...d.shape.slice(0, -1), 1, d.shape[d.ndim - 1]!]))
  return n < m ? swapaxes(x, -1, -2) : x
}
