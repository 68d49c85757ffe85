/**
 * Where the wasm backend's arrays live: in the WebAssembly memory while kernels use them, on the
 * JavaScript heap when they do not fit.
 *
 * A {@link Storage} holds an array's elements resident in the WebAssembly memory (a heap block), as
 * a host typed array, or both (arrays are immutable, so a copy read back stays valid). Several
 * buffers may share a storage (reshape and other reinterpretations); it is released when the last of
 * them is disposed.
 *
 * Release is deterministic (`Array.dispose`, `Backend.tidy`), with a `FinalizationRegistry` as the
 * safety net. A finalizer runs only after the program yields to the event loop, so a synchronous
 * training loop that never disposes would otherwise fill the memory: resident storages are kept in
 * least-recently-used order, and when the resident bytes pass the limit (or an allocation cannot be
 * served) the least recently used ones move to the JavaScript heap, whose garbage collector then
 * owns them. A moved storage comes back into the memory the next time a kernel reads it. Memory
 * therefore stays flat whether or not a program disposes.
 */
import type { DeviceBuffer } from "../BackendImpl.ts"
import type { HostArray } from "../DType.ts"
import type { Heap } from "./heap.ts"
import { TidyScopes } from "../tidyScopes.ts"

/** The element storage kinds: the typed array a dtype's elements live in. */
export type StorageKind = "f32" | "i32" | "u32" | "u8"

/** One array's elements, shared by the buffers that alias it. */
export interface Storage {
  readonly kind: StorageKind
  /** Elements (of the kind; keys count two words each). */
  readonly length: number
  /** Its heap block while resident (0 for an empty array, which is always resident). */
  ptr: number | undefined
  host: HostArray | undefined
  /** Its reference count, and the link the finalizer of its buffers follows (see {@link Owner}). */
  readonly owner: Owner
  pins: number
  /** Its neighbours in the resident list (least recently used first); both undefined when not listed. */
  older: Storage | undefined
  newer: Storage | undefined
}

/**
 * What the finalizer of a storage's buffers holds: the count of references (buffers, views, loans)
 * and the storage itself only while it holds a heap block, which the finalizer must release. A
 * storage moved out to the JavaScript heap is reachable from its buffers alone, so the garbage
 * collector takes its elements with them, even in a synchronous loop that never lets finalizers run.
 */
export interface Owner {
  storage: Storage | undefined
  refs: number
}

/** The wasm backend's buffer. */
export interface WasmBuffer extends DeviceBuffer {
  readonly backend: "wasm"
  readonly storage: Storage
  released: boolean
}

/** Memory counters, read by tests, the soak and benchmarks. */
export interface StorageStats {
  liveStorages: number
  /** Bytes of storages resident in the WebAssembly memory. */
  residentBytes: number
  /** Storages moved out to the JavaScript heap to stay under the limit or serve an allocation. */
  spilled: number
  /** Storages released by the finalizer rather than by disposal. */
  finalized: number
  /** Bytes held in the memory by views that `read` handed out and the garbage collector has not yet collected. */
  viewBytes: number
}

/** Arrays smaller than this are copied when read: a copy is cheap, and a view would hold a block. */
const viewMinBytes = 64 * 1024

const bytesPer = (kind: StorageKind): number => (kind === "u8" ? 1 : 4)

/**
 * A copy of a view of the shared memory on the JavaScript heap. The typed-array constructor copies
 * a shared source several times faster than `slice` or `set` do in V8 (16 MB: about 2 ms instead of
 * 8), which is what makes reading results cheap.
 */
const copyOut = (view: HostArray): HostArray => {
  if (view instanceof Float32Array) return new Float32Array(view)
  if (view instanceof Int32Array) return new Int32Array(view)
  if (view instanceof Uint32Array) return new Uint32Array(view)
  return new Uint8Array(view)
}

