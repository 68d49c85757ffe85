/**
 * Hand-built fused programs with their inputs, shared by the gpujs fused-kernel suite
 * (test/gpujs/fused.test.ts, in Node) and the browser page (WebGL2): every node kind, inputs read
 * contiguously, broadcast, as a scalar and transposed, literals, compare, select, both conversions,
 * the functions written out for GLSL, and reductions short, long (several passes) and of bools.
 */
import type { DType, HostArray } from "../../src/backend/DType.ts"
import type { FusedInput, FusedNode, FusedProgram } from "../../src/backend/fusion.ts"

/** Deterministic values in [lo, hi), so failures reproduce. */
export const values = (n: number, seed: number, lo = -2, hi = 2): Float32Array => {
  let s = seed >>> 0
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return lo + (hi - lo) * (s / 2 ** 32)
  })
}

export const input = (dtype: DType, strides: ReadonlyArray<number>, size: number): FusedInput => ({
  dtype,
  strides,
  size
})

// A [3, 4, 5] space over: x (contiguous), y (one per row of axis 1, broadcast over 0 and 2),
// z (a scalar), w (a [5, 4, 3] array read transposed).
const space = [3, 4, 5] as const
export const x = values(60, 1)
export const y = values(4, 2, 0.5, 1.5)
export const z = Float32Array.of(0.25)
export const w = values(60, 3, -1, 1)
export const chainInputs = [
  input("float32", [20, 5, 1], 60),
  input("float32", [0, 1, 0], 4),
  input("float32", [0, 0, 0], 1),
  input("float32", [1, 3, 12], 60)
]

/** tanh(x·y + 0.5) − exp(w)·z, a value every node kind feeds. */
const chainNodes: ReadonlyArray<FusedNode> = [
  { kind: "input", input: 0, dtype: "float32" },
  { kind: "input", input: 1, dtype: "float32" },
  { kind: "input", input: 2, dtype: "float32" },
  { kind: "input", input: 3, dtype: "float32" },
  { kind: "literal", value: 0.5, dtype: "float32" },
  { kind: "binary", prim: "mul", args: [0, 1], dtype: "float32" },
  { kind: "binary", prim: "add", args: [5, 4], dtype: "float32" },
  { kind: "unary", prim: "tanh", arg: 6, dtype: "float32" },
  { kind: "unary", prim: "exp", arg: 3, dtype: "float32" },
  { kind: "binary", prim: "mul", args: [8, 2], dtype: "float32" },
  { kind: "binary", prim: "sub", args: [7, 9], dtype: "float32" }
]
export const chain: FusedProgram = {
  shape: space,
  inputs: chainInputs,
  nodes: chainNodes,
  outputs: { kind: "map", nodes: [10] }
}

/** Compare, select and both conversions, with a float and a bool output. */
const selecting: FusedProgram = {
  shape: space,
  inputs: chainInputs.slice(0, 2),
  nodes: [
    { kind: "input", input: 0, dtype: "float32" },
    { kind: "input", input: 1, dtype: "float32" },
    { kind: "binary", prim: "gt", args: [0, 1], dtype: "bool" },
    { kind: "unary", prim: "neg", arg: 0, dtype: "float32" },
    { kind: "select", args: [2, 0, 3], dtype: "float32" },
    { kind: "convert", arg: 2, dtype: "float32" },
    { kind: "binary", prim: "add", args: [4, 5], dtype: "float32" },
    { kind: "literal", value: 1, dtype: "float32" },
    { kind: "binary", prim: "sub", args: [0, 7], dtype: "float32" },
    { kind: "convert", arg: 8, dtype: "bool" },
    { kind: "unary", prim: "not", arg: 9, dtype: "bool" },
    { kind: "binary", prim: "or", args: [10, 2], dtype: "bool" }
  ],
  outputs: { kind: "map", nodes: [6, 11] }
}

/**
 * The functions elementwise.ts writes out for GLSL, several with early returns, side by side, on
 * random values, halves (rounding), tiny values (log1p, expm1) and, with `edges`, zeros of both
 * signs and NaN.
 */
