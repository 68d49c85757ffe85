/**
 * One node of an elementwise program on four lanes: the instructions each (primitive, dtype) becomes
 * in a generated kernel, with the cpu reference kernels' exact semantics.
 *
 * Values live in `v128` locals, four elements each: float32 as f32x4, int32 and uint32 as i32x4,
 * bool as i32x4 holding the stored byte (0 or 1; the byte is kept as is, as the cpu kernels read it).
 * An operation maps to SIMD instructions only where they compute exactly what the reference does:
 * float32 add, sub, mul, div and sqrt round once either way; wasm's `f32x4.max`/`min` propagate NaN
 * and order -0 below +0 as `Math.max`/`min` do; the saturating truncations are the reference's
 * float-to-int conversion. float32 exp, expm1, tanh and logistic run on float32 lanes within a few
 * ulps (see `mathf32.ts`); log and log1p are computed in double (see `mathf64.ts`) and rounded once,
 * as the reference computes `Math.log` and stores to a Float32Array. Operations without
 * a SIMD form (integer division, variable shifts, powers, sin, cos, atan2, erf) run per lane in
 * scalar code, calling the host's `Math` functions where the reference does.
 *
 * @since 0.2.0
 */
import type { DType } from "../../DType.ts"
import { allocHost } from "../../DType.ts"
import type { FusedNode } from "../../fusion.ts"
import type { FunctionBuilder } from "../encoder.ts"
import type { HostMathName } from "../runtime.ts"
import { inlineMathF32 } from "./mathf32.ts"
import type { MathF32 } from "./mathf32.ts"
import type { MathF64 } from "./mathf64.ts"
import type { ScalarHelper } from "./scalarMath.ts"
import { bind, get, highHalf, lowHalves } from "./simd.ts"
import type { Expr } from "./simd.ts"

/** What node code uses: the function being built, its f64x2 math and the module's helper functions. */
export interface LaneEnv {
  readonly f: FunctionBuilder
  /** Pushes `name(x)` for the f64x2 in local `x`. */
  readonly math: (name: MathF64, x: number) => void
  readonly scalar: (name: ScalarHelper) => number
  readonly host: (name: HostMathName) => number
}

/** A computed node: the local holding its four lanes, and its dtype. */
export interface LaneValue {
  readonly local: number
  readonly dtype: DType
}

type Emit = (f: FunctionBuilder) => unknown
const apply =
  (emit: Emit) =>
  (...args: ReadonlyArray<Expr>): Expr =>
  (f) => {
    for (const a of args) a(f)
    emit(f)
  }
const ones: Expr = (f) => {
  f.i32x4(1)
}
/** A comparison mask as bool lanes (0 or 1). */
const toBool = (mask: Expr): Expr => apply((f) => f.v128_and())(mask, ones)
const signBit: Expr = (f) => {
  f.i32x4(-0x80000000)
}
const f32k =
  (x: number): Expr =>
  (f) => {
    f.f32x4(x)
  }
const and = apply((f) => f.v128_and())
const or = apply((f) => f.v128_or())
const sel = apply((f) => f.v128_bitselect())

/** The value a dtype's storage holds for a literal (as the reference fills its typed array). */
const storedLiteral = (dtype: DType, value: number): number => allocHost(dtype, 1).fill(value)[0]!

const literal =
  (dtype: DType, value: number): Expr =>
  (f) => {
    const v = storedLiteral(dtype, value)
    if (dtype === "float32") f.f32x4(v)
    else f.i32x4(v | 0)
  }

/** A float32 operation computed on f64x2 halves and rounded to float32 once. */
const viaF64 = (f: FunctionBuilder, x: number, op: (half: Expr) => Expr): Expr => {
  const lo = bind(
    f,
    op((g) => g.get(x).f64x2_promote_low_f32x4())
  )
  const hi = bind(
    f,
    op((g) => g.get(x).get(x).shuffle(highHalf).f64x2_promote_low_f32x4())
  )
  return (g) => {
    g.get(lo).f32x4_demote_f64x2_zero().get(hi).f32x4_demote_f64x2_zero().shuffle(lowHalves)
  }
}

/** `name` of the f32x4 in local `x` (see `mathf32.ts`). */
const f32Math =
  (x: number, name: MathF32): Expr =>
  (f) => {
    inlineMathF32(f, name, x)
  }

