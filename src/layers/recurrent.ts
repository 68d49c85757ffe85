/**
 * Recurrent layers, as Flax NNX's: the cells `LSTMCell`, `GRUCell` and `SimpleCell` (one step,
 * `cell.call(carry, x) -> [carry, y]`), `RNN` (a cell scanned over the time axis with `nnx.scan`),
 * and `Bidirectional` (a forward and a backward RNN, outputs merged). Parameters are the same
 * `Linear` sub-layers, drawn in the same order, as Flax's, so they start from Flax's values.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { arange } from "../backend/numpy/creation.ts"
import { add, multiply, remainder, subtract, tanh } from "../backend/numpy/elementwise.ts"
import { getItem, takeAlongAxis } from "../backend/numpy/indexing.ts"
import { sigmoid } from "../backend/numpy/nn.ts"
import { broadcastTo, concatenate, expandDims, flip, reshape, split } from "../backend/numpy/shapeOps.ts"
import { treeMap } from "../transforms/core/pytree.ts"
import { Module } from "../graph/Module.ts"
import type { Rngs } from "../graph/Rngs.ts"
import { isRngs, RngStream } from "../graph/Rngs.ts"
import { Carry } from "../filters/LiftTypes.ts"
import { scan } from "../transforms/lifted/scan.ts"
import type { Initializer } from "./initializers.ts"
import { orthogonal, zeros } from "./initializers.ts"
import { fmtShape, layerError } from "./LayerError.ts"
import { defaultKernelInit, Linear } from "./Linear.ts"

type Activation = (x: JArray) => JArray

/**
 * Options shared by the cells.
 * @category layers
 * @since 0.1.0
 */
export interface CellOptions {
  readonly kernelInit?: Initializer | undefined
  /** Default orthogonal. */
  readonly recurrentKernelInit?: Initializer | undefined
  readonly biasInit?: Initializer | undefined
  readonly dtype?: NumericDType | undefined
  readonly paramDtype?: NumericDType | undefined
  readonly rngs: Rngs
}

/**
 * Options of the gated cells.
 * @category layers
 * @since 0.1.0
 */
export interface GatedCellOptions extends CellOptions {
  /** Default `sigmoid`. */
  readonly gateFn?: Activation | undefined
  /** Default `tanh`. */
  readonly activationFn?: Activation | undefined
}

/** What a cell's `initializeCarry` draws keys from: the `carry` stream of an Rngs, or a stream. */
const carryStream = (layer: string, rngs: Rngs | RngStream | null | undefined): RngStream => {
  if (rngs == null)
    throw layerError(
      layer,
      "rngs must be given to initialize the carry (an Rngs, whose 'carry' stream is used, or a stream)"
    )
  return isRngs(rngs) ? rngs.stream("carry") : rngs
}

/**
 * A recurrent cell: one step from a carry and an input to a new carry and an output.
 * @category layers
 * @since 0.1.0
 */
export interface RNNCell<C> extends Module {
  readonly inFeatures: number
  readonly hiddenFeatures: number
  call(carry: C, inputs: JArray): readonly [C, JArray]
  initializeCarry(inputShape: ReadonlyArray<number>, rngs?: Rngs | RngStream | null, carryInit?: Initializer): C
}

const checkInput = (layer: string, x: JArray, inFeatures: number): void => {
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inFeatures) {
    throw layerError(
      layer,
      `expected inputs whose last axis has ${inFeatures} features, got shape ${fmtShape(x.shape)}`
    )
  }
}

