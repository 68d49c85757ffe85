/**
 * The building blocks optimizers are chains of, as optax's `optax.scale_by_*`, `trace`,
 * `add_decayed_weights`, `clip*` and `masked`. Each is a {@link GradientTransformation}.
 *
 * The arithmetic is optax's, operation for operation, so results agree with optax in float32:
 * moments are `(1 - decay) · g^order + decay · m`, bias corrections divide by `1 - decay^count`
 * with the incremented int32 count, `eps` is added outside the square root and `epsRoot` inside,
 * and step counts saturate at the int32 maximum instead of wrapping.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { ArgumentError } from "../backend/ArrayError.ts"
import { asArray, fullLike, onesLike, zeros, zerosLike } from "../backend/numpy/creation.ts"
import {
  abs,
  add,
  clip as clipValues,
  convertTo,
  divide,
  equal,
  greater,
  less,
  lessEqual,
  logicalOr,
  multiply,
  power,
  rsqrt,
  sign,
  sqrt,
  square,
  subtract,
  tanh,
  where
} from "../backend/numpy/elementwise.ts"
import { sum } from "../backend/numpy/reductions.ts"
import { isArray } from "../backend/Array.ts"
import { flatten, unflatten } from "../transforms/core/pytree.ts"
import { StructureError } from "../transforms/core/TransformError.ts"
import type { EmptyState, GradientTransformation } from "./GradientTransformation.ts"
import { make, stateless } from "./GradientTransformation.ts"
import type { ScalarOrSchedule, Schedule } from "./schedules.ts"
import { flat, leavesOf, numericDType, treeMap, treeMapUnchecked } from "./tree.ts"

const INT32_MAX = 2147483647

/** How errors name the trees a transformation compares. */
const STATE_NAMES = ["the updates", "the state"]
const PARAM_NAMES = ["the updates", "the parameters"]

/** A fresh int32 step count. */
const zeroCount = (): JArray => zeros([], { dtype: "int32" })

/** `count + 1`, staying at the int32 maximum instead of wrapping (optax's `safe_increment`). */
export const safeIncrement = (count: JArray): JArray => where(less(count, INT32_MAX), add(count, 1), INT32_MAX)

/** `(1 - decay) · g^order + decay · m`, leaf by leaf. */
const updateMoment = <T>(op: string, updates: T, moments: unknown, decay: number, order: 1 | 2): T =>
  treeMap(
    op,
    STATE_NAMES,
    (g, m) => add(multiply(1 - decay, order === 1 ? g : square(g)), multiply(decay, m)),
    updates,
    moments
  )

/** `m / (1 - decay^count)`, the correction computed in float32 as optax does. */
const biasCorrection = <T>(moments: T, decay: number, count: JArray): T => {
  const correction = subtract(1, power32(decay, count))
  return treeMapUnchecked((m) => divide(m, convertTo(correction, numericDType(m))), moments)
}

/** `decay ** count` with an int32 count: both promoted to float32 first, as `jnp.power` does. */
const power32 = (base: number, count: JArray): JArray => power(base, convertTo(count, "float32"))

/** Checks a decay rate or similar hyperparameter. */
const checkNumber = (op: string, name: string, v: unknown): void => {
  if (typeof v !== "number" || Number.isNaN(v))
    throw new ArgumentError({ op, reason: `${name} must be a number, got ${String(v)}` })
}

/** `params` for transformations that read the parameters; optax fails likewise without them. */
const needParams = (op: string, params: unknown): unknown => {
  if (params === undefined || params === null) {
    throw new StructureError({
      transform: op,
      reason: "this transformation reads the parameters: pass them as update's third argument (optimizer.update does)"
    })
  }
  return params
}

// ---------------------------------------------------------------------------------------------
// Scaling

/**
 * Multiplies updates by a fixed `stepSize`.
 * @category transformations
 * @since 0.2.0
 */
