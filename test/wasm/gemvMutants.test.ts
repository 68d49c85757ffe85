/**
 * The wasm matrix-vector kernels (src/backend/wasm/kernels/gemv.ts) built and called directly (issue
 * 16: tests that catch injected bugs): both forms (`dot`, rows of X contiguous in k; `axpy`, X
 * contiguous along the rows) on float32 and wrapping int32, against a reference that repeats the
 * kernels' documented order of float32 roundings exactly, so a change of accumulation order shows.
 * Operands lie among garbage (padded strides, guard bytes), outputs are prefilled with garbage, and
 * the task shares split batches and rows, across the 2048-row chunks of `axpy` and its scalar tails.
 */
import { assert, describe, it } from "@effect/vitest"
import { ModuleBuilder, relaxedSimdSupported } from "../../src/backend/wasm/encoder.ts"
import { buildGemv, gemvArgs, gemvKey } from "../../src/backend/wasm/kernels/gemv.ts"
import type { GemvConfig } from "../../src/backend/wasm/kernels/gemv.ts"
import { initialPages, kernelImports, maximumPages } from "../../src/backend/wasm/runtime.ts"
import { mulberry32 } from "./support.ts"

type Form = "dot" | "axpy"

const memory = new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared: true })
const imports = kernelImports(memory)
/**
 * Builds the module afresh for every case (no cache), so every test that runs a kernel also runs its
 * generator (Stryker's per-test coverage then credits each test with the code it generates).
 */
const kernel = (c: GemvConfig) => {
  const m = new ModuleBuilder({ initialPages, maximumPages, shared: true })
  buildGemv(m, c)
  const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), imports)
  return instance.exports as unknown as Record<Form, (...args: Array<number>) => void>
}

const rnd = mulberry32(20261203)
const f32 = Math.fround

interface Case {
  readonly c: GemvConfig
  readonly form: Form
  readonly B: number
  readonly rows: number
  readonly K: number
  /** Per task `[b0, b1, i0, i1]`. */
  readonly shares: ReadonlyArray<readonly [number, number, number, number]>
  /** Extra words of padding in each stride. */
  readonly pad?: number
  /** Small integers (exact in any order, for fused multiply-adds). */
  readonly small?: boolean
}

/** The kernel's arithmetic, in its order: `dot` in 16 lanes then lanes and tail; `axpy` in order of k. */
const reference = (
  c: GemvConfig,
  form: Form,
  X: (b: number, i: number, k: number) => number,
  v: (b: number, k: number) => number,
  b: number,
  i: number,
  K: number
): number => {
  const int = c.element === "i32"
  const mul = (a: number, x: number) => (int ? Math.imul(a, x) : f32(a * x))
  const plus = (a: number, x: number) => (int ? (a + x) | 0 : f32(a + x))
  if (form === "axpy") {
    let y = 0
    for (let k = 0; k < K; k++) y = plus(y, mul(X(b, i, k), v(b, k)))
    return y
  }
  const kVec = K & -16
  const lanes = new Array<number>(16).fill(0)
  for (let k = 0; k < kVec; k += 16)
    for (let l = 0; l < 16; l++) lanes[l] = plus(lanes[l]!, mul(X(b, i, k + l), v(b, k + l)))
  let tail = 0
  for (let k = kVec; k < K; k++) tail = plus(tail, mul(X(b, i, k), v(b, k)))
  const s = [0, 1, 2, 3].map((l) => plus(plus(lanes[l]!, lanes[4 + l]!), plus(lanes[8 + l]!, lanes[12 + l]!)))
  return plus(plus(plus(plus(s[0]!, s[1]!), s[2]!), s[3]!), tail)
}

let top = 1024
const alloc = (bytes: number): number => {
  const at = top + 64
  top = Math.ceil((at + bytes + 64) / 64) * 64
  const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536
  if (need > 0) memory.grow(need)
  return at
}

const GARBAGE = 0x7f7f7f7f

