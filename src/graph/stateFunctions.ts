/**
 * Flax's State functions (`nnx.to_flat_state`, `nnx.from_flat_state`, `nnx.to_pure_dict`,
 * `nnx.replace_by_pure_dict`, `nnx.filter_state`, `nnx.split_state`, `nnx.merge_state`,
 * `nnx.map_state`) as free functions over {@link State}, for code ported from Flax. Each is the
 * State method of the same meaning; a State is immutable, so those that change one return the new
 * State (Flax's `replace_by_pure_dict` writes into its argument).
 *
 * @since 0.2.0
 */
import type { Array as JArray } from "../backend/Array.ts"
import type { Filter } from "../filters/Filter.ts"
import { GraphStructureError } from "./errors.ts"
import { describeValue } from "./flatten.ts"
import type { Path } from "./path.ts"
import { isState, State } from "./State.ts"
import type { Selected, StateLeaf } from "./State.ts"
import type { Variable } from "./Variable.ts"

const checkState = (op: string, u: unknown): State<Variable<unknown>, JArray> => {
  if (!isState(u)) throw new GraphStructureError({ path: [], reason: `${op} needs a State, got ${describeValue(u)}` })
  return u as State<Variable<unknown>, JArray>
}

/**
 * The State's leaves with their paths, in path order, as Flax's `nnx.to_flat_state`.
 * @category state
 * @since 0.2.0
 */
export const toFlatState = <V extends Variable<unknown>, R extends JArray>(
  state: State<V, R>
): Array<readonly [Path, StateLeaf<V, R>]> => {
  checkState("toFlatState", state)
  return state.toFlat()
}

/**
 * A State from `[path, leaf]` pairs, as Flax's `nnx.from_flat_state`.
 * @category state
 * @since 0.2.0
 */
export const fromFlatState = State.fromFlat.bind(State) as typeof State.fromFlat

/**
 * The State as nested plain records of raw values, as Flax's `nnx.to_pure_dict` (see {@link State.toPureDict}).
 * @category state
 * @since 0.2.0
 */
export const toPureDict = (state: State<Variable<unknown>, JArray>): Record<string, unknown> =>
  checkState("toPureDict", state).toPureDict()

/**
 * The State with the values of a pure dict in place of its values, kinds and metadata kept, as
 * Flax's `nnx.replace_by_pure_dict`; returns the new State (see {@link State.replaceByPureDict}).
 * @category state
 * @since 0.2.0
 */
export const replaceByPureDict = <V extends Variable<unknown>, R extends JArray>(
  state: State<V, R>,
  dict: Readonly<Record<string, unknown>>
): State<V, R> => {
  checkState("replaceByPureDict", state)
  return state.replaceByPureDict(dict)
}

/**
 * The leaves of `state` that the filters select (one State per filter), as Flax's `nnx.filter_state`.
 * @category state
 * @since 0.2.0
 */
export const filterState = <
  V extends Variable<unknown>,
  R extends JArray,
  const Fs extends readonly [Filter, ...Array<Filter>]
>(
  state: State<V, R>,
  ...filters: Fs
): Selected<V, Fs> => {
  checkState("filterState", state)
  return state.filter(...filters)
}

/**
 * `state` split by the filters, every leaf into exactly one part, as Flax's `nnx.split_state`.
 * @category state
 * @since 0.2.0
 */
export const splitState = <
  V extends Variable<unknown>,
  R extends JArray,
  const Fs extends readonly [Filter, ...Array<Filter>]
>(
  state: State<V, R>,
  ...filters: Fs
): Selected<V, Fs> => {
  checkState("splitState", state)
  return state.split(...filters)
}

/**
 * The States merged into one (a later State's leaf wins at a path in both), as Flax's `nnx.merge_state`.
 * @category state
 * @since 0.2.0
 */
export const mergeState = State.merge.bind(State) as typeof State.merge

/**
 * A State with each leaf replaced by `f(path, leaf)`, as Flax's `nnx.map_state` (see {@link State.map}).
 * @category state
 * @since 0.2.0
 */
export const mapState = <
  V extends Variable<unknown>,
  R extends JArray,
  W extends Variable<unknown> = V,
  RW extends JArray = R
>(
  f: (path: Path, leaf: StateLeaf<V, R>) => StateLeaf<W, RW>,
  state: State<V, R>
): State<W, RW> => {
  checkState("mapState", state)
  return state.map(f)
}