/**
 * A long short-term memory cell, as `flax.nnx.LSTMCell`: carry `[c, h]`, input gates `ii`, `if_`,
 * `ig`, `io` (no bias) and hidden gates `hi`, `hf`, `hg`, `ho` (with bias).
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const cell = new nnx.LSTMCell(3, 4, { rngs: new nnx.Rngs(0) })
 * const carry = cell.initializeCarry([2, 3], new nnx.Rngs(0))
 * const [next, y] = cell.call(carry, jnp.ones([2, 3])) // y: [2, 4]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class LSTMCell extends Module implements RNNCell<readonly [JArray, JArray]> {
  inFeatures: number
  hiddenFeatures: number
  gateFn: Activation
  activationFn: Activation
  dtype: NumericDType | null
  paramDtype: NumericDType
  ii: Linear
  if_: Linear
  ig: Linear
  io: Linear
  hi: Linear
  hf: Linear
  hg: Linear
  ho: Linear

  constructor(inFeatures: number, hiddenFeatures: number, options: GatedCellOptions) {
    super()
    this.inFeatures = inFeatures
    this.hiddenFeatures = hiddenFeatures
    this.gateFn = options.gateFn ?? sigmoid
    this.activationFn = options.activationFn ?? tanh
    this.dtype = options.dtype ?? null
    this.paramDtype = options.paramDtype ?? "float32"
    const denseI = () =>
      new Linear(inFeatures, hiddenFeatures, {
        useBias: false,
        kernelInit: options.kernelInit ?? defaultKernelInit,
        dtype: options.dtype,
        paramDtype: this.paramDtype,
        rngs: options.rngs
      })
    const denseH = () =>
      new Linear(hiddenFeatures, hiddenFeatures, {
        useBias: true,
        kernelInit: options.recurrentKernelInit ?? orthogonal(),
        biasInit: options.biasInit ?? zeros,
        dtype: options.dtype,
        paramDtype: this.paramDtype,
        rngs: options.rngs
      })
    this.ii = denseI()
    this.if_ = denseI()
    this.ig = denseI()
    this.io = denseI()
    this.hi = denseH()
    this.hf = denseH()
    this.hg = denseH()
    this.ho = denseH()
  }

  call(carry: readonly [JArray, JArray], inputs: JArray): readonly [readonly [JArray, JArray], JArray] {
    checkInput("LSTMCell", inputs, this.inFeatures)
    const [c, h] = carry
    const i = this.gateFn(add(this.ii.call(inputs), this.hi.call(h)))
    const f = this.gateFn(add(this.if_.call(inputs), this.hf.call(h)))
    const g = this.activationFn(add(this.ig.call(inputs), this.hg.call(h)))
    const o = this.gateFn(add(this.io.call(inputs), this.ho.call(h)))
    const newC = add(multiply(f, c), multiply(i, g))
    const newH = multiply(o, this.activationFn(newC))
    return [[newC, newH], newH]
  }

  /** Zeros (or `carryInit`) of shape `[...batch, hiddenFeatures]` for `c` and `h`; draws two keys. */
  initializeCarry(
    inputShape: ReadonlyArray<number>,
    rngs?: Rngs | RngStream | null,
    carryInit?: Initializer
  ): readonly [JArray, JArray] {
    const stream = carryStream("LSTMCell", rngs)
    const init = carryInit ?? zeros
    const shape = [...inputShape.slice(0, -1), this.hiddenFeatures]
    const c = init(stream(), shape, this.paramDtype)
    const h = init(stream(), shape, this.paramDtype)
    return [c, h]
  }
}

/**
 * A gated recurrent unit, as `flax.nnx.GRUCell`: `denseI` (input to the three gates, with bias; Flax's `dense_i`)
 * and `denseH` (hidden to the three gates, no bias).
 * @category layers
 * @since 0.1.0
 */
export class GRUCell extends Module implements RNNCell<JArray> {
  inFeatures: number
  hiddenFeatures: number
  gateFn: Activation
  activationFn: Activation
  dtype: NumericDType | null
  paramDtype: NumericDType
  denseI: Linear
  denseH: Linear

