/**
 * Fused programs compiled by the wasm backend against `evaluateFused`, the reference semantics (the
 * unfused chain of cpu kernels): elementwise chains with literals, several outputs of several dtypes,
 * broadcast and transposed inputs, scalars, reductions over leading, trailing and inner axes fed by
 * elementwise nodes, arrays large enough to split across threads; programs on PRNG keys are refused.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType } from "effect-nnx"
import type { Aval, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import type { FusedNode, FusedProgram } from "../../src/backend/fusion.ts"
import { evaluateFused } from "../../src/backend/fusionReference.ts"
import { kernelBackends, mulberry32, size } from "./support.ts"

const { wasm1, wasm2 } = kernelBackends()

const rnd = mulberry32(7)

const random = (dtype: DType, n: number): HostArray => {
  const out = allocHost(dtype, n)
  for (let i = 0; i < n; i++) {
    const r = rnd()
    out[i] =
      dtype === "float32"
        ? r < 0.03
          ? [NaN, Infinity, -Infinity, -0][i % 4]!
          : (r - 0.5) * 8
        : dtype === "int32"
          ? Math.floor((r - 0.5) * 200)
          : dtype === "uint32"
            ? Math.floor(r * 2 ** 32)
            : r < 0.5
              ? 1
              : 0
  }
  return out
}

const rowMajor = (shape: ReadonlyArray<number>) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1))

/** An input read contiguously, broadcast along `broadcast` axes, or through explicit strides. */
const input = (dtype: DType, shape: ReadonlyArray<number>, strides: ReadonlyArray<number> = rowMajor(shape)) => {
  const n = shape.reduce((m, d, i) => (strides[i] === 0 ? m : m + (d - 1) * strides[i]!), 0) + 1
  return { dtype, strides, size: size(shape) === 0 ? 0 : n }
}

const outAvalsOf = (p: FusedProgram): Array<Aval> => {
  const dtypes = p.nodes.map((n) => (n.kind === "input" ? p.inputs[n.input]!.dtype : n.dtype))
  if (p.outputs.kind === "map")
    return p.outputs.nodes.map((i) => ({ shape: p.shape, dtype: dtypes[i]!, weakType: false }))
  const axes = p.outputs.axes.map((a) => (a < 0 ? a + p.shape.length : a))
  return [{ shape: p.shape.filter((_, i) => !axes.includes(i)), dtype: dtypes[p.outputs.node]!, weakType: false }]
}

const ordered = (x: number): number => {
  const b = new Int32Array(new Float32Array([x]).buffer)[0]!
  return b < 0 ? -0x80000000 - b : b
}

/** Compiles `p` on both wasm backends and compares with the reference; `ulps` for float32 transcendentals. */
const check = (label: string, p: FusedProgram, ulps = 0): void => {
  const data = p.inputs.map((i) => random(i.dtype, i.size))
  const want = evaluateFused(p, data)
  const outAvals = outAvalsOf(p)
  for (const backend of [wasm1, wasm2]) {
    const kernel = backend.compileFused!(p)
    assert.isDefined(kernel, `${label}: not compiled`)
    const before = backend.stats.byPrimitive.get("fused") ?? 0
    const outs = kernel!(
      data.map((d, k) => backend.upload(d, { shape: [d.length], dtype: p.inputs[k]!.dtype, weakType: false })),
      outAvals
    )
    assert.strictEqual(backend.stats.byPrimitive.get("fused"), before + 1)
    outs.forEach((o, k) => {
      const got = backend.download(o, outAvals[k]!)
      const w = want[k]!
      assert.strictEqual(got.length, w.length, label)
      for (let i = 0; i < w.length; i++) {
        const g = got[i]!,
          e = w[i]!
        if (Object.is(g, e) || (Number.isNaN(g) && Number.isNaN(e))) continue
        if (ulps > 0 && w instanceof Float32Array && Math.abs(ordered(g) - ordered(e)) <= ulps) continue
        assert.fail(
          `${label} (${backend.threads} threads): output ${k}, element ${i} is ${g}, the reference gives ${e}`
        )
      }
    })
  }
}

const inp = (i: number, dtype: DType = "float32"): FusedNode => ({ kind: "input", input: i, dtype })
const lit = (value: number, dtype: "float32" | "int32" | "uint32" | "bool" = "float32"): FusedNode => ({
  kind: "literal",
  value,
  dtype
})

