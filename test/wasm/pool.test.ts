/**
 * The wasm thread pool: one kernel call runs its tasks on every thread over the shared memory, with the
 * same results for 1, 2 and 4 threads (more than this machine may have cores), every task exactly once,
 * traps rethrown on the caller without hanging, and workers that end on close.
 */
import { assert, describe, it } from "@effect/vitest"
import { ModuleBuilder } from "../../src/backend/wasm/encoder.ts"
import type { FunctionBuilder } from "../../src/backend/wasm/encoder.ts"
import { defaultSpinMicroseconds, makePool } from "../../src/backend/wasm/pool.ts"
import type { Pool } from "../../src/backend/wasm/pool.ts"
import { kernelImports } from "../../src/backend/wasm/runtime.ts"
import type { Kernel } from "../../src/backend/wasm/runtime.ts"

const newMemory = () => new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true })

let nextId = 0
const kernelOf = (memory: WebAssembly.Memory, key: string, build: (m: ModuleBuilder) => void): Kernel => {
  const m = new ModuleBuilder({ initialPages: 16, maximumPages: 65536, shared: true })
  build(m)
  const bytes = m.encode()
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), kernelImports(memory))
  return { id: nextId++, key, bytes, exports: instance.exports as Kernel["exports"] }
}

/** `lo = floor(count * task / tasks)` into local `lo` (params 0 and 1 are task and tasks). */
const share = (f: FunctionBuilder, count: number, task: number, out: number) =>
  f.get(count).get(task).i32_mul().get(1).i32_div_u().set(out)

/**
 * `add(task, tasks, a, b, out, n)`: `out = a + b` over f32 in SIMD, its share of n / 4 vectors;
 * `mark(task, tasks, at)`: adds 1 to the i32 at `at + 4 * task`;
 * `sine(task, tasks, at)`: the f64 at `at + 8 * task` becomes `sin(task)` (the host import);
 * `trap(task, tasks, which)`: traps in task `which`;
 * `empty(task, tasks)`: nothing.
 */
const testKernel = (memory: WebAssembly.Memory, padding = 0): Kernel =>
  kernelOf(memory, `test${padding}`, (m) => {
    const sin = m.importFunction("sin", ["f64"], ["f64"])
    m.addFunction("add", ["i32", "i32", "i32", "i32", "i32", "i32"], [], (f) => {
      const vectors = f.local("i32"),
        lo = f.local("i32"),
        hi = f.local("i32"),
        i = f.local("i32"),
        at = f.local("i32")
      f.get(5).i32(2).i32_shr_u().set(vectors)
      share(f, vectors, 0, lo)
      f.get(0).i32(1).i32_add().set(at)
      share(f, vectors, at, hi)
      f.forLoop(i, lo, hi, { const: 1 }, () => {
        f.get(i).i32(4).i32_shl().set(at)
        f.get(4).get(at).i32_add()
        f.get(2).get(at).i32_add().v128_load()
        f.get(3).get(at).i32_add().v128_load()
        f.f32x4_add().v128_store()
      })
      for (let k = 0; k < padding; k++) f.nop()
    })
    m.addFunction("mark", ["i32", "i32", "i32"], [], (f) => {
      const at = f.local("i32")
      f.get(2).get(0).i32(2).i32_shl().i32_add().set(at)
      f.get(at).get(at).i32_load().i32(1).i32_add().i32_store()
    })
    m.addFunction("sine", ["i32", "i32", "i32"], [], (f) => {
      f.get(2).get(0).i32(3).i32_shl().i32_add()
      f.get(0).f64_convert_i32_s().call(sin).f64_store()
    })
    m.addFunction("trap", ["i32", "i32", "i32"], [], (f) => {
      f.get(0)
        .get(2)
        .i32_eq()
        .if(() => f.unreachable())
    })
    m.addFunction("empty", ["i32", "i32"], [], () => {})
  })

const withPool = <A>(memory: WebAssembly.Memory, threads: number, f: (pool: Pool) => A): A => {
  const pool = makePool(memory, { threads })
  try {
    return f(pool)
  } finally {
    pool.close()
  }
}