  constructor(inFeatures: number, hiddenFeatures: number, options: GatedCellOptions) {
    super()
    this.inFeatures = inFeatures
    this.hiddenFeatures = hiddenFeatures
    this.gateFn = options.gateFn ?? sigmoid
    this.activationFn = options.activationFn ?? tanh
    this.dtype = options.dtype ?? null
    this.paramDtype = options.paramDtype ?? "float32"
    this.denseI = new Linear(inFeatures, 3 * hiddenFeatures, {
      useBias: true,
      kernelInit: options.kernelInit ?? defaultKernelInit,
      biasInit: options.biasInit ?? zeros,
      dtype: options.dtype,
      paramDtype: this.paramDtype,
      rngs: options.rngs
    })
    this.denseH = new Linear(hiddenFeatures, 3 * hiddenFeatures, {
      useBias: false,
      kernelInit: options.recurrentKernelInit ?? orthogonal(),
      dtype: options.dtype,
      paramDtype: this.paramDtype,
      rngs: options.rngs
    })
  }

  call(carry: JArray, inputs: JArray): readonly [JArray, JArray] {
    checkInput("GRUCell", inputs, this.inFeatures)
    const h = carry
    const [xr, xz, xn] = split(this.denseI.call(inputs), 3, -1) as [JArray, JArray, JArray]
    const [hr, hz, hn] = split(this.denseH.call(h), 3, -1) as [JArray, JArray, JArray]
    const r = this.gateFn(add(xr, hr))
    const z = this.gateFn(add(xz, hz))
    const n = this.activationFn(add(xn, multiply(r, hn)))
    const newH = add(multiply(subtract(1.0, z), n), multiply(z, h))
    return [newH, newH]
  }

  /** Zeros (or `carryInit`) of shape `[...batch, hiddenFeatures]`; draws one key. */
  initializeCarry(inputShape: ReadonlyArray<number>, rngs?: Rngs | RngStream | null, carryInit?: Initializer): JArray {
    const stream = carryStream("GRUCell", rngs)
    return (carryInit ?? zeros)(stream(), [...inputShape.slice(0, -1), this.hiddenFeatures], this.paramDtype)
  }
}

/**
 * Options of {@link SimpleCell}.
 * @category layers
 * @since 0.1.0
 */
export interface SimpleCellOptions extends CellOptions {
  /** Add the previous carry before the activation (default `false`). */
  readonly residual?: boolean | undefined
  /** Default `tanh`. */
  readonly activationFn?: Activation | undefined
}

/**
 * An Elman cell, as `flax.nnx.SimpleCell`: `h' = activation(denseI(x) + denseH(h))`.
 * @category layers
 * @since 0.1.0
 */
export class SimpleCell extends Module implements RNNCell<JArray> {
  inFeatures: number
  hiddenFeatures: number
  residual: boolean
  activationFn: Activation
  dtype: NumericDType
  paramDtype: NumericDType
  denseH: Linear
  denseI: Linear

  constructor(inFeatures: number, hiddenFeatures: number, options: SimpleCellOptions) {
    super()
    this.inFeatures = inFeatures
    this.hiddenFeatures = hiddenFeatures
    this.residual = options.residual ?? false
    this.activationFn = options.activationFn ?? tanh
    this.dtype = options.dtype ?? "float32"
    this.paramDtype = options.paramDtype ?? "float32"
    // Flax makes the recurrent layer first, so it takes the first params key.
    this.denseH = new Linear(hiddenFeatures, hiddenFeatures, {
      useBias: false,
      kernelInit: options.recurrentKernelInit ?? orthogonal(),
      dtype: this.dtype,
      paramDtype: this.paramDtype,
      rngs: options.rngs
    })
    this.denseI = new Linear(inFeatures, hiddenFeatures, {
      useBias: true,
      kernelInit: options.kernelInit ?? defaultKernelInit,
      biasInit: options.biasInit ?? zeros,
      dtype: this.dtype,
      paramDtype: this.paramDtype,
      rngs: options.rngs
    })
  }

