/**
 * `Einsum`: a layer whose kernel is contracted with its input by an einsum equation, as
 * `flax.nnx.Einsum` (`"abc,cde->abde"` with a `[c, d, e]` kernel maps `[a, b, c]` inputs to
 * `[a, b, d, e]`). An optional bias is broadcast along the output's kernel letters.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { einsum } from "../backend/numpy/einsum.ts"
import { add } from "../backend/numpy/elementwise.ts"
import { reshape } from "../backend/numpy/shapeOps.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import type { Metadata } from "../graph/Variable.ts"
import { Param } from "../graph/Variable.ts"
import type { Initializer } from "./initializers.ts"
import { layerError } from "./LayerError.ts"
import type { Precision } from "./Linear.ts"
import { defaultBiasInit, defaultKernelInit } from "./Linear.ts"
import { promoteDtype } from "./promote.ts"

/**
 * Options of {@link Einsum}.
 * @category layers
 * @since 0.1.0
 */
export interface EinsumOptions {
  readonly dtype?: NumericDType | undefined
  readonly paramDtype?: NumericDType | undefined
  readonly precision?: Precision | undefined
  readonly kernelInit?: Initializer | undefined
  readonly biasInit?: Initializer | undefined
  readonly rngs: Rngs
  /** Metadata of the kernel Param (`kernel_metadata`: `{ shardingNames: ["embed", "mlp"] }`, say). */
  readonly kernelMetadata?: Metadata | undefined
  /** Metadata of the bias Param (`bias_metadata`). */
  readonly biasMetadata?: Metadata | undefined
}

/** Flax accepts only explicit two-operand equations: the second operand is the kernel. */
const checkEquation = (equation: string): void => {
  if (!equation.includes("->"))
    throw layerError("Einsum", `the equation '${equation}' must be explicit and include '->'`)
  const commas = equation.split("->")[0]!.split(",").length - 1
  if (commas !== 1) {
    throw layerError(
      "Einsum",
      `the equation '${equation}' must have exactly two operands (one comma), not ${commas + 1}`
    )
  }
}

/**
 * A kernel contracted with the input by `einsumStr`, as `flax.nnx.Einsum`. Parameters: `kernel`
 * of `kernelShape`, and `bias` of `biasShape` when one is given (else `null`).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const layer = new nnx.Einsum("abc,cde->abde", [3, 4, 5], [4, 5], { rngs: new nnx.Rngs(0) })
 * layer.call(jnp.ones([2, 6, 3])).shape // [2, 6, 4, 5]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Einsum extends Module {
  kernel: Param<JArray>
  bias: Param<JArray> | null
  einsumStr: string
  kernelShape: ReadonlyArray<number>
  biasShape: ReadonlyArray<number> | null
  dtype: NumericDType | null
  paramDtype: NumericDType
  precision: Precision

  constructor(
    einsumStr: string,
    kernelShape: ReadonlyArray<number>,
    biasShape: ReadonlyArray<number> | null | undefined,
    options: EinsumOptions
  ) {
    super()
    const equation = einsumStr.replace(/\s+/g, "")
    checkEquation(equation)
    const paramDtype = options.paramDtype ?? "float32"
    const params = options.rngs.stream("params")
    this.kernel = new Param(
      (options.kernelInit ?? defaultKernelInit)(params(), kernelShape, paramDtype),
      options.kernelMetadata
    )
    this.bias =
      biasShape === null || biasShape === undefined
        ? null
        : new Param((options.biasInit ?? defaultBiasInit)(params(), biasShape, paramDtype), options.biasMetadata)
    this.einsumStr = equation
    this.kernelShape = [...kernelShape]
    this.biasShape = biasShape === null || biasShape === undefined ? null : [...biasShape]
    this.dtype = options.dtype ?? null
    this.paramDtype = paramDtype
    this.precision = options.precision ?? null
  }

  /**
   * Contracts `inputs` with the kernel by the layer's equation, or by `einsumStr` when given.
   * @throws LayerError for an equation that is not explicit with two operands, or inputs whose
   * dimensions do not fit it.
   */
  call(inputs: JArray, einsumStr?: string): JArray {
    const equation = (einsumStr ?? this.einsumStr).replace(/\s+/g, "")
    checkEquation(equation)
    const [x, kernel, bias] = promoteDtype(
      "Einsum",
      [inputs, this.kernel.value, this.bias?.value ?? null],
      this.dtype ?? undefined
    )
    let y: JArray
    try {
      y = einsum(equation, x, kernel)
    } catch (e) {
      throw layerError(
        "Einsum",
        `inputs of shape (${inputs.shape.join(", ")}) do not fit '${equation}': ${(e as Error).message}`
      )
    }
    if (bias === null) return y
    return add(y, reshape(bias, this.broadcastBiasShape(equation, y.ndim)))
  }

  /** The bias reshaped to the output's rank: kernel letters keep their size, the rest are 1. */
  private broadcastBiasShape(equation: string, outNdim: number): Array<number> {
    const [lhs, result] = equation.split("->") as [string, string]
    const kernelLetters = [...lhs.split(",")[1]!]
    const parts = result.split("...")
    const letters =
      parts.length === 2
        ? [...parts[0]!, ...new Array<string>(outNdim - parts[0]!.length - parts[1]!.length).fill("."), ...parts[1]!]
        : [...result]
    return letters.map((c) => {
      const i = kernelLetters.indexOf(c)
      return i < 0 ? 1 : this.kernelShape[i]!
    })
  }
}
