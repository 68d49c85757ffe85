/**
 * The extract protocol shared by every lifted transform (Flax NNX's `extract`):
 *
 * 1. outer split: graph nodes (Modules, Variables, Rngs) among the arguments become a static
 *    `NodeStates` (GraphDef, Variable kinds and metadata, which group each leaf belongs to) plus
 *    groups of Arrays, one group per prefix (an axis, a `StateAxes` filter, ...); one reference map
 *    across all arguments turns aliases into references, and aliases with different prefixes fail;
 * 2. inner merge: inside the core transform, fresh objects are rebuilt from the traced Arrays, in
 *    one index space, so each knows its outer object's index;
 * 3. after the call, inner split of (arguments, output): structure changes show in the new
 *    GraphDefs, stamped with outer indices (objects made inside get none);
 * 4. outer merge: the original objects are updated in place by outer index, new ones created, so
 *    identity is preserved.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import { flatten as graphFlatten, unflatten as graphUnflatten } from "../graph/flatten.ts"
import type { IndexMap, RefMap } from "../graph/flatten.ts"
import type { GraphDef } from "../graph/GraphDef.ts"
import { isModule, typeName } from "../graph/node.ts"
import type { Path } from "../graph/path.ts"
import { consToArray } from "../graph/path.ts"
import { hasTraceState, isCurrentTrace } from "../graph/traceState.ts"
import { isVariable, isVariableState, kindOf, VariableState } from "../graph/Variable.ts"
import type { Metadata } from "../graph/Variable.ts"
import {
  broadcastPrefix,
  flatten as treeFlatten,
  isRecord,
  leafPaths,
  unflatten as treeUnflatten
} from "./core/pytree.ts"
import { StructureError } from "./core/TransformError.ts"
import { AliasingError, LiftTypeError } from "./LiftError.ts"

/** Graph nodes that transforms split and merge: Modules (Rngs included) and Variables. */
export const isGraphNode = (u: unknown): boolean => isModule(u) || isVariable(u)

/** One leaf's group: its index among the node's groups, and the prefix the transform applies to it. */
export interface Resolved<P> {
  readonly group: number
  readonly prefix: P
}

/**
 * Decides the group of each leaf of a graph node with prefix `nodePrefix` (e.g. the `StateAxes`
 * filter that matches it). Throws a typed error when nothing fits.
 */
export type Resolver<P> = (nodePrefix: unknown, path: Path, leaf: unknown) => Resolved<P>

/** The static part of a split graph node. A class, so core transforms treat it as one leaf. */
export class NodeStates<P> {
  constructor(
    readonly graphdef: GraphDef,
    /** Per leaf: its VariableState (value dropped), or the leaf itself when it is static. */
    readonly templates: ReadonlyArray<unknown>,
    /** Per leaf: its group, or -1 for a static leaf (a non-Array value). */
    readonly groupOf: ReadonlyArray<number>,
    readonly paths: ReadonlyArray<Path>,
    /** Per group: its prefix. */
    readonly groupPrefixes: ReadonlyArray<P>,
    readonly nodePrefix: unknown
  ) {}
}

/** A split graph node as core transforms see it: a static leaf and groups of Arrays. */
export interface PureNode<P> {
  readonly n: NodeStates<P>
  readonly v: ReadonlyArray<ReadonlyArray<JArray>>
}

export const isPureNode = (u: unknown): u is PureNode<unknown> => isRecord(u) && u.n instanceof NodeStates

/**
 * Records each Variable's prefixes as graph nodes are split; raises as soon as one Variable has two
 * different prefixes, listing what it saw (as Flax does). Each call checks only the Variables of
 * the node it is given, so checking n arguments is linear in their size.
 *
 * A node is walked (with a reference map of its own, so a Variable shared with an earlier node is
 * seen again) only once a second node arrives: one node alone cannot alias inconsistently, since
 * its own walk sees each Variable once. The split of that node has checked what this walk would
 * otherwise check besides aliasing (the trace of each object, each Variable's prefix), so a
 * transform over one Module walks it once, not twice.
 */
export class AliasTracker {
  private readonly seen = new Map<object, Array<readonly [string, string]>>()
  private pending: (() => void) | undefined
  private nodes = 0

