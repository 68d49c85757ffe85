/**
 * `splitRngs`: split Rngs streams into a batch of keys for the duration of a call, so a vmapped (or
 * scanned) function gets one key per example, then restore them so the Rngs stay usable outside.
 * As in Flax, each split stream first draws a key (advancing its count), so successive calls get
 * different keys.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
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

/** What `splitRngs` changed, to restore with {@link restoreRngs}. */
export interface RngBackups {
  readonly entries: ReadonlyArray<readonly [RngStream, JArray, JArray]>
}

/**
 * Splits every matching stream reachable from `node` now; returns backups for {@link restoreRngs}.
 * @category rngs
 * @since 0.1.0
 */
export const splitRngsNow = (node: unknown, options: SplitRngsOptions): RngBackups => {
  const only = toPredicate(options.only ?? "...")
  const entries: Array<readonly [RngStream, JArray, JArray]> = []
  const streams: Array<readonly [Path, RngStream]> = []
  for (const [path, value] of iterGraph(node)) {
    if (value instanceof RngStream) streams.push([path, value])
  }
  for (const [path, stream] of streams) {
    if (!only([...path, "key"], stream.key) || !only([...path, "count"], stream.count)) continue
    const key = stream()
    entries.push([stream, stream.key.value, stream.count.value])
    const shape = typeof options.splits === "number" ? [options.splits] : options.splits
    let keys = splitKey(key, shape)
    if (options.squeeze === true) keys = keys.get(0)
    stream.key.value = keys
    const countShape = options.squeeze === true ? stream.count.value.shape : [...shape, ...stream.count.value.shape]
    stream.count.value = zeros(countShape, { dtype: "uint32" })
  }
  return { entries }
}

/**
 * Puts split streams back as they were (after the draw that split them).
 * @category rngs
 * @since 0.1.0
 */
export const restoreRngs = (backups: RngBackups): void => {
  for (const [stream, key, count] of backups.entries) {
    stream.key.value = key
    stream.count.value = count
  }
}

const isLifted = (u: unknown): u is Lifted<ReadonlyArray<unknown>, unknown> => typeof u === "function" && "sync" in u

/**
 * Wraps `f` so that the Rngs among its arguments are split for the call and restored after, like
 * `nnx.split_rngs`. Works on lifted transforms (keeping them Effects) and on plain functions.
 *
 * @example
 * ```ts
 * const noisy = nnx.splitRngs(nnx.vmap(noisyVectorDot, { inAxes: [stateAxes, 0] }), { splits: 10 })
 * const y = yield* noisy(weights, x)
 * ```
 * @category rngs
 * @since 0.1.0
 */
export function splitRngs<Args extends ReadonlyArray<unknown>, R>(f: Lifted<Args, R>, options: SplitRngsOptions): Lifted<Args, R>
export function splitRngs<Args extends ReadonlyArray<unknown>, R>(f: (...args: Args) => R, options: SplitRngsOptions): (...args: Args) => R
export function splitRngs<Args extends ReadonlyArray<unknown>, R>(f: ((...args: Args) => R) | Lifted<Args, R>, options: SplitRngsOptions): unknown {
  const around = <A>(args: Args, call: () => A): A => {
    const backups = splitRngsNow(args, options)
    try {
      return call()
    } finally {
      restoreRngs(backups)
    }
  }
  if (isLifted(f)) {
    const g = f as Lifted<Args, R>
    const effect = (...args: Args) =>
      Effect.acquireUseRelease(
        Effect.sync(() => splitRngsNow(args, options)),
        () => g(...args),
        (backups) => Effect.sync(() => restoreRngs(backups))
      )
    return Object.assign(effect, { sync: (...args: Args) => around(args, () => g.sync(...args)) })
  }
  return (...args: Args) => around(args, () => (f as (...a: Args) => R)(...args))
}
