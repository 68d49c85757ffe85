/**
 * The wasm kernels of threefry2x32, the cumulative scans, gather, scatter, scatter_add, sort and
 * bitcast_convert_type against the cpu reference kernels, bit for bit (any NaN equals any NaN), over
 * random shapes, broadcasts, axes, index modes, out-of-range and duplicate indices, NaN, ±0 and
 * dtypes (fast-check), on one thread and on two, with arrays large enough to split across threads;
 * and every random sampler on the wasm backend against the cpu backend. None of these primitives
 * falls back to the cpu kernel.
 */
import { assert, describe, it } from "@effect/vitest"
import { fc, test } from "@fast-check/vitest"
import { Backend, random, vmap } from "effect-nnx"
import type { Array as JArray, DType } from "effect-nnx"
import type { Aval, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import type { CumulativePrimitive, FirstOrderPrimitive, GatherParams, Params } from "../../src/backend/Primitive.ts"
import { extraKernels } from "../../src/backend/wasm/kernels/extra.ts"
import { aval, kernelBackends, mulberry32, run, size } from "./support.ts"

const { cpu, wasm1, wasm2 } = kernelBackends()

/** `n` values of `dtype` from `seed`, with NaN, ±0, ±inf, extremes and many repeats. */
const randomArray = (dtype: DType, n: number, seed: number): HostArray => {
  const rnd = mulberry32(seed)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rnd() * xs.length)]!
  const data = allocHost(dtype === "key<fry>" ? "uint32" : dtype, dtype === "key<fry>" ? 2 * n : n)
  for (let i = 0; i < data.length; i++) {
    const r = rnd()
    switch (dtype) {
      case "float32":
        data[i] =
          r < 0.15
            ? pick([NaN, 0, -0, Infinity, -Infinity, 1, -1, 3.4e38])
            : r < 0.4
              ? Math.round((rnd() - 0.5) * 8)
              : (rnd() - 0.5) * 6
        break
      case "int32":
        data[i] =
          r < 0.1
            ? pick([-0x80000000, 0x7fffffff, -1])
            : r < 0.6
              ? Math.floor((rnd() - 0.5) * 10)
              : Math.floor((rnd() - 0.5) * 2 ** 32)
        break
      case "bool":
        data[i] = r < 0.5 ? 1 : 0
        break
      default:
        data[i] =
          r < 0.1 ? pick([0xffffffff, 0x80000000]) : r < 0.6 ? Math.floor(rnd() * 10) : Math.floor(rnd() * 2 ** 32)
    }
  }
  return data
}

const same = (g: number, w: number) => Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))

/** Asserts `got` equals `want` bit for bit (any NaN equals any NaN). */
const assertSame = (got: ArrayLike<number>, want: ArrayLike<number>, label: string): void => {
  assert.strictEqual(got.length, want.length, label)
  for (let i = 0; i < want.length; i++) {
    if (same(got[i]!, want[i]!)) continue
    const show = (x: number) => (Object.is(x, -0) ? "-0" : String(x))
    assert.fail(`${label}: element ${i} is ${show(got[i]!)}, the cpu kernel gives ${show(want[i]!)}`)
  }
}

/** The primitive on both wasm backends equals the cpu kernel, and no wasm backend fell back. */
const check = <P extends FirstOrderPrimitive>(
  prim: P,
  data: ReadonlyArray<HostArray>,
  avals: ReadonlyArray<Aval>,
  params: Params<P>,
  label: string
): void => {
  const want = run(cpu, prim, data, avals, params)
  for (const backend of [wasm1, wasm2]) {
    const got = run(backend, prim, data, avals, params)
    got.forEach((g, i) => assertSame(g, want[i]!, `${label} (output ${i}, ${backend.threads} threads)`))
    assert.strictEqual(backend.stats.fallbacks.get(prim), undefined, `${prim} fell back to the cpu kernel`)
  }
}

