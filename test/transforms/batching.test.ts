/**
 * vmap: nested maps, random numbers over batches of keys, matmul with either side batched, key
 * arrays through structural primitives, the dispatch count's independence from the batch size,
 * and vmap's own errors. Per-primitive properties are in batchingProperties.test.ts.
 */
import { describe, expect, it } from "vitest"
import { Backend, DTypeError, ShapeError, jnp, lax, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { vmap } from "../../src/transforms/core/batching.ts"
import { VmapError } from "../../src/transforms/core/TransformError.ts"
import { sineRamp } from "../support/ramp.ts"

const seq = sineRamp

/** Slice `i` of `x` along `axis`. */
const at = (x: JArray, i: number, axis = 0): JArray =>
  lax.squeeze(
    lax.slice(
      x,
      x.shape.map((_, k) => (k === axis ? i : 0)),
      x.shape.map((d, k) => (k === axis ? i + 1 : d))
    ),
    [axis]
  )

const loop = (n: number, f: (i: number) => JArray, axis = 0): JArray =>
  jnp.stack(
    Array.from({ length: n }, (_, i) => f(i)),
    axis
  )

const expectClose = (actual: JArray, expected: JArray): void => {
  expect(actual.shape).toEqual(expected.shape)
  expect(actual.dtype).toBe(expected.dtype)
  expect(jnp.allclose(actual, expected, { rtol: 1e-5, atol: 1e-6 }).item()).toBe(true)
}

const catchError = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("expected an error")
}

describe("nested vmap", () => {
  it("vmap(vmap(f)) maps two axes", () => {
    const f = (x: JArray, w: JArray) => jnp.tanh(jnp.matmul(x, w)).sum()
    const xs = seq([4, 3, 5])
    const w = seq([5, 2], 0.3)
    const inner = vmap(f, { inAxes: [0, null] })
    const outer = vmap(inner, { inAxes: [1, null] })
    const got = outer(xs, w)
    const expected = loop(3, (j) => loop(4, (i) => f(at(at(xs, i), j), w)))
    expectClose(got, expected)
  })

  it("both levels batched in different arguments", () => {
    const f = (x: JArray, y: JArray) => jnp.concatenate([x.mul(y), jnp.cumsum(x)])
    const xs = seq([3, 4])
    const ys = seq([2, 4], 0.7)
    const got = vmap(vmap(f, { inAxes: [null, 0] }), { inAxes: [0, null] })(xs, ys)
    expect(got.shape).toEqual([3, 2, 8])
    expectClose(
      got,
      loop(3, (i) => loop(2, (j) => f(at(xs, i), at(ys, j))))
    )
  })

  it("an inner vmap over a value of the outer one with outAxes", () => {
    const xs = seq([2, 3, 4])
    const got = vmap((x: JArray) => vmap((r: JArray) => r.max(), { inAxes: 1 })(x), { outAxes: 1 })(xs)
    expectClose(
      got,
      loop(2, (i) => loop(4, (j) => at(at(xs, i), j, 1).max()), 1)
    )
  })
})

describe("random over batches of keys", () => {
  const keys = random.split(random.key(0), 5)

  it("vmap(random.uniform) equals sampling each key", () => {
    const got = vmap((k: JArray) => random.uniform(k, [3]))(keys)
    const expected = loop(5, (i) => random.uniform(at(keys, i), [3]))
    expect(got.tolist()).toEqual(expected.tolist())
  })

  it("normal, split and foldIn inside vmap", () => {
    const f = (k: JArray) => {
      const [a, b] = [at(random.split(k), 0), at(random.split(k), 1)]
      return jnp.concatenate([random.normal(a, [2]), random.uniform(random.foldIn(b, 3), [2])])
    }
    const got = vmap(f)(keys)
    expect(got.tolist()).toEqual(loop(5, (i) => f(at(keys, i))).tolist())
  })

  it("keys with a batch axis after other axes", () => {
    const grid = random.split(random.key(1), [2, 3])
    const got = vmap((k: JArray) => random.keyData(k), { inAxes: 1 })(grid)
    expect(got.tolist()).toEqual(loop(3, (j) => random.keyData(at(grid, j, 1))).tolist())
  })

  it("key arrays move through transposes, concatenation and dynamic updates", () => {
    const grid = random.split(random.key(2), [4, 2, 3])
    const fresh = random.split(random.key(3), [2, 1])
    const idx = jnp.array([0, 2, 1, 5])
    const f = (ks: JArray, i: JArray) => {
      const t = lax.transpose(ks, [1, 0])
      const c = lax.concatenate([t, t], 0)
      return random.keyData(lax.dynamicUpdateSlice(c, fresh, [0, i]))
    }
    const got = vmap(f)(grid, idx)
    expect(got.tolist()).toEqual(loop(4, (b) => f(at(grid, b), at(idx, b))).tolist())
    const outAxis = vmap(f, { outAxes: -1 })(grid, idx)
    expect(outAxis.tolist()).toEqual(loop(4, (b) => f(at(grid, b), at(idx, b)), -1).tolist())
  })
})

