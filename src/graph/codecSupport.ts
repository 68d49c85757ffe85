/**
 * Validation and error helpers shared by the checkpoint codecs (`codec.ts`, `graphDefCodec.ts`).
 * Internal.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { isArrayError } from "../backend/ArrayError.ts"
import { CodecError, isGraphError } from "./errors.ts"
import type { Path, PathKey } from "./path.ts"
import { isHostileKey } from "./path.ts"
import type { VariableClass } from "./Variable.ts"
import { builtinKinds } from "./Variable.ts"

/** A non-negative integer (indices, counts, dimensions). */
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
/** A path key: an attribute name or a list index. */
export const PathKeySchema = Schema.Union([Schema.String, NonNegativeInt])
/** An array dtype. */
export const DTypeSchema = Schema.Literals(["float32", "int32", "uint32", "bool", "complex64", "key<fry>"])

/** A CodecError. */
export const fail = (reason: string, path?: Path): CodecError => new CodecError({ path, reason })

const MAX_RANK = 32
const MAX_ELEMENTS = 2 ** 31 - 1

/**
 * How deeply lists and records may nest in a file or in values being saved. Real metadata nests a
 * few levels; past this, `JSON.parse`, schema decoding, `JSON.stringify` and displays recurse
 * once per level, so a hostile file could overflow the stack after loading.
 */
export const MAX_NESTING = 512

/**
 * Scans JSON text (without parsing it) for lists and records nested more than `MAX_NESTING`
 * deep, so a hostile file is refused before any recursive parser sees it. The error's path is
 * where in the document the nesting starts (its first keys).
 */
export const checkJsonNesting = (text: string): CodecError | undefined => {
  const keys: Array<PathKey | undefined> = []
  const isObject: Array<boolean> = []
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      const start = i++
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 /* \ */ ? 2 : 1
      i++
      if (isObject[isObject.length - 1] === true) {
        let j = i
        while (
          j < n &&
          (text.charCodeAt(j) === 32 ||
            text.charCodeAt(j) === 10 ||
            text.charCodeAt(j) === 13 ||
            text.charCodeAt(j) === 9)
        )
          j++
        if (text.charCodeAt(j) === 58 /* : */) {
          let key: PathKey = text.slice(start + 1, i - 1)
          try {
            key = JSON.parse(text.slice(start, i)) as string
          } catch {
            // malformed: the parser reports it
          }
          keys[keys.length - 1] = key
        }
      }
      continue
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (isObject.length >= MAX_NESTING) {
        const shown = keys.slice(0, 8).filter((k): k is PathKey => k !== undefined)
        return fail(
          `the document nests lists and records more than ${MAX_NESTING} levels deep (from here on); refusing it`,
          shown
        )
      }
      isObject.push(c === 123)
      keys.push(c === 91 ? 0 : undefined)
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      isObject.pop()
      keys.pop()
    } else if (c === 44 /* , */ && isObject[isObject.length - 1] === false) {
      keys[keys.length - 1] = (keys[keys.length - 1] as number) + 1
    }
    i++
  }
  return undefined
}

/**
 * Whether a value nests lists and records more than `MAX_NESTING` deep (checked iteratively), once
 * put `start` levels down in a document (the levels of the document around it).
 */
export const nestsTooDeep = (u: unknown, start = 0): boolean => {
  const stack: Array<readonly [unknown, number]> = [[u, start]]
  const seen = new Set<object>()
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!
    if (typeof x !== "object" || x === null || seen.has(x)) continue
    if (depth >= MAX_NESTING) return true
    seen.add(x)
    for (const v of Array.isArray(x) ? x : Object.values(x)) stack.push([v, depth + 1])
  }
  return false
}

/** Checks a JSON value deeply for keys that would reach prototypes; returns the bad key if any. */
export const hostileKeyIn = (u: unknown): string | undefined => {
  const stack: Array<unknown> = [u]
  while (stack.length > 0) {
    const x = stack.pop()
    if (typeof x !== "object" || x === null) continue
    if (Array.isArray(x)) {
      for (const y of x) stack.push(y)
      continue
    }
    for (const k of Object.keys(x)) {
      if (isHostileKey(k)) return k
      stack.push((x as Record<string, unknown>)[k])
    }
  }
  return undefined
}

/** Whether a value survives JSON unchanged (for metadata and static values being saved). */
export const isJsonSafe = (u: unknown): boolean => {
  const stack: Array<unknown> = [u]
  const seen = new Set<object>()
  while (stack.length > 0) {
    const x = stack.pop()
    if (x === null || typeof x === "string" || typeof x === "boolean") continue
    if (typeof x === "number") {
      if (!Number.isFinite(x)) return false
      continue
    }
    if (typeof x !== "object" || seen.has(x)) return false
    seen.add(x)
    if (Array.isArray(x)) for (const y of x) stack.push(y)
    else {
      const proto: unknown = Object.getPrototypeOf(x)
      if (proto !== Object.prototype && proto !== null) return false
      for (const y of Object.values(x)) stack.push(y)
    }
  }
  return true
}

export const checkPath = (path: ReadonlyArray<PathKey>): CodecError | undefined => {
  if (path.length === 0) return fail("a leaf has an empty path")
  const bad = path.find(isHostileKey)
  if (bad !== undefined)
    return fail(`refusing the path key '${bad}', which would reach JavaScript's prototype machinery`, path)
  return undefined
}

export const elementCount = (shape: ReadonlyArray<number>, path: Path): number | CodecError => {
  if (shape.length > MAX_RANK) return fail(`a shape of rank ${shape.length} (at most ${MAX_RANK})`, path)
  let n = 1
  for (const d of shape) {
    n *= d
    if (n > MAX_ELEMENTS) return fail(`a shape of more than ${MAX_ELEMENTS} elements`, path)
  }
  return n
}

/** Kind classes by name: the built-in kinds, then the caller's (which must not shadow them). */
export const kindTable = (extra: ReadonlyArray<VariableClass>): Map<string, VariableClass> | CodecError => {
  const table = new Map<string, VariableClass>()
  for (const k of builtinKinds) table.set(k.name, k)
  for (const k of extra) {
    const prev = table.get(k.name)
    if (prev !== undefined && prev !== k)
      return fail(`two different kinds are named '${k.name}'; kinds are saved by name, so give them distinct names`)
    table.set(k.name, k)
  }
  return table
}

/**
 * Runs a validation step that returns a CodecError or throws a graph or array error, as an Effect
 * failing with CodecError. Anything else thrown is a defect (a bug), not a codec error.
 */
export const attempt = <A>(f: () => A | CodecError): Effect.Effect<A, CodecError> =>
  Effect.suspend(() => {
    try {
      const r = f()
      return r instanceof CodecError ? Effect.fail(r) : Effect.succeed(r)
    } catch (e) {
      if (e instanceof CodecError) return Effect.fail(e)
      if (isGraphError(e) || isArrayError(e)) return Effect.fail(fail(e.message))
      return Effect.die(e)
    }
  })

/** Maps a Schema error to a CodecError. */
export const schemaError =
  (what: string) =>
  (e: Schema.SchemaError): CodecError =>
    fail(`${what}: ${e.message}`)