  /** Checks `node` against the nodes before it (deferred while it is the first one). */
  check<P>(node: unknown, nodePrefix: unknown, resolve: Resolver<P>, show: (p: P) => string): void {
    const run = () => this.walk(node, nodePrefix, resolve, show)
    if (this.nodes++ === 0) {
      this.pending = run
      return
    }
    const first = this.pending
    this.pending = undefined
    first?.()
    run()
  }

  private walk<P>(node: unknown, nodePrefix: unknown, resolve: Resolver<P>, show: (p: P) => string): void {
    const fl = graphFlatten(node, { live: true })
    const bad = new Set<object>()
    fl.leaves.forEach((leaf, i) => {
      if (!isVariable(leaf)) return
      const path = fl.paths[i]!
      const prefix = show(resolve(nodePrefix, path, leaf).prefix)
      const entry = [path.length === 0 ? "<root>" : path.join("/"), prefix] as const
      const list = this.seen.get(leaf)
      if (list === undefined) this.seen.set(leaf, [entry])
      else {
        list.push(entry)
        if (list.some(([, p]) => p !== prefix)) bad.add(leaf)
      }
    })
    if (bad.size > 0) {
      const nodes = [...bad].map((v) => ({
        node: typeName(v),
        seen: this.seen.get(v)!.map(([path, prefix]) => ({ path, prefix }))
      }))
      throw new AliasingError({ report: [...bad].map((v) => describeAliases(v, this.seen.get(v)!)).join("\n"), nodes })
    }
  }
}

const describeAliases = (v: object, list: ReadonlyArray<readonly [string, string]>): string =>
  `Node: ${typeName(v)}\n${list.map(([path, p]) => `  ${path}: ${p}`).join("\n")}`

/** Sees each Module and Variable of a walk, with its path (made only when asked for). */
type ObjectVisitor = (obj: object, path: () => ReadonlyArray<string | number>) => void

/**
 * Every Module and Variable reachable from a split graph node must belong to the current trace.
 * One made outside (captured by `f`'s closure and returned, or stored into an argument, or left
 * over from a transform that has returned) cannot be taken in or given back as the transform's own:
 * its state would be replaced by this trace's values, or stay behind as a copy the original does
 * not see.
 */
const extractable =
  (at: () => string, transform: string): ObjectVisitor =>
  (obj, rel) => {
    if (!hasTraceState(obj) || isCurrentTrace(obj)) return
    const path = `${at()}${rel()
      .map((k) => `/${k}`)
      .join("")}`
    throw new LiftTypeError({
      transform,
      reason: `Cannot extract graph node from different trace level: the ${typeName(obj)} at ${path} belongs to another trace than this ${transform} call (captured by a closure of an enclosing transform, or left over from a transform that has returned); pass it in as an argument, or return a new object made inside`,
      path
    })
  }

/** How one split or merge treats Variables' metadata (e.g. sharding names under vmap). */
export type MetadataMap<P> = (metadata: Metadata, prefix: P) => Metadata

export interface SplitOptions<P> {
  readonly transform: string
  /** What the prefix tree is called in errors (`inAxes`). */
  readonly what: string
  readonly isPrefixLeaf: (u: unknown) => boolean
  readonly resolve: Resolver<P>
  readonly show: (p: P) => string
  readonly refMap: RefMap
  readonly outerRefMap?: ReadonlyMap<object, number> | undefined
  readonly aliases: AliasTracker
  readonly metadata?: MetadataMap<P> | undefined
  /** The prefix a group's Arrays get in the core transform's prefix tree. */
  readonly corePrefix: (p: P) => unknown
  /** The prefix forms a leaf or graph node takes, in words, for errors (`"an axis (an integer), null or a StateAxes"`). */
  readonly expected?: string | undefined
  /**
   * Refuse graph nodes made in another trace (captured by a closure, or leaked from another
   * transform): the splits of `nnx.vmap`, `nnx.scan` and `nnx.jit`, as Flax refuses them there.
   */
  readonly checkTrace?: boolean | undefined
}

/** The result of a split: the pure tree for a core transform, and its prefix tree. */
export interface Split {
  readonly pure: unknown
  readonly prefix: unknown
}

