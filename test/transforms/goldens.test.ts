/**
 * The core transforms against JAX on the cpu backend (the cases are in
 * test/support/transformGoldens.ts, shared with the gpu.js suites).
 */
import { describe, it } from "vitest"
import { runChecks, transformGoldenCases } from "../support/transformGoldens.ts"

describe("core transforms against JAX", () => {
  transformGoldenCases((name, f) => it(name, () => runChecks(f())))
})
