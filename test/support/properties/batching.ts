/**
 * The cases and generators of the batching property (test/transforms/batchingProperties.test.ts),
 * shared with its webgpu run (test/webgpu/properties.test.ts): per first-order primitive, small
 * functions with the shapes and kinds of their operands; operands drawn from a seed; a batch axis
 * inserted into an operand or sliced out of it; and the random sizes, batch and axes of one run.
 */
import { fc } from "@fast-check/vitest"
import { jnp, lax, random } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { bind1 } from "../../../src/backend/bind.ts"
import type { FirstOrderPrimitive } from "../../../src/backend/Primitive.ts"
import { vmap } from "../../../src/transforms/core/batching.ts"

// ---------------------------------------------------------------------------------------------
// Random operands

/** How an operand's values are drawn. */
export type Kind =
  | "f32"
  | "pos"
  | "unit"
  | "i32"
  | "nonzero"
  | "bool"
  | "u32"
  | "shift"
  | "ishift"
  | { readonly lo: number; readonly hi: number; readonly dtype?: "int32" | "uint32" }

/** One operand of a case: its per-example shape, and how its values are drawn. */
interface ArgSpec {
  readonly shape: ReadonlyArray<number>
  readonly kind: Kind
}

/** What a case's function gives: one array or several. */
export type Out = JArray | ReadonlyArray<JArray>

/** A function exercising a primitive, with the operands it takes. */
export interface Case {
  /** Per-example operands, from four random sizes in 1..3. */
  readonly args: (d: readonly [number, number, number, number]) => ReadonlyArray<ArgSpec>
  readonly f: (...xs: ReadonlyArray<JArray>) => Out
}

/** A deterministic source of numbers uniform in [0, 1) (mulberry32). */
export const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** An operand of `shape`, its values of `kind` drawn from `rnd`. */
export const make = (shape: ReadonlyArray<number>, kind: Kind, rnd: () => number): JArray => {
  const n = shape.reduce((a, b) => a * b, 1)
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1))
  const fill = <T extends Float32Array | Int32Array | Uint32Array | Uint8Array>(data: T, g: () => number): T => {
    for (let i = 0; i < n; i++) data[i] = g()
    return data
  }
  if (typeof kind === "object") {
    const dtype = kind.dtype ?? "int32"
    const data = dtype === "int32" ? new Int32Array(n) : new Uint32Array(n)
    return jnp.fromHost(
      fill(data, () => int(kind.lo, kind.hi)),
      shape,
      dtype
    )
  }
  switch (kind) {
    case "f32":
      return jnp.fromHost(
        fill(new Float32Array(n), () => rnd() * 4 - 2),
        shape,
        "float32"
      )
    case "pos":
      return jnp.fromHost(
        fill(new Float32Array(n), () => 0.1 + rnd() * 2.9),
        shape,
        "float32"
      )
    case "unit":
      return jnp.fromHost(
        fill(new Float32Array(n), () => rnd() * 1.8 - 0.9),
        shape,
        "float32"
      )
    case "i32":
      return jnp.fromHost(
        fill(new Int32Array(n), () => int(-5, 5)),
        shape,
        "int32"
      )
    case "nonzero":
      return jnp.fromHost(
        fill(new Int32Array(n), () => (rnd() < 0.5 ? -1 : 1) * int(1, 5)),
        shape,
        "int32"
      )
    case "bool":
      return jnp.fromHost(
        fill(new Uint8Array(n), () => (rnd() < 0.5 ? 1 : 0)),
        shape,
        "bool"
      )
    case "u32":
      return jnp.fromHost(
        fill(new Uint32Array(n), () => Math.floor(rnd() * 4294967296)),
        shape,
        "uint32"
      )
    case "shift":
      return jnp.fromHost(
        fill(new Uint32Array(n), () => int(0, 31)),
        shape,
        "uint32"
      )
    case "ishift":
      return jnp.fromHost(
        fill(new Int32Array(n), () => int(0, 31)),
        shape,
        "int32"
      )
  }
}

// ---------------------------------------------------------------------------------------------
// One small function per primitive (the table is total over the first-order primitives)