export const scale = (stepSize: number): GradientTransformation<EmptyState> =>
  stateless("scale", (u) => treeMapUnchecked((g) => multiply(stepSize, g), u))

/** State of {@link scaleBySchedule}: how many updates so far. @category models @since 0.2.0 */
export interface ScaleByScheduleState {
  readonly count: JArray
}

/**
 * Multiplies updates by `stepSizeFn(count)`, the count of updates so far.
 * @category transformations
 * @since 0.2.0
 */
export const scaleBySchedule = (stepSizeFn: Schedule): GradientTransformation<ScaleByScheduleState> =>
  make<ScaleByScheduleState>(
    "scaleBySchedule",
    () => ({ count: zeroCount() }),
    (updates, state) => {
      const stepSize = asArray(stepSizeFn(state.count))
      const out = treeMapUnchecked((g) => multiply(convertTo(stepSize, numericDType(g)), g), updates)
      return [out, { count: safeIncrement(state.count) }]
    }
  )

/**
 * Multiplies updates by `-learningRate` (by `learningRate` with `flipSign: false`); a schedule is
 * called with the update count.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByLearningRate = (
  learningRate: ScalarOrSchedule,
  options?: { readonly flipSign?: boolean | undefined }
): GradientTransformation => {
  const m = options?.flipSign === false ? 1 : -1
  if (typeof learningRate === "function") return scaleBySchedule((count) => multiply(m, learningRate(count)))
  checkNumber("optax.scaleByLearningRate", "learningRate", learningRate)
  return scale(m * learningRate)
}

/** State of {@link scaleByAdam} (and of {@link scaleByBelief}): the count and both moments. @category models @since 0.2.0 */
export interface ScaleByAdamState<T = unknown> {
  readonly count: JArray
  readonly mu: T
  readonly nu: T
}

/** Options of {@link scaleByAdam}. */
export interface AdamOptions {
  readonly b1?: number | undefined
  readonly b2?: number | undefined
  readonly eps?: number | undefined
  readonly epsRoot?: number | undefined
  readonly nesterov?: boolean | undefined
}

/**
 * Adam's rescaling: bias-corrected first and second moments, `m̂ / (sqrt(v̂ + epsRoot) + eps)`.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByAdam = (options?: AdamOptions): GradientTransformation<ScaleByAdamState> => {
  const b1 = options?.b1 ?? 0.9
  const b2 = options?.b2 ?? 0.999
  const eps = options?.eps ?? 1e-8
  const epsRoot = options?.epsRoot ?? 0
  const nesterov = options?.nesterov === true
  return make<ScaleByAdamState>(
    "scaleByAdam",
    (params) => ({
      count: zeroCount(),
      mu: treeMapUnchecked((p) => zerosLike(p), params),
      nu: treeMapUnchecked((p) => zerosLike(p), params)
    }),
    (updates, state) => {
      const mu = updateMoment("optax.scaleByAdam", updates, state.mu, b1, 1)
      const nu = updateMoment("optax.scaleByAdam", updates, state.nu, b2, 2)
      const count = safeIncrement(state.count)
      const muHat = nesterov
        ? treeMapUnchecked(
            (m, g) => add(multiply(b1, m), multiply(1 - b1, g)),
            biasCorrection(mu, b1, safeIncrement(count)),
            biasCorrection(updates, b1, count)
          )
        : biasCorrection(mu, b1, count)
      const nuHat = biasCorrection(nu, b2, count)
      const out = treeMapUnchecked((m, v) => divide(m, add(sqrt(add(v, epsRoot)), eps)), muHat, nuHat)
      return [out, { count, mu, nu }]
    }
  )
}

/** Options of {@link scaleByBelief}. */
export interface BeliefOptions {
  readonly b1?: number | undefined
  readonly b2?: number | undefined
  readonly eps?: number | undefined
  readonly epsRoot?: number | undefined
  readonly nesterov?: boolean | undefined
}

