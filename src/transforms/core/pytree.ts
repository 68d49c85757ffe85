/**
 * Pytrees: nested JavaScript arrays, plain records, `null`/`undefined` and leaves (Arrays, numbers,
 * booleans, anything else). Transforms flatten their arguments into leaves, apply prefixes such as
 * `inAxes` per leaf, and rebuild outputs. Record keys are visited in sorted order, as JAX sorts
 * dict keys, so equal structures flatten alike.
 *
 * @since 0.1.0
 */
import { StructureError } from "./TransformError.ts"

/** The structure of a pytree without its leaves. */
export type TreeDef =
  | { readonly kind: "leaf" }
  | { readonly kind: "none"; readonly value: null | undefined }
  | { readonly kind: "list"; readonly children: ReadonlyArray<TreeDef> }
  | { readonly kind: "record"; readonly keys: ReadonlyArray<string>; readonly children: ReadonlyArray<TreeDef> }

const LEAF: TreeDef = { kind: "leaf" }

/** Plain records (object literals) are pytree nodes; class instances are leaves. */
export const isRecord = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** Flattens a pytree into its leaves (depth first) and structure. */
export const flatten = (tree: unknown, isLeaf?: (u: unknown) => boolean): [Array<unknown>, TreeDef] => {
  const leaves: Array<unknown> = []
  const go = (t: unknown): TreeDef => {
    if (isLeaf?.(t) === true) {
      leaves.push(t)
      return LEAF
    }
    if (t === null || t === undefined) return { kind: "none", value: t }
    if (Array.isArray(t)) return { kind: "list", children: t.map(go) }
    if (isRecord(t)) {
      const keys = Object.keys(t).sort()
      return { kind: "record", keys, children: keys.map((k) => go(t[k])) }
    }
    leaves.push(t)
    return LEAF
  }
  const def = go(tree)
  return [leaves, def]
}

/** Rebuilds a pytree from its structure and leaves. */
export const unflatten = (def: TreeDef, leaves: ReadonlyArray<unknown>): unknown => {
  let i = 0
  const go = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "leaf":
        return leaves[i++]
      case "none":
        return d.value
      case "list":
        return d.children.map(go)
      case "record": {
        const out: Record<string, unknown> = {}
        d.keys.forEach((k, j) => (out[k] = go(d.children[j]!)))
        return out
      }
    }
  }
  return go(def)
}

/** Number of leaves of a structure. */
export const numLeaves = (def: TreeDef): number =>
  def.kind === "leaf" ? 1 : def.kind === "none" ? 0 : def.children.reduce((n, c) => n + numLeaves(c), 0)

/** A string that is equal for equal structures (for caches). */
export const treedefKey = (def: TreeDef): string => {
  switch (def.kind) {
    case "leaf":
      return "*"
    case "none":
      return def.value === null ? "N" : "U"
    case "list":
      return `[${def.children.map(treedefKey).join(",")}]`
    case "record":
      return `{${def.keys.map((k, i) => `${JSON.stringify(k)}:${treedefKey(def.children[i]!)}`).join(",")}}`
  }
}

/** The path of every leaf, JAX style: `[0]['w'][1]`. */
export const leafPaths = (def: TreeDef, root = ""): Array<string> => {
  const out: Array<string> = []
  const go = (d: TreeDef, path: string): void => {
    switch (d.kind) {
      case "leaf":
        out.push(path)
        return
      case "none":
        return
      case "list":
        d.children.forEach((c, i) => go(c, `${path}[${i}]`))
        return
      case "record":
        d.children.forEach((c, i) => go(c, `${path}['${d.keys[i]}']`))
    }
  }
  go(def, root)
  return out
}

/**
 * Expands a prefix tree (like `inAxes`) to one value per leaf of `tree`: where the prefix has a leaf
 * value (`isPrefixLeaf`), it applies to the whole subtree below.
 */
export const broadcastPrefix = <A>(
  transform: string,
  what: string,
  prefix: unknown,
  def: TreeDef,
  isPrefixLeaf: (u: unknown) => u is A,
  root = ""
): Array<A> => {
  const out: Array<A> = []
  const go = (p: unknown, d: TreeDef, path: string): void => {
    if (isPrefixLeaf(p)) {
      for (let i = 0; i < numLeaves(d); i++) out.push(p)
      return
    }
    const fail = (reason: string): never => {
      throw new StructureError({ transform, reason: `${what} is not a prefix of the arguments at ${path === "" ? "the top level" : path}: ${reason}` })
    }
    switch (d.kind) {
      case "leaf":
        return fail(`expected a single value for a leaf, got ${describe(p)}`)
      case "none":
        return
      case "list":
        if (!Array.isArray(p)) return fail(`expected an array of ${d.children.length}, got ${describe(p)}`)
        if (p.length !== d.children.length) return fail(`expected ${d.children.length} entries, got ${p.length}`)
        d.children.forEach((c, i) => go(p[i], c, `${path}[${i}]`))
        return
      case "record":
        if (!isRecord(p)) return fail(`expected a record with keys ${d.keys.join(", ")}, got ${describe(p)}`)
        if (Object.keys(p).sort().join(",") !== d.keys.join(",")) return fail(`expected keys ${d.keys.join(", ")}, got ${Object.keys(p).sort().join(", ")}`)
        d.children.forEach((c, i) => go(p[d.keys[i]!], c, `${path}['${d.keys[i]}']`))
    }
  }
  go(prefix, def, root)
  return out
}

const describe = (u: unknown): string =>
  u === null ? "null" : u === undefined ? "undefined" : Array.isArray(u) ? `an array of ${u.length}` : typeof u === "object" ? "an object" : `${typeof u} ${String(u)}`

/** Maps a function over the leaves of a tree. */
export const treeMap = (f: (leaf: unknown) => unknown, tree: unknown): unknown => {
  const [leaves, def] = flatten(tree)
  return unflatten(def, leaves.map(f))
}
