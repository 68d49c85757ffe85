/**
 * Buffer liveness: after which step each slot of a plan is read for the last time, so that its
 * buffer can be handed back to the backend then rather than when the garbage collector notices. On
 * the wasm and gpu backends an intermediate's memory is otherwise held until the whole call returns
 * (or longer), so a long program's peak memory would be the sum of all its intermediates.
 *
 * Whether a buffer may really be disposed is decided at run time, by reference count over the
 * buffer objects the slots hold, because kernels may return one of their inputs (a reshape) and so
 * several slots may hold one buffer; see `plan.ts`.
 *
 * @since 0.2.0
 */

/** What liveness needs of a step: the slots it reads and writes. */
export interface SlotUse {
  readonly inputs: ReadonlyArray<number>
  readonly outputs: ReadonlyArray<number>
}

/**
 * For each step, the slots to release after it: those it reads for the last time, and those it
 * writes that nothing reads. Slots in `keep` (the plan's outputs) are never released. Plans are in
 * SSA form (a slot is written once, before every read), so the last step that reads or writes a
 * slot is where its buffer is last needed. Slots filled before the first step are always read by a
 * step (the plan makes sources only for variables a step reads), so their last read covers them.
 */
export const releaseAfter = (steps: ReadonlyArray<SlotUse>, keep: ReadonlySet<number>): Array<Array<number>> => {
  const last = new Map<number, number>()
  steps.forEach((step, i) => {
    for (const s of [...step.outputs, ...step.inputs]) last.set(s, i)
  })
  const release: Array<Array<number>> = steps.map(() => [])
  for (const [slot, i] of last) if (!keep.has(slot)) release[i]!.push(slot)
  return release
}
