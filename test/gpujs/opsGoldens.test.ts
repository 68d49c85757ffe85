/**
 * The JAX goldens of test/goldens/ops.json replayed on every gpu.js mode that starts here, with
 * float32 tolerances: the same answers as the cpu backend (test/backend/opsGoldens.test.ts), whether
 * an operation ran as a gpu.js kernel or fell back to the cpu kernels.
 */
import { describe, expect, it } from "vitest"
import { Backend } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { eachGpujs, gpujsTolerance } from "./backends.ts"
import { CREATION, expectMatches, goldens, OPS, toArg } from "../support/goldenOps.ts"

describe.each(eachGpujs)("JAX goldens on %s", (label, candidate) => {
  const backend = candidate.backend
  if (backend === undefined) {
    it.skip(`${label} does not start here: ${candidate.reason}`, () => {})
    return
  }
  for (const c of goldens.cases) {
    it(c.name, () => {
      Backend.withBackend(backend, () => {
        const run = CREATION[c.name] ?? (() => OPS[c.op]!(c, c.args.map(toArg)))
        const out = run()
        if (c.repr !== undefined) {
          expect((out as JArray).repr({ style: "python" })).toBe(c.repr)
        } else if (c.outputs !== undefined) {
          const outs = out as ReadonlyArray<JArray>
          expect(outs.length).toBe(c.outputs.length)
          c.outputs.forEach((w, i) => expectMatches(`${c.name} #${i}`, outs[i]!, w, gpujsTolerance))
        } else {
          expectMatches(c.name, out as JArray, c.output!, gpujsTolerance)
        }
      })
    })
  }

  it("ran most float work as gpu.js kernels", () => {
    expect(backend.gpuStats.gpuLaunches).toBeGreaterThan(100)
    expect(backend.gpuStats.kernelErrors).toBe(0)
  })
})