/**
 * AdaBelief's rescaling: the second moment is of the prediction error `g - m`, not of `g`.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByBelief = (options?: BeliefOptions): GradientTransformation<ScaleByAdamState> => {
  const b1 = options?.b1 ?? 0.9
  const b2 = options?.b2 ?? 0.999
  const eps = options?.eps ?? 1e-16
  const epsRoot = options?.epsRoot ?? 1e-16
  const nesterov = options?.nesterov === true
  return make<ScaleByAdamState>(
    "scaleByBelief",
    (params) => ({
      count: zeroCount(),
      mu: treeMapUnchecked((p) => zerosLike(p), params),
      nu: treeMapUnchecked((p) => zerosLike(p), params)
    }),
    (updates, state) => {
      const mu = updateMoment("optax.scaleByBelief", updates, state.mu, b1, 1)
      const predictionError = treeMapUnchecked((g, m) => subtract(g, m), updates, mu)
      const nu = treeMapUnchecked(
        (v) => add(v, epsRoot),
        updateMoment("optax.scaleByBelief", predictionError, state.nu, b2, 2)
      )
      const count = safeIncrement(state.count)
      const muHat = nesterov
        ? treeMapUnchecked(
            (m, g) => add(multiply(b1, m), multiply(1 - b1, g)),
            biasCorrection(mu, b1, safeIncrement(count)),
            biasCorrection(updates, b1, count)
          )
        : biasCorrection(mu, b1, count)
      const nuHat = biasCorrection(nu, b2, count)
      const out = treeMapUnchecked((m, v) => divide(m, add(sqrt(v), eps)), muHat, nuHat)
      return [out, { count, mu, nu }]
    }
  )
}

/** State of {@link scaleByRms}: the moving average of squared updates. @category models @since 0.2.0 */
export interface ScaleByRmsState<T = unknown> {
  readonly nu: T
}

/** Options of {@link scaleByRms} and {@link scaleByStddev}. */
export interface RmsOptions {
  readonly decay?: number | undefined
  readonly eps?: number | undefined
  readonly initialScale?: number | undefined
  /** `1 / sqrt(v + eps)` (default) rather than `1 / (sqrt(v) + eps)`. */
  readonly epsInSqrt?: boolean | undefined
}

/**
 * RMSProp's rescaling by the root of a moving average of squared updates.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByRms = (options?: RmsOptions): GradientTransformation<ScaleByRmsState> => {
  const decay = options?.decay ?? 0.9
  const eps = options?.eps ?? 1e-8
  const initialScale = options?.initialScale ?? 0
  const epsInSqrt = options?.epsInSqrt ?? true
  return make<ScaleByRmsState>(
    "scaleByRms",
    (params) => ({ nu: treeMapUnchecked((p) => fullLike(p, initialScale), params) }),
    (updates, state) => {
      const nu = updateMoment("optax.scaleByRms", updates, state.nu, decay, 2)
      const scaling = (v: JArray): JArray => (epsInSqrt ? rsqrt(add(v, eps)) : divide(1, add(sqrt(v), eps)))
      const out = treeMapUnchecked((v, g) => multiply(scaling(v), g), nu, updates)
      return [out, { nu }]
    }
  )
}

/** State of {@link scaleByStddev}: first and second moments. @category models @since 0.2.0 */
export interface ScaleByStddevState<T = unknown> {
  readonly mu: T
  readonly nu: T
}

