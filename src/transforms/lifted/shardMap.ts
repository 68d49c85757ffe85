/**
 * `nnx.shardMap`: `shard_map` over functions of Modules, Variables and Rngs on a mesh of virtual
 * devices. Each argument is split along the mesh axes its `PartitionSpec` names (dimension `d` of
 * size `n` split over a mesh axis of size `m` gives shards of size `n / m`), `f` runs once per
 * device on its shards (as nested vectorised maps, one per mesh axis, each named after its axis),
 * and each output is concatenated back along the dimensions `outSpecs` names. A mesh axis that an
 * output's spec does not name means the output is replicated over it: it must not vary over that
 * axis (a `VmapError` otherwise, like JAX's replication check).
 *
 * Graph nodes take a spec for all their state or a `StateSharding` choosing one per sub-state;
 * state written inside comes back concatenated with its input spec.
 *
 * `inSpecs` has one entry per argument. A spec is an array of mesh axis names / `null`; an array
 * holding only strings and `null`s is always read as a spec (use `P(...)` to write one).
 *
 * @since 0.1.0
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { isArray } from "../../backend/Array.ts"
import { moveaxis, reshape } from "../../backend/numpy/shapeOps.ts"
import { indexMapFromRefMap, refMapFromIndexMap } from "../../graph/flatten.ts"
import { withMutationCheck } from "../../graph/traceState.ts"
import { isStateSharding } from "../../filters/LiftTypes.ts"
import type { PartitionSpec, StateSharding } from "../../filters/LiftTypes.ts"
import { lateOutAxes, vmap as coreVmap } from "../core/batching.ts"
import { broadcastPrefix, flatten as treeFlatten, unflatten as treeUnflatten } from "../core/pytree.ts"
import { callUser, lifted } from "../combinator.ts"
import type { Lifted } from "../combinator.ts"
import { AliasTracker, filterMappingResolver, mergeTree, splitTree } from "../extract.ts"
import type { SplitOptions } from "../extract.ts"
import { LiftTypeError } from "../LiftError.ts"
import { currentMesh } from "./mesh.ts"
import type { Mesh } from "./mesh.ts"
import { describePureLeaves, graphNodesOnly } from "./scan.ts"

type Spec = PartitionSpec | null

/** A spec for one value: `null` (replicated), a `PartitionSpec`, a `StateSharding` (graph nodes) or a pytree of them. */
export type SpecTree = Spec | StateSharding | ReadonlyArray<unknown> | { readonly [k: string]: unknown }

/** Options of {@link shardMap}. */
export interface ShardMapOptions {
  /** The mesh; the one set by `withMesh` when omitted. */
  readonly mesh?: Mesh | undefined
  /** One spec (tree) per argument. */
  readonly inSpecs: ReadonlyArray<SpecTree>
  /** The spec (tree) of the output. */
  readonly outSpecs: SpecTree
}

const T = "nnx.shardMap"

const fail = (reason: string): never => {
  throw new LiftTypeError({ transform: T, reason })
}

const isSpec = (u: unknown): u is PartitionSpec =>
  Array.isArray(u) && u.every((x) => x === null || typeof x === "string")

/** Wraps a whole argument's spec, so a top-level spec array is not read as a tuple of specs. */
class ArgSpec {
  constructor(readonly spec: Spec) {}
}

const isSpecPrefix = (u: unknown): boolean =>
  u === null || u === undefined || u instanceof ArgSpec || isStateSharding(u) || isSpec(u)

const unwrap = (u: unknown): Spec => (u instanceof ArgSpec ? u.spec : ((u ?? null) as Spec))

const resolveSpec = filterMappingResolver<Spec>(T, (u): u is StateSharding => isStateSharding(u), unwrap)

const showSpec = (s: Spec): string => (s === null ? "null" : `(${s.join(", ")})`)

/** Per leaf of a pure tree: its spec (`null` for static leaves). */
const leafSpecs = (prefix: unknown, pure: unknown, what: string): Array<Spec> => {
  const [, def] = treeFlatten(pure)
  return broadcastPrefix(T, what, prefix, def, (u): u is unknown => isSpecPrefix(u), "args").map((p) => {
    if (isStateSharding(p))
      return fail(`StateSharding can only be used on graph nodes (Modules, Variables), in ${what}`)
    return unwrap(p)
  })
}

