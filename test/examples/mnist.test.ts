/**
 * The MNIST example (`npm run example:mnist`) against its Flax NNX + optax twin
 * (`examples/mnist_flax.py`): same model, initial parameters, optimizer, schedule and data order,
 * on a slice of the digits for two epochs. The metrics must agree to float32 noise (the training
 * loss to 1e-4 relative; an evaluation may differ by a digit or two near the decision boundary).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"

interface Epoch {
  readonly epoch: number
  readonly trainLoss: number
  readonly trainAccuracy: number
  readonly testLoss: number
  readonly testAccuracy: number
}

const golden = JSON.parse(readFileSync(new URL("../goldens/mnist_example.json", import.meta.url), "utf8")) as {
  readonly args: ReadonlyArray<string>
  readonly epochs: ReadonlyArray<Epoch>
}

describe("examples/mnist.ts", () => {
  it("trains as the Flax version does: the same losses and accuracies epoch by epoch, and writes its plot", () => {
    const plot = join(mkdtempSync(join(tmpdir(), "mnist-")), "plot.svg")
    const out = execFileSync(
      process.execPath,
      ["--import", "tsx", "--conditions=source", "examples/mnist.ts", ...golden.args, "--json", "--plot", plot],
      {
        encoding: "utf8",
        timeout: 240_000
      }
    )
    const epochs = out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Epoch)
    assert.strictEqual(epochs.length, golden.epochs.length)
    epochs.forEach((got, i) => {
      const want = golden.epochs[i]!
      assert.closeTo(got.trainLoss, want.trainLoss, 1e-4 * want.trainLoss, `epoch ${got.epoch} training loss`)
      assert.closeTo(got.trainAccuracy, want.trainAccuracy, 2 / 512, `epoch ${got.epoch} training accuracy`)
      assert.closeTo(got.testLoss, want.testLoss, 0.01 * want.testLoss, `epoch ${got.epoch} test loss`)
      assert.closeTo(got.testAccuracy, want.testAccuracy, 3 / 500, `epoch ${got.epoch} test accuracy`)
    })
    const svg = readFileSync(plot, "utf8")
    assert.match(svg, /^<svg /)
    assert.match(svg, /training loss/)
    assert.match(svg, /test accuracy/)
  }, 300_000)
})
