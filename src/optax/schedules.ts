/**
 * Schedules: functions from a step count to a value (a learning rate, a weight decay), as optax's
 * `optax.schedules`. Every optimizer takes a number or a schedule for its learning rate; a
 * schedule is called with the transformation's int32 step count (an Array, possibly traced under
 * `jit`), so it computes with `jnp`, never with JavaScript branches on the count.
 *
 * Arithmetic follows optax's dtypes: counts are int32, values float32.
 *
 * @since 0.2.0
 */
import type { Array as JArray, ArrayLike } from "../backend/Array.ts"
import { ArgumentError } from "../backend/ArrayError.ts"
import { asArray } from "../backend/numpy/creation.ts"
import {
  add,
  clip,
  convertTo,
  cos,
  divide,
  floor,
  lessEqual,
  maximum,
  minimum,
  multiply,
  power,
  sign,
  subtract,
  where,
  less
} from "../backend/numpy/elementwise.ts"

/**
 * A schedule: the value at a step count.
 * @category models
 * @since 0.2.0
 */
export type Schedule = (count: ArrayLike) => JArray

/**
 * A fixed value or a schedule (what optimizers take for a learning rate).
 * @category models
 * @since 0.2.0
 */
export type ScalarOrSchedule = number | Schedule

const float = (count: ArrayLike): JArray => {
  const a = asArray(count)
  return a.dtype === "float32" ? a : convertTo(a, "float32", a.weakType)
}

/**
 * The same value at every step.
 * @category schedules
 * @since 0.2.0
 */
export const constantSchedule =
  (value: number): Schedule =>
  () =>
    asArray(value)

/**
 * From `initValue` to `endValue` over `transitionSteps` steps (after `transitionBegin`) along
 * `(init - end) · (1 - t)^power + end`, then constant. A non-positive `transitionSteps` gives the
 * constant `initValue`, as in optax.
 * @category schedules
 * @since 0.2.0
 */
export const polynomialSchedule = (options: {
  readonly initValue: number
  readonly endValue: number
  readonly power: number
  readonly transitionSteps: number
  readonly transitionBegin?: number | undefined
}): Schedule => {
  const { initValue, endValue, power: p, transitionSteps } = options
  if (transitionSteps <= 0) return constantSchedule(initValue)
  const begin = Math.max(0, options.transitionBegin ?? 0)
  return (count) => {
    const c = clip(subtract(count, begin), 0, transitionSteps)
    const frac = subtract(1, divide(c, transitionSteps))
    return add(multiply(initValue - endValue, power(frac, p)), endValue)
  }
}

/**
 * A straight line from `initValue` to `endValue` over `transitionSteps` steps, then constant.
 * @category schedules
 * @since 0.2.0
 */
export const linearSchedule = (options: {
  readonly initValue: number
  readonly endValue: number
  readonly transitionSteps: number
  readonly transitionBegin?: number | undefined
}): Schedule => polynomialSchedule({ ...options, power: 1 })

/**
 * Half a cosine from `initValue` down to `alpha · initValue` over `decaySteps`, then constant.
 * @category schedules
 * @since 0.2.0
 */
export const cosineDecaySchedule = (options: {
  readonly initValue: number
  readonly decaySteps: number
  readonly alpha?: number | undefined
  readonly exponent?: number | undefined
}): Schedule => {
  const { initValue, decaySteps } = options
  const alpha = options.alpha ?? 0
  const exponent = options.exponent ?? 1
  if (!(decaySteps > 0)) {
    throw new ArgumentError({
      op: "optax.cosineDecaySchedule",
      reason: `decaySteps must be positive, got ${decaySteps}`
    })
  }
  return (count) => {
    // optax counts in float here (an int count becomes a Python float).
    const c = minimum(float(count), decaySteps)
    const cosineDecay = multiply(0.5, add(1, cos(divide(multiply(Math.PI, c), decaySteps))))
    const decayed = add(multiply(1 - alpha, power(cosineDecay, exponent)), alpha)
    return multiply(initValue, decayed)
  }
}

/**
 * Schedules one after another: `schedules[i + 1]` takes over at `boundaries[i]`, counting from 0
 * again there.
 * @category schedules
 * @since 0.2.0
 */
