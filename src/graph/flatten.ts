/**
 * Flattening an object graph into a `GraphDef` and leaves, and rebuilding it: the protocol every
 * graph operation (`split`, `merge`, `state`, `clone`) and the lifted transforms are built on.
 * Internal: the public API is `graph.ts`.
 *
 * Both directions are iterative (an explicit stack), so graphs of any depth and size are fine.
 *
 * For the lifted transforms:
 * - `flatten(node, { refMap })` with one `RefMap` shared across calls flattens several arguments
 *   in one index space: an object met in an earlier argument becomes a `NodeRef` to its index.
 * - `flatten(node, { outerRefMap })` stamps every Module and Variable definition with the index its
 *   object had outside the transform (`outerIndex`), for objects `outerRefMap` knows.
 * - `unflatten(graphdef, leaves, { indexMap })` with one `IndexMap` shared across calls rebuilds
 *   several values in one index space (`indexMap` is filled with every object made or reused).
 * - `unflatten(graphdef, leaves, { reuse })` updates existing objects in place instead of making
 *   new ones: a definition whose `outerIndex` is a key of `reuse` reuses that object (a Module is
 *   emptied and refilled, a Variable gets the new value and metadata), so identity is preserved
 *   (`m.a === b` after a swap inside the transform).
 *
 * @since 0.1.0
 */
import { isArray } from "../backend/Array.ts"
import { GraphStructureError, MergeError } from "./errors.ts"
import type { AttrDef, Attribute, NodeDef } from "./GraphDef.ts"
import { GraphDef, LEAF_ATTR, NODE_ATTR } from "./GraphDef.ts"
import type { ModuleClass } from "./node.ts"
import {
  classify,
  clearModule,
  containerKeys,
  createEmptyModule,
  defineAttribute,
  isModule,
  moduleTarget,
  typeName
} from "./node.ts"
import type { Path, PathCons, PathKey } from "./path.ts"
import { consPath, consToArray, pathOf } from "./path.ts"
import type { Metadata, Variable } from "./Variable.ts"
import { isVariable, isVariableState, kindOf, makeVariable, rawValue, setVariableState } from "./Variable.ts"

/**
 * Objects to their index in one flattening (or several sharing the map).
 * @category internals
 * @since 0.1.0
 */
export type RefMap = Map<object, number>

/**
 * Indices to objects: what unflattening made or reused, and what `reuse` offers.
 * @category internals
 * @since 0.1.0
 */
export type IndexMap = Map<number, object>

/** @category internals @since 0.1.0 */
export interface FlattenOptions {
  /** Index space to add to; pass the same map to flatten several values with shared references. */
  readonly refMap?: RefMap | undefined
  /** Outer indices of the objects, stamped on their definitions (transforms). */
  readonly outerRefMap?: ReadonlyMap<object, number> | undefined
  /**
   * Leaves of Variables: the live Variables themselves (`split`, `state`: Flax 0.12's State holds
   * them), or immutable `VariableState` snapshots (the default: the transforms' protocol, which
   * must not alias the objects it updates afterwards).
   */
  readonly live?: boolean | undefined
  /**
   * Called with each Module and Variable as it is defined (not for later references to it), with
   * its path: lets a caller check the objects of a graph in the same walk.
   */
  readonly visit?: ((obj: object, path: PathCons | undefined) => void) | undefined
}

/** @category internals @since 0.1.0 */
export interface Flattened<N = unknown> {
  readonly graphdef: GraphDef<N>
  /** Leaf paths, in depth-first order (which is sorted path order); made on first use. */
  readonly paths: ReadonlyArray<Path>
  /**
   * The same paths sharing their prefixes (`undefined` for the root): linear in the graph's size
   * however deep it is, where the arrays of a chain n deep total n²/2 keys.
   */
  readonly pathCons: ReadonlyArray<PathCons | undefined>
  /**
   * Leaves: a Variable's `VariableState` snapshot, or the Variable itself with `live` (at its first
   * path), the Array per Array attribute, or the root itself when the root is not a graph node.
   */
  readonly leaves: ReadonlyArray<unknown>
}

interface FlattenFrame {
  readonly obj: object
  readonly keys: ReadonlyArray<PathKey>
  i: number
  /** The key of this node in its parent (none for the root). */
  readonly key: PathKey | undefined
  /** This node's path. */
  readonly cons: PathCons | undefined
  /** Lists and records: removed from the on-stack set when done (they have no identity). */
  readonly container: boolean
}

