/**
 * `GraphDef`: the static structure of an object graph, the counterpart of JAX's `PyTreeDef`. It
 * records, in depth-first order with sorted keys, every Module (its class), Variable (its kind and
 * metadata), list and record, each attribute's key and whether it holds a sub-node, a data leaf or a
 * static value (kept here, so configuration lives in the GraphDef, not in the State), and
 * references to objects already seen (shared objects and cycles). Together with the leaves (a
 * `State`) it rebuilds the graph (`merge`).
 *
 * GraphDefs are immutable values with structural equality and hashing (effect's `Equal`/`Hash`):
 * graphs of the same structure and static values give equal GraphDefs with the same hash, so a
 * cache (jit's) can be keyed on them. Classes compare by identity.
 *
 * @since 0.1.0
 */
import { Equal, Hash } from "effect"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import { type DisplayStyle, displayStyle } from "../backend/displayStyle.ts"
import { reprIn } from "./format.ts"
import type { ModuleClass } from "./node.ts"
import type { Path, PathKey } from "./path.ts"
import { pathOf } from "./path.ts"
import type { Metadata, VariableClass } from "./Variable.ts"

/** @category symbols @since 0.1.0 */
export const TypeId: unique symbol = Symbol.for("effect-nnx/GraphDef")

/**
 * A Module: its class, its index in the graph's reference order, the index of the object it stands
 * for outside a transform (set only by transforms), and how many attributes follow.
 * @category models
 * @since 0.1.0
 */
export interface ModuleDef {
  readonly _tag: "ModuleDef"
  readonly type: ModuleClass
  readonly index: number
  readonly outerIndex: number | undefined
  readonly numAttributes: number
}

/**
 * A plain list or record (no identity: a shared one comes back as copies, as Flax's lists and
 * dicts do) and how many attributes follow.
 * @category models
 * @since 0.1.0
 */
export interface ContainerDef {
  readonly _tag: "ListDef" | "RecordDef"
  readonly numAttributes: number
}

/**
 * A Variable: its kind, index, outer index and metadata. Its value is the next leaf.
 * @category models
 * @since 0.1.0
 */
export interface VariableDef {
  readonly _tag: "VariableDef"
  readonly type: VariableClass
  readonly index: number
  readonly outerIndex: number | undefined
  readonly metadata: Metadata
}

/**
 * A reference to the Module or Variable with this index, already defined earlier (in this
 * GraphDef or, when flattening several values with one shared reference map, an earlier one).
 * @category models
 * @since 0.1.0
 */
export interface NodeRef {
  readonly _tag: "NodeRef"
  readonly index: number
}

/** @category models @since 0.1.0 */
export type NodeDef = ModuleDef | ContainerDef | VariableDef | NodeRef

/**
 * What an attribute holds: the next node definition, the next leaf (a `jnp` Array held directly),
 * or a static value.
 * @category models
 * @since 0.1.0
 */
export type AttrDef =
  | { readonly _tag: "NodeAttr" }
  | { readonly _tag: "LeafAttr" }
  | { readonly _tag: "StaticAttr"; readonly value: unknown }

/** @category models @since 0.1.0 */
export type Attribute = readonly [key: PathKey, def: AttrDef]

/** @internal */
export const NODE_ATTR: AttrDef = Object.freeze({ _tag: "NodeAttr" })
/** @internal */
export const LEAF_ATTR: AttrDef = Object.freeze({ _tag: "LeafAttr" })

const nodeDefEquals = (a: NodeDef, b: NodeDef): boolean => {
  switch (a._tag) {
    case "ModuleDef":
      return (
        b._tag === "ModuleDef" &&
        a.type === b.type &&
        a.index === b.index &&
        a.outerIndex === b.outerIndex &&
        a.numAttributes === b.numAttributes
      )
    case "ListDef":
    case "RecordDef":
      return b._tag === a._tag && a.numAttributes === b.numAttributes
    case "VariableDef":
      return (
        b._tag === "VariableDef" &&
        a.type === b.type &&
        a.index === b.index &&
        a.outerIndex === b.outerIndex &&
        Equal.equals(a.metadata, b.metadata)
      )
    case "NodeRef":
      return b._tag === "NodeRef" && a.index === b.index
  }
}

const nodeDefHash = (a: NodeDef): number => {
  switch (a._tag) {
    case "ModuleDef":
      return Hash.array([a._tag, Hash.hash(a.type), a.index, a.outerIndex ?? -1, a.numAttributes])
    case "ListDef":
    case "RecordDef":
      return Hash.array([a._tag, a.numAttributes])
    case "VariableDef":
      return Hash.array([a._tag, Hash.hash(a.type), a.index, a.outerIndex ?? -1, Hash.hash(a.metadata)])
    case "NodeRef":
      return Hash.array([a._tag, a.index])
  }
}

