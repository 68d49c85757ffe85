/**
 * The lane code of every elementwise node (src/backend/wasm/kernels/laneOps.ts) on plans built by
 * hand (issue 16: tests that catch injected bugs): every unary, binary and comparison primitive on
 * every dtype it accepts, over every pair of special values (NaN, ±0, ±inf, subnormals, float32
 * extremes, int32 extremes, uint32 above 2^31, shift amounts around 32), with a tail of fewer than
 * four lanes; select, convert between every pair of dtypes, round both ways and literals of every
 * dtype; compared with the cpu reference kernels bit for bit (within the documented ulps for the
 * float32 transcendentals). The combinations without exact lane code are checked to have none, and
 * the host imports and the costly flags to be the documented ones.
 */
import { assert, describe, it } from "@effect/vitest"
import type { DType, HostArray } from "../../src/backend/DType.ts"
import { allocHost } from "../../src/backend/DType.ts"
import type { FusedNode } from "../../src/backend/fusion.ts"
import { elementwiseDTypes } from "../../src/backend/Primitive.ts"
import type { BinaryPrimitive, UnaryPrimitive } from "../../src/backend/Primitive.ts"
import { FunctionBuilder } from "../../src/backend/wasm/encoder.ts"
import { laneCostly, laneHostImports, laneNode } from "../../src/backend/wasm/kernels/laneOps.ts"
import type { LaneEnv } from "../../src/backend/wasm/kernels/laneOps.ts"
import type { Plan } from "../../src/backend/wasm/kernels/plan.ts"
import { checkPlan, values } from "./planCheck.ts"

const floatSpecials = [
  0,
  -0,
  Number.NaN,
  Infinity,
  -Infinity,
  1,
  -1,
  0.5,
  -0.5,
  1.5,
  2.5,
  -2.5,
  0.49999997,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1.1754943508222875e-38,
  -2.350988701644575e-38,
  2147483648,
  -2147483904,
  4294967296,
  16777217,
  0.3,
  -7.25,
  100
]
const intSpecials = [0, 1, -1, 2, -2, 3, -3, 7, -0x80000000, 0x7fffffff, -0x7fffffff, 31, 32, 33, -32, 65536]
const uintSpecials = [0, 1, 2, 3, 7, 31, 32, 33, 0xffffffff, 0x80000000, 0x7fffffff, 0x80000001]
const specials = (dtype: DType): ReadonlyArray<number> =>
  dtype === "float32" ? floatSpecials : dtype === "int32" ? intSpecials : dtype === "uint32" ? uintSpecials : [0, 1]

/** Every pair of special values (then a few random ones, and a tail of fewer than four lanes). */
const pairs = (dtype: DType): [HostArray, HostArray] => {
  const sp = specials(dtype)
  const extra = 19
  const n = sp.length * sp.length + extra
  const a = allocHost(dtype, n),
    b = allocHost(dtype, n)
  sp.forEach((x, i) =>
    sp.forEach((y, j) => {
      a[i * sp.length + j] = x
      b[i * sp.length + j] = y
    })
  )
  const ra = values(dtype, extra, 7, true),
    rb = values(dtype, extra, 8, true)
  for (let i = 0; i < extra; i++) {
    a[n - extra + i] = ra[i]!
    b[n - extra + i] = rb[i]!
  }
  return [a, b]
}

const unaryData = (dtype: DType): HostArray => {
  const sp = specials(dtype)
  const r = values(dtype, 23, 3, true)
  const h = allocHost(dtype, sp.length + r.length)
  h.set(sp, 0)
  h.set(r, sp.length)
  return h
}

const input = (k: number, dtype: DType): FusedNode => ({ kind: "input", input: k, dtype })
const flat = (dtypes: ReadonlyArray<DType>, node: FusedNode, n: number): Plan => ({
  shape: [n],
  inputs: dtypes.map((dtype) => ({ dtype, strides: [1] })),
  nodes: [...dtypes.map((d, k) => input(k, d)), node],
  outputs: { kind: "map", results: [{ node: dtypes.length, strides: [1] }] }
})