/** Owns the storages of one wasm backend. */
export class StoragePool {
  readonly stats: StorageStats = { liveStorages: 0, residentBytes: 0, spilled: 0, finalized: 0, viewBytes: 0 }
  /**
   * Resident storages, least recently used first: a list threaded through the storages themselves,
   * so that moving one to the end on every kernel use, removing one, and walking from the oldest
   * are all constant time per step. Not a Set kept in use order: deleting and re-adding the same
   * entry on every use costs V8 a rehash of the whole table every few uses once thousands of
   * arrays are live (measured: 50-150 µs per kernel call with 80,000 live arrays).
   */
  private oldest: Storage | undefined
  private newest: Storage | undefined
  private readonly registry: FinalizationRegistry<Owner>
  /** Releases what a collected view held. */
  private readonly viewRegistry: FinalizationRegistry<Storage>
  private readonly shared: boolean
  /** Most bytes views may hold at once; past it, reads copy. */
  private readonly viewBudget: number
  private readonly scopes = new TidyScopes<WasmBuffer>()
  private cachedBuffer: ArrayBufferLike | undefined
  private views: { f32: Float32Array; i32: Int32Array; u32: Uint32Array; u8: Uint8Array } | undefined

  constructor(
    readonly heap: Heap,
    public residentLimit: number
  ) {
    this.registry = new FinalizationRegistry((owner) => {
      this.stats.finalized++
      this.unref(owner)
    })
    this.viewRegistry = new FinalizationRegistry((storage) => {
      this.stats.viewBytes -= storage.length * bytesPer(storage.kind)
      storage.pins--
      this.unref(storage.owner)
    })
    this.shared = typeof SharedArrayBuffer !== "undefined" && heap.memory.buffer instanceof SharedArrayBuffer
    this.viewBudget = Math.max(64 << 20, residentLimit / 4)
  }

  /** Typed views of the whole memory, recreated when it has grown. */
  view<K extends StorageKind>(kind: K): { f32: Float32Array; i32: Int32Array; u32: Uint32Array; u8: Uint8Array }[K] {
    const buffer = this.heap.memory.buffer
    if (this.views === undefined || buffer !== this.cachedBuffer || this.views.u8.byteLength !== buffer.byteLength) {
      this.cachedBuffer = buffer
      this.views = {
        f32: new Float32Array(buffer),
        i32: new Int32Array(buffer),
        u32: new Uint32Array(buffer),
        u8: new Uint8Array(buffer)
      }
    }
    return this.views[kind]
  }

  /** The elements of a resident storage, as a view into the memory (valid until the next allocation). */
  residentView(s: Storage): HostArray {
    const v = this.view(s.kind)
    const start = s.ptr! / bytesPer(s.kind)
    return v.subarray(start, start + s.length)
  }

  /** A new storage with a heap block, for a kernel to write. */
  allocate(kind: StorageKind, length: number, op: string): Storage {
    const s: Storage = {
      kind,
      length,
      ptr: 0,
      host: undefined,
      owner: { storage: undefined, refs: 0 },
      pins: 0,
      older: undefined,
      newer: undefined
    }
    this.stats.liveStorages++
    if (length > 0) s.ptr = this.alloc(length * bytesPer(kind), op)
    this.resident(s)
    return s
  }

  /** A new storage over host data (taken, not copied); it moves into the memory when a kernel reads it. */
  fromHost(kind: StorageKind, host: HostArray): Storage {
    this.stats.liveStorages++
    return {
      kind,
      length: host.length,
      ptr: host.length === 0 ? 0 : undefined,
      host,
      owner: { storage: undefined, refs: 0 },
      pins: 0,
      older: undefined,
      newer: undefined
    }
  }

  /** A new buffer over `storage`. */
  share(storage: Storage, tracked = true): WasmBuffer {
    storage.owner.refs++
    const buffer: WasmBuffer = { backend: "wasm", storage, released: false }
    this.registry.register(buffer, storage.owner, buffer)
    if (tracked) this.scopes.add(buffer)
    return buffer
  }

