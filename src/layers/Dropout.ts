/**
 * `Dropout`, as `flax.nnx.Dropout`: in training, zeroes each element with probability `rate` and
 * scales the rest by `1 / (1 - rate)`; deterministic (evaluation), it is the identity. Keys come
 * from the `dropout` stream: a stream forked at construction from the `rngs` given there (Flax
 * 0.12 keeps its own stream, so the layer's randomness is part of the model's state), or the
 * `rngs` (Rngs, stream or key) given to the call.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import { zerosLike } from "../backend/numpy/creation.ts"
import { divide, where } from "../backend/numpy/elementwise.ts"
import { broadcastTo } from "../backend/numpy/shapeOps.ts"
import { bernoulli } from "../backend/random/index.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import { isRngs, RngStream } from "../graph/Rngs.ts"
import { layerError } from "./LayerError.ts"

/**
 * Options of {@link Dropout}.
 * @category layers
 * @since 0.1.0
 */
export interface DropoutOptions {
  /** Axes along which the mask is shared (one draw broadcast along them). */
  readonly broadcastDims?: ReadonlyArray<number> | undefined
  /** Whether the layer is the identity (default `false`: training). */
  readonly deterministic?: boolean | null | undefined
  /** The stream name keys come from (default `dropout`). */
  readonly rngCollection?: string | undefined
  /** Where the layer forks its own stream from; without it, pass `rngs` to each call. */
  readonly rngs?: Rngs | RngStream | null | undefined
}

/**
 * Options of a {@link Dropout} call.
 * @category layers
 * @since 0.1.0
 */
export interface DropoutCallOptions {
  readonly deterministic?: boolean | undefined
  /** Keys for this call: an Rngs (its `rngCollection` stream), a stream, or a PRNG key. */
  readonly rngs?: Rngs | RngStream | JArray | undefined
}

/**
 * Dropout with rate `rate`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const dropout = new nnx.Dropout(0.5, { rngs: new nnx.Rngs({ dropout: 1 }) })
 * dropout.call(jnp.ones([2, 4])) // about half zeros, the rest 2
 * dropout.eval()
 * dropout.call(jnp.ones([2, 4])) // ones
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Dropout extends Module {
  rate: number
  broadcastDims: ReadonlyArray<number>
  deterministic: boolean | null
  rngCollection: string
  rngs: RngStream | null

  constructor(rate: number, options?: DropoutOptions) {
    super()
    if (!(rate >= 0 && rate <= 1)) throw layerError("Dropout", `rate must be in [0, 1], got ${rate}`)
    this.rate = rate
    this.broadcastDims = [...(options?.broadcastDims ?? [])]
    this.deterministic = options?.deterministic === undefined ? false : options.deterministic
    this.rngCollection = options?.rngCollection ?? "dropout"
    const rngs = options?.rngs
    this.rngs =
      rngs === undefined || rngs === null ? null : isRngs(rngs) ? rngs.stream(this.rngCollection).fork() : rngs.fork()
  }

  /**
   * Drops elements of `inputs` in training; returns them unchanged when deterministic.
   * @throws LayerError when training with no `rngs` at construction or in the call, or when
   * neither says whether the layer is deterministic. No key is drawn then.
   */
  call(inputs: JArray, options?: DropoutCallOptions): JArray {
    const deterministic = options?.deterministic ?? this.deterministic
    if (deterministic === null) {
      throw layerError(
        "Dropout",
        "no deterministic was given to the constructor or the call; pass one, or switch the model with model.train() / model.eval() or nnx.view"
      )
    }
    if (this.rate === 0 || deterministic) return inputs
    if (this.rate === 1) return zerosLike(inputs)
    const source = options?.rngs ?? this.rngs
    if (source === null) {
      throw layerError(
        "Dropout",
        "deterministic is false but there are no rngs: give rngs to the constructor or the call, or switch the model to evaluation with model.eval()"
      )
    }
    const bad = this.broadcastDims.find((d) => !(d >= -inputs.ndim && d < inputs.ndim))
    if (bad !== undefined)
      throw layerError("Dropout", `broadcastDims has axis ${bad}, out of range for inputs of rank ${inputs.ndim}`)
    const key = isArray(source) ? source : source instanceof RngStream ? source() : source.stream(this.rngCollection)()
    const keep = 1 - this.rate
    const maskShape = [...inputs.shape]
    for (const d of this.broadcastDims) maskShape[d < 0 ? d + inputs.ndim : d] = 1
    const mask = broadcastTo(bernoulli(key, keep, maskShape), inputs.shape)
    return where(mask, divide(inputs, keep), zerosLike(inputs))
  }

  /** The modes `nnx.view` may pass to this layer. */
  get viewModes(): ReadonlyArray<string> {
    return ["deterministic"]
  }

  /** What `nnx.view` sets: the mode, when given. */
  setView(options: { readonly deterministic?: boolean | undefined }): void {
    if (options.deterministic !== undefined) this.deterministic = options.deterministic
  }
}
