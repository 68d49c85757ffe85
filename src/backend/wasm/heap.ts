/**
 * The allocator over the wasm backend's WebAssembly memory.
 *
 * Blocks are 64-byte aligned (a cache line, and whole SIMD vectors) and rounded up to size classes
 * of at most 12.5% waste, so a freed block is reused by the next request of its class without
 * searching. New blocks come from a bump pointer; the memory grows by at least a quarter when the
 * bump pointer reaches its end. When it cannot grow (the 4 GiB address space, or the engine refuses),
 * the free lists are given back by rewinding the bump pointer over free blocks at the top and, as a
 * last resort, by the caller's `reclaim` hook (the storage layer moves resident arrays out to the
 * JavaScript heap); what still does not fit is an {@link OutOfMemoryError}, never a crash.
 */
import { OutOfMemoryError } from "../ArrayError.ts"

const pageBytes = 65536
const align = 64

/** The size class a request of `bytes` is served from: 64-byte multiples, then 8 steps per power of two. */
export const sizeClass = (bytes: number): number => {
  const b = Math.max(align, Math.ceil(bytes / align) * align)
  if (b <= 1024) return b
  const pow = 2 ** Math.floor(Math.log2(b))
  const step = pow / 8
  return Math.ceil(b / step) * step
}

/** Counters tests and benchmarks read. */
export interface HeapStats {
  /** Bytes in live blocks (by size class). */
  liveBytes: number
  /** Live blocks. */
  liveBlocks: number
  /** Highest `liveBytes` seen. */
  peakBytes: number
  /** Allocations served from a free list. */
  reused: number
  /** Times the memory grew. */
  grows: number
}

/** A heap over `memory`, starting at `base` (bytes below it belong to the runtime). */
export class Heap {
  readonly stats: HeapStats = { liveBytes: 0, liveBlocks: 0, peakBytes: 0, reused: 0, grows: 0 }
  private top: number
  private readonly free = new Map<number, Array<number>>()
  /**
   * Each block's size by its address; 0 once released. Released entries are overwritten, never
   * deleted: V8 rehashes a large Map every few deletions when the same keys come back (a block
   * freed and taken again at the same address, every eager operation), which cost 20-70 µs per
   * allocation once thousands of arrays were live. Addresses are 64-byte aligned, so the map holds
   * at most one entry per 64 bytes the memory has ever used.
   */
  private readonly sizes = new Map<number, number>()

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxBytes: number
  ) {
    this.top = Math.ceil(base / align) * align
  }

  /** Bytes the memory spans now. */
  get capacity(): number {
    return this.memory.buffer.byteLength
  }

  /**
   * A block of at least `bytes` bytes. `reclaim(bytes)` is asked to free blocks when the memory
   * cannot grow; it answers whether it freed anything.
   */
  alloc(bytes: number, op: string, reclaim: (bytes: number) => boolean): number {
    const size = sizeClass(bytes)
    for (;;) {
      const ptr = this.tryAlloc(size)
      if (ptr !== undefined) return ptr
      if (!reclaim(size)) {
        throw new OutOfMemoryError({
          op,
          bytes,
          reason: `the WebAssembly memory holds ${this.stats.liveBytes} bytes in ${this.stats.liveBlocks} live arrays and cannot grow past ${this.capacity} bytes; dispose arrays you no longer need (Array.dispose, Backend.tidy)`
        })
      }
    }
  }

  private tryAlloc(size: number): number | undefined {
    const list = this.free.get(size)
    let ptr = list?.pop()
    if (ptr !== undefined) {
      this.stats.reused++
    } else {
      if (this.top + size > this.capacity && !this.grow(this.top + size)) {
        this.compact()
        if (this.top + size > this.capacity && !this.grow(this.top + size)) return undefined
      }
      ptr = this.top
      this.top += size
    }
    this.sizes.set(ptr, size)
    this.stats.liveBytes += size
    this.stats.liveBlocks++
    if (this.stats.liveBytes > this.stats.peakBytes) this.stats.peakBytes = this.stats.liveBytes
    return ptr
  }

  /** Releases a block `alloc` returned. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr)
    if (size === undefined || size === 0) throw new Error(`wasm heap: release of ${ptr}, which is not a live block`)
    this.sizes.set(ptr, 0)
    this.stats.liveBytes -= size
    this.stats.liveBlocks--
    if (ptr + size === this.top) {
      this.top = ptr
      return
    }
    let list = this.free.get(size)
    if (list === undefined) this.free.set(size, (list = []))
    list.push(ptr)
  }

  private grow(needed: number): boolean {
    if (needed > this.maxBytes) return false
    const target = Math.min(this.maxBytes, Math.max(needed, this.capacity + (this.capacity >> 2)))
    const pages = Math.ceil((target - this.capacity) / pageBytes)
    try {
      this.memory.grow(pages)
      this.stats.grows++
      return true
    } catch {
      try {
        this.memory.grow(Math.ceil((needed - this.capacity) / pageBytes))
        this.stats.grows++
        return true
      } catch {
        return false
      }
    }
  }

  /** Rewinds the bump pointer over free blocks at the top, so other classes can use their space. */
  private compact(): void {
    const freeSet = new Map<number, number>()
    for (const [size, list] of this.free) for (const p of list) freeSet.set(p, size)
    const ends = new Map<number, number>()
    for (const [p, size] of freeSet) ends.set(p + size, p)
    let moved = false
    for (;;) {
      const start = ends.get(this.top)
      if (start === undefined) break
      const size = freeSet.get(start)!
      const list = this.free.get(size)!
      list.splice(list.indexOf(start), 1)
      this.top = start
      moved = true
    }
    if (moved) for (const [size, list] of this.free) if (list.length === 0) this.free.delete(size)
  }
}
