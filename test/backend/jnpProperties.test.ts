/**
 * Property tests of jnp over random shapes: broadcasting with every binary operation against a naive
 * elementwise reference, reshape/transpose round trips, and matmul against a triple loop.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { jnp } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { Ref } from "../support/properties/jnp.ts"
import {
  at,
  floatOps,
  intOps,
  make,
  naiveMatmul,
  shapeAndPerm,
  size,
  unravel,
  values,
  withData
} from "../support/properties/jnp.ts"

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
    naiveMatmul(da, db, [m, k, n, b]).forEach(({ want, bound }, e) => {
      expect(Math.abs(got[e]! - want)).toBeLessThanOrEqual(bound)
    })
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