/** The float32 transcendentals' documented distance from the cpu kernel (test/wasm/elementwise.test.ts). */
const ulpsOf: { readonly [p: string]: number } = { exp: 2, expm1: 3, tanh: 7, logistic: 3 }

type Numeric = "float32" | "int32" | "uint32" | "bool"
const numericDtypes = (ds: ReadonlyArray<DType>): Array<Numeric> =>
  ds.filter((d): d is Numeric => d === "float32" || d === "int32" || d === "uint32" || d === "bool")

const unaryPrims: ReadonlyArray<UnaryPrimitive> = [
  "neg",
  "exp",
  "log",
  "sin",
  "cos",
  "tanh",
  "logistic",
  "sqrt",
  "rsqrt",
  "abs",
  "sign",
  "floor",
  "ceil",
  "erf",
  "erf_inv",
  "log1p",
  "expm1",
  "not",
  "is_finite"
]
const binaryPrims: ReadonlyArray<BinaryPrimitive> = [
  "add",
  "sub",
  "mul",
  "div",
  "rem",
  "pow",
  "max",
  "min",
  "and",
  "or",
  "xor",
  "shift_left",
  "shift_right_logical",
  "shift_right_arithmetic",
  "nextafter",
  "atan2",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge"
]
const comparisons = new Set(["eq", "ne", "lt", "le", "gt", "ge"])
const outOf = (prim: string, d: Numeric): Numeric =>
  comparisons.has(prim) || (prim === "is_finite" && d === "float32") ? "bool" : d

