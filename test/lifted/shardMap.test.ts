/**
 * nnx.shardMap on meshes of virtual devices, Mesh / makeMesh, and the spmd metadata helper
 * getPartitionSpec: a sharded computation equals the unsharded one.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { jnp, nnx, random, VmapError } from "effect-nnx"
import { getPartitionSpec, makeMesh, P, partitionSpecs, withMesh } from "../../src/transforms/lifted/mesh.ts"
import { shardMap } from "../../src/transforms/lifted/shardMap.ts"

const D = 3

class Linear extends nnx.Module {
  w: nnx.Param<jnp.Array>
  b: nnx.Param<jnp.Array>
  constructor(din: number, dout: number, seed: number) {
    super()
    this.w = new nnx.Param(random.normal(random.key(seed), [din, dout]), { shardingNames: [null, "model"] })
    this.b = new nnx.Param(random.normal(random.key(seed + 1), [dout]), { shardingNames: ["model"] })
  }
  call(x: jnp.Array): jnp.Array {
    return x.matmul(this.w.value).add(this.b.value)
  }
}

class Stats extends nnx.Module {
  total: nnx.BatchStat<jnp.Array>
  calls: nnx.BatchStat<jnp.Array>
  constructor(n: number) {
    super()
    this.total = new nnx.BatchStat(jnp.zeros([n]))
    this.calls = new nnx.BatchStat(jnp.array(0))
  }
}

const close = (a: jnp.Array, b: jnp.Array): void => {
  expect(a.shape).toEqual(b.shape)
  expect(jnp.allclose(a, b, { atol: 1e-5 }).tolist()).toBe(true)
}

describe("Mesh", () => {
  it("makeMesh names axes over product(shape) virtual devices", () => {
    const mesh = makeMesh([2, 3], ["data", "model"])
    expect(mesh.size).toBe(6)
    expect(mesh.shape).toEqual({ data: 2, model: 3 })
    expect(mesh.devices.map((d) => d.coords)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2]
    ])
    expect(mesh.devices.every((d) => d.platform === "virtual")).toBe(true)
    expect(() => makeMesh([2], ["a", "b"])).toThrow(nnx.LiftTypeError)
    expect(() => mesh.axisSize("nope")).toThrow(/no mesh axis named 'nope'/)
  })

  it("getPartitionSpec reads shardingNames metadata (replicated when absent)", () => {
    const m = new Linear(D, 4, 0)
    const stats = new Stats(2)
    expect(partitionSpecs(m)).toEqual([
      ["b", ["model"]],
      ["w", [null, "model"]]
    ])
    expect(partitionSpecs(stats)).toEqual([
      ["calls", []],
      ["total", []]
    ])
    const specs = getPartitionSpec(nnx.state(m))
    expect(specs.paths).toEqual([["b"], ["w"]])
  })
})

describe("nnx.shardMap", () => {
  it("over a 1-D mesh of 4 virtual devices: data-parallel apply equals the unsharded computation", () => {
    const mesh = makeMesh([4], ["data"])
    const model = new Linear(D, 5, 1)
    const x = random.normal(random.key(2), [8, D])
    const f = shardMap(
      (m: Linear, xs: jnp.Array) => {
        expect(xs.shape).toEqual([2, D])
        return m.call(xs)
      },
      { mesh, inSpecs: [null, P("data")], outSpecs: P("data") }
    )
    close(f.sync(model, x), model.call(x))
  })

  it("model-parallel: weights split over the mesh axis, outputs concatenated on the feature dim", () => {
    const mesh = makeMesh([4], ["model"])
    const model = new Linear(D, 8, 3)
    const x = random.normal(random.key(4), [5, D])
    const byMeta = new nnx.StateSharding([
      [nnx.PathContains("w"), P(null, "model")],
      [nnx.PathContains("b"), P("model")]
    ])
    const y = shardMap(
      (m: Linear, xs: jnp.Array) => {
        expect(m.w.value.shape).toEqual([D, 2])
        return m.call(xs)
      },
      { mesh, inSpecs: [byMeta, null], outSpecs: P(null, "model") }
    ).sync(model, x)
    close(y, model.call(x))
    expect(model.w.value.shape).toEqual([D, 8])
  })

  it("a 2-D mesh (data x model) with the mesh set by withMesh", () => {
    const mesh = makeMesh([2, 2], ["data", "model"])
    const x = random.normal(random.key(5), [4, D])
    const w = random.normal(random.key(6), [D, 6])
    const y = withMesh(mesh, () =>
      shardMap(
        (xs: jnp.Array, ws: jnp.Array) => {
          expect([xs.shape, ws.shape]).toEqual([
            [2, D],
            [D, 3]
          ])
          return xs.matmul(ws)
        },
        { inSpecs: [P("data", null), P(null, "model")], outSpecs: P("data", "model") }
      ).sync(x, w)
    )
    close(y, x.matmul(w))
  })

  it("state written per shard comes back concatenated with its input spec", () => {
    const mesh = makeMesh([4], ["data"])
    const stats = new Stats(8)
    const x = jnp.arange(16, undefined, undefined, { dtype: "float32" }).reshape(8, 2)
    const sharding = new nnx.StateSharding([
      [nnx.PathContains("total"), P("data")],
      ["...", null]
    ])
    shardMap(
      (s: Stats, xs: jnp.Array) => {
        s.total.value = s.total.value.add(xs.sum(1))
        s.calls.value = s.calls.value.add(1)
      },
      { mesh, inSpecs: [sharding, P("data")], outSpecs: null }
    ).sync(stats, x)
    close(stats.total.value, x.sum(1))
    expect(stats.calls.value.tolist()).toBe(1)
  })

  it("an output that varies over a mesh axis its spec does not name is an error; nothing changes", () => {
    const mesh = makeMesh([4], ["data"])
    const stats = new Stats(8)
    const f = shardMap(
      (s: Stats, xs: jnp.Array) => {
        s.calls.value = s.calls.value.add(1)
        return xs.sum()
      },
      { mesh, inSpecs: [null, P("data")], outSpecs: null }
    )
    expect(() => f.sync(stats, jnp.ones([8]))).toThrow(VmapError)
    expect(stats.calls.value.tolist()).toBe(0)
  })

  it("uneven shards, unknown axis names and a wrong inSpecs length are typed errors", () => {
    const mesh = makeMesh([4], ["data"])
    const id = (x: jnp.Array) => x
    expect(() => shardMap(id, { mesh, inSpecs: [P("data")], outSpecs: P("data") }).sync(jnp.ones([6]))).toThrow(
      /does not split evenly/
    )
    expect(() => shardMap(id, { mesh, inSpecs: [P("batch")], outSpecs: P("data") }).sync(jnp.ones([8]))).toThrow(
      /not an axis of Mesh\('data': 4\)/
    )
    expect(() => shardMap(id, { mesh, inSpecs: [], outSpecs: P("data") }).sync(jnp.ones([8]))).toThrow(
      /one spec per argument/
    )
  })

  it.effect("the Effect form", () =>
    Effect.gen(function* () {
      const mesh = makeMesh([2], ["data"])
      const y = yield* shardMap((x: jnp.Array) => x.mul(2), { mesh, inSpecs: [P("data")], outSpecs: P("data") })(
        jnp.arange(4)
      )
      expect(y.tolist()).toEqual([0, 2, 4, 6])
    })
  )
})
