/**
 * The webgpu backend's storage pool on its own: the storage counters, storages that settle with host
 * or device data (or fail) after the buffers over them went, device handles deleted exactly once,
 * shared storages released with their last reference, tidy scopes, and the finalizer that releases
 * what was never disposed. The finalizer is driven by a stand-in FinalizationRegistry that collects
 * on request, so the tests do not depend on when the garbage collector runs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { Backend, jnp } from "effect-nnx"
import type { DeviceHandle, Storage, WebgpuBuffer } from "../../src/backend/webgpu/storage.ts"
import { StoragePool } from "../../src/backend/webgpu/storage.ts"
import { makeCpuWebgpu } from "../support/cpuWebgpu.ts"

/** A FinalizationRegistry whose `collect` does what the garbage collector would for a lost target. */
class CollectingRegistry<T> {
  static last: CollectingRegistry<unknown> | undefined
  readonly live = new Map<object, { readonly held: T; readonly token: object | undefined }>()
  constructor(private readonly cleanup: (held: T) => void) {
    CollectingRegistry.last = this as CollectingRegistry<unknown>
  }
  register(target: object, held: T, token?: object): void {
    this.live.set(target, { held, token })
  }
  unregister(token: object): boolean {
    let found = false
    for (const [target, entry] of this.live)
      if (entry.token === token) {
        this.live.delete(target)
        found = true
      }
    return found
  }
  /** The garbage collector took `target`: runs the cleanup of its registration, if it has one. */
  collect(target: object): void {
    const entry = this.live.get(target)
    if (entry === undefined) return
    this.live.delete(target)
    this.cleanup(entry.held)
  }
}

/** A device buffer that counts its deletions. */
const handle = (): DeviceHandle & { deleted: number } => {
  const h = {
    deleted: 0,
    toArray: () => Promise.resolve(new Float32Array(0)),
    delete() {
      h.deleted++
    },
    clone: () => handle()
  }
  return h
}

const data = () => Float32Array.of(1, 2, 3)

let pool: StoragePool
let registry: CollectingRegistry<Storage>

beforeEach(() => {
  vi.stubGlobal("FinalizationRegistry", CollectingRegistry)
  pool = new StoragePool("webgpu")
  registry = CollectingRegistry.last as CollectingRegistry<Storage>
})

afterEach(() => {
  vi.unstubAllGlobals()
})

/** Runs `f` in a tidy scope that keeps `kept(result)`. */
const tidy = <A>(f: () => A, kept: (a: A) => ReadonlyArray<WebgpuBuffer> = () => []): A =>
  pool.track(f, (a) => new Set(kept(a)))

