/**
 * The rule tables the interpreters (batching, forward and reverse differentiation) read. The
 * interpreters own these empty slots and the module above them, `installRules.ts`, fills them with
 * tables assembled from the first-order and the higher-order rules. The higher-order rules call the
 * interpreters themselves (a `scan`'s batching rule batches its body), so assembling the tables here
 * instead of inside the interpreters keeps the imports one-way, as JAX's interpreters own rule
 * dictionaries that each primitive family fills. Totality is still checked at compile time:
 * {@link installRules} takes only tables that cover every primitive.
 */
import type { BatchRules, JvpRules, VjpRules } from "./rules.ts"

interface Tables {
  readonly batch: BatchRules
  readonly jvp: JvpRules
  readonly vjp: VjpRules
}

let tables: Tables | undefined

/** Installs the rule tables (once, from installRules.ts). */
export const installRules = (t: Tables): void => {
  tables = t
}

const installed = (): Tables => {
  if (tables === undefined)
    throw new Error('effect-nnx: the transform rules are not installed; import the package entry ("effect-nnx")')
  return tables
}

/** The batching rules, total over every primitive. */
export const batchRules = (): BatchRules => installed().batch
/** The JVP rules, total over every primitive. */
export const jvpRules = (): JvpRules => installed().jvp
/** The VJP rules, total over every primitive. */
export const vjpRules = (): VjpRules => installed().vjp
