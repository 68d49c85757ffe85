/**
 * `nnx.view`: a copy of a model's Modules in another mode, sharing its Variables, as Flax 0.12's
 * `nnx.view(model, deterministic=True)`. Every Module of the copy that has a `setView` method
 * (Dropout, BatchNorm, user layers) receives the options; parameters, statistics and rng state are
 * the same Variable objects, so training through a view trains the model and evaluating through
 * another sees the result. The model itself is not changed (unlike `model.eval()`).
 *
 * @since 0.1.0
 */
import { GraphStructureError } from "../graph/errors.ts"
import type { RefMap } from "../graph/flatten.ts"
import { flatten, unflatten } from "../graph/flatten.ts"
import { isModule } from "../graph/Module.ts"
import { isVariable } from "../graph/Variable.ts"
import { iterGraph } from "../graph/graph.ts"

/**
 * The modes `view` passes to `setView` methods. Layers of this library read `deterministic`
 * (Dropout) and `useRunningAverage` (BatchNorm); user layers may read others.
 * @category layers
 * @since 0.1.0
 */
export interface ViewModes {
  readonly deterministic?: boolean | undefined
  readonly useRunningAverage?: boolean | undefined
  readonly [mode: string]: unknown
}

/**
 * A Module that takes part in `view`: `setView` receives the modes and sets what it reads, and
 * `viewModes` lists the names it reads (so unknown names can be refused).
 * @category layers
 * @since 0.1.0
 */
export interface HasView {
  setView(modes: ViewModes): void
  readonly viewModes?: ReadonlyArray<string>
}

const hasSetView = (u: unknown): u is HasView =>
  isModule(u) && typeof (u as { setView?: unknown }).setView === "function"

/**
 * A view of `node` with `modes` applied to every Module that has `setView`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const model = new nnx.Sequential(new nnx.Linear(2, 2, { rngs: new nnx.Rngs(0) }), new nnx.Dropout(0.5, { rngs: new nnx.Rngs(1) }))
 * const evalModel = nnx.view(model, { deterministic: true })
 * const [linear, evalLinear] = [model.layers[0] as nnx.Linear, evalModel.layers[0] as nnx.Linear]
 * evalLinear === linear // false: a new Module
 * evalLinear.kernel === linear.kernel // true: the same Param
 * const dropout = evalModel.layers[1] as nnx.Dropout
 * dropout.deterministic // true
 * ```
 * @throws GraphStructureError when `raiseIfNotFound` (the default) and a mode is read by no
 * Module of the tree.
 * @category layers
 * @since 0.1.0
 */
export const view = <N>(node: N, modes: ViewModes, options?: { readonly raiseIfNotFound?: boolean }): N => {
  const names = Object.keys(modes).filter((k) => modes[k] !== undefined)
  const read = new Set<string>()
  for (const [, n] of iterGraph(node)) {
    if (!hasSetView(n)) continue
    // A layer that does not list the modes it reads is taken to read them all (as a Flax `set_view(**kwargs)`).
    const keys = (n as { viewModes?: ReadonlyArray<string> }).viewModes ?? names
    for (const k of keys) read.add(k)
  }
  const unused = names.filter((n) => !read.has(n))
  if (unused.length > 0 && (options?.raiseIfNotFound ?? true)) {
    throw new GraphStructureError({
      path: undefined,
      reason: `nnx.view: no Module in the tree reads the mode${unused.length === 1 ? "" : "s"} ${unused.map((u) => `'${u}'`).join(", ")}`
    })
  }
  // Flattened twice: the first pass numbers every object, the second stamps those numbers on the
  // definitions so that unflatten can hand back the very same Variables while building new Modules.
  const refMap: RefMap = new Map()
  flatten(node, { refMap })
  const { graphdef, leaves } = flatten(node, { outerRefMap: refMap })
  const reuse = new Map<number, object>()
  for (const [obj, index] of refMap) if (isVariable(obj)) reuse.set(index, obj)
  const copy = unflatten(graphdef, leaves, { reuse })
  for (const [, n] of iterGraph(copy)) if (hasSetView(n)) n.setView(modes)
  return copy
}
