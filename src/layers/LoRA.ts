/**
 * Low-rank adaptation, as Flax NNX's `nnx.LoRA` and `nnx.LoRALinear`, and the parametric ReLU
 * `nnx.PReLU`. Parameters are drawn in Flax's order from the `params` stream (a LoRA's `loraA`, then
 * `loraB`; a LoRALinear's kernel and bias first), so the same seeds give the same numbers as Flax.
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { dotGeneral } from "../backend/lax.ts"
import { asArray } from "../backend/numpy/creation.ts"
import { add, astype, greaterEqual, multiply, where } from "../backend/numpy/elementwise.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import type { Metadata, VariableClass } from "../graph/Variable.ts"
import { isVariableClass, LoRAParam, Param } from "../graph/Variable.ts"
import type { Initializer } from "./initializers.ts"
import { heUniform, zeros } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import type { LinearOptions } from "./Linear.ts"
import { Linear } from "./Linear.ts"
import { promoteDtype } from "./promote.ts"

/** A callable base layer: a Module with `call`. */
export interface CallableModule extends Module {
  call(x: JArray): JArray
}

/**
 * Options of {@link LoRA}.
 * @category layers
 * @since 0.2.0
 */
export interface LoRAOptions {
  /** A layer whose output is added to the adapter's (`out = x·A·B + base(x)`). */
  readonly baseModule?: CallableModule | null | undefined
  /** The computation dtype (default: promoted from the input and parameters). */
  readonly dtype?: NumericDType | undefined
  /** The parameters' dtype (default `float32`). */
  readonly paramDtype?: NumericDType | undefined
  /** `loraA`'s initializer (default `initializers.heUniform()`, as Flax). */
  readonly aInitializer?: Initializer | undefined
  /** `loraB`'s initializer (default `initializers.zeros`, so a new adapter changes nothing). */
  readonly bInitializer?: Initializer | undefined
  /** The kind of the two factors (default `nnx.LoRAParam`). */
  readonly loraParamType?: VariableClass | undefined
  readonly aMetadata?: Metadata | undefined
  readonly bMetadata?: Metadata | undefined
  /** Draws the parameters from its `params` stream (or `default`). */
  readonly rngs: Rngs
}

const checkCount = (layer: string, name: string, n: unknown): number => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
    throw layerError(layer, `${name} must be a positive integer, got ${String(n)}`)
  return n
}

/**
 * A standalone LoRA adapter, as `flax.nnx.LoRA`: `x · loraA · loraB` (plus `baseModule(x)` when
 * given), with `loraA` of shape `[inFeatures, loraRank]` and `loraB` of shape `[loraRank, outFeatures]`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const rngs = new nnx.Rngs(0)
 * const base = new nnx.Linear(3, 4, { rngs })
 * const lora = new nnx.LoRA(3, 2, 4, { baseModule: base, rngs })
 * lora.call(jnp.ones([5, 3])).shape // [5, 4]
 * ```
 * @category layers
 * @since 0.2.0
 */
export class LoRA extends Module {
  loraA: Param<JArray>
  loraB: Param<JArray>
  baseModule: CallableModule | null
  inFeatures: number
  outFeatures: number
  dtype: NumericDType | null
  paramDtype: NumericDType

  constructor(inFeatures: number, loraRank: number, outFeatures: number, options: LoRAOptions) {
    super()
    checkCount("LoRA", "inFeatures", inFeatures)
    checkCount("LoRA", "loraRank", loraRank)
    checkCount("LoRA", "outFeatures", outFeatures)
    const base = options.baseModule ?? null
    if (base !== null && typeof (base as Partial<CallableModule>).call !== "function")
      throw layerError("LoRA", "baseModule must be a Module with a call method")
    const paramDtype = options.paramDtype ?? "float32"
    const kind = options.loraParamType ?? LoRAParam
    if (!isVariableClass(kind))
      throw layerError("LoRA", "loraParamType must be a Variable class (such as nnx.LoRAParam)")
    const Kind = kind as unknown as new (value: JArray, metadata?: Metadata) => Param<JArray>
    const params = options.rngs.stream("params")
    this.inFeatures = inFeatures
    this.outFeatures = outFeatures
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.baseModule = base
    this.loraA = new Kind(
      (options.aInitializer ?? heUniform())(params(), [inFeatures, loraRank], paramDtype),
      options.aMetadata
    )
    this.loraB = new Kind(
      (options.bInitializer ?? zeros)(params(), [loraRank, outFeatures], paramDtype),
      options.bMetadata
    )
  }

