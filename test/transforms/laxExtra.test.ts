/**
 * `lax.map`, `lax.topK`, `lax.dynamicSliceInDim` and `lax.dynamicUpdateSliceInDim` against JAX
 * (tools/goldens/nn_random_extra.py), eagerly and under `jit`, `vmap` and `grad`.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { ArgumentError, DTypeError, grad, jit, jnp, lax, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

type Nested = number | ReadonlyArray<Nested>
interface Goldens {
  readonly lax: {
    readonly x: Nested
    readonly top_k: ReadonlyArray<{ x: Nested; dtype: "float32" | "int32"; k: number; values: Nested; indices: Nested }>
    readonly dynamic_slice_in_dim: ReadonlyArray<{ start: number; size: number; axis: number; out: Nested }>
    readonly dynamic_update_slice_in_dim: ReadonlyArray<{
      start: number
      axis: number
      update_shape: ReadonlyArray<number>
      out: Nested
    }>
    readonly map: { readonly xs: Nested; readonly out: Nested }
  }
}

const G: Goldens = JSON.parse(fs.readFileSync(new URL("../goldens/nn_random_extra.json", import.meta.url), "utf8"))
const L = G.lax

const flat = (x: Nested): Array<number> => (typeof x === "number" ? [x] : x.flatMap(flat))
const shapeOf = (x: Nested): Array<number> =>
  typeof x === "number" ? [] : [x.length, ...(x.length > 0 ? shapeOf(x[0]!) : [])]
const fromNested = (x: Nested, dtype: "float32" | "int32" = "float32"): JArray =>
  jnp.reshape(jnp.array(flat(x), { dtype }), shapeOf(x))
const expectEqual = (actual: JArray, expected: Nested, label: string): void => {
  expect(actual.shape, label).toEqual(shapeOf(expected))
  const values = flat(expected)
  expect(jnp.reshape(actual, [-1]).tolist(), label).toEqual(
    actual.dtype === "float32" ? values.map(Math.fround) : values
  )
}

describe("lax.topK", () => {
  it("gives jax.lax.top_k's values and indices, ties lower index first", () => {
    for (const c of L.top_k) {
      const [v, i] = lax.topK(fromNested(c.x, c.dtype), c.k)
      expect(i.dtype).toBe("int32")
      expectEqual(v, c.values, `top_k values k=${c.k}`)
      expectEqual(i, c.indices, `top_k indices k=${c.k}`)
    }
  })
  it("works under jit and vmap, and its values differentiate", () => {
    const x = fromNested(L.x)
    const f = (y: JArray) => lax.topK(y, 2)[0]
    expect(jit(f)(x).tolist()).toEqual(f(x).tolist())
    expect(vmap(f)(x).tolist()).toEqual(f(x).tolist())
    const g = grad((y: JArray) => jnp.sum(lax.topK(y, 2)[0]))(jnp.array([1, 5, 3, 4], { dtype: "float32" }))
    expect(g.tolist()).toEqual([0, 1, 0, 1])
  })
  it("refuses a k out of range, a scalar, and booleans, with typed errors", () => {
    expect(() => lax.topK(jnp.ones([3]), 4)).toThrow(ArgumentError)
    expect(() => lax.topK(jnp.ones([3]), -1)).toThrow(ArgumentError)
    expect(() => lax.topK(jnp.array(1, { dtype: "float32" }), 1)).toThrow(ShapeError)
    expect(() => lax.topK(jnp.array([true, false]), 1)).toThrow(DTypeError)
  })
})

describe("lax.dynamicSliceInDim and lax.dynamicUpdateSliceInDim", () => {
  const x = fromNested(L.x)
  it("match JAX, negative and out-of-range starts included", () => {
    for (const c of L.dynamic_slice_in_dim)
      expectEqual(lax.dynamicSliceInDim(x, c.start, c.size, c.axis), c.out, `dynamic_slice_in_dim ${JSON.stringify(c)}`)
    for (const c of L.dynamic_update_slice_in_dim) {
      const update = jnp.full(c.update_shape, -1, { dtype: "float32" })
      expectEqual(
        lax.dynamicUpdateSliceInDim(x, update, c.start, c.axis),
        c.out,
        `dynamic_update_slice_in_dim ${JSON.stringify(c)}`
      )
    }
  })
  it("take a traced start under jit", () => {
    const f = jit((start: JArray) => lax.dynamicSliceInDim(x, start, 2, 1))
    expect(f(jnp.array(3)).tolist()).toEqual(lax.dynamicSliceInDim(x, 3, 2, 1).tolist())
    const u = jit((start: JArray) => lax.dynamicUpdateSliceInDim(x, jnp.zeros([1, 5]), start, 0))
    expect(u(jnp.array(2)).tolist()).toEqual(lax.dynamicUpdateSliceInDim(x, jnp.zeros([1, 5]), 2, 0).tolist())
  })
})

describe("lax.map", () => {
  it("maps over the leading axis as jax.lax.map does", () => {
    const f = (r: JArray) => jnp.add(jnp.sum(jnp.multiply(r, r)), jnp.max(r))
    expectEqual(lax.map(f, fromNested(L.map.xs)), L.map.out, "map")
  })
  it("maps pytrees, and differentiates", () => {
    const out = lax.map((p: { a: JArray; b: JArray }) => [jnp.add(p.a, p.b), jnp.multiply(p.a, 2)] as const, {
      a: jnp.array([0, 1, 2], { dtype: "float32" }),
      b: jnp.ones([3])
    })
    expect(out[0].tolist()).toEqual([1, 2, 3])
    expect(out[1].tolist()).toEqual([0, 2, 4])
    const g = grad((xs: JArray) => jnp.sum(lax.map((r: JArray) => jnp.sum(jnp.multiply(r, r)), xs)))(jnp.ones([2, 3]))
    expect(g.tolist()).toEqual([
      [2, 2, 2],
      [2, 2, 2]
    ])
  })
})
