/**
 * Collectives over named axes (`lax.psum`, `pmean`, `pmax`, `pmin`, `allGather`, `axisIndex`,
 * `ppermute`, `psumScatter`, `allToAll`) under `vmap` with `axisName`, `nnx.pmap` and
 * `nnx.shardMap`, against JAX: every case of test/goldens/collectives.json (written by
 * tools/goldens/collectives.py) is computed here under the same name. Then gradients against finite
 * differences, `jit` and an outer `vmap` equal to eager, and the typed errors.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { CollectiveError, grad, jit, jnp, jvp, lax, nnx, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Result } from "../support/goldenOps.ts"
import { expectMatches } from "../support/goldenOps.ts"

const goldens = JSON.parse(readFileSync(new URL("../goldens/collectives.json", import.meta.url), "utf8")) as {
  cases: Record<string, Result>
  errors: Record<string, string>
}

const f32 = (data: jnp.ArrayLiteral): JArray => jnp.array(data, { dtype: "float32" })
const range = (n: number, shape: ReadonlyArray<number>): JArray =>
  jnp.reshape(jnp.arange(n, undefined, undefined, { dtype: "float32" }), shape)
const x42 = range(8, [4, 2])
const x44 = range(16, [4, 4])
const x48 = range(32, [4, 8])
const x443 = range(48, [4, 4, 3])
const x23 = f32([
  [1, -2, 0.5],
  [3, 0.25, -1]
])
const v4 = f32([0.5, -1, 2, 1.5])
const w4 = f32([1, 2, -1, 0.5])
const cycle = [
  [0, 1],
  [1, 2],
  [2, 3],
  [3, 0]
] as const

const vm = <A extends ReadonlyArray<JArray>>(f: (...a: A) => JArray) => vmap(f, { axisName: "i" })
const nested = (f: (v: JArray) => JArray) => vmap(vmap(f, { axisName: "j" }), { axisName: "i" })
const sq = (v: JArray): JArray => v.mul(v)

/** Flax's synchronised BatchNorm: statistics averaged over the vmapped axis "batch". */
const batchNorm = (() => {
  let run: { y: JArray; mean: JArray; var: JArray } | undefined
  return () => {
    if (run !== undefined) return run
    const bn = new nnx.BatchNorm(3, { axisName: "batch", rngs: new nnx.Rngs(0) })
    const x = jnp.power(range(24, [4, 2, 3]), 1.5).div(10)
    const y = nnx.vmap((m: nnx.BatchNorm, v: JArray) => m.call(v), { inAxes: [null, 0], axisName: "batch" }).sync(bn, x)
    run = { y, mean: bn.mean.value, var: bn.var.value }
    return run
  }
})()