/** `name` of an f64x2 value, through a local. */
const math =
  (env: LaneEnv, name: MathF64) =>
  (arg: Expr): Expr =>
  (f) => {
    const x = bind(f, arg)
    env.math(name, x)
  }

type LaneKind = "f32" | "i32"
const laneKind = (dtype: DType): LaneKind => (dtype === "float32" ? "f32" : "i32")

/** Scalar code per lane: `body` pushes the lane's result from the lanes of `args` in scalar locals. */
const perLane = (
  f: FunctionBuilder,
  args: ReadonlyArray<LaneValue>,
  result: LaneKind,
  body: (s: ReadonlyArray<number>) => void
): Expr => {
  const out = f.local("v128")
  const kinds = args.map((a) => laneKind(a.dtype))
  const scalars = kinds.map((k) => f.local(k))
  f.get(args[0]!.local).set(out)
  for (let lane = 0; lane < 4; lane++) {
    args.forEach((a, i) => {
      f.get(a.local)
      if (kinds[i] === "f32") f.f32x4_extract_lane(lane)
      else f.i32x4_extract_lane(lane)
      f.set(scalars[i]!)
    })
    f.get(out)
    body(scalars)
    if (result === "f32") f.f32x4_replace_lane(lane)
    else f.i32x4_replace_lane(lane)
    f.set(out)
  }
  return get(out)
}

/** A float32 lane through a host or helper `f64 -> f64` function. */
const hostF32 = (f: FunctionBuilder, a: LaneValue, index: number): Expr =>
  perLane(f, [a], "f32", ([x]) => f.get(x!).f64_promote_f32().call(index).f32_demote_f64())

const unaryFloat: { readonly [P in string]?: (env: LaneEnv, a: LaneValue) => Expr } = {
  neg: (_, a) => apply((f) => f.f32x4_neg())(get(a.local)),
  abs: (_, a) => apply((f) => f.f32x4_abs())(get(a.local)),
  sqrt: (_, a) => apply((f) => f.f32x4_sqrt())(get(a.local)),
  floor: (_, a) => apply((f) => f.f32x4_floor())(get(a.local)),
  ceil: (_, a) => apply((f) => f.f32x4_ceil())(get(a.local)),
  rsqrt: (env, a) =>
    viaF64(env.f, a.local, (h) => (f) => {
      f.f64x2(1)
      h(f)
      f.f64x2_sqrt().f64x2_div()
    }),
  exp: (_, a) => f32Math(a.local, "exp"),
  log: (env, a) => viaF64(env.f, a.local, math(env, "log")),
  tanh: (_, a) => f32Math(a.local, "tanh"),
  logistic: (_, a) => f32Math(a.local, "logistic"),
  log1p: (env, a) => viaF64(env.f, a.local, math(env, "log1p")),
  expm1: (_, a) => f32Math(a.local, "expm1"),
  sin: (env, a) => hostF32(env.f, a, env.host("sin")),
  cos: (env, a) => hostF32(env.f, a, env.host("cos")),
  erf: (env, a) => hostF32(env.f, a, env.scalar("erf")),
  erf_inv: (env, a) => perLane(env.f, [a], "f32", ([x]) => env.f.get(x!).call(env.scalar("erfInv"))),
  // Math.sign keeps ±0 and NaN and is otherwise ±1: copy the sign bit onto 1.
  sign: (_, a) =>
    sel(
      get(a.local),
      or(and(get(a.local), signBit), f32k(1)),
      or(apply((f) => f.f32x4_eq())(get(a.local), f32k(0)), apply((f) => f.f32x4_ne())(get(a.local), get(a.local)))
    ),
  is_finite: (_, a) => toBool(apply((f) => f.f32x4_lt())(apply((f) => f.f32x4_abs())(get(a.local)), f32k(Infinity)))
}

/** Round half away from zero: trunc, then one more step away when the dropped fraction is >= 1/2 (exact in float32). */
const roundAway = (f: FunctionBuilder, a: LaneValue): Expr => {
  const t = bind(f, apply((g) => g.f32x4_trunc())(get(a.local)))
  const frac = apply((g) => g.f32x4_abs())(apply((g) => g.f32x4_sub())(get(a.local), get(t)))
  const step = apply((g) => g.f32x4_add())(get(t), or(and(get(a.local), signBit), f32k(1)))
  return sel(step, get(t), apply((g) => g.f32x4_ge())(frac, f32k(0.5)))
}