describe("the lane code of elementwise nodes", () => {
  it("computes every unary primitive on every dtype it accepts as the cpu kernel does", () => {
    for (const prim of unaryPrims)
      for (const dtype of numericDtypes(elementwiseDTypes[prim])) {
        const data = unaryData(dtype)
        const node: FusedNode = { kind: "unary", prim, arg: 0, dtype: outOf(prim, dtype) }
        checkPlan(flat([dtype], node, data.length), [data], `${prim} ${dtype}`, [1], ulpsOf[prim] ?? 0)
      }
  })

  it("computes every binary and comparison primitive on every pair of special values", () => {
    for (const prim of binaryPrims)
      for (const dtype of numericDtypes(elementwiseDTypes[prim])) {
        const [a, b] = pairs(dtype)
        const node: FusedNode = { kind: "binary", prim, args: [0, 1], dtype: outOf(prim, dtype) }
        checkPlan(flat([dtype, dtype], node, a.length), [a, b], `${prim} ${dtype}`, [1])
      }
  })

  it("selects, converts between every pair of dtypes, rounds both ways and writes literals", () => {
    const dtypes: ReadonlyArray<Numeric> = ["float32", "int32", "uint32", "bool"]
    for (const dtype of dtypes) {
      const [a, b] = pairs(dtype)
      const p = values("bool", a.length, 11)
      checkPlan(
        flat(["bool", dtype, dtype], { kind: "select", args: [0, 1, 2], dtype }, a.length),
        [p, a, b],
        `select ${dtype}`,
        [1]
      )
      for (const to of dtypes) {
        const x = unaryData(dtype)
        checkPlan(
          flat([dtype], { kind: "convert", arg: 0, dtype: to }, x.length),
          [x],
          `convert ${dtype} to ${to}`,
          [1]
        )
      }
    }
    const x = unaryData("float32")
    const more = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 4 + (i % 3 === 0 ? 0.25 : 0))
    for (const method of ["awayFromZero", "toNearestEven"] as const)
      for (const d of [x, more])
        checkPlan(flat(["float32"], { kind: "round", method, arg: 0, dtype: "float32" }, d.length), [d], method, [1])
    const literals: ReadonlyArray<readonly [Numeric, number]> = [
      ["float32", -0],
      ["float32", Number.NaN],
      ["float32", 0.1],
      ["float32", -Infinity],
      ["float32", 1e-45],
      ["int32", -5],
      ["int32", 2 ** 31],
      ["int32", 7],
      ["uint32", -1],
      ["uint32", 4294967295],
      ["uint32", 2 ** 31 + 5],
      ["bool", 1],
      ["bool", 0]
    ]
    for (const [dtype, value] of literals)
      checkPlan(
        {
          shape: [7],
          inputs: [],
          nodes: [{ kind: "literal", value, dtype }],
          outputs: { kind: "map", results: [{ node: 0, strides: [1] }] }
        },
        [],
        `literal ${dtype} ${value}`,
        [1]
      )
  })

  it("has no lane code for bool arithmetic, keys, mixed dtypes or non-float rounding", () => {
    const env: LaneEnv = { f: new FunctionBuilder([], []), math: () => {}, scalar: () => 0, host: () => 0 }
    const v = (dtype: DType) => ({ local: env.f.local("v128"), dtype })
    const none = (node: FusedNode, args: ReadonlyArray<DType>, label: string) =>
      assert.isUndefined(laneNode(env, node, args.map(v)), label)
    const some = (node: FusedNode, args: ReadonlyArray<DType>, label: string) =>
      assert.isDefined(laneNode(env, node, args.map(v)), label)
    const key = "key<fry>" as DType
    for (const prim of ["neg", "abs", "sign"] as const) {
      none({ kind: "unary", prim, arg: 0, dtype: "bool" }, ["bool"], `${prim} bool`)
      none({ kind: "unary", prim, arg: 0, dtype: "int32" }, [key], `${prim} key`)
      some({ kind: "unary", prim, arg: 0, dtype: "uint32" }, ["uint32"], `${prim} uint32`)
    }
    none({ kind: "unary", prim: "exp", arg: 0, dtype: "int32" }, ["int32"], "exp int32")
    none({ kind: "unary", prim: "not", arg: 0, dtype: "float32" }, ["float32"], "not float32")
    for (const prim of [
      "add",
      "sub",
      "mul",
      "div",
      "rem",
      "pow",
      "shift_left",
      "shift_right_logical",
      "shift_right_arithmetic"
    ] as const) {
      none({ kind: "binary", prim, args: [0, 1], dtype: "bool" }, ["bool", "bool"], `${prim} bool`)
      some({ kind: "binary", prim, args: [0, 1], dtype: "uint32" }, ["uint32", "uint32"], `${prim} uint32`)
    }
    for (const prim of ["max", "min", "and", "or", "xor", "eq", "lt"] as const)
      some({ kind: "binary", prim, args: [0, 1], dtype: "bool" }, ["bool", "bool"], `${prim} bool`)
    none({ kind: "binary", prim: "add", args: [0, 1], dtype: "int32" }, ["int32", "uint32"], "mixed")
    none({ kind: "binary", prim: "add", args: [0, 1], dtype: "int32" }, [key, key], "add keys")
    none({ kind: "binary", prim: "and", args: [0, 1], dtype: "float32" }, ["float32", "float32"], "and float32")
    none(
      { kind: "binary", prim: "shift_left", args: [0, 1], dtype: "float32" },
      ["float32", "float32"],
      "shift float32"
    )
    none({ kind: "binary", prim: "nextafter", args: [0, 1], dtype: "int32" }, ["int32", "int32"], "nextafter int32")
    none({ kind: "round", method: "toNearestEven", arg: 0, dtype: "float32" }, ["int32"], "round int32")
    some({ kind: "round", method: "awayFromZero", arg: 0, dtype: "float32" }, ["float32"], "round float32")
    none({ kind: "select", args: [0, 1, 2], dtype: "int32" }, ["int32", "int32", "int32"], "select int32 predicate")
    none({ kind: "select", args: [0, 1, 2], dtype: "int32" }, ["bool", key, "int32"], "select key")
    none({ kind: "select", args: [0, 1, 2], dtype: "int32" }, ["bool", "int32", key], "select key")
    some({ kind: "select", args: [0, 1, 2], dtype: "bool" }, ["bool", "bool", "bool"], "select bool")
    none({ kind: "convert", arg: 0, dtype: key as "int32" }, ["int32"], "convert to key")
    none({ kind: "convert", arg: 0, dtype: "int32" }, [key], "convert a key")
    some({ kind: "convert", arg: 0, dtype: "int32" }, ["int32"], "convert to itself")
    none({ kind: "literal", value: 1, dtype: key as "int32" }, [], "key literal")
    none({ kind: "input", input: 0, dtype: "int32" }, [], "input")
  })

  it("imports the host functions and flags the costly nodes as documented", () => {
    const u = (prim: UnaryPrimitive): FusedNode => ({ kind: "unary", prim, arg: 0, dtype: "float32" })
    const b = (prim: BinaryPrimitive): FusedNode => ({ kind: "binary", prim, args: [0, 1], dtype: "float32" })
    const imports: { readonly [p: string]: ReadonlyArray<string> } = {
      sin: ["sin"],
      cos: ["cos"],
      erf: ["exp"],
      erf_inv: ["log1p"]
    }
    for (const prim of unaryPrims) {
      assert.deepStrictEqual([...laneHostImports(u(prim), "float32")], imports[prim] ?? [], prim)
      assert.deepStrictEqual(laneHostImports(u(prim), "int32"), [], prim)
      const cheap = ["neg", "abs", "sqrt", "floor", "ceil", "sign", "is_finite", "exp", "expm1", "tanh", "logistic"]
      assert.strictEqual(laneCostly(u(prim), "float32"), !cheap.includes(prim), `${prim} costly`)
      assert.isFalse(laneCostly(u(prim), "int32"), `${prim} int32 costly`)
    }
    for (const prim of binaryPrims) {
      const host = prim === "atan2" ? ["atan2"] : prim === "pow" ? ["pow"] : []
      assert.deepStrictEqual([...laneHostImports(b(prim), "float32")], host, prim)
      assert.deepStrictEqual(laneHostImports(b(prim), "int32"), [], prim)
      const costly = [
        "div",
        "rem",
        "pow",
        "shift_left",
        "shift_right_logical",
        "shift_right_arithmetic",
        "atan2",
        "nextafter"
      ].includes(prim)
      assert.strictEqual(laneCostly(b(prim), "float32"), costly && prim !== "div", `${prim} costly`)
      assert.strictEqual(laneCostly(b(prim), "int32"), costly, `${prim} int32 costly`)
    }
    const r: FusedNode = { kind: "round", method: "awayFromZero", arg: 0, dtype: "float32" }
    assert.deepStrictEqual(laneHostImports(r, "float32"), [])
    assert.isFalse(laneCostly(r, "float32"))
    assert.isFalse(laneCostly({ kind: "select", args: [0, 1, 2], dtype: "float32" }, "bool"))
  })

  it("calls the host functions they name, whatever the module imports first", () => {
    // a call to a wrong host index (function 0, the first import) computes another function
    const x = unaryData("float32").filter((v) => Math.abs(v) < 1e6 && v !== 0)
    const y = Float32Array.from(x, (v, i) => (i % 5) - 2 + v / 4)
    const host = (prims: ReadonlyArray<"sin" | "cos" | "pow" | "atan2">): Plan => ({
      shape: [x.length],
      inputs: [
        { dtype: "float32", strides: [1] },
        { dtype: "float32", strides: [1] }
      ],
      nodes: [
        input(0, "float32"),
        input(1, "float32"),
        ...prims.map(
          (prim): FusedNode =>
            prim === "sin" || prim === "cos"
              ? { kind: "unary", prim, arg: 0, dtype: "float32" }
              : { kind: "binary", prim, args: [0, 1], dtype: "float32" }
        )
      ],
      outputs: { kind: "map", results: prims.map((_, i) => ({ node: 2 + i, strides: [1] })) }
    })
    checkPlan(host(["cos", "sin", "pow", "atan2"]), [x, y], "cos first", [1])
    checkPlan(host(["sin", "cos"]), [x, y], "sin first", [1])
  })
})
