/**
 * `Module`: the base class of user models. A Module is a plain TypeScript class whose attributes
 * are Variables, sub-modules, `jnp` Arrays, lists and records of them, and static values (strings,
 * numbers, booleans, configuration). Graph operations (`split`, `merge`, `state`, `display`, ...)
 * visit its own enumerable attributes in sorted order, as Flax does.
 *
 * Attribute writes and deletes are checked against the trace level the Module belongs to (see
 * `nnx.traceLevel`), which is how a transform refuses mutation of a Module it was not given.
 *
 * @since 0.1.0
 */
import { displayString } from "./display.ts"
import type { ModuleLike } from "./node.ts"
import { ModuleTypeId, moduleProxy, wrapModule } from "./node.ts"
import type { TraceState } from "./traceState.ts"
import { TraceStateKey } from "./traceState.ts"

/**
 * The base class of models.
 *
 * @example
 * ```ts
 * import { jnp, nnx, random } from "effect-nnx"
 *
 * class Linear extends nnx.Module {
 *   kernel: nnx.Param<jnp.Array>
 *   bias: nnx.Param<jnp.Array>
 *   constructor(din: number, dout: number, rngs: nnx.Rngs<"params">) {
 *     super()
 *     this.kernel = new nnx.Param(random.uniform(rngs.params(), [din, dout]))
 *     this.bias = new nnx.Param(jnp.zeros([dout]))
 *   }
 *   call(x: jnp.Array): jnp.Array {
 *     return x.matmul(this.kernel.value).add(this.bias.value)
 *   }
 * }
 *
 * const model = new Linear(2, 3, new nnx.Rngs({ params: 0 }))
 * model.call(jnp.ones([1, 2])).shape // [1, 3]
 * ```
 * @category models
 * @since 0.1.0
 */
export class Module implements ModuleLike {
  declare readonly [ModuleTypeId]: typeof ModuleTypeId
  declare readonly [TraceStateKey]: TraceState

  constructor() {
    // Returning the proxy makes it `this` for subclass constructors and field initializers, so
    // every attribute a subclass defines goes through the mutation check.
    return wrapModule(this)
  }

  /** The multi-line tree summary (`nnx.display`). */
  toString(): string {
    return displayString(moduleProxy(this))
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

Object.defineProperty(Module.prototype, ModuleTypeId, { value: ModuleTypeId })

export { isModule } from "./node.ts"