/**
 * Flattens a graph node (a Module, Variable, list or record; any other value is a single leaf)
 * into its GraphDef, leaf paths and leaves.
 *
 * @category internals
 * @since 0.1.0
 */
export const flatten = <N>(node: N, options?: FlattenOptions): Flattened<N> => {
  const refMap: RefMap = options?.refMap ?? new Map()
  const outer = options?.outerRefMap
  const live = options?.live === true
  const visit = options?.visit
  const nodes: Array<NodeDef> = []
  const attributes: Array<Attribute> = []
  const leaves: Array<unknown> = []
  const paths: Array<PathCons | undefined> = []
  const frames: Array<FlattenFrame> = []
  // Plain lists and records have no identity; one that contains itself would never end.
  const onStack = new Set<object>()

  const emit = (
    value: object,
    kind: "module" | "variable" | "list" | "record",
    key: PathKey | undefined,
    cons: PathCons | undefined
  ): void => {
    if (kind === "module" || kind === "variable") {
      const seen = refMap.get(value)
      if (seen !== undefined) {
        nodes.push({ _tag: "NodeRef", index: seen })
        return
      }
      const index = refMap.size
      refMap.set(value, index)
      visit?.(value, cons)
      const outerIndex = outer?.get(value)
      if (kind === "variable") {
        const v = value as Variable<unknown>
        nodes.push({ _tag: "VariableDef", type: kindOf(v), index, outerIndex, metadata: v.metadata })
        leaves.push(live ? v : v.toState())
        paths.push(cons)
        return
      }
      const keys = containerKeys(value, "module")
      nodes.push({
        _tag: "ModuleDef",
        type: value.constructor as ModuleClass,
        index,
        outerIndex,
        numAttributes: keys.length
      })
      frames.push({ obj: value, keys, i: 0, key, cons, container: false })
      return
    }
    if (onStack.has(value)) {
      throw new GraphStructureError({
        path: pathOf(frames, key),
        reason: `a plain ${kind} contains itself; plain lists and records have no identity in a graph, so put the cycle through a Module`
      })
    }
    onStack.add(value)
    const keys = containerKeys(value, kind)
    nodes.push({ _tag: kind === "list" ? "ListDef" : "RecordDef", numAttributes: keys.length })
    frames.push({ obj: value, keys, i: 0, key, cons, container: true })
  }

  const rootKind = classify(node)
  if (rootKind === "module" || rootKind === "variable" || rootKind === "list" || rootKind === "record") {
    emit(node as object, rootKind, undefined, undefined)
  } else {
    leaves.push(node)
    paths.push(undefined)
  }

  while (frames.length > 0) {
    const top = frames[frames.length - 1]!
    if (top.i === top.keys.length) {
      frames.pop()
      if (top.container) onStack.delete(top.obj)
      continue
    }
    const key = top.keys[top.i++]!
    const value: unknown = Reflect.get(top.obj, key)
    const kind = classify(value)
    switch (kind) {
      case "module":
      case "variable":
      case "list":
      case "record":
        attributes.push([key, NODE_ATTR])
        emit(value as object, kind, key, consPath(top.cons, key))
        break
      case "array":
        attributes.push([key, LEAF_ATTR])
        leaves.push(value)
        paths.push(consPath(top.cons, key))
        break
      case "static":
        attributes.push([key, { _tag: "StaticAttr", value }])
        break
    }
  }
  let arrays: ReadonlyArray<Path> | undefined
  return {
    graphdef: new GraphDef<N>(nodes, attributes, leaves.length),
    pathCons: paths,
    get paths() {
      return (arrays ??= paths.map(consToArray))
    },
    leaves
  }
}

/** Whether `obj` has `key` as an own attribute (data, writable, enumerable, configurable) holding `value`. */
const holds = (obj: object, key: PathKey, value: unknown): boolean => {
  const d = Object.getOwnPropertyDescriptor(obj, key)
  return d !== undefined && d.value === value && d.writable === true && d.enumerable === true && d.configurable === true
}

/** Deletes (through `m`, the proxy, so its checks apply) the attributes of `target` not in `written`. */
const dropUnwritten = (m: object, target: object, written: ReadonlyArray<PathKey>): void => {
  const keys = Object.keys(target)
  if (keys.length === written.length) return
  const keep = new Set(written.map(String))
  for (const k of keys) if (!keep.has(k)) Reflect.deleteProperty(m, k)
}

