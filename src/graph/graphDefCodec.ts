/**
 * GraphDef codecs: a GraphDef as JSON ({@link GraphDefJson}) or in the binary container (the same
 * JSON as its header, with an empty payload and a checksum). Classes are saved by name and
 * resolved on load against the classes the caller supplies (Module classes and user Variable
 * kinds; the built-in kinds, `Rngs` and `RngStream` are always known). Static values must be JSON.
 * Loading validates the structure (counts, references, list order, unsafe keys), so a loaded
 * GraphDef is one `merge` can use.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { readContainer, writeContainer } from "./bytes.ts"
import {
  attempt,
  checkJsonNesting,
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
import { CodecError } from "./errors.ts"
import type { Attribute, AttrDef, NodeDef } from "./GraphDef.ts"
import { GraphDef, LEAF_ATTR, NODE_ATTR, walkGraphDef } from "./GraphDef.ts"
import type { ModuleClass } from "./node.ts"
import { ModuleTypeId } from "./node.ts"
import { isHostileKey } from "./path.ts"
import { Rngs, RngStream } from "./Rngs.ts"
import type { VariableClass } from "./Variable.ts"
import { isVariableClass } from "./Variable.ts"

const JsonMetadata = Schema.Record(Schema.String, Schema.Json)

const NodeDefJson = Schema.Union([
  Schema.Struct({
    tag: Schema.Literal("ModuleDef"),
    type: Schema.String,
    index: NonNegativeInt,
    outerIndex: Schema.NullOr(NonNegativeInt),
    numAttributes: NonNegativeInt
  }),
  Schema.Struct({ tag: Schema.Literals(["ListDef", "RecordDef"]), numAttributes: NonNegativeInt }),
  Schema.Struct({
    tag: Schema.Literal("VariableDef"),
    type: Schema.String,
    index: NonNegativeInt,
    outerIndex: Schema.NullOr(NonNegativeInt),
    metadata: JsonMetadata
  }),
  Schema.Struct({ tag: Schema.Literal("NodeRef"), index: NonNegativeInt })
])

const AttrJson = Schema.Union([
  Schema.Struct({ tag: Schema.Literals(["NodeAttr", "LeafAttr"]) }),
  // `value` is absent for `undefined`, which JSON cannot hold.
  Schema.Struct({ tag: Schema.Literal("StaticAttr"), value: Schema.optionalKey(Schema.Json) })
])

/**
 * The JSON form of a GraphDef.
 * @category schemas
 * @since 0.1.0
 */
export const GraphDefJson = Schema.Struct({
  format: Schema.Literal("effect-nnx/graphdef"),
  version: Schema.Literal(1),
  numLeaves: NonNegativeInt,
  nodes: Schema.Array(NodeDefJson),
  attributes: Schema.Array(Schema.Tuple([PathKeySchema, AttrJson]))
})

type GraphDefDocument = (typeof GraphDefJson)["Type"]

/**
 * How deep the document holds a Variable's metadata: in its record, the `nodes` list and the
 * node's record. The loaders refuse documents that nest more than `MAX_NESTING` levels, so
 * metadata that would make its document do so cannot be saved.
 */
const METADATA_DEPTH = 3

const toDocument = (g: GraphDef): GraphDefDocument | CodecError => {
  const nodes: Array<GraphDefDocument["nodes"][number]> = []
  for (const n of g.nodes) {
    switch (n._tag) {
      case "ModuleDef":
        if (n.type.name === "") return fail("a Module class without a name cannot be saved")
        nodes.push({
          tag: "ModuleDef",
          type: n.type.name,
          index: n.index,
          outerIndex: n.outerIndex ?? null,
          numAttributes: n.numAttributes
        })
        break
      case "VariableDef":
        if (nestsTooDeep(n.metadata, METADATA_DEPTH))
          return fail(
            `the metadata of a ${n.type.name} nests lists and records more than ${MAX_NESTING} levels deep and cannot be saved (counting the ${METADATA_DEPTH} levels of the document around it)`
          )
        if (!isJsonSafe(n.metadata)) return fail(`the metadata of a ${n.type.name} is not JSON`)
        {
          const bad = hostileKeyIn(n.metadata)
          if (bad !== undefined)
            return fail(
              `the metadata key '${bad}' of a ${n.type.name} would be refused when loading; rename it so it can be loaded`
            )
        }
        nodes.push({
          tag: "VariableDef",
          type: n.type.name,
          index: n.index,
          outerIndex: n.outerIndex ?? null,
          metadata: n.metadata as Schema.JsonObject
        })
        break
      case "ListDef":
      case "RecordDef":
        nodes.push({ tag: n._tag, numAttributes: n.numAttributes })
        break
      case "NodeRef":
        nodes.push({ tag: "NodeRef", index: n.index })
        break
    }
  }
  const attributes: Array<GraphDefDocument["attributes"][number]> = []
  for (const [key, def] of g.attributes) {
    // Lists and records are graph nodes of their own, so every key of the graph, at any depth,
    // is an attribute key here; a static value that passes the JSON check is a string, number,
    // boolean or null, with no keys or nesting of its own.
    if (typeof key === "string" && isHostileKey(key))
      return fail(`the attribute key '${key}' would be refused when loading; rename the attribute so it can be loaded`)
    if (def._tag !== "StaticAttr") attributes.push([key, { tag: def._tag }])
    else if (def.value === undefined) attributes.push([key, { tag: "StaticAttr" }])
    else if (isJsonSafe(def.value)) attributes.push([key, { tag: "StaticAttr", value: def.value as Schema.Json }])
    else
      return fail(
        `the static attribute '${String(key)}' is not JSON (strings, finite numbers, booleans, null, lists, records) and cannot be saved`
      )
  }
  return { format: "effect-nnx/graphdef", version: 1, numLeaves: g.numLeaves, nodes, attributes }
}

