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
  | {
      readonly kind: "custom"
      readonly node: PytreeNodeType
      readonly aux: unknown
      readonly children: ReadonlyArray<TreeDef>
    }

/**
 * How a class is a pytree node (like `jax.tree_util.register_pytree_node`): its children, static
 * auxiliary data, and how to rebuild it. `key` turns the auxiliary data into a cache key.
 */
export interface PytreeNodeType {
  readonly name: string
  readonly flatten: (node: object) => readonly [ReadonlyArray<unknown>, unknown]
  readonly unflatten: (aux: unknown, children: ReadonlyArray<unknown>) => unknown
  readonly key: (aux: unknown) => string
}

const registry = new Map<object, PytreeNodeType>()

/**
 * Registers instances of a class, and of its subclasses, as pytree nodes, so that transforms see
 * through them (e.g. a `State` returned from `vmap(grad(...))`, or a user's kind of Variable).
 */
export const registerPytreeNode = (cls: { readonly prototype: object }, type: PytreeNodeType): void => {
  registry.set(cls.prototype, type)
}

const nodeTypeOf = (u: unknown): PytreeNodeType | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  for (
    let proto: object | null = Object.getPrototypeOf(u);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const type = registry.get(proto)
    if (type !== undefined) return type
  }
  return undefined
}

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
    const node = nodeTypeOf(t)
    if (node !== undefined) {
      const [children, aux] = node.flatten(t as object)
      return { kind: "custom", node, aux, children: children.map(go) }
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
      case "custom":
        return d.node.unflatten(d.aux, d.children.map(go))
    }
  }
  return go(def)
}

/** Number of leaves of a structure. */
export const numLeaves = (def: TreeDef): number =>
  def.kind === "leaf" ? 1 : def.kind === "none" ? 0 : def.children.reduce((n: number, c) => n + numLeaves(c), 0)

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
    case "custom":
      return `${def.node.name}<${def.node.key(def.aux)}>(${def.children.map(treedefKey).join(",")})`
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
        return
      case "custom":
        d.children.forEach((c, i) => go(c, `${path}.${d.node.name}[${i}]`))
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
      throw new StructureError({
        transform,
        reason: `${what} is not a prefix of the ${root.startsWith("out") ? "output" : "arguments"} at ${path === "" ? "the top level" : path}: ${reason}`
      })
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
        if (Object.keys(p).sort().join(",") !== d.keys.join(","))
          return fail(`expected keys ${d.keys.join(", ")}, got ${Object.keys(p).sort().join(", ")}`)
        d.children.forEach((c, i) => go(p[d.keys[i]!], c, `${path}['${d.keys[i]}']`))
        return
      case "custom": {
        const node = nodeTypeOf(p)
        if (node !== d.node) return fail(`expected a single value or a ${d.node.name}, got ${describe(p)}`)
        const [children] = node.flatten(p as object)
        d.children.forEach((c, i) => go(children[i], c, `${path}.${d.node.name}[${i}]`))
      }
    }
  }
  go(prefix, def, root)
  return out
}

const describe = (u: unknown): string =>
  u === null
    ? "null"
    : u === undefined
      ? "undefined"
      : Array.isArray(u)
        ? `an array of ${u.length}`
        : typeof u === "object"
          ? "an object"
          : `${typeof u} ${String(u)}`

/** Maps a function over the leaves of a tree. */
export const treeMap = (f: (leaf: unknown) => unknown, tree: unknown): unknown => {
  const [leaves, def] = flatten(tree)
  return unflatten(def, leaves.map(f))
}
