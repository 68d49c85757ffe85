/**
 * Paths into an object graph: the attribute names (strings) and list indices (numbers) from a root
 * to a value, as Flax's `PathParts`. Internal helpers to compare, print, encode and check them.
 *
 * @since 0.1.0
 */

/**
 * One step of a path: an attribute or record key, or a list index.
 * @category models
 * @since 0.1.0
 */
export type PathKey = string | number

/**
 * The keys from a root to a value.
 * @category models
 * @since 0.1.0
 */
export type Path = ReadonlyArray<PathKey>

/**
 * Orders keys as Flax does: numbers before strings, numbers by value, strings by code unit. Sorting
 * by it gives the stable attribute order used by traversal, State and display.
 */
export const compareKeys = (a: PathKey, b: PathKey): number => {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1
  if (typeof b === "number") return 1
  return a < b ? -1 : a > b ? 1 : 0
}

/** Lexicographic order of paths by {@link compareKeys}; a prefix comes first. */
export const comparePaths = (a: Path, b: Path): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const c = compareKeys(a[i]!, b[i]!)
    if (c !== 0) return c
  }
  return a.length - b.length
}

/** A path as `a.b[0].c`, for error messages. */
export const formatPath = (path: Path): string => {
  if (path.length === 0) return "<root>"
  let out = ""
  for (const k of path) {
    if (typeof k === "number") out += `[${k}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(k)) out += out === "" ? k : `.${k}`
    else out += `[${JSON.stringify(k)}]`
  }
  return out
}

/** A string that identifies a path exactly (numbers and strings stay distinct), for lookups. */
export const encodePath = (path: Path): string => JSON.stringify(path)

/**
 * Keys that must never be assigned on a JavaScript object from data: they reach the prototype
 * machinery. Loading and `update` refuse them, so a hostile checkpoint cannot pollute prototypes.
 */
export const isHostileKey = (key: PathKey): boolean =>
  key === "__proto__" || key === "constructor" || key === "prototype"

/** Whether a value may be a path key: a string, or a non-negative safe integer (a list index). */
export const isPathKey = (u: unknown): u is PathKey =>
  typeof u === "string" || (typeof u === "number" && Number.isSafeInteger(u) && u >= 0)

/**
 * A path built by appending keys, sharing its prefix with its parent, so a deep traversal does not
 * copy a growing array at every step. `toArray` materializes it when a leaf needs its path.
 */
export interface PathCons {
  readonly parent: PathCons | undefined
  readonly key: PathKey
  readonly depth: number
}

/** Appends a key to a shared path. */
export const consPath = (parent: PathCons | undefined, key: PathKey): PathCons => ({
  parent,
  key,
  depth: parent === undefined ? 1 : parent.depth + 1
})

/** Materializes a shared path as an array (root first). */
export const consToArray = (p: PathCons | undefined): Array<PathKey> => {
  if (p === undefined) return []
  const out = new Array<PathKey>(p.depth)
  for (let q: PathCons | undefined = p; q !== undefined; q = q.parent) out[q.depth - 1] = q.key
  return out
}

/**
 * The path of a value from a traversal's stack of frames: each frame's key in its parent (the
 * root's is `undefined`), then `last`. Traversals keep keys on their frames and build paths only
 * for leaves and errors, rather than allocating a path for every node.
 */
export const pathOf = (
  frames: ReadonlyArray<{ readonly key: PathKey | undefined }>,
  last: PathKey | undefined
): Array<PathKey> => {
  const out: Array<PathKey> = []
  for (const f of frames) if (f.key !== undefined) out.push(f.key)
  if (last !== undefined) out.push(last)
  return out
}
