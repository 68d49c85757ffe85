/**
 * `jnp.linalg.eig` and `eigvals`: eigenvalues and right eigenvectors of general (non-symmetric)
 * square matrices, real or complex, as complex64. One `eig` primitive (`jax.lax.linalg.eig`) with a
 * reference kernel in double precision (see `cpu/eig.ts`); other backends run that kernel.
 *
 * As in JAX: eigenvalues are differentiable, eigenvectors are not (a GradError); `vmap` and `jit`
 * apply. Eigenvectors have unit 2-norm with their entry of largest modulus real and positive;
 * LAPACK's (JAX's on CPU) have that entry real with either sign, so a vector may be the negative of
 * JAX's. The order of the eigenvalues follows the QR iteration's deflation, like LAPACK's, but may
 * differ from it: compare them as sets.
 *
 * @since 0.2.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { DTypeError, ShapeError } from "../ArrayError.ts"
import { bind, bind1 } from "../bind.ts"
import { asArray } from "./creation.ts"
import { convertTo } from "./elementwise.ts"

const eigInput = (op: string, x: ArrayLike): JArray => {
  const a = asArray(x)
  if (a.dtype === "key<fry>")
    throw new DTypeError({ op, dtypes: [a.dtype], reason: "expected a numeric array, not PRNG keys" })
  if (a.ndim < 2 || a.shape[a.ndim - 1] !== a.shape[a.ndim - 2]) {
    throw new ShapeError({
      op,
      shapes: [a.shape],
      reason: "expects square matrices in the last two axes ([..., n, n])"
    })
  }
  return a.dtype === "float32" || a.dtype === "complex64" ? a : convertTo(a, "float32")
}

/**
 * Eigenvalues `w` (`[..., n]`) and right eigenvectors `v` (`[..., n, n]`, in columns, `a v = v w`) of
 * a square matrix or a stack of them, both complex64, like `jnp.linalg.eig`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * const [w, v] = jnp.linalg.eig(jnp.array([[0, -1], [1, 0]]))
 * w.tolist() // [{ re: 0, im: -1 }, { re: 0, im: 1 }]; JAX (LAPACK) lists them in the other order
 * ```
 * @category linalg
 * @since 0.2.0
 */
export const eig = (a: ArrayLike): readonly [JArray, JArray] => {
  const [w, v] = bind("eig", [eigInput("linalg.eig", a)], { vectors: true }) as [JArray, JArray]
  return [w, v]
}

/**
 * The eigenvalues of a general square matrix (or stack), complex64, like `jnp.linalg.eigvals`;
 * differentiable.
 * @category linalg
 * @since 0.2.0
 */
export const eigvals = (a: ArrayLike): JArray => bind1("eig", [eigInput("linalg.eigvals", a)], { vectors: false })