describe("matmul and dot with each side batched", () => {
  const a = seq([4, 3, 5])
  const b = seq([4, 5, 2], 0.2)
  const m = seq([3, 5], 0.3)
  const n = seq([5, 2], 0.4)

  it.each([
    ["both", [0, 0]],
    ["lhs only", [0, null]],
    ["rhs only", [null, 0]]
  ] as const)("jnp.matmul, %s batched", (_name, axes) => {
    const x = axes[0] === null ? m : a
    const y = axes[1] === null ? n : b
    const got = vmap(jnp.matmul, { inAxes: [axes[0], axes[1]] })(x, y)
    const expected = loop(4, (i) => jnp.matmul(axes[0] === null ? m : at(a, i), axes[1] === null ? n : at(b, i)))
    expectClose(got, expected)
  })

  it("batch axes in the middle and at the end", () => {
    const x = jnp.moveaxis(a, 0, 1) // [3, 4, 5]
    const y = jnp.moveaxis(b, 0, -1) // [5, 2, 4]
    const got = vmap(jnp.matmul, { inAxes: [1, -1] })(x, y)
    expectClose(
      got,
      loop(4, (i) => jnp.matmul(at(a, i), at(b, i)))
    )
    const lhsOnly = vmap(jnp.matmul, { inAxes: [1, null], outAxes: 2 })(x, n)
    expectClose(
      lhsOnly,
      loop(4, (i) => jnp.matmul(at(a, i), n), 2)
    )
    const rhsOnly = vmap(jnp.matmul, { inAxes: [null, -1], outAxes: -1 })(m, y)
    expectClose(
      rhsOnly,
      loop(4, (i) => jnp.matmul(m, at(b, i)), -1)
    )
  })

  it("jnp.dot of vectors and matrix-vector products", () => {
    const u = seq([6, 5])
    const v = seq([6, 5], 0.5)
    expectClose(
      vmap(jnp.dot)(u, v),
      loop(6, (i) => jnp.dot(at(u, i), at(v, i)))
    )
    expectClose(
      vmap(jnp.dot, { inAxes: [null, 0] })(m, v),
      loop(6, (i) => jnp.dot(m, at(v, i)))
    )
    expectClose(
      vmap(jnp.dot, { inAxes: [0, null] })(u, n),
      loop(6, (i) => jnp.dot(at(u, i), n))
    )
  })
})

describe("dispatches do not depend on the batch size", () => {
  const w = seq([4, 6], 0.2)
  const table = seq([5, 6], 0.3)
  const f = (x: JArray, i: JArray) => {
    const h = jnp.tanh(jnp.matmul(x, w)) // dot_general, tanh
    const s = h.sum(-1, { keepdims: true }) // reduce_sum
    const g = jnp.take(table, i, 0) // gather with a batched index
    const c = jnp.concatenate([h.sub(s), g, h.get("1:")]) // concatenate, slice
    const d = lax.dynamicSlice(c, [i], [3]) // dynamic_slice with a batched start
    const u = lax.dynamicUpdateSlice(c, d.mul(2), [i]) // dynamic_update_slice with a batched start
    return jnp.sort(u).add(jnp.argmax(c).astype("float32"))
  }
  const count = (batch: number): number => {
    const b = Backend.makeCpu()
    return Backend.withBackend(b, () => {
      const x = jnp.ones([batch, 4]).mul(jnp.arange(batch).astype("float32").reshape([batch, 1]).mul(0.01))
      const i = jnp.arange(batch).reshape([batch]).astype("int32")
      const idx = jnp.remainder(i, 5)
      Backend.resetStats(b)
      const out = vmap(f)(x, idx)
      expect(out.shape).toEqual([batch, 17])
      return b.stats.dispatches
    })
  }

  it("B = 1 and B = 1000 take the same number of dispatches", () => {
    const one = count(1)
    const many = count(1000)
    expect(one).toBeGreaterThan(10)
    expect(many).toBe(one)
  })

  it("results match the loop for a few examples", () => {
    const x = seq([3, 4])
    const i = jnp.array([4, 0, 2])
    expectClose(
      vmap(f)(x, i),
      loop(3, (k) => f(at(x, k), at(i, k)))
    )
  })
})

