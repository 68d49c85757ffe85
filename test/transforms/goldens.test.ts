/**
 * The core transforms against JAX on the cpu backend (the cases are in
 * test/support/transformGoldens.ts, shared with the gpu.js suites).
 */
import { describe, it } from "vitest"
import { transformGoldenCases } from "../support/transformGoldens.ts"

describe("core transforms against JAX", () => {
  transformGoldenCases(it)
})
