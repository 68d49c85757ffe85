/**
 * The optimizers, as optax's aliases: each is a `chain` of the building blocks in
 * `transforms.ts`, ending with the scaling by the (negated) learning rate, which may be a number
 * or a schedule.
 *
 * @since 0.2.0
 */
import type { GradientTransformation } from "./GradientTransformation.ts"
import { chain, identity } from "./GradientTransformation.ts"
import type { ScalarOrSchedule } from "./schedules.ts"
import type { AdamOptions, BeliefOptions, Mask } from "./transforms.ts"
import {
  addDecayedWeights,
  scaleByAdam,
  scaleByBelief,
  scaleByLearningRate,
  scaleByLion,
  scaleByRms,
  scaleByRss,
  scaleByStddev,
  scaleByTrustRatio,
  trace
} from "./transforms.ts"

/**
 * Stochastic gradient descent, with optional (Nesterov) momentum.
 *
 * @example
 * ```ts
 * import { jnp, optax } from "effect-nnx"
 *
 * const tx = optax.sgd(0.1, { momentum: 0.9, nesterov: true })
 * const params = { w: jnp.ones([2]) }
 * const [updates] = tx.update({ w: jnp.ones([2]) }, tx.init(params), params)
 * updates.w.tolist() // [-0.19, -0.19]: -lr · (g + momentum · g), Nesterov's first step
 * ```
 * @category optimizers
 * @since 0.2.0
 */
export const sgd = (
  learningRate: ScalarOrSchedule,
  options?: { readonly momentum?: number | undefined; readonly nesterov?: boolean | undefined }
): GradientTransformation =>
  chain(
    options?.momentum === undefined ? identity() : trace({ decay: options.momentum, nesterov: options.nesterov }),
    scaleByLearningRate(learningRate)
  )

/**
 * Adam (Kingma & Ba): `-lr · m̂ / (sqrt(v̂ + epsRoot) + eps)`.
 * @category optimizers
 * @since 0.2.0
 */
export const adam = (learningRate: ScalarOrSchedule, options?: AdamOptions): GradientTransformation =>
  chain(scaleByAdam(options), scaleByLearningRate(learningRate))

/** Options of {@link adamw}. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay (default 1e-4), a number or a schedule. */
  readonly weightDecay?: ScalarOrSchedule | undefined
  /** Which parameters to decay (see {@link Mask}); all by default. */
  readonly mask?: Mask
}

/**
 * AdamW: Adam with decoupled weight decay, `-lr · (m̂ / (sqrt(v̂) + eps) + wd · p)`.
 *
 * @example
 * ```ts
 * import { jnp, optax } from "effect-nnx"
 *
 * const params = { kernel: jnp.ones([2, 3]), bias: jnp.zeros([3]) }
 * // no decay for biases: the mask is a tree of booleans shaped like the parameters
 * const tx = optax.adamw(1e-3, { weightDecay: 0.01, mask: { kernel: true, bias: false } })
 * const [updates] = tx.update({ kernel: jnp.zeros([2, 3]), bias: jnp.zeros([3]) }, tx.init(params), params)
 * updates.kernel.get(0, 0).item() // -0.000010000001: -lr · weightDecay · kernel (1e-3 · 0.01 · 1 in float32)
 * jnp.abs(updates.bias).max().item() // 0: biases are not decayed
 * ```
 * @category optimizers
 * @since 0.2.0
 */
export const adamw = (learningRate: ScalarOrSchedule, options?: AdamWOptions): GradientTransformation =>
  chain(
    scaleByAdam(options),
    addDecayedWeights(options?.weightDecay ?? 1e-4, options?.mask),
    scaleByLearningRate(learningRate)
  )

/** Options of {@link rmsprop}. */
export interface RmspropOptions {
  readonly decay?: number | undefined
  readonly eps?: number | undefined
  readonly initialScale?: number | undefined
  readonly epsInSqrt?: boolean | undefined
  /** Divide by the moving standard deviation instead of the root mean square. */
  readonly centered?: boolean | undefined
  readonly momentum?: number | undefined
  readonly nesterov?: boolean | undefined
}

/**
 * RMSProp, optionally centered and with momentum (applied after the learning rate, as optax does).
 * @category optimizers
 * @since 0.2.0
 */
export const rmsprop = (learningRate: ScalarOrSchedule, options?: RmspropOptions): GradientTransformation =>
  chain(
    options?.centered === true ? scaleByStddev(options) : scaleByRms(options),
    scaleByLearningRate(learningRate),
    options?.momentum === undefined ? identity() : trace({ decay: options.momentum, nesterov: options.nesterov })
  )

/**
 * AdaGrad: updates divided by the root of the sum of all squared gradients.
 * @category optimizers
 * @since 0.2.0
 */
export const adagrad = (
  learningRate: ScalarOrSchedule,
  options?: { readonly initialAccumulatorValue?: number | undefined; readonly eps?: number | undefined }
): GradientTransformation => chain(scaleByRss(options), scaleByLearningRate(learningRate))

/**
 * Lion (Chen et al.): the sign of interpolated momentum, with decoupled weight decay (default 1e-3).
 * @category optimizers
 * @since 0.2.0
 */
export const lion = (
  learningRate: ScalarOrSchedule,
  options?: {
    readonly b1?: number | undefined
    readonly b2?: number | undefined
    readonly weightDecay?: ScalarOrSchedule | undefined
    readonly mask?: Mask
  }
): GradientTransformation =>
  chain(
    scaleByLion(options),
    addDecayedWeights(options?.weightDecay ?? 1e-3, options?.mask),
    scaleByLearningRate(learningRate)
  )

/**
 * LAMB (You et al.): Adam's update with weight decay, scaled per leaf by the trust ratio.
 * @category optimizers
 * @since 0.2.0
 */
export const lamb = (
  learningRate: ScalarOrSchedule,
  options?: AdamOptions & { readonly weightDecay?: ScalarOrSchedule | undefined; readonly mask?: Mask }
): GradientTransformation =>
  chain(
    scaleByAdam({ b1: options?.b1, b2: options?.b2, eps: options?.eps ?? 1e-6, epsRoot: options?.epsRoot }),
    addDecayedWeights(options?.weightDecay ?? 0, options?.mask),
    scaleByTrustRatio(),
    scaleByLearningRate(learningRate)
  )

/**
 * AdaBelief (Zhuang et al.): Adam with the second moment of the gradient's deviation from its
 * moving average.
 * @category optimizers
 * @since 0.2.0
 */
export const adabelief = (learningRate: ScalarOrSchedule, options?: BeliefOptions): GradientTransformation =>
  chain(scaleByBelief(options), scaleByLearningRate(learningRate))
