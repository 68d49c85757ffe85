/**
 * `nnx.metrics`: running metrics as Modules, as Flax 0.12's `nnx.metrics`. Their accumulators are
 * `MetricState` Variables, so a metric passed to `nnx.jit` (an evaluation step, say) accumulates
 * inside the compiled function and the totals propagate out. Each metric has `update` (a record of
 * named arguments, Flax's keyword arguments: `{ values }`, `{ logits, labels }`), `compute` and
 * `reset`.
 *
 * One deliberate difference: Flax's `Welford.reset` makes its count uint32 (it starts int32); here
 * it stays int32, so that a metric's dtypes, and with them a jitted function's signature, do not
 * change after a reset.
 *
 * @since 0.2.0
 */
import type { Array as JArray, ArrayLike } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import { ArgumentError, DTypeError, ShapeError } from "../backend/ArrayError.ts"
import { asArray, zeros } from "../backend/numpy/creation.ts"
import {
  add,
  convertTo,
  divide,
  equal,
  greater,
  greaterEqual,
  multiply,
  power,
  subtract
} from "../backend/numpy/elementwise.ts"
import { argmax, mean, sum, variance } from "../backend/numpy/reductions.ts"
import { Module } from "../graph/Module.ts"
import { isRecord } from "../graph/node.ts"
import { Variable } from "../graph/Variable.ts"

/**
 * The accumulators of a metric.
 * @category kinds
 * @since 0.2.0
 */
export class MetricState<A = unknown> extends Variable<A> {
  declare readonly "~kind": { readonly MetricState: true }
}

/**
 * The base class of metrics: `update` with a record of named arguments, `compute`, `reset`.
 * @category models
 * @since 0.2.0
 */
export abstract class Metric extends Module {
  abstract reset(): void
  abstract update(args: Readonly<Record<string, unknown>>): void
  abstract compute(): unknown
}

const argument = (op: string, args: Readonly<Record<string, unknown>>, name: string): unknown => {
  if (!isRecord(args) || !(name in args) || args[name] === undefined) {
    throw new ArgumentError({ op, reason: `expected the argument '${name}' (call update({ ${name}: ... }))` })
  }
  return args[name]
}

/** The arguments of {@link Average.update}: the values under the metric's argname, and a mask. */
export interface AverageArgs {
  readonly [name: string]: unknown
  /** Which values count (same shape as the values); only with Array values. */
  readonly mask?: JArray | undefined
}

/**
 * The running mean of the values passed to `update` (Arrays count each element; a number counts
 * once).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const loss = new nnx.metrics.Average("loss")
 * loss.update({ loss: jnp.array([1, 2, 3]) })
 * loss.update({ loss: 6 })
 * loss.compute() // Array(3., dtype=float32)
 * ```
 * @category metrics
 * @since 0.2.0
 */
export class Average extends Metric {
  argname: string
  total: MetricState<JArray>
  count: MetricState<JArray>

  constructor(argname = "values") {
    super()
    this.argname = argname
    this.total = new MetricState(zeros([], { dtype: "float32" }))
    this.count = new MetricState(zeros([], { dtype: "int32" }))
  }

  reset(): void {
    this.total.value = zeros([], { dtype: "float32" })
    this.count.value = zeros([], { dtype: "int32" })
  }

  update(args: AverageArgs): void {
    const op = `${this.constructor.name}.update`
    const values = argument(op, args, this.argname)
    const mask = args.mask
    if (typeof values === "number" || typeof values === "boolean") {
      if (mask !== undefined && mask !== null)
        throw new ArgumentError({ op, reason: `with a mask, '${this.argname}' must be an Array` })
      this.total.value = this.total.value.add(values)
      this.count.value = this.count.value.add(1)
      return
    }
    if (!isArray(values)) throw new ArgumentError({ op, reason: `'${this.argname}' must be an Array or a number` })
    if (mask === undefined || mask === null) {
      this.total.value = this.total.value.add(sum(values))
      this.count.value = this.count.value.add(values.size)
      return
    }
    const m = asArray(mask)
    this.total.value = this.total.value.add(sum(multiply(values, convertTo(m, values.dtype as "float32"))))
    this.count.value = this.count.value.add(convertTo(sum(m), "int32"))
  }

