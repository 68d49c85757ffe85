/**
 * The wasm `dot_general` (packed GEMM, matrix-vector forms) against the cpu reference kernel: every
 * layout of batch, free and contracting axes for every dtype, tile edges, empty and zero-K products,
 * integer wraparound, both multiply-add variants, and identical results for any number of threads.
 */
import { fc, test } from "@fast-check/vitest"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Backend, jnp, lax } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { dotGeneral } from "../../src/backend/wasm/kernels/dotGeneral.ts"
import type { WasmRuntime } from "../../src/backend/wasm/runtime.ts"

type DType = "float32" | "int32" | "uint32" | "bool"
type DimensionNumbers = readonly [
  readonly [ReadonlyArray<number>, ReadonlyArray<number>],
  readonly [ReadonlyArray<number>, ReadonlyArray<number>]
]
type HostData = Float32Array | Int32Array | Uint32Array | Uint8Array

const wasm1 = Backend.makeWasm({ threads: 1 })
const wasm2 = Backend.makeWasm({ threads: 2 })
const wasm3 = Backend.makeWasm({ threads: 3 })
const cpu = Backend.makeCpu()
afterAll(() => {
  wasm1.close()
  wasm2.close()
  wasm3.close()
})

const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const randomData = (dtype: DType, n: number, rnd: () => number, wide = false): HostData => {
  switch (dtype) {
    case "float32":
      return Float32Array.from({ length: n }, () => rnd() * 4 - 2)
    case "int32":
      return Int32Array.from({ length: n }, () => Math.floor((rnd() - 0.5) * (wide ? 2 ** 32 : 20)))
    case "uint32":
      return Uint32Array.from({ length: n }, () => Math.floor(rnd() * (wide ? 2 ** 32 : 10)))
    case "bool":
      return Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0))
  }
}

const sizeOf = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

/** `lax.dotGeneral` of the same host data on `backend`, downloaded. */
const product = (
  backend: Backend.BackendImpl,
  dtype: DType,
  l: HostData,
  lShape: ReadonlyArray<number>,
  r: HostData,
  rShape: ReadonlyArray<number>,
  dn: DimensionNumbers
): HostData =>
  Backend.withBackend(backend, () => {
    const a = jnp.fromHost(l.slice(), lShape, dtype),
      b = jnp.fromHost(r.slice(), rShape, dtype)
    return lax.dotGeneral(a, b, dn).dataSync()
  })

/** `Σ |a||b|` per output element: the scale of float32 rounding error in each. */
const magnitude = (
  l: HostData,
  lShape: ReadonlyArray<number>,
  r: HostData,
  rShape: ReadonlyArray<number>,
  dn: DimensionNumbers
): HostData =>
  Backend.withBackend(cpu, () => {
    const abs = (x: HostData, s: ReadonlyArray<number>): JArray => jnp.abs(jnp.fromHost(x.slice(), s, "float32"))
    return lax.dotGeneral(abs(l, lShape), abs(r, rShape), dn).dataSync()
  })

const bits = (x: HostData): Uint8Array => new Uint8Array(x.buffer, x.byteOffset, x.byteLength)

/** Checks the wasm products (1, 2 and 3 threads) against the cpu kernel; float32 within `(K + 2)·u·Σ|a||b|`. */
const check = (
  dtype: DType,
  l: HostData,
  lShape: ReadonlyArray<number>,
  r: HostData,
  rShape: ReadonlyArray<number>,
  dn: DimensionNumbers,
  label: string
): void => {
  const expected = product(cpu, dtype, l, lShape, r, rShape, dn)
  const results = [wasm1, wasm2, wasm3].map((b) => product(b, dtype, l, lShape, r, rShape, dn))
  const [one, ...more] = results
  assert.strictEqual(one!.length, expected.length, label)
  for (const other of more) assert.deepStrictEqual(bits(other), bits(one!), `${label}: threads change the result`)
  if (dtype !== "float32") {
    assert.deepStrictEqual(Array.from(one!), Array.from(expected), label)
    return
  }
  const K = sizeOf(dn[0][0].map((a) => lShape[a]!))
  const scale = magnitude(l, lShape, r, rShape, dn)
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(one![i]! - expected[i]!)
    const bound = (K + 2) * 2 ** -23 * scale[i]! + 1e-30
    if (!(err <= bound))
      assert.fail(`${label}: element ${i} is ${one![i]}, expected ${expected[i]} (error ${err} > ${bound})`)
  }
}

