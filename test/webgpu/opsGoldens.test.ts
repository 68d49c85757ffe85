/**
 * The JAX goldens of test/goldens/ops.json replayed on the webgpu backend, with float32 tolerances:
 * each case's operations are queued, then read back asynchronously and compared, whether they ran
 * as WGSL kernels or on the cpu kernels inside the queue.
 */
import { afterAll, describe, expect, it } from "vitest"
import { Backend } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { CREATION, expectMatches, goldens, OPS, toArg } from "../support/goldenOps.ts"
import { eachWebgpu, flushAll, webgpuTolerance } from "./backend.ts"

// Nothing stays queued when the file ends: Dawn must not call back into a finished test worker.
afterAll(flushAll)

describe.each(eachWebgpu)("JAX goldens on webgpu (%s)", (_, candidate) => {
  if (candidate.backend === undefined) {
    it.skip(`does not start here: ${candidate.reason}`, () => {})
    return
  }
  const backend = candidate.backend
  for (const c of goldens.cases) {
    it(c.name, async () => {
      const out = Backend.withBackend(backend, () => (CREATION[c.name] ?? (() => OPS[c.op]!(c, c.args.map(toArg))))())
      const outs = Array.isArray(out) ? (out as ReadonlyArray<JArray>) : [out as JArray]
      await Effect_blockUntilReady(outs)
      if (c.repr !== undefined) {
        expect((out as JArray).repr({ style: "python" })).toBe(c.repr)
      } else if (c.outputs !== undefined) {
        expect(outs.length).toBe(c.outputs.length)
        c.outputs.forEach((w, i) => expectMatches(`${c.name} #${i}`, outs[i]!, w, webgpuTolerance))
      } else {
        expectMatches(c.name, out as JArray, c.output!, webgpuTolerance)
      }
    })
  }

  it("ran most float work as WGSL kernels", () => {
    expect(backend.gpuStats.gpuLaunches).toBeGreaterThan(100)
    expect(backend.gpuStats.kernelErrors).toBe(0)
  })
})

const Effect_blockUntilReady = async (xs: ReadonlyArray<JArray>): Promise<void> => {
  for (const x of xs) if (x.dtype !== "key<fry>") await x.blockUntilReady()
}
