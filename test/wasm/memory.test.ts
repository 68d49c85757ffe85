/**
 * The wasm backend's memory: the allocator's size classes and reuse, deterministic release
 * (`dispose`, `Backend.tidy`), the resident limit that moves least recently used arrays to the
 * JavaScript heap, a typed error for an allocation that cannot be served, and 100,000-op soaks that
 * keep the memory flat with and without disposal.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Backend, jnp, nnx, OutOfMemoryError } from "effect-nnx"
import { Heap, sizeClass } from "../../src/backend/wasm/heap.ts"

describe("the wasm heap", () => {
  it("serves sizes from classes of at most 12.5% waste, 64-byte aligned", () => {
    let prev = 0
    for (let b = 1; b < 1 << 22; b = Math.ceil(b * 1.37)) {
      const c = sizeClass(b)
      expect(c % 64).toBe(0)
      expect(c).toBeGreaterThanOrEqual(b)
      expect(c).toBeGreaterThanOrEqual(prev)
      if (b > 1024) expect(c / b).toBeLessThanOrEqual(1.125)
      prev = c
    }
  })

  it("reuses a released block of the same class and rewinds the top", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true })
    const heap = new Heap(memory, 1024, 16 * 65536)
    const never = () => false
    const a = heap.alloc(1000, "t", never)
    const b = heap.alloc(1000, "t", never)
    expect(a % 64).toBe(0)
    heap.release(a)
    expect(heap.alloc(1000, "t", never)).toBe(a)
    expect(heap.stats.reused).toBe(1)
    heap.release(b)
    expect(heap.alloc(1000, "t", never)).toBe(b)
    expect(() => heap.release(12345)).toThrow(/not a live block/)
  })

  it("grows the memory, then asks to reclaim, then fails with a typed error", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true })
    const heap = new Heap(memory, 0, 4 * 65536)
    heap.alloc(3 * 65536, "t", () => false)
    expect(heap.stats.grows).toBeGreaterThan(0)
    let asked = 0
    const error = (() => {
      try {
        heap.alloc(2 * 65536, "big", () => (asked++, false))
      } catch (e) {
        return e
      }
    })()
    expect(asked).toBe(1)
    expect(error).toBeInstanceOf(OutOfMemoryError)
    expect((error as OutOfMemoryError).op).toBe("big")
    expect((error as OutOfMemoryError).message).toMatch(/cannot allocate 131072 bytes.*dispose arrays/)
  })
})

describe("wasm arrays' memory", () => {
  it("dispose releases an array's block; shared storage lives until its last buffer goes", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      const x = jnp.ones([1000]).add(1)
      const live = b.stats.heap.liveBytes
      const y = x.reshape(10, 100)
      x.dispose()
      expect(b.stats.heap.liveBytes).toBe(live)
      expect(y.sum().item()).toBe(2000)
      y.dispose()
      expect(b.stats.heap.liveBytes).toBeLessThan(live)
      expect(() => y.sum()).toThrow(/disposed/)
    })
  })

  it("tidy disposes what it made, keeps its result and arrays moved in from another backend", () => {
    const b = Backend.makeWasm({ threads: 1 })
    const outside = Backend.withBackend(Backend.cpu, () => jnp.arange(8).astype("float32"))
    Backend.withBackend(b, () => {
      const before = b.stats.storage.liveStorages
      const kept = b.tidy(() => {
        const t = outside.mul(2).add(1)
        return { r: t.sum(), list: [t.mean()] }
      })
      expect(b.stats.storage.liveStorages).toBe(before + 3)
      expect(kept.r.item()).toBe(64)
      expect(kept.list[0]!.item()).toBe(8)
      expect(outside.mul(1).tolist()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
      expect(Backend.tidy(() => jnp.ones([3]).sum()).item()).toBe(3)
    })
  })

  it("moves least recently used arrays to the JavaScript heap past the resident limit, values intact", () => {
    const b = Backend.makeWasm({ threads: 1, residentLimitBytes: 1 << 20 })
    Backend.withBackend(b, () => {
      const xs = Array.from({ length: 12 }, (_, i) => jnp.full([65536], i).add(0))
      expect(b.stats.storage.residentBytes).toBeLessThanOrEqual(1 << 20)
      expect(b.stats.storage.spilled).toBeGreaterThan(0)
      xs.forEach((x, i) => expect(x.mul(2).sum().item()).toBe(2 * i * 65536))
    })
  })

  it("reads a large array in place, and the values read stay intact after the array is disposed", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      const x = jnp
        .arange(1 << 16)
        .astype("float32")
        .add(1)
      const view = x.dataSync()
      expect(view.buffer).toBe(b.runtime.memory.buffer)
      expect(b.stats.storage.viewBytes).toBe(4 << 16)
      x.dispose()
      const others = Array.from({ length: 4 }, () => jnp.full([1 << 16], -7).add(0))
      expect(view[0]).toBe(1)
      expect(view[(1 << 16) - 1]).toBe(1 << 16)
      expect(others[0]!.dataSync()[5]).toBe(-7)
      const small = jnp.arange(10).add(0).dataSync()
      expect(small.buffer).not.toBe(b.runtime.memory.buffer)
    })
  })

  it("withData lends the memory for the call only: no copy, and the block is reused right after", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      const x = jnp
        .arange(1 << 16)
        .astype("float32")
        .add(1)
      const sum = x.withData((d) => {
        expect(d.buffer).toBe(b.runtime.memory.buffer)
        expect(d.length).toBe(1 << 16)
        return d[0]! + d[(1 << 16) - 1]!
      })
      expect(sum).toBe(1 + (1 << 16))
      const viewBytes = b.stats.storage.viewBytes
      expect(x.withData((d) => d[1])).toBe(2)
      expect(b.stats.storage.viewBytes).toBe(viewBytes)
      x.dispose()
      // A loop that reads each large result and drops it keeps reusing one block: the memory never grows.
      const grows = b.stats.heap.grows
      for (let i = 0; i < 50; i++) {
        const y = b.tidy(() => jnp.full([1 << 18], i).add(0))
        expect(y.withData((d) => d[(1 << 18) - 1])).toBe(i)
        y.dispose()
      }
      expect(b.stats.heap.grows).toBe(grows)
    })
  })

  it("withData keeps the block alive when the array is disposed inside the call, and releases it after", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      const x = jnp.full([1 << 16], 3).add(0)
      const live = b.stats.heap.liveBytes
      const seen = x.withData((d) => {
        x.dispose()
        b.tidy(() => jnp.full([1 << 16], -1).add(0)).dispose()
        return [d[0], d[(1 << 16) - 1]]
      })
      expect(seen).toEqual([3, 3])
      expect(b.stats.heap.liveBytes).toBeLessThan(live)
      expect(() => x.withData((d) => d[0])).toThrow(/disposed/)
      // An exception inside the call still releases the block.
      const z = b.tidy(() => jnp.full([1 << 16], 5).add(0))
      const before = b.stats.heap.liveBytes
      expect(() =>
        z.withData(() => {
          throw new Error("boom")
        })
      ).toThrow("boom")
      z.dispose()
      expect(b.stats.heap.liveBytes).toBe(before - (4 << 16))
    })
  })

  it("withData on arrays held on the host (spilled, or another backend) gives their elements", () => {
    const b = Backend.makeWasm({ threads: 1, residentLimitBytes: 1 << 20 })
    Backend.withBackend(b, () => {
      const xs = Array.from({ length: 12 }, (_, i) => jnp.full([65536], i).add(0))
      expect(b.stats.storage.spilled).toBeGreaterThan(0)
      xs.forEach((x, i) => expect(x.withData((d) => [d[0], d.length])).toEqual([i, 65536]))
    })
    const onCpu = Backend.withBackend(Backend.cpu, () => jnp.arange(4).astype("float32"))
    expect(onCpu.withData((d) => Array.from(d))).toEqual([0, 1, 2, 3])
    expect(onCpu.tolist()).toEqual([0, 1, 2, 3])
    expect(jnp.full([], 7).item()).toBe(7)
  })

  it("tidy does not dispose what a step stored in Variables, eagerly or through nnx.jit", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      class Counter extends nnx.Module {
        w = new nnx.Param(jnp.ones([1000]))
        n = new nnx.BatchStat(jnp.zeros([]))
      }
      const m = new Counter()
      const step = nnx.jit((c: Counter) => {
        c.w.value = c.w.value.mul(2)
        c.n.value = c.n.value.add(1)
        return c.w.value.sum()
      })
      for (let i = 0; i < 3; i++) b.tidy(() => step.sync(m)).dispose()
      const live = b.stats.storage.liveStorages
      b.tidy(() => {
        m.w.value = m.w.value.add(1).mul(0.5) // the intermediate goes, the stored result stays
      })
      expect(b.stats.storage.liveStorages).toBeLessThanOrEqual(live + 1)
      expect(m.w.value.get(0).item()).toBe(4.5)
      expect(m.n.value.item()).toBe(3)
      const kept = b.tidy(() => jnp.arange(3).add(1).keep())
      expect(b.tidy(() => kept.sum()).item()).toBe(6)
    })
  })

  it("an allocation that cannot be served is an OutOfMemoryError in the error channel, not a crash", () => {
    const b = Backend.makeWasm({ threads: 1, maxMemoryBytes: 32 << 20 })
    const big = jnp.ones([16 << 20])
    const exit = Effect.runSyncExit(Backend.run(() => big.add(1)).pipe(Effect.provide(Backend.layer(b))))
    expect(exit._tag).toBe("Failure")
    const error = Effect.runSync(Effect.flip(Backend.run(() => big.add(1)).pipe(Effect.provide(Backend.layer(b)))))
    expect(error).toBeInstanceOf(OutOfMemoryError)
    Backend.withBackend(b, () => expect(jnp.ones([4]).add(1).sum().item()).toBe(8))
  })

  it("a 100,000-op soak under tidy keeps the memory flat", () => {
    const b = Backend.makeWasm({ threads: 1 })
    Backend.withBackend(b, () => {
      let w = jnp.zeros([256])
      const step = () => {
        const next = b.tidy(() => w.sub(jnp.tanh(w.add(1)).mul(0.01)))
        w.dispose()
        w = next
      }
      for (let i = 0; i < 100; i++) step()
      const capacity = b.runtime.memory.buffer.byteLength
      const live = b.stats.heap.liveBytes
      for (let i = 0; i < 25_000; i++) step()
      expect(b.runtime.memory.buffer.byteLength).toBe(capacity)
      expect(b.stats.heap.liveBytes).toBe(live)
      expect(Number.isFinite(w.sum().item() as number)).toBe(true)
    })
  })

  it("a 100,000-op soak that never disposes stays under the resident limit", () => {
    const limit = 4 << 20
    const b = Backend.makeWasm({ threads: 1, residentLimitBytes: limit })
    Backend.withBackend(b, () => {
      let w = jnp.zeros([1024])
      for (let i = 0; i < 25_000; i++) w = w.sub(jnp.tanh(w.add(1)).mul(0.01))
      expect(b.stats.storage.residentBytes).toBeLessThanOrEqual(limit)
      expect(b.runtime.memory.buffer.byteLength).toBeLessThanOrEqual(limit + (16 << 20))
      expect(Number.isFinite(w.sum().item() as number)).toBe(true)
    })
  })
})
