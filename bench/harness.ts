/**
 * The benchmark's model (rows, contestants, cases) and its interleaved measurement: for each row,
 * every contestant sets up and warms up (compiling), then the contestants take turns, round after
 * round, each timing a batch of calls per round, so that whatever else the machine does hits all
 * of them alike. A sample is one round's mean time per call.
 */

/** The rows, in table order. */
export const rowIds = [
  "matmul-128",
  "matmul-512",
  "matmul-1024",
  "matmul-2048",
  "chain-eager",
  "chain-jit",
  "pegrad",
  "mlp-step",
  "nnx-jit-100",
  "split-merge-100",
  "split-merge-deep"
] as const
export type RowId = (typeof rowIds)[number]

export interface Row {
  readonly id: RowId
  readonly title: string
  /** What one call does, for docs/benchmarks.md. */
  readonly measures: string
  /** Floating-point operations of one call, where GFLOP/s is meaningful. */
  readonly flops?: number
  /** Layers of the stack, where µs per layer is meaningful. */
  readonly layers?: number
}

/** One contestant's prepared workload for one row. */
export interface Case {
  /** Runs `n` calls, each forcing completion and reading its result back; resolves to their total milliseconds. */
  readonly runBatch: (n: number) => Promise<number>
  /** Releases what setup made (arrays, compiled functions). */
  readonly teardown: () => void | Promise<void>
  /** A footnote for this cell (how the contestant does this row differently). */
  readonly note?: string
}

/** A row the contestant does not do, and why. */
export interface Skip {
  readonly skip: string
}

export interface Contestant {
  /** Column label. */
  readonly label: string
  /** Library and version, for docs/benchmarks.md. */
  readonly version: string
  readonly setup: (row: RowId) => Promise<Case | Skip>
  readonly close?: () => void | Promise<void>
}

export const isSkip = (c: Case | Skip): c is Skip => "skip" in c

/**
 * A Case for synchronous (or promise-returning) JavaScript calls timed here. `call` must force
 * completion and read the result back, and leave nothing allocated behind it.
 */
export const localCase = (
  call: () => void | Promise<void>,
  teardown: () => void | Promise<void> = () => {},
  note?: string
): Case => ({
  runBatch: async (n) => {
    const start = performance.now()
    for (let i = 0; i < n; i++) {
      const r = call()
      if (r !== undefined) await r
    }
    return performance.now() - start
  },
  teardown,
  ...(note === undefined ? {} : { note })
})

export interface Stats {
  readonly median: number
  readonly q1: number
  readonly q3: number
  readonly min: number
  readonly max: number
  /** Rounds measured and calls per round. */
  readonly rounds: number
  readonly callsPerRound: number
}

export type Cell =
  | { readonly kind: "ok"; readonly stats: Stats; readonly note?: string }
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "error"; readonly reason: string }

const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] ?? NaN
  const b = sorted[hi] ?? NaN
  return a + (b - a) * (pos - lo)
}

export const summarize = (samples: ReadonlyArray<number>, callsPerRound: number): Stats => {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    median: quantile(sorted, 0.5),
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    rounds: samples.length,
    callsPerRound
  }
}

export interface MeasureOptions {
  /** Measuring time for the whole row (all contestants together), warm-up excluded. */
  readonly budgetMs: number
  /** Rounds when calls are fast enough; at least 3 are always done. */
  readonly maxRounds: number
  readonly log: (line: string) => void
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? ""

/**
 * Measures one row for every contestant, interleaved. Returns a cell per contestant, in order.
 */
export const measureRow = async (
  row: Row,
  contestants: ReadonlyArray<Contestant>,
  options: MeasureOptions
): Promise<Array<Cell>> => {
  const cells: Array<Cell | undefined> = contestants.map(() => undefined)
  const live: Array<{ readonly index: number; readonly kase: Case; readonly estimate: number }> = []

  // set up and warm up everyone first: the first call compiles, the second estimates a call's time
  for (const [index, contestant] of contestants.entries()) {
    let kase: Case | undefined
    try {
      const c = await contestant.setup(row.id)
      if (isSkip(c)) {
        cells[index] = { kind: "skip", reason: c.skip }
        continue
      }
      kase = c
      await kase.runBatch(1)
      const estimate = Math.max(await kase.runBatch(1), 1e-4)
      live.push({ index, kase, estimate })
    } catch (e) {
      cells[index] = { kind: "error", reason: message(e) }
      options.log(`  ${contestant.label}: ${message(e)}`)
      if (kase !== undefined) await Promise.resolve(kase.teardown()).catch(() => {})
    }
  }

  if (live.length > 0) {
    const share = options.budgetMs / live.length
    const slowest = Math.max(...live.map((l) => l.estimate))
    const rounds = Math.max(3, Math.min(options.maxRounds, Math.floor(share / slowest)))
    const calls = live.map((l) => Math.max(1, Math.floor(share / rounds / l.estimate)))
    const samples: Array<Array<number>> = live.map(() => [])
    const failed = new Set<number>()
    for (let r = 0; r < rounds; r++) {
      // rotate who goes first, so no contestant always runs right after the same other one
      for (let k = 0; k < live.length; k++) {
        const j = (k + r) % live.length
        if (failed.has(j)) continue
        const l = live[j]!
        try {
          const total = await l.kase.runBatch(calls[j]!)
          samples[j]!.push(total / calls[j]!)
        } catch (e) {
          failed.add(j)
          cells[l.index] = { kind: "error", reason: message(e) }
          options.log(`  ${contestants[l.index]!.label}: ${message(e)}`)
        }
      }
    }
    for (const [j, l] of live.entries()) {
      try {
        await l.kase.teardown()
      } catch (e) {
        options.log(`  ${contestants[l.index]!.label}: teardown failed: ${message(e)}`)
      }
      if (failed.has(j)) continue
      const stats = summarize(samples[j]!, calls[j]!)
      cells[l.index] = l.kase.note === undefined ? { kind: "ok", stats } : { kind: "ok", stats, note: l.kase.note }
    }
  }
  return cells.map((c) => c ?? { kind: "error", reason: "not measured" })
}