/** @category internals @since 0.1.0 */
export interface UnflattenOptions {
  /** Index space to add to; pass the same map to unflatten several values with shared references. */
  readonly indexMap?: IndexMap | undefined
  /** Existing objects by outer index, updated in place instead of making new ones (transforms). */
  readonly reuse?: ReadonlyMap<number, object> | undefined
  /**
   * A live Variable among the leaves becomes part of the rebuilt graph itself (Flax 0.12's `merge`:
   * the State's Variables are shared); with `copy`, a new Variable takes its value and metadata.
   */
  readonly copy?: boolean | undefined
}

interface UnflattenFrame {
  readonly obj: object
  remaining: number
  /** The key of this node in its parent (none for the root). */
  readonly key: PathKey | undefined
  readonly kind: "module" | "list" | "record"
  /**
   * A reused Module's target, with the keys written so far: an attribute that already holds its
   * value is left alone, and those not written are deleted when the frame ends. Clearing and
   * refilling it instead cost a trapped property definition per attribute per transform call.
   */
  readonly reused?: { readonly target: object; readonly written: Array<PathKey> } | undefined
}

/**
 * Rebuilds a graph from a GraphDef and its leaves (in GraphDef order). A Variable's leaf may be a
 * live Variable of the same kind (used as is, or copied with `copy`), a `VariableState` (whose kind
 * must match), or a raw value (kept with the GraphDef's metadata, as transforms pass traced
 * arrays). Fails with `MergeError` when the leaves do not fit.
 *
 * @category internals
 * @since 0.1.0
 */