  call(carry: JArray, inputs: JArray): readonly [JArray, JArray] {
    checkInput("SimpleCell", inputs, this.inFeatures)
    let next = add(this.denseI.call(inputs), this.denseH.call(carry))
    if (this.residual) next = add(next, carry)
    next = this.activationFn(next)
    return [next, next]
  }

  /** Zeros (or `carryInit`) of shape `[...batch, hiddenFeatures]`; draws one key. */
  initializeCarry(inputShape: ReadonlyArray<number>, rngs?: Rngs | RngStream | null, carryInit?: Initializer): JArray {
    const stream = carryStream("SimpleCell", rngs)
    return (carryInit ?? zeros)(stream(), [...inputShape.slice(0, -1), this.hiddenFeatures], this.paramDtype)
  }
}

/**
 * Reverses each sequence along the time axis: all of it, or, with `seqLengths`, only its first
 * `seqLengths[b]` steps (the padding stays at the end), as Flax's `flip_sequences`.
 */
const flipSequences = (x: JArray, seqLengths: JArray | null, numBatchDims: number, timeMajor: boolean): JArray => {
  const timeAxis = timeMajor ? 0 : numBatchDims
  if (seqLengths === null) return flip(x, timeAxis)
  const steps = x.shape[timeAxis]!
  const lengths = expandDims(seqLengths, timeAxis)
  let idxs = arange(steps - 1, -1, -1)
  idxs = reshape(
    idxs,
    timeMajor
      ? [steps, ...new Array<number>(numBatchDims).fill(1)]
      : [...new Array<number>(numBatchDims).fill(1), steps]
  )
  idxs = remainder(add(idxs, lengths), steps)
  idxs = reshape(idxs, [...idxs.shape, ...new Array<number>(x.ndim - idxs.ndim).fill(1)])
  return takeAlongAxis(x, broadcastTo(idxs, x.shape), timeAxis)
}

/** The carry after each sequence's last real step, from the carries stacked over time. */
const selectLastCarry = <C>(carries: C, seqLengths: JArray): C =>
  treeMap((leaf) => {
    const x = leaf as JArray
    return getItem(x, [subtract(seqLengths, 1), arange(x.shape[1]!)])
  }, carries) as C

/**
 * Options of {@link RNN}.
 * @category layers
 * @since 0.1.0
 */
export interface RNNOptions {
  /** Inputs are `[time, ...batch, features]` instead of `[...batch, time, features]`. */
  readonly timeMajor?: boolean | undefined
  /** Return `[carry, outputs]` instead of the outputs. */
  readonly returnCarry?: boolean | undefined
  /** Run from the last step to the first. */
  readonly reverse?: boolean | undefined
  /** With `reverse`, give the outputs back in the input's order. */
  readonly keepOrder?: boolean | undefined
  /**
   * Where carries are initialized from: `true` (default) keeps a `carry` stream seeded 0, an Rngs
   * forks its `carry` stream, `false` keeps none (then give `initialCarry` or `rngs` to calls).
   */
  readonly rngs?: Rngs | RngStream | boolean | undefined
}

/**
 * Options of an {@link RNN} call.
 * @category layers
 * @since 0.1.0
 */
export interface RNNCallOptions<C> {
  readonly initialCarry?: C | undefined
  /**
   * The length of each sequence of a batch (one batch axis): with `reverse`, only the first
   * `seqLengths[b]` steps are reversed, and the carry returned is the one after the last of them.
   */
  readonly seqLengths?: JArray | undefined
  readonly returnCarry?: boolean | undefined
  readonly timeMajor?: boolean | undefined
  readonly reverse?: boolean | undefined
  readonly keepOrder?: boolean | undefined
  readonly rngs?: Rngs | RngStream | undefined
}