const f32 = (...shape: ReadonlyArray<number>): ArgSpec => ({ shape, kind: "f32" })
const spec = (kind: Kind, ...shape: ReadonlyArray<number>): ArgSpec => ({ shape, kind })
const un = (g: (x: JArray) => JArray, kind: Kind = "f32"): Case => ({
  args: ([a, b]) => [spec(kind, a, b)],
  f: (x) => g(x!)
})
const bin = (g: (x: JArray, y: JArray) => JArray, kx: Kind = "f32", ky: Kind = kx): Case => ({
  args: ([a, b]) => [spec(kx, a, b), spec(ky, 1, b)],
  f: (x, y) => g(x!, y!)
})
const idx = (lo: number, hi: number, dtype: "int32" | "uint32" = "int32"): Kind => ({ lo, hi, dtype })

/** The cases, by primitive. */
export const cases: { readonly [P in FirstOrderPrimitive]: ReadonlyArray<Case> } = {
  neg: [un(lax.neg), un(lax.neg, "i32")],
  exp: [un(lax.exp)],
  log: [un(lax.log, "pos")],
  sin: [un(lax.sin)],
  cos: [un(lax.cos)],
  tanh: [un(lax.tanh), un(jnp.tanh)],
  logistic: [un(lax.logistic)],
  sqrt: [un(lax.sqrt, "pos")],
  rsqrt: [un(lax.rsqrt, "pos")],
  abs: [un(lax.abs), un(lax.abs, "i32")],
  sign: [un(lax.sign)],
  floor: [un(lax.floor)],
  ceil: [un(lax.ceil)],
  erf: [un(lax.erf)],
  erf_inv: [un(lax.erfInv, "unit")],
  log1p: [un(lax.log1p, "pos")],
  expm1: [un(lax.expm1)],
  not: [un(lax.not, "bool"), un(lax.not, "i32")],
  is_finite: [un((x) => lax.isFinite(lax.log(x)))],
  round: [
    un((x) => lax.round(lax.mul(x, jnp.fromScalar(2.5, "float32").reshape([1, 1])))),
    un((x) => lax.round(x, "toNearestEven"))
  ],
  add: [bin(lax.add), { args: ([a, b]) => [f32(a, b), f32(b)], f: (x, y) => jnp.add(x!, y!) }],
  sub: [bin(lax.sub), bin(lax.sub, "i32")],
  mul: [bin(lax.mul)],
  div: [bin(lax.div, "f32", "pos"), bin(lax.div, "i32", "nonzero")],
  rem: [bin(lax.rem, "i32", "nonzero"), bin(lax.rem, "f32", "pos")],
  pow: [bin(lax.pow, "pos", "f32")],
  max: [bin(lax.max)],
  min: [bin(lax.min), bin(lax.min, "bool")],
  and: [bin(lax.bitwiseAnd, "i32"), bin(lax.bitwiseAnd, "bool")],
  or: [bin(lax.bitwiseOr, "i32")],
  xor: [bin(lax.bitwiseXor, "bool")],
  shift_left: [bin(lax.shiftLeft, "u32", "shift")],
  shift_right_logical: [bin(lax.shiftRightLogical, "u32", "shift")],
  shift_right_arithmetic: [bin(lax.shiftRightArithmetic, "i32", "ishift")],
  nextafter: [bin(lax.nextafter)],
  atan2: [bin(lax.atan2)],
  eq: [bin(lax.eq, "i32")],
  ne: [bin(lax.ne, "i32")],
  lt: [bin(lax.lt)],
  le: [bin(lax.le, "i32")],
  gt: [bin(lax.gt)],
  ge: [{ args: ([a, b, c]) => [f32(a, b, c), f32(c)], f: (x, y) => jnp.greaterEqual(x!, y!) }],
  reduce_sum: [
    { args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.reduceSum(x!, [0, 2]) },
    { args: ([a, b]) => [f32(a, b)], f: (x) => lax.reduceSum(x!, [-1]) }
  ],
  reduce_max: [{ args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.reduceMax(x!, [1]) }],
  reduce_min: [{ args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.reduceMin(x!, [0, 1, 2]) }],
  reduce_prod: [{ args: ([a, b, c]) => [spec("i32", a, b, c)], f: (x) => lax.reduceProd(x!, [2, 0]) }],
  reduce_and: [{ args: ([a, b]) => [spec("bool", a, b)], f: (x) => jnp.all(x!, 0) }],
  reduce_or: [{ args: ([a, b]) => [spec("bool", a, b)], f: (x) => lax.reduceOr(x!, [1]) }],
  cumsum: [{ args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.cumsum(x!, 1) }],
  cumprod: [{ args: ([a, b]) => [spec("i32", a, b)], f: (x) => lax.cumprod(x!, -1, true) }],
  cummax: [{ args: ([a, b]) => [f32(a, b)], f: (x) => lax.cummax(x!, 0) }],
  cummin: [{ args: ([a, b]) => [f32(a, b)], f: (x) => lax.cummin(x!, 1, true) }],
  select: [
    { args: ([a, b]) => [spec("bool", a, b), f32(a, b), f32(1, b)], f: (p, x, y) => lax.select(p!, x!, y!) },
    { args: ([a, b]) => [spec("bool", a, 1), f32(a, b), f32(a, b)], f: (p, x, y) => lax.select(p!, x!, y!) }
  ],
  convert_element_type: [
    un((x) => lax.convertElementType(x, "int32")),
    un((x) => lax.convertElementType(x, "float32"), "bool")
  ],
  bitcast_convert_type: [
    un((x) => lax.bitcastConvertType(x, "uint32")),
    un((x) => lax.bitcastConvertType(x, "float32"), "i32")
  ],
  broadcast_in_dim: [
    { args: ([a]) => [f32(a, 1)], f: (x) => lax.broadcastInDim(x!, [x!.shape[0]!, 3, 2], [0, 2]) },
    { args: ([a, b]) => [f32(a, b)], f: (x) => lax.broadcastInDim(x!, [2, x!.shape[0]!, 3, x!.shape[1]!], [1, 3]) },
    { args: () => [f32()], f: (x) => lax.broadcastInDim(x!, [2, 3], []) }
  ],
  reshape: [
    { args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.reshape(x!, [x!.shape[0]! * x!.shape[1]!, x!.shape[2]!]) },
    { args: ([a, b, c]) => [f32(a, b, c)], f: (x) => jnp.reshape(x!, [-1]) }
  ],
  transpose: [
    { args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.transpose(x!, [2, 0, 1]) },
    { args: ([a, b]) => [f32(a, b)], f: (x) => x!.T }
  ],
  squeeze: [
    { args: ([a, b]) => [f32(a, 1, b)], f: (x) => lax.squeeze(x!, [1]) },
    { args: ([a]) => [f32(1, a, 1)], f: (x) => lax.squeeze(x!, [-1, 0]) }
  ],
  expand_dims: [
    { args: ([a, b]) => [f32(a, b)], f: (x) => lax.expandDims(x!, [0, 2]) },
    { args: ([a, b]) => [f32(a, b)], f: (x) => lax.expandDims(x!, [-1]) },
    { args: ([a, b]) => [f32(a, b)], f: (x) => lax.expandDims(x!, [1, 3]) }
  ],
  slice: [
    { args: ([a, b]) => [f32(a, b + 2)], f: (x) => lax.slice(x!, [0, 1], [x!.shape[0]!, x!.shape[1]!], [1, 2]) },
    { args: ([a, b]) => [f32(a + 1, b)], f: (x) => x!.get("1:", "::-1") }
  ],
  dynamic_slice: [
    {
      args: ([a, b, c]) => [f32(a + 2, b + 1, c), spec(idx(-2, a + 4)), spec(idx(-1, b + 2))],
      f: (x, i, j) => lax.dynamicSlice(x!, [i!, j!, 0], [2, 1, x!.shape[2]!])
    },
    {
      args: ([a, b]) => [f32(a + 1, b + 1), spec(idx(0, 5, "uint32")), spec(idx(0, 5))],
      f: (x, i, j) => lax.dynamicSlice(x!, [i!, j!], [x!.shape[0]!, 1])
    },
    {
      args: ([a, b]) => [spec("i32", a, b), spec(idx(-1, 3))],
      f: (x, i) => lax.dynamicSlice(x!, [0, i!], [x!.shape[0]!, x!.shape[1]!])
    }
  ],
  dynamic_update_slice: [
    {
      args: ([a, b]) => [f32(a + 2, b), f32(2, b), spec(idx(-1, a + 3)), spec(idx(0, 2))],
      f: (x, u, i, j) => lax.dynamicUpdateSlice(x!, u!, [i!, j!])
    },
    {
      args: ([a, b, c]) => [
        spec("i32", a, b + 1, c),
        spec("i32", 1, 1, c),
        spec(idx(0, b + 2, "uint32")),
        spec(idx(-1, a))
      ],
      f: (x, u, i, j) => lax.dynamicUpdateSlice(x!, u!, [j!, i!, 0])
    },
    {
      args: ([a]) => [f32(a), f32(a), spec(idx(-1, 2))],
      f: (x, u, i) => lax.dynamicUpdateSlice(x!, u!, [i!])
    },
    {
      args: ([a, b]) => [f32(a, b + 1, 2), f32(a, 1, 2), spec(idx(-1, 1)), spec(idx(0, 3))],
      f: (x, u, i, j) => lax.dynamicUpdateSlice(x!, u!, [i!, j!, 0])
    }
  ],
  concatenate: [
    { args: ([a, b]) => [f32(a, b), f32(a, 2), f32(a, 1)], f: (x, y, z) => lax.concatenate([x!, y!, z!], 1) },
    { args: ([a, b, c]) => [f32(a, b), f32(c, b)], f: (x, y) => jnp.concatenate([x!, y!], 0) }
  ],
  pad: [
    {
      args: ([a, b]) => [f32(a, b), f32()],
      f: (x, v) =>
        lax.pad(x!, v!, [
          [1, 0, 1],
          [0, 2, 0]
        ])
    },
    { args: ([a]) => [spec("i32", a), spec("i32")], f: (x, v) => lax.pad(x!, v!, [[0, 0, 2]]) },
    // A weakly typed operand keeps its weak type.
    {
      args: ([a]) => [f32(a), f32()],
      f: (x, v) => lax.pad(lax.convertElementType(x!, "float32", true), v!, [[1, 1, 0]])
    }
  ],
  gather: [
    { args: ([a, b, c]) => [f32(a, b), spec(idx(-3, 3), c)], f: (x, i) => jnp.take(x!, i!, 1) },
    {
      args: ([a, b, c, e]) => [f32(a, b, c), spec(idx(-1, 3), a, e, 1)],
      f: (x, i) => lax.gather(x!, i!, { indexedAxes: [1], batchDims: 1, mode: "fill" })
    },
    {
      args: ([a, b, c, e]) => [f32(a, b, c), spec(idx(-1, 3), e, 2)],
      f: (x, i) => lax.gather(x!, i!, { indexedAxes: [2, 0], batchDims: 0, mode: "clip" })
    },
    { args: ([a, b]) => [f32(a, b), spec(idx(0, 0), a, 2)], f: (x, i) => jnp.takeAlongAxis(x!, i!, 1) }
  ],
  scatter: [
    {
      args: ([a, b, c, e]) => [f32(a, b, c), spec(idx(-1, 3), a, e, 1), f32(a, e, c)],
      f: (x, i, u) => lax.scatter(x!, i!, u!, { indexedAxes: [1], batchDims: 1, mode: "fill" })
    },
    {
      args: ([a, b, c]) => [spec("i32", a, b), spec(idx(0, 3), c, 1), spec("i32", c, a)],
      f: (x, i, u) => lax.scatter(x!, i!, u!, { indexedAxes: [-1], batchDims: 0, mode: "clip" })
    },
    { args: ([a, b]) => [f32(a), spec(idx(0, 2), b), f32(b)], f: (x, i, u) => x!.at(i!).set(u!) }
  ],
  scatter_add: [
    {
      args: ([a, b, c, e]) => [f32(a, b, c), spec(idx(-1, 3), a, e, 2), f32(a, e)],
      f: (x, i, u) => lax.scatterAdd(x!, i!, u!, { indexedAxes: [2, 1], batchDims: 1, mode: "fill" })
    },
    { args: ([a, b]) => [spec("i32", a + 1), spec(idx(0, 1), b), spec("i32", b)], f: (x, i, u) => x!.at(i!).add(u!) }
  ],
  iota: [{ args: ([a]) => [f32(a)], f: (x) => lax.add(x!, lax.iota("float32", [x!.shape[0]!])) }],
  argmax: [{ args: ([a, b, c]) => [f32(a, b, c)], f: (x) => lax.argmax(x!, 1) }],
  argmin: [{ args: ([a, b]) => [spec("i32", a, b)], f: (x) => lax.argmin(x!, -1) }],
  conv_general_dilated: [
    { args: ([a, b, c]) => [f32(a, 2 * b, c + 2), f32(2, 2 * b, 2)], f: (x, w) => lax.conv(x!, w!, [1], "SAME") },
    {
      args: ([a, b, c]) => [f32(2, c + 2, 2 * b), f32(2, b, 2 * a)],
      f: (x, w) =>
        lax.convGeneralDilated(x!, w!, [2], [[1, 0]], {
          dimensionNumbers: ["NWC", "WIO", "NWC"],
          featureGroupCount: 2,
          rhsDilation: [2]
        })
    },
    {
      args: ([a, b]) => [f32(2 * a, b, 3, 2), f32(4, b, 2, 1)],
      f: (x, w) => lax.convGeneralDilated(x!, w!, [1, 1], "VALID", { batchGroupCount: 2 })
    }
  ],
  reduce_window: [
    { args: ([a, b]) => [f32(a, b + 2)], f: (x) => lax.reduceWindow(x!, -Infinity, "max", [1, 2], [1, 1], "SAME") },
    {
      args: ([a, b]) => [f32(a + 1, b)],
      f: (x) =>
        lax.reduceWindow(
          x!,
          0,
          "add",
          [2, 1],
          [2, 1],
          [
            [1, 0],
            [0, 0]
          ],
          { baseDilation: [1, 2] }
        )
    }
  ],
  dot_general: [
    { args: ([a, b, c]) => [f32(a, b), f32(b, c)], f: (x, y) => jnp.matmul(x!, y!) },
    { args: ([a, b]) => [f32(a), f32(a, b)], f: (x, y) => jnp.dot(x!, y!) },
    {
      args: ([a, b, c, e]) => [f32(a, b, c), f32(e, c, a)],
      f: (x, y) =>
        lax.dotGeneral(x!, y!, [
          [[2], [1]],
          [[0], [2]]
        ])
    },
    {
      args: ([a, b, c, e]) => [f32(b, a, c), f32(c, e, b)],
      f: (x, y) =>
        lax.dotGeneral(x!, y!, [
          [
            [0, -1],
            [2, 0]
          ],
          [[], []]
        ])
    },
    { args: ([a, b]) => [spec("i32", a, b), spec("i32", b)], f: (x, y) => jnp.matmul(x!, y!) }
  ],
  sort: [
    { args: ([a, b]) => [spec("i32", a, b + 1), f32(a, b + 1)], f: (k, v) => lax.sort([k!, v!], 1, 1) },
    { args: ([a, b]) => [f32(a + 1, b)], f: (x) => lax.sort([x!], 0) },
    {
      args: ([a]) => [spec({ lo: 0, hi: 1 }, a + 2), spec("i32", a + 2), f32(a + 2)],
      f: (k1, k2, v) => lax.sort([k1!, k2!, v!], 0, 2)
    }
  ],
  threefry2x32: [
    {
      args: ([a, b]) => [spec("u32", 1, 1), spec("u32", 1, 1), spec("u32", a, b), spec("u32", a, 1)],
      f: (k1, k2, x1, x2) => lax.threefry2x32(k1!, k2!, x1!, x2!)
    }
  ],
  random_wrap: [{ args: ([a]) => [spec("u32", a, 2)], f: (x) => random.keyData(random.wrapKeyData(x!)) }],
  random_unwrap: [{ args: () => [spec("u32", 2)], f: (x) => lax.randomUnwrap(random.split(lax.randomWrap(x!), 3)) }],
  stop_gradient: [un((x) => bind1("stop_gradient", [x], {}))],
  // complex64 (results made real, so the comparison reads one word per element)
  complex: [bin((x, y) => lax.imag(lax.complex(x, y)).add(lax.real(lax.complex(x, y)).mul(3)))],
  real: [un((x) => lax.real(lax.complex(x, x.mul(2))))],
  imag: [un((x) => lax.imag(lax.complex(x, x.mul(2))))],
  conj: [un((x) => lax.imag(lax.conj(lax.complex(x, x.sub(1)))))],
  fft: [{ args: ([a, b]) => [f32(a, b + 2)], f: (x) => jnp.abs(lax.fft(x!, "RFFT", [x!.shape[x!.ndim - 1]!])) }],
  eig: [
    {
      args: ([a]) => [f32(a + 1, a + 1)],
      f: (x) => jnp.real(jnp.linalg.eigvals(x!).mul(jnp.linalg.eigvals(x!))).sum(-1)
    }
  ]
}

