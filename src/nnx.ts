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
export { findDuplicates, map, recursiveMap } from "./graph/traverse.ts"
export { Carry, DiffState, isCarry, isStateAxes, StateAxes, StateSharding } from "./filters/LiftTypes.ts"
export type { AxisOrCarry, PartitionSpec, StateAxesConstructor } from "./filters/LiftTypes.ts"
export { PARTITION_NAME, vmap } from "./transforms/lifted/vmap.ts"
export { jit } from "./transforms/lifted/jit.ts"
export { cachedPartial, jitPartial } from "./transforms/lifted/partial.ts"
export type { InShardings, JitOptions, LiftedJit, ShardingFor } from "./transforms/lifted/jit.ts"
export type { AxisFor, InAxes, VmapOptions } from "./transforms/lifted/vmap.ts"
export { isLiftError } from "./transforms/combinator.ts"
export type { Lifted, LiftError } from "./transforms/combinator.ts"
export { AliasingError, AsyncEffectError, JitEffectError, LiftTypeError } from "./transforms/LiftError.ts"
export type { AliasedNode } from "./transforms/LiftError.ts"
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
export type { ScanAxis, ScanAxisFor, ScanInAxes, ScanOptions, ScanOutAxes } from "./transforms/lifted/scan.ts"
export { cond, foriLoop, switch, switchCase, whileLoop } from "./transforms/lifted/controlFlow.ts"
export type { LiftedCond, LiftedForiLoop, LiftedSwitch, LiftedWhileLoop } from "./transforms/lifted/controlFlow.ts"
export { pmap } from "./transforms/lifted/pmap.ts"
export type { PmapOptions } from "./transforms/lifted/pmap.ts"
export { currentMesh, getPartitionSpec, makeMesh, Mesh, P, partitionSpecs, withMesh } from "./transforms/lifted/mesh.ts"
export type { VirtualDevice } from "./transforms/lifted/mesh.ts"
export { shardMap } from "./transforms/lifted/shardMap.ts"
export type { ShardMapOptions, SpecTree } from "./transforms/lifted/shardMap.ts"
export { isOptimizer, OptArray, Optimizer, OptState, OptVariable } from "./training/Optimizer.ts"
export type { OptimizerOptions } from "./training/Optimizer.ts"
export * as metrics from "./training/metrics.ts"
export { Metric, MultiMetric } from "./training/metrics.ts"
export * as initializers from "./layers/initializers.ts"
export type { Initializer } from "./layers/initializers.ts"
export { isLayerError, LayerError } from "./layers/LayerError.ts"
export { Linear, LinearGeneral } from "./layers/Linear.ts"
export type { LinearGeneralOptions, LinearOptions, Precision } from "./layers/Linear.ts"
export { Conv, ConvTranspose } from "./layers/Conv.ts"
export type { ConvLayerPadding, ConvOptions, ConvTransposeOptions } from "./layers/Conv.ts"
export { avgPool, maxPool, minPool } from "./layers/pooling.ts"
export type { AvgPoolOptions, PoolOptions, PoolPadding } from "./layers/pooling.ts"
export { Einsum } from "./layers/Einsum.ts"
export type { EinsumOptions } from "./layers/Einsum.ts"
export { Embed } from "./layers/Embed.ts"
export { LoRA, LoRALinear, PReLU } from "./layers/LoRA.ts"
export type { CallableModule, LoRALinearOptions, LoRAOptions, PReLUOptions } from "./layers/LoRA.ts"
export type { EmbedOptions } from "./layers/Embed.ts"
export { BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm } from "./layers/normalization.ts"
export type {
  BatchNormOptions,
  BiasNormOptions,
  GroupNormOptions,
  InstanceNormOptions,
  LayerNormOptions,
  NormOptions
} from "./layers/normalization.ts"
export { Dropout } from "./layers/Dropout.ts"
export type { DropoutCallOptions, DropoutOptions } from "./layers/Dropout.ts"
export { Sequential } from "./layers/Sequential.ts"
export type { LayerArgs, LayerOutput, SequentialArgs, SequentialLayer, SequentialOutput } from "./layers/Sequential.ts"
export * from "./layers/activations.ts"
export { view } from "./layers/view.ts"
export type { HasView, ViewModes } from "./layers/view.ts"
export {
  combineMasks,
  dotProductAttention,
  dotProductAttentionWeights,
  makeAttentionMask,
  makeCausalMask,
  MultiHeadAttention
} from "./layers/attention.ts"
export type { AttentionOptions, MultiHeadAttentionCallOptions, MultiHeadAttentionOptions } from "./layers/attention.ts"
export { Bidirectional, GRUCell, LSTMCell, RNN, SimpleCell } from "./layers/recurrent.ts"
export type {
  BidirectionalOptions,
  CellOptions,
  GatedCellOptions,
  RNNCallOptions,
  RNNCell,
  RNNOptions,
  SimpleCellOptions
} from "./layers/recurrent.ts"
export { Dict, List } from "./graph/containers.ts"