  /** total / count (NaN before any update). */
  compute(): JArray {
    return divide(this.total.value, this.count.value)
  }
}

/** The arguments of {@link Accuracy.update}. */
export interface AccuracyArgs {
  readonly [name: string]: unknown
  /** Scores: `[..., classes]` for multi-class, the labels' shape with a threshold. */
  readonly logits: JArray
  /** int32 class labels (with a threshold, positive means the positive class). */
  readonly labels: JArray
  readonly mask?: JArray | undefined
}

/**
 * The fraction of correct predictions: `argmax(logits) == labels`, or with a `threshold` (binary
 * classification) `(logits >= threshold) == (labels > 0)`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const accuracy = new nnx.metrics.Accuracy()
 * accuracy.update({ logits: jnp.array([[0.1, 0.9], [0.8, 0.2]]), labels: jnp.array([1, 1]) })
 * accuracy.compute() // Array(0.5, dtype=float32)
 * ```
 * @category metrics
 * @since 0.2.0
 */
export class Accuracy extends Average {
  threshold: number | null

  constructor(options?: { readonly threshold?: number | undefined; readonly argname?: string | undefined }) {
    super(options?.argname ?? "values")
    const threshold = options?.threshold
    if (threshold !== undefined && typeof threshold !== "number") {
      throw new ArgumentError({ op: "Accuracy", reason: `the threshold must be a number, got ${typeof threshold}` })
    }
    this.threshold = threshold ?? null
  }

  override update(args: AccuracyArgs): void {
    const op = "Accuracy.update"
    const logits = asArray(argument(op, args, "logits") as ArrayLike)
    const labels = asArray(argument(op, args, "labels") as ArrayLike)
    if (this.threshold !== null) {
      if (logits.ndim !== labels.ndim) {
        throw new ShapeError({
          op,
          shapes: [logits.shape, labels.shape],
          reason: "for binary classification (a threshold), logits and labels must have the same rank"
        })
      }
    } else if (logits.ndim !== labels.ndim + 1) {
      throw new ShapeError({
        op,
        shapes: [logits.shape, labels.shape],
        reason: "for multi-class classification, logits must have one more dimension than labels (the classes)"
      })
    }
    if (labels.dtype !== "int32") throw new DTypeError({ op, dtypes: [labels.dtype], reason: "labels must be int32" })
    const correct =
      this.threshold !== null
        ? equal(greaterEqual(logits, this.threshold), greater(labels, 0))
        : equal(argmax(logits, -1), labels)
    super.update({ [this.argname]: correct, mask: args.mask })
  }
}

/**
 * What {@link Welford.compute} returns.
 * @category models
 * @since 0.2.0
 */
export interface Statistics {
  readonly mean: JArray
  readonly standardErrorOfMean: JArray
  readonly standardDeviation: JArray
}

/**
 * The running mean, standard deviation and standard error of the mean of the values passed to
 * `update`, by Welford's online algorithm (numerically stable over long runs).
 * @category metrics
 * @since 0.2.0
 */
export class Welford extends Metric {
  argname: string
  count: MetricState<JArray>
  mean: MetricState<JArray>
  m2: MetricState<JArray>

  constructor(argname = "values") {
    super()
    this.argname = argname
    this.count = new MetricState(zeros([], { dtype: "int32" }))
    this.mean = new MetricState(zeros([], { dtype: "float32" }))
    this.m2 = new MetricState(zeros([], { dtype: "float32" }))
  }

  reset(): void {
    this.count.value = zeros([], { dtype: "int32" })
    this.mean.value = zeros([], { dtype: "float32" })
    this.m2.value = zeros([], { dtype: "float32" })
  }

