/**
 * A setup file for mutation runs only (`npm run mutation`; vitest.config.ts adds it when
 * `EFFECT_NNX_MUTATION_SEED` is set, as stryker.config.mjs does). `@fast-check/vitest` names each
 * property test `name (with seed=N)` with a fresh random N, and Stryker picks the tests to run
 * against a mutant by their names from the first (dry) run: without one seed for every run, no
 * property test would match, and those tests would silently drop out of the mutant runs.
 */
import { fc } from "@fast-check/vitest"

const seed = Number(process.env["EFFECT_NNX_MUTATION_SEED"])
if (Number.isInteger(seed)) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed })
