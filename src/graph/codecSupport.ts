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
export const DTypeSchema = Schema.Literals(["float32", "int32", "uint32", "bool", "key<fry>"])

/** A CodecError. */
export const fail = (reason: string, path?: Path): CodecError => new CodecError({ path, reason })

const MAX_RANK = 32
const MAX_ELEMENTS = 2 ** 31 - 1

/** Checks a JSON value deeply for keys that would reach prototypes; returns the bad key if any. */
export const hostileKeyIn = (u: unknown): string | undefined => {
  const stack: Array<unknown> = [u]
  while (stack.length > 0) {
    const x = stack.pop()
    if (typeof x !== "object" || x === null) continue
    if (Array.isArray(x)) {
      stack.push(...x)
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
    if (Array.isArray(x)) stack.push(...x)
    else {
      const proto: unknown = Object.getPrototypeOf(x)
      if (proto !== Object.prototype && proto !== null) return false
      stack.push(...Object.values(x))
    }
  }
  return true
}

export const checkPath = (path: ReadonlyArray<PathKey>): CodecError | undefined => {
  if (path.length === 0) return fail("a leaf has an empty path")
  const bad = path.find(isHostileKey)
  if (bad !== undefined) return fail(`refusing the path key '${bad}', which would reach JavaScript's prototype machinery`, path)
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
    if (prev !== undefined && prev !== k) return fail(`two different kinds are named '${k.name}'; kinds are saved by name, so give them distinct names`)
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
export const schemaError = (what: string) => (e: Schema.SchemaError): CodecError => fail(`${what}: ${e.message}`)