const unaryInt = (prim: string, a: LaneValue): Expr | undefined => {
  const x = get(a.local)
  const signed = a.dtype === "int32"
  switch (prim) {
    case "neg":
      return a.dtype === "bool" ? undefined : apply((f) => f.i32x4_neg())(x)
    case "abs":
      return a.dtype === "bool" ? undefined : signed ? apply((f) => f.i32x4_abs())(x) : x
    case "sign":
      if (a.dtype === "bool") return undefined
      return signed
        ? or(
            toBool(apply((f) => f.i32x4_gt_s())(x, (f) => f.i32x4(0))),
            apply((f) => f.i32x4_lt_s())(x, (f) => f.i32x4(0))
          )
        : toBool(apply((f) => f.i32x4_ne())(x, (f) => f.i32x4(0)))
    case "not":
      return a.dtype === "bool"
        ? toBool(apply((f) => f.i32x4_eq())(x, (f) => f.i32x4(0)))
        : apply((f) => f.v128_not())(x)
    default:
      return undefined
  }
}

const floatCompare: { readonly [P in string]?: Emit } = {
  eq: (f) => f.f32x4_eq(),
  ne: (f) => f.f32x4_ne(),
  lt: (f) => f.f32x4_lt(),
  le: (f) => f.f32x4_le(),
  gt: (f) => f.f32x4_gt(),
  ge: (f) => f.f32x4_ge()
}
const intCompare = (prim: string, signed: boolean): Emit | undefined => {
  switch (prim) {
    case "eq":
      return (f) => f.i32x4_eq()
    case "ne":
      return (f) => f.i32x4_ne()
    case "lt":
      return signed ? (f) => f.i32x4_lt_s() : (f) => f.i32x4_lt_u()
    case "le":
      return signed ? (f) => f.i32x4_le_s() : (f) => f.i32x4_le_u()
    case "gt":
      return signed ? (f) => f.i32x4_gt_s() : (f) => f.i32x4_gt_u()
    case "ge":
      return signed ? (f) => f.i32x4_ge_s() : (f) => f.i32x4_ge_u()
    default:
      return undefined
  }
}

/** C's nextafterf on the bit patterns, as the reference steps them. */
const nextAfter = (f: FunctionBuilder, a: LaneValue, b: LaneValue): Expr => {
  const x = get(a.local),
    y = get(b.local)
  const fl = (emit: Emit) => apply(emit)
  const towardUp = apply((g) => g.i32x4_eq())(fl((g) => g.f32x4_lt())(x, y), fl((g) => g.f32x4_gt())(x, f32k(0)))
  const stepped = apply((g) => g.i32x4_add())(
    x,
    sel(
      (g) => g.i32x4(1),
      (g) => g.i32x4(-1),
      towardUp
    )
  )
  const fromZero = sel(
    (g) => g.i32x4(1),
    (g) => g.i32x4(0x80000001),
    fl((g) => g.f32x4_gt())(y, f32k(0))
  )
  const nan = or(fl((g) => g.f32x4_ne())(x, x), fl((g) => g.f32x4_ne())(y, y))
  const r1 = bind(f, sel(fromZero, stepped, fl((g) => g.f32x4_eq())(x, f32k(0))))
  const r2 = bind(f, sel(y, get(r1), fl((g) => g.f32x4_eq())(x, y)))
  return sel(f32k(NaN), get(r2), nan)
}