/**
 * A random layout: batch, lhs-free, rhs-free and contracting axes of the given sizes, each operand's
 * axes in a random order; returns the shapes and dimension numbers.
 */
const layout = (
  batch: ReadonlyArray<number>,
  lFree: ReadonlyArray<number>,
  rFree: ReadonlyArray<number>,
  contracting: ReadonlyArray<number>,
  rnd: () => number
) => {
  const shuffle = (n: number): Array<number> => {
    const p = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1))
      ;[p[i], p[j]] = [p[j]!, p[i]!]
    }
    return p
  }
  // Logical axes [batch, free, contracting] land at positions `pos`.
  const place = (free: ReadonlyArray<number>) => {
    const sizes = [...batch, ...free, ...contracting]
    const pos = shuffle(sizes.length)
    const shape = new Array<number>(sizes.length)
    sizes.forEach((s, j) => (shape[pos[j]!] = s))
    const batchAxes = batch.map((_, j) => pos[j]!)
    const contractingAxes = contracting.map((_, j) => pos[batch.length + free.length + j]!)
    return { shape, batchAxes, contractingAxes }
  }
  const lhs = place(lFree),
    rhs = place(rFree)
  const dn: DimensionNumbers = [
    [lhs.contractingAxes, rhs.contractingAxes],
    [lhs.batchAxes, rhs.batchAxes]
  ]
  return { lShape: lhs.shape, rShape: rhs.shape, dn }
}

const dims = (max: number, count: number) => fc.array(fc.integer({ min: 1, max }), { minLength: 0, maxLength: count })