const special = (edges: boolean): { readonly program: FusedProgram; readonly inputs: ReadonlyArray<HostArray> } => {
  const a = Float32Array.from([
    ...values(40, 4, -3, 3),
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    1e-7,
    -1e-6,
    ...(edges ? [0, -0, NaN] : [])
  ])
  const u = Float32Array.from([
    ...values(40, 5, -0.99, 0.99),
    0.5,
    -0.5,
    0.9,
    -0.9,
    0.1,
    1e-7,
    -1e-6,
    ...(edges ? [0, -0, NaN] : [])
  ])
  const n = a.length
  const unary = (prim: Extract<FusedNode, { kind: "unary" }>["prim"], arg: number): FusedNode => ({
    kind: "unary",
    prim,
    arg,
    dtype: "float32"
  })
  const binary = (prim: Extract<FusedNode, { kind: "binary" }>["prim"], l: number, r: number): FusedNode => ({
    kind: "binary",
    prim,
    args: [l, r],
    dtype: "float32"
  })
  const nodes: Array<FusedNode> = [
    { kind: "input", input: 0, dtype: "float32" }, // 0: a
    { kind: "input", input: 1, dtype: "float32" }, // 1: u in (-1, 1)
    unary("erf", 0),
    unary("erf_inv", 1),
    unary("log1p", 1),
    unary("expm1", 0),
    unary("tanh", 0),
    unary("sign", 0),
    { kind: "round", method: "toNearestEven", arg: 0, dtype: "float32" },
    { kind: "round", method: "awayFromZero", arg: 0, dtype: "float32" },
    binary("pow", 0, 1),
    binary("atan2", 0, 1),
    binary("max", 0, 1),
    binary("min", 1, 0),
    unary("floor", 1),
    unary("abs", 0)
  ]
  return {
    program: {
      shape: [n],
      inputs: [input("float32", [1], n), input("float32", [1], n)],
      nodes,
      outputs: { kind: "map", nodes: nodes.map((_, k) => k).slice(2) }
    },
    inputs: [a, u]
  }
}

/** sum over axes 0 and 2 of (x − y)², read through the broadcast y. */
const sumOfSquares: FusedProgram = {
  shape: space,
  inputs: chainInputs.slice(0, 2),
  nodes: [
    { kind: "input", input: 0, dtype: "float32" },
    { kind: "input", input: 1, dtype: "float32" },
    { kind: "binary", prim: "sub", args: [0, 1], dtype: "float32" },
    { kind: "binary", prim: "mul", args: [2, 2], dtype: "float32" }
  ],
  outputs: { kind: "reduce", node: 3, prim: "reduce_sum", axes: [0, 2] }
}

/** A reduction longer than one pass (4 · 1024 elements): sum of sin over rows of 10,000. */
const longSum: FusedProgram = {
  shape: [2, 10_000],
  inputs: [input("float32", [10_000, 1], 20_000)],
  nodes: [
    { kind: "input", input: 0, dtype: "float32" },
    { kind: "unary", prim: "sin", arg: 0, dtype: "float32" }
  ],
  outputs: { kind: "reduce", node: 1, prim: "reduce_sum", axes: [-1] }
}

/** max of x·2 over the middle axis, and whether any element of each row of x exceeds y (bool). */
const maxOf: FusedProgram = {
  shape: space,
  inputs: chainInputs.slice(0, 1),
  nodes: [
    { kind: "input", input: 0, dtype: "float32" },
    { kind: "literal", value: 2, dtype: "float32" },
    { kind: "binary", prim: "mul", args: [0, 1], dtype: "float32" }
  ],
  outputs: { kind: "reduce", node: 2, prim: "reduce_max", axes: [1] }
}
const anyAbove: FusedProgram = {
  shape: space,
  inputs: chainInputs.slice(0, 2),
  nodes: [
    { kind: "input", input: 0, dtype: "float32" },
    { kind: "input", input: 1, dtype: "float32" },
    { kind: "binary", prim: "gt", args: [0, 1], dtype: "bool" }
  ],
  outputs: { kind: "reduce", node: 2, prim: "reduce_or", axes: [2] }
}

/** A named program and the host data of its inputs. */
export interface FusedCase {
  readonly name: string
  readonly program: FusedProgram
  readonly inputs: ReadonlyArray<HostArray>
}

const cases = (edges: boolean): ReadonlyArray<FusedCase> => [
  {
    name: "a chain over a contiguous, a broadcast, a scalar and a transposed input with a literal",
    program: chain,
    inputs: [x, y, z, w]
  },
  {
    name: "compare, select and conversions to float32 and to bool, with two outputs",
    program: selecting,
    inputs: [x, y]
  },
  {
    name: `the functions written out for GLSL (erf, erf_inv, log1p, expm1, tanh, pow, round, ...)${edges ? ", with NaN and signed zeros" : ""}`,
    ...special(edges)
  },
  { name: "a sum of squares over two axes of a broadcast difference", program: sumOfSquares, inputs: [x, y] },
  { name: "a sum longer than one reduction pass", program: longSum, inputs: [values(20_000, 6, -10, 10)] },
  { name: "a max over the middle axis of a scaled input", program: maxOf, inputs: [x] },
  { name: "a reduce_or of a comparison (bool)", program: anyAbove, inputs: [x, y] }
]

/** Every case, NaN and signed zeros included: for the modes that compute in IEEE arithmetic (cpu, webasm). */
export const fusedCases: ReadonlyArray<FusedCase> = cases(true)

/**
 * The cases without NaN and signed zeros, for WebGL: GLSL ES 3.00 requires neither (SwiftShader's
 * `exp` of NaN is infinity, its `atan` of two zeros is 0), for single-primitive kernels as for fused
 * ones.
 */
export const webglFusedCases: ReadonlyArray<FusedCase> = cases(false)
