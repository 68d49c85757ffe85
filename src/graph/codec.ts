/**
 * Checkpoint codecs: saving and loading States (and GraphDefs) as JSON or as a compact binary,
 * described by `effect/Schema` schemas and validated on load.
 *
 * - `stateToJson` / `stateFromJson`: a JSON document ({@link StateJson}); array data is base64 of
 *   little-endian bytes, so floats round-trip exactly (NaN and infinities included).
 * - `saveState` / `loadState`: a binary container (see `bytes.ts`): a small JSON header
 *   ({@link StateHeader}), then the arrays' raw little-endian bytes, 8-byte aligned, then a CRC-32.
 * - `restore(model, checkpoint)`: loads a checkpoint (either form) into a live graph of the same
 *   structure, checking paths, kinds, dtypes and shapes against it first.
 * - `graphDefToJson` / `graphDefFromJson`: a GraphDef, its classes named and resolved against the
 *   classes the caller supplies, static values as JSON.
 *
 * Loading never trusts the file: a truncated, corrupted or hostile file (bad checksum, wrong
 * lengths, shapes that do not match the data, unknown dtypes or kinds, keys such as `__proto__`,
 * leaves whose byte ranges overlap, lists and records nested more than 512 levels deep) fails
 * with `CodecError` naming what and where, and a failed `restore` leaves the model unchanged.
 * Values nested that deep, and metadata with such keys, cannot be saved either. Every function
 * returns an Effect.
 *
 * Kinds are saved by class name: the built-in kinds are always known; pass user kinds to the
 * loaders (`{ kinds: [Count] }`), or use `restore`, which learns them from the model.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { isArray } from "../backend/Array.ts"
import type { Array as JArray } from "../backend/Array.ts"
import type { DType } from "../backend/DType.ts"
import { itemSize } from "../backend/DType.ts"
import { fromHost } from "../backend/numpy/creation.ts"
import { align8, bytesToHost, hostToBytes, payloadBytes, readContainer, writeContainer } from "./bytes.ts"
import {
  attempt,
  checkJsonNesting,
  checkPath,
  DTypeSchema,
  elementCount,
  fail,
  hostileKeyIn,
  isJsonSafe,
  kindTable,
  MAX_NESTING,
  nestsTooDeep,
  NonNegativeInt,
  PathKeySchema,
  schemaError
} from "./codecSupport.ts"
import { CodecError, TraceContextError } from "./errors.ts"
import type { GraphNode } from "./graph.ts"
import { state as stateOf, update } from "./graph.ts"
import type { Path, PathKey } from "./path.ts"
import { formatShape } from "./format.ts"
import { formatPath } from "./path.ts"
import type { StateLeaf } from "./State.ts"
import { State } from "./State.ts"
import type { Metadata, VariableClass } from "./Variable.ts"
import { builtinKinds, isVariable, kindOf, makeVariable } from "./Variable.ts"

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const leafFields = {
  /** Attribute names and list indices from the root. */
  path: Schema.Array(PathKeySchema),
  /** The Variable kind's class name, or `null` for an Array a Module holds directly. */
  kind: Schema.NullOr(Schema.String),
  dtype: DTypeSchema,
  shape: Schema.Array(NonNegativeInt),
  metadata: Schema.Record(Schema.String, Schema.Json)
}

/**
 * The JSON form of a State.
 * @category schemas
 * @since 0.1.0
 */
export const StateJson = Schema.Struct({
  format: Schema.Literal("effect-nnx/state"),
  version: Schema.Literal(1),
  leaves: Schema.Array(Schema.Struct({ ...leafFields, data: Schema.Uint8ArrayFromBase64 }))
})

/**
 * The header of the binary form of a State: where each leaf's bytes are in the payload.
 * @category schemas
 * @since 0.1.0
 */
export const StateHeader = Schema.Struct({
  format: Schema.Literal("effect-nnx/state"),
  version: Schema.Literal(1),
  payloadBytes: NonNegativeInt,
  leaves: Schema.Array(Schema.Struct({ ...leafFields, offset: NonNegativeInt, byteLength: NonNegativeInt }))
})

type LeafJson = (typeof StateJson)["Type"]["leaves"][number]
type LeafHeader = (typeof StateHeader)["Type"]["leaves"][number]

// ---------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

interface EncodedLeaf {
  readonly path: ReadonlyArray<PathKey>
  readonly kind: string | null
  readonly dtype: DType
  readonly shape: ReadonlyArray<number>
  readonly metadata: Metadata
  readonly bytes: Uint8Array
}