  update(args: Readonly<Record<string, unknown>>): void {
    const op = "Welford.update"
    const values = argument(op, args, this.argname)
    const scalar = typeof values === "number"
    if (!scalar && !isArray(values))
      throw new ArgumentError({ op, reason: `'${this.argname}' must be an Array or a number` })
    const n = scalar ? 1 : (values as JArray).size
    const original = this.count.value
    const count = original.add(n)
    this.count.value = count
    const delta = subtract(scalar ? (values as number) : mean(values as JArray), this.mean.value)
    this.mean.value = this.mean.value.add(divide(multiply(delta, n), count))
    const m2 = scalar ? 0 : multiply(variance(values as JArray), n)
    this.m2.value = this.m2.value.add(add(m2, divide(multiply(multiply(multiply(delta, delta), n), original), count)))
  }

  compute(): Statistics {
    const count = this.count.value
    const standardDeviation = power(divide(this.m2.value, count), 0.5)
    return {
      mean: this.mean.value,
      standardErrorOfMean: divide(standardDeviation, power(count, 0.5)),
      standardDeviation
    }
  }
}

/** Names a MultiMetric cannot give a metric: its own attributes and methods. */
const RESERVED = new Set(["metricNames", "update", "compute", "reset", "constructor", "toString"])

/** What {@link MultiMetric.compute} returns: each metric's result by name. */
export type Computed<Ms extends Readonly<Record<string, Metric>>> = {
  -readonly [K in keyof Ms]: ReturnType<Ms[K]["compute"]>
}

/**
 * Several metrics updated together, as Flax's `nnx.MultiMetric`: `update` passes every argument to
 * every metric (each takes what it needs); `mask` may be one mask for all or a record of masks by
 * metric name. Each metric is an attribute (`metrics.loss`).
 * @category metrics
 * @since 0.2.0
 */
class MultiMetricBase<Ms extends Readonly<Record<string, Metric>>> extends Metric {
  metricNames: ReadonlyArray<string>

  constructor(metrics: Ms) {
    super()
    const names = Object.keys(metrics)
    for (const name of names) {
      if (RESERVED.has(name))
        throw new ArgumentError({
          op: "MultiMetric",
          reason: `'${name}' cannot name a metric: it is a MultiMetric attribute or method`
        })
      if (!(metrics[name] instanceof Metric))
        throw new ArgumentError({ op: "MultiMetric", reason: `'${name}' is not a Metric` })
    }
    this.metricNames = names
    for (const name of names) (this as unknown as Record<string, Metric>)[name] = metrics[name]!
  }

  private metric(name: string): Metric {
    return (this as unknown as Record<string, Metric>)[name]!
  }

  reset(): void {
    for (const name of this.metricNames) this.metric(name).reset()
  }

  update(args: Readonly<Record<string, unknown>>): void {
    const { mask, ...rest } = args
    for (const name of this.metricNames) {
      const m = isRecord(mask) && !isArray(mask) ? mask[name] : mask
      this.metric(name).update(m === undefined || m === null ? rest : { ...rest, mask: m })
    }
  }

  compute(): Computed<Ms> {
    const out: Record<string, unknown> = {}
    for (const name of this.metricNames) out[name] = this.metric(name).compute()
    return out as Computed<Ms>
  }
}

Object.defineProperty(MultiMetricBase, "name", { value: "MultiMetric" })

/**
 * A MultiMetric of the metrics `Ms`, each reachable as an attribute.
 * @category metrics
 * @since 0.2.0
 */
export type MultiMetric<Ms extends Readonly<Record<string, Metric>> = Readonly<Record<string, Metric>>> =
  MultiMetricBase<Ms> & Readonly<Ms>

/**
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const metrics = new nnx.MultiMetric({ accuracy: new nnx.metrics.Accuracy(), loss: new nnx.metrics.Average("loss") })
 * metrics.update({ logits: jnp.array([[0.1, 0.9], [0.8, 0.2]]), labels: jnp.array([1, 1]), loss: jnp.array(0.5) })
 * metrics.compute() // { accuracy: Array(0.5, dtype=float32), loss: Array(0.5, dtype=float32) }
 * metrics.loss.count.value.item() // 1
 * ```
 * @category metrics
 * @since 0.2.0
 */
export const MultiMetric: {
  new <Ms extends Readonly<Record<string, Metric>>>(metrics: Ms): MultiMetric<Ms>
  readonly prototype: MultiMetricBase<Readonly<Record<string, Metric>>>
} = MultiMetricBase as never