describe("wasm fused kernels", () => {
  it("compute tanh(x * 2 + 1) * x as the unfused chain does, on one thread or two", () => {
    for (const shape of [[5, 300], [70001], [3]]) {
      check(
        `tanh chain [${shape}]`,
        {
          shape,
          inputs: [input("float32", shape)],
          nodes: [
            inp(0),
            lit(2),
            { kind: "binary", prim: "mul", args: [0, 1], dtype: "float32" },
            lit(1),
            { kind: "binary", prim: "add", args: [2, 3], dtype: "float32" },
            { kind: "unary", prim: "tanh", arg: 4, dtype: "float32" },
            { kind: "binary", prim: "mul", args: [5, 0], dtype: "float32" }
          ],
          outputs: { kind: "map", nodes: [6] }
        },
        8
      ) // tanh within 6 ulps of the correctly rounded value (see mathf32.ts), the reference's within 1, the product rounding once more
    }
  })

  it("write several outputs of several dtypes from broadcast and transposed inputs", () => {
    const shape = [7, 33]
    check("several outputs", {
      shape,
      inputs: [
        input("float32", shape),
        input("float32", shape, [1, 7]),
        input("float32", [1, 33], [0, 1]),
        input("float32", [], [0, 0])
      ],
      nodes: [
        inp(0),
        inp(1),
        inp(2),
        inp(3),
        { kind: "binary", prim: "mul", args: [0, 1], dtype: "float32" },
        { kind: "binary", prim: "add", args: [4, 2], dtype: "float32" },
        { kind: "binary", prim: "gt", args: [5, 3], dtype: "bool" },
        { kind: "unary", prim: "neg", arg: 5, dtype: "float32" },
        { kind: "select", args: [6, 5, 7], dtype: "float32" },
        { kind: "convert", arg: 8, dtype: "int32" },
        { kind: "round", method: "toNearestEven", arg: 8, dtype: "float32" },
        { kind: "unary", prim: "exp", arg: 0, dtype: "float32" }
      ],
      outputs: { kind: "map", nodes: [5, 6, 9, 10, 8] }
    })
  })

  it("run integer and bool chains with wraparound, division and shifts", () => {
    const shape = [4, 1, 70001]
    check("integer chain", {
      shape,
      inputs: [
        input("int32", shape),
        input("int32", [4, 1, 1], [1, 0, 0]),
        input("uint32", shape),
        input("bool", shape)
      ],
      nodes: [
        inp(0, "int32"),
        inp(1, "int32"),
        inp(2, "uint32"),
        inp(3, "bool"),
        lit(3, "int32"),
        { kind: "binary", prim: "mul", args: [0, 1], dtype: "int32" },
        { kind: "binary", prim: "div", args: [5, 1], dtype: "int32" },
        { kind: "binary", prim: "shift_right_arithmetic", args: [6, 4], dtype: "int32" },
        { kind: "convert", arg: 7, dtype: "uint32" },
        { kind: "binary", prim: "xor", args: [8, 2], dtype: "uint32" },
        { kind: "binary", prim: "lt", args: [9, 2], dtype: "bool" },
        { kind: "binary", prim: "and", args: [10, 3], dtype: "bool" },
        { kind: "unary", prim: "not", arg: 11, dtype: "bool" },
        { kind: "convert", arg: 12, dtype: "float32" }
      ],
      outputs: { kind: "map", nodes: [9, 12, 13, 6] }
    })
  })

  it("reduce elementwise nodes over trailing, leading and inner axes", () => {
    // softmax's denominator: sum(exp(x - max)) over the last axis, the max broadcast from [rows, 1].
    for (const [shape, axes] of [
      [[6, 50], [1]],
      [[6, 50], [0]],
      [[3, 5, 7], [1]],
      [
        [3, 5, 7],
        [0, 2]
      ],
      [[70001], [0]],
      [[2, 3], [-1]]
    ] as const) {
      const m = shape.map((d, i) => (i === shape.length - 1 ? 1 : d))
      check(
        `sum of exp [${shape}] over [${axes}]`,
        {
          shape,
          inputs: [
            input("float32", shape),
            input(
              "float32",
              m,
              rowMajor(m).map((s, i) => (m[i] === 1 ? 0 : s))
            )
          ],
          nodes: [
            inp(0),
            inp(1),
            { kind: "binary", prim: "sub", args: [0, 1], dtype: "float32" },
            { kind: "unary", prim: "exp", arg: 2, dtype: "float32" }
          ],
          outputs: { kind: "reduce", node: 3, prim: "reduce_sum", axes }
        },
        1
      )
      check(`max of |x| [${shape}] over [${axes}]`, {
        shape,
        inputs: [input("float32", shape)],
        nodes: [inp(0), { kind: "unary", prim: "abs", arg: 0, dtype: "float32" }],
        outputs: { kind: "reduce", node: 1, prim: "reduce_max", axes }
      })
      check(`int sum of x * x [${shape}] over [${axes}]`, {
        shape,
        inputs: [input("int32", shape)],
        nodes: [inp(0, "int32"), { kind: "binary", prim: "mul", args: [0, 0], dtype: "int32" }],
        outputs: { kind: "reduce", node: 1, prim: "reduce_sum", axes }
      })
      check(`any of x > 0 [${shape}] over [${axes}]`, {
        shape,
        inputs: [input("float32", shape)],
        nodes: [inp(0), lit(1), { kind: "binary", prim: "gt", args: [0, 1], dtype: "bool" }],
        outputs: { kind: "reduce", node: 2, prim: "reduce_or", axes }
      })
    }
  })

  it("refuses programs on PRNG keys, so they run op by op", () => {
    const program: FusedProgram = {
      shape: [4],
      inputs: [{ dtype: "key<fry>", strides: [1], size: 4 }],
      nodes: [{ kind: "input", input: 0, dtype: "key<fry>" }],
      outputs: { kind: "map", nodes: [0] }
    }
    assert.isUndefined(wasm1.compileFused!(program))
  })
})
