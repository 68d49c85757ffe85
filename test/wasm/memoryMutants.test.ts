/**
 * The wasm memory's exact bookkeeping, pinned down where a mutation run (Stryker over heap.ts and
 * storage.ts) found the other suites blind: the size class just past 1024 bytes, growth by a quarter
 * (to exactly the maximum, by the bare need when the engine refuses the quarter, never past the
 * memory's end), compaction of free blocks at the top when the memory cannot grow, peak bytes,
 * the element size of each storage kind, empty storages (never a block, never listed), the copy's
 * typed-array kind, the view cache, when `read` hands out a view (shared memory, 64 KiB, the view
 * budget) and what the finalizers give back, pins after `read`/`borrow`, double disposal, and
 * reclaiming on an allocation that does not fit.
 */
import v8 from "node:v8"
import vm from "node:vm"
import { describe, expect, it } from "vitest"
import { OutOfMemoryError } from "effect-nnx"
import { Heap, sizeClass } from "../../src/backend/wasm/heap.ts"
import { StoragePool } from "../../src/backend/wasm/storage.ts"

const page = 65536
const never = () => false
const mem = (initial: number, maximum: number, shared = true) => new WebAssembly.Memory({ initial, maximum, shared })
const attempt = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

describe("the heap's size classes and growth", () => {
  it("rounds a request just past 1024 bytes up to its eighth-of-a-power class", () => {
    expect(sizeClass(1024)).toBe(1024)
    expect(sizeClass(1025)).toBe(1152)
    expect(sizeClass(100)).toBe(128)
  })

  it("does not grow for a block that ends exactly at the memory's end", () => {
    const heap = new Heap(mem(1, 16), 0, 16 * page)
    expect(heap.alloc(page, "t", never)).toBe(0)
    expect(heap.stats.grows).toBe(0)
    expect(heap.capacity).toBe(page)
  })

  it("grows by a quarter, to what is needed when that is more, and up to exactly the maximum", () => {
    const heap = new Heap(mem(8, 64), 0, 64 * page)
    heap.alloc(8 * page, "t", never)
    expect(heap.stats.grows).toBe(0)
    expect(heap.alloc(64, "t", never)).toBe(8 * page)
    expect(heap.capacity).toBe(10 * page)
    expect(heap.stats.grows).toBe(1)
    const small = new Heap(mem(1, 16), 0, 16 * page)
    expect(small.alloc(3 * page, "t", never)).toBe(0)
    expect(small.capacity).toBe(3 * page)
    const exact = new Heap(mem(1, 2), 0, 2 * page)
    expect(exact.alloc(2 * page, "t", never)).toBe(0)
    expect(exact.capacity).toBe(2 * page)
    expect(exact.stats.grows).toBe(1)
  })

  it("grows by the bare need when the memory refuses the quarter, and fails when it refuses that too", () => {
    const heap = new Heap(mem(8, 9), 0, 64 * page)
    const a = heap.alloc(1024, "t", never)
    const b = heap.alloc(1024, "t", never)
    heap.release(a)
    heap.release(b)
    // The free block at 0 stays put: growing succeeded, so nothing is compacted.
    expect(heap.alloc(8 * page, "t", never)).toBe(1024)
    expect(heap.capacity).toBe(9 * page)
    expect(heap.stats.grows).toBe(1)
    expect(heap.alloc(1000, "t", never)).toBe(0)
    expect(heap.stats.reused).toBe(1)
    const full = new Heap(mem(8, 8), 0, 64 * page)
    full.alloc(8 * page, "t", never)
    const error = attempt(() => full.alloc(64, "op", never))
    expect(error).toBeInstanceOf(OutOfMemoryError)
    expect((error as OutOfMemoryError).bytes).toBe(64)
    expect((error as OutOfMemoryError).message).toBe(
      `op: cannot allocate 64 bytes: the WebAssembly memory holds ${8 * page} bytes in 1 live arrays and cannot grow past ${8 * page} bytes; dispose arrays you no longer need (Array.dispose, Backend.tidy)`
    )
    expect(full.capacity).toBe(8 * page)
    expect(full.stats.grows).toBe(0)
  })

  it("does not compact free blocks at the top when the memory could grow", () => {
    const heap = new Heap(mem(1, 16), 0, 16 * page)
    const a = heap.alloc(1024, "t", never)
    const b = heap.alloc(1024, "t", never)
    heap.release(a)
    heap.release(b)
    expect(heap.alloc(page, "t", never)).toBe(1024)
    expect(heap.stats.grows).toBe(1)
    expect(heap.alloc(1024, "t", never)).toBe(0)
  })
})

