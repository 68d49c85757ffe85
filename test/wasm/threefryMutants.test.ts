/**
 * The wasm threefry2x32 kernel (src/backend/wasm/kernels/threefry.ts) called directly on a test
 * runtime that records the tasks each run asks for and runs them one after another (issue 16: tests
 * that catch injected bugs), against the cpu reference kernel: every choice of whole or single-word
 * operands, lengths around the sixteen-element block (a scalar tail, fewer than one block), operands
 * broadcast along some axes only (copied to scratch first), and the thread split.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Aval, HostArray } from "../../src/backend/DType.ts"
import { threefryKernel } from "../../src/backend/wasm/kernels/threefry.ts"
import { aval, mulberry32, size } from "./support.ts"
import { check, testRuntime as recordingRuntime } from "./kernelRuntime.ts"
import type { TestRuntime } from "./kernelRuntime.ts"

/** The recording runtime, with guard bytes after scratch regions and operand pointers checked on every call. */
const testRuntime = (threads: number) => recordingRuntime(threads, { guardScratch: true, checkPointers: true })

const rnd = mulberry32(20261207)

const words = (n: number): HostArray => {
  const h = new Uint32Array(n)
  for (let i = 0; i < n; i++) h[i] = rnd() < 0.1 ? [0, 0xffffffff, 0x80000000][i % 3]! : Math.floor(rnd() * 2 ** 32)
  return h
}

const fry = (t: TestRuntime, shapes: ReadonlyArray<ReadonlyArray<number>>, label: string): void =>
  check(
    t,
    threefryKernel,
    "threefry2x32",
    shapes.map((s) => words(size(s))),
    shapes.map((s) => aval(s, "uint32")) as ReadonlyArray<Aval>,
    {},
    `${label}: [${shapes.join("] [")}]`
  )

describe("wasm threefry2x32 on a recording runtime", () => {
  it("encrypts with every choice of whole and single-word operands, lengths around the block", () => {
    const t = testRuntime(2)
    for (let mask = 0; mask < 16; mask++)
      for (const n of [1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 64, 100]) {
        const shapes = [0, 1, 2, 3].map((j) => (mask & (1 << j) ? [n] : [1]))
        fry(t, shapes, `mask ${mask}`)
      }
  })

  it("copies operands broadcast along some axes to the full shape first", () => {
    const t = testRuntime(2)
    for (const shapes of [
      [
        [3, 1],
        [3, 1],
        [1, 1],
        [3, 37]
      ],
      [
        [1, 37],
        [3, 37],
        [3, 1],
        [1, 1]
      ],
      [
        [2, 1, 5],
        [1, 4, 1],
        [2, 4, 5],
        [1, 1, 1]
      ],
      [
        [5, 1],
        [1, 7],
        [5, 1],
        [1, 7]
      ],
      [
        [1, 20],
        [1, 20],
        [4, 20],
        [4, 1]
      ]
    ])
      fry(t, shapes, "spread")
  })

  it("keys its broadcast copies by every shape's digits", () => {
    const t = testRuntime(1)
    // without separators: [1, 1, 4] into [12, 3, 4] and into [1, 23, 4]; [11, 1, 1] and [1, 1, 11] into [11, 1, 11]
    fry(
      t,
      [
        [1, 1, 4],
        [1, 1, 1],
        [12, 3, 4],
        [1, 1, 1]
      ],
      "digits"
    )
    fry(
      t,
      [
        [1, 1, 4],
        [1, 1, 1],
        [1, 23, 4],
        [1, 1, 1]
      ],
      "digits"
    )
    fry(
      t,
      [
        [11, 1, 1],
        [1, 1, 1],
        [11, 1, 11],
        [1, 1, 1]
      ],
      "digits"
    )
    fry(
      t,
      [
        [1, 1, 11],
        [1, 1, 1],
        [11, 1, 11],
        [1, 1, 1]
      ],
      "digits"
    )
  })

  it("splits blocks across tasks from 16K elements, and runs nothing for empty outputs", () => {
    const t = testRuntime(4)
    const go = (n: number, want: number) => {
      const before = t.runs.length
      fry(t, [[1], [1], [n], [n]], `n ${n}`)
      assert.deepStrictEqual(
        t.runs.slice(before).map((r) => r.tasks),
        [want, want],
        `tasks of ${n}`
      )
    }
    go(16383, 1)
    go(16384, 4)
    go(40, 1)
    const empty = testRuntime(2)
    fry(empty, [[0], [0], [0], [0]], "empty")
    fry(
      empty,
      [
        [1, 1],
        [1, 1],
        [3, 0],
        [1, 1]
      ],
      "empty"
    )
    assert.deepStrictEqual(empty.runs, [])
    // few blocks: one task per block
    const few = testRuntime(64)
    fry(few, [[1], [1], [16384], [1]], "blocks")
    assert.deepStrictEqual(
      few.runs.map((r) => r.tasks),
      [64, 64]
    )
    const many = testRuntime(2000)
    fry(many, [[16400], [1], [1], [1]], "blocks")
    assert.deepStrictEqual(
      many.runs.map((r) => r.tasks),
      [1025, 1025]
    )
  })
})
