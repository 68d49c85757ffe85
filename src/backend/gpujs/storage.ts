/**
 * Buffers of the gpujs backend and their memory.
 *
 * A {@link Storage} holds an array's elements on the host (the dtype's typed array), on the device
 * (a gpu.js texture in GL modes, a Float32Array in the cpu and webasm modes), or both: a read-back
 * is kept, since arrays are immutable. Several buffers may share one storage (reshape and other
 * reinterpretations); the storage is released when the last of them is disposed. Disposal is
 * deterministic (`Array.dispose`, or a scope that disposes), and a `FinalizationRegistry` releases
 * what a garbage-collected buffer still held, as a safety net.
 */
import type { DeviceBuffer } from "../BackendImpl.ts"
import type { HostArray } from "../DType.ts"
import type { GpuTexture } from "./gpujsModule.ts"
import { TidyScopes } from "../tidyScopes.ts"

/** Elements on the device: a texture (GL modes) or a float array (cpu and webasm modes). */
export type DeviceData = GpuTexture | Float32Array

/** One array's elements; shared by the buffers that alias it. */
export interface Storage {
  host: HostArray | undefined
  device: DeviceData | undefined
  refs: number
}

/** The gpujs backend's buffer. */
export interface GpujsBuffer extends DeviceBuffer {
  readonly storage: Storage
  released: boolean
}

/** Live-memory counters, read by tests and the soak. */
export interface MemoryStats {
  /** Storages not yet released. */
  liveStorages: number
  /** Storages holding device data. */
  liveDevice: number
  /** Storages released by the finalizer rather than by disposal. */
  finalized: number
}

/** Owns the storages of one backend: creates, shares and releases them. */
export class StoragePool {
  readonly stats: MemoryStats = { liveStorages: 0, liveDevice: 0, finalized: 0 }
  private readonly registry: FinalizationRegistry<Storage>
  /** Buffers made inside each open `tidy`, innermost last. */
  private readonly scopes = new TidyScopes<GpujsBuffer>()

  constructor(
    private readonly name: string,
    private readonly freeDevice: (d: DeviceData) => void
  ) {
    this.registry = new FinalizationRegistry((storage) => {
      this.stats.finalized++
      this.release(storage)
    })
  }

  /** A new buffer over new storage. */
  make(host: HostArray | undefined, device: DeviceData | undefined, tracked = true): GpujsBuffer {
    const storage: Storage = { host, device, refs: 0 }
    this.stats.liveStorages++
    if (device !== undefined) this.stats.liveDevice++
    return this.share(storage, tracked)
  }

  /** A new buffer over existing storage. */
  share(storage: Storage, tracked = true): GpujsBuffer {
    storage.refs++
    const buffer: GpujsBuffer = { backend: this.name, storage, released: false }
    this.registry.register(buffer, storage, buffer)
    if (tracked) this.scopes.add(buffer)
    return buffer
  }

  /**
   * Runs `f`, then disposes every buffer made during it except those `keep` names; the kept ones
   * belong to the enclosing tracking, if any.
   */
  track<A>(f: () => A, keep: (a: A) => ReadonlySet<unknown>): A {
    return this.scopes.track(f, keep, (b) => this.dispose(b))
  }
  /** Takes `buffer` out of every open tidy: it outlives them (see `TidyScopes.keep`). */
  keep(buffer: GpujsBuffer): void {
    this.scopes.keep(buffer)
  }

  /** Puts device data on a storage that had only host data. */
  attachDevice(storage: Storage, device: DeviceData): void {
    if (storage.device === undefined) this.stats.liveDevice++
    storage.device = device
  }

  /** Disposes one buffer: its storage goes when no other buffer shares it. */
  dispose(buffer: GpujsBuffer): void {
    if (buffer.released) return
    buffer.released = true
    this.registry.unregister(buffer)
    this.release(buffer.storage)
  }

  private release(storage: Storage): void {
    storage.refs--
    if (storage.refs > 0) return
    if (storage.device !== undefined) {
      this.stats.liveDevice--
      this.freeDevice(storage.device)
    }
    storage.device = undefined
    storage.host = undefined
    this.stats.liveStorages--
  }
}
