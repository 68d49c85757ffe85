/**
 * The `jnp.linalg` namespace: `norm`, `inv`, `solve`, `det`, `slogdet`, `cholesky`, `qr`, `eig`, `eigvals`, `eigh`,
 * `eigvalsh`, `svd`, `svdvals`, `pinv`, `matrixRank`, `lstsq`, `matrixPower` and `solveTriangular` (SciPy's
 * `solve_triangular`), on stacks of matrices in the last two axes, as JAX's. Computed in float32 by
 * composites of the array primitives, so every transform applies to them; `eig` is a primitive with
 * complex64 results. See docs/linalg.md.
 *
 * @since 0.1.0
 */
export { cholesky, det, inv, matrixPower, qr, slogdet, solve, solveTriangular } from "./linalgDecomp.ts"
export type { QrOptions, SolveTriangularOptions } from "./linalgDecomp.ts"
export { norm } from "./linalgNorm.ts"
export type { NormOptions } from "./linalgNorm.ts"
export { eig, eigvals } from "./linalgEig.ts"
export { eigh, eigvalsh, lstsq, matrixRank, pinv, svd, svdvals } from "./linalgSpectral.ts"
export type { SvdOptions } from "./linalgSpectral.ts"