/**
 * Centered RMSProp's rescaling by the root of the moving variance `v - m²`.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByStddev = (options?: RmsOptions): GradientTransformation<ScaleByStddevState> => {
  const decay = options?.decay ?? 0.9
  const eps = options?.eps ?? 1e-8
  const initialScale = options?.initialScale ?? 0
  const epsInSqrt = options?.epsInSqrt ?? true
  return make<ScaleByStddevState>(
    "scaleByStddev",
    (params) => ({
      mu: treeMapUnchecked((p) => zerosLike(p), params),
      nu: treeMapUnchecked((p) => fullLike(p, initialScale), params)
    }),
    (updates, state) => {
      const mu = updateMoment("optax.scaleByStddev", updates, state.mu, decay, 1)
      const nu = updateMoment("optax.scaleByStddev", updates, state.nu, decay, 2)
      const scaling = (m: JArray, v: JArray): JArray =>
        epsInSqrt ? rsqrt(add(subtract(v, square(m)), eps)) : divide(1, add(sqrt(subtract(v, square(m))), eps))
      const out = treeMapUnchecked((m, v, g) => multiply(scaling(m, v), g), mu, nu, updates)
      return [out, { mu, nu }]
    }
  )
}

/** State of {@link scaleByRss}: the sum of squared updates so far. @category models @since 0.2.0 */
export interface ScaleByRssState<T = unknown> {
  readonly sumOfSquares: T
}

/**
 * AdaGrad's rescaling by the root of the sum of all squared updates (zero where that sum is 0).
 * @category transformations
 * @since 0.2.0
 */
export const scaleByRss = (options?: {
  readonly initialAccumulatorValue?: number | undefined
  readonly eps?: number | undefined
}): GradientTransformation<ScaleByRssState> => {
  const initial = options?.initialAccumulatorValue ?? 0.1
  const eps = options?.eps ?? 1e-7
  return make<ScaleByRssState>(
    "scaleByRss",
    (params) => ({ sumOfSquares: treeMapUnchecked((p) => fullLike(p, initial), params) }),
    (updates, state) => {
      const sumOfSquares = treeMap(
        "optax.scaleByRss",
        STATE_NAMES,
        (g, t) => add(square(g), t),
        updates,
        state.sumOfSquares
      )
      const out = treeMapUnchecked(
        (t, g) => multiply(where(greater(t, 0), rsqrt(add(t, eps)), 0), g),
        sumOfSquares,
        updates
      )
      return [out, { sumOfSquares }]
    }
  )
}

/** State of {@link scaleByLion}: the count and the momentum. @category models @since 0.2.0 */
export interface ScaleByLionState<T = unknown> {
  readonly count: JArray
  readonly mu: T
}

/**
 * Lion's update: the sign of an interpolation of the update and the momentum (`b1`); the
 * momentum itself decays with `b2`.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByLion = (options?: {
  readonly b1?: number | undefined
  readonly b2?: number | undefined
  readonly mode?: "hard" | "smooth" | "refined" | undefined
  readonly smoothBeta?: number | undefined
}): GradientTransformation<ScaleByLionState> => {
  const b1 = options?.b1 ?? 0.9
  const b2 = options?.b2 ?? 0.99
  const mode = options?.mode ?? "hard"
  const beta = options?.smoothBeta ?? 1
  const squash = (x: JArray): JArray =>
    mode === "hard" ? sign(x) : mode === "smooth" ? tanh(multiply(beta, x)) : where(less(abs(x), 1), x, sign(x))
  return make<ScaleByLionState>(
    "scaleByLion",
    (params) => ({ count: zeroCount(), mu: treeMapUnchecked((p) => zerosLike(p), params) }),
    (updates, state) => {
      const out = treeMap(
        "optax.scaleByLion",
        STATE_NAMES,
        (g, m) => squash(add(multiply(1 - b1, g), multiply(b1, m))),
        updates,
        state.mu
      )
      const mu = updateMoment("optax.scaleByLion", updates, state.mu, b2, 1)
      return [out, { count: safeIncrement(state.count), mu }]
    }
  )
}

/** `sqrt(sum(x²))` over all elements, with optax's `safe_norm` guard: `minNorm` where the norm is at most `minNorm`. */
const safeNorm = (x: JArray, minNorm: number): JArray => {
  const norm = sqrt(sum(square(x)))
  // The norm of `where(norm <= minNorm, 1, x)` is taken again so that its gradient stays finite at 0.
  const masked = where(lessEqual(norm, minNorm), onesLike(x), x)
  return where(lessEqual(norm, minNorm), minNorm, sqrt(sum(square(masked))))
}

