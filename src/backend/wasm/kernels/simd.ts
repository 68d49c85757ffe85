/**
 * What the generated elementwise and reduction kernels need beyond the encoder's instruction list:
 * a few more SIMD instructions (byte widening for bool lanes, 64-bit lane compares for the bit
 * manipulation of the f64 math, a lane store), i64x2 constants, and a tiny expression language
 * (`Expr`) so that the f64x2 math reads like the C it ports instead of a stack listing.
 *
 * @since 0.2.0
 */
import type { FunctionBuilder, ValType } from "../encoder.ts"
import { uleb } from "../encoder.ts"

const simd = (f: FunctionBuilder, code: number): FunctionBuilder => f.raw(0xfd, ...uleb(code))

/** SIMD instructions the encoder does not list, by name. */
export const ops = {
  i16x8_extend_low_i8x16_u: (f: FunctionBuilder) => simd(f, 0x89),
  i32x4_extend_low_i16x8_u: (f: FunctionBuilder) => simd(f, 0xa9),
  i64x2_eq: (f: FunctionBuilder) => simd(f, 0xd6),
  i64x2_ne: (f: FunctionBuilder) => simd(f, 0xd7),
  i64x2_lt_s: (f: FunctionBuilder) => simd(f, 0xd8),
  i64x2_gt_s: (f: FunctionBuilder) => simd(f, 0xd9),
  i64x2_le_s: (f: FunctionBuilder) => simd(f, 0xda),
  i64x2_ge_s: (f: FunctionBuilder) => simd(f, 0xdb),
  /** `v128.store32_lane`: stores lane `lane` of the i32x4 at the address. */
  v128_store32_lane: (f: FunctionBuilder, lane: number, offset = 0) =>
    simd(f, 0x5a).raw(...uleb(0), ...uleb(offset), lane)
} as const

/** A v128 constant of two i64 lanes. */
export const i64x2Const = (f: FunctionBuilder, a: bigint, b = a): FunctionBuilder => {
  const bytes = new Uint8Array(16)
  const dv = new DataView(bytes.buffer)
  dv.setBigInt64(0, BigInt.asIntN(64, a), true)
  dv.setBigInt64(8, BigInt.asIntN(64, b), true)
  return simd(f, 0x0c).raw(...bytes)
}

/** `i8x16.shuffle` lanes that move bytes 0, 4, 8 and 12 (the low byte of each i32 lane) to the front. */
export const lowBytes = [0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12] as const
/** Lanes 2 and 3 of an i32x4 (the high f64 lane's floats) moved to lanes 0 and 1. */
export const highHalf = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15] as const
/** The low halves of two vectors side by side: lanes 0, 1 of the first, then lanes 0, 1 of the second. */
export const lowHalves = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23] as const

/** Code that pushes one value. */
export type Expr = (f: FunctionBuilder) => void

/** Reads a local. */
export const get =
  (local: number): Expr =>
  (f) => {
    f.get(local)
  }

/** Evaluates `e` into a new local of type `t`; its index. */
export const bind = (f: FunctionBuilder, e: Expr, t: ValType = "v128"): number => {
  const local = f.local(t)
  e(f)
  f.set(local)
  return local
}

type Emit = (f: FunctionBuilder) => unknown

/** Applies an instruction to the values of `args`. */
const apply =
  (emit: Emit) =>
  (...args: ReadonlyArray<Expr>): Expr =>
  (f) => {
    for (const a of args) a(f)
    emit(f)
  }

/** f64x2 expressions, as in C: `add(a, b)`, `sel(a, b, mask)`, `k(0.5)`. */
export const d = {
  k:
    (x: number): Expr =>
    (f) => {
      f.f64x2(x)
    },
  add: apply((f) => f.f64x2_add()),
  sub: apply((f) => f.f64x2_sub()),
  mul: apply((f) => f.f64x2_mul()),
  div: apply((f) => f.f64x2_div()),
  neg: apply((f) => f.f64x2_neg()),
  abs: apply((f) => f.f64x2_abs()),
  trunc: apply((f) => f.f64x2_trunc()),
  eq: apply((f) => f.f64x2_eq()),
  ne: apply((f) => f.f64x2_ne()),
  lt: apply((f) => f.f64x2_lt()),
  le: apply((f) => f.f64x2_le()),
  gt: apply((f) => f.f64x2_gt()),
  ge: apply((f) => f.f64x2_ge()),
  /** `mask ? a : b`, lane by lane (masks are all ones or all zeros). */
  sel: apply((f) => f.v128_bitselect()),
  and: apply((f) => f.v128_and()),
  or: apply((f) => f.v128_or()),
  andnot: apply((f) => f.v128_andnot()),
  /** `c0 + x (c1 + x (c2 + ...))`, each step rounded as fdlibm's C writes its polynomials. */
  horner: (x: Expr, coefficients: ReadonlyArray<number>): Expr => {
    let e: Expr = d.k(coefficients[coefficients.length - 1]!)
    for (let i = coefficients.length - 2; i >= 0; i--) e = d.add(d.k(coefficients[i]!), d.mul(x, e))
    return e
  }
}

/** i64x2 expressions over the bit patterns of f64 lanes. */
export const q = {
  k:
    (x: bigint): Expr =>
    (f) => {
      i64x2Const(f, x)
    },
  add: apply((f) => f.i64x2_add()),
  sub: apply((f) => f.i64x2_sub()),
  and: apply((f) => f.v128_and()),
  or: apply((f) => f.v128_or()),
  xor: apply((f) => f.v128_xor()),
  shl:
    (a: Expr, n: number): Expr =>
    (f) => {
      a(f)
      f.i32(n).i64x2_shl()
    },
  shrS:
    (a: Expr, n: number): Expr =>
    (f) => {
      a(f)
      f.i32(n).i64x2_shr_s()
    },
  eq: apply((f) => ops.i64x2_eq(f)),
  ne: apply((f) => ops.i64x2_ne(f)),
  lt: apply((f) => ops.i64x2_lt_s(f)),
  le: apply((f) => ops.i64x2_le_s(f)),
  gt: apply((f) => ops.i64x2_gt_s(f)),
  ge: apply((f) => ops.i64x2_ge_s(f))
}

/** 1.5 * 2^52: adding it to a small integral double puts the integer in the low mantissa bits. */
const magic = 6755399441055744

/** Small i64 lanes as f64 lanes. */
export const toF64 = (x: Expr): Expr => d.sub(q.add(x, q.k(0x4338000000000000n)), d.k(magic))

/** The high word of each f64 lane, sign-extended to i64 (fdlibm's `GET_HIGH_WORD`, as a signed int). */
export const highWord = (x: Expr): Expr => q.shrS(x, 32)

/** `x` with the high word of each lane replaced by the low 32 bits of `hi` (fdlibm's `SET_HIGH_WORD`). */
export const withHighWord = (x: Expr, hi: Expr): Expr => q.or(q.and(x, q.k(0xffffffffn)), q.shl(hi, 32))