describe("the heap's release and compaction", () => {
  it("rewinds the top over the last block, so another class takes its address", () => {
    const heap = new Heap(mem(1, 16), 0, 16 * page)
    const a = heap.alloc(64, "t", never)
    const b = heap.alloc(1024, "t", never)
    heap.release(b)
    expect(heap.alloc(128, "t", never)).toBe(b)
    expect(heap.stats.reused).toBe(0)
    expect(heap.stats.liveBytes).toBe(192)
    expect(heap.stats.liveBlocks).toBe(2)
    expect(a).toBe(0)
  })

  it("keeps the peak of live bytes", () => {
    const heap = new Heap(mem(1, 16), 0, 16 * page)
    heap.alloc(1000, "t", never)
    const b = heap.alloc(1000, "t", never)
    expect(heap.stats.peakBytes).toBe(2048)
    heap.release(b)
    heap.alloc(10, "t", never)
    expect(heap.stats.liveBytes).toBe(1088)
    expect(heap.stats.peakBytes).toBe(2048)
  })

  it("rewinds over free blocks at the top when the memory cannot grow, without growing", () => {
    const heap = new Heap(mem(1, 1), 0, page)
    const a = heap.alloc(16384, "t", never)
    const b = heap.alloc(16384, "t", never)
    heap.release(a)
    heap.release(b)
    expect(heap.alloc(page, "t", never)).toBe(0)
    expect(heap.stats.grows).toBe(0)
    expect(heap.stats.liveBytes).toBe(page)
  })

  it("takes compacted blocks off their free list and keeps the other classes' free blocks", () => {
    const heap = new Heap(mem(1, 1), 0, page)
    const p = heap.alloc(64, "t", never)
    heap.alloc(64, "t", never)
    const a = heap.alloc(16384, "t", never)
    const b = heap.alloc(16384, "t", never)
    heap.release(p)
    heap.release(a)
    heap.release(b)
    const big = heap.alloc(49152, "t", never)
    expect(big).toBe(128)
    expect(heap.stats.grows).toBe(0)
    expect(heap.alloc(64, "t", never)).toBe(0)
    expect(heap.stats.reused).toBe(1)
    heap.release(big)
    expect(heap.alloc(16384, "t", never)).toBe(128)
    expect(heap.stats.reused).toBe(1)
    expect(heap.stats.liveBlocks).toBe(3)
  })
})

const quarter = 1 << 16
const pool = (residentLimit = 4 * quarter, shared = true) =>
  new StoragePool(new Heap(mem(16, 64, shared), 1024, 64 * page), residentLimit)

describe("storages' bookkeeping", () => {
  it("counts one byte per u8 element and four per other element", () => {
    const p = pool()
    const u8 = p.allocate("u8", 100, "t")
    expect(p.stats.residentBytes).toBe(100)
    const f = p.allocate("f32", 100, "t")
    expect(p.stats.residentBytes).toBe(500)
    const b = p.share(f, false)
    p.dispose(b)
    expect(p.stats.residentBytes).toBe(100)
    expect(f.older).toBeUndefined()
    expect(u8.newer).toBeUndefined()
    expect(p.heap.stats.liveBlocks).toBe(1)
  })

  it("gives an empty storage no block and keeps it off the resident list", () => {
    const p = pool()
    const a = p.allocate("f32", quarter / 4, "t")
    const empty = p.allocate("f32", 0, "t")
    expect(empty.ptr).toBe(0)
    expect(empty.owner.storage).toBeUndefined()
    expect(p.heap.stats.liveBlocks).toBe(1)
    expect(p.fromHost("f32", new Float32Array(0)).ptr).toBe(0)
    // Pinning it must leave the list alone: `a` is still the oldest and moves out first.
    p.pin(empty, "t")
    p.unpin(empty)
    for (let i = 0; i < 4; i++) p.allocate("f32", quarter / 4, "t")
    expect(a.ptr).toBeUndefined()
    expect(p.stats.spilled).toBe(1)
  })

  it("ignores a second dispose of a buffer", () => {
    const p = pool()
    const s = p.allocate("f32", 16, "t")
    const b1 = p.share(s, false)
    p.share(s, false)
    const live = p.stats.liveStorages
    p.dispose(b1)
    p.dispose(b1)
    expect(s.owner.refs).toBe(1)
    expect(p.stats.liveStorages).toBe(live)
    expect(s.ptr).toBeDefined()
  })

  it("moves storages out when an allocation does not fit, and reuses their blocks", () => {
    const p = new StoragePool(new Heap(mem(1, 1), 0, page), 1 << 30)
    const a = p.allocate("f32", 8192, "t")
    const b = p.allocate("f32", 8192, "t")
    const c = p.allocate("f32", 8192, "t")
    expect(p.stats.spilled).toBe(1)
    expect(a.ptr).toBeUndefined()
    expect(c.ptr).toBe(0)
    expect(b.ptr).toBe(32768)
    expect(p.heap.stats.reused).toBe(1)
  })
})

