/**
 * `nnx.reseed`: give the streams of a graph new seeds, in place, as Flax's `nnx.reseed`.
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import { zeros } from "../backend/numpy/creation.ts"
import * as random from "../backend/random/index.ts"
import { RngError } from "./errors.ts"
import { iterGraph } from "./graph.ts"
import type { Path } from "./path.ts"
import type { RngSeed } from "./Rngs.ts"
import { RngStream } from "./Rngs.ts"
import { checkMutable } from "./traceState.ts"

/**
 * How a new scalar key reseeds a stream whose key has a shape: `"scalarsOnly"` (the default) refuses
 * non-scalar keys, `"matchShape"` splits the new key to the stream's shape, and a function
 * `(path, scalarKey, shape) => key` decides.
 * @category models
 * @since 0.1.0
 */
export type ReseedPolicy =
  | "scalarsOnly"
  | "matchShape"
  | ((path: Path, scalarKey: JArray, shape: ReadonlyArray<number>) => JArray)

const formatPath = (path: Path): string => `[${path.map((k) => JSON.stringify(k)).join(", ")}]`

const scalarsOnly = (path: Path, key: JArray, shape: ReadonlyArray<number>): JArray => {
  if (shape.length !== 0) {
    throw new RngError({
      stream: undefined,
      reason: `Cannot reseed stream at path ${formatPath(path)} because it has a non-scalar key, found key with shape (${shape.join(", ")}${shape.length === 1 ? "," : ""}). If all your multi-dimensional keys have unique values on all dimensions, set policy: "matchShape", else provide a custom reseed policy.`
    })
  }
  return key
}

const matchShape = (_path: Path, key: JArray, shape: ReadonlyArray<number>): JArray =>
  shape.length === 0 ? key : random.split(key, shape)

/**
 * Gives every `RngStream` of `node` whose tag is a key of `seeds` a new key, and resets its count
 * to 0. As in Flax, the new key is not `random.key(seed)` but the next key of a fresh stream seeded
 * by it (`foldIn(key(seed), 0)`, then `1` for the second stream of the same tag in graph order).
 * Nothing changes when it fails (a refused policy or a write from another trace level).
 *
 * @example
 * ```ts
 * import { nnx } from "effect-nnx"
 *
 * const rngs = new nnx.Rngs({ params: 0, dropout: 1 })
 * rngs.dropout()
 * nnx.reseed(rngs, { dropout: 42 })
 * rngs.dropout.count.value.tolist() // 0
 * ```
 * @category graph
 * @since 0.1.0
 */
export const reseed = (
  node: unknown,
  seeds: Readonly<Record<string, RngSeed>>,
  options?: { readonly policy?: ReseedPolicy | undefined }
): void => {
  const policy = options?.policy ?? "scalarsOnly"
  const apply = policy === "scalarsOnly" ? scalarsOnly : policy === "matchShape" ? matchShape : policy
  const fresh = new Map<string, RngStream>()
  const writes: Array<readonly [RngStream, JArray]> = []
  for (const [path, value] of iterGraph(node)) {
    if (!(value instanceof RngStream)) continue
    const tag = value.key.tag
    if (tag === undefined || !Object.hasOwn(seeds, tag)) continue
    let source = fresh.get(tag)
    if (source === undefined) {
      source = new RngStream(seeds[tag]!, { tag })
      fresh.set(tag, source)
    }
    writes.push([value, apply(path, source(), value.key.value.shape)])
  }
  for (const [stream] of writes) {
    checkMutable(stream.key, "RngKey")
    checkMutable(stream.count, "RngCount")
  }
  for (const [stream, key] of writes) {
    stream.key.value = key
    stream.count.value = zeros(key.shape, { dtype: "uint32" })
  }
}
