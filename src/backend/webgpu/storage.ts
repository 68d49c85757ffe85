/**
 * Buffers of the webgpu backend: values that exist now on the host, later on the device, or both.
 *
 * An operation returns its outputs at once, as pending storages; the backend's queue runs it later
 * and settles them with device data (a gpu.js pipeline handle), host data (an operation that ran on
 * the cpu kernels) or an error. An operation waiting in the queue holds a reference on each input's
 * storage, so disposing an array whose value a queued operation still reads is safe: the storage
 * goes when that operation has run. Several buffers may share one storage (reshapes); it is
 * released when the last reference goes, deterministically (`dispose`, `tidy`) or by a finalizer.
 */
import type { DeviceBuffer } from "../BackendImpl.ts"
import type { HostArray } from "../DType.ts"
import { TidyScopes } from "../tidyScopes.ts"

/** A gpu.js WebGPU pipeline result: a storage buffer on the device. */
export interface DeviceHandle {
  toArray(): Promise<unknown>
  delete(): void
  /** A second handle on the same device buffer (reference counted by gpu.js). */
  clone(): DeviceHandle
}

/** One value's elements; shared by the buffers that alias it. */
export interface Storage {
  host: HostArray | undefined
  device: DeviceHandle | undefined
  /** Whether the operation producing it has run (successfully or not). */
  settled: boolean
  /** Resolves (never rejects) once {@link settled}. */
  done: Promise<void>
  /** Why the operation producing it failed. */
  error: Error | undefined
  /** Buffers and queued operations holding it. */
  refs: number
  /** Whether every reference went: its device data is freed, or will be when it settles. */
  released: boolean
}

/** The webgpu backend's buffer. */
export interface WebgpuBuffer extends DeviceBuffer {
  readonly storage: Storage
  released: boolean
}

/** Live-memory counters, read by tests and the soak. */
export interface WebgpuMemoryStats {
  /** Storages not yet released. */
  liveStorages: number
  /** Device buffers held. */
  liveDevice: number
  /** Storages released by the finalizer rather than by disposal. */
  finalized: number
}

const settledNow: Promise<void> = Promise.resolve()

/** Owns the storages of one backend. */
export class StoragePool {
  readonly stats: WebgpuMemoryStats = { liveStorages: 0, liveDevice: 0, finalized: 0 }
  private readonly registry: FinalizationRegistry<Storage>
  private readonly scopes = new TidyScopes<WebgpuBuffer>()

  constructor(private readonly name: string) {
    this.registry = new FinalizationRegistry((storage) => {
      this.stats.finalized++
      this.release(storage)
    })
  }

  /** A buffer over host data that exists now. */
  host(data: HostArray, tracked = true): WebgpuBuffer {
    return this.share(this.fresh(data, true), tracked)
  }

  /** A buffer over a value an operation in the queue will produce. */
  pending(): WebgpuBuffer {
    return this.share(this.fresh(undefined, false), true)
  }

  private fresh(host: HostArray | undefined, settled: boolean): Storage {
    this.stats.liveStorages++
    return { host, device: undefined, settled, done: settledNow, error: undefined, refs: 0, released: false }
  }

  /** A new buffer over existing storage. */
  share(storage: Storage, tracked = true): WebgpuBuffer {
    storage.refs++
    const buffer: WebgpuBuffer = { backend: this.name, storage, released: false }
    this.registry.register(buffer, storage, buffer)
    if (tracked) this.scopes.add(buffer)
    return buffer
  }

  /** A reference a queued operation holds on an input until it has run. */
  hold(storage: Storage): void {
    storage.refs++
  }

  /** Gives the produced value to a pending storage; freed at once if nothing holds it any more. */
  settle(storage: Storage, host: HostArray | undefined, device: DeviceHandle | undefined): void {
    storage.settled = true
    if (storage.released) {
      device?.delete()
      return
    }
    storage.host = host
    if (device !== undefined) this.attachDevice(storage, device)
  }

  /** Marks a pending storage failed: reads of it, and operations on it, fail with `error`. */
  fail(storage: Storage, error: Error): void {
    storage.settled = true
    storage.error = error
  }

  /** Puts device data on a storage. */
  attachDevice(storage: Storage, device: DeviceHandle): void {
    if (storage.released) {
      device.delete()
      return
    }
    if (storage.device === undefined) this.stats.liveDevice++
    else storage.device.delete()
    storage.device = device
  }

  track<A>(f: () => A, keep: (a: A) => ReadonlySet<unknown>): A {
    return this.scopes.track(f, keep, (b) => this.dispose(b))
  }

  keep(buffer: WebgpuBuffer): void {
    this.scopes.keep(buffer)
  }

  /** Disposes one buffer: its storage goes when nothing else holds it. */
  dispose(buffer: WebgpuBuffer): void {
    if (buffer.released) return
    buffer.released = true
    this.registry.unregister(buffer)
    this.release(buffer.storage)
  }

  /** Drops one reference (a buffer's or a queued operation's). */
  release(storage: Storage): void {
    storage.refs--
    if (storage.refs > 0 || storage.released) return
    storage.released = true
    if (storage.device !== undefined) {
      this.stats.liveDevice--
      storage.device.delete()
    }
    storage.device = undefined
    storage.host = undefined
    this.stats.liveStorages--
  }
}
