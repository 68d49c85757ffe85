/**
 * The `optax` namespace: gradient transformations, optimizers, schedules and losses, as the optax
 * library for JAX, camelCased (`clip_by_global_norm` is `clipByGlobalNorm`, keyword arguments are
 * an options record). Use them directly on pytrees, or through `nnx.Optimizer` on a model.
 *
 * ```ts
 * import { optax } from "effect-nnx"
 * const tx = optax.chain(optax.clipByGlobalNorm(1), optax.adamw(optax.warmupCosineDecaySchedule({ initValue: 0, peakValue: 1e-3, warmupSteps: 100, decaySteps: 1000 })))
 * ```
 *
 * @since 0.2.0
 */
export { applyUpdates, chain, identity, make } from "./GradientTransformation.ts"
export type { EmptyState, GradientTransformation, OptState } from "./GradientTransformation.ts"
export {
  addDecayedWeights,
  clip,
  clipByGlobalNorm,
  globalNorm,
  masked,
  safeIncrement,
  scale,
  scaleByAdam,
  scaleByBelief,
  scaleByLearningRate,
  scaleByLion,
  scaleByRms,
  scaleByRss,
  scaleBySchedule,
  scaleByStddev,
  scaleByTrustRatio,
  trace
} from "./transforms.ts"
export type {
  AdamOptions,
  BeliefOptions,
  Mask,
  MaskedState,
  RmsOptions,
  ScaleByAdamState,
  ScaleByLionState,
  ScaleByRmsState,
  ScaleByRssState,
  ScaleByScheduleState,
  ScaleByStddevState,
  TraceState,
  WeightDecayState
} from "./transforms.ts"
export { adabelief, adagrad, adam, adamw, lamb, lion, rmsprop, sgd } from "./alias.ts"
export type { AdamWOptions, RmspropOptions } from "./alias.ts"
export {
  constantSchedule,
  cosineDecaySchedule,
  exponentialDecay,
  joinSchedules,
  linearSchedule,
  piecewiseConstantSchedule,
  polynomialSchedule,
  warmupCosineDecaySchedule
} from "./schedules.ts"
export type { ScalarOrSchedule, Schedule } from "./schedules.ts"
export * as losses from "./losses.ts"
export {
  cosineDistance,
  cosineSimilarity,
  huberLoss,
  l2Loss,
  sigmoidBinaryCrossEntropy,
  softmaxCrossEntropy,
  softmaxCrossEntropyWithIntegerLabels,
  squaredError
} from "./losses.ts"
