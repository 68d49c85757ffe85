/**
 * The cpu backend object (src/backend/cpu/Cpu.ts) and its kernel table (src/backend/cpu/kernels.ts)
 * (issue 16: tests that catch injected bugs): its name, uploads that copy, downloads that refuse other
 * backends' buffers, dispatches counted per primitive on independent counters, and the table's
 * complex kernels put in front of the real ones.
 */
import { describe, expect, it } from "vitest"
import { aval } from "../../src/backend/DType.ts"
import type { DeviceBuffer } from "../../src/backend/BackendImpl.ts"
import { cpu, makeCpu } from "../../src/backend/cpu/Cpu.ts"
import { cpuKernels } from "../../src/backend/cpu/kernels.ts"

describe("the cpu backend", () => {
  it("is named cpu; the process-wide one is a cpu backend too", () => {
    expect(makeCpu().name).toBe("cpu")
    expect(cpu.name).toBe("cpu")
  })

  it("uploads a copy and downloads it", () => {
    const b = makeCpu()
    const src = Float32Array.from([1, 2, 3])
    const buf = b.upload(src, aval([3], "float32"))
    src[0] = 99
    expect(buf.backend).toBe("cpu")
    const got = b.download(buf, aval([3], "float32"))
    expect(Array.from(got)).toEqual([1, 2, 3])
    expect(got).toBeInstanceOf(Float32Array)
    b.dispose(buf)
    expect(Array.from(b.download(buf, aval([3], "float32")))).toEqual([1, 2, 3])
  })

  it("refuses a buffer of another backend", () => {
    const b = makeCpu()
    const foreign = { backend: "wasm" } as unknown as DeviceBuffer
    expect(() => b.download(foreign, aval([1], "float32"))).toThrow(
      new TypeError("cpu backend: got a buffer of backend wasm")
    )
    expect(() => b.execute("neg", [foreign], [aval([1], "float32")], [aval([1], "float32")], {})).toThrow(TypeError)
  })

  it("executes a primitive on its kernel and counts the dispatch on its own counters", () => {
    const b = makeCpu(),
      other = makeCpu()
    const x = b.upload(Float32Array.from([1, -2]), aval([2], "float32"))
    const y = b.upload(Float32Array.from([3, 4]), aval([2], "float32"))
    const [s] = b.execute("add", [x, y], [aval([2], "float32"), aval([2], "float32")], [aval([2], "float32")], {})
    expect(s!.backend).toBe("cpu")
    expect(Array.from(b.download(s!, aval([2], "float32")))).toEqual([4, 2])
    b.execute("neg", [x], [aval([2], "float32")], [aval([2], "float32")], {})
    b.execute("neg", [x], [aval([2], "float32")], [aval([2], "float32")], {})
    expect(b.stats.dispatches).toBe(3)
    expect(b.stats.byPrimitive.get("add")).toBe(1)
    expect(b.stats.byPrimitive.get("neg")).toBe(2)
    expect(other.stats.dispatches).toBe(0)
    // Two outputs.
    const z = b.upload(Float32Array.from([4, 0, 0, 9]), aval([2, 2], "float32"))
    const outs = b.execute("eig", [z], [aval([2, 2], "float32")], [aval([2], "complex64"), aval([2, 2], "complex64")], {
      vectors: true
    })
    expect(outs.length).toBe(2)
    expect(outs.every((o) => o.backend === "cpu")).toBe(true)
  })
})

describe("the cpu kernel table", () => {
  it("runs complex kernels on complex operands and real kernels otherwise", () => {
    const z = Float32Array.from([1, 2, -3, 4])
    const c = [aval([2], "complex64")]
    expect(Array.from(cpuKernels.neg([z], c, c, {})[0]!)).toEqual([-1, -2, 3, -4])
    expect(
      Array.from(cpuKernels.abs([Float32Array.from([3, 4])], [aval([1], "complex64")], [aval([1], "float32")], {})[0]!)
    ).toEqual([5])
    expect(
      Array.from(cpuKernels.abs([Float32Array.from([-3, 4])], [aval([2], "float32")], [aval([2], "float32")], {})[0]!)
    ).toEqual([3, 4])
    // The output's dtype alone selects the complex kernel (complex from two real parts).
    expect(
      Array.from(
        cpuKernels.complex(
          [Float32Array.from([1]), Float32Array.from([2])],
          [aval([1], "float32"), aval([1], "float32")],
          [aval([1], "complex64")],
          {}
        )[0]!
      )
    ).toEqual([1, 2])
  })
})
