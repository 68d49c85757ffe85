/**
 * The generators and naive references of the jnp properties (test/backend/jnpProperties.test.ts),
 * shared with their webgpu run (test/webgpu/properties.test.ts): broadcast-compatible shape pairs
 * with data, the binary operations with a scalar reference each (float32 and int32), NumPy's
 * broadcasting and row-major indexing written out, and shapes with a permutation of their axes.
 */
import { fc } from "@fast-check/vitest"
import { jnp } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { unravel } from "../multiIndex.ts"

const f32 = Math.fround

/** NumPy's rule, written independently of the library: align right, 1 stretches. */
const naiveBroadcast = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): Array<number> => {
  const n = Math.max(a.length, b.length)
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1
    const db = b[b.length - n + i] ?? 1
    return da === 1 ? db : da
  })
}

/** A pair of broadcast-compatible shapes and their broadcast shape. */
export const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
  .chain((out) =>
    fc.tuple(
      fc.constant(out),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
      fc.integer({ min: 0, max: out.length }),
      fc.integer({ min: 0, max: out.length })
    )
  )
  .map(([full, onesA, onesB, dropA, dropB]) => {
    const a = full.map((d, i) => (onesA[i] ? 1 : d)).slice(dropA)
    const b = full.map((d, i) => (onesB[i] ? 1 : d)).slice(dropB)
    return { out: naiveBroadcast(a, b), a, b }
  })

/** The number of elements of a shape. */
export const size = (s: ReadonlyArray<number>): number => s.reduce((n, d) => n * d, 1)

/** Element of `data` (of `shape`) seen at output multi-index `idx` under NumPy broadcasting. */
export const at = (data: ArrayLike<number>, shape: ReadonlyArray<number>, idx: ReadonlyArray<number>): number => {
  let off = 0
  const lead = idx.length - shape.length
  for (let i = 0; i < shape.length; i++) off = off * shape[i]! + (shape[i] === 1 ? 0 : idx[lead + i]!)
  return data[off]!
}

/** The multi-index of row-major flat index `flat` in `shape`. */
export { unravel }

/** A scalar reference for a binary operation, on one element of each operand. */
export type Ref = (a: number, b: number) => number
const i32 = (x: number) => x | 0
/** float32 binary operations, by NumPy name, with their references (rounded to float32). */
export const floatOps: Record<string, [(a: JArray, b: JArray) => JArray, Ref]> = {
  add: [jnp.add, (a, b) => f32(a + b)],
  subtract: [jnp.subtract, (a, b) => f32(a - b)],
  multiply: [jnp.multiply, (a, b) => f32(a * b)],
  divide: [jnp.divide, (a, b) => f32(a / b)],
  maximum: [jnp.maximum, Math.max],
  minimum: [jnp.minimum, Math.min],
  power: [(a, b) => jnp.power(jnp.abs(a), b), (a, b) => f32(f32(Math.abs(a)) ** b)],
  less: [jnp.less, (a, b) => Number(a < b)],
  equal: [jnp.equal, (a, b) => Number(a === b)],
  greater_equal: [jnp.greaterEqual, (a, b) => Number(a >= b)],
  remainder: [
    jnp.remainder,
    (a, b) => {
      const r = f32(a % b)
      return r !== 0 && r < 0 !== b < 0 ? f32(r + b) : r
    }
  ],
  arctan2: [jnp.arctan2, (a, b) => f32(Math.atan2(a, b))]
}
/** int32 binary operations, by NumPy name, with their references (wrapping as int32). */
export const intOps: Record<string, [(a: JArray, b: JArray) => JArray, Ref]> = {
  add: [jnp.add, (a, b) => i32(a + b)],
  subtract: [jnp.subtract, (a, b) => i32(a - b)],
  multiply: [jnp.multiply, (a, b) => Math.imul(a, b)],
  floor_divide: [
    jnp.floorDivide,
    (a, b) => (b === 0 ? (a === 0 ? -1 : Math.sign(a) !== 0 ? -2 : -1) : i32(Math.floor(a / b)))
  ],
  bitwise_and: [jnp.bitwiseAnd, (a, b) => a & b],
  bitwise_or: [jnp.bitwiseOr, (a, b) => a | b],
  bitwise_xor: [jnp.bitwiseXor, (a, b) => a ^ b],
  maximum: [jnp.maximum, Math.max],
  not_equal: [jnp.notEqual, (a, b) => Number(a !== b)],
  left_shift: [(a, b) => jnp.leftShift(a, jnp.bitwiseAnd(b, 31)), (a, b) => a << (b & 31)]
}

/** `n` finite float32 values in [-100, 100], or `n` integers in [-1000, 1000]. */
export const values = (kind: "float" | "int", n: number) =>
  kind === "float"
    ? fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }).map(f32), {
        minLength: n,
        maxLength: n
      })
    : fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n })

/** A broadcast-compatible pair of shapes, with values of `kind` for each operand. */
export const withData = (kind: "float" | "int") =>
  broadcastPair.chain((p) => fc.tuple(fc.constant(p), values(kind, size(p.a)), values(kind, size(p.b))))

/** The array of `shape` and `dtype` holding `data` in row-major order. */
export const make = (data: ReadonlyArray<number>, shape: ReadonlyArray<number>, dtype: "float32" | "int32"): JArray =>
  jnp.reshape(jnp.array(data.length === 0 ? [] : [...data], { dtype }), shape)

/** A shape of rank 1 to 5 and a permutation of its axes. */
export const shapeAndPerm = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.shuffledSubarray(
      shape.map((_, i) => i),
      { minLength: shape.length, maxLength: shape.length }
    )
  )
)

/**
 * A batched `[b, m, k] @ [k, n]` product by a naive triple loop, each element with the error a
 * float32 accumulation (as XLA's) may make: about (k + 2) ulps of the sum of |products|.
 */
export const naiveMatmul = (
  da: ArrayLike<number>,
  db: ArrayLike<number>,
  [m, k, n, b]: readonly [number, number, number, number]
): Array<{ readonly want: number; readonly bound: number }> => {
  const out: Array<{ readonly want: number; readonly bound: number }> = []
  for (let bi = 0; bi < b; bi++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0
        let magnitude = 0
        for (let l = 0; l < k; l++) {
          const p = da[bi * m * k + i * k + l]! * db[l * n + j]!
          acc += p
          magnitude += Math.abs(p)
        }
        out.push({ want: acc, bound: (k + 2) * 2 ** -23 * magnitude + 1e-6 * Math.max(1, Math.abs(acc)) })
      }
  return out
}