describe("StoragePool", () => {
  it("counts live storages; a host storage is settled, a pending one is not until settled", () => {
    const x = pool.host(data())
    expect(x.backend).toBe("webgpu")
    expect(x.storage.host).toEqual(data())
    expect(x.storage.settled).toBe(true)
    expect(x.storage.error).toBeUndefined()
    const y = pool.pending()
    expect(y.storage.settled).toBe(false)
    expect(y.storage.host).toBeUndefined()
    expect(pool.stats).toEqual({ liveStorages: 2, liveDevice: 0, finalized: 0 })
    pool.settle(y.storage, data(), undefined)
    expect(y.storage.settled).toBe(true)
    expect(y.storage.host).toEqual(data())
    // Host data alone holds no device buffer.
    expect(pool.stats.liveDevice).toBe(0)
    pool.dispose(x)
    pool.dispose(y)
    expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 0 })
  })

  it("settles a pending storage with device data, and deletes it when the storage is released", () => {
    const y = pool.pending()
    const d = handle()
    pool.settle(y.storage, undefined, d)
    expect(y.storage.settled).toBe(true)
    expect(y.storage.device).toBe(d)
    expect(pool.stats.liveDevice).toBe(1)
    pool.dispose(y)
    expect(d.deleted).toBe(1)
    expect(y.storage.device).toBeUndefined()
    expect(y.storage.released).toBe(true)
    expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 0 })
  })

  it("a failed storage is settled with its error", () => {
    const y = pool.pending()
    const error = new Error("kernel failed")
    pool.fail(y.storage, error)
    expect(y.storage.settled).toBe(true)
    expect(y.storage.error).toBe(error)
    pool.dispose(y)
    expect(pool.stats.liveStorages).toBe(0)
  })

  it("a storage settling after every reference went keeps nothing: its device data is deleted at once", () => {
    const y = pool.pending()
    pool.dispose(y)
    expect(y.storage.released).toBe(true)
    expect(pool.stats.liveStorages).toBe(0)
    const d = handle()
    pool.settle(y.storage, data(), d)
    expect(y.storage.settled).toBe(true)
    expect(d.deleted).toBe(1)
    expect(y.storage.device).toBeUndefined()
    expect(y.storage.host).toBeUndefined()
    expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 0 })
  })

  it("a storage settling with host data only after every reference went keeps nothing", () => {
    const y = pool.pending()
    pool.dispose(y)
    pool.settle(y.storage, data(), undefined)
    expect(y.storage.settled).toBe(true)
    expect(y.storage.host).toBeUndefined()
    expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 0 })
  })

  it("device data put on a released storage is deleted at once", () => {
    const x = pool.host(data())
    pool.dispose(x)
    const d = handle()
    pool.attachDevice(x.storage, d)
    expect(d.deleted).toBe(1)
    expect(x.storage.device).toBeUndefined()
    expect(pool.stats.liveDevice).toBe(0)
  })

  it("device data replacing earlier device data deletes the earlier handle and counts one buffer", () => {
    const x = pool.host(data())
    const first = handle()
    const second = handle()
    pool.attachDevice(x.storage, first)
    expect(pool.stats.liveDevice).toBe(1)
    pool.attachDevice(x.storage, second)
    expect(first.deleted).toBe(1)
    expect(second.deleted).toBe(0)
    expect(x.storage.device).toBe(second)
    expect(pool.stats.liveDevice).toBe(1)
    pool.dispose(x)
    expect(second.deleted).toBe(1)
    expect(pool.stats.liveDevice).toBe(0)
  })

  it("a shared storage is released with its last reference, a queued operation's hold included", () => {
    const x = pool.host(data())
    const d = handle()
    pool.attachDevice(x.storage, d)
    const view = pool.share(x.storage)
    expect(view.storage).toBe(x.storage)
    // A queued operation reads it.
    pool.hold(x.storage)
    pool.dispose(x)
    pool.dispose(view)
    expect(x.storage.released).toBe(false)
    expect(pool.stats).toEqual({ liveStorages: 1, liveDevice: 1, finalized: 0 })
    expect(d.deleted).toBe(0)
    // The operation has run.
    pool.release(x.storage)
    expect(x.storage.released).toBe(true)
    expect(d.deleted).toBe(1)
    expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 0 })
  })

  it("disposing a buffer twice drops its reference once", () => {
    const x = pool.host(data())
    const view = pool.share(x.storage)
    pool.dispose(view)
    expect(view.released).toBe(true)
    pool.dispose(view)
    expect(x.storage.released).toBe(false)
    expect(x.storage.host).toEqual(data())
    expect(pool.stats.liveStorages).toBe(1)
    pool.dispose(x)
    expect(pool.stats.liveStorages).toBe(0)
  })

  describe("tidy scopes", () => {
    it("dispose the buffers made inside except the kept ones", () => {
      const d = handle()
      const [a, b, c] = tidy(
        () => {
          const a = pool.host(data())
          const b = pool.pending()
          pool.settle(b.storage, undefined, d)
          return [a, b, pool.host(data())] as const
        },
        ([a]) => [a]
      )
      expect(a.released).toBe(false)
      expect(b.released).toBe(true)
      expect(c.released).toBe(true)
      expect(c.storage.host).toBeUndefined()
      expect(d.deleted).toBe(1)
      expect(pool.stats).toEqual({ liveStorages: 1, liveDevice: 0, finalized: 0 })
    })

    it("a buffer made with tracked = false, or kept, outlives the scope", () => {
      const [untracked, shared, kept] = tidy(() => {
        const kept = pool.host(data())
        pool.keep(kept)
        const untracked = pool.host(data(), false)
        return [untracked, pool.share(untracked.storage, false), kept] as const
      })
      expect(untracked.released).toBe(false)
      expect(shared.released).toBe(false)
      expect(kept.released).toBe(false)
      expect(pool.stats.liveStorages).toBe(2)
    })

    it("a tracked view made inside goes with the scope; the storage stays for the buffer made outside", () => {
      const x = pool.host(data())
      const view = tidy(() => pool.share(x.storage))
      expect(view.released).toBe(true)
      expect(x.storage.released).toBe(false)
      expect(pool.stats.liveStorages).toBe(1)
    })
  })

  describe("the finalizer", () => {
    it("releases the storage of a buffer that was never disposed, and counts it", () => {
      const x = pool.pending()
      const d = handle()
      pool.settle(x.storage, undefined, d)
      registry.collect(x)
      expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 1 })
      expect(d.deleted).toBe(1)
      expect(x.storage.released).toBe(true)
    })

    it("releases a shared storage only when its last buffer is collected", () => {
      const x = pool.host(data())
      const view = pool.share(x.storage, false)
      registry.collect(view)
      expect(pool.stats).toEqual({ liveStorages: 1, liveDevice: 0, finalized: 1 })
      registry.collect(x)
      expect(pool.stats).toEqual({ liveStorages: 0, liveDevice: 0, finalized: 2 })
    })

    it("does nothing for a disposed buffer", () => {
      const x = pool.host(data())
      const view = pool.share(x.storage)
      pool.dispose(view)
      registry.collect(view)
      expect(pool.stats).toEqual({ liveStorages: 1, liveDevice: 0, finalized: 0 })
      expect(x.storage.released).toBe(false)
    })
  })
})

describe("the storages of a webgpu backend (on the JavaScript stand-in)", () => {
  it("releases every storage and device buffer of disposed arrays, tidied temporaries and finished operations", async () => {
    vi.unstubAllGlobals()
    const { backend, memory } = await makeCpuWebgpu({ onKernelError: "fail" })
    const stats = backend.gpuStats.memory
    const on = <A>(f: () => A): A => Backend.withBackend(backend, f)
    const x = on(() => jnp.array([1, 2, 3, 4], { dtype: "float32" }))
    expect(stats.liveStorages).toBe(1)
    // A reshape shares its operand's storage.
    const view = on(() => x.reshape([2, 2]))
    expect(stats.liveStorages).toBe(1)
    const y = on(() => Backend.tidy(() => view.mul(2).add(1)))
    expect(Array.from(await y.data())).toEqual([3, 5, 7, 9])
    expect(stats.liveStorages).toBe(2)
    expect(stats.liveDevice).toBe(memory.live)
    expect(stats.liveDevice).toBeGreaterThan(0)
    for (const a of [x, view, y]) a.dispose()
    expect(stats.liveStorages).toBe(0)
    expect(stats.liveDevice).toBe(0)
    expect(memory.live).toBe(0)
    expect(stats.finalized).toBe(0)
    backend.destroy()
  })
})