const attrEquals = (a: Attribute, b: Attribute): boolean => {
  if (a[0] !== b[0] || a[1]._tag !== b[1]._tag) return false
  return a[1]._tag !== "StaticAttr" || Equal.equals(a[1].value, (b[1] as { readonly value: unknown }).value)
}

const attrHash = (a: Attribute): number =>
  Hash.array([a[0], a[1]._tag, a[1]._tag === "StaticAttr" ? Hash.hash(a[1].value) : 0])

const nodeDefString = (d: NodeDef, style: DisplayStyle): string => {
  switch (d._tag) {
    case "ModuleDef":
      return `ModuleDef(type=${d.type.name}, index=${d.index}, outerIndex=${reprIn(d.outerIndex, style)}, numAttributes=${d.numAttributes})`
    case "ListDef":
    case "RecordDef":
      return `${d._tag}(numAttributes=${d.numAttributes})`
    case "VariableDef":
      return `VariableDef(type=${d.type.name}, index=${d.index}, outerIndex=${reprIn(d.outerIndex, style)}, metadata=${reprIn(d.metadata, style)})`
    case "NodeRef":
      return `NodeRef(index=${d.index})`
  }
}

/**
 * The static structure of a graph. `N` is the type of the graph it rebuilds.
 *
 * @example
 * ```ts
 * import { Equal } from "effect"
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Linear extends nnx.Module {
 *   features = 3
 *   w = new nnx.Param(jnp.zeros([3]))
 * }
 * const g1 = nnx.graphdef(new Linear())
 * const g2 = nnx.graphdef(new Linear())
 * Equal.equals(g1, g2) // true: same structure and static values
 * ```
 * @category models
 * @since 0.1.0
 */
export class GraphDef<out N = unknown> implements Equal.Equal, Pipeable {
  declare readonly "~graph": (_: never) => N
  readonly [TypeId]: typeof TypeId = TypeId
  private cachedHash: number | undefined

  constructor(
    /** Node definitions in depth-first order; empty when the root is a single leaf. */
    readonly nodes: ReadonlyArray<NodeDef>,
    /** Attributes in depth-first order; each Module, list or record owns the next `numAttributes`. */
    readonly attributes: ReadonlyArray<Attribute>,
    /** How many leaves the State(s) must supply. */
    readonly numLeaves: number
  ) {}

  [Equal.symbol](that: unknown): boolean {
    if (!(that instanceof GraphDef)) return false
    if (this === that) return true
    if (
      this.numLeaves !== that.numLeaves ||
      this.nodes.length !== that.nodes.length ||
      this.attributes.length !== that.attributes.length
    )
      return false
    if (this[Hash.symbol]() !== that[Hash.symbol]()) return false
    for (let i = 0; i < this.nodes.length; i++) if (!nodeDefEquals(this.nodes[i]!, that.nodes[i]!)) return false
    for (let i = 0; i < this.attributes.length; i++)
      if (!attrEquals(this.attributes[i]!, that.attributes[i]!)) return false
    return true
  }

  [Hash.symbol](): number {
    if (this.cachedHash === undefined) {
      let h = Hash.number(this.numLeaves)
      for (const n of this.nodes) h = Hash.combine(nodeDefHash(n))(h)
      for (const a of this.attributes) h = Hash.combine(attrHash(a))(h)
      this.cachedHash = Hash.optimize(h)
    }
    return this.cachedHash
  }

  /** The same structure with no outer indices (as outside any transform). */
  withNoOuterIndex(): GraphDef<N> {
    return new GraphDef(
      this.nodes.map((n) => (n._tag === "ModuleDef" || n._tag === "VariableDef" ? { ...n, outerIndex: undefined } : n)),
      this.attributes,
      this.numLeaves
    )
  }

  /** The same structure with each object's outer index set to its own index. */
  withSameOuterIndex(): GraphDef<N> {
    return new GraphDef(
      this.nodes.map((n) => (n._tag === "ModuleDef" || n._tag === "VariableDef" ? { ...n, outerIndex: n.index } : n)),
      this.attributes,
      this.numLeaves
    )
  }

  /** Flax's repr, in the display style: attributes `["name", Static(false)]` (Python's `('name', Static(False))`). */
  toString(): string {
    const style = displayStyle()
    const nodes = this.nodes.map((n) => `    ${nodeDefString(n, style)}`).join(",\n")
    const [open, close] = style === "python" ? ["(", ")"] : ["[", "]"]
    const attrs = this.attributes
      .map(
        ([k, d]) =>
          `    ${open}${reprIn(k, style)}, ${d._tag === "StaticAttr" ? `Static(${reprIn(d.value, style)})` : d._tag}${close}`
      )
      .join(",\n")
    return `GraphDef(\n  nodes=[\n${nodes}\n  ],\n  attributes=[\n${attrs}\n  ],\n  numLeaves=${this.numLeaves}\n)`
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }

