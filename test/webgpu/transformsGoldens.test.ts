/**
 * The core transforms' JAX goldens (as in test/transforms/goldens.test.ts) on the webgpu backend:
 * every case computes under webgpu, then its results are read back asynchronously and compared.
 */
import { afterAll, describe, it } from "vitest"
import { Backend } from "effect-nnx"
import { runChecks, transformGoldenCases } from "../support/transformGoldens.ts"
import { eachWebgpu, flushAll } from "./backend.ts"

// Nothing stays queued when the file ends: Dawn must not call back into a finished test worker.
afterAll(flushAll)

describe.each(eachWebgpu)("core transforms against JAX on webgpu (%s)", (_, candidate) => {
  const backend = candidate.backend
  if (backend === undefined) {
    it.skip(`does not start here: ${candidate.reason}`, () => {})
    return
  }
  transformGoldenCases((name, f) => it(name, () => runChecks(Backend.withBackend(backend, f))))
})
