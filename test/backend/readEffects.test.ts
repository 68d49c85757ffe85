/**
 * Reading values as Effects (Backend.data, tolist, item, blockUntilReady) on the default backend and
 * on the webgpu backend over its JavaScript stand-in: the values, nested result trees (arrays in
 * arrays and plain objects, with other values, shared parts and cycles among them), what they skip
 * (disposed arrays, arrays inside class instances), and failures: a ReadError in the error channel
 * with a message naming the problem, anything else a defect.
 */
import { Cause, Effect, Exit } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import { Backend, jnp, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { makeCpuWebgpu } from "../support/cpuWebgpu.ts"

const standIn = await makeCpuWebgpu({ onKernelError: "fail" })
const failing = await makeCpuWebgpu({
  onKernelError: "fail",
  failure: { marker: "Math.exp", reason: "shader compilation failed" }
})

afterAll(async () => {
  for (const { backend } of [standIn, failing]) {
    await backend.flush()
    backend.destroy()
  }
})

const backends = [
  ["the default backend", Backend.defaultBackend()],
  ["webgpu on the JavaScript stand-in", standIn.backend]
] as const

/** The error an Effect fails with (its expected failure, not a defect). */
const failureOf = async <E>(effect: Effect.Effect<unknown, E>): Promise<E> => Effect.runPromise(Effect.flip(effect))

/** A class instance holding an array: not a result tree, so blockUntilReady does not look inside. */
class Holder {
  constructor(readonly array: JArray) {}
}

describe.each(backends)("reads as Effects on %s", (_, backend) => {
  const on = <A>(f: () => A): A => Backend.withBackend(backend, f)

  it("reads elements, nested lists and single elements", async () => {
    const x = on(() => jnp.arange(6).reshape([2, 3]).add(1))
    expect(Array.from(await Effect.runPromise(Backend.data(x)))).toEqual([1, 2, 3, 4, 5, 6])
    expect(await Effect.runPromise(Backend.tolist(x))).toEqual([
      [1, 2, 3],
      [4, 5, 6]
    ])
    expect(await Effect.runPromise(Backend.item(on(() => jnp.sum(x))))).toBe(21)
    expect(await Effect.runPromise(Backend.item(on(() => jnp.sum(x).gt(20))))).toBe(true)
  })

  it("fails with the typed error of a disposed array, naming the problem", async () => {
    const x = on(() => jnp.arange(3).mul(2))
    x.dispose()
    for (const read of [Backend.data(x), Backend.tolist(x), Backend.item(x)]) {
      const e = await failureOf(read)
      expect(e._tag).toBe("DTypeError")
      expect(e.message).toContain("disposed")
    }
  })

  it("fails with the typed error of a read that has no answer: a key array's list, item of many elements", async () => {
    const key = on(() => random.key(0))
    const list = await failureOf(Backend.tolist(key))
    expect(list._tag).toBe("DTypeError")
    expect(list.message).toContain("PRNG key arrays have no list form")
    const item = await failureOf(Backend.item(on(() => jnp.ones([2]))))
    expect(item._tag).toBe("DTypeError")
    expect(item.message).toContain("needs an array of size 1, got shape (2)")
  })

  it("a failure that is not a read error is a defect, not an error in the error channel", async () => {
    const x = on(() => jnp.ones([2]))
    const bug = new TypeError("a bug in a backend")
    vi.spyOn(x, "data").mockRejectedValue(bug)
    const reads: ReadonlyArray<Effect.Effect<unknown, Backend.ReadError>> = [
      Backend.data(x),
      Backend.tolist(x),
      Backend.item(x),
      Backend.blockUntilReady({ x })
    ]
    for (const read of reads) {
      const exit = await Effect.runPromiseExit(read)
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(Cause.hasFails(exit.cause)).toBe(false)
        expect(Cause.squash(exit.cause)).toBe(bug)
      }
    }
  })

  it("blockUntilReady waits for every array in a result tree and returns the tree itself", async () => {
    const x = on(() => jnp.arange(4).astype("float32"))
    const shared = { w: on(() => x.mul(2)) }
    const tree = {
      loss: on(() => jnp.sum(x)),
      layers: [shared, shared, [on(() => x.add(1)), 3, "relu", null, undefined, true]],
      none: null,
      missing: undefined,
      count: 2,
      name: "model",
      scale: 0.5,
      fn: (v: number) => v + 1
    }
    const ready = await Effect.runPromise(Backend.blockUntilReady(tree))
    expect(ready).toBe(tree)
    // Synchronous reads work now, on every backend.
    expect(ready.loss.item()).toBe(6)
    expect(shared.w.tolist()).toEqual([0, 2, 4, 6])
    expect((ready.layers[2] as Array<JArray>)[0]!.tolist()).toEqual([1, 2, 3, 4])
    expect(await Effect.runPromise(Backend.blockUntilReady(x))).toBe(x)
    expect(await Effect.runPromise(Backend.blockUntilReady(7))).toBe(7)
    expect(await Effect.runPromise(Backend.blockUntilReady(null))).toBe(null)
  })

  it("blockUntilReady follows a cycle once", async () => {
    const x = on(() => jnp.ones([3]).mul(3))
    const cyclic: { x: JArray; self?: unknown; list: Array<unknown> } = { x, list: [] }
    cyclic.self = cyclic
    cyclic.list.push(cyclic.list, cyclic)
    const spy = vi.spyOn(x, "data")
    expect(await Effect.runPromise(Backend.blockUntilReady(cyclic))).toBe(cyclic)
    expect(spy).toHaveBeenCalledTimes(1)
    expect(x.tolist()).toEqual([3, 3, 3])
  })

  it("blockUntilReady skips disposed arrays and does not look inside class instances or Maps", async () => {
    const gone = on(() => jnp.ones([2]).add(1))
    gone.dispose()
    const inside = on(() => jnp.ones([2]).add(2))
    const spy = vi.spyOn(inside, "data")
    const plain = on(() => jnp.ones([2]).add(3))
    const tree = { gone, held: new Holder(inside), map: new Map([["a", inside]]), plain: [plain] }
    expect(await Effect.runPromise(Backend.blockUntilReady(tree))).toBe(tree)
    expect(spy).not.toHaveBeenCalled()
    expect(plain.tolist()).toEqual([4, 4])
  })
})