/** Adds two vectors of n f32 with `tasks` tasks on a pool of `threads`; the sum. */
const addOn = (threads: number, tasks: number, n: number): Float32Array => {
  const memory = newMemory()
  const kernel = testKernel(memory)
  const f32 = new Float32Array(memory.buffer)
  const a = 1024,
    b = a + n * 4,
    out = b + n * 4
  for (let i = 0; i < n; i++) {
    f32[a / 4 + i] = Math.fround(i * 0.37 - 11)
    f32[b / 4 + i] = Math.fround(Math.sqrt(i) + 0.5)
  }
  withPool(memory, threads, (pool) => {
    assert.strictEqual(pool.threads, threads)
    pool.run(kernel, "add", [a, b, out, n], tasks)
  })
  return new Float32Array(memory.buffer).slice(out / 4, out / 4 + n)
}

describe("wasm pool", () => {
  it("gives identical sums for 1, 2 and 4 threads and any number of tasks", () => {
    const n = 4 * 10_007
    const expected = addOn(1, 1, n)
    for (let i = 0; i < n; i += 997)
      assert.strictEqual(expected[i], Math.fround(Math.fround(i * 0.37 - 11) + Math.fround(Math.sqrt(i) + 0.5)))
    for (const [threads, tasks] of [
      [1, 7],
      [2, 2],
      [2, 5],
      [4, 4],
      [4, 3],
      [4, 16]
    ] as const) {
      assert.deepStrictEqual(addOn(threads, tasks, n), expected, `threads ${threads}, tasks ${tasks}`)
    }
  })

  it("runs every task exactly once, repeatedly, with more tasks than threads", () => {
    for (const threads of [1, 2, 4]) {
      const memory = newMemory()
      const kernel = testKernel(memory)
      withPool(memory, threads, (pool) => {
        const i32 = new Int32Array(memory.buffer)
        for (const tasks of [1, 2, 3, 4, 9, 64]) {
          i32.fill(0, 0, 64)
          for (let round = 0; round < 25; round++) pool.run(kernel, "mark", [0], tasks)
          assert.deepStrictEqual(
            [...i32.subarray(0, 64)],
            Array.from({ length: 64 }, (_, t) => (t < tasks ? 25 : 0)),
            `threads ${threads}, tasks ${tasks}`
          )
        }
      })
    }
  })

  it("gives workers the host math imports", () => {
    const memory = newMemory()
    const kernel = testKernel(memory)
    withPool(memory, 4, (pool) => {
      pool.run(kernel, "sine", [0], 12)
      assert.deepStrictEqual(
        [...new Float64Array(memory.buffer, 0, 12)],
        Array.from({ length: 12 }, (_, t) => Math.sin(t))
      )
    })
  })

  it("sees memory grown after the workers started", () => {
    const memory = newMemory()
    const kernel = testKernel(memory)
    withPool(memory, 3, (pool) => {
      pool.run(kernel, "mark", [0], 3)
      const at = memory.buffer.byteLength
      memory.grow(4)
      pool.run(kernel, "mark", [at + 4 * 65536 - 12], 3)
      assert.deepStrictEqual([...new Int32Array(memory.buffer, at + 4 * 65536 - 12, 3)], [1, 1, 1])
    })
  })

  it("loads modules larger than the shared bytes region", () => {
    const memory = newMemory()
    const kernel = testKernel(memory, 150_000)
    assert.isAbove(kernel.bytes.length, 2 * 65536)
    withPool(memory, 2, (pool) => {
      pool.run(kernel, "mark", [0], 2)
      assert.deepStrictEqual([...new Int32Array(memory.buffer, 0, 3)], [1, 1, 0])
    })
  })

  it("rethrows a trap in a worker or in the caller after all tasks, and keeps working", () => {
    const memory = newMemory()
    const kernel = testKernel(memory)
    withPool(memory, 4, (pool) => {
      const i32 = new Int32Array(memory.buffer)
      assert.throws(
        () => pool.run(kernel, "trap", [2], 4),
        /test0\.trap failed in task 2 on worker 2: RuntimeError: unreachable/
      )
      assert.throws(() => pool.run(kernel, "trap", [0], 4), WebAssembly.RuntimeError)
      assert.throws(() => pool.run(kernel, "trap", [5], 8), /task 5 on worker 1/)
      assert.throws(() => pool.run(kernel, "nope", [], 4), /has no export nope/)
      pool.run(kernel, "mark", [0], 8)
      assert.deepStrictEqual([...i32.subarray(0, 9)], [1, 1, 1, 1, 1, 1, 1, 1, 0])
    })
  })

  it("spins the time it is given, clamped, and gives the same sums whether threads spin or sleep", () => {
    const spinOf = (spinMicroseconds: unknown): number => {
      const pool = makePool(newMemory(), { threads: 1, spinMicroseconds: spinMicroseconds as number })
      pool.close()
      return pool.spinMicroseconds
    }
    assert.strictEqual(spinOf(undefined), defaultSpinMicroseconds)
    assert.strictEqual(defaultSpinMicroseconds, 1000)
    assert.strictEqual(spinOf(0), 0)
    assert.strictEqual(spinOf(250.7), 250)
    assert.strictEqual(spinOf(-5), 0)
    assert.strictEqual(spinOf(1e9), 100_000)
    assert.strictEqual(spinOf(Number.POSITIVE_INFINITY), 100_000)
    assert.strictEqual(spinOf(Number.NaN), defaultSpinMicroseconds)
    assert.strictEqual(spinOf("5"), defaultSpinMicroseconds)
    const memory = newMemory()
    const kernel = testKernel(memory)
    const i32 = new Int32Array(memory.buffer)
    for (const spinMicroseconds of [0, 50_000]) {
      const pool = makePool(memory, { threads: 3, spinMicroseconds })
      try {
        for (let round = 0; round < 20; round++) {
          i32.fill(0, 0, 7)
          pool.run(kernel, "mark", [0], 6)
          assert.deepStrictEqual([...i32.subarray(0, 7)], [1, 1, 1, 1, 1, 1, 0], `spin ${spinMicroseconds}`)
        }
      } finally {
        pool.close()
      }
    }
  })

  it("close ends the workers, and a later run throws", async () => {
    const memory = newMemory()
    const kernel = testKernel(memory)
    const pool = makePool(memory, { threads: 4 })
    pool.run(kernel, "mark", [0], 4)
    pool.close()
    await pool.closed
    assert.throws(() => pool.run(kernel, "mark", [0], 4), /run after close/)
  })

  it("runs alone and says why when the memory is not shared or the workers do not start in time", () => {
    const unshared = makePool(new WebAssembly.Memory({ initial: 1 }), { threads: 4 })
    assert.strictEqual(unshared.threads, 1)
    assert.strictEqual(unshared.reason, "the memory is not shared")
    const memory = newMemory()
    const kernel = testKernel(memory)
    withPool(memory, 3, (pool) => {
      assert.strictEqual(pool.threads, 3)
      assert.isUndefined(pool.reason)
    })
    const late = makePool(memory, { threads: 3, startupTimeoutMs: 0 })
    late.run(kernel, "mark", [0], 3)
    assert.strictEqual(late.threads, 1)
    assert.match(late.reason ?? "", /did not start within 0 ms/)
    assert.deepStrictEqual([...new Int32Array(memory.buffer, 0, 4)], [1, 1, 1, 0])
    late.close()
    withPool(memory, 1, (pool) => assert.isUndefined(pool.reason))
  })

  it("an empty parallel run takes well under a millisecond", () => {
    const memory = newMemory()
    const kernel = testKernel(memory)
    withPool(memory, 2, (pool) => {
      for (let i = 0; i < 200; i++) pool.run(kernel, "empty", [], 2)
      const runs = 2000
      const start = performance.now()
      for (let i = 0; i < runs; i++) pool.run(kernel, "empty", [], 2)
      const micros = ((performance.now() - start) / runs) * 1000
      console.log(`wasm pool: an empty run on 2 threads takes ${micros.toFixed(1)} µs`)
      assert.isBelow(micros, 1000)
    })
  })
})
