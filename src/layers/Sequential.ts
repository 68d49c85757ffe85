/**
 * `Sequential`, as `flax.nnx.Sequential`: applies layers and functions in order, each to the
 * previous one's output. Modules are called through their `call` method, functions directly; a
 * layer returning a JavaScript array spreads it into the next one's arguments (Flax's tuples).
 * Layers live in the `layers` list, so parameters have paths like `layers.0.kernel`, as in Flax.
 *
 * @since 0.1.0
 */
import { isModule, Module } from "../graph/Module.ts"
import { atPath, layerError } from "./LayerError.ts"

/**
 * What `Sequential` can hold: a Module with a `call` method, or a function.
 * @category layers
 * @since 0.1.0
 */
export type SequentialLayer = { readonly call: (...args: Array<any>) => unknown } | ((...args: Array<any>) => unknown)

/**
 * The arguments of a layer: a function's parameters, or its `call` method's.
 * @category layers
 * @since 0.2.0
 */
export type LayerArgs<L> = L extends (...args: infer A) => unknown
  ? A
  : L extends { readonly call: (...args: infer A) => unknown }
    ? A
    : ReadonlyArray<unknown>

/**
 * What a layer returns: a function's result, or its `call` method's.
 * @category layers
 * @since 0.2.0
 */
export type LayerOutput<L> = L extends (...args: Array<any>) => infer R
  ? R
  : L extends { readonly call: (...args: Array<any>) => infer R }
    ? R
    : unknown

/**
 * The arguments of `Sequential.call`: the first layer's (any arguments for an empty Sequential, or
 * one whose layers are not a known tuple).
 * @category layers
 * @since 0.2.0
 */
export type SequentialArgs<L extends ReadonlyArray<SequentialLayer>> = L extends readonly [
  infer First,
  ...Array<unknown>
]
  ? LayerArgs<First>
  : ReadonlyArray<unknown>

/**
 * What `Sequential.call` returns: the last layer's output (`unknown` for an empty Sequential, which
 * returns its argument, or one whose layers are not a known tuple).
 * @category layers
 * @since 0.2.0
 */
export type SequentialOutput<L extends ReadonlyArray<SequentialLayer>> = L extends readonly [
  ...Array<unknown>,
  infer Last
]
  ? LayerOutput<Last>
  : unknown

/**
 * Layers applied in order.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const rngs = new nnx.Rngs(0)
 * const model = new nnx.Sequential(new nnx.Linear(3, 4, { rngs }), nnx.relu, new nnx.Linear(4, 2, { rngs }))
 * model.call(jnp.ones([1, 3])).shape // [1, 2]: the last layer's output, an Array
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Sequential<
  const L extends ReadonlyArray<SequentialLayer> = ReadonlyArray<SequentialLayer>
> extends Module {
  layers: Array<SequentialLayer>

  constructor(...layers: L) {
    super()
    this.layers = [...layers]
  }

  /**
   * Runs the layers in order. With no layers, returns its argument (its arguments as a list when
   * there are several). Typed by the layers given to the constructor: the first one's arguments,
   * the last one's output.
   * @throws LayerError from a layer, with `layers[i]` prefixed to its path.
   */
  call(...args: SequentialArgs<L>): SequentialOutput<L>
  call(...args: ReadonlyArray<unknown>): unknown {
    if (this.layers.length === 0) return args.length === 1 ? args[0] : args
    let current: ReadonlyArray<unknown> = args
    let output: unknown = undefined
    this.layers.forEach((layer, i) => {
      output = atPath("layers", () =>
        atPath(i, () => {
          if (isModule(layer) && typeof (layer as { call?: unknown }).call === "function") {
            return (layer as { call: (...a: ReadonlyArray<unknown>) => unknown }).call(...current)
          }
          if (typeof layer === "function") return (layer as (...a: ReadonlyArray<unknown>) => unknown)(...current)
          throw layerError("Sequential", `layer ${i} is neither a function nor a Module with a call method`)
        })
      )
      current = Array.isArray(output) ? output : [output]
    })
    return output
  }
}