  /** Makes `s` resident and keeps it so until {@link unpin}. */
  pin(s: Storage, op: string): number {
    if (s.ptr === undefined) {
      const host = s.host!
      const ptr = this.alloc(s.length * bytesPer(s.kind), op)
      s.ptr = ptr
      this.view("u8").set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength), ptr)
      this.resident(s)
    } else if (s.length > 0 && s !== this.newest) {
      this.unlist(s)
      this.list(s)
    }
    s.pins++
    return s.ptr
  }

  unpin(s: Storage): void {
    s.pins--
  }

  /**
   * The elements for reading (`x.dataSync()`, `await x.data()`). A large resident array is read in place: the view keeps
   * its block alive and in the memory (neither released by `dispose` nor moved out) until the view
   * itself is garbage-collected, so reading a 16 MB result costs nothing. Small arrays, views past
   * their budget, and memories that are not shared (whose buffer a growth would detach) get a copy.
   */
  read(s: Storage): HostArray {
    const bytes = s.length * bytesPer(s.kind)
    if (s.host !== undefined || bytes < viewMinBytes || this.stats.viewBytes + bytes > this.viewBudget || !this.shared)
      return this.host(s)
    const view = this.residentView(s)
    s.owner.refs++
    s.pins++
    this.stats.viewBytes += bytes
    this.viewRegistry.register(view, s)
    return view
  }

  /**
   * Calls `f` with the elements read in place, for the duration of the call only (`x.withData`): the
   * block stays resident and alive (even if the array is disposed inside `f`) until `f` returns, and
   * is free for reuse right after, with no copy and nothing left for the garbage collector.
   */
  borrow<A>(s: Storage, f: (data: HostArray) => A): A {
    if (s.host !== undefined) return f(s.host)
    if (s.length === 0) return f(this.residentView(s))
    s.owner.refs++
    s.pins++
    try {
      return f(this.residentView(s))
    } finally {
      s.pins--
      this.unref(s.owner)
    }
  }

  /** The elements on the host (copied out once and kept: arrays are immutable). */
  host(s: Storage): HostArray {
    if (s.host === undefined) s.host = copyOut(this.residentView(s))
    return s.host
  }

  /** Releases a buffer now. */
  dispose(buffer: WasmBuffer): void {
    if (buffer.released) return
    buffer.released = true
    this.registry.unregister(buffer)
    this.unref(buffer.storage.owner)
  }

  /** Moves the least recently used unpinned storages out until `bytes` are free; whether any moved. */
  reclaim(bytes: number): boolean {
    let freed = 0
    for (let s = this.oldest; s !== undefined && freed < bytes; ) {
      const next = s.newer
      if (s.pins === 0) freed += this.spill(s)
      s = next
    }
    return freed > 0
  }

  /** Runs `f`, then disposes every buffer made during it except those `keep` names. */
  track<A>(f: () => A, keep: (a: A) => ReadonlySet<unknown>): A {
    return this.scopes.track(f, keep, (b) => this.dispose(b))
  }
  /** Takes `buffer` out of every open tidy: it outlives them (see `TidyScopes.keep`). */
  keep(buffer: WasmBuffer): void {
    this.scopes.keep(buffer)
  }

  private alloc(bytes: number, op: string): number {
    return this.heap.alloc(bytes, op, (n) => this.reclaim(n))
  }

  private resident(s: Storage): void {
    if (s.length === 0) return
    s.owner.storage = s
    this.stats.residentBytes += s.length * bytesPer(s.kind)
    this.list(s)
    if (this.stats.residentBytes > this.residentLimit) this.reclaim(this.stats.residentBytes - this.residentLimit)
  }

  private spill(s: Storage): number {
    if (s.ptr === undefined || s.length === 0) return 0
    this.host(s)
    const bytes = s.length * bytesPer(s.kind)
    this.heap.release(s.ptr)
    s.ptr = undefined
    s.owner.storage = undefined
    this.unlist(s)
    this.stats.residentBytes -= bytes
    this.stats.spilled++
    return bytes
  }

  /** Appends `s` to the resident list (as the most recently used). */
  private list(s: Storage): void {
    s.older = this.newest
    s.newer = undefined
    if (this.newest === undefined) this.oldest = s
    else this.newest.newer = s
    this.newest = s
  }

  /** Takes `s` out of the resident list. */
  private unlist(s: Storage): void {
    if (s.older === undefined) this.oldest = s.newer
    else s.older.newer = s.newer
    if (s.newer === undefined) this.newest = s.older
    else s.newer.older = s.older
    s.older = undefined
    s.newer = undefined
  }

  /** Drops one reference; the last frees the storage (its block, if it holds one). */
  private unref(owner: Owner): void {
    if (--owner.refs > 0) return
    const s = owner.storage
    owner.storage = undefined
    this.stats.liveStorages--
    if (s === undefined) return
    if (s.ptr !== undefined && s.length > 0) {
      this.heap.release(s.ptr)
      this.unlist(s)
      this.stats.residentBytes -= s.length * bytesPer(s.kind)
    }
    s.ptr = undefined
    s.host = undefined
  }
}