/**
 * Options of the GraphDef loaders.
 * @category codecs
 * @since 0.1.0
 */
export interface GraphDefLoadOptions {
  /** The Module classes and user Variable kinds the GraphDef may name. */
  readonly types: ReadonlyArray<ModuleClass | VariableClass>
}

const isModuleClass = (u: unknown): u is ModuleClass =>
  typeof u === "function" && typeof u.prototype === "object" && u.prototype !== null && ModuleTypeId in u.prototype

const fromDocument = (doc: GraphDefDocument, options: GraphDefLoadOptions): GraphDef | CodecError => {
  const kinds = kindTable(options.types.filter(isVariableClass))
  if (kinds instanceof CodecError) return kinds
  const modules = new Map<string, ModuleClass>()
  for (const m of [Rngs, RngStream, ...options.types.filter(isModuleClass)]) {
    const prev = modules.get(m.name)
    if (prev !== undefined && prev !== m) return fail(`two different Module classes are named '${m.name}'`)
    modules.set(m.name, m)
  }
  const nodes: Array<NodeDef> = []
  for (const n of doc.nodes) {
    switch (n.tag) {
      case "ModuleDef": {
        const type = modules.get(n.type)
        if (type === undefined) return fail(`unknown Module class '${n.type}'; pass it in \`types\``)
        nodes.push({
          _tag: "ModuleDef",
          type,
          index: n.index,
          outerIndex: n.outerIndex ?? undefined,
          numAttributes: n.numAttributes
        })
        break
      }
      case "VariableDef": {
        const type = kinds.get(n.type)
        if (type === undefined) return fail(`unknown Variable kind '${n.type}'; pass it in \`types\``)
        const bad = hostileKeyIn(n.metadata)
        if (bad !== undefined) return fail(`refusing the metadata key '${bad}'`)
        nodes.push({
          _tag: "VariableDef",
          type,
          index: n.index,
          outerIndex: n.outerIndex ?? undefined,
          metadata: Object.freeze({ ...n.metadata })
        })
        break
      }
      case "ListDef":
      case "RecordDef":
        nodes.push({ _tag: n.tag, numAttributes: n.numAttributes })
        break
      case "NodeRef":
        nodes.push({ _tag: "NodeRef", index: n.index })
        break
    }
  }
  const attributes: Array<Attribute> = []
  for (const [key, a] of doc.attributes) {
    if (isHostileKey(key))
      return fail(`refusing the attribute key '${key}', which would reach JavaScript's prototype machinery`)
    let def: AttrDef
    if (a.tag === "StaticAttr") {
      const bad = hostileKeyIn(a.value)
      if (bad !== undefined) return fail(`refusing the key '${bad}' in the static attribute '${key}'`)
      def = { _tag: "StaticAttr", value: a.value }
    } else {
      def = a.tag === "NodeAttr" ? NODE_ATTR : LEAF_ATTR
    }
    attributes.push([key, def])
  }
  const g = new GraphDef(nodes, attributes, doc.numLeaves)
  const error = walkGraphDef(g, () => {})
  return error === undefined ? g : fail(`malformed GraphDef: ${error}`)
}

/**
 * A GraphDef as JSON text.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Model extends nnx.Module {
 *   features = 3
 *   w = new nnx.Param(jnp.zeros([3]))
 * }
 * const [graphdef, state] = nnx.split(new Model())
 * const text = Effect.runSync(nnx.graphDefToJson(graphdef))
 * const again = Effect.runSync(nnx.graphDefFromJson(text, { types: [Model] }))
 * const model = nnx.merge(again, state) // a Model
 * ```
 * @category codecs
 * @since 0.1.0
 */
export const graphDefToJson = (graphdef: GraphDef): Effect.Effect<string, CodecError> =>
  Effect.flatMap(
    attempt(() => toDocument(graphdef)),
    (doc) =>
      Effect.mapError(
        Schema.encodeEffect(Schema.fromJsonString(GraphDefJson))(doc),
        schemaError("cannot encode the GraphDef")
      )
  )

/**
 * A GraphDef from JSON text, validated, with its classes resolved against `types`.
 * @category codecs
 * @since 0.1.0
 */
export const graphDefFromJson = <N = unknown>(
  text: string,
  options: GraphDefLoadOptions
): Effect.Effect<GraphDef<N>, CodecError> =>
  Effect.flatMap(
    Effect.flatMap(
      attempt(() => checkJsonNesting(text)),
      () =>
        Effect.mapError(
          Schema.decodeUnknownEffect(Schema.fromJsonString(GraphDefJson))(text),
          schemaError("not a valid GraphDef JSON document")
        )
    ),
    (doc) => attempt(() => fromDocument(doc, options) as GraphDef<N> | CodecError)
  )

/**
 * A GraphDef in the binary container.
 * @category codecs
 * @since 0.1.0
 */
export const saveGraphDef = (graphdef: GraphDef): Effect.Effect<Uint8Array, CodecError> =>
  Effect.map(graphDefToJson(graphdef), (text) => writeContainer(text, 0, []))

/**
 * A GraphDef from the binary container, validated, with its classes resolved against `types`.
 * @category codecs
 * @since 0.1.0
 */
export const loadGraphDef = <N = unknown>(
  bytes: Uint8Array,
  options: GraphDefLoadOptions
): Effect.Effect<GraphDef<N>, CodecError> =>
  Effect.suspend(() => {
    const read = readContainer(bytes)
    if (read._tag === "Error") return Effect.fail(fail(read.reason))
    if (read.payload.length !== 0) return Effect.fail(fail("a GraphDef file has no payload, this one has one"))
    return graphDefFromJson<N>(read.header, options)
  })
