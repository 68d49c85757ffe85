// @ts-check
/**
 * Mutation testing of the core (issue 16): `npm run mutation` injects small bugs (mutants) into the
 * files below, one at a time, and runs the tests that cover each; a mutant no test fails on shows
 * code the tests do not check. See docs/testing.md.
 *
 * Slow (a full run can take hours on a 2-core machine), so it is not part of `npm test`: narrow it with
 * `npm run mutation -- --mutate src/graph/flatten.ts` and `--testFiles test/graph/graph.test.ts`.
 */

// Read by vitest.config.ts: one fast-check seed for every run (@fast-check/vitest puts the seed in
// each property test's name, and Stryker selects tests by name), and no gpu.js, browser or package suites.
process.env["EFFECT_NNX_MUTATION_SEED"] ??= "20261202"

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.config.ts" },
  coverageAnalysis: "perTest",
  // The core: graph split/merge and the checkpoint codecs, the extract protocol of the lifted
  // transforms, the transform context, the batching interpreter and its rules, the JVP and VJP rules,
  // the jit compiler, and the kernels (cpu reference and wasm code generators).
  mutate: [
    "src/graph/flatten.ts",
    "src/graph/State.ts",
    "src/graph/codec.ts",
    "src/graph/codecSupport.ts",
    "src/transforms/extract.ts",
    "src/backend/transformContext.ts",
    "src/transforms/core/batching.ts",
    "src/transforms/core/batchRules.ts",
    "src/transforms/core/jvpRules.ts",
    "src/transforms/core/vjpRules.ts",
    "src/transforms/core/compile/*.ts",
    "src/backend/cpu/*.ts",
    "src/backend/wasm/kernels/*.ts"
  ],
  // Mutants that only run while a module loads would need every test run again each; the rule
  // tables' bodies, where the behaviour is, run per call and are still mutated.
  ignoreStatic: true,
  // Other runs' sandboxes too: narrowed runs side by side (each its own tempDirName) would otherwise
  // copy each other's whole sandboxes, and fail when one is removed mid-copy.
  ignorePatterns: ["dist", "bench", "reports", ".venv", ".whl", ".gl", ".stryker-tmp*"],
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  // Tests share two cores with the mutant runs; allow a loaded machine more time before a
  // mutant counts as an infinite loop.
  timeoutMS: 20_000,
  thresholds: { high: 95, low: 85, break: null }
}
