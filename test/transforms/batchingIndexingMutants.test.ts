/**
 * The batching rules of the slicing and indexing primitives (src/transforms/core/batchRulesIndexing.ts),
 * checked where a mutation run (Stryker) found behaviour the property suite does not pin down. Values
 * are checked against an explicit loop over the batch (every combination of in axes 0, 1, -1 and
 * unmapped per operand, several batch sizes and out axes): out-of-bounds indices in each index mode,
 * duplicate indices of scatter-add, negative axes, key arrays, and per-example start indices. The
 * programs the rules build are checked too (with makeJaxpr): which primitives they apply (a shared
 * start slices, a per-example one gathers; no identity transposes, no one-column concatenations, no
 * needless conversions), which axes a window gather indexes, and where operands meet; and that they
 * leave the caller's parameter arrays alone.
 */
import { describe, expect, it } from "vitest"
import { jnp, lax, makeJaxpr, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Eqn } from "../../src/backend/Jaxpr.ts"
import { vmap } from "../../src/transforms/core/batching.ts"
import type { Case, Kind, Run } from "../support/properties/batching.ts"
import { sliceAt, vmapAndLoop } from "../support/properties/batching.ts"
import { sineRamp } from "../support/ramp.ts"

// ---------------------------------------------------------------------------------------------
// Helpers