/** Splits the graph nodes of a pytree (steps 1 and 3 of the protocol). */
export const splitTree = <P>(tree: unknown, prefixTree: unknown, o: SplitOptions<P>): Split => {
  const [leaves, def] = treeFlatten(tree, isGraphNode)
  const root = o.what.startsWith("out") ? "out" : "args"
  let prefixes: Array<unknown>
  try {
    prefixes = broadcastPrefix(o.transform, o.what, prefixTree, def, (u): u is unknown => o.isPrefixLeaf(u), root)
  } catch (e) {
    if (e instanceof StructureError) throwPrefixMismatch(tree, prefixTree, o, root)
    throw e
  }
  const pure: Array<unknown> = []
  const prefix: Array<unknown> = []
  let treePaths: Array<string> | undefined
  leaves.forEach((leaf, i) => {
    const nodePrefix = prefixes[i]
    if (!isGraphNode(leaf)) {
      if (
        typeof nodePrefix === "object" &&
        nodePrefix !== null &&
        !Array.isArray(nodePrefix) &&
        "lookup" in nodePrefix
      ) {
        const path = leafPaths(def, root)[i]!
        const argument = Number(/^args\[(\d+)\]/.exec(path)?.[1] ?? Number.NaN)
        throw new LiftTypeError({
          transform: o.transform,
          reason: `${nodePrefix.constructor.name} can only be used on graph nodes (Modules, Variables, Rngs), but ${o.what} gives one to ${path}${Number.isNaN(argument) ? "" : ` (argument ${argument})`}, which is ${showValue(leaf)}; use ${o.transform === "nnx.jit" ? "null or a PartitionSpec" : "an axis (or null)"} for it`,
          what: o.what,
          path,
          argument: Number.isNaN(argument) ? undefined : argument,
          expected: "a prefix for a value that is not a graph node",
          found: showPrefix(nodePrefix)
        })
      }
      pure.push(leaf)
      prefix.push(nodePrefix)
      return
    }
    const visit =
      o.checkTrace === true ? extractable(() => (treePaths ??= leafPaths(def, root))[i]!, o.transform) : undefined
    const fl = graphFlatten(leaf, {
      refMap: o.refMap,
      outerRefMap: o.outerRefMap,
      visit: visit === undefined ? undefined : (obj, cons) => visit(obj, () => consToArray(cons))
    })
    o.aliases.check(leaf, nodePrefix, o.resolve, o.show)
    const groupPrefixes: Array<P> = []
    const groups: Array<Array<JArray>> = []
    const groupOf: Array<number> = []
    const templates: Array<unknown> = []
    fl.leaves.forEach((l, k) => {
      const state = isVariableState(l)
      const value = state ? l.value : l
      if (!isArray(value)) {
        // A Variable's (a bare leaf is always an Array). Resolved all the same: a prefix that fits no
        // Variable is an error whatever it holds.
        o.resolve(nodePrefix, fl.paths[k]!, l)
        groupOf.push(-1)
        templates.push(l)
        return
      }
      const r = o.resolve(nodePrefix, fl.paths[k]!, l)
      while (groups.length <= r.group) {
        groups.push([])
        groupPrefixes.push(r.prefix)
      }
      groupPrefixes[r.group] = r.prefix
      groups[r.group]!.push(value)
      groupOf.push(r.group)
      templates.push(
        isVariableState(l)
          ? o.metadata === undefined
            ? l
            : new VariableState(l.type, l.value, o.metadata(l.metadata, r.prefix))
          : undefined
      )
    })
    const ns = new NodeStates<P>(fl.graphdef, templates, groupOf, fl.paths, groupPrefixes, nodePrefix)
    pure.push({ n: ns, v: groups } satisfies PureNode<P>)
    prefix.push({ n: null, v: groupPrefixes.map(o.corePrefix) })
  })
  return { pure: treeUnflatten(def, pure), prefix: treeUnflatten(def, prefix) }
}

export interface MergeOptions<P> {
  readonly indexMap: IndexMap
  readonly reuse?: ReadonlyMap<number, object> | undefined
  readonly metadata?: MetadataMap<P> | undefined
}

