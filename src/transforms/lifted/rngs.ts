/**
 * `splitRngs`: split Rngs streams into a batch of keys for the duration of a call, so a vmapped (or
 * scanned) function gets one key per example, then restore them so the Rngs stay usable outside.
 * As in Flax, each split stream first draws a key (advancing its count), so successive calls get
 * different keys.
 *
 * @since 0.1.0
 */
import { Effect, Exit } from "effect"
import type { Array as JArray } from "../../backend/Array.ts"
import { zeros } from "../../backend/numpy/creation.ts"
import { split as splitKey } from "../../backend/random/index.ts"
import { iterGraph } from "../../graph/graph.ts"
import type { Path } from "../../graph/path.ts"
import { RngStream } from "../../graph/Rngs.ts"
import type { Filter } from "../../filters/Filter.ts"
import { toPredicate } from "../../filters/Filter.ts"
import type { Lifted } from "../combinator.ts"

/** Options of {@link splitRngs}. */
export interface SplitRngsOptions {
  /** How many keys (or a shape of keys) each stream is split into. */
  readonly splits: number | ReadonlyArray<number>
  /** Which streams to split (a filter over `[...streamPath, "key"]` and the key Variable); all by default. */
  readonly only?: Filter | undefined
  /** With `splits: 1`, drop the split axis. */
  readonly squeeze?: boolean | undefined
}

/**
 * What `splitRngs` changed, to restore with {@link restoreRngs}: each stream with its key and count
 * after the draw that split it, and its count before that draw.
 */
export interface RngBackups {
  readonly entries: ReadonlyArray<readonly [stream: RngStream, key: JArray, count: JArray, countBefore: JArray]>
}

/** Runs `change` over the streams; if it throws, puts every stream it changed back as it was. */
const atomically = (change: (entries: Array<RngBackups["entries"][number]>) => void): RngBackups => {
  const entries: Array<RngBackups["entries"][number]> = []
  try {
    change(entries)
  } catch (e) {
    restoreRngs({ entries }, { failed: true })
    throw e
  }
  return { entries }
}

/**
 * Splits every matching stream reachable from `node` now; returns backups for {@link restoreRngs}.
 * @category rngs
 * @since 0.1.0
 */
export const splitRngsNow = (node: unknown, options: SplitRngsOptions): RngBackups => {
  const only = toPredicate(options.only ?? "...")
  const streams: Array<readonly [Path, RngStream]> = []
  for (const [path, value] of iterGraph(node)) {
    if (value instanceof RngStream) streams.push([path, value])
  }
  return atomically((entries) => {
    for (const [path, stream] of streams) {
      if (!only([...path, "key"], stream.key) || !only([...path, "count"], stream.count)) continue
      const countBefore = stream.count.value
      const key = stream()
      entries.push([stream, stream.key.value, stream.count.value, countBefore])
      const shape = typeof options.splits === "number" ? [options.splits] : options.splits
      let keys = splitKey(key, shape)
      if (options.squeeze === true) keys = keys.get(0)
      stream.key.value = keys
      const countShape = options.squeeze === true ? stream.count.value.shape : [...shape, ...stream.count.value.shape]
      stream.count.value = zeros(countShape, { dtype: "uint32" })
    }
  })
}

/**
 * Puts split streams back as they were after the draw that split them (as Flax does), or, with
 * `failed`, as they were before it: a call that failed changes nothing, the Rngs counts included.
 * @category rngs
 * @since 0.1.0
 */
export const restoreRngs = (backups: RngBackups, options?: { readonly failed?: boolean }): void => {
  for (const [stream, key, count, countBefore] of backups.entries) {
    stream.key.value = key
    stream.count.value = options?.failed === true ? countBefore : count
  }
}

const isLifted = (u: unknown): u is Lifted<ReadonlyArray<unknown>, unknown> => typeof u === "function" && "sync" in u

/**
 * Wraps `f` so that the Rngs among its arguments are split for the call and restored after, like
 * `nnx.split_rngs`. Works on lifted transforms (keeping them Effects) and on plain functions.
 *
 * @example
 * ```ts
 * import { jnp, nnx, random } from "effect-nnx"
 *
 * class Noisy extends nnx.Module {
 *   rngs = new nnx.Rngs({ noise: 0 })
 * }
 * const addNoise = (m: Noisy, x: jnp.Array) => x.add(random.normal(m.rngs.noise(), x.shape))
 * const noisy = nnx.splitRngs(nnx.vmap(addNoise, { inAxes: [0, 0] }), { splits: 4 })
 * const m = new Noisy()
 * const y = noisy.sync(m, jnp.zeros([4, 2])) // 4 rows of different noise
 * y.shape // [4, 2]
 * m.rngs.noise.key.value.shape // []
 * ```
 * @category rngs
 * @since 0.1.0
 */
