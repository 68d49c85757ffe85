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
 * Layers applied in order.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const rngs = new nnx.Rngs(0)
 * const model = new nnx.Sequential(new nnx.Linear(3, 4, { rngs }), nnx.relu, new nnx.Linear(4, 2, { rngs }))
 * model.call(jnp.ones([1, 3])).shape // [1, 2]
 * ```
 * @category layers
 * @since 0.1.0
 */
export class Sequential extends Module {
  layers: Array<SequentialLayer>

  constructor(...layers: ReadonlyArray<SequentialLayer>) {
    super()
    this.layers = [...layers]
  }

  /**
   * Runs the layers in order. With no layers, returns its argument.
   * @throws LayerError from a layer, with `layers[i]` prefixed to its path.
   */
  call(...args: ReadonlyArray<any>): any {
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