/** Rebuilds the graph nodes of a pure tree (steps 2 and 4 of the protocol). */
export const mergeTree = <P>(pure: unknown, o: MergeOptions<P>): unknown => {
  const [leaves, def] = treeFlatten(pure, isPureNode)
  return treeUnflatten(
    def,
    leaves.map((leaf) => {
      if (!isPureNode(leaf)) return leaf
      const ns = leaf.n as NodeStates<P>
      const cursors = ns.groupPrefixes.map(() => 0)
      const nodeLeaves = ns.templates.map((t, k) => {
        const g = ns.groupOf[k]!
        if (g === -1) return t
        const value = leaf.v[g]![cursors[g]!++]!
        if (t instanceof VariableState) {
          const meta = o.metadata === undefined ? t.metadata : o.metadata(t.metadata, ns.groupPrefixes[g]!)
          return new VariableState(t.type, value, meta)
        }
        return value
      })
      return graphUnflatten(ns.graphdef, nodeLeaves, { indexMap: o.indexMap, reuse: o.reuse })
    })
  )
}

/** Each group's Arrays of every graph node in a pure tree, with the node's paths (for checks). */
export const forEachGroup = <P>(
  pure: unknown,
  f: (prefix: P, values: ReadonlyArray<JArray>, paths: ReadonlyArray<Path>, kinds: ReadonlyArray<string>) => void
): void => {
  const [leaves] = treeFlatten(pure, isPureNode)
  for (const leaf of leaves) {
    if (!isPureNode(leaf)) continue
    const ns = leaf.n as NodeStates<P>
    ns.groupPrefixes.forEach((p, g) => {
      const idx = ns.groupOf.flatMap((gg, k) => (gg === g ? [k] : []))
      f(
        p,
        leaf.v[g]!,
        idx.map((k) => ns.paths[k]!),
        idx.map((k) => {
          const t = ns.templates[k]
          return t instanceof VariableState ? t.kind : "Array"
        })
      )
    })
  }
}

/** How a prefix (or a value where a prefix was expected) reads in errors. */
export const showPrefix = (u: unknown): string => {
  if (u === null) return "null"
  if (u === undefined) return "undefined"
  if (typeof u === "string") return JSON.stringify(u)
  if (typeof u !== "object") return String(u)
  if (Array.isArray(u)) return `[${u.map(showPrefix).join(", ")}]`
  if (isRecord(u))
    return Object.keys(u).length === 0
      ? "{}"
      : `{ ${Object.keys(u)
          .map((k) => `${k}: ${showPrefix(u[k])}`)
          .join(", ")} }`
  if (isArray(u)) return `an Array of shape (${u.shape.join(", ")})`
  if (isGraphNode(u)) return `the graph node ${typeName(u as object)}`
  return String(u)
}

/** What a value of the arguments is, for prefix errors. */
const showValue = (u: unknown): string => {
  if (isGraphNode(u)) return `the graph node ${typeName(u as object)}`
  if (isArray(u)) return `an Array of shape (${u.shape.join(", ")})`
  if (Array.isArray(u)) return `an array of ${u.length}`
  if (isRecord(u)) return `a record with keys ${Object.keys(u).sort().join(", ") || "(none)"}`
  // Never null or undefined: those are empty subtrees, not leaves, and prefix checks skip them.
  return `the ${typeof u} ${String(u)}`
}

/**
 * A prefix tree that does not fit the tree it is a prefix of: walks both together to the first
 * place they part and throws a `LiftTypeError` naming it (the argument, the path, the prefix forms
 * expected there and what was found), as JAX's "pytree structure error" does.
 */
