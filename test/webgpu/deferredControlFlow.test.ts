/**
 * Control flow decided on an asynchronous device (src/backend/higherOrder.ts with `BackendImpl.defer`),
 * on the JavaScript stand-in for the GPU, compared with the wasm backend: which decisions wait for
 * the device and which are taken at once, the programs' constants and literals outliving the `tidy`
 * around the call, loops whose state passes values through unchanged or carries its own predicate,
 * consts of both the condition and the body, clamped `switch` indices, and empty scans.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Backend, jit, jnp, lax, makeJaxpr, PendingReadError } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { makeCpuWebgpu } from "../support/cpuWebgpu.ts"

const made: Array<Backend.WebgpuBackend> = []
afterEach(async () => {
  for (const b of made.splice(0)) {
    await b.flush()
    b.destroy()
  }
})

const fresh = async (options: Backend.WebgpuOptions = {}) => {
  const { backend } = await makeCpuWebgpu(options)
  made.push(backend)
  return backend
}

const onWasm = <A>(f: () => A): A => Backend.withBackend(Backend.defaultBackend(), f)

const close = (got: ArrayLike<number>, want: ArrayLike<number>): void => {
  expect(got.length).toBe(want.length)
  for (let i = 0; i < want.length; i++) expect(got[i]!).toBeCloseTo(want[i]!, 5)
}

describe("cond and switch on webgpu", () => {
  it("takes a branch at once when an int32 index is already on the host, and waits for the device otherwise", async () => {
    const b = await fresh()
    const on = <A>(f: () => A): A => Backend.withBackend(b, f)
    const x = on(() => jnp.array([1, 2, 3], { dtype: "float32" }))
    const pick = (i: JArray) => lax.switch(i, [(v: JArray) => v.neg(), (v: JArray) => v], x)
    // A host index: the identity branch returns x itself, readable now.
    expect(on(() => pick(jnp.array(1, { dtype: "int32" }))).tolist()).toEqual([1, 2, 3])
    // An index still being computed (a bool predicate is converted on the device too): the result waits.
    const pending = on(() => pick(jnp.sum(x).gt(100).astype("int32")))
    expect(() => pending.tolist()).toThrow(PendingReadError)
    expect(Array.from(await pending.data())).toEqual([-1, -2, -3])
    const viaCond = on(() =>
      lax.cond(
        jnp.array(true),
        (v: JArray) => v,
        (v: JArray) => v.neg(),
        x
      )
    )
    expect(Array.from(await viaCond.data())).toEqual([1, 2, 3])
  })

  it("an index whose computation failed fails the switch at once with that error", async () => {
    const failing = await makeCpuWebgpu({
      failure: { marker: "Math.log", reason: "shader compilation failed" },
      onKernelError: "fail"
    })
    made.push(failing.backend)
    const on = <A>(f: () => A): A => Backend.withBackend(failing.backend, f)
    const i = on(() =>
      jnp
        .log(jnp.array([2], { dtype: "float32" }))
        .sum()
        .astype("int32")
    )
    await expect(i.data()).rejects.toBeInstanceOf(Backend.GpuKernelError)
    expect(() => on(() => lax.switch(i, [(v: JArray) => v.add(1), (v: JArray) => v], jnp.ones([2])))).toThrow(
      Backend.GpuKernelError
    )
  })

  it("clamps a switch index to the branches, as JAX does, on the host and on the device", async () => {
    const b = await fresh()
    const branches = [(u: JArray) => u.mul(2), (u: JArray) => u.add(10), (u: JArray) => u.neg()]
    const run = (i: number, computed: boolean) => () => {
      const x = jnp.array([1, 2], { dtype: "float32" })
      const index = computed ? jnp.sum(jnp.array([i], { dtype: "float32" })).astype("int32") : jnp.array(i)
      return lax.switch(index, branches, x)
    }
    for (const [i, want] of [
      [-4, [2, 4]],
      [1, [11, 12]],
      [7, [-1, -2]]
    ] as const) {
      expect(onWasm(run(i, false)).tolist()).toEqual(want)
      for (const computed of [false, true])
        expect(Array.from(await Backend.withBackend(b, run(i, computed)).data())).toEqual(want)
    }
  })

  it("a branch that returns a literal gives its value and dtype when the device decides", async () => {
    const b = await fresh()
    const run = () => {
      const x = jnp.array([1, 2], { dtype: "float32" })
      return lax.cond(
        jnp.sum(x).gt(0),
        () => jnp.array(7, { dtype: "float32" }),
        () => jnp.array(-7, { dtype: "float32" })
      )
    }
    const y = Backend.withBackend(b, run)
    expect(y.dtype).toBe("float32")
    expect(y.shape).toEqual([])
    expect(Array.from(await y.data())).toEqual([7])
    expect(onWasm(run).tolist()).toEqual(7)
  })
})

describe("programs' constants outlive the tidy around a call the device decides", () => {
  it("a cond branch's captured array", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const y = Backend.withBackend(b, () =>
      Backend.tidy(() => {
        const c = jnp.array([3, 4], { dtype: "float32" }).mul(2)
        const x = jnp.array([1, 2], { dtype: "float32" })
        return lax.cond(
          jnp.sum(x).gt(1),
          (v: JArray) => v.add(c),
          (v: JArray) => v,
          x
        )
      })
    )
    expect(Array.from(await y.data())).toEqual([7, 10])
  })

  it("a cond branch's scalars (literals of its program)", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const y = Backend.withBackend(b, () =>
      Backend.tidy(() => {
        const x = jnp.array([1, 2], { dtype: "float32" })
        return lax.cond(
          jnp.sum(x).gt(1),
          (v: JArray) => v.mul(3),
          () => jnp.array([7, 7], { dtype: "float32" }),
          x
        )
      })
    )
    expect(Array.from(await y.data())).toEqual([3, 6])
  })

  it("a while loop whose condition and body each capture their own arrays", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const loop = (init: JArray) =>
      Backend.tidy(() => {
        // Arrays (not scalars, which would be literals) that the traced functions use with their
        // arguments: constants of the condition and of the body.
        const weights = jnp.array([1, 0.5], { dtype: "float32" }).add(0)
        const inc = jnp.array([1.5, 2.5], { dtype: "float32" }).mul(1)
        return lax.whileLoop(
          (s: JArray) => jnp.sum(s.mul(weights)).lt(15),
          (s: JArray) => s.add(inc),
          init
        )
      })
    const run = () => loop(jnp.array([0, 1], { dtype: "float32" }))
    close(await Backend.withBackend(b, run).data(), onWasm(run).dataSync())
    expect(onWasm(run).tolist()).toEqual([9, 16])
    const [condNumConsts, bodyNumConsts] = onWasm(() => {
      const eqn = makeJaxpr(loop)(jnp.zeros([2])).closed.jaxpr.eqns.find((e) => e.prim === "while")!
      const p = eqn.params as { readonly condNumConsts: number; readonly bodyNumConsts: number }
      return [p.condNumConsts, p.bodyNumConsts]
    })
    expect([condNumConsts, bodyNumConsts]).toEqual([1, 1])
  })

  it("an array captured by a cond nested in a while loop's body", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const run = () =>
      Backend.tidy(() => {
        const bump = jnp.array([5], { dtype: "float32" }).mul(2)
        return lax.whileLoop(
          (s: JArray) => jnp.sum(s).lt(40),
          (s: JArray) =>
            lax.cond(
              jnp.sum(s).gt(15),
              (v: JArray) => v.add(bump),
              (v: JArray) => v.add(3),
              s
            ),
          jnp.array([1], { dtype: "float32" })
        )
      })
    expect(Array.from(await Backend.withBackend(b, run).data())).toEqual(Array.from(onWasm(run).dataSync()))
    expect(onWasm(run).tolist()).toEqual([46])
  })

  it("under jit too", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const f = jit((x: JArray) =>
      lax.whileLoop(
        (s: JArray) => jnp.sum(s).lt(30),
        (s: JArray) => s.mul(2).add(jnp.array([1, 0], { dtype: "float32" })),
        x
      )
    )
    const run = () => Backend.tidy(() => f(jnp.array([1, 1], { dtype: "float32" })))
    expect(Array.from(await Backend.withBackend(b, run).data())).toEqual(Array.from(onWasm(run).dataSync()))
  })
})

describe("while loops the device decides", () => {
  it("keeps a carry passed through unchanged, and its own inputs, across iterations", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const run = () => {
      const fixed = jnp.array([2, 3], { dtype: "float32" }).mul(1)
      return lax.whileLoop(
        (s: readonly [JArray, JArray, JArray]) => s[0].lt(4),
        (s: readonly [JArray, JArray, JArray]) => [s[0].add(1), s[1], s[2].add(s[1])] as const,
        [jnp.array(0), fixed, jnp.zeros([2])] as const
      )
    }
    const [n, kept, acc] = Backend.withBackend(b, run)
    expect(Array.from(await n.data())).toEqual([4])
    expect(Array.from(await kept.data())).toEqual([2, 3])
    expect(Array.from(await acc.data())).toEqual([8, 12])
    const [wn, wk, wa] = onWasm(run)
    expect([wn.tolist(), wk.tolist(), wa.tolist()]).toEqual([4, [2, 3], [8, 12]])
  })

  it("a carry computed in one iteration and passed on unchanged in the next", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const run = () =>
      lax.whileLoop(
        (s: readonly [JArray, JArray, JArray]) => s[0].lt(5),
        (s: readonly [JArray, JArray, JArray]) => [s[0].add(1), s[2], s[1].add(1)] as const,
        [jnp.array(0), jnp.array([1, 2], { dtype: "float32" }), jnp.array([10, 20], { dtype: "float32" })] as const
      )
    const [, a, c] = Backend.withBackend(b, run)
    const [, wa, wc] = onWasm(run)
    expect(Array.from(await a.data())).toEqual(Array.from(wa.dataSync()))
    expect(Array.from(await c.data())).toEqual(Array.from(wc.dataSync()))
  })

  it("a scan inside the body", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const run = () =>
      lax.whileLoop(
        (s: JArray) => jnp.sum(s).lt(50),
        (s: JArray) =>
          lax.scan((c: JArray, x: JArray) => [c.add(x), c] as const, s, jnp.array([1, 2, 3], { dtype: "float32" }))[0],
        jnp.array(1, { dtype: "float32" })
      )
    expect(Array.from(await Backend.withBackend(b, run).data())).toEqual([onWasm(run).tolist()])
  })

  it("a loop that carries its own predicate (the condition returns part of the state)", async () => {
    const b = await fresh({ onKernelError: "fail" })
    const run = () =>
      lax.whileLoop(
        (s: readonly [JArray, JArray]) => s[0],
        (s: readonly [JArray, JArray]) => {
          const i = s[1].add(1)
          return [i.lt(5), i] as const
        },
        [jnp.sum(jnp.ones([2])).gt(0), jnp.array(0)] as const
      )
    const [go, i] = Backend.withBackend(b, run)
    expect(Array.from(await i.data())).toEqual([5])
    expect(Array.from(await go.data())).toEqual([0])
    expect(onWasm(run)[1].tolist()).toEqual(5)
  })
})

describe("scan", () => {
  it("of length zero stacks no rows: empty outputs of the right shape and dtype, the carry unchanged", () => {
    const [carry, ys] = lax.scan(
      (c: JArray, x: JArray) => [c.add(x.sum()), x.mul(2).astype("int32")] as const,
      jnp.array(1.5),
      jnp.zeros([0, 3])
    )
    expect(carry.tolist()).toBe(1.5)
    expect(ys.shape).toEqual([0, 3])
    expect(ys.dtype).toBe("int32")
  })

  it("of length zero whose per-step output is a literal", () => {
    const [carry, ys] = lax.scan(
      (c: JArray, _x: JArray) => [c, jnp.array(4, { dtype: "float32" })] as const,
      jnp.array(2),
      jnp.zeros([0])
    )
    expect(carry.tolist()).toBe(2)
    expect(ys.shape).toEqual([0])
    expect(ys.dtype).toBe("float32")
  })
})