/**
 * How deep a file holds a leaf's metadata: in the document's record, its `leaves` list and the
 * leaf's record. The loaders refuse files that nest more than `MAX_NESTING` levels, so metadata
 * that would make its file do so cannot be saved.
 */
const METADATA_DEPTH = 3

const encodeLeaves = (state: State): Array<EncodedLeaf> | CodecError => {
  const builtinNames = new Map(builtinKinds.map((k) => [k.name, k] as const))
  const out: Array<EncodedLeaf> = []
  for (const [path, leaf] of state.toFlat()) {
    const value: unknown = isVariable(leaf) ? leaf.value : leaf
    if (!isArray(value))
      return fail(`only Array values can be saved, got ${value === null ? "null" : typeof value}`, path)
    if (!value.isConcrete) return fail("cannot save a traced Array (save outside the transform)", path)
    let kind: string | null = null
    let metadata: Metadata = {}
    if (isVariable(leaf)) {
      const type = kindOf(leaf)
      kind = type.name
      if (kind === "") return fail("the Variable kind has no class name", path)
      const builtin = builtinNames.get(kind)
      if (builtin !== undefined && builtin !== type)
        return fail(`the kind '${kind}' has the name of a built-in kind; rename it so it can be loaded`, path)
      metadata = leaf.metadata
      if (nestsTooDeep(metadata, METADATA_DEPTH))
        return fail(
          `metadata nests lists and records more than ${MAX_NESTING} levels deep and cannot be saved (counting the ${METADATA_DEPTH} levels of the file around it)`,
          path
        )
      if (!isJsonSafe(metadata))
        return fail("metadata must be JSON (strings, finite numbers, booleans, null, lists and records)", path)
      const hostile = hostileKeyIn(metadata)
      if (hostile !== undefined)
        return fail(`the metadata key '${hostile}' would be refused when loading; rename it so it can be loaded`, path)
    }
    out.push({ path, kind, dtype: value.dtype, shape: value.shape, metadata, bytes: hostToBytes(value.dataSync()) })
  }
  return out
}

/**
 * A State as JSON text.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   w = new nnx.Param(jnp.arange(3).astype("float32"))
 * }
 * const json = Effect.runSync(nnx.stateToJson(nnx.state(new Model())))
 * const back = Effect.runSync(nnx.stateFromJson(json))
 * ```
 * @category codecs
 * @since 0.1.0
 */
export const stateToJson = (state: State): Effect.Effect<string, CodecError> =>
  Effect.flatMap(
    attempt(() => encodeLeaves(state)),
    (leaves) =>
      Effect.mapError(
        Schema.encodeEffect(Schema.fromJsonString(StateJson))({
          format: "effect-nnx/state",
          version: 1,
          leaves: leaves.map((l) => ({
            path: l.path,
            kind: l.kind,
            dtype: l.dtype,
            shape: l.shape,
            metadata: l.metadata as Schema.JsonObject,
            data: l.bytes
          }))
        }),
        schemaError("cannot encode the State")
      )
  )

/**
 * A State in the compact binary form.
 * @category codecs
 * @since 0.1.0
 */
export const saveState = (state: State): Effect.Effect<Uint8Array, CodecError> =>
  attempt(() => {
    const leaves = encodeLeaves(state)
    if (leaves instanceof CodecError) return leaves
    let offset = 0
    const pieces: Array<readonly [number, Uint8Array]> = []
    const headerLeaves = leaves.map((l) => {
      const at = offset
      pieces.push([at, l.bytes])
      offset = align8(offset + l.bytes.length)
      return {
        path: l.path,
        kind: l.kind,
        dtype: l.dtype,
        shape: l.shape,
        metadata: l.metadata,
        offset: at,
        byteLength: l.bytes.length
      }
    })
    const header = JSON.stringify({
      format: "effect-nnx/state",
      version: 1,
      payloadBytes: offset,
      leaves: headerLeaves
    })
    return writeContainer(header, offset, pieces)
  })

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/**
 * Options of the State loaders.
 * @category codecs
 * @since 0.1.0
 */
export interface LoadOptions {
  /** User Variable kinds the file may name (the built-in kinds are always known). */
  readonly kinds?: ReadonlyArray<VariableClass> | undefined
}

