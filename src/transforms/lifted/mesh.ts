/**
 * Meshes of virtual devices and sharding metadata (Flax's `nnx.spmd` helpers). A `Mesh` names the
 * axes of a grid of devices; on this one-machine library the devices are virtual (numbered
 * 0..n-1), and `shardMap` runs one shard per device as a vectorised map. A `PartitionSpec` names,
 * per array dimension, the mesh axis it is split over (or `null`).
 *
 * @since 0.1.0
 */
import { current as context, withContext } from "../../backend/transformContext.ts"
import { State } from "../../graph/State.ts"
import type { StateLeaf } from "../../graph/State.ts"
import { isVariable } from "../../graph/Variable.ts"
import type { Variable } from "../../graph/Variable.ts"
import { state as stateOf } from "../../graph/graph.ts"
import type { PartitionSpec } from "../../filters/LiftTypes.ts"
import { LiftTypeError } from "../LiftError.ts"

/**
 * A virtual device of a mesh.
 * @category devices
 * @since 0.1.0
 */
export interface VirtualDevice {
  readonly id: number
  readonly platform: "virtual"
  /** Its coordinates in the mesh, one per mesh axis. */
  readonly coords: ReadonlyArray<number>
}

/**
 * A grid of virtual devices with named axes, like `jax.sharding.Mesh`.
 * @category devices
 * @since 0.1.0
 */
export class Mesh {
  readonly _tag = "Mesh" as const
  /** The devices in row-major order of their coordinates. */
  readonly devices: ReadonlyArray<VirtualDevice>
  constructor(
    readonly axisSizes: ReadonlyArray<number>,
    readonly axisNames: ReadonlyArray<string>
  ) {
    if (axisSizes.length !== axisNames.length) {
      throw new LiftTypeError({
        transform: "makeMesh",
        reason: `a mesh needs one name per axis: shape (${axisSizes.join(", ")}) but names (${axisNames.join(", ")})`
      })
    }
    if (axisSizes.some((s) => !Number.isInteger(s) || s < 1))
      throw new LiftTypeError({
        transform: "makeMesh",
        reason: `mesh axis sizes must be positive integers, got (${axisSizes.join(", ")})`
      })
    if (new Set(axisNames).size !== axisNames.length)
      throw new LiftTypeError({
        transform: "makeMesh",
        reason: `mesh axis names must be distinct, got (${axisNames.join(", ")})`
      })
    const devices: Array<VirtualDevice> = []
    const total = axisSizes.reduce((a, b) => a * b, 1)
    for (let id = 0; id < total; id++) {
      const coords: Array<number> = []
      let r = id
      for (let k = axisSizes.length - 1; k >= 0; k--) {
        coords.unshift(r % axisSizes[k]!)
        r = Math.floor(r / axisSizes[k]!)
      }
      devices.push({ id, platform: "virtual", coords })
    }
    this.devices = devices
  }
  /** `{ name: size }` per axis, like `mesh.shape`. */
  get shape(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.axisNames.map((n, i) => [n, this.axisSizes[i]!]))
  }
  /** The number of devices. */
  get size(): number {
    return this.devices.length
  }
  /** The size of the axis called `name`. */
  axisSize(name: string): number {
    const i = this.axisNames.indexOf(name)
    if (i === -1)
      throw new LiftTypeError({
        transform: "Mesh",
        reason: `no mesh axis named '${name}' (the mesh has ${this.axisNames.map((n) => `'${n}'`).join(", ")})`
      })
    return this.axisSizes[i]!
  }
  toString(): string {
    return `Mesh(${this.axisNames.map((n, i) => `'${n}': ${this.axisSizes[i]}`).join(", ")})`
  }
}

/**
 * A mesh of `product(shape)` virtual devices, like `jax.make_mesh((4,), ("data",))`.
 * @category devices
 * @since 0.1.0
 */
export const makeMesh = (shape: ReadonlyArray<number>, axisNames: ReadonlyArray<string>): Mesh =>
  new Mesh(shape, axisNames)

/**
 * A partition spec, like `jax.sharding.PartitionSpec`: `P("data", null)` splits dimension 0 over
 * the mesh axis `data` and keeps dimension 1 whole.
 * @category devices
 * @since 0.1.0
 */
export const P = (...names: ReadonlyArray<string | null>): PartitionSpec => Object.freeze([...names])

/**
 * Runs `f` with `mesh` as the current mesh (used by `shardMap` when no mesh is given), like
 * `jax.set_mesh`. The mesh is a slot of the transform context, restored after `f`.
 * @category devices
 * @since 0.1.0
 */
export const withMesh = <A>(mesh: Mesh, f: () => A): A => withContext({ mesh }, f)

/** The mesh set by {@link withMesh}, if any. @category devices @since 0.1.0 */
export const currentMesh = (): Mesh | undefined => context().mesh as Mesh | undefined

/**
 * The partition spec of every Variable of a State (or of a graph node's state), from its
 * `shardingNames` metadata (a Variable without it is replicated: `[]`), like
 * `nnx.get_partition_spec`. The result is a State of the same paths whose values are the specs.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * class Weights extends nnx.Module {
 *   kernel = new nnx.Param(jnp.ones([4, 2]), { shardingNames: ["data", null] })
 *   bias = new nnx.Param(jnp.zeros([2]))
 * }
 * const specs = nnx.getPartitionSpec(new Weights()) // a State of new Params holding the specs
 * specs.toPureDict() // { bias: [], kernel: ["data", null] }
 * ```
 * @category devices
 * @since 0.1.0
 */
export const getPartitionSpec = (stateOrNode: unknown): State => {
  const s: State = stateOrNode instanceof State ? stateOrNode : stateOf(stateOrNode as never)
  return s.map((_path, leaf): StateLeaf<Variable<unknown>> => {
    if (!isVariable(leaf)) return leaf
    const names = leaf.metadata["shardingNames"]
    const spec: PartitionSpec = Array.isArray(names) ? P(...(names as ReadonlyArray<string | null>)) : P()
    return leaf.replace(spec as never)
  })
}

/**
 * The flat `[path, spec]` list of {@link getPartitionSpec}.
 * @category devices
 * @since 0.1.0
 */
export const partitionSpecs = (stateOrNode: unknown): Array<readonly [string, PartitionSpec]> =>
  getPartitionSpec(stateOrNode)
    .toFlat()
    .map(([path, leaf]) => [path.join("/"), (isVariable(leaf) ? leaf.value : []) as PartitionSpec] as const)
