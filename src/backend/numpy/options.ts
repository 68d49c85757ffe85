/**
 * The one check every public function that takes an options object runs on it. JavaScript passes a
 * misspelt key (`{ dtyp: "float32" }`) or a bare value where the object belongs
 * (`jnp.array(0, "float32")`) without complaint, and the option would silently not apply; this turns
 * both into an `ArgumentError` that names the function, the key and the keys it takes.
 */
import { ArgumentError } from "../ArrayError.ts"

const describe = (u: unknown): string =>
  u === null
    ? "null"
    : Array.isArray(u)
      ? "an array"
      : typeof u === "string"
        ? `the string ${JSON.stringify(u)}`
        : typeof u

/** Levenshtein distance, to suggest the key a misspelling meant. */
const distance = (a: string, b: string): number => {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1)
      )
    }
    prev = cur
  }
  return prev[b.length]!
}

const listKeys = (keys: ReadonlyArray<string>): string => (keys.length === 0 ? "none" : keys.join(", "))

/**
 * Throws an `ArgumentError` unless `options` is undefined or a plain object whose keys are all in
 * `keys`.
 */
export const checkOptionKeys = (op: string, options: unknown, keys: ReadonlyArray<string>): void => {
  if (options === undefined) return
  if (typeof options !== "object" || options === null || Array.isArray(options) || Symbol.iterator in options) {
    throw new ArgumentError({
      op,
      reason: `expected an options object such as { ${keys[0] ?? "..."}: ... }, got ${describe(options)} (the options it takes: ${listKeys(keys)})`
    })
  }
  // Arrays and other class instances are not options objects either.
  const proto = Object.getPrototypeOf(options) as unknown
  if (proto !== Object.prototype && proto !== null) {
    throw new ArgumentError({
      op,
      reason: `expected a plain options object, got an instance of ${(options as object).constructor?.name ?? "a class"} (the options it takes: ${listKeys(keys)})`
    })
  }
  for (const key of Object.keys(options)) {
    if (keys.includes(key)) continue
    const best = keys.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0]
    const hint =
      best !== undefined && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best[0]}"?` : ""
    throw new ArgumentError({ op, reason: `unknown option "${key}"${hint} (the options it takes: ${listKeys(keys)})` })
  }
}
