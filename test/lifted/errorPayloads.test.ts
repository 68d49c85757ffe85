/** Errors carry what failed as data, besides the message: a caller can read which path and prefix. */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"

class W extends nnx.Module {
  param = new nnx.Param(jnp.ones([3]))
}

describe("structured error payloads", () => {
  it("AliasingError lists each aliased node with every path and prefix it was reached at", () => {
    const w = new W()
    const f = nnx.vmap((a: W, b: W) => a.param.value.add(b.param.value), { inAxes: [0, null] })
    let caught: unknown
    try {
      f.sync(w, w)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(nnx.AliasingError)
    const e = caught as nnx.AliasingError
    expect(e.nodes).toEqual([
      {
        node: "Param",
        seen: [
          { path: "param", prefix: "0" },
          { path: "param", prefix: "null" }
        ]
      }
    ])
    expect(e.message).toContain("Node: Param\n  param: 0\n  param: null")
  })

  it("LiftTypeError names the option, the path and the argument", () => {
    const f = nnx.vmap((m: W, x: jnp.Array) => x.mul(m.param.value), {
      inAxes: [0, new nnx.StateAxes([[nnx.Param, 0]]) as never]
    })
    let caught: unknown
    try {
      f.sync(new W(), jnp.ones([2, 3]))
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(nnx.LiftTypeError)
    const e = caught as nnx.LiftTypeError
    expect([e.transform, e.what, e.path, e.argument]).toEqual(["nnx.vmap", "inAxes", "args[1]", 1])
  })

  it("MergeError and UpdateError carry the path", () => {
    const [g] = nnx.split(new W())
    let merge: unknown
    try {
      nnx.merge(g, { other: jnp.ones([3]) })
    } catch (e) {
      merge = e
    }
    expect(merge).toBeInstanceOf(nnx.MergeError)
    expect((merge as nnx.MergeError).path).toEqual(["param"])
    let update: unknown
    try {
      nnx.update(new W(), { param: { deeper: jnp.ones([1]) } })
    } catch (e) {
      update = e
    }
    expect(update).toBeInstanceOf(nnx.UpdateError)
    expect((update as nnx.UpdateError).path).toEqual(["param"])
  })
})
