/**
 * The f64x2 log and log1p of the generated kernels (src/backend/wasm/kernels/mathf64.ts) on doubles
 * (issue 16: tests that catch injected bugs), against the engine's `Math.log` and `Math.log1p`,
 * which on this engine are fdlibm's, as the port is: every lane's double must be the same bit for
 * bit. The values take every branch of fdlibm's: zeros, negatives, NaN, infinities, subnormals,
 * |f| < 2^-20 around each power of two, both sides of the `wide` test and of sqrt(2), log1p's direct
 * range, its tiny arguments below 2^-54 and 2^-29, huge arguments from 2^53 on, and -1.
 */
import { assert, describe, it } from "@effect/vitest"
import { evaluateMathF64, mulberry32 } from "./seeded.ts"

const rnd = mulberry32(641)

const evaluate = evaluateMathF64

const bits = (x: number): bigint => new BigInt64Array(new Float64Array([x]).buffer)[0]!
const fromBits = (b: bigint): number => new Float64Array(new BigInt64Array([b]).buffer)[0]!

/** Doubles next to `x`: `x` and its neighbours up to `k` ulps away. */
const around = (x: number, k = 2): Array<number> =>
  Array.from({ length: 2 * k + 1 }, (_, i) => fromBits(bits(x) + BigInt(i - k)))

const specials = [
  0,
  -0,
  Infinity,
  -Infinity,
  Number.NaN,
  1,
  -1,
  2,
  0.5,
  5e-324,
  -5e-324,
  1e-310,
  2.2250738585072014e-308,
  1e300,
  -1e300,
  1.7976931348623157e308,
  2 ** 53,
  2 ** 54,
  2 ** 1023,
  Math.SQRT2,
  Math.SQRT1_2,
  Math.SQRT2 - 1,
  Math.SQRT1_2 - 1,
  2 ** -20,
  -(2 ** -20),
  2 ** -29,
  2 ** -54,
  -(2 ** -54),
  2 ** -60,
  -0.2929,
  -0.29289321881345254,
  0.41421356237309503,
  -0.9999999999999999
]

const sample = (): number => {
  const r = rnd()
  if (r < 0.2) return (rnd() - 0.5) * 8
  if (r < 0.35) return 1 + (rnd() - 0.5) * 2 ** -Math.floor(rnd() * 30)
  if (r < 0.5) return 2 ** Math.floor((rnd() - 0.5) * 200) * (1 + (rnd() - 0.5) * 2 ** -Math.floor(rnd() * 25))
  if (r < 0.6) return (rnd() - 0.5) * 2 ** -Math.floor(rnd() * 70)
  if (r < 0.7) return -1 + rnd() * 2 ** -Math.floor(rnd() * 40)
  if (r < 0.8) return fromBits((BigInt(Math.floor(rnd() * 2 ** 20)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)))
  return (rnd() < 0.3 ? -1 : 1) * 2 ** ((rnd() - 0.3) * 2100)
}

describe("the f64x2 logarithms of the generated kernels", () => {
  it("equal Math.log and Math.log1p bit for bit in every branch", () => {
    const edges = [
      ...specials,
      ...[1, 2, 4, 0.25, 2 ** 100, 2 ** -100, 2 ** -1022, 2 ** -1030].flatMap((x) => around(x, 3)),
      ...[1.38, 1.42, 1.7, 1.2, 1.05, 0.7, 0.999].flatMap((x) => around(x, 1)),
      // the edges of fdlibm's `wide` test (hx - 0x6147a, 0x6b851 - hx) and log1p's 0x6a09e
      ...[0x6147an, 0x6b851n, 0x6a09en].flatMap((h) =>
        [-1n, 0n, 1n].map((d) => fromBits((0x3ff00000n + h + d) << 32n))
      ),
      ...[0x6147an, 0x6b851n, 0x6a09en].flatMap((h) =>
        [-1n, 0n, 1n].map((d) => fromBits((0x3ff00000n + h + d) << 32n) - 1)
      )
    ]
    const xs = Float64Array.from([...edges, ...Array.from({ length: 20000 }, sample)])
    const reference = { log: Math.log, log1p: Math.log1p }
    for (const name of ["log", "log1p"] as const) {
      const got = evaluate(name, xs)
      xs.forEach((x, i) => {
        const want = reference[name](x)
        const g = got[i]!
        if (!(Object.is(g, want) || (Number.isNaN(g) && Number.isNaN(want))))
          assert.fail(`${name}(${x}) = ${g}, Math gives ${want}`)
      })
    }
  })
})
