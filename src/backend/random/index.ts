/**
 * `random`: JAX's functional pseudo-random numbers (`jax.random`). Randomness comes only from
 * explicit keys: `key(seed)` makes one, `split` and `foldIn` derive independent ones, and every
 * sampler is a pure function of its key, so the same key always gives the same numbers — the same
 * numbers as JAX, since keys, splitting and samplers follow JAX's threefry2x32 algorithms.
 *
 * Everything lowers to primitives (`threefry2x32`, `iota`, shifts, bitcasts, `sort`, `erf_inv`,
 * ...), so samplers work under `vmap`, `grad` and `jit` like any other array code.
 *
 * @example
 * ```ts
 * import { random } from "effect-nnx"
 *
 * const key = random.key(0)
 * const x = random.normal(random.foldIn(key, 0), [3])
 * const y = random.uniform(random.foldIn(key, 1), [3], { minval: -1, maxval: 1 })
 * ```
 *
 * @since 0.1.0
 */
export { bits } from "./bits.ts"
export {
  bernoulli,
  categorical,
  normal,
  randint,
  truncatedNormal,
  uniform
} from "./distributions.ts"
export type { CategoricalOptions, FloatOptions, RandintOptions, UniformOptions } from "./distributions.ts"
export { foldIn, key, keyData, split, wrapKeyData } from "./keys.ts"
export { beta, chisquare, dirichlet, gamma, loggamma, studentT, t } from "./gammaFamily.ts"
export { multivariateNormal, orthogonal } from "./matrixDistributions.ts"
export type { MultivariateNormalOptions } from "./matrixDistributions.ts"
export { poisson } from "./poisson.ts"
export { binomial } from "./binomial.ts"
export { permutation } from "./permutation.ts"
export type { PermutationOptions } from "./permutation.ts"
export type { ShapeLike } from "./shapes.ts"
export {
  choice,
  exponential,
  geometric,
  gumbel,
  laplace,
  logistic,
  maxwell,
  pareto,
  rademacher,
  rayleigh,
  weibullMin
} from "./moreDistributions.ts"
export type { ChoiceOptions, GumbelOptions } from "./moreDistributions.ts"
