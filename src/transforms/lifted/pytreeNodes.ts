/**
 * `State` and `VariableState` are pytree nodes for the core transforms (as `nnx.State` is a pytree
 * in Flax), so a State can flow through `vmap`, `jit`, `scan`...: e.g. `nnx.vmap(nnx.grad(loss))`
 * returns per-example gradients as a State whose leaves gained the batch axis.
 */
import { State } from "../../graph/State.ts"
import { VariableState } from "../../graph/Variable.ts"
import type { Path } from "../../graph/path.ts"
import { registerPytreeNode } from "../core/pytree.ts"

registerPytreeNode(State, {
  name: "State",
  flatten: (s) => {
    const flat = (s as State).toFlat()
    return [flat.map(([, leaf]) => leaf), flat.map(([path]) => path)]
  },
  unflatten: (paths, leaves) => State.fromFlat((paths as ReadonlyArray<Path>).map((p, i) => [p, leaves[i]] as const) as never),
  key: (paths) => JSON.stringify(paths)
})

registerPytreeNode(VariableState, {
  name: "VariableState",
  flatten: (v) => {
    const vs = v as VariableState
    return [[vs.value], vs]
  },
  unflatten: (template, [value]) => (template as VariableState).replace(value as never),
  key: (template) => `${(template as VariableState).kind}:${JSON.stringify((template as VariableState).metadata)}`
})
