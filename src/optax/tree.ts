/**
 * Pytree arithmetic for the gradient transformations: mapping a function over the Array leaves of
 * several trees of the same structure (parameters, gradients, moments), with a typed error naming
 * the first leaf where two trees differ. Trees are the core transforms' pytrees: nested lists,
 * plain records, Arrays, and registered nodes such as `nnx.State` (gradients from `nnx.grad`).
 *
 * @internal
 */
import type { Array as JArray } from "../backend/Array.ts"
import { isArray } from "../backend/Array.ts"
import type { NumericDType } from "../backend/DType.ts"
import { asArray } from "../backend/numpy/creation.ts"
import { formatPath } from "../graph/path.ts"
import type { Path } from "../graph/path.ts"
import { flatten, unflatten } from "../transforms/core/pytree.ts"
import type { TreeDef } from "../transforms/core/pytree.ts"
import { StructureError } from "../transforms/core/TransformError.ts"

/**
 * The path of every leaf, as a user reads it: `.w`/`[0]` for records and lists, a State's own
 * paths (`layers[0].kernel`), nothing for a Variable (its value is the leaf).
 */
export const leafPathsOf = (def: TreeDef): Array<string> => {
  const out: Array<string> = []
  const go = (d: TreeDef, path: string): void => {
    switch (d.kind) {
      case "leaf":
        out.push(path === "" ? "(root)" : path)
        return
      case "none":
        return
      case "list":
        d.children.forEach((c, i) => go(c, `${path}[${i}]`))
        return
      case "record":
        d.children.forEach((c, i) => go(c, path === "" ? d.keys[i]! : `${path}.${d.keys[i]!}`))
        return
      case "custom":
        if (d.node.name === "State") {
          const paths = d.aux as ReadonlyArray<Path>
          d.children.forEach((c, i) => go(c, path === "" ? formatPath(paths[i]!) : `${path}.${formatPath(paths[i]!)}`))
        } else if (d.node.name === "Variable" || d.node.name === "VariableState") {
          d.children.forEach((c) => go(c, path))
        } else {
          d.children.forEach((c, i) => go(c, `${path}.${d.node.name}[${i}]`))
        }
    }
  }
  go(def, "")
  return out
}

/** A flattened tree: its leaves (Arrays) and its structure. */
export interface Flat {
  readonly leaves: ReadonlyArray<JArray>
  readonly def: TreeDef
}

/** Flattens a tree, turning JavaScript numbers among the leaves into (weak) Arrays. */
export const flat = (tree: unknown): Flat => {
  const [leaves, def] = flatten(tree)
  return { leaves: leaves.map((l) => (isArray(l) ? l : asArray(l as number))), def }
}

/**
 * Checks that `other` has the leaves of `first` (by path) with the same shapes; the error names
 * the first leaf that differs. Structures compare by leaf paths, so a State of gradients matches
 * a State of parameters whatever their Variables' metadata. The names say what each tree is
 * ("the updates", "the state").
 */
export const checkSameStructure = (
  op: string,
  first: Flat,
  other: Flat,
  firstName: string,
  otherName: string
): void => {
  if (first.leaves.length === other.leaves.length && sameDef(first.def, other.def)) {
    checkShapes(op, first, other, firstName, otherName)
    return
  }
  const a = leafPathsOf(first.def)
  const b = leafPathsOf(other.def)
  const setB = new Set(b)
  const missing = a.find((p) => !setB.has(p))
  if (missing !== undefined)
    throw new StructureError({ transform: op, reason: `no leaf at ${missing} in ${otherName} (${firstName} have one)` })
  const setA = new Set(a)
  const extra = b.find((p) => !setA.has(p))
  if (extra !== undefined)
    throw new StructureError({
      transform: op,
      reason: `a leaf at ${extra} in ${otherName} with no counterpart in ${firstName}`
    })
  if (a.length === b.length && a.every((p, i) => p === b[i])) {
    checkShapes(op, first, other, firstName, otherName)
    return
  }
  throw new StructureError({
    transform: op,
    reason: `the leaves of ${otherName} (${b.join(", ")}) are not those of ${firstName} (${a.join(", ")})`
  })
}

const checkShapes = (op: string, first: Flat, other: Flat, firstName: string, otherName: string): void => {
  for (let i = 0; i < first.leaves.length; i++) {
    const x = first.leaves[i]!
    const y = other.leaves[i]!
    if (x.shape.length !== y.shape.length || x.shape.some((n, k) => n !== y.shape[k])) {
      const path = leafPathsOf(first.def)[i]!
      throw new StructureError({
        transform: op,
        reason: `shape [${y.shape.join(", ")}] at ${path} in ${otherName}, where ${firstName} have [${x.shape.join(", ")}]`
      })
    }
  }
}

/** Structural equality of tree definitions up to Variable metadata (compared by leaf paths). */
const sameDef = (a: TreeDef, b: TreeDef): boolean => {
  if (a.kind !== b.kind) return false
  switch (a.kind) {
    case "leaf":
      return true
    case "none":
      return a.value === (b as typeof a).value
    case "list":
      return (
        a.children.length === (b as typeof a).children.length &&
        a.children.every((c, i) => sameDef(c, (b as typeof a).children[i]!))
      )
    case "record": {
      const r = b as typeof a
      return (
        a.keys.length === r.keys.length &&
        a.keys.every((k, i) => k === r.keys[i]) &&
        a.children.every((c, i) => sameDef(c, r.children[i]!))
      )
    }
    case "custom": {
      const c = b as typeof a
      if (a.node !== c.node || a.children.length !== c.children.length) return false
      if (a.node.name === "State" && a.node.key(a.aux) !== c.node.key(c.aux)) return false
      if (
        a.node.name !== "State" &&
        a.node.name !== "Variable" &&
        a.node.name !== "VariableState" &&
        a.node.key(a.aux) !== c.node.key(c.aux)
      )
        return false
      return a.children.every((x, i) => sameDef(x, c.children[i]!))
    }
  }
}

/**
 * Maps `f` over the leaves of `tree` and, leaf by leaf, of `others` (which must have its
 * structure); the result has `tree`'s structure. `names` say what the trees are, for errors.
 */
export const treeMap = <T>(
  op: string,
  names: ReadonlyArray<string>,
  f: (...leaves: ReadonlyArray<JArray>) => JArray,
  tree: T,
  ...others: ReadonlyArray<unknown>
): T => {
  const first = flat(tree)
  const rest = others.map((o, k) => {
    const fo = flat(o)
    checkSameStructure(op, first, fo, names[0] ?? "the first tree", names[k + 1] ?? `tree ${k + 2}`)
    return fo
  })
  return unflatten(
    first.def,
    first.leaves.map((l, i) => f(l, ...rest.map((r) => r.leaves[i]!)))
  ) as T
}

/** Like {@link treeMap}, with checks already done by the caller (trees the transformation made itself). */
export const treeMapUnchecked = <T>(
  f: (...leaves: ReadonlyArray<JArray>) => JArray,
  tree: T,
  ...others: ReadonlyArray<unknown>
): T => {
  const first = flat(tree)
  const rest = others.map(flat)
  return unflatten(
    first.def,
    first.leaves.map((l, i) => f(l, ...rest.map((r) => r.leaves[i]!)))
  ) as T
}

/** The leaves of a tree (numbers as Arrays). */
export const leavesOf = (tree: unknown): ReadonlyArray<JArray> => flat(tree).leaves

/** A leaf's dtype as a conversion target (parameters and updates are never PRNG keys). */
export const numericDType = (x: JArray): NumericDType => x.dtype as NumericDType
