/**
 * examples/service.ts: a Trainer interrupted mid-training, or half-way through writing a checkpoint,
 * leaves its last checkpoint whole and loadable, and a Trainer built over the same directory
 * continues from it exactly as an uninterrupted run would.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FileSystem, Layer, Stream } from "effect"
import { jnp, nnx } from "effect-nnx"
import { batches, checkpointFile, layer, nodeFileSystem, NodeFileSystemLayer, Trainer } from "../../examples/service.ts"
import type { TrainState } from "../../examples/service.ts"

const every = 5

/** A temporary directory for one test's checkpoints, removed when the test's scope closes. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-nnx-service-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const trainer = (directory: string, fs: Layer.Layer<FileSystem.FileSystem> = NodeFileSystemLayer) =>
  layer({ directory, every }).pipe(Layer.provide(fs))

/** Trains batches [from, to) with a Trainer over `directory`; the step it reached and its state. */
const trainRange = (directory: string, from: number, to: number) =>
  Effect.gen(function* () {
    const t = yield* Trainer
    assert.strictEqual(yield* t.step, from, "the Trainer starts at the checkpoint's step")
    yield* t.train(batches(from, to))
    return { step: yield* t.step, state: t.state }
  }).pipe(Effect.provide(trainer(directory)))

const paramsEqual = (a: TrainState, b: TrainState): boolean => {
  const pa = nnx.state(a.model, nnx.Param).toFlat()
  const pb = nnx.state(b.model, nnx.Param).toFlat()
  const value = (leaf: unknown): jnp.Array => (leaf as { value: jnp.Array }).value
  return (
    pa.length === pb.length &&
    pa.every(
      ([path, leaf], i) =>
        path.join("/") === pb[i]![0].join("/") && Boolean(jnp.arrayEqual(value(leaf), value(pb[i]![1])).item())
    )
  )
}

/** The checkpoint in `directory`, loaded on its own (its kinds named, as no model is there to learn them from): its step count. */
const checkpointStep = (directory: string) =>
  Effect.gen(function* () {
    const bytes = yield* nodeFileSystem.readFile(checkpointFile(directory))
    const state = yield* nnx.loadState(bytes, { kinds: [nnx.OptState, nnx.OptArray, nnx.OptVariable] })
    const step = state.toFlat().find(([path]) => path.join("/") === "optimizer/step")
    assert.isDefined(step, "the checkpoint holds the optimizer's step")
    return Number((step![1] as { value: jnp.Array }).value.item())
  })

describe("examples/service.ts", () => {
  it.live("a Trainer over a checkpoint continues as an uninterrupted run", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const [split, whole] = [yield* tempDir, yield* tempDir]
        yield* trainRange(split, 0, 10)
        assert.strictEqual(yield* checkpointStep(split), 10)
        const resumed = yield* trainRange(split, 10, 15)
        const straight = yield* trainRange(whole, 0, 15)
        assert.strictEqual(resumed.step, 15)
        assert.isTrue(
          paramsEqual(resumed.state, straight.state),
          "resumed and uninterrupted runs reach the same parameters"
        )
      })
    )
  )

  it.live("interrupted between batches, the last checkpoint is intact and a resumed run continues from it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const [dir, whole] = [yield* tempDir, yield* tempDir]
        const reached = yield* Deferred.make<void>()
        // Batches 0..11 arrive, then the stream waits (as a slow data source would) until interrupted.
        const stream = Stream.concat(
          batches(0, 12),
          Stream.fromEffect(Deferred.succeed(reached, undefined).pipe(Effect.andThen(Effect.never)))
        )
        const fiber = yield* Effect.forkChild(
          Effect.gen(function* () {
            return yield* (yield* Trainer).train(stream)
          }).pipe(Effect.provide(trainer(dir)))
        )
        yield* Deferred.await(reached)
        yield* Fiber.interrupt(fiber)
        assert.strictEqual(yield* checkpointStep(dir), 10, "the checkpoint of step 10, not 12")
        const resumed = yield* trainRange(dir, 10, 15)
        const straight = yield* trainRange(whole, 0, 15)
        assert.isTrue(paramsEqual(resumed.state, straight.state))
      })
    )
  )

  it.live("interrupted half-way through writing a checkpoint, the previous one is intact and loadable", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const [dir, whole] = [yield* tempDir, yield* tempDir]
        const midWrite = yield* Deferred.make<void>()
        let renames = 0
        // The third checkpoint (step 15) is written to the temporary file, then the rename never comes.
        const stalling = FileSystem.layerNoop({
          ...nodeFileSystem,
          rename: (from, to) =>
            ++renames < 3
              ? nodeFileSystem.rename(from, to)
              : Deferred.succeed(midWrite, undefined).pipe(Effect.andThen(Effect.never))
        })
        const fiber = yield* Effect.forkChild(
          Effect.gen(function* () {
            return yield* (yield* Trainer).train(batches(0))
          }).pipe(Effect.provide(trainer(dir, stalling)))
        )
        yield* Deferred.await(midWrite)
        yield* Fiber.interrupt(fiber)
        assert.isTrue(
          yield* nodeFileSystem.exists(`${checkpointFile(dir)}.tmp`),
          "the new checkpoint was being written"
        )
        assert.strictEqual(yield* checkpointStep(dir), 10, "the last complete checkpoint")
        const resumed = yield* trainRange(dir, 10, 15)
        const straight = yield* trainRange(whole, 0, 15)
        assert.isTrue(paramsEqual(resumed.state, straight.state))
      })
    )
  )
})