const dims = (max: number, minLength: number, maxLength: number) =>
  fc.array(fc.integer({ min: 1, max }), { minLength, maxLength })

describe("wasm threefry2x32", () => {
  /** An output shape and, per operand, which of its axes are broadcast (size 1). */
  const operands = dims(6, 0, 3).chain((out) =>
    fc.tuple(
      fc.constant(out),
      fc.array(fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }), {
        minLength: 4,
        maxLength: 4
      }),
      fc.integer()
    )
  )

  test.prop([operands], { numRuns: 60 })("encrypts like the cpu kernel under any broadcast", ([out, ones, seed]) => {
    const shapes = ones.map((mask) => out.map((d, i) => (mask[i] ? 1 : d)))
    check(
      "threefry2x32",
      shapes.map((s, j) => randomArray("uint32", size(s), seed + j)),
      shapes.map((s) => aval(s, "uint32")),
      {},
      `[${shapes.join("] [")}]`
    )
  })

  it("splits large blocks across threads, with a tail past the last whole block", () => {
    for (const [k, x1, x2] of [
      [[1], [1], [100003]],
      [[100003], [1], [100003]],
      [[1], [100003], [1]]
    ] as const) {
      const shapes = [k, k, x1, x2]
      check(
        "threefry2x32",
        shapes.map((s, j) => randomArray("uint32", size(s), j)),
        shapes.map((s) => aval(s, "uint32")),
        {},
        `[${shapes.join("] [")}]`
      )
    }
    const shapes = [
      [300, 1],
      [300, 1],
      [1, 1],
      [300, 257]
    ]
    check(
      "threefry2x32",
      shapes.map((s, j) => randomArray("uint32", size(s), j)),
      shapes.map((s) => aval(s, "uint32")),
      {},
      "batched keys"
    )
  })
})

describe("wasm cumulative scans", () => {
  const prims: ReadonlyArray<CumulativePrimitive> = ["cumsum", "cumprod", "cummax", "cummin"]
  const dtypes: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool"]
  const cases = fc.tuple(
    fc.constantFrom(...prims),
    fc.constantFrom(...dtypes),
    dims(7, 1, 3),
    fc.nat(),
    fc.boolean(),
    fc.integer()
  )

  test.prop([cases], { numRuns: 150 })(
    "scan like the cpu kernel along any axis, either way",
    ([prim, dtype, shape, axisPick, reverse, seed]) => {
      const axis = (axisPick % (2 * shape.length)) - shape.length
      check(
        prim,
        [randomArray(dtype, size(shape), seed)],
        [aval(shape, dtype)],
        { axis, reverse },
        `${prim} ${dtype} [${shape}] axis ${axis}${reverse ? " reversed" : ""}`
      )
    }
  )

  it("scan large arrays split across threads, keeping the double running sum of float32", () => {
    for (const prim of prims) {
      for (const dtype of dtypes) {
        for (const [shape, axis] of [
          [[300, 257], 0],
          [[300, 257], 1],
          [[70001], 0],
          [[3, 1, 30000], 2]
        ] as const) {
          for (const reverse of [false, true]) {
            check(
              prim,
              [randomArray(dtype, size(shape), 7)],
              [aval(shape, dtype)],
              { axis, reverse },
              `${prim} ${dtype} [${shape}] axis ${axis}`
            )
          }
        }
      }
    }
    // Rounding each output from the double running sum is not a float32 prefix sum.
    const data = Float32Array.from({ length: 5000 }, (_, i) => 0.1 + i * 1e-4)
    check("cumsum", [data], [aval([5000], "float32")], { axis: 0, reverse: false }, "long float32 sum")
  })
})