export function splitRngs<Args extends ReadonlyArray<unknown>, R>(
  f: Lifted<Args, R>,
  options: SplitRngsOptions
): Lifted<Args, R>
export function splitRngs<Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options: SplitRngsOptions
): (...args: Args) => R
export function splitRngs<Args extends ReadonlyArray<unknown>, R>(
  f: ((...args: Args) => R) | Lifted<Args, R>,
  options: SplitRngsOptions
): unknown {
  return withRngsAround(f, (args) => splitRngsNow(args, options))
}

/** Options of {@link forkRngs}: how many keys each stream forks into (none: one fresh key). */
export interface ForkRngsOptions {
  /** A count or shape for every stream, or `[filter, splits]` pairs (first match wins; `null` forks without splitting). */
  readonly split?:
    | number
    | ReadonlyArray<number>
    | ReadonlyArray<readonly [Filter, number | ReadonlyArray<number> | null]>
    | undefined
}

const isPairList = (
  u: ForkRngsOptions["split"]
): u is ReadonlyArray<readonly [Filter, number | ReadonlyArray<number> | null]> =>
  Array.isArray(u) && u.length > 0 && Array.isArray(u[0])

/**
 * Forks every stream reachable from `node` now: each draws a fresh key (split into `split` keys if
 * given) with a zero count, like `nnx.fork_rngs`; returns backups for {@link restoreRngs}.
 * @category rngs
 * @since 0.1.0
 */
export const forkRngsNow = (node: unknown, options?: ForkRngsOptions): RngBackups => {
  const split = options?.split
  const rules: ReadonlyArray<
    readonly [(path: Path, value: unknown) => boolean, number | ReadonlyArray<number> | null]
  > = isPairList(split)
    ? split.map(([f, s]) => [toPredicate(f), s] as const)
    : [[toPredicate("..."), (split as number | ReadonlyArray<number> | undefined) ?? null]]
  const streams: Array<readonly [Path, RngStream]> = []
  for (const [path, value] of iterGraph(node)) if (value instanceof RngStream) streams.push([path, value])
  return atomically((entries) => {
    for (const [path, stream] of streams) {
      const rule = rules.find(([p]) => p([...path, "key"], stream.key) && p([...path, "count"], stream.count))
      if (rule === undefined) continue
      const countBefore = stream.count.value
      const key = stream()
      entries.push([stream, stream.key.value, stream.count.value, countBefore])
      const s = rule[1]
      const keys = s === null ? key : splitKey(key, typeof s === "number" ? [s] : s)
      stream.key.value = keys
      stream.count.value = zeros(keys.shape, { dtype: "uint32" })
    }
  })
}

/**
 * Wraps `f` so the Rngs among its arguments are forked for the call and restored after.
 * @category rngs
 * @since 0.1.0
 */
export function forkRngs<Args extends ReadonlyArray<unknown>, R>(
  f: Lifted<Args, R>,
  options?: ForkRngsOptions
): Lifted<Args, R>
export function forkRngs<Args extends ReadonlyArray<unknown>, R>(
  f: (...args: Args) => R,
  options?: ForkRngsOptions
): (...args: Args) => R
export function forkRngs<Args extends ReadonlyArray<unknown>, R>(
  f: ((...args: Args) => R) | Lifted<Args, R>,
  options?: ForkRngsOptions
): unknown {
  return withRngsAround(f, (args) => forkRngsNow(args, options))
}

function withRngsAround<Args extends ReadonlyArray<unknown>, R>(
  f: ((...args: Args) => R) | Lifted<Args, R>,
  before: (args: Args) => RngBackups
): unknown {
  const around = <A>(args: Args, call: () => A): A => {
    const backups = before(args)
    let result: A
    try {
      result = call()
    } catch (e) {
      restoreRngs(backups, { failed: true })
      throw e
    }
    restoreRngs(backups)
    return result
  }
  if (isLifted(f)) {
    const g = f as Lifted<Args, R>
    const effect = (...args: Args) =>
      Effect.acquireUseRelease(
        Effect.sync(() => before(args)),
        () => g(...args),
        (backups, exit) => Effect.sync(() => restoreRngs(backups, { failed: Exit.isFailure(exit) }))
      )
    return Object.assign(effect, { sync: (...args: Args) => around(args, () => g.sync(...args)) })
  }
  return (...args: Args) => around(args, () => (f as (...a: Args) => R)(...args))
}
