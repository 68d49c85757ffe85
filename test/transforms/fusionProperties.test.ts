/**
 * Property: a random program of elementwise ops, broadcasts, reductions, transposes and dots gives the
 * same arrays jitted (compiled: rewritten, fused where the backend fuses, buffers freed early) as
 * evaluated op by op on the same backend, and compiles to a plan that does not retrace.
 *
 * The suite runs once per entry of {@link backends}. On the cpu reference, with or without the
 * reference fusion, results are equal bit for bit; a backend whose fused kernels round or order
 * differently gives its tolerance. The programs, their interpreter and their inputs are in
 * test/support/properties/fusion.ts.
 */
import { test } from "@fast-check/vitest"
import { describe, expect } from "vitest"
import { Backend, jit } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { BackendImpl } from "../../src/backend/BackendImpl.ts"
import { makeFusingCpu } from "../../src/backend/fusionReference.ts"
import { inputsFor, randomProgram, runProgram } from "../support/properties/fusion.ts"

/** A backend to check, and how far its jitted results may be from its eager ones (0: exactly equal). */
interface BackendCase {
  readonly name: string
  readonly make: () => BackendImpl
  readonly tolerance: number
}

const backends: ReadonlyArray<BackendCase> = [
  { name: "cpu (no fusion)", make: Backend.makeCpu, tolerance: 0 },
  { name: "cpu with the reference fusion", make: makeFusingCpu, tolerance: 0 },
  { name: "the default backend", make: Backend.defaultBackend, tolerance: 1e-5 }
]

const same = (got: JArray, want: JArray, tolerance: number): void => {
  expect(got.shape).toEqual(want.shape)
  expect(got.dtype).toBe(want.dtype)
  const a = got.dataSync(),
    b = want.dataSync()
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue
    if (tolerance > 0 && Math.abs(x - y) <= tolerance * (1 + Math.abs(y))) continue
    expect.fail(`element ${i}: jitted ${x}, eager ${y}`)
  }
}

/** Checks the property on one backend: every random program gives the same arrays jitted as eagerly. */
const checkJitMatchesEager = ({ name, make, tolerance }: BackendCase, numRuns = 60): void => {
  let backend: BackendImpl | undefined
  const get = (): BackendImpl => (backend ??= make())
  test.prop([randomProgram], { numRuns })(`${name}: jit(program) equals the program`, ({ shapes, ops, seed }) => {
    Backend.withBackend(get(), () => {
      const inputs = inputsFor(shapes, seed)
      const f = (...xs: Array<JArray>) => runProgram(ops, xs)
      const want = f(...inputs)
      const jf = jit(f)
      const got = jf(...inputs)
      got.forEach((g, i) => same(g, want[i]!, tolerance))
      // A second call runs the cached plan: same arrays, no retrace.
      jf(...inputs).forEach((g, i) => same(g, want[i]!, tolerance))
      expect(jf.traceCount).toBe(1)
      inputs.forEach((x, k) => same(x, inputsFor(shapes, seed)[k]!, 0))
    })
  })
}

describe.each(backends)("compiled programs on $name", (c) => {
  checkJitMatchesEager(c)
})