const CASES: Record<string, () => JArray> = {
  "BatchNorm axisName output": () => batchNorm().y,
  "BatchNorm axisName mean": () => batchNorm().mean,
  "BatchNorm axisName var": () => batchNorm().var,
  psum: () => vm((v: JArray) => lax.psum(v, "i"))(x42),
  pmean: () => vm((v: JArray) => lax.pmean(v, "i"))(x42),
  pmax: () => vm((v: JArray) => lax.pmax(v, "i"))(x23.T),
  pmin: () => vm((v: JArray) => lax.pmin(v, "i"))(x23.T),
  "psum int": () => vm((v: JArray) => lax.psum(v, "i"))(jnp.arange(4)),
  "psum bool": () => vm((v: JArray) => lax.psum(v, "i"))(jnp.greater(jnp.arange(4), 1)),
  "pmean int": () => vm((v: JArray) => lax.pmean(v, "i"))(jnp.arange(4)),
  "psum of a constant": () => vm((v: JArray) => jnp.add(lax.psum(1.0, "i"), v.mul(0)))(v4),
  "psum pytree": () => vm((v: JArray) => lax.psum({ a: v, b: [v.mul(2)] }, "i").b[0]!)(v4),
  allGather: () => vm((v: JArray) => lax.allGather(v, "i"))(x42),
  "allGather axis 1": () => vm((v: JArray) => lax.allGather(v, "i", { axis: 1 }))(x42),
  "allGather tiled": () => vm((v: JArray) => lax.allGather(v, "i", { tiled: true }))(x42),
  axisIndex: () => vm((_v: JArray) => lax.axisIndex("i"))(x42),
  "ppermute cycle": () => vm((v: JArray) => lax.ppermute(v, "i", cycle))(x42),
  "ppermute partial (pmap)": () =>
    nnx
      .pmap(
        (v: JArray) =>
          lax.ppermute(v, "i", [
            [0, 1],
            [1, 2]
          ]),
        { axisName: "i" }
      )
      .sync(x42),
  psumScatter: () => vm((v: JArray) => lax.psumScatter(v, "i"))(x44),
  "psumScatter tiled": () => vm((v: JArray) => lax.psumScatter(v, "i", { tiled: true }))(x48),
  "allToAll 0 0": () => vm((v: JArray) => lax.allToAll(v, "i", 0, 0))(x44),
  "allToAll 0 1": () => vm((v: JArray) => lax.allToAll(v, "i", 0, 1))(x443),
  "allToAll 1 0": () =>
    vm((v: JArray) => lax.allToAll(v, "i", 1, 0))(jnp.transpose(x443, [0, 2, 1]).get(":", ":3", ":")),
  "pmap pmean": () => nnx.pmap((v: JArray) => lax.pmean(v, "i"), { axisName: "i" }).sync(x42),
  "nested psum outer": () => nested((v) => lax.psum(v, "i"))(x23),
  "nested psum inner": () => nested((v) => lax.psum(v, "j"))(x23),
  "nested psum both": () => nested((v) => lax.psum(v, ["i", "j"]))(x23),
  "nested axisIndex": () => nested(() => jnp.add(lax.axisIndex("i").mul(10), lax.axisIndex("j")))(x23),
  "nested allGather outer": () => nested((v) => lax.allGather(v, "i"))(x23),
  "grad inside psum": () => vm(grad((v: JArray) => lax.psum(sq(v), "i")))(v4),
  "grad inside pmean": () => vm(grad((v: JArray) => lax.pmean(sq(v), "i")))(v4),
  "grad inside allGather": () => vm(grad((v: JArray) => jnp.sum(lax.allGather(v, "i").mul(w4))))(v4),
  "grad inside ppermute": () => vm(grad((v: JArray) => lax.ppermute(v, "i", cycle).mul(3)))(v4),
  "grad inside psumScatter": () => vm(grad((v: JArray) => jnp.sum(lax.psumScatter(v, "i").mul(v))))(x44),
  "grad inside allToAll (pmap)": () =>
    nnx
      .pmap(
        grad((v: JArray) =>
          jnp.sum(lax.allToAll(v, "i", 0, 0).mul(jnp.arange(4, undefined, undefined, { dtype: "float32" })))
        ),
        { axisName: "i" }
      )
      .sync(x44),
  "grad outside psum": () => grad((x: JArray) => jnp.sum(vm((v: JArray) => lax.psum(sq(v), "i"))(x).mul(w4)))(v4),
  "grad outside pmax": () => grad((x: JArray) => jnp.sum(vm((v: JArray) => jnp.sin(v).mul(lax.pmean(v, "i")))(x)))(v4),
  "jvp inside psum": () =>
    vm((v: JArray) => jvp((u: JArray) => lax.psum(sq(u), "i"), [v], [jnp.array(1, { dtype: "float32" })])[1])(v4),
  "grad of pmap pmean": () =>
    grad((x: JArray) =>
      jnp.sum(
        nnx
          .pmap((v: JArray) => lax.pmean(v.mul(v).mul(v), "i"), { axisName: "i" })
          .sync(x)
          .mul(w4)
      )
    )(v4),
  "shardMap pmean": () =>
    nnx
      .shardMap((b: JArray) => b.sub(lax.pmean(b, "x")), {
        mesh: nnx.makeMesh([4], ["x"]),
        inSpecs: [nnx.P("x")],
        outSpecs: nnx.P("x")
      })
      .sync(range(16, [8, 2])),
  "shardMap axisIndex": () =>
    nnx
      .shardMap((b: JArray) => b.mul(0).add(lax.axisIndex("x")), {
        mesh: nnx.makeMesh([4], ["x"]),
        inSpecs: [nnx.P("x")],
        outSpecs: nnx.P("x")
      })
      .sync(jnp.zeros([8], { dtype: "int32" })),
  "shardMap 2x2 psum a": () =>
    nnx
      .shardMap((b: JArray) => lax.psum(b, "a"), {
        mesh: nnx.makeMesh([2, 2], ["a", "b"]),
        inSpecs: [nnx.P("a", "b")],
        outSpecs: nnx.P("a", "b")
      })
      .sync(range(16, [4, 4])),
  "shardMap 2x2 psum both": () =>
    nnx
      .shardMap((b: JArray) => lax.psum(b, ["a", "b"]), {
        mesh: nnx.makeMesh([2, 2], ["a", "b"]),
        inSpecs: [nnx.P("a", "b")],
        outSpecs: nnx.P("a", "b")
      })
      .sync(range(16, [4, 4]))
}