/**
 * Scales each leaf's update by the trust ratio `‖param‖ / ‖update‖` (LAMB, LARS), 1 where
 * either norm is zero.
 * @category transformations
 * @since 0.2.0
 */
export const scaleByTrustRatio = (options?: {
  readonly minNorm?: number | undefined
  readonly trustCoefficient?: number | undefined
  readonly eps?: number | undefined
}): GradientTransformation<EmptyState> => {
  const minNorm = options?.minNorm ?? 0
  const coefficient = options?.trustCoefficient ?? 1
  const eps = options?.eps ?? 0
  return stateless("scaleByTrustRatio", (updates, params) =>
    treeMap(
      "optax.scaleByTrustRatio",
      PARAM_NAMES,
      (u, p) => {
        const paramNorm = safeNorm(p, minNorm)
        const updateNorm = safeNorm(u, minNorm)
        const ratio = divide(multiply(coefficient, paramNorm), add(updateNorm, eps))
        const zeroNorm = logicalOr(equal(paramNorm, 0), equal(updateNorm, 0))
        return multiply(u, where(zeroNorm, convertTo(asArray(1), numericDType(p)), ratio))
      },
      updates,
      needParams("optax.scaleByTrustRatio", params)
    )
  )
}

/** State of {@link trace}: the momentum. @category models @since 0.2.0 */
export interface TraceState<T = unknown> {
  readonly trace: T
}

/**
 * Momentum: `t ← g + decay · t`, the updates being `t` (or `g + decay · t` with `nesterov`).
 * @category transformations
 * @since 0.2.0
 */
export const trace = (options: {
  readonly decay: number
  readonly nesterov?: boolean | undefined
}): GradientTransformation<TraceState> => {
  const { decay } = options
  checkNumber("optax.trace", "decay", decay)
  const f = (g: JArray, t: JArray): JArray => add(g, multiply(decay, t))
  return make<TraceState>(
    "trace",
    (params) => ({ trace: treeMapUnchecked((p) => zerosLike(p), params) }),
    (updates, state) => {
      const next = treeMap("optax.trace", STATE_NAMES, f, updates, state.trace)
      const out = options.nesterov === true ? treeMapUnchecked(f, updates, next) : next
      return [out, { trace: next }]
    }
  )
}

/** State of {@link addDecayedWeights} with a scheduled decay: the update count. @category models @since 0.2.0 */
export interface WeightDecayState {
  readonly count?: JArray
}

/**
 * Which parameters a masked transformation applies to: a tree of booleans of the parameters'
 * structure (one per leaf), or a function of the parameters (or updates) returning one. For a
 * `State`, `(params) => params.map((path, leaf) => leaf.replace(...))` with boolean values.
 * @category models
 * @since 0.2.0
 */
export type Mask = unknown | ((tree: unknown) => unknown)

/**
 * Adds `weightDecay · params` to the updates (decoupled weight decay, as in AdamW), only where
 * `mask` says so when it is given.
 * @category transformations
 * @since 0.2.0
 */
export const addDecayedWeights = (weightDecay: ScalarOrSchedule = 0, mask?: Mask): GradientTransformation => {
  const scheduled = typeof weightDecay === "function"
  const inner = make<WeightDecayState>(
    "addDecayedWeights",
    () => (scheduled ? { count: zeroCount() } : {}),
    (updates, state, params) => {
      const p = needParams("optax.addDecayedWeights", params)
      const next = scheduled ? { count: safeIncrement(state.count!) } : state
      if (!scheduled && weightDecay === 0) return [updates, next]
      const s = scheduled ? weightDecay(state.count!) : weightDecay
      return [treeMap("optax.addDecayedWeights", PARAM_NAMES, (g, w) => add(g, multiply(s, w)), updates, p), next]
    }
  )
  return mask === undefined || mask === null ? inner : masked(inner, mask)
}

