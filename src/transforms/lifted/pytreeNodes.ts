/**
 * `State`, `Variable` (every kind) and the internal `VariableState` are pytree nodes for the core
 * transforms, as in Flax, so a State can flow through `vmap`, `jit`, `scan`...: e.g.
 * `nnx.vmap(nnx.grad(loss))` returns per-example gradients as a State whose Variables gained the
 * batch axis. A Variable's one child is its value; rebuilding makes a new Variable of the same kind
 * and metadata (the one flattened is never written), as `jax.tree.map` over a Flax State does.
 */
import { State } from "../../graph/State.ts"
import type { Metadata, VariableClass } from "../../graph/Variable.ts"
import { kindOf, makeVariable, Variable, VariableState } from "../../graph/Variable.ts"
import type { Path } from "../../graph/path.ts"
import { registerPytreeNode } from "../core/pytree.ts"

registerPytreeNode(State, {
  name: "State",
  flatten: (s) => {
    const flat = (s as State).toFlat()
    return [flat.map(([, leaf]) => leaf), flat.map(([path]) => path)]
  },
  // The paths come from a State, so they are sorted and valid. The leaves are not checked: the
  // lifted transforms stand split graph nodes in for a State's Variables while they carry it.
  unflatten: (paths, leaves) => State.unsafeMake(paths as ReadonlyArray<Path>, leaves as never),
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

/** A Variable's static part: its kind and metadata (the value is its child). */
interface VariableAux {
  readonly type: VariableClass
  readonly metadata: Metadata
}

registerPytreeNode(Variable, {
  name: "Variable",
  flatten: (v) => {
    const variable = v as Variable<unknown>
    return [[variable.value], { type: kindOf(variable), metadata: variable.metadata } satisfies VariableAux]
  },
  unflatten: (aux, [value]) => makeVariable((aux as VariableAux).type, value, (aux as VariableAux).metadata),
  key: (aux) => `${(aux as VariableAux).type.name}:${JSON.stringify((aux as VariableAux).metadata)}`
})
