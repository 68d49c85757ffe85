/**
 * Assembles the rule tables from the first-order rules and the higher-order (control-flow and custom
 * derivative) rules, and installs them for the interpreters. The package entry imports it.
 */
import { firstOrderBatchRules } from "./batchRules.ts"
import { higherOrderBatchRules, higherOrderJvpRules, higherOrderVjpRules } from "./controlFlowRules.ts"
import { firstOrderJvpRules } from "./jvpRules.ts"
import type { BatchRules, JvpRules, VjpRules } from "./rules.ts"
import { installRules } from "./ruleTables.ts"
import { firstOrderVjpRules } from "./vjpRules.ts"

installRules({
  batch: { ...firstOrderBatchRules, ...higherOrderBatchRules } satisfies BatchRules,
  jvp: { ...firstOrderJvpRules, ...higherOrderJvpRules } satisfies JvpRules,
  vjp: { ...firstOrderVjpRules, ...higherOrderVjpRules } satisfies VjpRules
})
