/**
 * Hand-built GraphDef nodes for tests of the internal flatten/unflatten protocol: the GraphDefs a
 * transform or a codec could hand to `unflatten`, including malformed ones.
 */
import { nnx } from "effect-nnx"
import type { AttrDef, NodeDef } from "../../src/graph/GraphDef.ts"
import type { ModuleClass } from "../../src/graph/node.ts"

/** An attribute holding a leaf. */
export const LEAF: AttrDef = { _tag: "LeafAttr" }
/** An attribute holding a graph node. */
export const NODE: AttrDef = { _tag: "NodeAttr" }

/** A Module of class `type` at `index`, with `numAttributes` attributes following it. */
export const moduleDef = (index: number, numAttributes: number, type: ModuleClass, outerIndex?: number): NodeDef => ({
  _tag: "ModuleDef",
  type,
  index,
  outerIndex,
  numAttributes
})

/** A Param at `index`, with its metadata. */
export const paramDef = (index: number, outerIndex?: number, metadata: nnx.Metadata = {}): NodeDef => ({
  _tag: "VariableDef",
  type: nnx.Param,
  index,
  outerIndex,
  metadata
})