/** Checks `actual` against `expected`: shape, dtype, weak type and values (key arrays by their data). */
const expectSame = (actual: JArray, expected: JArray, what = ""): void => {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape)
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype)
  expect(actual.weakType, `${what}: weak type`).toBe(expected.weakType)
  const data = (x: JArray) => (x.dtype === "key<fry>" ? random.keyData(x) : x).dataSync()
  const a = data(actual)
  const e = data(expected)
  expect(a.length, `${what}: size`).toBe(e.length)
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!
    const y = e[i]!
    if (Number.isNaN(y)) expect(Number.isNaN(x), `${what}[${i}]: ${x} vs NaN`).toBe(true)
    else if (x !== y)
      expect(Math.abs(x - y), `${what}[${i}]: ${x} vs ${y}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(y)))
  }
}

/**
 * `c` under vmap equals the loop over the batch for every combination of in axes (0, 1, -1 or
 * unmapped per operand, not all unmapped), with batch sizes 1 to 3 and out axes 0, -1 and 1 cycled
 * through the combinations.
 */
const everyAxis = (c: Case, d: readonly [number, number, number, number] = [2, 3, 2, 2], seed = 7): void => {
  const n = c.args(d).length
  const combos = 4 ** n
  for (let k = 0; k < combos; k++) {
    const axes = Array.from({ length: 4 }, (_, i) => (i < n ? Math.floor(k / 4 ** i) % 4 : 0))
    if (axes.slice(0, n).every((a) => a === 3)) continue
    const r: Run = {
      d: [d[0], d[1], d[2], d[3]],
      batch: 1 + (k % 3),
      axes,
      outAxis: Math.floor(k / 3) % 3,
      seed: seed + k
    }
    const { got, expected, what } = vmapAndLoop(c, r)
    expect(got.length).toBe(expected.length)
    got.forEach((g, i) => expectSame(g, expected[i]!, `output ${i} ${what} batch ${r.batch}`))
  }
}

const spec = (kind: Kind, ...shape: ReadonlyArray<number>) => ({ shape, kind })
const f32 = (...shape: ReadonlyArray<number>) => spec("f32", ...shape)
const ix = (lo: number, hi: number, dtype: "int32" | "uint32" = "int32"): Kind => ({ lo, hi, dtype })

const seq = sineRamp

/** The loop over the batch: `f` of example `b` of each argument (`null`: shared), stacked on `outAxis`. */
const loop = (
  f: (...xs: ReadonlyArray<JArray>) => JArray,
  args: ReadonlyArray<JArray>,
  inAxes: ReadonlyArray<number | null>,
  outAxis = 0
): JArray => {
  const i = inAxes.findIndex((a) => a !== null)
  const ax = inAxes[i]!
  const size = args[i]!.shape[ax < 0 ? args[i]!.ndim + ax : ax]!
  return jnp.stack(
    Array.from({ length: size }, (_, b) =>
      f(
        ...args.map((x, k) => {
          const a = inAxes[k] ?? null
          return a === null ? x : sliceAt(x, b, a < 0 ? x.ndim + a : a)
        })
      )
    ),
    outAxis
  )
}

/** The equations of the program vmap(f) runs on `args`. */
const eqnsOf = (
  f: (...xs: ReadonlyArray<JArray>) => JArray,
  inAxes: ReadonlyArray<number | null>,
  args: ReadonlyArray<JArray>,
  outAxes = 0
): ReadonlyArray<Eqn> =>
  makeJaxpr((...xs: ReadonlyArray<JArray>) => vmap(f, { inAxes: inAxes.slice(), outAxes })(...xs))(...args).closed.jaxpr
    .eqns

const count = (eqns: ReadonlyArray<Eqn>, prim: string): number => eqns.filter((e) => e.prim === prim).length
const only = (eqns: ReadonlyArray<Eqn>, prim: string): Eqn => {
  const found = eqns.filter((e) => e.prim === prim)
  expect(found.length, `one ${prim}`).toBe(1)
  return found[0]!
}

/** vmap(f) equals the loop, and its program's equations. */
const checked = (
  f: (...xs: ReadonlyArray<JArray>) => JArray,
  inAxes: ReadonlyArray<number | null>,
  args: ReadonlyArray<JArray>,
  outAxes = 0
): ReadonlyArray<Eqn> => {
  expectSame(vmap(f, { inAxes: inAxes.slice(), outAxes })(...args), loop(f, args, inAxes, outAxes))
  return eqnsOf(f, inAxes, args, outAxes)
}

// ---------------------------------------------------------------------------------------------
// Values against the loop, every combination of in axes

describe("gather and scatter equal the loop for every in axis", () => {
  it("gather clamps out-of-bounds indices in clip and promise_in_bounds modes (negative indexed axis)", () => {
    for (const mode of ["clip", "promise_in_bounds"] as const)
      everyAxis({
        args: ([a, b, c, e]) => [f32(a, b + 1, c), spec(ix(-4, 6), e, 1)],
        f: (x, i) => lax.gather(x!, i!, { indexedAxes: [-2], batchDims: 0, mode })
      })
  })

  it("gather fills out-of-bounds reads in fill mode, with batch dims and two indexed axes", () => {
    everyAxis({
      args: ([a, b, c, e]) => [f32(a, b, c + 1), spec(ix(-2, 5), a, e, 2)],
      f: (x, i) => lax.gather(x!, i!, { indexedAxes: [-1, 1], batchDims: 1, mode: "fill" })
    })
  })

  it("scatter drops out-of-bounds updates in fill and promise_in_bounds modes, clamps them in clip mode", () => {
    for (const mode of ["fill", "promise_in_bounds", "clip"] as const)
      everyAxis({
        args: ([a, b, , e]) => [f32(a + 1, b), spec(ix(-2, 5), e, 1), f32(e, b)],
        f: (x, i, u) => lax.scatter(x!, i!, u!, { indexedAxes: [0], batchDims: 0, mode })
      })
  })

  it("scatter-add sums duplicate indices, per example and shared", () => {
    everyAxis({
      args: ([a]) => [spec("i32", 2, a), spec(ix(0, 1), 5, 1), spec("i32", 5, a)],
      f: (x, i, u) => lax.scatterAdd(x!, i!, u!, { indexedAxes: [0], batchDims: 0, mode: "clip" })
    })
    // Every update lands on the one element: each example's sum.
    const x = jnp.zeros([3, 2], { dtype: "int32" })
    const u = jnp.array([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9]
    ])
    const i = jnp.zeros([3, 1], { dtype: "int32" }).add(1)
    const f = (x: JArray, u: JArray) => lax.scatterAdd(x, i, u, { indexedAxes: [0], batchDims: 0, mode: "clip" })
    expect(vmap(f)(x, u).tolist()).toEqual([
      [0, 6],
      [0, 15],
      [0, 24]
    ])
  })

  it("scatter-add with batch dims drops out-of-bounds updates (promise_in_bounds), negative indexed axis", () => {
    everyAxis({
      args: ([a, b, c, e]) => [f32(a, b + 1, c), spec(ix(-1, 4), a, e, 1), f32(a, e, b + 1)],
      f: (x, i, u) => lax.scatterAdd(x!, i!, u!, { indexedAxes: [-1], batchDims: 1, mode: "promise_in_bounds" })
    })
  })
})

describe("slicing primitives equal the loop for every in axis", () => {
  it("dynamic_slice of a window on the first and last axes, starts out of bounds either side", () => {
    everyAxis({
      args: ([a, b, c]) => [f32(a + 2, b, c + 2), spec(ix(-3, a + 5)), spec(ix(-4, c + 5))],
      f: (x, i, j) => lax.dynamicSlice(x!, [i!, 0, j!], [2, x!.shape[1]!, 2])
    })
  })

  it("dynamic_slice with uint32 starts on two axes", () => {
    everyAxis({
      args: ([a, b]) => [spec("i32", a + 1, b + 2), spec(ix(0, 6, "uint32")), spec(ix(0, 6, "uint32"))],
      f: (x, i, j) => lax.dynamicSlice(x!, [i!, j!], [1, 2])
    })
  })

  it("dynamic_update_slice of a window on the last axis only, and of one covering the operand", () => {
    everyAxis({
      args: ([a, b, c]) => [f32(a, b + 2, c), f32(a, 2, c), spec(ix(-3, b + 4))],
      f: (x, u, i) => lax.dynamicUpdateSlice(x!, u!, [0, i!, 0])
    })
    everyAxis({
      args: ([a, b]) => [spec("i32", a, b), spec("i32", a, b), spec(ix(-2, 2))],
      f: (x, u, i) => lax.dynamicUpdateSlice(x!, u!, [i!, 0])
    })
  })

  it("concatenate along a negative dimension", () => {
    everyAxis({
      args: ([a, b, c]) => [f32(a, b), f32(a, c), f32(a, 1)],
      f: (x, y, z) => lax.concatenate([x!, y!, z!], -1)
    })
    everyAxis({
      args: ([a, b, c]) => [f32(b, a, c), f32(1, a, c)],
      f: (x, y) => jnp.concatenate([x!, y!], -3)
    })
  })

  it("pad with a per-example padding value, boolean and integer operands", () => {
    everyAxis({
      args: ([a, b]) => [spec("bool", a, b), spec("bool")],
      f: (x, v) =>
        lax.pad(x!, v!, [
          [1, 0, 1],
          [0, 2, 0]
        ])
    })
    everyAxis({
      args: ([a]) => [spec("i32", a + 1), spec("i32")],
      f: (x, v) => lax.pad(x!, v!, [[-1, 2, 1]])
    })
  })

  it("slice with strides", () => {
    everyAxis({
      args: ([a, b]) => [f32(a + 2, b + 3)],
      f: (x) => lax.slice(x!, [1, 0], [x!.shape[0]!, x!.shape[1]!], [2, 3])
    })
  })
})

// ---------------------------------------------------------------------------------------------
// Key arrays

describe("key arrays in per-example updates", () => {
  it("a window on the last axis only (the update's key data axis stays last)", () => {
    const grid = random.split(random.key(4), [3, 4, 3])
    const fresh = random.split(random.key(5), [4, 1])
    const starts = jnp.array([2, 0, 1])
    const f = (ks: JArray, i: JArray) => lax.dynamicUpdateSlice(ks, fresh, [0, i])
    expectSame(vmap(f)(grid, starts), loop(f, [grid, starts], [0, 0]))
    const g = (ks: JArray, u: JArray, i: JArray) => lax.dynamicUpdateSlice(ks, u, [0, i])
    const us = random.split(random.key(6), [4, 3, 1])
    expectSame(
      vmap(g, { inAxes: [null, 1, 0] })(grid.get(0), us, starts),
      loop(g, [grid.get(0), us, starts], [null, 1, 0])
    )
  })

  it("an update covering the operand is the update, for key arrays too (never weakly typed)", () => {
    const grid = random.split(random.key(7), [3, 2])
    const starts = jnp.array([1, 0, -1])
    const whole = jnp.fromHost(Uint32Array.of(1, 2, 3, 4), [2], "key<fry>")
    const f = (ks: JArray, i: JArray) => lax.dynamicUpdateSlice(ks, whole, [i])
    expectSame(vmap(f)(grid, starts), loop(f, [grid, starts], [0, 0]))
    const g = (ks: JArray, i: JArray) => lax.dynamicUpdateSlice(ks, ks, [i])
    expectSame(vmap(g)(grid, starts), loop(g, [grid, starts], [0, 0]))
  })
})

// ---------------------------------------------------------------------------------------------
// The programs the rules build

describe("dynamic_slice and dynamic_update_slice programs", () => {
  const x = seq([3, 4, 5])
  const k = jnp.array([3, -1, 1])

  it("shared starts slice and update the batch axis whole (no gather or scatter)", () => {
    const i = jnp.array(1)
    const slice = (r: JArray) => lax.dynamicSlice(r, [i, 2], [2, 3])
    const eqns = checked(slice, [1], [jnp.moveaxis(x, 0, 1)])
    expect(count(eqns, "dynamic_slice")).toBe(1)
    expect(count(eqns, "gather")).toBe(0)
    const u = seq([3, 2, 3], 0.3)
    const update = (r: JArray, v: JArray) => lax.dynamicUpdateSlice(r, v, [i, 2])
    const cases: ReadonlyArray<readonly [ReadonlyArray<number | null>, JArray, JArray]> = [
      [[0, 0], x, u],
      [[null, 2], x.get(0), jnp.moveaxis(u, 0, 2)],
      [[-1, null], jnp.moveaxis(x, 0, -1), u.get(0)]
    ]
    for (const [inAxes, r, v] of cases) {
      const ue = checked(update, inAxes, [r, v])
      expect(count(ue, "dynamic_update_slice")).toBe(1)
      expect(count(ue, "scatter")).toBe(0)
    }
  })

  it("a per-example start on the first axis: one gather in clip mode of that axis, no transpose or concatenation", () => {
    const f = (r: JArray, s: JArray) => lax.dynamicSlice(r, [s, 0], [2, 5])
    const batched = checked(f, [0, 0], [x, k])
    expect(only(batched, "gather").params).toEqual({ indexedAxes: [1], batchDims: 1, mode: "clip" })
    expect(count(batched, "transpose")).toBe(0)
    expect(count(batched, "concatenate")).toBe(0)
    const shared = checked(f, [null, 0], [x.get(0), k])
    expect(only(shared, "gather").params).toEqual({ indexedAxes: [0], batchDims: 0, mode: "clip" })
    expect(count(shared, "transpose")).toBe(0)
  })

  it("a window on the last axis puts the output's axes back with one transpose", () => {
    const f = (r: JArray, s: JArray) => lax.dynamicSlice(r, [0, s], [4, 2])
    const eqns = checked(f, [0, 0], [x, k])
    expect(only(eqns, "gather").params).toEqual({ indexedAxes: [2], batchDims: 1, mode: "clip" })
    expect(only(eqns, "transpose").params).toEqual({ permutation: [0, 2, 1] })
  })

  it("starts on two axes concatenate their columns", () => {
    const f = (r: JArray, s: JArray, t: JArray) => lax.dynamicSlice(r, [s, t], [2, 2])
    const eqns = checked(f, [0, 0, null], [x, k, jnp.array(4)])
    expect(only(eqns, "gather").params).toEqual({ indexedAxes: [1, 2], batchDims: 1, mode: "clip" })
    expect(only(eqns, "concatenate").params).toEqual({ dimension: 1 })
    expect(count(eqns, "transpose")).toBe(0)
  })

  it("a window covering the operand is the operand", () => {
    const f = (r: JArray, s: JArray) => lax.dynamicSlice(r, [s, 0], [4, 5])
    const eqns = checked(f, [0, 0], [x, k])
    expect(eqns.filter((e) => e.prim === "gather" || e.prim === "dynamic_slice")).toEqual([])
  })

  it("a per-example update scatters (clip mode) on the axes the update does not cover", () => {
    const f = (r: JArray, v: JArray, s: JArray) => lax.dynamicUpdateSlice(r, v, [s, 0])
    const first = checked(f, [0, null, 0], [x, seq([2, 5], 0.7), k])
    expect(only(first, "scatter").params).toEqual({ indexedAxes: [1], batchDims: 1, mode: "clip" })
    expect(count(first, "transpose")).toBe(0)
    expect(count(first, "concatenate")).toBe(0)
    const g = (r: JArray, v: JArray, s: JArray) => lax.dynamicUpdateSlice(r, v, [0, s])
    const last = checked(g, [0, null, 0], [x, seq([4, 2], 0.7), k])
    expect(only(last, "scatter").params).toEqual({ indexedAxes: [2], batchDims: 1, mode: "clip" })
    expect(only(last, "transpose").params).toEqual({ permutation: [0, 2, 1] })
  })

  it("no weak-type conversion where operand and update agree; one where they do not", () => {
    const f = (r: JArray, v: JArray, s: JArray) => lax.dynamicUpdateSlice(r, v, [s, 0])
    const strong = checked(f, [0, 0, 0], [x.get(":", ":2"), x.get(":", "1:3"), k])
    expect(count(strong, "convert_element_type")).toBe(0)
    const weakX = lax.convertElementType(x.get(":", ":2"), "float32", true)
    const weak = checked(f, [0, 0, 0], [weakX, x.get(":", "1:3"), k])
    expect(count(weak, "convert_element_type")).toBe(1)
  })
})

describe("pad, concatenate and slice programs", () => {
  it("a per-example padding value selects, converting the weak type only when the operand's differs", () => {
    const f = (x: JArray, v: JArray) => lax.pad(x, v, [[1, 2, 1]])
    const x = seq([3, 4])
    const v = jnp.array([5, -1, 2], { dtype: "float32" })
    const strong = checked(f, [0, 0], [x, v])
    expect(count(strong, "select")).toBe(1)
    expect(count(strong, "convert_element_type")).toBe(0)
    const weak = checked(f, [0, 0], [lax.convertElementType(x, "float32", true), v])
    expect(count(weak, "convert_element_type")).toBe(1)
  })

  it("concatenate meets at the batch axis of the largest operand, the first of equal ones", () => {
    const f = (x: JArray, y: JArray) => lax.concatenate([x, y], 0)
    const big = jnp.moveaxis(seq([3, 5, 4]), 0, 1) // per example [5, 4], batch axis 1
    const small = seq([3, 1, 4], 0.4) // per example [1, 4], batch axis 0
    // Only the smaller operand moves, and the output is already at out axis 1.
    expect(count(checked(f, [1, 0], [big, small], 1), "transpose")).toBe(1)
    expect(count(checked(f, [0, 1], [small, big], 1), "transpose")).toBe(1)
    const same = seq([3, 5, 4], 0.2)
    expect(count(checked(f, [1, 0], [big, same], 1), "transpose")).toBe(1)
    expect(count(checked(f, [0, 1], [same, big], 0), "transpose")).toBe(1)
  })

  it("vmap leaves the caller's parameter arrays as they were", () => {
    const start = Object.freeze([1, 0])
    const limit = Object.freeze([4, 3])
    const strides = Object.freeze([2, 1])
    const config = Object.freeze([Object.freeze([1, 0, 0] as const), Object.freeze([0, 1, 1] as const)])
    const sizes = Object.freeze([2, 2])
    const f = (x: JArray, v: JArray, i: JArray) =>
      jnp.concatenate([
        lax.slice(x, start, limit, strides).reshape([-1]),
        lax.pad(x, v, config).reshape([-1]),
        lax.dynamicSlice(x, [i, 1], sizes).reshape([-1])
      ])
    const x = seq([2, 4, 3]) // per example [4, 3]
    const i = jnp.array(1)
    type Axes = readonly [number | null, number | null, number | null]
    const cases: ReadonlyArray<readonly [Axes, JArray, JArray]> = [
      [[1, null, null], jnp.moveaxis(x, 0, 1), jnp.array(7, { dtype: "float32" })],
      [[0, 0, null], x, jnp.array([7, 8], { dtype: "float32" })],
      [[-1, null, null], jnp.moveaxis(x, 0, -1), jnp.array(9, { dtype: "float32" })]
    ]
    for (const [inAxes, xs, v] of cases)
      expectSame(vmap(f, { inAxes: [...inAxes] })(xs, v, i), loop(f, [xs, v, i], inAxes))
    expect([start, limit, strides, config, sizes]).toEqual([
      [1, 0],
      [4, 3],
      [2, 1],
      [
        [1, 0, 0],
        [0, 1, 1]
      ],
      [2, 2]
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// Refusals

describe("operands the indexing primitives refuse, inside vmap", () => {
  const thrown = (f: () => unknown): string => {
    try {
      f()
    } catch (e) {
      return `${(e as { readonly _tag?: string })._tag}: ${(e as Error).message}`
    }
    throw new Error("expected an error")
  }

  it("name the primitive and the per-example shapes, as outside vmap", () => {
    const x = seq([3, 4, 5])
    const k = jnp.array([0, 1, 2])
    const fs: ReadonlyArray<(r: JArray, i: JArray) => JArray> = [
      (r) => lax.concatenate([r, r], -3),
      (r, i) => lax.gather(r, i.reshape([1, 1]), { indexedAxes: [2], batchDims: 0, mode: "clip" }),
      (r, i) => lax.dynamicUpdateSlice(r, jnp.ones([5, 1]), [i, 0]),
      (r, i) =>
        lax.scatterAdd(r, i.reshape([1, 1]), jnp.ones([1, 5]), { indexedAxes: [-1], batchDims: 0, mode: "fill" })
    ]
    const messages = fs.map((f) => thrown(() => vmap(f)(x, k)))
    expect(messages).toEqual([
      "AxisError: concatenate: axis out of range [-2, 2): axis -3 for an array of ndim 2",
      "AxisError: gather: axis out of range [-2, 2): axis 2 for an array of ndim 2",
      "ShapeError: dynamic_update_slice: the update must fit inside the operand (shapes (4, 5), (5, 1))",
      "ShapeError: scatter_add: updates must have the gathered shape (1, 4) (shapes (4, 5), (1, 1), (1, 5))"
    ])
    expect(fs.map((f) => thrown(() => f(x.get(0), k.get(0))))).toEqual(messages)
  })
})
