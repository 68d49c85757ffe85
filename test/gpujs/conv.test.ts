/**
 * Convolutions and windowed reductions on every gpu.js mode that starts here: the per-output kernels
 * equal the cpu backend over layouts, strides, paddings, dilations and groups, run on the device
 * (no cpu fallback), and differentiate (the cotangent convolutions run there too).
 */
import { assert, describe, it } from "@effect/vitest"
import { Backend, grad, jnp, lax } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { eachGpujs } from "./backends.ts"

const close = (a: ReadonlyArray<number>, b: ReadonlyArray<number>, tol = 1e-4): boolean =>
  a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= tol * (1 + Math.abs(b[i]!)))

const flat = (x: JArray): Array<number> => Array.from(x.dataSync())
const input = (shape: ReadonlyArray<number>, phase: number): JArray =>
  jnp.reshape(
    jnp.sin(
      jnp
        .arange(shape.reduce((a, b) => a * b, 1))
        .astype("float32")
        .mul(0.7)
        .add(phase)
    ),
    shape
  )

const cases: ReadonlyArray<readonly [string, () => JArray]> = [
  [
    "NHWC same strided",
    () =>
      lax.convGeneralDilated(input([2, 7, 6, 3], 0), input([3, 3, 3, 4], 1), [2, 1], "SAME", {
        dimensionNumbers: ["NHWC", "HWIO", "NHWC"]
      })
  ],
  [
    "NCHW dilated, negative padding",
    () =>
      lax.convGeneralDilated(
        input([1, 2, 6, 5], 0),
        input([3, 2, 2, 2], 1),
        [1, 2],
        [
          [-1, 2],
          [1, 0]
        ],
        { lhsDilation: [2, 1], rhsDilation: [1, 2] }
      )
  ],
  [
    "feature groups",
    () =>
      lax.convGeneralDilated(input([2, 4, 5, 5], 0), input([6, 2, 3, 3], 1), [1, 1], "VALID", { featureGroupCount: 2 })
  ],
  [
    "batch groups",
    () => lax.convGeneralDilated(input([4, 3, 5, 4], 0), input([4, 3, 2, 2], 1), [1, 1], "SAME", { batchGroupCount: 2 })
  ],
  ["1d", () => lax.conv(input([2, 3, 9], 0), input([2, 3, 4], 1), [3], "SAME_LOWER")],
  ["max window", () => lax.reduceWindow(input([2, 6, 5, 3], 0), -Infinity, "max", [1, 3, 2, 1], [1, 2, 1, 1], "SAME")],
  [
    "sum window dilated",
    () =>
      lax.reduceWindow(
        input([3, 7], 0),
        0,
        "add",
        [2, 2],
        [1, 2],
        [
          [1, 0],
          [0, 2]
        ],
        { baseDilation: [2, 1], windowDilation: [1, 2] }
      )
  ],
  [
    "conv gradients",
    () => {
      const [gx, gw] = grad((x: JArray, w: JArray) => jnp.sum(jnp.tanh(lax.conv(x, w, [2, 2], "SAME"))), {
        argnums: [0, 1]
      })(input([2, 3, 6, 6], 0), input([4, 3, 3, 3], 1)) as unknown as [JArray, JArray]
      return jnp.concatenate([gx.flatten(), gw.flatten()])
    }
  ]
]

describe.each(eachGpujs)("convolutions on %s", (label, candidate) => {
  const b = candidate.backend
  if (b === undefined) {
    it.skip(`${label} does not start here: ${candidate.reason}`, () => {})
    return
  }
  for (const [name, run] of cases) {
    it(`${name} equals the cpu backend, on the device`, () => {
      const want = Backend.withBackend(Backend.cpu, () => flat(run()))
      const got = Backend.withBackend(b, () => flat(run()))
      assert.isTrue(close(got, want), `${name}: ${got.slice(0, 6)} vs ${want.slice(0, 6)}`)
      assert.isUndefined(b.gpuStats.cpuOps.get("conv_general_dilated"), "conv fell back to the cpu")
      assert.isUndefined(b.gpuStats.cpuOps.get("reduce_window"), "reduce_window fell back to the cpu")
    })
  }

  it("a window of more positions than a kernel unrolls runs on the cpu kernels, with the same values", () => {
    const run = () => flat(lax.conv(input([1, 1, 12, 12], 0), input([1, 1, 9, 9], 1), [1, 1], "VALID"))
    const want = Backend.withBackend(Backend.cpu, run)
    const before = b.gpuStats.cpuOps.get("conv_general_dilated") ?? 0
    assert.isTrue(close(Backend.withBackend(b, run), want))
    assert.strictEqual(b.gpuStats.cpuOps.get("conv_general_dilated"), before + 1)
  })
})