describe("dynamic indices", () => {
  it("uint32 starts of 2^31 and more clamp to the end, as outside vmap", () => {
    const x = seq([3, 5, 4])
    const i = jnp.array([0, 2 ** 31, 2 ** 32 - 1], { dtype: "uint32" })
    const slice = (r: JArray, k: JArray) => lax.dynamicSlice(r, [k, 1], [2, 2])
    expectClose(
      vmap(slice)(x, i),
      loop(3, (b) => slice(at(x, b), at(i, b)))
    )
    const update = (r: JArray, k: JArray) => lax.dynamicUpdateSlice(r, jnp.zeros([2, 2]), [k, k])
    expectClose(
      vmap(update)(x, i),
      loop(3, (b) => update(at(x, b), at(i, b)))
    )
  })
})

describe("per-example checks", () => {
  it("shape errors inside vmap name the per-example shapes", () => {
    const e = catchError(() => vmap((x: JArray) => lax.add(x, jnp.ones([2, 3])))(jnp.ones([5, 3])))
    expect(e).toBeInstanceOf(ShapeError)
    expect((e as ShapeError).message).toContain("(3,)")
    expect((e as ShapeError).message).not.toContain("(5, 3)")
  })

  it("key arrays in numeric primitives fail as they do outside vmap", () => {
    const keys = random.split(random.key(0), 3)
    const e = catchError(() => vmap((k: JArray) => lax.add(k, k))(keys))
    expect(e).toBeInstanceOf(DTypeError)
    expect((e as DTypeError).message).toContain("PRNG key arrays")
  })
})

describe("vmap errors", () => {
  it("inconsistent sizes name both argument paths", () => {
    const e = catchError(() =>
      vmap((x: JArray, y: { w: JArray }) => x.add(y.w))(jnp.ones([3, 2]), { w: jnp.ones([4, 2]) })
    )
    expect(e).toBeInstanceOf(VmapError)
    const msg = (e as VmapError).message
    expect(msg).toContain("inconsistent sizes")
    expect(msg).toContain("args[0]")
    expect(msg).toContain("args[1]['w']")
    expect(msg).toContain("size 3")
    expect(msg).toContain("size 4")
  })

  it("an axis out of range", () => {
    const e = catchError(() => vmap((x: JArray) => x, { inAxes: 2 })(jnp.ones([3, 2])))
    expect(e).toBeInstanceOf(VmapError)
    expect((e as VmapError).message).toContain("axis 2")
    expect((e as VmapError).message).toContain("args[0]")
  })

  it("a batched output with outAxes null", () => {
    const e = catchError(() => vmap((x: JArray) => x.mul(2), { outAxes: null })(jnp.ones([3])))
    expect(e).toBeInstanceOf(VmapError)
    expect((e as VmapError).message).toContain("outAxes is null")
    // An unbatched output may have outAxes null.
    expect(vmap((_x: JArray) => jnp.ones([2]), { outAxes: null })(jnp.ones([3])).shape).toEqual([2])
  })

  it("a non-Array leaf with an axis", () => {
    const e = catchError(() => vmap((x: JArray, s: number) => x.mul(s))(jnp.ones([3]), 2))
    expect(e).toBeInstanceOf(VmapError)
    expect((e as VmapError).message).toContain("args[1]")
    expect((e as VmapError).message).toContain("number")
    expect(vmap((x: JArray, s: number) => x.mul(s), { inAxes: [0, null] })(jnp.ones([3]), 2).tolist()).toEqual([
      2, 2, 2
    ])
  })
})
