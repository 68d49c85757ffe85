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
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Layer extends nnx.Module {
 *   w: nnx.Param<jnp.Array>
 *   constructor(w: jnp.Array) { super(); this.w = new nnx.Param(w) }
 * }
 * // a stack of 4 layers (one per virtual device), made by a mapped initializer
 * const layers = nnx.pmap((w: jnp.Array) => new Layer(w)).sync(jnp.arange(4))
 * const ys = nnx.pmap((layer: Layer, x: jnp.Array) => layer.w.value.mul(x), { axisName: "devices" }).sync(layers, jnp.ones([4]))
 * ys // [0, 1, 2, 3]
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const pmap = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options?: PmapOptions<Args, R>
): Lifted<Args, R> => vmap(f, options)
