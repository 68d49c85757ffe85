/**
 * Property tests of the batching rules: for a small function exercising each first-order primitive,
 * `vmap(f)` over random shapes, batch sizes, input axes (0, 1, -1 or unmapped, mixed across
 * arguments) and output axes equals an explicit loop over the batch stacked with `jnp.stack`.
 */
import { test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import type { Array as JArray } from "effect-nnx"
import type { Case, Run } from "../support/properties/batching.ts"
import { cases, run, vmapAndLoop } from "../support/properties/batching.ts"

// ---------------------------------------------------------------------------------------------
// The property

const expectClose = (actual: JArray, expected: JArray, what: string): void => {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape)
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype)
  expect(actual.weakType, `${what}: weak type`).toBe(expected.weakType)
  const a = actual.dataSync()
  const e = expected.dataSync()
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!,
      y = e[i]!
    if (Number.isNaN(y)) expect(Number.isNaN(x), `${what}[${i}]`).toBe(true)
    else if (x !== y)
      expect(Math.abs(x - y), `${what}[${i}]: ${x} vs ${y}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(y)))
  }
}

const check = (c: Case, r: Run): void => {
  const { got, expected, what } = vmapAndLoop(c, r)
  expect(got.length).toBe(expected.length)
  got.forEach((g, k) => expectClose(g, expected[k]!, `output ${k} ${what}`))
}

describe("vmap equals a loop over the batch, per primitive", () => {
  for (const [prim, list] of Object.entries(cases) as Array<[string, ReadonlyArray<Case>]>) {
    list.forEach((c, k) => {
      test.prop([run], { numRuns: 30 })(`${prim}${list.length > 1 ? ` #${k}` : ""}`, (r) => check(c, r))
    })
  }
})