// ---------------------------------------------------------------------------------------------
// Clipping

/**
 * Clips every update element to `[-maxDelta, maxDelta]`.
 * @category transformations
 * @since 0.2.0
 */
export const clip = (maxDelta: number): GradientTransformation<EmptyState> =>
  stateless("clip", (u) => treeMapUnchecked((g) => clipValues(g, -maxDelta, maxDelta), u))

/**
 * The norm of a whole tree: `sqrt` of the sum over leaves of their sums of squares (optax's
 * `optax.tree.norm`).
 * @category utilities
 * @since 0.2.0
 */
export const globalNorm = (tree: unknown): JArray => {
  // optax folds from the integer 0, leaf by leaf, in flattening order.
  let total: JArray = asArray(0)
  for (const leaf of leavesOf(tree)) total = add(total, sum(square(leaf)))
  return sqrt(total)
}

/**
 * Rescales the updates so that their global norm is at most `maxNorm` (unchanged when it is
 * already below).
 * @category transformations
 * @since 0.2.0
 */
export const clipByGlobalNorm = (maxNorm: number): GradientTransformation<EmptyState> =>
  stateless("clipByGlobalNorm", (u) => {
    const norm = globalNorm(u)
    const below = less(norm, maxNorm)
    return treeMapUnchecked((g) => where(below, g, multiply(divide(g, convertTo(norm, numericDType(g))), maxNorm)), u)
  })

// ---------------------------------------------------------------------------------------------
// Masking

/** State of {@link masked}: the inner transformation's state, over the selected leaves. @category models @since 0.2.0 */
export interface MaskedState<S = unknown> {
  readonly innerState: S
}

/** The mask bit of every leaf of `tree`. */
const maskBits = (mask: Mask, tree: unknown, count: number): ReadonlyArray<boolean> => {
  const m = typeof mask === "function" ? (mask as (t: unknown) => unknown)(tree) : mask
  const [bits] = flatten(m)
  if (bits.length !== count) {
    throw new StructureError({
      transform: "optax.masked",
      reason: `the mask has ${bits.length} leaves for ${count} parameters; give one boolean per parameter, in the parameters' structure`
    })
  }
  return bits.map((b, i) => {
    if (typeof b === "boolean") return b
    if (isArray(b) && b.ndim === 0 && b.dtype === "bool") return b.item() as boolean
    throw new StructureError({
      transform: "optax.masked",
      reason: `mask leaf ${i} is ${isArray(b) ? `an Array of dtype ${b.dtype}` : String(b)}; mask leaves must be booleans`
    })
  })
}

/**
 * Applies `inner` only to the leaves `mask` selects; the others pass through unchanged. The inner
 * transformation sees the selected leaves as a list (its state is over that list), where optax
 * puts placeholders in the full tree: the selected leaves and their order are the same.
 * @category combinators
 * @since 0.2.0
 */
export const masked = <S>(inner: GradientTransformation<S>, mask: Mask): GradientTransformation<MaskedState<S>> =>
  make<MaskedState<S>>(
    "masked",
    (params) => {
      const leaves = leavesOf(params)
      const bits = maskBits(mask, params, leaves.length)
      return { innerState: inner.init(leaves.filter((_, i) => bits[i])) }
    },
    (updates, state, params) => {
      const u = flat(updates)
      const bits = maskBits(mask, updates, u.leaves.length)
      const pick = <A>(xs: ReadonlyArray<A>): Array<A> => xs.filter((_, i) => bits[i])
      const p = params === undefined || params === null ? undefined : pick(leavesOf(params))
      const [newSelected, innerState] = inner.update(pick(u.leaves), state.innerState, p)
      let j = 0
      const leaves = u.leaves.map((l, i) => (bits[i] ? (newSelected as ReadonlyArray<JArray>)[j++]! : l))
      return [unflatten(u.def, leaves), { innerState }]
    }
  )
