/**
 * Scalar helper functions the generated kernels call once per lane, where an operation has no
 * SIMD form: integer powers, float remainder, erf and its inverse.
 *
 * Each repeats the cpu reference kernel's operations in the same order (see `cpu/binary.ts` and
 * `cpu/erf.ts`), calling the host's `Math.exp` and `Math.log1p` where the reference does, so the
 * results are the reference's bit for bit. The float remainder is exact (as C's `fmod` and
 * JavaScript's `%` are) by long division in steps of 25 bits, each step exact in double precision.
 *
 * @since 0.2.0
 */
import type { FunctionBuilder, ValType } from "../encoder.ts"
import type { HostMathName } from "../runtime.ts"

/** The helpers. */
export type ScalarHelper = "powI32" | "powU32" | "fmod" | "erf" | "erfInv"

interface Helper {
  readonly params: ReadonlyArray<ValType>
  readonly results: ReadonlyArray<ValType>
  /** Host functions the body calls. */
  readonly host: ReadonlyArray<HostMathName>
  readonly body: (f: FunctionBuilder, host: (name: HostMathName) => number) => void
}

/** `x ** y` on int32 or uint32 bits by squaring, wrapping; negative int32 exponents as the reference. */
const powInt = (signed: boolean): Helper => ({
  params: ["i32", "i32"],
  results: ["i32"],
  host: [],
  body: (f) => {
    const r = f.local("i32"),
      base = f.local("i32"),
      e = f.local("i32")
    if (signed) {
      // y < 0: 1 for x = 1, ±1 for x = -1 by the parity of y, else 0.
      f.get(1)
        .i32(0)
        .i32_lt_s()
        .if(() => {
          f.i32(1)
          f.i32(1).get(1).i32(1).i32_and().i32(1).i32_shl().i32_sub() // 1 - 2 (y & 1)
          f.i32(0)
          f.get(0).i32(-1).i32_eq().select()
          f.get(0).i32(1).i32_eq().select()
          f.return()
        })
    }
    f.i32(1).set(r).get(0).set(base).get(1).set(e)
    f.block(() =>
      f.loop(() => {
        f.get(e).i32_eqz().br_if(1)
        f.get(e)
          .i32(1)
          .i32_and()
          .if(() => f.get(r).get(base).i32_mul().set(r))
        f.get(base).get(base).i32_mul().set(base)
        f.get(e).i32(1).i32_shr_u().set(e)
        f.br(0)
      })
    )
    f.get(r)
  }
})

/** The biased exponent of a positive double, as i32. */
const exponent = (f: FunctionBuilder, x: number) => f.get(x).i64_reinterpret_f64().i64(52n).i64_shr_u().i32_wrap_i64()

/**
 * fmod of two float32 values (in double), exactly: r steps down from |x| by multiples of |y| 2^e,
 * e chosen so each quotient is below 2^26 and every product and difference fits in 53 bits.
 */
const fmod: Helper = {
  params: ["f64", "f64"],
  results: ["f64"],
  host: [],
  body: (f) => {
    const ay = f.local("f64"),
      r = f.local("f64"),
      t = f.local("f64"),
      qt = f.local("f64"),
      e = f.local("i32")
    // NaN operands, an infinite x or a zero y give NaN.
    f.get(0).get(0).f64_ne().get(1).get(1).f64_ne().i32_or()
    f.get(0).f64_abs().f64(Infinity).f64_eq().i32_or()
    f.get(1).f64(0).f64_eq().i32_or()
    f.if(() => f.f64(NaN).return())
    f.get(1).f64_abs().set(ay)
    f.get(0)
      .f64_abs()
      .tee(r)
      .get(ay)
      .f64_lt()
      .if(() => f.get(0).return())
    f.block(() =>
      f.loop(() => {
        f.get(r).get(ay).f64_lt().br_if(1)
        exponent(f, r)
        exponent(f, ay)
          .i32_sub()
          .i32(25)
          .i32_sub()
          .tee(e)
          .i32(0)
          .i32_lt_s()
          .if(() => f.i32(0).set(e))
        // t = |y| * 2^e
        f.get(ay)
          .get(e)
          .i64_extend_i32_u()
          .i64(1023n)
          .i64_add()
          .i64(52n)
          .i64_shl()
          .f64_reinterpret_i64()
          .f64_mul()
          .set(t)
        f.get(r).get(r).get(t).f64_div().f64_floor().get(t).f64_mul().f64_sub().tee(qt)
        f.f64(0)
          .f64_lt()
          .if(() => f.get(qt).get(t).f64_add().set(qt))
        f.get(qt).set(r)
        f.br(0)
      })
    )
    f.get(r).get(0).f64_copysign()
  }
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI)