/** Turns validated leaf descriptions plus their bytes into a State. */
const buildState = (
  leaves: ReadonlyArray<{ readonly head: LeafJson | LeafHeader; readonly bytes: Uint8Array }>,
  kinds: ReadonlyArray<VariableClass>
): State | CodecError => {
  const table = kindTable(kinds)
  if (table instanceof CodecError) return table
  const entries: Array<readonly [Path, StateLeaf]> = []
  for (const { head, bytes } of leaves) {
    const path = head.path
    const bad = checkPath(path)
    if (bad !== undefined) return bad
    const count = elementCount(head.shape, path)
    if (count instanceof CodecError) return count
    const expected = payloadBytes(head.dtype, count)
    if (bytes.length !== expected || expected !== count * itemSize(head.dtype)) {
      return fail(
        `${head.dtype} data of shape (${head.shape.join(", ")}) needs ${expected} bytes, the file has ${bytes.length}`,
        path
      )
    }
    if (head.dtype === "bool" && bytes.some((b) => b > 1)) return fail("bool data must be 0 or 1", path)
    const hostileMeta = hostileKeyIn(head.metadata)
    if (hostileMeta !== undefined) return fail(`refusing the metadata key '${hostileMeta}'`, path)
    const array: JArray = fromHost(bytesToHost(bytes, head.dtype, count), head.shape, head.dtype)
    if (head.kind === null) {
      if (Object.keys(head.metadata).length > 0) return fail("an Array leaf (kind null) cannot have metadata", path)
      entries.push([path, array])
      continue
    }
    const kind = table.get(head.kind)
    if (kind === undefined) {
      return fail(
        `unknown Variable kind '${head.kind}'; pass its class in the loader's \`kinds\` option (or use restore, which learns kinds from the model)`,
        path
      )
    }
    entries.push([path, makeVariable(kind, array, Object.freeze({ ...head.metadata }))])
  }
  try {
    return State.fromFlat(entries)
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e))
  }
}

/**
 * A State from JSON text (as `stateToJson` writes), validated.
 * @category codecs
 * @since 0.1.0
 */
export const stateFromJson = (text: string, options?: LoadOptions): Effect.Effect<State, CodecError> =>
  Effect.flatMap(
    Effect.flatMap(
      attempt(() => checkJsonNesting(text)),
      () =>
        Effect.mapError(
          Schema.decodeUnknownEffect(Schema.fromJsonString(StateJson))(text),
          schemaError("not a valid State JSON document")
        )
    ),
    (doc) =>
      attempt(() =>
        buildState(
          doc.leaves.map((head) => ({ head, bytes: head.data })),
          options?.kinds ?? []
        )
      )
  )

/**
 * A State from the binary form (as `saveState` writes), validated.
 * @category codecs
 * @since 0.1.0
 */
export const loadState = (bytes: Uint8Array, options?: LoadOptions): Effect.Effect<State, CodecError> =>
  Effect.gen(function* () {
    const read = readContainer(bytes)
    if (read._tag === "Error") return yield* Effect.fail(fail(read.reason))
    const deep = checkJsonNesting(read.header)
    if (deep !== undefined) return yield* Effect.fail(deep)
    const header = yield* Effect.mapError(
      Schema.decodeUnknownEffect(Schema.fromJsonString(StateHeader))(read.header),
      schemaError("not a valid State header")
    )
    if (header.payloadBytes !== read.payload.length) {
      return yield* Effect.fail(
        fail(`the header declares ${header.payloadBytes} payload bytes, the file has ${read.payload.length}`)
      )
    }
    const pieces: Array<{ readonly head: LeafHeader; readonly bytes: Uint8Array }> = []
    for (const head of header.leaves) {
      if (head.offset % 8 !== 0) return yield* Effect.fail(fail("array data must be 8-byte aligned", head.path))
      if (head.offset + head.byteLength > read.payload.length)
        return yield* Effect.fail(fail("array data runs past the payload", head.path))
      pieces.push({ head, bytes: read.payload.subarray(head.offset, head.offset + head.byteLength) })
    }
    const state = yield* attempt(() => buildState(pieces, options?.kinds ?? []))
    // Checked once each leaf is valid: a checksum only says the file is as written, not that we
    // wrote it, and two leaves sharing bytes would load one's data as the other's.
    const byOffset = pieces.filter((p) => p.head.byteLength > 0).sort((a, b) => a.head.offset - b.head.offset)
    for (let i = 1; i < byOffset.length; i++) {
      const prev = byOffset[i - 1]!.head
      const cur = byOffset[i]!.head
      if (cur.offset < prev.offset + prev.byteLength) {
        return yield* Effect.fail(
          fail(
            `array data (bytes ${cur.offset}..${cur.offset + cur.byteLength}) overlaps the data of ${formatPath(prev.path)} (bytes ${prev.offset}..${prev.offset + prev.byteLength})`,
            cur.path
          )
        )
      }
    }
    return state
  })

