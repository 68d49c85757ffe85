/**
 * The wasm bitcast kernel and the table of extra kernels (src/backend/wasm/kernels/extra.ts) on a
 * test runtime (issue 16: tests that catch injected bugs): the words copied exactly, NaN payloads and
 * signed zeros included, between guard bytes over outputs prefilled with garbage, for lengths 1 to 9
 * and a 2-D shape, and every primitive of the table present.
 */
import { assert, describe, it } from "@effect/vitest"
import { bitcastKernel, extraKernels } from "../../src/backend/wasm/kernels/extra.ts"
import { check, testRuntime } from "./kernelRuntime.ts"
import { aval } from "./support.ts"

describe("the extra wasm kernels", () => {
  it("bitcast copies every word exactly and nothing more", () => {
    const words = Uint32Array.from([
      0x7fc00001, 0x80000000, 0xffffffff, 0, 1, 0x3f800000, 0xff800000, 0x7f7fffff, 0x12345678
    ])
    for (const n of [1, 2, 3, 4, 5, 9]) {
      const t = testRuntime(2, { checkInputs: true })
      const w = words.slice(0, n)
      for (const newDtype of ["float32", "int32", "uint32"] as const)
        check(t, bitcastKernel, "bitcast_convert_type", [w], [aval([n], "uint32")], { newDtype }, `${n} to ${newDtype}`)
      const f = new Float32Array(w.buffer.slice(0))
      check(
        t,
        bitcastKernel,
        "bitcast_convert_type",
        [f],
        [aval([n], "float32")],
        { newDtype: "uint32" },
        `${n} float32`
      )
    }
    const t = testRuntime(1)
    const grid = Int32Array.from({ length: 12 }, (_, i) => (i * 0x9e3779b9) | 0)
    check(t, bitcastKernel, "bitcast_convert_type", [grid], [aval([3, 4], "int32")], { newDtype: "float32" }, "[3, 4]")
  })

  it("lists the kernels of every extra primitive", () => {
    assert.deepStrictEqual(Object.keys(extraKernels).sort(), [
      "bitcast_convert_type",
      "cummax",
      "cummin",
      "cumprod",
      "cumsum",
      "gather",
      "scatter",
      "scatter_add",
      "sort",
      "threefry2x32"
    ])
    assert.strictEqual(extraKernels.bitcast_convert_type, bitcastKernel)
  })
})
