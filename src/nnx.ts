/**
 * The `nnx` namespace: the object graph (Modules, Variables, Rngs, graph operations, State,
 * filters, display, codecs), the lift types, and the lifted transforms.
 *
 * ```ts
 * import { nnx } from "effect-nnx"
 * ```
 *
 * @since 0.1.0
 */
// States are pytree nodes for the transforms (a side-effect registration, like JAX's).
import "./transforms/lifted/pytreeNodes.ts"

export * from "./graph/index.ts"
export { Carry, DiffState, isCarry, isStateAxes, StateAxes, StateSharding } from "./filters/LiftTypes.ts"
export type { AxisOrCarry, PartitionSpec } from "./filters/LiftTypes.ts"
export { PARTITION_NAME, vmap } from "./transforms/lifted/vmap.ts"
export { jit } from "./transforms/lifted/jit.ts"
export type { JitOptions, LiftedJit } from "./transforms/lifted/jit.ts"
export type { AxisFor, InAxes, VmapOptions } from "./transforms/lifted/vmap.ts"
export { isLiftError } from "./transforms/combinator.ts"
export type { Lifted, LiftError } from "./transforms/combinator.ts"
export { AliasingError, AsyncEffectError, JitEffectError, LiftTypeError } from "./transforms/LiftError.ts"
export { forkRngs, forkRngsNow, restoreRngs, splitRngs, splitRngsNow } from "./transforms/lifted/rngs.ts"
export type { ForkRngsOptions, RngBackups, SplitRngsOptions } from "./transforms/lifted/rngs.ts"
export { grad, valueAndGrad } from "./transforms/lifted/grad.ts"
export type { Argnum, GradFor, GradOptions, Grads } from "./transforms/lifted/grad.ts"
export { customVjp } from "./transforms/lifted/customVjp.ts"
export type { CustomVjpOptions, Tangents } from "./transforms/lifted/customVjp.ts"
export { remat } from "./transforms/lifted/remat.ts"
export { evalShape } from "./transforms/lifted/evalShape.ts"
export type { Abstract, EvalShape } from "./transforms/lifted/evalShape.ts"
export { scan } from "./transforms/lifted/scan.ts"
export type { ScanAxis, ScanAxisFor, ScanInAxes, ScanOptions } from "./transforms/lifted/scan.ts"
export { cond, foriLoop, switch, switchCase, whileLoop } from "./transforms/lifted/controlFlow.ts"
export type { LiftedCond, LiftedForiLoop, LiftedSwitch, LiftedWhileLoop } from "./transforms/lifted/controlFlow.ts"
export { pmap } from "./transforms/lifted/pmap.ts"
export type { PmapOptions } from "./transforms/lifted/pmap.ts"
export { currentMesh, getPartitionSpec, makeMesh, Mesh, P, partitionSpecs, withMesh } from "./transforms/lifted/mesh.ts"
export type { VirtualDevice } from "./transforms/lifted/mesh.ts"
export { shardMap } from "./transforms/lifted/shardMap.ts"
export type { ShardMapOptions, SpecTree } from "./transforms/lifted/shardMap.ts"
