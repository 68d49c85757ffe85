/**
 * The core transforms' JAX goldens (test/goldens/transforms.json, as in
 * test/transforms/goldens.test.ts) replayed on every gpu.js mode that starts here: per-example
 * gradients (`vmap(grad(f))`), `jit`, hessians, grad through scan, vmap axes, and control flow
 * under vmap, jvp and grad, with the gpujs backend current.
 */
import { describe, it as vitestIt } from "vitest"
import { Backend } from "effect-nnx"
import { runChecks, transformGoldenCases } from "../support/transformGoldens.ts"
import { eachGpujs } from "./backends.ts"

describe.each(eachGpujs)("core transforms against JAX on %s", (label, candidate) => {
  const backend = candidate.backend
  if (backend === undefined) {
    vitestIt.skip(`${label} does not start here: ${candidate.reason}`, () => {})
    return
  }
  // Every case runs with the gpujs backend current; results are compared with JAX's.
  transformGoldenCases((name, f) => vitestIt(name, () => runChecks(Backend.withBackend(backend, f))))
})