export const unflatten = <N>(graphdef: GraphDef<N>, leaves: ReadonlyArray<unknown>, options?: UnflattenOptions): N => {
  if (leaves.length !== graphdef.numLeaves) {
    throw new MergeError({
      path: undefined,
      reason: `the GraphDef needs ${graphdef.numLeaves} leaves, got ${leaves.length}`
    })
  }
  if (graphdef.nodes.length === 0) return leaves[0] as N
  const indexMap: IndexMap = options?.indexMap ?? new Map()
  const reuse = options?.reuse
  const { nodes, attributes } = graphdef
  let nodeCursor = 0
  let attrCursor = 0
  let leafCursor = 0
  const frames: Array<UnflattenFrame> = []

  const nextLeaf = (key: PathKey | undefined): unknown => {
    if (leafCursor >= leaves.length) throw new MergeError({ path: pathOf(frames, key), reason: "ran out of leaves" })
    return leaves[leafCursor++]
  }

  const variable = (def: NodeDef & { readonly _tag: "VariableDef" }, key: PathKey | undefined): Variable<unknown> => {
    const leaf = nextLeaf(key)
    let value: unknown
    let metadata: Metadata
    if (isVariableState(leaf)) {
      if (leaf.type !== def.type) {
        throw new MergeError({ path: pathOf(frames, key), reason: `expected a ${def.type.name}, got a ${leaf.kind}` })
      }
      value = leaf.value
      metadata = leaf.metadata
    } else if (isVariable(leaf)) {
      if (kindOf(leaf) !== def.type) {
        throw new MergeError({ path: pathOf(frames, key), reason: `expected a ${def.type.name}, got a ${leaf.kind}` })
      }
      if (options?.copy !== true && (def.outerIndex === undefined || reuse?.get(def.outerIndex) === undefined)) {
        if (indexMap.has(def.index))
          throw new MergeError({ path: pathOf(frames, key), reason: `node index ${def.index} is defined twice` })
        indexMap.set(def.index, leaf)
        return leaf
      }
      value = rawValue(leaf)
      metadata = leaf.metadata
    } else {
      value = leaf
      metadata = def.metadata
    }
    const existing = def.outerIndex === undefined ? undefined : reuse?.get(def.outerIndex)
    let v: Variable<unknown>
    if (existing !== undefined) {
      if (!isVariable(existing) || kindOf(existing) !== def.type) {
        throw new MergeError({
          path: pathOf(frames, key),
          reason: `the object to reuse for outer index ${def.outerIndex} is not a ${def.type.name}`
        })
      }
      setVariableState(existing, value, metadata)
      v = existing
    } else {
      v = makeVariable(def.type, value, metadata)
    }
    indexMap.set(def.index, v)
    return v
  }

  const open = (key: PathKey | undefined): unknown => {
    const def = nodes[nodeCursor++]
    if (def === undefined)
      throw new MergeError({
        path: pathOf(frames, key),
        reason: "the GraphDef has fewer nodes than its attributes use"
      })
    switch (def._tag) {
      case "NodeRef": {
        const obj = indexMap.get(def.index)
        if (obj === undefined)
          throw new MergeError({
            path: pathOf(frames, key),
            reason: `a reference to node ${def.index}, which is not defined before it`
          })
        return obj
      }
      case "VariableDef":
        return variable(def, key)
      case "ModuleDef": {
        if (indexMap.has(def.index))
          throw new MergeError({ path: pathOf(frames, key), reason: `node index ${def.index} is defined twice` })
        const existing = def.outerIndex === undefined ? undefined : reuse?.get(def.outerIndex)
        let m: object
        if (existing !== undefined) {
          if (!isModule(existing) || existing.constructor !== def.type) {
            throw new MergeError({
              path: pathOf(frames, key),
              reason: `the object to reuse for outer index ${def.outerIndex} is not a ${def.type.name}`
            })
          }
          m = existing
        } else {
          m = createEmptyModule(def.type)
        }
        // Registered before its attributes are filled, so a cycle back to it resolves.
        indexMap.set(def.index, m)
        if (def.numAttributes > 0)
          frames.push({
            obj: m,
            remaining: def.numAttributes,
            key,
            kind: "module",
            reused: existing === undefined ? undefined : { target: moduleTarget(existing), written: [] }
          })
        else if (existing !== undefined) clearModule(existing)
        return m
      }
      case "ListDef": {
        const list = new Array<unknown>(def.numAttributes)
        if (def.numAttributes > 0) frames.push({ obj: list, remaining: def.numAttributes, key, kind: "list" })
        return list
      }
      case "RecordDef": {
        const record = {}
        if (def.numAttributes > 0) frames.push({ obj: record, remaining: def.numAttributes, key, kind: "record" })
        return record
      }
    }
  }

  const root = open(undefined)
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!
    if (top.remaining === 0) {
      frames.pop()
      if (top.reused !== undefined) dropUnwritten(top.obj, top.reused.target, top.reused.written)
      continue
    }
    top.remaining--
    const attr = attributes[attrCursor++]
    if (attr === undefined)
      throw new MergeError({
        path: pathOf(frames, undefined),
        reason: "the GraphDef has fewer attributes than its nodes use"
      })
    const [key, def] = attr
    const value = attributeValue(def, key)
    if (top.kind === "list") (top.obj as Array<unknown>)[key as number] = value
    else if (top.reused === undefined) defineAttribute(top.obj, key, value)
    else {
      top.reused.written.push(key)
      if (!holds(top.reused.target, key, value)) defineAttribute(top.obj, key, value)
    }
  }

  function attributeValue(def: AttrDef, key: PathKey): unknown {
    switch (def._tag) {
      case "StaticAttr":
        return def.value
      case "LeafAttr":
        return nextLeaf(key)
      case "NodeAttr":
        return open(key)
    }
  }

  if (nodeCursor !== nodes.length)
    throw new MergeError({
      path: undefined,
      reason: `the GraphDef has ${nodes.length} nodes but its attributes use ${nodeCursor}`
    })
  if (attrCursor !== attributes.length)
    throw new MergeError({
      path: undefined,
      reason: `the GraphDef has ${attributes.length} attributes but its nodes use ${attrCursor}`
    })
  return root as N
}

/**
 * The inverse of a RefMap: index to object. @category internals @since 0.1.0
 */
export const indexMapFromRefMap = (refMap: ReadonlyMap<object, number>): IndexMap => {
  const out: IndexMap = new Map()
  for (const [obj, i] of refMap) out.set(i, obj)
  return out
}

/**
 * The inverse of an IndexMap: object to index. @category internals @since 0.1.0
 */
export const refMapFromIndexMap = (indexMap: ReadonlyMap<number, object>): RefMap => {
  const out: RefMap = new Map()
  for (const [i, obj] of indexMap) out.set(obj, i)
  return out
}

/** Whether `u` may be the root of a graph operation (a Module, list or record). @internal */
export const isGraphRoot = (u: unknown): boolean => {
  const k = classify(u)
  return k === "module" || k === "list" || k === "record"
}

/** A short description of a value for messages. @internal */
export const describeValue = (u: unknown): string => {
  const k = classify(u)
  if (k === "module" || k === "variable") return typeName(u as object)
  if (k === "array" && isArray(u)) return `an Array of shape (${u.shape.join(", ")})`
  if (k === "list") return "a list"
  if (k === "record") return "a record"
  return u === null ? "null" : typeof u
}