/** For one array and its spec: which dimension each mesh axis splits (or -1). */
const axisDims = (mesh: Mesh, spec: Spec, ndim: number, name: string): Array<number> => {
  const dims = mesh.axisNames.map(() => -1)
  if (spec === null) return dims
  if (spec.length > ndim)
    fail(`the spec ${showSpec(spec)} of ${name} has ${spec.length} entries but the array has only ${ndim} dimensions`)
  spec.forEach((axisName, d) => {
    if (axisName === null) return
    const k = mesh.axisNames.indexOf(axisName)
    if (k === -1)
      fail(`the spec ${showSpec(spec)} of ${name} names '${axisName}', which is not an axis of ${mesh.toString()}`)
    if (dims[k] !== -1) fail(`the spec ${showSpec(spec)} of ${name} names the mesh axis '${axisName}' twice`)
    dims[k] = d
  })
  return dims
}

/** Splits `x` into shards: each mesh axis it is split over becomes a leading axis, in mesh order. */
const toShards = (mesh: Mesh, x: JArray, dims: ReadonlyArray<number>, name: string): JArray => {
  let y = x
  let lead = 0
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k]!
    if (d === -1) continue
    const m = mesh.axisSizes[k]!
    const pos = lead + d
    const n = y.shape[pos]!
    if (n % m !== 0)
      fail(
        `dimension ${d} of ${name} (size ${n}) does not split evenly over the mesh axis '${mesh.axisNames[k]}' of size ${m}`
      )
    y = reshape(y, [...y.shape.slice(0, pos), m, n / m, ...y.shape.slice(pos + 1)])
    y = moveaxis(y, pos, 0)
    lead++
  }
  return y
}

/** The inverse of {@link toShards}: merges the leading per-mesh-axis dimensions back. */
const fromShards = (y: JArray, dims: ReadonlyArray<number>): JArray => {
  const used = dims.map((d, k) => [d, k] as const).filter(([d]) => d !== -1)
  let z = y
  for (let j = used.length - 1; j >= 0; j--) {
    const d = used[j]![0]
    z = moveaxis(z, j, j + d)
    const pos = j + d
    z = reshape(z, [...z.shape.slice(0, pos), z.shape[pos]! * z.shape[pos + 1]!, ...z.shape.slice(pos + 2)])
  }
  return z
}

/**
 * Runs `f` per shard on a mesh of virtual devices, like `nnx.shard_map`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * const model = new nnx.Linear(3, 2, { rngs: new nnx.Rngs(0) })
 * const x = jnp.ones([8, 3])
 * const mesh = nnx.makeMesh([4], ["data"])
 * // each of the 4 virtual devices computes 2 rows of the batch
 * const f = nnx.shardMap((m: nnx.Linear, x: jnp.Array) => m.call(x), { mesh, inSpecs: [null, nnx.P("data")], outSpecs: nnx.P("data") })
 * f.sync(model, x).shape // [8, 2]
 * jnp.allclose(f.sync(model, x), model.call(x)).item() // true
 * ```
 * @category transforms
 * @since 0.1.0
 */
