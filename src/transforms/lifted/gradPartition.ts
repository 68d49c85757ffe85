/**
 * The pure trees of the differentiation transforms (`nnx.grad`, `nnx.customVjp`, `nnx.remat`,
 * `nnx.evalShape`) as flat lists of Arrays: which Arrays are differentiated, how to put new ones
 * in their place, and how a gradient of a split graph node becomes a `State` (keyed by path, with
 * the Variables' kinds and metadata, as Flax returns `nnx.State`).
 *
 * A graph node's group is differentiated when its prefix is `true` (the resolvers of these
 * transforms put differentiated leaves in group 0 with prefix `true`, the others in group 1).
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import type { Path } from "../../graph/path.ts"
import { State } from "../../graph/State.ts"
import type { StateLeaf } from "../../graph/State.ts"
import type { Variable } from "../../graph/Variable.ts"
import { isVariable, isVariableState, makeVariable, VariableState } from "../../graph/Variable.ts"
import { flatten as treeFlatten, unflatten as treeUnflatten } from "../core/pytree.ts"
import type { TreeDef } from "../core/pytree.ts"
import { StructureError } from "../core/TransformError.ts"
import { isPureNode } from "../extract.ts"
import type { NodeStates } from "../extract.ts"
import type { PureNode, Resolved, Resolver } from "../extract.ts"

/** A leaf's group in these transforms: `true` when it is differentiated. */
export type Diff = boolean

export const DIFF: Resolved<Diff> = { group: 0, prefix: true }
export const NONDIFF: Resolved<Diff> = { group: 1, prefix: false }

/** Every Array of a graph node in one group (outputs, residuals, remat, evalShape). */
export const resolveAll: Resolver<Diff> = () => DIFF

export const showDiff = (d: Diff): string => (d ? "differentiated" : "not differentiated")

/** Whether an Array carries gradients (as the core transforms decide). */
/** Differentiable: real (float32) or complex (complex64), as JAX's inexact dtypes. */
export const isFloat = (a: JArray): boolean => a.dtype === "float32" || a.dtype === "complex64"

const diffGroup = (ns: NodeStates<unknown>, g: number): boolean => ns.groupPrefixes[g] === true

/** A pure tree as its leaves (split graph nodes kept whole) and its Arrays, differentiated or not. */
export interface Partition {
  readonly leaves: ReadonlyArray<unknown>
  readonly def: TreeDef
  /** Per leaf: whether it is a differentiated plain Array. */
  readonly arrayDiff: ReadonlyArray<boolean>
  /** The differentiated Arrays, in leaf order (a graph node's differentiated group in path order). */
  readonly diff: ReadonlyArray<JArray>
  /** The other Arrays, in leaf order. */
  readonly rest: ReadonlyArray<JArray>
  /** The pure tree with these Arrays in place of `diff` and `rest`. */
  readonly put: (diff: ReadonlyArray<unknown>, rest: ReadonlyArray<unknown>) => unknown
}

/**
 * Partitions the Arrays of a pure tree: a graph node's groups by their prefix, a plain Array leaf by
 * `arrayIsDiff`.
 */
export const partition = (pure: unknown, arrayIsDiff: (a: JArray) => boolean): Partition => {
  const [leaves, def] = treeFlatten(pure, isPureNode)
  const diff: Array<JArray> = []
  const rest: Array<JArray> = []
  const arrayDiff = leaves.map((l) => isArray(l) && arrayIsDiff(l))
  leaves.forEach((l, k) => {
    if (isPureNode(l)) {
      const ns = l.n
      l.v.forEach((g, gi) => (diffGroup(ns, gi) ? diff : rest).push(...g))
    } else if (isArray(l)) {
      ;(arrayDiff[k] === true ? diff : rest).push(l)
    }
  })
  const put = (d: ReadonlyArray<unknown>, r: ReadonlyArray<unknown>): unknown => {
    let i = 0
    let j = 0
    return treeUnflatten(
      def,
      leaves.map((l, k) => {
        if (isPureNode(l)) {
          const ns = l.n
          return { n: ns, v: l.v.map((g, gi) => g.map(() => (diffGroup(ns, gi) ? d[i++] : r[j++]))) }
        }
        if (isArray(l)) return arrayDiff[k] === true ? d[i++] : r[j++]
        return l
      })
    )
  }
  return { leaves, def, arrayDiff, diff, rest, put }
}

/**
 * The gradient of one split graph node from its differentiated group's gradients, as Flax 0.12: a
 * `State` of new Variables of the differentiated leaves' kinds and metadata holding the gradients
 * (keyed by path), or one such Variable when the node is a Variable itself.
 */
export const stateOf = (node: PureNode<unknown>, grads: ReadonlyArray<unknown>): State | Variable<unknown> => {
  const ns = node.n
  const entries: Array<readonly [Path, StateLeaf<never, JArray>]> = []
  let c = 0
  ns.groupOf.forEach((g, k) => {
    if (g === -1 || !diffGroup(ns, g)) return
    const t = ns.templates[k]
    const value = grads[c++] as JArray
    entries.push([
      ns.paths[k]!,
      (t instanceof VariableState ? makeVariable(t.type, value, t.metadata) : value) as StateLeaf<never, JArray>
    ])
  })
  const root = entries[0]
  if (entries.length === 1 && root !== undefined && root[0].length === 0 && isVariable(root[1])) return root[1]
  return State.fromFlat(entries)
}

