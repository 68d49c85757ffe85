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

class StateAxesImpl<A extends AxisOrCarry = number | null> extends FilterMapping<A> {
  readonly _tag = "StateAxes" as const
}
// Errors and displays name it as users write it.
Object.defineProperty(StateAxesImpl, "name", { value: "StateAxes" })

/**
 * Per-filter axes for `vmap`, `pmap` and `scan`:
 * `new StateAxes([[nnx.Param, 0], [Count, null]])` maps Params along axis 0 and broadcasts Count.
 * The type records which prefixes it holds (`StateAxes<number | CarryMarker>` for
 * `[[nnx.Param, 0], [nnx.BatchStat, nnx.Carry]]`), so a StateAxes with `Carry` or `null` is refused
 * where the transform cannot take it.
 * @category lift types
 * @since 0.1.0
 */
export type StateAxes<A extends AxisOrCarry = number | null> = StateAxesImpl<A>

/** `new StateAxes(entries)`: the axes of the entries, whatever their mix, make its type. */
export interface StateAxesConstructor {
  new <A extends AxisOrCarry>(entries: ReadonlyArray<readonly [Filter, A]>): StateAxesImpl<A>
  new <const E extends ReadonlyArray<readonly [Filter, AxisOrCarry]>>(entries: E): StateAxesImpl<Widen<E[number][1]>>
  readonly prototype: StateAxesImpl<AxisOrCarry>
}

/** Integer literals widen to `number` (a StateAxes's type says which kinds of prefix it holds). */
type Widen<A> = A extends number ? number : A

/** @category lift types @since 0.1.0 */
export const StateAxes: StateAxesConstructor = StateAxesImpl as unknown as StateAxesConstructor

/**
 * Which part of argument `argnum` `grad` differentiates: `new DiffState(0, nnx.Param)`.
 * @category lift types
 * @since 0.1.0
 */
export class DiffState<const N extends number = number, F extends Filter = Filter> {
  readonly _tag = "DiffState" as const
  readonly predicate: Predicate
  constructor(
    readonly argnum: N,
    readonly filter: F
  ) {
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