describe("reads as Effects of a failing kernel's results (webgpu, onKernelError: 'fail')", () => {
  const on = <A>(f: () => A): A => Backend.withBackend(failing.backend, f)

  it("fail with the GpuKernelError naming the operation and the reason", async () => {
    const y = on(() => jnp.exp(jnp.linspace(0, 1, 4)).mul(2))
    for (const read of [Backend.data(y), Backend.tolist(y), Backend.item(on(() => jnp.sum(y)))]) {
      const e = await failureOf(read)
      expect(e).toBeInstanceOf(Backend.GpuKernelError)
      expect(e.message).toContain("shader compilation failed")
      expect(e.message).toContain("exp")
    }
    const e = await failureOf(Backend.blockUntilReady({ ok: on(() => jnp.ones([2]).add(1)), results: [y] }))
    expect(e).toBeInstanceOf(Backend.GpuKernelError)
    expect(e.message).toContain("shader compilation failed")
  })

  it("blockUntilReady does not read a failed array inside a class instance", async () => {
    const y = on(() => jnp.exp(jnp.linspace(0, 1, 4)))
    const ok = on(() => jnp.ones([2]).add(1))
    const tree = { ok, held: new Holder(y) }
    expect(await Effect.runPromise(Backend.blockUntilReady(tree))).toBe(tree)
    expect(ok.tolist()).toEqual([2, 2])
  })
})