const throwPrefixMismatch = <P>(tree: unknown, prefixTree: unknown, o: SplitOptions<P>, root: string): void => {
  const leafForms = o.expected ?? "a single prefix"
  const fail = (path: string, argument: number | undefined, expected: string, found: string, value: string): never => {
    const where =
      path === root
        ? root === "args"
          ? "the top level"
          : "the output"
        : `${path}${argument === undefined ? "" : ` (argument ${argument})`}`
    throw new LiftTypeError({
      transform: o.transform,
      reason: `${o.what} is not a prefix of ${root === "args" ? "the arguments" : "the output"}: at ${where}, which is ${value}, expected ${expected}, found ${found}`,
      what: o.what,
      path,
      argument,
      expected,
      found
    })
  }
  const go = (t: unknown, p: unknown, path: string, argument: number | undefined): void => {
    if (o.isPrefixLeaf(p)) return
    if (path === root && root === "args" && Array.isArray(t) && Array.isArray(p) && p.length !== t.length) {
      return fail(
        path,
        undefined,
        `an array of ${t.length} entries, one per argument`,
        `an array of ${p.length}: ${showPrefix(p)}`,
        `${t.length} arguments`
      )
    }
    // Below the top level of the arguments, `argument` is already known.
    const at = (i: number) => (path === root && root === "args" ? i : argument)
    if (t === null || t === undefined) return
    if (Array.isArray(t)) {
      if (!Array.isArray(p))
        return fail(path, argument, `${leafForms}, or an array of ${t.length}`, showPrefix(p), showValue(t))
      // Not the arguments themselves: their count is checked above.
      if (p.length !== t.length)
        return fail(
          path,
          argument,
          `an array of ${t.length} entries`,
          `an array of ${p.length}: ${showPrefix(p)}`,
          showValue(t)
        )
      t.forEach((c, i) => go(c, p[i], `${path}[${i}]`, at(i)))
      return
    }
    if (isRecord(t) && !isGraphNode(t)) {
      const keys = Object.keys(t).sort()
      if (!isRecord(p))
        return fail(
          path,
          argument,
          `${leafForms}, or a record with keys ${keys.join(", ")}`,
          showPrefix(p),
          showValue(t)
        )
      const pk = Object.keys(p).sort()
      if (pk.join(",") !== keys.join(","))
        return fail(
          path,
          argument,
          `a record with keys ${keys.join(", ")}`,
          `a record with keys ${pk.join(", ")}: ${showPrefix(p)}`,
          showValue(t)
        )
      keys.forEach((k) => go(t[k], p[k], `${path}['${k}']`, argument))
      return
    }
    fail(
      path,
      argument,
      isGraphNode(t) ? `${leafForms} for the whole graph node (choose per sub-state with a StateAxes)` : leafForms,
      showPrefix(p),
      showValue(t)
    )
  }
  go(tree, prefixTree, root, undefined)
}

/**
 * Checks the form of an axes or shardings option when the transform is made, before any argument:
 * every leaf of the (nested) containers must be a prefix the transform takes. Throws a
 * `LiftTypeError` naming the first leaf that is not.
 */
export const checkPrefixForm = (
  transform: string,
  what: string,
  prefix: unknown,
  isLeaf: (u: unknown) => boolean,
  expected: string
): void => {
  const go = (u: unknown, path: string): void => {
    if (isLeaf(u)) return
    if (Array.isArray(u)) return u.forEach((c, i) => go(c, `${path}[${i}]`))
    if (isRecord(u)) return Object.keys(u).forEach((k) => go(u[k], `${path}['${k}']`))
    throw new LiftTypeError({
      transform,
      reason: `${what} must be ${expected}, or a (nested) container with those as leaves, but got ${what}=${showPrefix(prefix)} (at ${path}: ${showPrefix(u)})`,
      what,
      path,
      expected,
      found: showPrefix(u)
    })
  }
  go(prefix, what)
}

/** A resolver for prefixes that are a single value or a filter mapping (StateAxes, StateSharding). */
export const filterMappingResolver =
  <P>(
    transform: string,
    isMapping: (
      u: unknown
    ) => u is { lookup: (path: Path, leaf: unknown) => { index: number; value: P } | undefined; toString(): string },
    asPrefix: (u: unknown) => P
  ): Resolver<P> =>
  (nodePrefix, path, leaf) => {
    if (isMapping(nodePrefix)) {
      const hit = nodePrefix.lookup(path, leaf)
      if (hit === undefined) {
        const kind = isVariableState(leaf) || isVariable(leaf) ? leaf.kind : "Array"
        throw new LiftTypeError({
          transform,
          reason: `no filter of ${nodePrefix.toString()} matches the ${kind} at '${path.join("/")}'; add a filter for it (e.g. [..., 0] at the end)`
        })
      }
      return { group: hit.index, prefix: hit.value }
    }
    return { group: 0, prefix: asPrefix(nodePrefix) }
  }

export { kindOf }
