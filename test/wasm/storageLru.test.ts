/**
 * The wasm storage layer's bookkeeping: past the resident limit, the arrays a kernel used least
 * recently move out first and pinned ones never do; the heap refuses to release a block twice.
 * (The order is a list threaded through the storages, not a Set re-ordered on every use, which
 * V8 made cost tens of microseconds per kernel call once thousands of arrays were live.)
 */
import { describe, expect, it } from "vitest"
import { Heap } from "../../src/backend/wasm/heap.ts"
import { StoragePool } from "../../src/backend/wasm/storage.ts"

const quarter = 1 << 16
const make = () => {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 64, shared: true })
  return new StoragePool(new Heap(memory, 1024, 64 * 65536), 4 * quarter)
}

describe("resident storages past the limit", () => {
  it("move out least recently used first: a storage a kernel just read stays", () => {
    const pool = make()
    const [a, b, c, d] = [0, 1, 2, 3].map(() => pool.allocate("f32", quarter / 4, "t"))
    expect(pool.stats.spilled).toBe(0)
    pool.pin(a!, "t")
    pool.unpin(a!)
    pool.pin(c!, "t")
    pool.unpin(c!)
    const e = pool.allocate("f32", quarter / 4, "t")
    expect(pool.stats.spilled).toBe(1)
    expect([a, b, c, d, e].map((s) => s!.ptr !== undefined)).toEqual([true, false, true, true, true])
    pool.allocate("f32", quarter / 4, "t")
    expect([a, b, c, d].map((s) => s!.ptr !== undefined)).toEqual([true, false, true, false])
    expect(pool.stats.residentBytes).toBe(4 * quarter)
  })

  it("never move a pinned storage, however old", () => {
    const pool = make()
    const [a, b] = [0, 1].map(() => pool.allocate("f32", quarter / 4, "t"))
    pool.pin(a!, "t")
    for (let i = 0; i < 6; i++) pool.allocate("f32", quarter / 4, "t")
    expect(a!.ptr).toBeDefined()
    expect(b!.ptr).toBeUndefined()
    pool.unpin(a!)
    pool.allocate("f32", quarter / 4, "t")
    expect(a!.ptr).toBeUndefined()
  })

  it("a storage brought back into the memory counts as just used", () => {
    const pool = make()
    const [a, b, c, d] = [0, 1, 2, 3].map(() => pool.allocate("f32", quarter / 4, "t"))
    pool.allocate("f32", quarter / 4, "t")
    expect(a!.ptr).toBeUndefined()
    pool.pin(a!, "t")
    pool.unpin(a!)
    expect(a!.ptr).toBeDefined()
    expect([b, c, d].filter((s) => s!.ptr === undefined)).toEqual([b])
  })
})

describe("what the finalizer holds", () => {
  it("a storage only while it holds a heap block: moved out, only its buffers keep it", () => {
    const pool = make()
    const a = pool.allocate("f32", quarter / 4, "t")
    const buffers = [pool.share(a, false), pool.share(a, false)]
    expect(a.owner.storage).toBe(a)
    expect(a.owner.refs).toBe(2)
    for (let i = 0; i < 4; i++) pool.allocate("f32", quarter / 4, "t")
    expect(a.ptr).toBeUndefined()
    expect(a.owner.storage).toBeUndefined()
    expect(a.host).toBeDefined()
    pool.pin(a, "t")
    pool.unpin(a)
    expect(a.owner.storage).toBe(a)
    for (const b of buffers) pool.dispose(b)
    expect(a.owner.refs).toBe(0)
    expect(a.owner.storage).toBeUndefined()
    expect(a.ptr).toBeUndefined()
  })

  it("a storage made from host data holds no block and is not held until a kernel reads it", () => {
    const pool = make()
    const live = pool.stats.liveStorages
    const s = pool.fromHost("f32", new Float32Array(8))
    const b = pool.share(s, false)
    expect(s.owner.storage).toBeUndefined()
    pool.dispose(b)
    expect(pool.stats.liveStorages).toBe(live)
    expect(pool.stats.residentBytes).toBe(0)
  })
})

describe("the heap", () => {
  it("refuses to release a block twice, and serves its address again after", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true })
    const heap = new Heap(memory, 1024, 16 * 65536)
    const never = () => false
    const a = heap.alloc(100, "t", never)
    heap.alloc(100, "t", never)
    heap.release(a)
    expect(() => heap.release(a)).toThrow(`wasm heap: release of ${a}, which is not a live block`)
    expect(heap.alloc(100, "t", never)).toBe(a)
    heap.release(a)
    expect(heap.stats.liveBlocks).toBe(1)
  })
})