const runCase = (t: Case, label: string): void => {
  const { c, form, B, rows, K, shares } = t
  const pad = t.pad ?? 0
  const int = c.element === "i32"
  const value = () =>
    t.small
      ? Math.floor(rnd() * 9) - 4
      : int
        ? Math.floor(rnd() * 0x100000000) | 0
        : f32((rnd() - 0.5) * 2 ** Math.floor(rnd() * 12 - 4))
  // Strides in bytes.
  const [sXb, sXi, sXk] =
    form === "dot"
      ? [rows * (K + pad) * 4 + pad * 4, (K + pad) * 4, 4]
      : [K * (rows + pad) * 4 + pad * 4, 4, (rows + pad) * 4]
  const svk = form === "dot" ? 4 : 4 * (1 + (pad % 3))
  const svb = K * svk + pad * 4
  const syb = rows * 4 + pad * 4
  const start = top
  const x = alloc(B * sXb + 16),
    v = alloc(B * svb + 16),
    y = alloc(B * syb + 16),
    desc = alloc(shares.length * 24)
  const u8 = new Uint8Array(memory.buffer)
  const i32 = new Int32Array(memory.buffer)
  u8.fill(0x7f, start, top)
  const typed = int ? i32 : new Float32Array(memory.buffer)
  const X = (b: number, i: number, k: number) => typed[(x + b * sXb + i * sXi + k * sXk) / 4]!
  const V = (b: number, k: number) => typed[(v + b * svb + k * svk) / 4]!
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      typed[(v + b * svb + k * svk) / 4] = value()
      for (let i = 0; i < rows; i++) typed[(x + b * sXb + i * sXi + k * sXk) / 4] = value()
    }
  }
  shares.forEach((s, n) => i32.set([...s, 0, 0], desc / 4 + n * 6))
  const fn = kernel(c)[form]
  const strides = { sXb, sXi, sXk, svb, svk, syb, K, desc, x, v, y }
  const args = gemvArgs.map((a) => strides[a])
  for (let task = shares.length - 1; task >= 0; task--) fn(task, shares.length, ...args)
  const covered = (b: number, i: number) => shares.some(([b0, b1, i0, i1]) => b >= b0 && b < b1 && i >= i0 && i < i1)
  const outWords = new Int32Array(memory.buffer, y - 64, (B * syb + 128) / 4)
  for (let w = 0; w < outWords.length; w++) {
    const at = y - 64 + 4 * w
    const rel = at - y
    const b = Math.floor(rel / syb),
      i = (rel - b * syb) / 4
    if (rel >= 0 && b < B && i < rows && covered(b, i)) {
      const want = reference(c, form, X, V, b, i, K)
      const got = typed[at / 4]!
      if (!Object.is(got, want)) assert.fail(`${label}: y[${b}, ${i}] is ${got}, want ${want}`)
    } else if (outWords[w] !== GARBAGE) assert.fail(`${label}: wrote word ${rel / 4} outside its rows`)
  }
}

const configs: ReadonlyArray<GemvConfig> = [
  { element: "f32", relaxed: false },
  { element: "i32", relaxed: false }
]

describe("wasm matrix-vector kernels built directly", () => {
  it("dot: every K around the 16-lane blocks, padded strides, batches", () => {
    for (const c of configs)
      for (const K of [0, 1, 3, 15, 16, 17, 31, 32, 33, 47, 48, 64, 79, 100])
        for (const [B, rows] of [
          [1, 1],
          [1, 5],
          [3, 4],
          [2, 17]
        ] as const)
          runCase(
            { c, form: "dot", B, rows, K, shares: [[0, B, 0, rows]], pad: 3 },
            `dot ${c.element} B ${B} rows ${rows} K ${K}`
          )
  })

  it("axpy: every K around the 4-row passes, rows around the vectors and the 2048-row chunks", () => {
    for (const c of configs)
      for (const K of [0, 1, 2, 3, 4, 5, 7, 8, 9, 13])
        for (const [B, rows] of [
          [1, 1],
          [1, 3],
          [1, 4],
          [2, 7],
          [3, 16],
          [1, 21],
          [1, 2049],
          [2, 2052],
          [1, 4099]
        ] as const)
          runCase(
            { c, form: "axpy", B, rows, K, shares: [[0, B, 0, rows]], pad: rows > 100 ? 1 : 5 },
            `axpy ${c.element} B ${B} rows ${rows} K ${K}`
          )
  })

  it("shares of batches and of rows, each task only its own", () => {
    for (const c of configs)
      for (const form of ["dot", "axpy"] as const) {
        const cases: ReadonlyArray<Omit<Case, "c" | "form">> = [
          {
            B: 4,
            rows: 9,
            K: 21,
            shares: [
              [0, 1, 0, 9],
              [1, 3, 0, 9],
              [3, 4, 0, 9]
            ]
          },
          {
            B: 2,
            rows: 50,
            K: 19,
            shares: [
              [0, 2, 0, 16],
              [0, 2, 16, 32],
              [0, 2, 32, 50]
            ]
          },
          {
            B: 1,
            rows: 4200,
            K: 6,
            shares: [
              [0, 1, 0, 2064],
              [0, 1, 2064, 4200]
            ]
          },
          { B: 3, rows: 40, K: 18, shares: [[1, 3, 5, 27]] },
          {
            B: 5,
            rows: 6,
            K: 3,
            shares: [
              [0, 1, 0, 6],
              [1, 2, 0, 6],
              [2, 3, 0, 6],
              [3, 4, 0, 6],
              [4, 5, 0, 6]
            ]
          },
          { B: 2, rows: 10, K: 9, shares: [[0, 2, 3, 3]] }
        ]
        for (const t of cases)
          runCase({ c, form, ...t, pad: 2 }, `${form} ${c.element} shares ${JSON.stringify(t.shares)}`)
      }
  })

  it("fused multiply-adds where relaxed SIMD is available", () => {
    if (!relaxedSimdSupported()) return
    const c: GemvConfig = { element: "f32", relaxed: true }
    for (const form of ["dot", "axpy"] as const)
      for (const K of [3, 16, 37])
        runCase({ c, form, B: 2, rows: 23, K, shares: [[0, 2, 0, 23]], pad: 1, small: true }, `relaxed ${form} ${K}`)
  })

  it("keys name the element and the multiply-add", () => {
    assert.deepStrictEqual(
      [
        gemvKey({ element: "f32", relaxed: true }),
        gemvKey({ element: "f32", relaxed: false }),
        gemvKey({ element: "i32", relaxed: false }),
        gemvKey({ element: "i32", relaxed: true })
      ],
      ["dot_general/gemv/f32/madd", "dot_general/gemv/f32/mul-add", "dot_general/gemv/i32", "dot_general/gemv/i32"]
    )
  })
})