export const shardMap = <Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options: ShardMapOptions
): Lifted<Args, R> =>
  lifted<Args, R>((args) => {
    const mesh = options.mesh ?? currentMesh() ?? fail("no mesh: pass options.mesh or run inside withMesh(mesh, ...)")
    if (options.inSpecs.length !== args.length)
      fail(
        `inSpecs has ${options.inSpecs.length} entries but the function got ${args.length} arguments; give one spec per argument`
      )
    const inSpecs = options.inSpecs.map((s) =>
      s === null || s === undefined || isSpec(s) ? new ArgSpec(s ?? null) : s
    )
    const outSpecs: unknown = isSpec(options.outSpecs) ? new ArgSpec(options.outSpecs) : options.outSpecs
    const base = {
      transform: T,
      isPrefixLeaf: isSpecPrefix,
      resolve: resolveSpec,
      show: showSpec,
      corePrefix: (s: Spec) => new ArgSpec(s)
    }

    // 1. Outer split, then each Array into its shards.
    const refMap = new Map<object, number>()
    const outer = splitTree<Spec>(args, inSpecs, { ...base, what: "inSpecs", refMap, aliases: new AliasTracker() })
    const [inLeaves, inDef] = treeFlatten(outer.pure)
    const specs = leafSpecs(outer.prefix, outer.pure, "inSpecs")
    const names = describePureLeaves(outer.pure, "args")
    const dynIdx: Array<number> = []
    const inDims: Array<Array<number>> = []
    const shards: Array<JArray> = []
    inLeaves.forEach((leaf, i) => {
      if (!isArray(leaf)) return
      const dims = axisDims(mesh, specs[i]!, leaf.ndim, names[i]!)
      dynIdx.push(i)
      inDims.push(dims)
      shards.push(toShards(mesh, leaf, dims, names[i]!))
    })

    let saved:
      | {
          leaves: Array<unknown>
          def: ReturnType<typeof treeFlatten>[1]
          dynIdx: Array<number>
          dims: Array<Array<number>>
        }
      | undefined

    // 2-3. Per shard: inner merge, call, inner split.
    const perShard = (arrays: ReadonlyArray<JArray>): Array<JArray> => {
      const leaves = [...inLeaves]
      dynIdx.forEach((li, j) => (leaves[li] = arrays[j]))
      const indexMap = new Map<number, object>()
      const innerArgs = mergeTree<Spec>(treeUnflatten(inDef, leaves), { indexMap }) as Array<unknown>
      const out = withMutationCheck(() => callUser(() => f(...(innerArgs as unknown as Args))))
      const splitOptions: SplitOptions<Spec> = {
        ...base,
        what: "inSpecs",
        refMap: new Map(),
        outerRefMap: refMapFromIndexMap(indexMap),
        aliases: new AliasTracker()
      }
      const a = splitTree<Spec>(innerArgs.map(graphNodesOnly), inSpecs, splitOptions)
      const o = splitTree<Spec>(out, outSpecs, { ...splitOptions, what: "outSpecs" })
      const pure = [a.pure, o.pure]
      const [outLeaves, outDef] = treeFlatten(pure)
      const outSpecsPerLeaf = leafSpecs([a.prefix, o.prefix], pure, "outSpecs")
      const outNames = describePureLeaves(pure, "[args, out]")
      const idx: Array<number> = []
      const dims: Array<Array<number>> = []
      const result: Array<JArray> = []
      outLeaves.forEach((leaf, i) => {
        if (!isArray(leaf)) return
        idx.push(i)
        dims.push(axisDims(mesh, outSpecsPerLeaf[i]!, leaf.ndim, outNames[i]!))
        result.push(leaf)
      })
      saved = { leaves: outLeaves, def: outDef, dynIdx: idx, dims }
      return result
    }

    const level = (k: number, arrays: ReadonlyArray<JArray>): Array<JArray> => {
      if (k === mesh.axisNames.length) return perShard(arrays)
      const used = (dims: ReadonlyArray<number>) => (dims[k] === -1 ? null : 0)
      return coreVmap((...xs: Array<JArray>) => level(k + 1, xs), {
        inAxes: inDims.map(used),
        axisSize: mesh.axisSizes[k]!,
        axisName: mesh.axisNames[k]!,
        [lateOutAxes]: () => saved!.dims.map(used)
      } as never)(...arrays)
    }
    const outArrays = level(0, shards)
    const s = saved!
    const leaves = [...s.leaves]
    s.dynIdx.forEach((li, j) => (leaves[li] = fromShards(outArrays[j]!, s.dims[j]!)))
    const [argsPure, outPure] = treeUnflatten(s.def, leaves) as [unknown, unknown]
    // 4. Outer merge.
    const mergeOptions = { indexMap: new Map<number, object>(), reuse: indexMapFromRefMap(refMap) }
    mergeTree(argsPure, mergeOptions)
    return mergeTree(outPure, mergeOptions) as never
  }, "nnx.shardMap")