const binaryFloat = (env: LaneEnv, prim: string, a: LaneValue, b: LaneValue): Expr | undefined => {
  const f = env.f
  const x = get(a.local),
    y = get(b.local)
  switch (prim) {
    case "add":
      return apply((g) => g.f32x4_add())(x, y)
    case "sub":
      return apply((g) => g.f32x4_sub())(x, y)
    case "mul":
      return apply((g) => g.f32x4_mul())(x, y)
    case "div":
      return apply((g) => g.f32x4_div())(x, y)
    case "max":
      return apply((g) => g.f32x4_max())(x, y)
    case "min":
      return apply((g) => g.f32x4_min())(x, y)
    case "nextafter":
      return nextAfter(f, a, b)
    case "atan2":
      return perLane(f, [a, b], "f32", ([p, q]) =>
        f.get(p!).f64_promote_f32().get(q!).f64_promote_f32().call(env.host("atan2")).f32_demote_f64()
      )
    case "rem":
      return perLane(f, [a, b], "f32", ([p, q]) =>
        f.get(p!).f64_promote_f32().get(q!).f64_promote_f32().call(env.scalar("fmod")).f32_demote_f64()
      )
    case "pow":
      // C's pow(1, y) = 1 and pow(-1, ±inf) = 1, where JavaScript gives NaN.
      return perLane(f, [a, b], "f32", ([p, q]) => {
        f.f64(1)
        f.get(p!).f64_promote_f32().get(q!).f64_promote_f32().call(env.host("pow"))
        f.get(p!).f32(1).f32_eq()
        f.get(p!).f32(-1).f32_eq().get(q!).f32_abs().f32(Infinity).f32_eq().i32_and().i32_or()
        f.select().f32_demote_f64()
      })
    default: {
      const cmp = floatCompare[prim]
      return cmp === undefined ? undefined : toBool(apply(cmp)(x, y))
    }
  }
}

const binaryInt = (env: LaneEnv, prim: string, a: LaneValue, b: LaneValue): Expr | undefined => {
  const f = env.f
  const x = get(a.local),
    y = get(b.local)
  const signed = a.dtype === "int32"
  const bool = a.dtype === "bool"
  switch (prim) {
    case "add":
      return bool ? undefined : apply((g) => g.i32x4_add())(x, y)
    case "sub":
      return bool ? undefined : apply((g) => g.i32x4_sub())(x, y)
    case "mul":
      return bool ? undefined : apply((g) => g.i32x4_mul())(x, y)
    case "max":
      return apply(signed ? (g) => g.i32x4_max_s() : (g) => g.i32x4_max_u())(x, y)
    case "min":
      return apply(signed ? (g) => g.i32x4_min_s() : (g) => g.i32x4_min_u())(x, y)
    case "and":
      return and(x, y)
    case "or":
      return or(x, y)
    case "xor":
      return apply((g) => g.v128_xor())(x, y)
    case "div":
      if (bool) return undefined
      // x / 0 is all ones; INT_MIN / -1 wraps to INT_MIN (x / 1 here). The divisor is made safe first.
      return perLane(f, [a, b], "i32", ([p, q]) => {
        f.i32(-1)
        f.get(p!)
        f.i32(1).get(q!).get(q!).i32_eqz()
        if (signed) f.get(q!).i32(-1).i32_eq().get(p!).i32(-0x80000000).i32_eq().i32_and().i32_or()
        f.select()
        if (signed) f.i32_div_s()
        else f.i32_div_u()
        f.get(q!).i32_eqz().select()
      })
    case "rem":
      if (bool) return undefined
      // x rem 0 = x; wasm's rem_s(INT_MIN, -1) is 0, as JavaScript's (-0 stored as 0).
      return perLane(f, [a, b], "i32", ([p, q]) => {
        f.get(p!)
        f.get(p!).i32(1).get(q!).get(q!).i32_eqz().select()
        if (signed) f.i32_rem_s()
        else f.i32_rem_u()
        f.get(q!).i32_eqz().select()
      })
    case "pow":
      if (bool) return undefined
      return perLane(f, [a, b], "i32", ([p, q]) =>
        f
          .get(p!)
          .get(q!)
          .call(env.scalar(signed ? "powI32" : "powU32"))
      )
    // Shift amounts outside [0, 32) (as unsigned) give 0, or the sign fill for arithmetic shifts.
    case "shift_left":
      if (bool) return undefined
      return perLane(f, [a, b], "i32", ([p, q]) =>
        f.get(p!).get(q!).i32_shl().i32(0).get(q!).i32(32).i32_lt_u().select()
      )
    case "shift_right_logical":
      if (bool) return undefined
      return perLane(f, [a, b], "i32", ([p, q]) =>
        f.get(p!).get(q!).i32_shr_u().i32(0).get(q!).i32(32).i32_lt_u().select()
      )
    case "shift_right_arithmetic":
      if (bool) return undefined
      return perLane(f, [a, b], "i32", ([p, q]) =>
        f.get(p!).get(q!).i32(31).get(q!).i32(32).i32_lt_u().select().i32_shr_s()
      )
    default: {
      const cmp = intCompare(prim, signed)
      return cmp === undefined ? undefined : toBool(apply(cmp)(x, y))
    }
  }
}

