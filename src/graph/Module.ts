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
import { GraphStructureError } from "./errors.ts"
import { iterGraph } from "./graph.ts"
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

  /**
   * Sets `attributes` on every Module of the tree that has an attribute of that name (Flax's
   * `set_attributes`): `model.setAttributes({ deterministic: true })`. Each Module is visited once,
   * however often it is shared.
   * @throws GraphStructureError when `raiseIfNotFound` (the default) and no Module has one of the
   * names; nothing is set then.
   */
  setAttributes(attributes: Readonly<Record<string, unknown>>, options?: { readonly raiseIfNotFound?: boolean }): void {
    const modules: Array<Record<string, unknown>> = []
    for (const [, node] of iterGraph(this))
      if (node instanceof Module) modules.push(node as unknown as Record<string, unknown>)
    const names = Object.keys(attributes)
    const missing = names.filter((name) => !modules.some((m) => name in m && typeof m[name] !== "function"))
    if (missing.length > 0 && (options?.raiseIfNotFound ?? true)) {
      throw new GraphStructureError({
        path: undefined,
        reason: `no Module in the tree has the attribute${missing.length === 1 ? "" : "s"} ${missing.map((n) => `'${n}'`).join(", ")} to set`
      })
    }
    for (const m of modules) {
      for (const name of names) if (name in m && typeof m[name] !== "function") m[name] = attributes[name]
    }
  }

  /**
   * Training mode, as Flax's `Module.train()`: `deterministic: false` (Dropout) and
   * `useRunningAverage: false` (BatchNorm) on every Module that has them, plus any `attributes`.
   */
  train(attributes?: Readonly<Record<string, unknown>>): void {
    this.setAttributes({ deterministic: false, useRunningAverage: false, ...attributes }, { raiseIfNotFound: false })
  }

  /**
   * Evaluation mode, as Flax's `Module.eval()`: `deterministic: true` and `useRunningAverage: true`
   * on every Module that has them, plus any `attributes`.
   */
  eval(attributes?: Readonly<Record<string, unknown>>): void {
    this.setAttributes({ deterministic: true, useRunningAverage: true, ...attributes }, { raiseIfNotFound: false })
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
