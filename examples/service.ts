/**
 * A training service as an Effect `Layer`: `Trainer` holds a model and its `nnx.Optimizer`, trains on
 * an Effect `Stream` of batches, and checkpoints through effect's `FileSystem` service. A checkpoint
 * is written to a temporary file (flushed to disk) that is then renamed over the last one, so a run
 * interrupted at any point, in a step or half-way through a write, leaves the last checkpoint whole.
 * A Trainer built over the same directory starts from that checkpoint: the model, the optimizer's
 * moments and its step count.
 *
 *   npm run example:service        # 200 steps, a checkpoint every 50, in a temporary directory
 *
 * docs/service.md walks through it; test/examples/service.test.ts interrupts and resumes it.
 */
import { mkdtempSync } from "node:fs"
import * as fsp from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Context, Effect, FileSystem, Layer, PlatformError, Stream } from "effect"
import { jnp, nnx, optax, random } from "effect-nnx"

// ---------------------------------------------------------------------------------------------------
// The model, and what a checkpoint holds

/** A small MLP regressor: 4 inputs, 16 hidden units, 1 output. */
export class Regressor extends nnx.Module {
  hidden: nnx.Linear
  out: nnx.Linear
  constructor(rngs: nnx.Rngs) {
    super()
    this.hidden = new nnx.Linear(4, 16, { rngs })
    this.out = new nnx.Linear(16, 1, { rngs })
  }
  call(x: jnp.Array): jnp.Array {
    return this.out.call(nnx.relu(this.hidden.call(x)))
  }
}

/** The model and its optimizer in one graph, so that one State (one file) saves and restores both. */
export class TrainState extends nnx.Module {
  model: Regressor
  optimizer: nnx.Optimizer<Regressor>
  constructor(seed: number, learningRate: number) {
    super()
    this.model = new Regressor(new nnx.Rngs(seed))
    this.optimizer = new nnx.Optimizer(this.model, optax.adam(learningRate), { wrt: nnx.Param })
  }
}

// ---------------------------------------------------------------------------------------------------
// The data: a stream of batches

export interface Batch {
  readonly x: jnp.Array
  readonly y: jnp.Array
}

const target = jnp.array([[1], [-2], [0.5], [3]])

/** Batch `i` of a synthetic regression (`y = x · target`): the same `i` gives the same batch. */
export const batchAt = (i: number, size = 32): Batch => {
  const x = random.normal(random.foldIn(random.key(1234), i), [size, 4])
  return { x, y: x.matmul(target) }
}

/** Batches `from`, `from + 1`, ... up to `to` (exclusive; endless by default). */
export const batches = (from: number, to = Infinity): Stream.Stream<Batch> =>
  Stream.iterate(from, (i) => i + 1).pipe(Stream.takeWhile((i) => i < to), Stream.map((i) => batchAt(i)))

// ---------------------------------------------------------------------------------------------------
// The service

const loss = (model: Regressor, x: jnp.Array, y: jnp.Array) => jnp.mean(jnp.square(model.call(x).sub(y)))

const trainStep = nnx.jit((state: TrainState, x: jnp.Array, y: jnp.Array) => {
  const [value, grads] = nnx.valueAndGrad(loss).sync(state.model, x, y)
  state.optimizer.update(state.model, grads)
  return value
})

export interface TrainerOptions {
  /** Where the checkpoint lives (`checkpoint.nnx`); made if missing. */
  readonly directory: string
  /** A checkpoint every this many steps. */
  readonly every: number
  readonly seed?: number
  readonly learningRate?: number
}

/** Training as a service: built by {@link layer}, used with `yield* Trainer`. */
export class Trainer extends Context.Service<Trainer, {
  /** The model and optimizer being trained. */
  readonly state: TrainState
  /** How many steps were trained, counting those restored from the checkpoint. */
  readonly step: Effect.Effect<number>
  /**
   * Trains one step per batch of the stream, checkpointing every `every` steps; gives the last
   * batch's loss. Interrupting it leaves the last checkpoint intact.
   */
  readonly train: <E, R>(batches: Stream.Stream<Batch, E, R>) => Effect.Effect<number, E | TrainError, R>
  /** Writes a checkpoint now. */
  readonly checkpoint: Effect.Effect<void, TrainError>
}>()("examples/Trainer") {}

/** What training and checkpointing can fail with: a file error, an unreadable checkpoint, a step's error. */
export type TrainError = PlatformError.PlatformError | nnx.CodecError | nnx.TraceContextError | nnx.LiftError