/**
 * A cell run over time, as `flax.nnx.RNN`: `nnx.scan` over the time axis with the carry threaded
 * through and the outputs stacked.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const rnn = new nnx.RNN(new nnx.LSTMCell(3, 4, { rngs: new nnx.Rngs(0) }))
 * rnn.call(jnp.ones([2, 7, 3])).shape // [2, 7, 4]: [batch, time, hidden]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class RNN<C = unknown> extends Module {
  cell: RNNCell<C>
  timeMajor: boolean
  returnCarry: boolean
  reverse: boolean
  keepOrder: boolean
  rngs: RngStream | null

  constructor(cell: RNNCell<C>, options?: RNNOptions) {
    super()
    this.cell = cell
    this.timeMajor = options?.timeMajor ?? false
    this.returnCarry = options?.returnCarry ?? false
    this.reverse = options?.reverse ?? false
    this.keepOrder = options?.keepOrder ?? false
    const rngs = options?.rngs ?? true
    this.rngs =
      rngs === true
        ? new RngStream(0, { tag: "carry" })
        : rngs === false
          ? null
          : isRngs(rngs)
            ? rngs.stream("carry").fork()
            : rngs
  }

  /**
   * Runs the cell over the time axis of `inputs`.
   * @throws LayerError for inputs without a time axis or of the wrong width, or with no carry and
   * no rngs to initialize one.
   */
  call(inputs: JArray, options: RNNCallOptions<C> & { readonly returnCarry: true }): readonly [C, JArray]
  call(inputs: JArray, options?: RNNCallOptions<C>): JArray
  call(inputs: JArray, options?: RNNCallOptions<C>): JArray | readonly [C, JArray] {
    const returnCarry = options?.returnCarry ?? this.returnCarry
    const timeMajor = options?.timeMajor ?? this.timeMajor
    const reverse = options?.reverse ?? this.reverse
    const keepOrder = options?.keepOrder ?? this.keepOrder
    if (inputs.ndim < 2 || inputs.shape[inputs.ndim - 1] !== this.cell.inFeatures) {
      throw layerError(
        "RNN",
        `expected inputs with a time axis and ${this.cell.inFeatures} features on the last axis, got shape ${fmtShape(inputs.shape)}`
      )
    }
    const timeAxis = timeMajor ? 0 : inputs.ndim - 2
    const numBatchDims = inputs.ndim - 2
    const seqLengths = options?.seqLengths ?? null
    if (
      seqLengths !== null &&
      (numBatchDims !== 1 || seqLengths.ndim !== 1 || seqLengths.shape[0] !== inputs.shape[timeMajor ? 1 : 0])
    ) {
      throw layerError(
        "RNN",
        `seqLengths must hold one length per sequence of a single batch axis, got shape ${fmtShape(seqLengths.shape)} for inputs of shape ${fmtShape(inputs.shape)}`
      )
    }
    const xs = reverse ? flipSequences(inputs, seqLengths, numBatchDims, timeMajor) : inputs
    let carry = options?.initialCarry
    if (carry === undefined) {
      const given = options?.rngs
      const rngs = given === undefined ? this.rngs : isRngs(given) ? given.stream("carry").fork() : given
      if (rngs === null)
        throw layerError(
          "RNN",
          "no initialCarry and no rngs to initialize one: give either to the call, or construct the RNN with rngs"
        )
      const stepShape = xs.shape.filter((_, i) => i !== timeAxis)
      carry = this.cell.initializeCarry(stepShape, rngs)
    }
    const sliceCarry = seqLengths !== null && returnCarry
    const step = scan(
      (cell: RNNCell<C>, c: C, x: JArray) => {
        const [next, y] = cell.call(c, x)
        return sliceCarry ? ([next, [next, y]] as const) : ([next, y] as const)
      },
      {
        inAxes: [null, Carry, timeAxis] as never,
        outAxes: (sliceCarry ? [Carry, [0, timeAxis]] : [Carry, timeAxis]) as never
      }
    )
    let last: C
    let ys0: JArray
    if (sliceCarry) {
      const [, [carries, outs]] = step.sync(this.cell, carry, xs) as unknown as readonly [C, readonly [C, JArray]]
      last = selectLastCarry(carries, seqLengths!)
      ys0 = outs
    } else {
      ;[last, ys0] = step.sync(this.cell, carry, xs) as unknown as readonly [C, JArray]
    }
    const ys = reverse && keepOrder ? flipSequences(ys0, seqLengths, numBatchDims, timeMajor) : ys0
    return returnCarry ? [last, ys] : ys
  }
}