describe("collectives against JAX goldens", () => {
  it("every golden case has a computation here, and every computation a golden", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(goldens.cases).sort())
  })
  for (const [name, want] of Object.entries(goldens.cases)) {
    it(name, () => {
      const f = CASES[name]
      if (f === undefined) throw new Error(`no computation for the golden case ${name}`)
      expectMatches(name, f(), want, { atol: 1e-5, rtol: 1e-5 })
    })
  }
})

const expectClose = (got: JArray, want: JArray, tol = 1e-5): void => {
  expect(got.shape).toEqual(want.shape)
  const [a, b] = [got.dataSync(), want.dataSync()]
  b.forEach((w, i) =>
    expect(Math.abs(Number(a[i]) - Number(w)), `[${i}] = ${a[i]}, want ${w}`).toBeLessThanOrEqual(
      tol * (1 + Math.abs(Number(w)))
    )
  )
}

/** Central differences of a scalar function of a float32 vector. */
const finiteDiff = (f: (x: JArray) => JArray, x: JArray, h = 1e-2): JArray => {
  const base = x.tolist() as Array<number>
  return f32(
    base.map((_, i) => {
      const at = (d: number) => Number(f(f32(base.map((b, k) => (k === i ? b + d : b)))).item())
      return (at(h) - at(-h)) / (2 * h)
    })
  )
}

describe("collectives: gradients against finite differences", () => {
  const losses: Record<string, (x: JArray) => JArray> = {
    psum: (x) => jnp.sum(vm((v: JArray) => jnp.sin(lax.psum(sq(v), "i")))(x).mul(w4)),
    "pmean then allGather": (x) =>
      jnp.sum(vm((v: JArray) => lax.allGather(lax.pmean(jnp.exp(v), "i").mul(v), "i"))(x).mul(jnp.reshape(w4, [1, 4]))),
    ppermute: (x) =>
      jnp.sum(
        vm((v: JArray) =>
          lax
            .ppermute(sq(v), "i", [
              [0, 2],
              [2, 1]
            ])
            .mul(v)
        )(x).mul(w4)
      ),
    pmax: (x) => jnp.sum(vm((v: JArray) => lax.pmax(v, "i").mul(v))(x))
  }
  for (const [name, loss] of Object.entries(losses)) {
    it(`grad of a loss through ${name} (differentiated outside the map) matches finite differences`, () => {
      expectClose(grad(loss)(v4), finiteDiff(loss, v4), 3e-2)
    })
  }
  it("grad inside the map sums the cotangents of every member (psum's transpose is psum)", () => {
    // d/dv_k of sum_j w_j * psum(v^2)_j is 2 v_k sum_j w_j when each member's output is seeded alike.
    const inside = vm(grad((v: JArray) => lax.psum(sq(v), "i").mul(3)))(v4)
    expectClose(inside, v4.mul(2 * 3 * 4))
  })
})

