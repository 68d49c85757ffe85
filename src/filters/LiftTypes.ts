/**
 * Lift types: how a transform treats each sub-state of a graph node, chosen by filters.
 *
 * - `StateAxes` (vmap, pmap, scan): maps filters to a batch axis, `null` (broadcast) or `Carry`.
 * - `DiffState` (grad, valueAndGrad, customVjp): which sub-state of an argument is differentiated.
 * - `StateSharding` (jit, shardMap): maps filters to sharding specs.
 *
 * The first filter that matches a Variable decides; a Variable no filter matches is an error.
 *
 * @since 0.1.0
 */
import type { Path } from "../graph/path.ts"
import type { Filter, Predicate } from "./Filter.ts"
import { toPredicate } from "./Filter.ts"
import { formatFilter } from "./Filter.ts"

/**
 * The marker for `scan`'s carried state.
 * @category lift types
 * @since 0.1.0
 */
export class CarryMarker {
  readonly _tag = "Carry" as const
  toString(): string {
    return "Carry"
  }
}

/** @category lift types @since 0.1.0 */
export const Carry: CarryMarker = new CarryMarker()
/** @category lift types @since 0.1.0 */
export type Carry = CarryMarker

/** A batch axis, `null` for broadcast, or `Carry` (scan only). */
export type AxisOrCarry = number | null | CarryMarker

abstract class FilterMapping<A> {
  readonly entries: ReadonlyArray<readonly [Filter, A]>
  readonly predicates: ReadonlyArray<Predicate>
  constructor(entries: ReadonlyArray<readonly [Filter, A]>) {
    this.entries = entries
    this.predicates = entries.map(([f]) => toPredicate(f))
  }
  /** The value of the first filter matching `(path, leaf)`, or `undefined`. */
  lookup(path: Path, leaf: unknown): { readonly index: number; readonly value: A } | undefined {
    const i = this.predicates.findIndex((p) => p(path, leaf))
    return i === -1 ? undefined : { index: i, value: this.entries[i]![1] }
  }
  toString(): string {
    return `${this.constructor.name}({${this.entries.map(([f, a]) => `${formatFilter(f)}: ${String(a)}`).join(", ")}})`
  }
}

/**
 * Per-filter axes for `vmap`, `pmap` and `scan`:
 * `new StateAxes([[nnx.Param, 0], [Count, null]])` maps Params along axis 0 and broadcasts Count.
 * @category lift types
 * @since 0.1.0
 */
export class StateAxes<A extends AxisOrCarry = number | null> extends FilterMapping<A> {
  readonly _tag = "StateAxes" as const
  // Entries are widened to the axis kinds so `[[nnx.Param, 0], [nnx.BatchStat, nnx.Carry]]` infers.
  constructor(entries: ReadonlyArray<readonly [Filter, A]>) {
    super(entries)
  }
}

/**
 * Which part of argument `argnum` `grad` differentiates: `new DiffState(0, nnx.Param)`.
 * @category lift types
 * @since 0.1.0
 */
export class DiffState<const N extends number = number, F extends Filter = Filter> {
  readonly _tag = "DiffState" as const
  readonly predicate: Predicate
  constructor(readonly argnum: N, readonly filter: F) {
    this.predicate = toPredicate(filter)
  }
}

/** A sharding spec: one mesh axis name (or null) per array dimension. */
export type PartitionSpec = ReadonlyArray<string | null>

/**
 * Per-filter shardings for `jit` and `shardMap`: `new StateSharding([[nnx.Param, ["model", null]]])`.
 * @category lift types
 * @since 0.1.0
 */
export class StateSharding extends FilterMapping<PartitionSpec | null> {
  readonly _tag = "StateSharding" as const
}

/** @category guards @since 0.1.0 */
export const isStateAxes = (u: unknown): u is StateAxes<AxisOrCarry> => u instanceof StateAxes
/** @category guards @since 0.1.0 */
export const isCarry = (u: unknown): u is CarryMarker => u instanceof CarryMarker
/** @category guards @since 0.1.0 */
export const isStateSharding = (u: unknown): u is StateSharding => u instanceof StateSharding
/** @category guards @since 0.1.0 */
export const isDiffState = (u: unknown): u is DiffState => u instanceof DiffState