describe("reading storages", () => {
  it("copies small arrays into a typed array of their kind", () => {
    const p = pool()
    const f = p.allocate("f32", 2, "t")
    p.view("f32").set([1.5, -2.25], f.ptr! / 4)
    const i = p.allocate("i32", 1, "t")
    p.view("i32")[i.ptr! / 4] = -7
    const u = p.allocate("u32", 1, "t")
    p.view("u32")[u.ptr! / 4] = 4294967295
    const b = p.allocate("u8", 2, "t")
    p.view("u8").set([255, 3], b.ptr!)
    const rf = p.read(f)
    expect(rf).toBeInstanceOf(Float32Array)
    expect([...rf]).toEqual([1.5, -2.25])
    const ri = p.read(i)
    expect(ri).toBeInstanceOf(Int32Array)
    expect([...ri]).toEqual([-7])
    const ru = p.read(u)
    expect(ru).toBeInstanceOf(Uint32Array)
    expect([...ru]).toEqual([4294967295])
    const rb = p.read(b)
    expect(rb).toBeInstanceOf(Uint8Array)
    expect([...rb]).toEqual([255, 3])
    expect(p.stats.viewBytes).toBe(0)
  })

  it("caches the memory's views until it grows", () => {
    const p = pool()
    const v = p.view("f32")
    expect(p.view("f32")).toBe(v)
    p.allocate("u8", 32 * page, "t")
    expect(p.view("u8").length).toBe(p.heap.capacity)
    expect(p.view("u8").length).toBeGreaterThan(16 * page)
  })

  it("reads a 64 KiB resident array in place, pinned and referenced, within the view budget", () => {
    const p = pool()
    const [a, b] = [0, 1].map(() => p.allocate("f32", quarter / 4, "t"))
    const va = p.read(a!)
    expect(va.buffer).toBe(p.heap.memory.buffer)
    expect(a!.pins).toBe(1)
    expect(a!.owner.refs).toBe(1)
    p.read(b!)
    expect(p.stats.viewBytes).toBe(2 * quarter)
  })

  it("copies past the view budget, a quarter of a large resident limit", () => {
    const p = pool(256 << 20)
    const [a, b] = [0, 1].map(() => p.allocate("f32", quarter / 4, "t"))
    p.stats.viewBytes = (64 << 20) - quarter
    p.read(a!)
    expect(p.stats.viewBytes).toBe(64 << 20)
    p.read(b!)
    expect(p.stats.viewBytes).toBe(64 << 20)
    expect(b!.pins).toBe(0)
  })

  it("returns the host copy of an array that has one, and copies from a memory that is not shared", () => {
    const p = pool()
    const a = p.allocate("f32", quarter / 4, "t")
    const h = p.host(a)
    expect(p.read(a)).toBe(h)
    const host = new Float32Array(quarter / 4)
    expect(p.read(p.fromHost("f32", host))).toBe(host)
    expect(p.stats.viewBytes).toBe(0)
    const q = pool(4 * quarter, false)
    const c = q.allocate("f32", quarter / 4, "t")
    expect(q.read(c).buffer).not.toBe(q.heap.memory.buffer)
    expect(q.stats.viewBytes).toBe(0)
    expect(c.pins).toBe(0)
  })

  it("copies from a memory that is not shared where SharedArrayBuffer does not exist", () => {
    const sab = globalThis.SharedArrayBuffer
    // As in a page that is not cross-origin isolated.
    delete (globalThis as { SharedArrayBuffer?: unknown }).SharedArrayBuffer
    try {
      const p = pool(4 * quarter, false)
      const a = p.allocate("f32", quarter / 4, "t")
      expect(p.read(a).buffer).not.toBe(p.heap.memory.buffer)
      expect(p.stats.viewBytes).toBe(0)
    } finally {
      globalThis.SharedArrayBuffer = sab
    }
  })

  it("borrows without leaving a pin, and an empty storage without touching its count", () => {
    const p = pool()
    const a = p.allocate("f32", 16, "t")
    p.share(a, false)
    expect(p.borrow(a, () => a.pins)).toBe(1)
    expect(a.pins).toBe(0)
    expect(a.owner.refs).toBe(1)
    const empty = p.allocate("f32", 0, "t")
    const live = p.stats.liveStorages
    expect(p.borrow(empty, (d) => d.length)).toBe(0)
    expect(p.stats.liveStorages).toBe(live)
  })
})

// A collection on demand, for the finalizers (the flag is only read when `gc` is looked up).
v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void
const collect = async (done: () => boolean, times = 50) => {
  for (let i = 0; i < times && !done(); i++) {
    gc()
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe("the finalizers", () => {
  it("release a storage whose buffers were collected, but not one disposed first", async () => {
    const p = pool()
    const a = p.allocate("f32", 16, "t")
    const b = p.allocate("f32", 16, "t")
    ;(() => {
      p.share(a, false)
      p.dispose(p.share(b, false))
    })()
    await collect(() => p.stats.finalized > 0)
    await collect(() => false, 5)
    expect(p.stats.finalized).toBe(1)
    expect(p.stats.liveStorages).toBe(0)
    expect(p.stats.residentBytes).toBe(0)
    expect(p.heap.stats.liveBlocks).toBe(0)
  })

  it("give back what a collected view held", async () => {
    const p = pool()
    const a = p.allocate("f32", quarter / 4, "t")
    const buffer = p.share(a, false)
    ;(() => {
      p.read(a)
    })()
    expect(p.stats.viewBytes).toBe(quarter)
    await collect(() => p.stats.viewBytes === 0)
    expect(p.stats.viewBytes).toBe(0)
    expect(a.pins).toBe(0)
    expect(a.owner.refs).toBe(1)
    expect(p.stats.liveStorages).toBe(1)
    expect(buffer.released).toBe(false)
  })
})