// ---------------------------------------------------------------------------------------------
// Batch axes, and the random draws of the property

/** Example `i` of `x` along `axis` (the axis removed). */
export const sliceAt = (x: JArray, i: number, axis: number): JArray =>
  lax.squeeze(
    lax.slice(
      x,
      x.shape.map((_, k) => (k === axis ? i : 0)),
      x.shape.map((d, k) => (k === axis ? i + 1 : d))
    ),
    [axis]
  )

/** A new operand of `x`'s shape with a batch axis of `size` inserted at `at`, its values of `kind`. */
export const insertBatch = (x: JArray, size: number, at: number, rnd: () => number, kind: Kind): JArray => {
  const shape = x.shape.slice()
  shape.splice(at, 0, size)
  return make(shape, kind, rnd)
}

/** A case's output as a list of arrays. */
export const asList = (o: Out): ReadonlyArray<JArray> => (jnp.isArray(o) ? [o] : o)

/**
 * One run of the property: four sizes in 1..3 for a case's operands, the batch size, an in-axis
 * choice per operand (0, 1, -1 or unmapped) and an out-axis choice (0, -1 or 1), and a seed.
 */
export const run = fc.record({
  d: fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 })
  ),
  batch: fc.integer({ min: 1, max: 3 }),
  axes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
  outAxis: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer()
})