describe("wasm dot_general", () => {
  test.prop(
    [
      fc.constantFrom<DType>("float32", "float32", "int32", "uint32", "bool"),
      dims(3, 2),
      dims(9, 2),
      dims(9, 2),
      dims(12, 2),
      fc.integer()
    ],
    { numRuns: 150 }
  )("matches the cpu kernel for every layout and dtype", (dtype, batch, lFree, rFree, contracting, seed) => {
    const rnd = mulberry32(seed)
    const { lShape, rShape, dn } = layout(batch, lFree, rFree, contracting, rnd)
    const l = randomData(dtype, sizeOf(lShape), rnd),
      r = randomData(dtype, sizeOf(rShape), rnd)
    check(
      dtype,
      l,
      lShape,
      r,
      rShape,
      dn,
      `${dtype} ${JSON.stringify(lShape)}·${JSON.stringify(rShape)} ${JSON.stringify(dn)}`
    )
  })

  test.prop(
    [
      fc.constantFrom<DType>("float32", "int32"),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 3 }),
      fc.boolean(),
      fc.integer()
    ],
    { numRuns: 40 }
  )("matrix-vector products, both sides and both orders", (dtype, rows, K, B, transposed, seed) => {
    const rnd = mulberry32(seed)
    const lShape = transposed ? [B, K, rows] : [B, rows, K]
    const l = randomData(dtype, sizeOf(lShape), rnd),
      v = randomData(dtype, B * K, rnd)
    const dn: DimensionNumbers = [
      [[transposed ? 1 : 2], [1]],
      [[0], [0]]
    ]
    check(dtype, l, lShape, v, [B, K], dn, `${dtype} matrix·vector ${JSON.stringify(lShape)}`)
    const swapped: DimensionNumbers = [
      [[1], [transposed ? 1 : 2]],
      [[0], [0]]
    ]
    check(dtype, v, [B, K], l, lShape, swapped, `${dtype} vector·matrix ${JSON.stringify(lShape)}`)
  })

  it("matrix-vector products large enough for threads and for several chunks of rows", () => {
    const rnd = mulberry32(29)
    const x = randomData("float32", 1100 * 4101, rnd),
      v = randomData("float32", 1100, rnd)
    check(
      "float32",
      x,
      [4101, 1100],
      v,
      [1100],
      [
        [[1], [0]],
        [[], []]
      ],
      "rows · vector"
    )
    check(
      "float32",
      x,
      [1100, 4101],
      v,
      [1100],
      [
        [[0], [0]],
        [[], []]
      ],
      "columns · vector"
    )
    check(
      "float32",
      v,
      [1100],
      x,
      [1100, 4101],
      [
        [[0], [0]],
        [[], []]
      ],
      "vector · matrix"
    )
    check(
      "int32",
      randomData("int32", 1100 * 4101, rnd, true),
      [1100, 4101],
      randomData("int32", 1100, rnd, true),
      [1100],
      [
        [[0], [0]],
        [[], []]
      ],
      "int32 columns · vector"
    )
  })

  it("covers sizes around the micro-tile and block edges, operands plain and transposed", () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 65, 129]
    const rnd = mulberry32(7)
    sizes.forEach((M, i) =>
      sizes.forEach((N, j) => {
        const K = sizes[(i * 3 + j) % sizes.length]!
        const ta = (i + j) % 2 === 1,
          tb = (i * j) % 3 === 1
        const lShape = ta ? [K, M] : [M, K],
          rShape = tb ? [N, K] : [K, N]
        const dn: DimensionNumbers = [
          [[ta ? 0 : 1], [tb ? 1 : 0]],
          [[], []]
        ]
        check(
          "float32",
          randomData("float32", M * K, rnd),
          lShape,
          randomData("float32", K * N, rnd),
          rShape,
          dn,
          `${M}×${K}×${N} ${ta ? "Aᵀ" : "A"}·${tb ? "Bᵀ" : "B"}`
        )
      })
    )
  })

  it("crosses blocks of K, rows and columns with edge tiles in each", () => {
    const rnd = mulberry32(17)
    for (const [M, K, N] of [
      [13, 600, 11],
      [151, 20, 9],
      [5, 3, 2100],
      [301, 520, 203]
    ] as const) {
      for (const [ta, tb] of [
        [false, false],
        [true, true]
      ] as const) {
        const lShape = ta ? [K, M] : [M, K],
          rShape = tb ? [N, K] : [K, N]
        const dn: DimensionNumbers = [
          [[ta ? 0 : 1], [tb ? 1 : 0]],
          [[], []]
        ]
        check(
          "float32",
          randomData("float32", M * K, rnd),
          lShape,
          randomData("float32", K * N, rnd),
          rShape,
          dn,
          `${M}×${K}×${N}`
        )
        check(
          "int32",
          randomData("int32", M * K, rnd, true),
          lShape,
          randomData("int32", K * N, rnd, true),
          rShape,
          dn,
          `int32 ${M}×${K}×${N}`
        )
      }
    }
  })

  it("splits products whose packed B passes 32 MiB into rounds of batches or of columns", () => {
    const rnd = mulberry32(19)
    // 2048 × 4112 words of packed B: two rounds of columns.
    check(
      "float32",
      randomData("float32", 2 * 2048, rnd),
      [2, 2048],
      randomData("float32", 2048 * 4112, rnd),
      [2048, 4112],
      [
        [[1], [0]],
        [[], []]
      ],
      "column rounds"
    )
    // 1.1 MiB of packed B per batch: 29 batches per round.
    const lShape = [40, 3, 1024],
      rShape = [40, 1024, 260]
    check(
      "float32",
      randomData("float32", sizeOf(lShape), rnd),
      lShape,
      randomData("float32", sizeOf(rShape), rnd),
      rShape,
      [
        [[2], [1]],
        [[0], [0]]
      ],
      "batch rounds"
    )
  })

  it("runs large bool and uint32 products on every thread", () => {
    const rnd = mulberry32(23)
    check(
      "bool",
      randomData("bool", 150 * 100, rnd),
      [150, 100],
      randomData("bool", 100 * 140, rnd),
      [100, 140],
      [
        [[1], [0]],
        [[], []]
      ],
      "bool 150×100×140"
    )
    check(
      "uint32",
      randomData("uint32", 150 * 100, rnd, true),
      [100, 150],
      randomData("uint32", 100 * 140, rnd, true),
      [140, 100],
      [
        [[0], [1]],
        [[], []]
      ],
      "uint32 150×100×140"
    )
  })

  it("K = 0 gives zeros, empty outputs stay empty, 1×1 products multiply", () => {
    for (const dtype of ["float32", "int32", "uint32", "bool"] as const) {
      const rnd = mulberry32(1)
      for (const backend of [wasm1, wasm2]) {
        const zeros = product(
          backend,
          dtype,
          randomData(dtype, 0, rnd),
          [3, 0],
          randomData(dtype, 0, rnd),
          [0, 4],
          [
            [[1], [0]],
            [[], []]
          ]
        )
        assert.deepStrictEqual(Array.from(zeros), new Array(12).fill(0), dtype)
        assert.strictEqual(
          product(
            backend,
            dtype,
            randomData(dtype, 0, rnd),
            [0, 5],
            randomData(dtype, 20, rnd),
            [5, 4],
            [
              [[1], [0]],
              [[], []]
            ]
          ).length,
          0
        )
        assert.strictEqual(
          product(
            backend,
            dtype,
            randomData(dtype, 10, rnd),
            [2, 5],
            randomData(dtype, 0, rnd),
            [5, 0],
            [
              [[1], [0]],
              [[], []]
            ]
          ).length,
          0
        )
      }
      check(
        dtype,
        randomData(dtype, 1, rnd),
        [1, 1],
        randomData(dtype, 1, rnd),
        [1, 1],
        [
          [[1], [0]],
          [[], []]
        ],
        `${dtype} 1×1`
      )
      check(
        dtype,
        randomData(dtype, 1, rnd),
        [1],
        randomData(dtype, 1, rnd),
        [1],
        [
          [[0], [0]],
          [[], []]
        ],
        `${dtype} dot of 1`
      )
    }
  })

  it("int32 and uint32 products wrap modulo 2^32 like the cpu kernel", () => {
    const rnd = mulberry32(3)
    for (const dtype of ["int32", "uint32"] as const) {
      for (const [M, K, N] of [
        [7, 300, 9],
        [33, 64, 1],
        [1, 50, 20],
        [40, 17, 40]
      ] as const) {
        check(
          dtype,
          randomData(dtype, M * K, rnd, true),
          [M, K],
          randomData(dtype, K * N, rnd, true),
          [K, N],
          [
            [[1], [0]],
            [[], []]
          ],
          `${dtype} ${M}×${K}×${N}`
        )
      }
    }
  })

  it("gives identical results on 1, 2 and 3 threads for a 300×257×200 product and batched ones", () => {
    const rnd = mulberry32(11)
    const cases: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<number>, DimensionNumbers]> = [
      [
        [300, 257],
        [257, 200],
        [
          [[1], [0]],
          [[], []]
        ]
      ],
      [
        [257, 300],
        [200, 257],
        [
          [[0], [1]],
          [[], []]
        ]
      ],
      [
        [6, 50, 70],
        [6, 70, 40],
        [
          [[2], [1]],
          [[0], [0]]
        ]
      ],
      [
        [1024, 64, 1],
        [1024, 1, 64],
        [
          [[2], [1]],
          [[0], [0]]
        ]
      ],
      [
        [700, 300],
        [300],
        [
          [[1], [0]],
          [[], []]
        ]
      ]
    ]
    for (const [lShape, rShape, dn] of cases) {
      check(
        "float32",
        randomData("float32", sizeOf(lShape), rnd),
        lShape,
        randomData("float32", sizeOf(rShape), rnd),
        rShape,
        dn,
        `${JSON.stringify(lShape)}·${JSON.stringify(rShape)}`
      )
    }
  })

  it("gathers operands whose grouped axes are not one strided run", () => {
    const rnd = mulberry32(5)
    // lhs contracts axes 0 and 2 around a free axis; rhs batches axes 0 and 2.
    const l = randomData("float32", 4 * 3 * 5, rnd),
      r = randomData("float32", 6 * 4 * 5, rnd)
    check(
      "float32",
      l,
      [4, 3, 5],
      r,
      [6, 4, 5],
      [
        [
          [0, 2],
          [1, 2]
        ],
        [[], []]
      ],
      "split contracting axes"
    )
    const x = randomData("float32", 2 * 7 * 3 * 5, rnd),
      y = randomData("float32", 2 * 5 * 3 * 4, rnd)
    check(
      "float32",
      x,
      [2, 7, 3, 5],
      y,
      [2, 5, 3, 4],
      [
        [[3], [1]],
        [
          [0, 2],
          [0, 2]
        ]
      ],
      "split batch axes"
    )
  })

  it("the mul + add variant (engines without relaxed SIMD) agrees with the cpu kernel", () => {
    const rt0 = wasm2.runtime
    const region = rt0.scratch(8 << 20)
    let used = 0
    const reserve = (bytes: number) => {
      const at = region + used
      used += Math.ceil(bytes / 64) * 64
      return at
    }
    const rt: WasmRuntime = {
      ...rt0,
      relaxedSimd: false,
      scratch: (bytes) => {
        if (used + bytes > 8 << 20) throw new Error("test scratch too small")
        return region + used
      }
    }
    const rnd = mulberry32(9)
    for (const [M, K, N] of [
      [67, 130, 45],
      [64, 64, 1],
      [1, 33, 70]
    ] as const) {
      used = 0
      const l = randomData("float32", M * K, rnd) as Float32Array,
        r = randomData("float32", K * N, rnd) as Float32Array
      const a = reserve(l.byteLength),
        b = reserve(r.byteLength),
        c = reserve(M * N * 4)
      rt.f32().set(l, a / 4)
      rt.f32().set(r, b / 4)
      const av = (shape: ReadonlyArray<number>) => ({ shape, dtype: "float32" as const, weakType: false })
      const params = { lhsContracting: [1], rhsContracting: [0], lhsBatch: [], rhsBatch: [] }
      assert.strictEqual(dotGeneral(rt, [a, b], [c], [av([M, K]), av([K, N])], [av([M, N])], params), undefined)
      const got = rt.f32().slice(c / 4, c / 4 + M * N)
      const expected = product(
        cpu,
        "float32",
        l,
        [M, K],
        r,
        [K, N],
        [
          [[1], [0]],
          [[], []]
        ]
      )
      const scale = magnitude(
        l,
        [M, K],
        r,
        [K, N],
        [
          [[1], [0]],
          [[], []]
        ]
      )
      for (let i = 0; i < M * N; i++)
        assert.isAtMost(Math.abs(got[i]! - expected[i]!), (K + 2) * 2 ** -23 * scale[i]! + 1e-30)
    }
  })

  it("serves jnp.matmul, dot and tensordot without falling back to the cpu kernel", () => {
    const rnd = mulberry32(13)
    const x = randomData("float32", 2 * 3 * 4 * 5, rnd),
      y = randomData("float32", 3 * 5 * 6, rnd),
      z = randomData("float32", 5, rnd)
    const run = (backend: Backend.BackendImpl) =>
      Backend.withBackend(backend, () => {
        const a = jnp.fromHost(x.slice(), [2, 3, 4, 5], "float32")
        const b = jnp.fromHost(y.slice(), [3, 5, 6], "float32")
        const v = jnp.fromHost(z.slice(), [5], "float32")
        return [
          jnp.matmul(a, b),
          jnp.dot(a, v),
          jnp.tensordot(a, b, [
            [1, 3],
            [0, 1]
          ])
        ].map((t) => Array.from(t.dataSync()))
      })
    const want = run(cpu),
      got = run(wasm2)
    assert.strictEqual(got.length, want.length)
    got.forEach((g, i) => g.forEach((x, j) => assert.closeTo(x, want[i]![j]!, 1e-4)))
    assert.isUndefined(wasm2.stats.fallbacks.get("dot_general"))
    assert.isUndefined(wasm1.stats.fallbacks.get("dot_general"))
  })
})