  declare pipe: Pipeable["pipe"]
}

Object.defineProperty(GraphDef.prototype, "pipe", {
  value: function (this: unknown) {
    return pipeArguments(this, arguments)
  }
})

/**
 * Whether `u` is a GraphDef.
 * @category guards
 * @since 0.1.0
 */
export const isGraphDef = (u: unknown): u is GraphDef => u instanceof GraphDef

/**
 * Walks a GraphDef without objects, calling `onLeaf` for each leaf with a function giving its path
 * (and the Variable definition when the leaf is a Variable's). Returns a reason when the GraphDef
 * is malformed (counts that do not add up, a reference to an index not defined before it, list
 * elements out of order, non-string attribute names). Iterative, so deep graphs are fine. With
 * `root` and `enter`, each node carries data made from its parent's and its key (`merge` follows a
 * State's trie this way), and `onLeaf` gets its parent's data and key.
 * @internal
 */
export const walkGraphDef = <T = undefined>(
  g: GraphDef,
  onLeaf: (path: () => Path, def: VariableDef | undefined, parent: T, key: PathKey | undefined) => void,
  /** Per-node data: the root's, and how a child's follows from its parent's (`enter`). */
  root?: T,
  enter?: (parent: T, key: PathKey) => T
): string | undefined => {
  const frames: Array<{
    remaining: number
    readonly key: PathKey | undefined
    readonly list: boolean
    next: number
    readonly data: T
  }> = []
  if (g.nodes.length === 0) {
    if (g.numLeaves !== 1 || g.attributes.length !== 0)
      return "a GraphDef without nodes must have exactly one leaf and no attributes"
    onLeaf(() => [], undefined, root as T, undefined)
    return undefined
  }
  let nodeCursor = 0
  let attrCursor = 0
  let leaves = 0
  const defined = new Set<number>()
  const open = (key: PathKey | undefined): string | undefined => {
    const parent = frames.length === 0 ? (root as T) : frames[frames.length - 1]!.data
    const def = g.nodes[nodeCursor++]
    if (def === undefined) return "the attributes reference more nodes than the GraphDef has"
    switch (def._tag) {
      case "NodeRef":
        if (!defined.has(def.index)) return `a reference to node ${def.index}, which is not defined before it`
        return undefined
      case "VariableDef":
        if (defined.has(def.index)) return `node index ${def.index} is defined twice`
        defined.add(def.index)
        leaves++
        onLeaf(() => pathOf(frames, key), def, parent, key)
        return undefined
      case "ModuleDef":
        if (defined.has(def.index)) return `node index ${def.index} is defined twice`
        defined.add(def.index)
        frames.push({
          remaining: def.numAttributes,
          key,
          list: false,
          next: 0,
          data: key === undefined || enter === undefined ? parent : enter(parent, key)
        })
        return undefined
      case "ListDef":
      case "RecordDef":
        frames.push({
          remaining: def.numAttributes,
          key,
          list: def._tag === "ListDef",
          next: 0,
          data: key === undefined || enter === undefined ? parent : enter(parent, key)
        })
        return undefined
    }
  }
  const rootError = open(undefined)
  if (rootError !== undefined) return rootError
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!
    if (top.remaining === 0) {
      frames.pop()
      continue
    }
    top.remaining--
    const attr = g.attributes[attrCursor++]
    if (attr === undefined) return "a node has more attributes than the GraphDef lists"
    const [key, def] = attr
    // A node's attribute is a name, or an index (an nnx.List's items).
    if (
      top.list
        ? key !== top.next++
        : typeof key !== "string" && !(typeof key === "number" && Number.isInteger(key) && key >= 0)
    ) {
      return top.list
        ? `list element ${JSON.stringify(key)} is out of order (expected index ${top.next - 1})`
        : `attribute key ${JSON.stringify(key)} is not a string or an index`
    }
    if (def._tag === "LeafAttr") {
      leaves++
      onLeaf(() => pathOf(frames, key), undefined, top.data, key)
    } else if (def._tag === "NodeAttr") {
      const e = open(key)
      if (e !== undefined) return e
    }
  }
  if (nodeCursor !== g.nodes.length)
    return `the GraphDef lists ${g.nodes.length} nodes but its attributes use ${nodeCursor}`
  if (attrCursor !== g.attributes.length)
    return `the GraphDef lists ${g.attributes.length} attributes but its nodes use ${attrCursor}`
  if (leaves !== g.numLeaves) return `the GraphDef declares ${g.numLeaves} leaves but its structure has ${leaves}`
  return undefined
}