/** `erf64` of `cpu/erf.ts`, operation for operation. */
const erf: Helper = {
  params: ["f64"],
  results: ["f64"],
  host: ["exp"],
  body: (f, host) => {
    const ax = f.local("f64"),
      x2 = f.local("f64"),
      term = f.local("f64"),
      sum = f.local("f64"),
      n = f.local("i32")
    const fr = f.local("f64"),
      res = f.local("f64")
    f.get(0)
      .get(0)
      .f64_ne()
      .get(0)
      .f64(0)
      .f64_eq()
      .i32_or()
      .if(() => f.get(0).return())
    f.get(0).f64_abs().set(ax)
    f.get(ax)
      .f64(2.5)
      .f64_lt()
      .if(
        () => {
          // The series: term *= 2 x^2 / (2n + 3) until it falls below 1e-17 of the sum (at most 100 terms).
          f.get(ax).get(ax).f64_mul().set(x2)
          f.get(ax).set(term).get(ax).set(sum)
          f.i32(0).set(n)
          f.block(() =>
            f.loop(() => {
              f.get(term)
              f.f64(2).get(x2).f64_mul().f64(2).get(n).f64_convert_i32_s().f64_mul().f64(3).f64_add().f64_div()
              f.f64_mul().tee(term).get(sum).f64_add().set(sum)
              f.get(term).f64(1e-17).get(sum).f64_mul().f64_lt().br_if(1)
              f.get(n).i32(1).i32_add().tee(n).i32(100).i32_lt_s().br_if(0)
            })
          )
          f.f64(TWO_OVER_SQRT_PI).get(x2).f64_neg().call(host("exp")).f64_mul().get(sum).f64_mul().set(res)
        },
        () => {
          f.get(ax)
            .f64(6)
            .f64_ge()
            .if(
              () => f.f64(1).set(res),
              () => {
                // The continued fraction, bottom-up: f = x + k / 2 / f for k = 30 .. 1.
                f.get(ax).set(fr)
                f.i32(30).set(n)
                f.loop(() => {
                  f.get(ax).get(n).f64_convert_i32_s().f64(2).f64_div().get(fr).f64_div().f64_add().set(fr)
                  f.get(n).i32(1).i32_sub().tee(n).br_if(0)
                })
                f.f64(1)
                  .get(ax)
                  .f64_neg()
                  .get(ax)
                  .f64_mul()
                  .call(host("exp"))
                  .f64(INV_SQRT_PI)
                  .f64_mul()
                  .get(fr)
                  .f64_div()
                  .f64_sub()
                  .set(res)
              }
            )
        }
      )
    f.get(res).f64_neg().get(res).get(0).f64(0).f64_lt().select()
  }
}

// M. Giles' single-precision erfinv coefficients, as `cpu/erf.ts` rounds them.
const central = [
  2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
  0.246640727, 1.50140941
].map(Math.fround)
const tail = [
  -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
  1.00167406, 2.83297682
].map(Math.fround)

/** `erfInvF32` of `cpu/erf.ts` in float32 operations, with the host's log1p. */
const erfInv: Helper = {
  params: ["f32"],
  results: ["f32"],
  host: ["log1p"],
  body: (f, host) => {
    const ax = f.local("f32"),
      w = f.local("f32"),
      p = f.local("f32")
    f.get(0)
      .f32_abs()
      .tee(ax)
      .f32(1)
      .f32_eq()
      .if(() => f.get(0).f32(Infinity).f32_mul().return())
    f.get(ax)
      .f32(1)
      .f32_lt()
      .i32_eqz()
      .if(() => f.f32(NaN).return())
    f.get(0).get(0).f32_mul().f32_neg().f64_promote_f32().call(host("log1p")).f32_demote_f64().f32_neg().set(w)
    const poly = (coefficients: ReadonlyArray<number>) => {
      f.f32(coefficients[0]!).set(p)
      for (const c of coefficients.slice(1)) f.f32(c).get(p).get(w).f32_mul().f32_add().set(p)
    }
    f.get(w)
      .f32(5)
      .f32_lt()
      .if(
        () => {
          f.get(w).f32(2.5).f32_sub().set(w)
          poly(central)
        },
        () => {
          f.get(w).f32_sqrt().f32(3).f32_sub().set(w)
          poly(tail)
        }
      )
    f.get(p).get(0).f32_mul()
  }
}

/** The helpers by name. */
export const scalarHelpers: { readonly [K in ScalarHelper]: Helper } = {
  powI32: powInt(true),
  powU32: powInt(false),
  fmod,
  erf,
  erfInv
}