export const joinSchedules = (schedules: ReadonlyArray<Schedule>, boundaries: ReadonlyArray<number>): Schedule => {
  if (schedules.length === 0)
    throw new ArgumentError({ op: "optax.joinSchedules", reason: "needs at least one schedule" })
  return (count) => {
    let out = schedules[0]!(count)
    boundaries.forEach((boundary, i) => {
      const next = schedules[i + 1]
      if (next === undefined) return
      out = where(less(count, boundary), out, next(subtract(count, boundary)))
    })
    return out
  }
}

/**
 * A linear warmup from `initValue` to `peakValue` over `warmupSteps`, then a cosine decay to
 * `endValue` at `decaySteps` (counted from step 0, warmup included).
 * @category schedules
 * @since 0.2.0
 */
export const warmupCosineDecaySchedule = (options: {
  readonly initValue: number
  readonly peakValue: number
  readonly warmupSteps: number
  readonly decaySteps: number
  readonly endValue?: number | undefined
  readonly exponent?: number | undefined
}): Schedule => {
  const endValue = options.endValue ?? 0
  const alpha = options.peakValue === 0 ? 0 : endValue / options.peakValue
  return joinSchedules(
    [
      linearSchedule({
        initValue: options.initValue,
        endValue: options.peakValue,
        transitionSteps: options.warmupSteps
      }),
      cosineDecaySchedule({
        initValue: options.peakValue,
        decaySteps: options.decaySteps - options.warmupSteps,
        alpha,
        exponent: options.exponent
      })
    ],
    [options.warmupSteps]
  )
}

/**
 * `initValue · decayRate^((count - transitionBegin) / transitionSteps)`, stepwise with
 * `staircase`, bounded by `endValue` when given. A non-positive `transitionSteps` or a zero
 * `decayRate` gives the constant `initValue`, as in optax.
 * @category schedules
 * @since 0.2.0
 */
export const exponentialDecay = (options: {
  readonly initValue: number
  readonly transitionSteps: number
  readonly decayRate: number
  readonly transitionBegin?: number | undefined
  readonly staircase?: boolean | undefined
  readonly endValue?: number | undefined
}): Schedule => {
  const { initValue, transitionSteps, decayRate, endValue } = options
  if (transitionSteps <= 0 || decayRate === 0) return constantSchedule(initValue)
  const begin = Math.max(0, options.transitionBegin ?? 0)
  return (count) => {
    const decreased = subtract(count, begin)
    let p = divide(decreased, transitionSteps)
    if (options.staircase === true) p = floor(p)
    let decayed = where(lessEqual(decreased, 0), initValue, multiply(initValue, power(decayRate, p)))
    if (endValue !== undefined) decayed = decayRate < 1 ? maximum(decayed, endValue) : minimum(decayed, endValue)
    return decayed
  }
}

/**
 * `initValue`, multiplied by `scale` from each step `boundary` of `boundariesAndScales` on
 * (`{ 100: 0.1, 200: 0.1 }` divides by 10 at step 100 and again at 200).
 * @category schedules
 * @since 0.2.0
 */
export const piecewiseConstantSchedule = (
  initValue: number,
  boundariesAndScales?: Readonly<Record<number, number>>
): Schedule => {
  const entries = Object.entries(boundariesAndScales ?? {})
    .map(([b, s]) => [Number(b), s] as const)
    .sort((a, b) => a[0] - b[0])
  if (entries.some(([, s]) => !(s >= 0))) {
    throw new ArgumentError({ op: "optax.piecewiseConstantSchedule", reason: "the scale factors must be non-negative" })
  }
  return (count) => {
    let v: JArray = asArray(initValue)
    for (const [threshold, scale] of entries) {
      // optax's indicator is float (its 0.0 is a Python float); a JavaScript 0 would keep it int32.
      const indicator = maximum(convertTo(asArray(0), "float32", true), sign(subtract(threshold, count)))
      v = add(multiply(v, indicator), multiply(multiply(subtract(1, indicator), scale), v))
    }
    return v
  }
}

/**
 * A schedule's value at a count, or the number itself. @internal
 */
export const valueAt = (s: ScalarOrSchedule, count: JArray): JArray | number => (typeof s === "function" ? s(count) : s)
