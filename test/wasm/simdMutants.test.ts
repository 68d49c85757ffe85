/**
 * The SIMD additions and the expression language of the generated kernels
 * (src/backend/wasm/kernels/simd.ts) on their own (issue 16: tests that catch injected bugs): every
 * extra instruction, i64x2 constant, f64x2 and i64x2 expression and bit helper evaluated on lanes
 * with signs, high bits and special doubles, compared with the same operation in JavaScript.
 */
import { assert, describe, it } from "@effect/vitest"
import { ModuleBuilder } from "../../src/backend/wasm/encoder.ts"
import type { FunctionBuilder } from "../../src/backend/wasm/encoder.ts"
import {
  bind,
  d,
  get,
  highHalf,
  highWord,
  i64x2Const,
  lowBytes,
  lowHalves,
  ops,
  q,
  toF64,
  withHighWord
} from "../../src/backend/wasm/kernels/simd.ts"
import type { Expr } from "../../src/backend/wasm/kernels/simd.ts"

/** Runs `body(a, b)` (locals holding the two 16-byte operands) and answers the 16 bytes it leaves (or stores). */
const run = (
  a: Uint8Array,
  b: Uint8Array,
  body: (f: FunctionBuilder, a: number, b: number) => void,
  stores = false
): Uint8Array => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })
  const m = new ModuleBuilder({ initialPages: 1, maximumPages: 1, shared: true })
  m.addFunction("run", [], [], (f) => {
    const x = f.local("v128"),
      y = f.local("v128")
    f.i32(0).v128_load().set(x)
    f.i32(16).v128_load().set(y)
    if (stores) body(f, x, y)
    else {
      f.i32(64)
      body(f, x, y)
      f.v128_store()
    }
  })
  const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory } })
  const u8 = new Uint8Array(memory.buffer)
  u8.fill(0xa5, 0, 128)
  u8.set(a, 0)
  u8.set(b, 16)
  ;(instance.exports["run"] as () => void)()
  return u8.slice(64, 96)
}

const f64s = (...xs: ReadonlyArray<number>) => new Uint8Array(Float64Array.from(xs).buffer)
const i64s = (...xs: ReadonlyArray<bigint>) => new Uint8Array(BigInt64Array.from(xs).buffer)
const asF64 = (u: Uint8Array) => [...new Float64Array(u.buffer, 0, 2)]
const asI64 = (u: Uint8Array) => [...new BigInt64Array(u.buffer, 0, 2)]
const binary = (e: (x: Expr, y: Expr) => Expr) => (f: FunctionBuilder, a: number, b: number) => e(get(a), get(b))(f)

const same = (got: ReadonlyArray<number>, want: ReadonlyArray<number>, label: string) =>
  want.forEach((w, i) =>
    assert.isTrue(
      Object.is(got[i], w) || (Number.isNaN(got[i]) && Number.isNaN(w)),
      `${label} lane ${i}: ${got[i]} != ${w}`
    )
  )

const doubles: ReadonlyArray<readonly [number, number]> = [
  [1.5, -2.25],
  [-0, 0],
  [Number.NaN, 3],
  [Infinity, -Infinity],
  [7.75, 7.75],
  [-3.5, 1e-310],
  [2.5, -0.5],
  [1e300, -1e-300]
]
const longs: ReadonlyArray<readonly [bigint, bigint]> = [
  [1n, -1n],
  [0n, 0n],
  [-(2n ** 63n), 2n ** 63n - 1n],
  [0x123456789abcdefn, -0x7edcba9876543210n],
  [5n, 5n],
  [-3n, 2n]
]

