/**
 * The first-order differentiation rules (src/transforms/core/jvpRules.ts, vjpRules.ts) and their
 * shared helpers (jvpRulesCommon.ts), checked where a mutation run (Stryker) found behaviour no other
 * test pins down: cotangents of only some outputs (a two-operand `lax.sort` whose keys are unused),
 * empty shapes (a `lax.slice` with nothing in it, padding or reducing an empty operand, cumulative
 * ops over an empty axis), integer and boolean inputs (their tangents are ignored, they get no
 * cotangent), broadcasting in the binary rules (against explicitly broadcast operands), complex and
 * weakly typed values, and the symbolic zeros (`null`) the rules return for inputs or outputs that
 * need no derivative. Expected values are closed forms, or come from JAX 0.10 where marked.
 */
import { describe, expect, it } from "vitest"
import { jnp, lax, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { jvp, jvpRules, linearize } from "../../src/transforms/core/jvp.ts"
import { grad, vjp, vjpRules } from "../../src/transforms/core/reverse.ts"
import {
  argsort,
  constant,
  full,
  linearRecurrence,
  reduceSum,
  transpose,
  unbroadcast,
  unbroadcastInDim
} from "../../src/transforms/core/jvpRulesCommon.ts"

const f32 = (x: ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>> | number): JArray =>
  jnp.array(x as never, { dtype: "float32" })
const i32 = (x: ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>> | number): JArray =>
  jnp.array(x as never, { dtype: "int32" })

/** `a` has `expected`'s values within a relative tolerance. */
const close = (a: JArray, expected: ReadonlyArray<number> | number, tol = 1e-5): void => {
  const b = typeof expected === "number" ? [expected] : expected
  const x = Array.from(a.dataSync())
  expect(x.length, `size of (${a.shape})`).toBe(b.length)
  x.forEach((v, i) => {
    const w = b[i]!
    expect(Math.abs(v - w), `[${i}]: ${v} vs ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)))
  })
}

const sum = (x: JArray): JArray => jnp.sum(x)

/** Real and imaginary parts, interleaved: `[re0, im0, re1, im1, ...]`. */
const reIm = (z: JArray): Array<number> => {
  const re = Array.from(jnp.real(z).dataSync())
  const im = Array.from(jnp.imag(z).dataSync())
  return re.flatMap((r, i) => [r, im[i]!])
}

describe("integer and boolean inputs: tangents given for them are ignored", () => {
  it("an integer converted to float32 has a zero tangent, as JAX's float0 tangent gives", () => {
    const [y, t] = jvp((n: JArray) => n.astype("float32"), [i32([1, 2])], [i32([5, 7])])
    close(y, [1, 2])
    expect(t.dtype).toBe("float32")
    close(t, [0, 0])
    const [, tb] = jvp(
      (b: JArray) => jnp.multiply(b.astype("float32"), 3),
      [jnp.array([true, false])],
      [jnp.array([true, true])]
    )
    close(tb, [0, 0])
  })

  it("a float and an integer operand: only the float one's tangent counts", () => {
    const f = (x: JArray, n: JArray) => jnp.multiply(x, n.astype("float32"))
    const [, t] = jvp(f, [f32([1, 2]), i32([3, 4])], [f32([1, 1]), i32([10, 10])])
    close(t, [3, 4])
  })

  it("the rules give symbolic zeros (null) when only integer operands have tangents", () => {
    const n = i32([1, 2])
    const [outs, ts] = jvpRules().mul([n, n], [n, n], {})
    close(outs[0]!, [1, 4])
    expect(ts).toHaveLength(1)
    expect(ts[0]).toBe(null)
    const [sorted, sts] = jvpRules().sort([i32([2, 1]), i32([5, 6])], [n, n], { dimension: 0, numKeys: 1 })
    close(sorted[0]!, [1, 2])
    close(sorted[1]!, [6, 5])
    expect(sts).toEqual([null, null])
    expect(sts.every((t) => t === null)).toBe(true)
  })

  it("sort with integer keys and integer tangents only", () => {
    const [ys, ts] = jvp((k: JArray) => lax.sort([k]), [i32([3, 1, 2])], [i32([1, 1, 1])])
    expect(ys).toHaveLength(1)
    close(ys[0]!, [1, 2, 3])
    close(ts[0]!, [0, 0, 0])
  })

  it("sort with float keys and an integer payload: the payload's tangent is zero", () => {
    const f = (k: JArray, n: JArray) => lax.sort([k, n])
    const [ys, ts] = jvp(f, [f32([3, 1, 2]), i32([30, 10, 20])], [f32([0.3, 0.1, 0.2]), i32([7, 8, 9])])
    expect(ys).toHaveLength(2)
    expect(ts).toHaveLength(2)
    close(ys[1]!, [10, 20, 30])
    close(ts[0]!, [0.1, 0.2, 0.3])
    expect(ts[1]!.dtype).toBe("int32")
    close(ts[1]!, [0, 0, 0])
  })

  it("the VJP rules give null for integer operands and for operands that need no cotangent", () => {
    const n = i32([1, 2])
    expect(vjpRules().add([n, n], [n], [f32([1, 1])], {}, [true, true])).toEqual([null, null])
    const x = f32([1, 2])
    const y = f32([3, 4])
    const r = vjpRules().mul([x, y], [jnp.multiply(x, y)], [f32([1, 1])], {}, [true, false])
    close(r[0]!, [3, 4])
    expect(r[1]).toBe(null)
    // pad's operand cotangent is computed unconditionally inside the rule: the wrapper drops it
    const config = [[1, 1, 0]] as const
    const p = vjpRules().pad([x, f32(0)], [lax.pad(x, f32(0), config)], [f32([1, 2, 3, 4])], { config }, [false, true])
    expect(p[0]).toBe(null)
    close(p[1]!, 5)
  })

  it("the VJP rules give null without a nonzero output cotangent or an input that needs one", () => {
    const x = f32([0.5, 1])
    const y = jnp.sin(x)
    const none = vjpRules().sin([x], [y], [null], {}, [true])
    expect(none).toHaveLength(1)
    expect(none[0]).toBe(null)
    const unneeded = vjpRules().sin([x], [y], [f32([1, 1])], {}, [false])
    expect(unneeded[0]).toBe(null)
    const zero = vjpRules().sign([x], [jnp.sign(x)], [f32([1, 1])], {}, [true])
    expect(zero).toHaveLength(1)
    expect(zero[0]).toBe(null)
  })
})

describe("sort: cotangents of only some outputs", () => {
  const k = f32([3, 1, 2])
  const v = f32([30, 10, 20])
  const w = f32([1, 2, 3])

  it("only the payload is used: the keys get zero, the payload its weights unsorted (JAX 0.10)", () => {
    const f = (k: JArray, v: JArray) => sum(jnp.multiply(lax.sort([k, v])[1]!, w))
    const [gk, gv] = grad(f, { argnums: [0, 1] })(k, v)
    close(gk, [0, 0, 0])
    close(gv, [3, 1, 2])
    // jax.jvp(f, (k, v), (ones(3), [1., 2., 3.]))[1] == 11.
    close(jvp(f, [k, v], [f32([1, 1, 1]), f32([1, 2, 3])])[1], 11)
  })

  it("the VJP rule returns null for outputs without a cotangent and inputs that need none", () => {
    const outs = lax.sort([k, v])
    const params = { dimension: 0, numKeys: 1 }
    const r = vjpRules().sort([k, v], outs, [null, w], params, [true, true])
    expect(r[0]).toBe(null)
    close(r[1]!, [3, 1, 2])
    const r2 = vjpRules().sort([k, v], outs, [w, w], params, [false, true])
    expect(r2[0]).toBe(null)
    close(r2[1]!, [3, 1, 2])
  })

  it("the JVP rule returns one tangent per operand, not the permutation it sorts along", () => {
    const [outs, ts] = jvpRules().sort([k, v], [w, null], { dimension: -1, numKeys: 1 })
    expect(outs).toHaveLength(2)
    expect(ts).toHaveLength(2)
    close(outs[0]!, [1, 2, 3])
    close(ts[0]!, [2, 3, 1])
    expect(ts[1]).toBe(null)
  })

  it("an out-of-range dimension under jvp is reported by sort", () => {
    let caught: unknown
    try {
      jvp((x: JArray) => lax.sort([x], 2), [k], [w])
    } catch (e) {
      caught = e
    }
    expect((caught as { op?: string } | undefined)?.op).toBe("sort")
  })
})

describe("empty shapes", () => {
  it("an empty slice: zero cotangent of the operand's shape, with or without strides (JAX 0.10)", () => {
    const x = jnp.arange(5).astype("float32")
    for (const strides of [[1], [2], [3]]) {
      const g = grad((x: JArray) => sum(lax.slice(x, [2], [2], strides)))(x)
      expect(g.shape).toEqual([5])
      close(g, [0, 0, 0, 0, 0])
    }
    // empty on one axis of two, strided on the other
    const x2 = jnp.reshape(jnp.arange(12).astype("float32"), [3, 4])
    const g2 = grad((x: JArray) => sum(lax.slice(x, [1, 1], [3, 1], [1, 2])))(x2)
    expect(g2.shape).toEqual([3, 4])
    close(g2, new Array<number>(12).fill(0))
    const [y, t] = jvp((x: JArray) => lax.slice(x, [2], [2], [2]), [x], [jnp.ones([5])])
    expect(y.shape).toEqual([0])
    expect(t.shape).toEqual([0])
  })

  it("pad of an empty operand with interior padding: the value gets every position (JAX 0.10)", () => {
    const f = (x: JArray, v: JArray) => sum(jnp.multiply(lax.pad(x, v, [[1, 2, 1]]), f32([1, 2, 3])))
    const [gx, gv] = grad(f, { argnums: [0, 1] })(jnp.zeros([0]), f32(0))
    expect(gx.shape).toEqual([0])
    close(gv, 6)
    const g2 = grad((x: JArray) =>
      sum(
        lax.pad(x, f32(1), [
          [0, 1, 2],
          [1, 0, 0]
        ])
      )
    )(jnp.zeros([0, 2]))
    expect(g2.shape).toEqual([0, 2])
  })

  it("reduce_prod over an empty axis: ones, with zero tangent and an empty cotangent (JAX 0.10)", () => {
    const x = jnp.zeros([0, 3])
    const [y, t] = jvp((x: JArray) => lax.reduceProd(x, [0]), [x], [jnp.zeros([0, 3])])
    close(y, [1, 1, 1])
    expect(t.shape).toEqual([3])
    close(t, [0, 0, 0])
    const g = grad((x: JArray) => sum(lax.reduceProd(x, [0])))(x)
    expect(g.shape).toEqual([0, 3])
  })
})

describe("inexact conversions and complex numbers", () => {
  it("float32 to complex64 carries the tangent as its real part (JAX 0.10)", () => {
    const [y, t] = jvp((x: JArray) => lax.convertElementType(x, "complex64"), [f32([1, 2])], [f32([5, 6])])
    expect(y.dtype).toBe("complex64")
    expect(t.dtype).toBe("complex64")
    expect(reIm(t)).toEqual([5, 0, 6, 0])
  })

  it("converting a weakly typed float32 to a strong one: the cotangent is weak again", () => {
    const x = jnp.array(1.5)
    expect(x.weakType).toBe(true)
    const [y, back] = vjp((x: JArray) => lax.convertElementType(x, "float32", false), x)
    expect(y.weakType).toBe(false)
    const [g] = back(f32(2))
    expect(g.dtype).toBe("float32")
    expect(g.weakType).toBe(true)
    close(g, 2)
  })

  it("lax.complex: tangents of either part, or both (JAX 0.10)", () => {
    const x = f32([1, 2])
    const y = f32([3, 4])
    const c = (x: JArray, y: JArray) => lax.complex(x, y)
    expect(reIm(jvp(c, [x, y], [f32([5, 6]), f32([7, 8])])[1])).toEqual([5, 7, 6, 8])
    expect(reIm(jvp((x: JArray) => c(x, y), [x], [f32([5, 6])])[1])).toEqual([5, 0, 6, 0])
    expect(reIm(jvp((y: JArray) => c(x, y), [y], [f32([7, 8])])[1])).toEqual([0, 7, 0, 8])
    // size-1 dimensions broadcast: the tangent has the output's shape
    const [z, t] = jvp((y: JArray) => c(f32([[1, 2]]), y), [f32([[3], [4]])], [f32([[1], [2]])])
    expect(z.shape).toEqual([2, 2])
    expect(reIm(t)).toEqual([0, 1, 0, 1, 0, 2, 0, 2])
  })

  it("eigenvalues of a triangular matrix: dλ = diag(V⁻¹ dA V) (JAX 0.10: [-2, 7])", () => {
    const a = f32([
      [1, 2],
      [0, 3]
    ])
    const da = f32([
      [1, 2],
      [3, 4]
    ])
    const [w, dw] = jvp((m: JArray) => jnp.linalg.eigvals(m), [a], [da])
    close(jnp.real(w), [1, 3])
    close(jnp.real(dw), [-2, 7], 1e-4)
    close(jnp.imag(dw), [0, 0], 1e-4)
  })

  it("eig's VJP rule gives null when its operand needs no cotangent", () => {
    const a = f32([
      [1, 2],
      [0, 3]
    ])
    const outs = [jnp.linalg.eigvals(a)]
    const ct = jnp.ones([2], { dtype: "complex64" })
    expect(vjpRules().eig([a], outs, [ct], { vectors: false }, [false])).toEqual([null])
    const [g] = vjpRules().eig([a], outs, [ct], { vectors: false }, [true])
    expect(g!.shape).toEqual([2, 2])
  })
})

describe("broadcasting in the binary rules", () => {
  // Operands [3, 1] and [1, 4]: both stretch. The oracle broadcasts them first with
  // jnp.broadcastTo (broadcast_in_dim, whose rules are separate) and applies the primitive to
  // equal shapes.
  const x = f32([[0.7], [1.3], [2.1]])
  const y = f32([[0.4, 0.9, 1.6, 2.5]])
  const w = jnp.reshape(jnp.cos(jnp.arange(12).astype("float32")), [3, 4])
  const prims: ReadonlyArray<readonly [string, (a: JArray, b: JArray) => JArray]> = [
    ["add", lax.add],
    ["sub", lax.sub],
    ["mul", lax.mul],
    ["div", lax.div],
    ["pow", lax.pow],
    ["max", lax.max],
    ["min", lax.min],
    ["atan2", lax.atan2],
    ["rem", lax.rem]
  ]
  const stretch = (a: JArray): JArray => jnp.broadcastTo(a, [3, 4])

  for (const [name, op] of prims) {
    it(`${name}: gradients and tangents match those of explicitly broadcast operands`, () => {
      const implicit = (a: JArray, b: JArray) => sum(jnp.multiply(op(a, b), w))
      const explicit = (a: JArray, b: JArray) => sum(jnp.multiply(op(stretch(a), stretch(b)), w))
      const [gx, gy] = grad(implicit, { argnums: [0, 1] })(x, y)
      const [ex, ey] = grad(explicit, { argnums: [0, 1] })(x, y)
      expect(gx.shape).toEqual([3, 1])
      expect(gy.shape).toEqual([1, 4])
      close(gx, Array.from(ex.dataSync()), 1e-4)
      close(gy, Array.from(ey.dataSync()), 1e-4)
      const tx = f32([[1], [-2], [0.5]])
      const ty = f32([[0.3, -1, 2, 0.25]])
      const cases: ReadonlyArray<readonly [string, [JArray, JArray]]> = [
        ["both", [tx, ty]],
        ["x", [tx, jnp.zeros([1, 4])]],
        ["y", [jnp.zeros([3, 1]), ty]]
      ]
      for (const [which, tangents] of cases) {
        const [, t] = jvp((a: JArray, b: JArray) => op(a, b), [x, y], tangents)
        const [, e] = jvp((a: JArray, b: JArray) => op(stretch(a), stretch(b)), [x, y], tangents)
        expect(t.shape, which).toEqual([3, 4])
        close(t, Array.from(e.dataSync()), 1e-4)
      }
      // only one operand differentiated: the other is a constant of the trace
      const [, tOnly] = jvp((a: JArray) => op(a, y), [x], [tx])
      expect(tOnly.shape).toEqual([3, 4])
      close(tOnly, Array.from(jvp((a: JArray) => op(stretch(a), stretch(y)), [x], [tx])[1].dataSync()), 1e-4)
    })
  }

  it("linearize stages the same broadcast tangent", () => {
    const [y0, lin] = linearize((a: JArray) => lax.mul(a, y), x)
    expect(y0.shape).toEqual([3, 4])
    const t = lin(f32([[1], [2], [3]]))
    expect(t.shape).toEqual([3, 4])
    close(t, [0.4, 0.9, 1.6, 2.5, 0.8, 1.8, 3.2, 5, 1.2, 2.7, 4.8, 7.5])
  })
})

describe("the helpers shared by the rules (jvpRulesCommon.ts)", () => {
  it("rem's derivative in the divisor truncates the quotient toward zero (JAX 0.10)", () => {
    // jax.grad(lambda y: lax.rem(-7., y))(2.) == 3.; jax.grad(lambda y: lax.rem(7., y))(-2.) == 3.
    close(grad((y: JArray) => lax.rem(f32(-7), y))(f32(2)), 3)
    close(grad((y: JArray) => lax.rem(f32(7), y))(f32(-2)), 3)
    close(grad((x: JArray) => lax.rem(x, f32(2)))(f32(-7)), 1)
    close(jvp((y: JArray) => lax.rem(f32(-7), y), [f32(2)], [f32(1)])[1], 3)
  })

  it("tangents of weakly typed scalars stay weak, as in JAX", () => {
    // jax.jvp(jnp.tanh, (0.5,), (1.0,)) gives weak_type=True values
    const x = jnp.array(0.5)
    const t = jnp.array(0.75)
    expect(x.weakType).toBe(true)
    for (const f of [jnp.tanh, jnp.exp, jnp.sqrt, jnp.log1p, jnp.expm1, nn.sigmoid, jnp.sin, jnp.cos]) {
      const [y, dy] = jvp(f, [x], [t])
      expect(y.weakType).toBe(true)
      expect(dy.weakType, f.name).toBe(true)
    }
  })

  it("cumulative ops over an empty axis have empty tangents and cotangents (JAX 0.10)", () => {
    const x = jnp.zeros([0])
    const ops: ReadonlyArray<(x: JArray) => JArray> = [
      (x) => lax.cummax(x, 0),
      (x) => lax.cummin(x, 0, true),
      (x) => lax.cumprod(x, 0),
      (x) => lax.cumprod(x, 0, true),
      (x) => lax.cumsum(x, 0)
    ]
    for (const op of ops) {
      expect(grad((x: JArray) => sum(op(x)))(x).shape).toEqual([0])
      expect(jvp(op, [x], [x])[1].shape).toEqual([0])
    }
  })

  it("gather in fill mode with uint32 indices: out-of-bounds rows get zero (JAX 0.10)", () => {
    const params = { indexedAxes: [0], batchDims: 0, mode: "fill" } as const
    const idx = jnp.array([[1], [5], [0]], { dtype: "uint32" })
    const x = f32([10, 20, 30])
    const [y, t] = jvp((x: JArray) => lax.gather(x, idx, params), [x], [f32([1, 2, 3])])
    expect(Number.isNaN(y.dataSync()[1])).toBe(true)
    close(t, [2, 0, 1])
    const [, back] = vjp((x: JArray) => lax.gather(x, idx, params), x)
    close(back(f32([1, 2, 3]))[0], [3, 1, 0])
  })
})

describe("constants and small helpers of jvpRulesCommon.ts", () => {
  it("constant: rank-many size-1 dimensions, the dtype asked for (float32 by default), weak only if inexact", () => {
    const f = constant(2, 2)
    expect([f.shape, f.dtype, f.weakType]).toEqual([[1, 1], "float32", true])
    expect(Array.from(f.dataSync())).toEqual([2])
    const c = constant(3, 1, "complex64")
    expect([c.shape, c.dtype, c.weakType]).toEqual([[1], "complex64", true])
    expect(reIm(c)).toEqual([3, 0])
    const n = constant(-1, 1, "int32")
    expect([n.dtype, n.weakType]).toEqual(["int32", false])
    expect(Array.from(n.dataSync())).toEqual([-1])
    const u = constant(7, 0, "uint32")
    expect([u.shape, u.dtype, u.weakType]).toEqual([[], "uint32", false])
    expect(Array.from(u.dataSync())).toEqual([7])
    const b = constant(1, 1, "bool")
    expect([b.dtype, b.weakType]).toEqual(["bool", false])
    expect(b.tolist()).toEqual([true])
  })

  it("full: float32 by default, any dtype", () => {
    const f = full([2, 2], 1.5)
    expect([f.shape, f.dtype]).toEqual([[2, 2], "float32"])
    expect(Array.from(f.dataSync())).toEqual([1.5, 1.5, 1.5, 1.5])
    expect(Array.from(full([3], -1, "int32").dataSync())).toEqual([-1, -1, -1])
  })

  it("argsort is stable: ties keep their order", () => {
    expect(argsort([2, 0, 2, 1, 0])).toEqual([1, 4, 3, 0, 2])
  })

  it("the tangent of a maximum is strongly typed, as in JAX, even for a weak input", () => {
    // jax.jvp(jnp.max, (0.5,), (1.0,)) gives a tangent with weak_type=False
    const [, t] = jvp((x: JArray) => lax.reduceMax(x, []), [jnp.array(0.5)], [jnp.array(0.75)])
    expect(t.weakType).toBe(false)
    close(t, 0.75)
  })

  it("scatter with batched index rows (indices [2, 2, 1]): the last write in row-major order wins", () => {
    const idx = jnp.reshape(i32([1, 1, 3, 0]), [2, 2, 1])
    const params = { indexedAxes: [0], batchDims: 0, mode: "clip" } as const
    const u = f32([
      [10, 20],
      [30, 40]
    ])
    const [y, back] = vjp((u: JArray) => lax.scatter(jnp.zeros([4]), idx, u, params), u)
    close(y, [40, 20, 0, 30])
    // (0, 0) is overwritten by (0, 1) at position 1
    close(back(f32([1, 2, 3, 4]))[0], [0, 2, 4, 1])
  })
})

describe("helpers that bind nothing when there is nothing to do, and reordered reductions", () => {
  it("an identity transpose, a sum over no axes and an unbroadcast to the same shape return their input", () => {
    const x = f32([[1, 2, 3]])
    expect(transpose(x, [0, 1])).toBe(x)
    expect(reduceSum(x, [])).toBe(x)
    // size-1 dimensions that were not stretched are not summed
    expect(unbroadcast(x, [1, 3])).toBe(x)
    expect(unbroadcastInDim(x, [1, 3], [0, 1])).toBe(x)
    const t = transpose(x, [1, 0])
    expect(t.shape).toEqual([3, 1])
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3])
  })

  it("convert_element_type's VJP rule returns the cotangent itself when dtype and weak type match", () => {
    const x = f32([1, 2])
    const ct = f32([3, 4])
    const params = { newDtype: "float32", weakType: false } as const
    const [back] = vjpRules().convert_element_type([x], [x], [ct], params, [true])
    expect(back).toBe(ct)
  })

  it("linearRecurrence: h[i] = a[i] h[i-1] + b[i], forward and reversed, over more steps than one doubling", () => {
    const a = f32([2, 3, 4, 5, 6])
    const b = f32([1, 1, 1, 1, 1])
    close(linearRecurrence(a, b, 0, false), [1, 4, 17, 86, 517])
    // reversed: h[i] = a[i] h[i+1] + b[i], from the end
    close(linearRecurrence(a, b, 0, true), [153, 76, 25, 6, 1])
  })

  it("reduce_prod over axes given out of order: tangent and cotangent are the products of the others", () => {
    const x = jnp.reshape(f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [2, 3, 2])
    const values = Array.from(x.dataSync())
    // out[j] = product of x[i, j, k] over i and k
    const prods = [0, 1, 2].map((j) => [0, 1].flatMap((i) => [0, 1].map((k) => values[i * 6 + j * 2 + k]!)))
    const p = prods.map((xs) => xs.reduce((u, v) => u * v, 1))
    const [y, t] = jvp((x: JArray) => lax.reduceProd(x, [2, 0]), [x], [jnp.ones([2, 3, 2])])
    close(y, p)
    close(
      t,
      prods.map((xs, j) => xs.reduce((u, v) => u + p[j]! / v, 0))
    )
    const g = grad((x: JArray) => sum(lax.reduceProd(x, [2, 0])))(x)
    close(
      g,
      values.map((v, n) => p[Math.floor(n / 2) % 3]! / v)
    )
  })
})