/**
 * Loads a checkpoint (binary or JSON) into a live graph of the same structure: the file must hold
 * exactly the graph's leaves, with the same kinds, dtypes and shapes. Everything is checked before
 * anything is written, so on failure the graph is unchanged. User kinds are learned from the graph.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { jnp, nnx, random } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   w: nnx.Param<jnp.Array>
 *   constructor(seed: number) {
 *     super()
 *     this.w = new nnx.Param(random.normal(random.key(seed), [3]))
 *   }
 * }
 * const trained = new Model(0)
 * const fresh = new Model(1)
 * Effect.runSync(Effect.flatMap(nnx.saveState(nnx.state(trained)), (bytes) => nnx.restore(fresh, bytes)))
 * // fresh.w.value now equals trained.w.value
 * ```
 * @category codecs
 * @since 0.1.0
 */
export const restore = (
  target: GraphNode,
  checkpoint: Uint8Array | string
): Effect.Effect<void, CodecError | TraceContextError> =>
  Effect.gen(function* () {
    const current = yield* attempt(() => stateOf(target))
    const kinds = new Set<VariableClass>()
    for (const leaf of current.leaves) if (isVariable(leaf)) kinds.add(kindOf(leaf))
    const options: LoadOptions = { kinds: [...kinds] }
    const loaded =
      typeof checkpoint === "string" ? yield* stateFromJson(checkpoint, options) : yield* loadState(checkpoint, options)
    yield* attempt(() => checkCompatible(current, loaded))
    yield* Effect.suspend((): Effect.Effect<void, CodecError | TraceContextError> => {
      try {
        update(target, loaded)
        return Effect.void
      } catch (e) {
        if (e instanceof TraceContextError) return Effect.fail(e)
        if (e instanceof Error) return Effect.fail(fail(e.message))
        return Effect.die(e)
      }
    })
  })

const describeLeaf = (leaf: StateLeaf): string => {
  const v: unknown = isVariable(leaf) ? leaf.value : leaf
  const kind = isVariable(leaf) ? leaf.kind : "Array"
  return isArray(v) ? `${kind} ${v.dtype}${formatShape(v.shape)}` : kind
}

/** Checks that a loaded State has exactly the leaves of the target's, alike in kind, dtype, shape. */
const checkCompatible = (current: State, loaded: State): undefined | CodecError => {
  if (current.size !== loaded.size) {
    const have = new Set(current.paths.map((p) => JSON.stringify(p)))
    const extra = loaded.paths.find((p) => !have.has(JSON.stringify(p)))
    if (extra !== undefined) return fail("the checkpoint has a leaf the model does not", extra)
    const got = new Set(loaded.paths.map((p) => JSON.stringify(p)))
    const missing = current.paths.find((p) => !got.has(JSON.stringify(p)))
    return fail("the checkpoint lacks a leaf the model has", missing)
  }
  for (let i = 0; i < current.size; i++) {
    const path = current.paths[i]!
    if (JSON.stringify(path) !== JSON.stringify(loaded.paths[i]!)) {
      return fail(
        `the checkpoint's leaves do not match the model's (the model has ${formatPath(path)}, the checkpoint ${formatPath(loaded.paths[i]!)})`,
        path
      )
    }
    const a = current.leaves[i]!
    const b = loaded.leaves[i]!
    const ka = isVariable(a) ? kindOf(a) : undefined
    const kb = isVariable(b) ? kindOf(b) : undefined
    const va: unknown = isVariable(a) ? a.value : a
    const vb: unknown = isVariable(b) ? b.value : b
    const sameArray =
      isArray(va) &&
      isArray(vb) &&
      va.dtype === vb.dtype &&
      va.shape.length === vb.shape.length &&
      va.shape.every((d, j) => d === vb.shape[j])
    if (ka !== kb || !sameArray)
      return fail(`the model has ${describeLeaf(a)}, the checkpoint ${describeLeaf(b)}`, path)
  }
  return undefined
}