/** The gradient tree of a partition: States for graph nodes, Arrays for Arrays, other leaves as they are. */
export const gradientTree = (
  part: Partition,
  grads: ReadonlyArray<unknown>,
  restGrad: (a: JArray) => unknown
): unknown => {
  let i = 0
  return treeUnflatten(
    part.def,
    part.leaves.map((l, k) => {
      if (isPureNode(l)) {
        const n = l.v.reduce((acc, g, gi) => acc + (diffGroup(l.n, gi) ? g.length : 0), 0)
        const out = stateOf(l, grads.slice(i, i + n))
        i += n
        return out
      }
      if (isArray(l)) return part.arrayDiff[k] === true ? grads[i++] : restGrad(l)
      return l
    })
  )
}

/** The differentiated leaves of a split graph node in a `State` (or Variable) tangent, in group order. */
const fromState = (
  transform: string,
  node: PureNode<unknown>,
  tangent: unknown,
  where: string,
  zeros: (a: JArray) => JArray
): Array<JArray> => {
  const ns = node.n
  const byPath = new Map<string, unknown>()
  if (tangent instanceof State) for (const [p, leaf] of tangent.toFlat()) byPath.set(JSON.stringify(p), leaf)
  else if (isVariable(tangent) || isVariableState(tangent)) byPath.set(JSON.stringify([]), tangent)
  else if (tangent !== null && tangent !== undefined) {
    throw new StructureError({
      transform,
      reason: `the cotangent of the graph node at ${where} must be a State (or null for zeros), got ${describe(tangent)}`
    })
  }
  const out: Array<JArray> = []
  const cursors = ns.groupPrefixes.map(() => 0)
  const used = new Set<string>()
  ns.groupOf.forEach((g, k) => {
    if (g === -1) return
    const primal = node.v[g]![cursors[g]!++]!
    if (!diffGroup(ns, g)) return
    const key = JSON.stringify(ns.paths[k])
    const leaf = byPath.get(key)
    used.add(key)
    const value = isVariable(leaf) || isVariableState(leaf) ? leaf.value : leaf
    if (value === undefined || value === null) {
      out.push(zeros(primal))
      return
    }
    if (!isArray(value))
      throw new StructureError({
        transform,
        reason: `the cotangent at ${where}/${ns.paths[k]!.join("/")} is not an Array`
      })
    if (value.shape.join(",") !== primal.shape.join(",")) {
      throw new StructureError({
        transform,
        reason: `the cotangent at ${where}/${ns.paths[k]!.join("/")} has shape (${value.shape.join(", ")}) but the value has shape (${primal.shape.join(", ")})`
      })
    }
    out.push(value)
  })
  for (const key of byPath.keys()) {
    if (!used.has(key)) {
      throw new StructureError({
        transform,
        reason: `the cotangent State at ${where} has a leaf at '${(JSON.parse(key) as Array<string>).join("/")}' that is not differentiated state of the argument; return a State of exactly its differentiated Variables`
      })
    }
  }
  return out
}

const describe = (u: unknown): string =>
  isArray(u)
    ? `an Array of shape (${u.shape.join(", ")})`
    : typeof u === "object" && u !== null
      ? (u.constructor?.name ?? "an object")
      : typeof u

const isTangentLeaf = (u: unknown): boolean =>
  u === null || u === undefined || u instanceof State || isVariable(u) || isVariableState(u) || isArray(u)

/**
 * The differentiated Arrays' cotangents of one partitioned argument from a tangent shaped like the
 * argument (States for graph nodes, Arrays for Arrays, `null` for zeros), in `part.diff` order.
 */
export const cotangentsOf = (
  transform: string,
  part: Partition,
  tangent: unknown,
  where: string,
  zeros: (a: JArray) => JArray
): Array<JArray> => {
  if (tangent === null || tangent === undefined) return part.diff.map(zeros)
  const [tLeaves] = treeFlatten(tangent, isTangentLeaf)
  if (tLeaves.length !== part.leaves.length) {
    throw new StructureError({
      transform,
      reason: `the cotangent of ${where} has ${tLeaves.length} leaves but the argument has ${part.leaves.length}; return a tangent shaped like the argument (a State for each graph node)`
    })
  }
  const out: Array<JArray> = []
  part.leaves.forEach((l, i) => {
    const t = tLeaves[i]
    if (isPureNode(l)) {
      out.push(...fromState(transform, l, t, where, zeros))
      return
    }
    if (isArray(l) && part.arrayDiff[i] === true) {
      if (t === null || t === undefined) out.push(zeros(l))
      else if (!isArray(t) || t.shape.join(",") !== l.shape.join(",")) {
        throw new StructureError({
          transform,
          reason: `the cotangent of ${where} must be an Array of shape (${l.shape.join(", ")}), got ${describe(t)}`
        })
      } else out.push(t)
    }
  })
  return out
}

/** Every Array of a pure tree, differentiated or not, and how to put others in their place. */
export interface Packed {
  readonly arrays: ReadonlyArray<JArray>
  readonly put: (arrays: ReadonlyArray<unknown>) => unknown
}

export const pack = (pure: unknown): Packed => {
  const part = partition(pure, () => true)
  const n = part.diff.length
  return { arrays: [...part.diff, ...part.rest], put: (xs) => part.put(xs.slice(0, n), xs.slice(n)) }
}