describe("wasm gather and scatter", () => {
  /** An operand shape, batch dims, indexed axes (maybe negative), index dims and index values. */
  const cases = fc.record({
    shape: fc.array(
      fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.constant(0) }),
      { minLength: 1, maxLength: 4 }
    ),
    batchPick: fc.nat(),
    axisOrder: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    count: fc.nat(),
    negative: fc.boolean(),
    indexDims: dims(4, 0, 2),
    indexDtype: fc.constantFrom("int32" as const, "uint32" as const),
    mode: fc.constantFrom("clip" as const, "fill" as const),
    dtype: fc.constantFrom<DType>("float32", "int32", "uint32", "bool", "key<fry>"),
    seed: fc.integer()
  })

  const indices = (
    shape: ReadonlyArray<number>,
    axes: ReadonlyArray<number>,
    idxShape: ReadonlyArray<number>,
    dtype: "int32" | "uint32",
    seed: number
  ): HostArray => {
    const rnd = mulberry32(seed)
    const data = allocHost(dtype, size(idxShape))
    for (let i = 0; i < data.length; i++) {
      const d = shape[axes[i % axes.length]!]!,
        r = rnd()
      // Mostly in range (with repeats), some past either end, some at 2^31 and above.
      data[i] =
        r < 0.8
          ? Math.floor(rnd() * d)
          : r < 0.9
            ? d + Math.floor(rnd() * 3)
            : r < 0.95
              ? -1 - Math.floor(rnd() * 3)
              : 2 ** 31 + Math.floor(rnd() * 5)
    }
    return data
  }

  const gatherCase = (
    shape: ReadonlyArray<number>,
    params: GatherParams,
    indexDims: ReadonlyArray<number>,
    indexDtype: "int32" | "uint32",
    dtype: DType,
    seed: number
  ): void => {
    const rank = shape.length
    const axes = params.indexedAxes.map((a) => (a < 0 ? a + rank : a))
    const idxShape = [...shape.slice(0, params.batchDims), ...indexDims, axes.length]
    const idx = indices(shape, axes, idxShape, indexDtype, seed)
    const operand = randomArray(dtype, size(shape), seed + 1)
    const label = `[${shape}] ${dtype} ${JSON.stringify(params)} indices [${idxShape}] ${indexDtype}`
    check("gather", [operand, idx], [aval(shape, dtype), aval(idxShape, indexDtype)], params, `gather ${label}`)
    if (dtype === "key<fry>") return
    const updShape = [...idxShape.slice(0, -1), ...shape.filter((_, i) => i >= params.batchDims && !axes.includes(i))]
    const updates = randomArray(dtype, size(updShape), seed + 2)
    const avals = [aval(shape, dtype), aval(idxShape, indexDtype), aval(updShape, dtype)]
    check("scatter", [operand, idx, updates], avals, params, `scatter ${label}`)
    check("scatter_add", [operand, idx, updates], avals, params, `scatter_add ${label}`)
  }

  test.prop([cases], { numRuns: 200 })("gather, scatter and scatter_add like the cpu kernels", (c) => {
    const rank = c.shape.length
    const batchDims = c.batchPick % rank
    const free = c.shape.map((_, i) => i).filter((i) => i >= batchDims)
    const order = free
      .map((a, i) => [a, c.axisOrder[i]!] as const)
      .sort((x, y) => x[1] - y[1])
      .map(([a]) => a)
    const axes = order.slice(0, 1 + (c.count % free.length)).map((a) => (c.negative ? a - rank : a))
    gatherCase(c.shape, { indexedAxes: axes, batchDims, mode: c.mode }, c.indexDims, c.indexDtype, c.dtype, c.seed)
  })

  it("gather and scatter long slices and many rows across threads", () => {
    for (const mode of ["clip", "fill"] as const) {
      for (const dtype of ["float32", "bool", "int32"] as const) {
        gatherCase([1000, 70], { indexedAxes: [0], batchDims: 0, mode }, [1200], "int32", dtype, 1)
        gatherCase([70, 1000], { indexedAxes: [1], batchDims: 0, mode }, [90], "int32", dtype, 2)
        gatherCase([80001], { indexedAxes: [0], batchDims: 0, mode }, [70000], "uint32", dtype, 3)
        gatherCase([8, 300, 50], { indexedAxes: [1], batchDims: 1, mode }, [40], "int32", dtype, 4)
      }
    }
  })
})