  /**
   * Applies the adapter (and the base layer) to the last axis of `x`.
   * @throws LayerError when the last axis is not `inFeatures` long.
   */
  call(x: JArray): JArray {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures)
      throw layerError(
        "LoRA",
        `expected inputs whose last axis has ${this.inFeatures} features, got shape ${fmtShape(x.shape)}`
      )
    const [xs, a, b] = promoteDtype("LoRA", [x, this.loraA.value, this.loraB.value], this.dtype ?? undefined)
    const contract = (l: JArray, r: JArray): JArray =>
      dotGeneral(l, r, [
        [[l.ndim - 1], [0]],
        [[], []]
      ])
    const out = contract(contract(xs, a), b)
    return this.baseModule === null ? out : add(out, this.baseModule.call(xs))
  }
}

/**
 * Options of {@link LoRALinear}: a Linear's, and the adapter's under `lora*` names.
 * @category layers
 * @since 0.2.0
 */
export interface LoRALinearOptions extends LinearOptions {
  readonly loraRank: number
  /** The adapter's computation dtype. */
  readonly loraDtype?: NumericDType | undefined
  /** The adapter's parameter dtype (default `float32`). */
  readonly loraParamDtype?: NumericDType | undefined
  readonly aInitializer?: Initializer | undefined
  readonly bInitializer?: Initializer | undefined
  readonly loraParamType?: VariableClass | undefined
  readonly aMetadata?: Metadata | undefined
  readonly bMetadata?: Metadata | undefined
}

/**
 * A Linear layer with a LoRA adapter beside it, as `flax.nnx.LoRALinear`: `linear(x) + lora(x)`;
 * the adapter is the `lora` attribute.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const layer = new nnx.LoRALinear(3, 4, { loraRank: 2, rngs: new nnx.Rngs(0) })
 * layer.call(jnp.ones([5, 3])).shape // [5, 4]
 * ```
 * @category layers
 * @since 0.2.0
 */
export class LoRALinear extends Linear {
  lora: LoRA

  constructor(inFeatures: number, outFeatures: number, options: LoRALinearOptions) {
    super(inFeatures, outFeatures, options)
    this.lora = new LoRA(inFeatures, options.loraRank, outFeatures, {
      dtype: options.loraDtype,
      paramDtype: options.loraParamDtype,
      aInitializer: options.aInitializer,
      bInitializer: options.bInitializer,
      loraParamType: options.loraParamType,
      aMetadata: options.aMetadata,
      bMetadata: options.bMetadata,
      rngs: options.rngs
    })
  }

  override call(x: JArray): JArray {
    return add(super.call(x), this.lora.call(x))
  }
}

/**
 * Options of {@link PReLU}.
 * @category layers
 * @since 0.2.0
 */
export interface PReLUOptions {
  /** The computation dtype (default: the input's; the slope is cast to it). */
  readonly dtype?: NumericDType | undefined
  /** The slope's dtype (default `float32`). */
  readonly paramDtype?: NumericDType | undefined
  readonly negativeSlopeMetadata?: Metadata | undefined
}

/**
 * The parametric ReLU, as `flax.nnx.PReLU`: `x` where `x >= 0`, `negativeSlope · x` elsewhere, the
 * slope a trainable scalar `Param` (initially `negativeSlopeInit`, 0.01 by default).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const act = new nnx.PReLU(0.1)
 * act.call(jnp.array([-2.5, 3])).tolist() // [-0.25, 3]
 * ```
 * @category layers
 * @since 0.2.0
 */
export class PReLU extends Module {
  negativeSlope: Param<JArray>
  dtype: NumericDType | null
  paramDtype: NumericDType

  constructor(negativeSlopeInit = 0.01, options: PReLUOptions = {}) {
    super()
    if (typeof negativeSlopeInit !== "number" || !Number.isFinite(negativeSlopeInit))
      throw layerError("PReLU", `negativeSlopeInit must be a finite number, got ${String(negativeSlopeInit)}`)
    this.paramDtype = options.paramDtype ?? "float32"
    this.dtype = options.dtype ?? null
    this.negativeSlope = new Param(astype(asArray(negativeSlopeInit), this.paramDtype), options.negativeSlopeMetadata)
  }

  call(inputs: JArray): JArray {
    let x = inputs
    let slope = this.negativeSlope.value
    if (this.dtype !== null) [x, slope] = promoteDtype("PReLU", [x, slope], this.dtype)
    else slope = astype(slope, x.dtype as NumericDType)
    return where(greaterEqual(x, 0), x, multiply(slope, x))
  }
}