/** The checkpoint's file in a directory. */
export const checkpointFile = (directory: string): string => join(directory, "checkpoint.nnx")

/** A Trainer over `options.directory`, restored from its checkpoint when there is one. */
export const layer = (options: TrainerOptions): Layer.Layer<Trainer, TrainError, FileSystem.FileSystem> =>
  Layer.effect(Trainer, Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = checkpointFile(options.directory)
    const state = new TrainState(options.seed ?? 0, options.learningRate ?? 0.01)
    yield* fs.makeDirectory(options.directory, { recursive: true })
    if (yield* fs.exists(file)) yield* nnx.restore(state, yield* fs.readFile(file))

    const step = Effect.sync(() => Number(state.optimizer.step.value.item()))
    // The new bytes go to a temporary file first; the rename replaces the checkpoint in one step, so
    // the file is the old checkpoint or the new one, never a mix.
    const checkpoint = Effect.gen(function*() {
      const bytes = yield* nnx.saveState(nnx.state(state))
      yield* fs.writeFile(`${file}.tmp`, bytes)
      yield* fs.rename(`${file}.tmp`, file)
    })
    const train = <E, R>(stream: Stream.Stream<Batch, E, R>) =>
      Effect.gen(function*() {
        let last = Number.NaN
        yield* Stream.runForEach(stream, (batch) =>
          Effect.gen(function*() {
            last = Number((yield* trainStep(state, batch.x, batch.y)).item())
            if ((yield* step) % options.every === 0) yield* checkpoint
          }))
        return last
      })
    return { state, step, train, checkpoint }
  }))

// ---------------------------------------------------------------------------------------------------
// A FileSystem on Node

const attempt = <A>(method: string, path: string, f: () => Promise<A>): Effect.Effect<A, PlatformError.PlatformError> =>
  Effect.tryPromise({
    try: f,
    catch: (cause) =>
      PlatformError.systemError({
        _tag: (cause as { code?: unknown }).code === "ENOENT" ? "NotFound" : "Unknown",
        module: "FileSystem",
        method,
        pathOrDescriptor: path,
        cause
      })
  })

/**
 * The FileSystem operations the Trainer uses, on Node's `fs`. (effect 4 defines the FileSystem
 * service; its Node implementation is `NodeFileSystem.layer` of `@effect/platform-node`, which this
 * project does not depend on. With it installed, provide that layer instead.)
 */
export const nodeFileSystem = {
  exists: (path: string) => Effect.promise(() => fsp.access(path).then(() => true, () => false)),
  makeDirectory: (path: string, options?: { readonly recursive?: boolean | undefined }) =>
    attempt("makeDirectory", path, () => fsp.mkdir(path, { recursive: options?.recursive ?? false }).then(() => undefined)),
  readFile: (path: string) => attempt("readFile", path, () => fsp.readFile(path).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))),
  // Flushed before it is closed: a rename after it must not publish bytes still in the page cache.
  writeFile: (path: string, data: Uint8Array) =>
    attempt("writeFile", path, async () => {
      const handle = await fsp.open(path, "w")
      try {
        await handle.writeFile(data)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }),
  rename: (from: string, to: string) => attempt("rename", from, () => fsp.rename(from, to))
} satisfies Partial<FileSystem.FileSystem>

/** {@link nodeFileSystem} as a layer (the other FileSystem operations fail). */
export const NodeFileSystemLayer: Layer.Layer<FileSystem.FileSystem> = FileSystem.layerNoop(nodeFileSystem)

// ---------------------------------------------------------------------------------------------------
// Run: 200 steps, checkpointing every 50, then a second Trainer resumes from the checkpoint

const main = Effect.gen(function*() {
  const directory = mkdtempSync(join(tmpdir(), "effect-nnx-service-"))
  const options = { directory, every: 50 }
  const first = Effect.gen(function*() {
    const trainer = yield* Trainer
    const last = yield* trainer.train(batches(0, 200))
    console.log(`trained to step ${yield* trainer.step}, loss ${last.toFixed(4)}; checkpoint in ${directory}`)
  })
  yield* first.pipe(Effect.provide(layer(options)))
  const resumed = Effect.gen(function*() {
    const trainer = yield* Trainer
    const from = yield* trainer.step
    const last = yield* trainer.train(batches(from, from + 50))
    console.log(`resumed at step ${from}, trained to step ${yield* trainer.step}, loss ${last.toFixed(4)}`)
  })
  yield* resumed.pipe(Effect.provide(layer(options)))
}).pipe(Effect.provide(NodeFileSystemLayer))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) Effect.runPromise(main)