describe("wasm sort", () => {
  const dtypes: ReadonlyArray<DType> = ["float32", "int32", "uint32", "bool"]
  const cases = fc.record({
    shape: dims(9, 1, 3),
    operands: fc.array(fc.constantFrom(...dtypes), { minLength: 1, maxLength: 3 }),
    keyPick: fc.nat(),
    dimensionPick: fc.nat(),
    seed: fc.integer()
  })

  const sortCase = (
    shape: ReadonlyArray<number>,
    operands: ReadonlyArray<DType>,
    numKeys: number,
    dimension: number,
    seed: number
  ): void => {
    const data = operands.map((d, j) => randomArray(d, size(shape), seed + j))
    check(
      "sort",
      data,
      operands.map((d) => aval(shape, d)),
      { dimension, numKeys },
      `sort [${shape}] ${operands} keys ${numKeys} dimension ${dimension}`
    )
  }

  test.prop([cases], { numRuns: 150 })("sorts stably by its keys, NaN last, like the cpu kernel", (c) => {
    const rank = c.shape.length
    sortCase(c.shape, c.operands, 1 + (c.keyPick % c.operands.length), (c.dimensionPick % (2 * rank)) - rank, c.seed)
  })

  it("sorts long lanes (merges) and many lanes across threads", () => {
    sortCase([5000], ["float32"], 1, 0, 1)
    sortCase([3000, 7], ["float32", "int32"], 1, 0, 2)
    sortCase([40, 1000], ["int32", "float32", "uint32"], 2, 1, 3)
    sortCase([2000, 40], ["bool", "int32"], 2, 1, 4)
  })
})

describe("wasm bitcast_convert_type", () => {
  it("reinterprets the words", () => {
    const words = randomArray("uint32", 1001, 5)
    for (const newDtype of ["float32", "int32", "uint32"] as const)
      check("bitcast_convert_type", [words], [aval([7, 143], "uint32")], { newDtype }, newDtype)
  })
})

describe("random samplers on the wasm backend", () => {
  const on = (backend: Backend.BackendImpl, f: () => JArray): Array<number> =>
    Backend.withBackend(backend, () => [...f().dataSync()])
  const samplers: ReadonlyArray<readonly [string, () => JArray]> = [
    ["key", () => random.keyData(random.key(7))],
    ["split", () => random.keyData(random.split(random.key(7), [3, 4]))],
    ["foldIn", () => random.keyData(random.foldIn(random.key(7), 12))],
    ["bits", () => random.bits(random.key(1), [33, 65])],
    ["uniform", () => random.uniform(random.key(2), [1024, 70], { minval: -2, maxval: 3 })],
    ["normal", () => random.normal(random.key(3), [70001])],
    ["randint", () => random.randint(random.key(4), [99], 0, 10)],
    ["permutation", () => random.permutation(random.key(5), 1000)],
    ["vmap uniform over keys", () => vmap((k: JArray) => random.uniform(k, [5, 7]))(random.split(random.key(6), 4))]
  ]

  it("give the cpu backend's values, bit for bit", () => {
    for (const [name, f] of samplers) {
      const want = on(cpu, f)
      for (const backend of [wasm1, wasm2]) assertSame(on(backend, f), want, `${name} on ${backend.threads} threads`)
    }
    for (const backend of [wasm1, wasm2]) {
      for (const prim of Object.keys(extraKernels)) {
        assert.strictEqual(backend.stats.fallbacks.get(prim as FirstOrderPrimitive), undefined, `${prim} fell back`)
      }
    }
  })
})