describe("the SIMD helpers of the generated kernels", () => {
  it("evaluate f64x2 expressions as JavaScript does", () => {
    const cases: ReadonlyArray<readonly [string, (x: Expr, y: Expr) => Expr, (x: number, y: number) => number]> = [
      ["add", d.add, (x, y) => x + y],
      ["sub", d.sub, (x, y) => x - y],
      ["mul", d.mul, (x, y) => x * y],
      ["div", d.div, (x, y) => x / y],
      ["neg", (x) => d.neg(x), (x) => -x],
      ["abs", (x) => d.abs(x), (x) => Math.abs(x)],
      ["trunc", (x) => d.trunc(x), (x) => Math.trunc(x)],
      ["k", () => d.k(-6.5), () => -6.5],
      ["horner", (x) => d.horner(x, [1, 2, 3]), (x) => 1 + x * (2 + x * 3)],
      ["horner1", (x) => d.horner(x, [4]), () => 4],
      ["toF64", () => toF64(q.k(-12345n)), () => -12345]
    ]
    for (const [name, e, ref] of cases)
      for (const [x, y] of doubles) {
        const xs = [x, y],
          ys = [y, x]
        same(asF64(run(f64s(...xs), f64s(...ys), binary(e))), [ref(x, y), ref(y, x)], `${name}(${x}, ${y})`)
      }
    const masks: ReadonlyArray<readonly [string, (x: Expr, y: Expr) => Expr, (x: number, y: number) => boolean]> = [
      ["eq", d.eq, (x, y) => x === y],
      ["ne", d.ne, (x, y) => x !== y],
      ["lt", d.lt, (x, y) => x < y],
      ["le", d.le, (x, y) => x <= y],
      ["gt", d.gt, (x, y) => x > y],
      ["ge", d.ge, (x, y) => x >= y]
    ]
    for (const [name, e, ref] of masks)
      for (const [x, y] of doubles) {
        const got = asI64(run(f64s(x, y), f64s(y, x), binary(e)))
        assert.deepStrictEqual(got, [ref(x, y) ? -1n : 0n, ref(y, x) ? -1n : 0n], `${name}(${x}, ${y})`)
      }
  })

  it("evaluate i64x2 expressions and bit helpers as BigInt does", () => {
    const w = (x: bigint) => BigInt.asIntN(64, x)
    const cases: ReadonlyArray<readonly [string, (x: Expr, y: Expr) => Expr, (x: bigint, y: bigint) => bigint]> = [
      ["add", q.add, (x, y) => w(x + y)],
      ["sub", q.sub, (x, y) => w(x - y)],
      ["and", q.and, (x, y) => x & y],
      ["or", q.or, (x, y) => x | y],
      ["xor", q.xor, (x, y) => x ^ y],
      ["d.and", d.and, (x, y) => x & y],
      ["d.or", d.or, (x, y) => x | y],
      ["andnot", d.andnot, (x, y) => x & ~y],
      [
        "sel",
        (x, y) => d.sel(x, y, q.k(0xff00ff00ff00ff0n)),
        (x, y) => (x & 0xff00ff00ff00ff0n) | (y & ~0xff00ff00ff00ff0n)
      ],
      ["shl", (x) => q.shl(x, 13), (x) => w(x << 13n)],
      ["shrS", (x) => q.shrS(x, 7), (x) => x >> 7n],
      ["highWord", (x) => highWord(x), (x) => x >> 32n],
      ["withHighWord", withHighWord, (x, y) => w((x & 0xffffffffn) | (y << 32n))],
      ["eq", q.eq, (x, y) => (x === y ? -1n : 0n)],
      ["ne", q.ne, (x, y) => (x !== y ? -1n : 0n)],
      ["lt", q.lt, (x, y) => (x < y ? -1n : 0n)],
      ["le", q.le, (x, y) => (x <= y ? -1n : 0n)],
      ["gt", q.gt, (x, y) => (x > y ? -1n : 0n)],
      ["ge", q.ge, (x, y) => (x >= y ? -1n : 0n)],
      ["k", () => q.k(-0x1234567890n), () => -0x1234567890n]
    ]
    for (const [name, e, ref] of cases)
      for (const [x, y] of longs)
        assert.deepStrictEqual(
          asI64(run(i64s(x, y), i64s(y, x), binary(e))),
          [ref(x, y), ref(y, x)],
          `${name}(${x}, ${y})`
        )
    // two different lanes, and the second defaulting to the first
    assert.deepStrictEqual(asI64(run(i64s(0n, 0n), i64s(0n, 0n), (f) => i64x2Const(f, -5n, 2n ** 64n - 1n))), [
      -5n,
      -1n
    ])
    assert.deepStrictEqual(asI64(run(i64s(0n, 0n), i64s(0n, 0n), (f) => i64x2Const(f, 2n ** 63n))), [
      -(2n ** 63n),
      -(2n ** 63n)
    ])
    // bind: a new local of the type asked for
    assert.deepStrictEqual(
      asI64(
        run(i64s(3n, 4n), i64s(0n, 0n), (f, a) => {
          const l = bind(f, q.add(get(a), get(a)))
          const s = bind(f, (g) => g.i32(9), "i32")
          f.get(l)
          f.get(s).i64x2_shl()
        })
      ),
      [6n << 9n, 8n << 9n]
    )
  })

  it("widen bytes, store one lane and shuffle as the kernels need", () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => 250 - i * 3)
    const w = run(bytes, bytes, (f, a) => {
      f.get(a)
      ops.i16x8_extend_low_i8x16_u(f)
      ops.i32x4_extend_low_i16x8_u(f)
    })
    assert.deepStrictEqual([...new Uint32Array(w.buffer, 0, 4)], [250, 247, 244, 241])
    const h = run(bytes, bytes, (f, a) => {
      f.get(a)
      ops.i16x8_extend_low_i8x16_u(f)
    })
    assert.deepStrictEqual([...new Uint16Array(h.buffer, 0, 8)], [...bytes.slice(0, 8)])
    const words = new Uint8Array(Uint32Array.from([0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00]).buffer)
    for (const [lane, offset] of [
      [0, 0],
      [2, 4],
      [3, 8]
    ] as const) {
      const s = run(
        words,
        words,
        (f, a) => {
          f.i32(64).get(a)
          ops.v128_store32_lane(f, lane, offset)
        },
        true
      )
      const want = new Uint8Array(32).fill(0xa5)
      want.set(words.slice(4 * lane, 4 * lane + 4), offset)
      assert.deepStrictEqual([...s], [...want], `store lane ${lane} at ${offset}`)
    }
    const dflt = run(
      words,
      words,
      (f, a) => {
        f.i32(64).get(a)
        ops.v128_store32_lane(f, 1)
      },
      true
    )
    assert.deepStrictEqual([...dflt.slice(0, 4)], [...words.slice(4, 8)])
    const shuffle = (lanes: ReadonlyArray<number>) => [
      ...run(bytes, words, (f, a, b) => f.get(a).get(b).shuffle(lanes)).slice(0, 16)
    ]
    assert.deepStrictEqual(
      shuffle(lowBytes),
      [0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12].map((i) => bytes[i]!)
    )
    assert.deepStrictEqual(shuffle(highHalf).slice(0, 8), [...bytes.slice(8, 16)])
    assert.deepStrictEqual(shuffle(lowHalves), [...bytes.slice(0, 8), ...words.slice(0, 8)])
  })
})
