/**
 * Property tests of jnp over random shapes: broadcasting with every binary operation against a naive
 * elementwise reference, reshape/transpose round trips, and matmul against a triple loop.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { jnp } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

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
const broadcastPair = fc
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

const size = (s: ReadonlyArray<number>): number => s.reduce((n, d) => n * d, 1)

/** Element of `data` (of `shape`) seen at output multi-index `idx` under NumPy broadcasting. */
const at = (data: ArrayLike<number>, shape: ReadonlyArray<number>, idx: ReadonlyArray<number>): number => {
  let off = 0
  const lead = idx.length - shape.length
  for (let i = 0; i < shape.length; i++) off = off * shape[i]! + (shape[i] === 1 ? 0 : idx[lead + i]!)
  return data[off]!
}

const unravel = (flat: number, shape: ReadonlyArray<number>): Array<number> => {
  const idx = new Array<number>(shape.length)
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i]!
    flat = Math.floor(flat / shape[i]!)
  }
  return idx
}

type Ref = (a: number, b: number) => number
const i32 = (x: number) => x | 0
const floatOps: Record<string, [(a: JArray, b: JArray) => JArray, Ref]> = {
  add: [jnp.add, (a, b) => f32(a + b)],
  subtract: [jnp.subtract, (a, b) => f32(a - b)],
  multiply: [jnp.multiply, (a, b) => f32(a * b)],
  divide: [jnp.divide, (a, b) => f32(a / b)],
  maximum: [jnp.maximum, Math.max],
  minimum: [jnp.minimum, Math.min],
  power: [(a, b) => jnp.power(jnp.abs(a), b), (a, b) => f32(Math.pow(f32(Math.abs(a)), b))],
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
const intOps: Record<string, [(a: JArray, b: JArray) => JArray, Ref]> = {
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

const values = (kind: "float" | "int", n: number) =>
  kind === "float"
    ? fc.array(fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true }).map(f32), {
        minLength: n,
        maxLength: n
      })
    : fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n })

const withData = (kind: "float" | "int") =>
  broadcastPair.chain((p) => fc.tuple(fc.constant(p), values(kind, size(p.a)), values(kind, size(p.b))))

const make = (data: ReadonlyArray<number>, shape: ReadonlyArray<number>, dtype: "float32" | "int32"): JArray =>
  jnp.reshape(jnp.array(data.length === 0 ? [] : [...data], { dtype }), shape)

const checkOp =
  (name: string, op: (a: JArray, b: JArray) => JArray, ref: Ref, dtype: "float32" | "int32") =>
  ([p, da, db]: [{ out: Array<number>; a: Array<number>; b: Array<number> }, Array<number>, Array<number>]) => {
    const out = op(make(da, p.a, dtype), make(db, p.b, dtype))
    expect(out.shape, `${name} shape`).toEqual(p.out)
    const got = out.dataSync()
    for (let i = 0; i < size(p.out); i++) {
      const idx = unravel(i, p.out)
      const want = ref(at(da, p.a, idx), at(db, p.b, idx))
      const g = got[i]!
      if (Object.is(g, want)) continue
      if (Number.isNaN(want)) expect(Number.isNaN(g), `${name} at ${idx}`).toBe(true)
      else if (dtype === "float32")
        expect(Math.abs(g - want), `${name} at ${idx}: ${g} vs ${want}`).toBeLessThanOrEqual(
          1e-5 * Math.max(1, Math.abs(want))
        )
      else expect(g, `${name} at ${idx}`).toBe(want)
    }
  }

describe("binary operations broadcast like NumPy and agree with a naive reference", () => {
  for (const [name, [op, ref]] of Object.entries(floatOps)) {
    test.prop([withData("float")], { numRuns: 40 })(`float32 ${name}`, checkOp(name, op, ref, "float32"))
  }
  for (const [name, [op, ref]] of Object.entries(intOps)) {
    test.prop([withData("int")], { numRuns: 40 })(`int32 ${name}`, checkOp(name, op, ref, "int32"))
  }
})

const shapeAndPerm = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    fc.shuffledSubarray(
      shape.map((_, i) => i),
      { minLength: shape.length, maxLength: shape.length }
    )
  )
)

describe("shape manipulation round trips", () => {
  test.prop([shapeAndPerm])("transpose by a permutation then its inverse is the identity", ([shape, perm]) => {
    const x = jnp.reshape(jnp.arange(size(shape)), shape)
    const inverse = perm.map((_, i) => perm.indexOf(i))
    const t = jnp.transpose(x, perm)
    expect(t.shape).toEqual(perm.map((p) => shape[p]))
    expect(jnp.transpose(t, inverse).tolist()).toEqual(x.tolist())
  })

  test.prop([shapeAndPerm])("transpose moves element [i...] to [perm(i)...]", ([shape, perm]) => {
    const x = jnp.reshape(jnp.arange(size(shape)), shape)
    const t = jnp.transpose(x, perm)
    const td = t.dataSync()
    for (let i = 0; i < t.size; i++) {
      const outIdx = unravel(i, t.shape)
      const inIdx = new Array<number>(shape.length)
      perm.forEach((p, k) => (inIdx[p] = outIdx[k]!))
      expect(td[i]).toBe(at(x.dataSync(), shape, inIdx))
    }
  })

  test.prop([
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 })
  ])("reshape to any shape of the same size and back preserves row-major order", (s1, s2) => {
    const n = size(s1)
    const target = [...s2, n]
    const x = jnp.reshape(jnp.arange(n * size(s2)), [...s1, ...s2])
    const y = jnp.reshape(x, target)
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()))
    expect(jnp.reshape(y, x.shape).tolist()).toEqual(x.tolist())
  })
})

describe("matmul agrees with a naive triple loop", () => {
  const dims = fc.tuple(
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 3 })
  )
  test.prop(
    [
      dims.chain(([m, k, n, b]) =>
        fc.tuple(fc.constant([m, k, n, b] as const), values("float", b * m * k), values("float", k * n))
      )
    ],
    { numRuns: 60 }
  )("batched [b, m, k] @ [k, n]", ([[m, k, n, b], da, db]) => {
    const out = jnp.matmul(make(da, [b, m, k], "float32"), make(db, [k, n], "float32"))
    expect(out.shape).toEqual([b, m, n])
    const got = out.dataSync()
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
          // A float32 accumulation (as XLA's) errs by at most about (k + 2) ulps of the sum of |products|.
          const bound = (k + 2) * 2 ** -23 * magnitude + 1e-6 * Math.max(1, Math.abs(acc))
          expect(Math.abs(got[(bi * m + i) * n + j]! - acc)).toBeLessThanOrEqual(bound)
        }
  })
  test.prop(
    [dims.chain(([m, k, n]) => fc.tuple(fc.constant([m, k, n] as const), values("int", m * k), values("int", k * n)))],
    { numRuns: 40 }
  )("int32 [m, k] @ [k, n] wraps exactly", ([[m, k, n], da, db]) => {
    const got = jnp.matmul(make(da, [m, k], "int32"), make(db, [k, n], "int32")).dataSync()
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0
        for (let l = 0; l < k; l++) acc = (acc + Math.imul(da[i * k + l]!, db[l * n + j]!)) | 0
        expect(got[i * n + j]).toBe(acc)
      }
  })
})