/** A value drawn by {@link run}. */
export type Run = typeof run extends fc.Arbitrary<infer T> ? T : never

/**
 * One case of the suite: `c.f` under `vmap` (axes drawn by `r`) and, for comparison, applied to each
 * example of the batch with the results stacked along the same output axis; `what` names the axes.
 */
export const vmapAndLoop = (
  c: Case,
  r: Run
): { readonly got: ReadonlyArray<JArray>; readonly expected: ReadonlyArray<JArray>; readonly what: string } => {
  const rnd = mulberry32(r.seed)
  const specs = c.args(r.d)
  const choices: ReadonlyArray<number | null> = [0, 1, -1, null]
  const inAxes = specs.map((s, i): number | null => {
    const ax = choices[r.axes[i] ?? 0]
    return ax === undefined || (ax === 1 && s.shape.length < 1) ? 0 : ax
  })
  if (!inAxes.some((a) => a !== null)) inAxes[0] = 0
  const examples = specs.map((s) => make(s.shape, s.kind, rnd))
  const batched = specs.map((s, i) => {
    const ax = inAxes[i]
    if (ax === null || ax === undefined) return examples[i]!
    return insertBatch(examples[i]!, r.batch, ax < 0 ? s.shape.length + 1 + ax : ax, rnd, s.kind)
  })
  const per = Array.from({ length: r.batch }, (_, b) =>
    asList(
      c.f(
        ...batched.map((x, i) => {
          const ax = inAxes[i]
          return ax === null || ax === undefined ? x : sliceAt(x, b, ax < 0 ? x.ndim + ax : ax)
        })
      )
    )
  )
  const minRank = Math.min(...per[0]!.map((o) => o.ndim))
  const outAxis = [0, -1, minRank >= 1 ? 1 : 0][r.outAxis]!
  const got = asList(vmap((...xs: ReadonlyArray<JArray>) => c.f(...xs), { inAxes, outAxes: outAxis })(...batched))
  const expected = per[0]!.map((_, k) =>
    jnp.stack(
      per.map((outs) => outs[k]!),
      outAxis
    )
  )
  return { got, expected, what: `(inAxes ${JSON.stringify(inAxes)}, outAxes ${outAxis})` }
}