describe("collectives: jit and an outer vmap equal eager", () => {
  const f = (x: JArray) =>
    vm((v: JArray) => lax.allGather(v.sub(lax.pmean(v, "i")), "i", { axis: 0 }).add(lax.ppermute(v, "i", cycle)))(x)
  it("jit around the mapped function", () => {
    expectClose(jit(f)(x42), f(x42))
  })
  it("vmap around the mapped function, each slice equal to its own call", () => {
    const batch = jnp.stack([x42, x42.mul(-2)])
    const out = vmap(f)(batch)
    expectClose(out.get(0), f(x42))
    expectClose(out.get(1), f(x42.mul(-2)))
  })
  it("nnx.pmap inside jit", () => {
    const g = (x: JArray) => nnx.pmap((v: JArray) => lax.psum(v, "d"), { axisName: "d" }).sync(x)
    expectClose(jit(g)(x42), g(x42))
  })
})

describe("collectives: typed errors", () => {
  const fails = (f: () => unknown, text: RegExp): void => {
    let err: unknown
    try {
      f()
    } catch (e) {
      err = e
    }
    expect(err, "no error").toBeInstanceOf(CollectiveError)
    expect((err as CollectiveError).message).toMatch(text)
  }
  it("an axis name no transform binds is an error naming it (JAX: NameError unbound axis name)", () => {
    expect(goldens.errors["unbound outside"]).toMatch(/NameError: unbound axis name: j/)
    fails(() => lax.psum(1, "j"), /lax\.psum: unbound axis name 'j' \(no axis is bound here\)/)
    fails(() => vm((v: JArray) => lax.pmean(v, "j"))(x42), /lax\.pmean: unbound axis name 'j' \(bound here: 'i'\)/)
    fails(() => lax.axisIndex("data"), /lax\.axisIndex: unbound axis name 'data'/)
    expect(() => vm((v: JArray) => lax.psum(v, "j"))(x42)).toThrow(
      expect.objectContaining({ _tag: "CollectiveError", axisName: "j", op: "psum" })
    )
  })
  it("a bad permutation, dimension or split size says which", () => {
    fails(
      () => vm((v: JArray) => lax.ppermute(v, "i", [[0, 4]]))(x42),
      /ppermute: the pair \[0, 4\] names member 4, outside axis 'i' of size 4/
    )
    fails(
      () =>
        vm((v: JArray) =>
          lax.ppermute(v, "i", [
            [0, 1],
            [2, 1]
          ])
        )(x42),
      /repeats a destination/
    )
    fails(
      () => vm((v: JArray) => lax.psumScatter(v, "i"))(x42),
      /psumScatter: dimension 0 has size 2, which must equal the size 4 of axis 'i'/
    )
    fails(() => vm((v: JArray) => lax.allToAll(v, "i", 0, 0))(x42), /allToAll: splitAxis 0 has size 2/)
    fails(() => vm((v: JArray) => lax.allGather(v, "i", { axis: 3 }))(x42), /allGather: axis 3 is out of range/)
  })
  it("pmax differentiated inside the map is refused, as in JAX", () => {
    fails(() => vm(grad((v: JArray) => lax.pmax(v, "i")))(v4), /pmax: it is not differentiable/)
  })
  it("a collective staged by jit or scan inside the mapped function is refused, saying what to move", () => {
    fails(
      () => vm(jit((v: JArray) => lax.psum(v, "i")))(x42),
      /cannot run inside jit within the function mapped over 'i'.*jit\(pmap\(f\)\)/
    )
    fails(
      () =>
        vm((v: JArray) => lax.scan((c: JArray, x: JArray) => [c.add(lax.psum(x, "i")), c] as const, v.mul(0), v)[0])(
          x42
        ),
      /psum: it cannot run inside scan within the function mapped over 'i'; compute the collective outside the scan body/
    )
  })
})
