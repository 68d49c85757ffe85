/**
 * The `nnx` namespace: Modules, Variables, Rngs, graph operations (split, merge, update, state,
 * clone, pop), filters, display and checkpoint codecs. The lifted transforms join it later.
 *
 * ```ts
 * import { nnx } from "effect-nnx"
 * ```
 *
 * Names follow Flax's, camelCased (`iter_graph` is `iterGraph`, `sharding_names` is
 * `shardingNames`).
 *
 * @since 0.1.0
 */
export {
  BatchStat,
  builtinKinds,
  Cache,
  Intermediate,
  isVariable,
  isVariableClass,
  LoRAParam,
  Param,
  RngCount,
  RngKey,
  RngState,
  Variable
} from "./Variable.ts"
export type { Metadata, ValueOf, VariableClass } from "./Variable.ts"

export { isModule, Module } from "./Module.ts"

export { isRngs, Rngs, RngStream } from "./Rngs.ts"
export type { RandomMethods, RngSeed, RngsConstructor, RngsSplit, SplitSize } from "./Rngs.ts"
export { reseed } from "./reseed.ts"
export type { ReseedPolicy } from "./reseed.ts"

export { GraphDef, isGraphDef } from "./GraphDef.ts"
export type { AttrDef, Attribute, ContainerDef, ModuleDef, NodeDef, NodeRef, VariableDef } from "./GraphDef.ts"

export { isState, State } from "./State.ts"
export type { LeavesIn, StateLeaf, StateOf, StatesFor, StatesOf } from "./State.ts"

export {
  clone,
  graphdef,
  iterChildren,
  iterGraph,
  iterModuleChildren,
  iterModules,
  merge,
  pop,
  split,
  state,
  update
} from "./graph.ts"
export {
  filterState,
  fromFlatState,
  mapState,
  mergeState,
  replaceByPureDict,
  splitState,
  toFlatState,
  toPureDict
} from "./stateFunctions.ts"
export type { GraphNode, PureRecord } from "./graph.ts"

export { display, displayString } from "./display.ts"
export type { DisplayOptions } from "./display.ts"
export { displayStyle, setDisplayStyle, withDisplayStyle } from "../backend/displayStyle.ts"
export type { DisplayStyle } from "../backend/displayStyle.ts"

export {
  All,
  Any,
  Everything,
  isEverything,
  isFilterObject,
  Not,
  Nothing,
  OfType,
  PathContains,
  toPredicate,
  WithTag
} from "../filters/Filter.ts"
export type { Filter, FilterObject, KindOf, Narrow, Predicate } from "../filters/Filter.ts"

export { loadState, restore, saveState, StateHeader, StateJson, stateFromJson, stateToJson } from "./codec.ts"
export type { LoadOptions } from "./codec.ts"
export { GraphDefJson, graphDefFromJson, graphDefToJson, loadGraphDef, saveGraphDef } from "./graphDefCodec.ts"
export type { GraphDefLoadOptions } from "./graphDefCodec.ts"

export { traceLevel } from "./traceState.ts"
export type { TraceState } from "./traceState.ts"

export type { Path, PathKey } from "./path.ts"
export type { SizeBytes } from "./format.ts"

export {
  CodecError,
  FilterError,
  GraphStructureError,
  isGraphError,
  MergeError,
  RngError,
  TraceContextError,
  UpdateError
} from "./errors.ts"
export type { GraphError } from "./errors.ts"