const convert = (a: LaneValue, to: DType): Expr | undefined => {
  const x = get(a.local)
  const from = a.dtype
  if (from === to) return x
  if (from === "key<fry>" || to === "key<fry>") return undefined
  switch (to) {
    case "bool":
      return toBool(
        from === "float32" ? apply((f) => f.f32x4_ne())(x, f32k(0)) : apply((f) => f.i32x4_ne())(x, (f) => f.i32x4(0))
      )
    case "float32":
      return apply(from === "int32" ? (f) => f.f32x4_convert_i32x4_s() : (f) => f.f32x4_convert_i32x4_u())(x)
    case "int32":
      return from === "float32" ? apply((f) => f.i32x4_trunc_sat_f32x4_s())(x) : x
    case "uint32":
      return from === "float32" ? apply((f) => f.i32x4_trunc_sat_f32x4_u())(x) : x
  }
}

/**
 * The code of a non-input node on four lanes, or `undefined` when this node (primitive and dtypes)
 * has no exact wasm form. Emits nothing in that case, so support can be checked by a dry run.
 */
export const laneNode = (env: LaneEnv, node: FusedNode, args: ReadonlyArray<LaneValue>): Expr | undefined => {
  switch (node.kind) {
    case "input":
      return undefined
    case "literal":
      return node.dtype === ("key<fry>" as DType) ? undefined : literal(node.dtype, node.value)
    case "unary": {
      const a = args[0]!
      if (a.dtype === "key<fry>") return undefined
      if (a.dtype === "float32") return unaryFloat[node.prim]?.(env, a)
      return unaryInt(node.prim, a)
    }
    case "round": {
      const a = args[0]!
      if (a.dtype !== "float32") return undefined
      return node.method === "toNearestEven" ? apply((f) => f.f32x4_nearest())(get(a.local)) : roundAway(env.f, a)
    }
    case "binary": {
      const [a, b] = args as [LaneValue, LaneValue]
      if (a.dtype !== b.dtype || a.dtype === "key<fry>") return undefined
      return a.dtype === "float32" ? binaryFloat(env, node.prim, a, b) : binaryInt(env, node.prim, a, b)
    }
    case "select": {
      const [p, a, b] = args as [LaneValue, LaneValue, LaneValue]
      if (p.dtype !== "bool" || a.dtype === "key<fry>" || b.dtype === "key<fry>") return undefined
      return sel(
        get(a.local),
        get(b.local),
        apply((f) => f.i32x4_ne())(get(p.local), (f) => f.i32x4(0))
      )
    }
    case "convert":
      return convert(args[0]!, node.dtype)
  }
}

/** Host functions a node calls (imports must be declared before a module's functions). */
export const laneHostImports = (node: FusedNode, argDtype: DType | undefined): ReadonlyArray<HostMathName> => {
  if (argDtype !== "float32") return []
  if (node.kind === "unary") {
    switch (node.prim) {
      case "sin":
        return ["sin"]
      case "cos":
        return ["cos"]
      case "erf":
        return ["exp"]
      case "erf_inv":
        return ["log1p"]
      default:
        return []
    }
  }
  if (node.kind === "binary") {
    if (node.prim === "atan2") return ["atan2"]
    if (node.prim === "pow") return ["pow"]
  }
  return []
}

/** Whether a node's code is a long sequence (f64 math or per-lane scalar code): unroll less. */
export const laneCostly = (node: FusedNode, argDtype: DType | undefined): boolean => {
  switch (node.kind) {
    case "unary":
      // exp, expm1, tanh and logistic are float32-lane code whose loop is latency-bound: unrolling lets
      // the processor overlap independent vectors. The f64 and per-lane ones are long enough already.
      return (
        argDtype === "float32" &&
        !["neg", "abs", "sqrt", "floor", "ceil", "sign", "is_finite", "exp", "expm1", "tanh", "logistic"].includes(
          node.prim
        )
      )
    case "binary":
      return (
        [
          "div",
          "rem",
          "pow",
          "shift_left",
          "shift_right_logical",
          "shift_right_arithmetic",
          "atan2",
          "nextafter"
        ].includes(node.prim) && !(node.prim === "div" && argDtype === "float32")
      )
    default:
      return false
  }
}