/**
 * Options of {@link Bidirectional}.
 * @category layers
 * @since 0.1.0
 */
export interface BidirectionalOptions {
  /** How the two outputs combine (default: concatenated on the last axis). */
  readonly mergeFn?: ((forward: JArray, backward: JArray) => JArray) | undefined
  readonly timeMajor?: boolean | undefined
  readonly returnCarry?: boolean | undefined
  readonly rngs?: Rngs | RngStream | boolean | undefined
}

/**
 * A forward and a backward RNN over the same inputs, outputs merged, as `flax.nnx.Bidirectional`.
 * The backward RNN's outputs are given back in input order.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const rngs = new nnx.Rngs(0)
 * const bi = new nnx.Bidirectional(new nnx.RNN(new nnx.GRUCell(3, 4, { rngs })), new nnx.RNN(new nnx.GRUCell(3, 4, { rngs })))
 * const y = bi.call(jnp.ones([2, 5, 3])) as jnp.Array // an Array unless returnCarry is set
 * y.shape // [2, 5, 8]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Bidirectional extends Module {
  forwardRnn: RNN
  backwardRnn: RNN
  mergeFn: (forward: JArray, backward: JArray) => JArray
  timeMajor: boolean
  returnCarry: boolean
  rngs: RngStream | null

  constructor(forwardRnn: RNN<unknown>, backwardRnn: RNN<unknown>, options?: BidirectionalOptions) {
    super()
    this.forwardRnn = forwardRnn
    this.backwardRnn = backwardRnn
    this.mergeFn = options?.mergeFn ?? ((a: JArray, b: JArray) => concatenate([a, b], -1))
    this.timeMajor = options?.timeMajor ?? false
    this.returnCarry = options?.returnCarry ?? false
    const rngs = options?.rngs ?? true
    this.rngs =
      rngs === true
        ? new RngStream(0, { tag: "carry" })
        : rngs === false
          ? null
          : isRngs(rngs)
            ? rngs.stream("carry").fork()
            : rngs
  }

  call(
    inputs: JArray,
    options?: {
      readonly initialCarry?: readonly [unknown, unknown]
      readonly rngs?: Rngs | RngStream
      readonly seqLengths?: JArray
      readonly returnCarry?: boolean
      readonly timeMajor?: boolean
    }
  ): JArray | readonly [readonly [unknown, unknown], JArray] {
    const timeMajor = options?.timeMajor ?? this.timeMajor
    const returnCarry = options?.returnCarry ?? this.returnCarry
    const given = options?.rngs
    const rngs = given === undefined ? (this.rngs ?? undefined) : isRngs(given) ? given.stream("carry") : given
    const [cf, yf] = this.forwardRnn.call(inputs, {
      initialCarry: options?.initialCarry?.[0],
      rngs,
      seqLengths: options?.seqLengths,
      returnCarry: true,
      timeMajor,
      reverse: false
    })
    const [cb, yb] = this.backwardRnn.call(inputs, {
      initialCarry: options?.initialCarry?.[1],
      rngs,
      seqLengths: options?.seqLengths,
      returnCarry: true,
      timeMajor,
      reverse: true,
      keepOrder: true
    })
    const out = this.mergeFn(yf, yb)
    return returnCarry ? [[cf, cb], out] : out
  }
}
