/**
 * `nnx.pmap`: `pmap` over functions of Modules, Variables and Rngs. On this one-machine library the
 * "devices" are virtual: the mapped axis is one virtual device per index and the call runs as a
 * vectorised map (`nnx.vmap`) over it, with `axisName` naming the device axis. Everything `nnx.vmap`
 * supports applies: `StateAxes`, state propagation, broadcast (`null`) state, `axisSize` for
 * initialisers, `transformMetadata`. Collectives (`lax.psum`, `pmean`, `allGather`, `ppermute`, ...)
 * over `axisName` reduce over that vectorised axis (src/transforms/core/collectives.ts).
 *
 * @since 0.1.0
 */
import type { Lifted } from "../combinator.ts"
import { vmap } from "./vmap.ts"
import type { VmapOptions } from "./vmap.ts"

/** Options of {@link pmap}: those of `nnx.vmap` (`inAxes` and `outAxes` default to 0). */
export interface PmapOptions<Args extends ReadonlyArray<unknown>, R> extends VmapOptions<Args, R> {}

/**
 * Maps `f` over virtual devices (the leading axis by default), like `nnx.pmap`.
 *
 * @example
 * ```ts
 * // one layer per virtual device of a stacked module (made by a vmapped initializer)
 * const ys = nnx.pmap((layer: Layer, x: jnp.Array) => layer.call(x), { axisName: "devices" }).sync(layers, xs)
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const pmap = <Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, options?: PmapOptions<Args, R>): Lifted<Args, R> =>
  vmap(f, options)
