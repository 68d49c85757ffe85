/**
 * One test per kind of bad input that used to slip through (or fail with a plain RangeError or
 * TypeError): each now raises a typed error naming the operation, the argument and what to do.
 */
import { describe, expect, it } from "vitest"
import {
  ArgumentError,
  AxisError,
  ConcretizationError,
  DTypeError,
  GradError,
  OverflowError,
  ShapeError,
  StructureError,
  evalShape,
  grad,
  jit,
  jnp,
  lax,
  nnx,
  vmap
} from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import { thrown } from "../support/thrown.ts"

const x3 = jnp.arange(3, undefined, undefined, { dtype: "float32" })

describe("bad input raises typed errors", () => {
  it("a boolean mask of the wrong length is a ShapeError naming the axis and both lengths", () => {
    const e = thrown(() => x3.get(jnp.array([true, false])))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(
      "index: a boolean mask of length 2 indexes axis 0 of size 3; give it one entry per element of that axis (shapes (2,), (3,))"
    )
    expect(thrown(() => jnp.zeros([2, 3]).get(":", jnp.array([true, false, true, true])))).toBeInstanceOf(ShapeError)
  })

  it("an options argument that is not an object is an ArgumentError listing the options", () => {
    const e = thrown(() => jnp.array(0, "float32" as never))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe(
      'array: expected an options object such as { dtype: ... }, got the string "float32" (the options it takes: dtype)'
    )
    expect(thrown(() => jnp.zeros([2], ["float32"] as never))).toBeInstanceOf(ArgumentError)
    expect(thrown(() => jnp.sum(x3, 0, true as never))).toBeInstanceOf(ArgumentError)
  })

  it("a misspelt option key is an ArgumentError suggesting the right one", () => {
    const e = thrown(() => jnp.array(0, { dtyp: "float32" } as never))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe('array: unknown option "dtyp"; did you mean "dtype"? (the options it takes: dtype)')
    expect(thrown(() => jnp.sum(x3, 0, { keepDims: true } as never)).message).toMatch(
      /sum: unknown option "keepDims"; did you mean "keepdims"\?/
    )
    expect(thrown(() => jnp.pad(x3, 1, { mode: "edge", constant_values: 1 } as never)).message).toMatch(
      /pad: unknown option "constant_values"/
    )
    expect(thrown(() => x3.at(0).set(1, { mod: "clip" } as never)).message).toMatch(
      /at\.set: unknown option "mod"; did you mean "mode"\?/
    )
    expect(thrown(() => vmap((v: JArray) => v, { in_axes: 0 } as never))).toBeInstanceOf(ArgumentError)
    expect(thrown(() => grad((v: JArray) => v.sum(), { has_aux: true } as never)).message).toMatch(
      /grad: unknown option "has_aux"; did you mean "hasAux"\?/
    )
    expect(thrown(() => jit((v: JArray) => v, { static_argnums: [0] } as never)).message).toMatch(
      /jit: unknown option "static_argnums"; did you mean "staticArgnums"\?/
    )
  })

  it("a shape of 2^40 elements is a ShapeError, not a RangeError from the allocator", () => {
    const e = thrown(() => jnp.zeros([2 ** 40]))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(
      "zeros: 1099511627776 elements is more than an array holds (at most 2^31 - 1, as indices are int32); use a smaller shape (shapes (1099511627776,))"
    )
  })

  it("a negative tile count is an ArgumentError", () => {
    const e = thrown(() => jnp.tile(x3, -1))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe("tile: reps must be non-negative integers, got -1")
    expect(thrown(() => jnp.tile(x3, [2, 1.5]))).toBeInstanceOf(ArgumentError)
  })

  it("a negative repeat count is an ArgumentError", () => {
    const e = thrown(() => jnp.repeat(x3, -1))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe("repeat: repeats must be non-negative integers, got -1")
    expect(thrown(() => jnp.repeat(x3, jnp.array([1, -1, 2]))).message).toBe(
      "repeat: repeats must be non-negative integers, got [1, -1, 2]"
    )
    expect(thrown(() => jnp.repeat(x3, jnp.array([1, 2])))).toBeInstanceOf(ShapeError)
  })

  it("repeat with traced counts and no totalRepeatLength is a ConcretizationError saying to pass it", () => {
    const e = thrown(() => jit((v: JArray, r: JArray) => jnp.repeat(v, r))(x3, jnp.array([1, 0, 2])))
    expect(e).toBeInstanceOf(ConcretizationError)
    expect(e.message).toMatch(/pass totalRepeatLength/)
  })

  it("an axis given as a string is an AxisError saying to write the number", () => {
    const e = thrown(() => jnp.sum(x3, "0" as never))
    expect(e).toBeInstanceOf(AxisError)
    expect(e.message).toBe(
      'sum: an axis must be an integer in [-1, 1) (write 0, not "0"): axis "0" for an array of ndim 1'
    )
    expect(thrown(() => jnp.mean(x3, ["0"] as never))).toBeInstanceOf(AxisError)
  })

  it("a NaN axis is an AxisError that prints NaN, not null", () => {
    const e = thrown(() => jnp.sum(x3, NaN))
    expect(e).toBeInstanceOf(AxisError)
    expect(e.message).toBe("sum: an axis must be an integer in [-1, 1): axis NaN for an array of ndim 1")
    expect(e.message).not.toMatch(/null/)
  })

  it("a shape that is not a list is a ShapeError whose message can be read", () => {
    const e = thrown(() => jnp.zeros({ length: 2 } as never))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(
      'zeros: a shape is a list of non-negative integers (or one integer), got object {"length":2}'
    )
    expect(thrown(() => jnp.ones([2, -1])).message).toBe(
      "ones: a shape is a list of non-negative integers (shapes (2, -1))"
    )
  })

  it("fromHost checks its storage against the shape and dtype it is told", () => {
    const message = (f: () => unknown, type: abstract new (...args: never) => Error) => {
      const e = thrown(f)
      expect(e).toBeInstanceOf(type)
      return e.message
    }
    expect(message(() => jnp.fromHost(new Float32Array(3), [2, 2], "float32"), ArgumentError)).toBe(
      "fromHost: shape [2, 2] of float32 needs 4 storage words, got 3"
    )
    expect(message(() => jnp.fromHost(new Float32Array(4), [2, 2], "complex64"), ArgumentError)).toBe(
      "fromHost: shape [2, 2] of complex64 needs 8 storage words, got 4"
    )
    expect(message(() => jnp.fromHost(new Uint32Array(2), [2], "key<fry>"), ArgumentError)).toBe(
      "fromHost: shape [2] of key<fry> needs 4 storage words, got 2"
    )
    expect(message(() => jnp.fromHost(new Int32Array(4), [4], "float32"), ArgumentError)).toBe(
      "fromHost: float32 data is stored in a Float32Array, got Int32Array"
    )
    expect(message(() => jnp.fromHost([1, 2] as never, [2], "float32"), ArgumentError)).toBe(
      "fromHost: float32 data is stored in a Float32Array, got an array"
    )
    expect(message(() => jnp.fromHost(Uint8Array.of(1, 0, 2, 7), [4], "bool"), ArgumentError)).toBe(
      "fromHost: bool data holds 0 or 1, got 2 at index 2"
    )
    expect(message(() => jnp.fromHost(new Float32Array(4), [2, -2], "float32"), ShapeError)).toBe(
      "fromHost: a shape is a list of non-negative integers (shapes (2, -2))"
    )
    expect(message(() => jnp.fromHost(new Float32Array(4), [4], "float64" as never), DTypeError)).toBe(
      "fromHost: not a dtype (float32, int32, uint32, bool, complex64, key<fry>) (dtypes float64)"
    )
    expect(message(() => jnp.fromHost(new Float32Array(1), [], "float32", "yes" as never), ArgumentError)).toBe(
      "fromHost: weakType is a boolean, got string"
    )
    // JAX's key arrays are never weakly typed.
    expect(message(() => jnp.fromHost(new Uint32Array(2), [], "key<fry>", true), DTypeError)).toBe(
      "fromHost: key arrays are never weakly typed (dtypes key<fry>)"
    )
    // What it accepts: each dtype's storage, Node's Buffer for bool, a weak bool (JAX has ~bool).
    expect(jnp.fromHost(Buffer.from([1, 0]), [2], "bool").tolist()).toEqual([true, false])
    expect(jnp.fromHost(Uint8Array.of(1), [], "bool", true).weakType).toBe(true)
    expect(jnp.fromHost(Float32Array.of(1, 2, 3, 4), [2], "complex64").tolist()).toEqual([
      { re: 1, im: 2 },
      { re: 3, im: 4 }
    ])
    expect(jnp.fromHost(new Int32Array(0), [0, 3], "int32").shape).toEqual([0, 3])
  })

  it("a fill value given as a string is an ArgumentError", () => {
    const e = thrown(() => jnp.full([2], "1" as never))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe('full: fillValue must be a number or a boolean, got string "1"; write it as a number')
  })

  it("a fractional foriLoop bound is an ArgumentError", () => {
    const e = thrown(() => lax.foriLoop(0, 2.5, (_i, v: JArray) => v.add(1), jnp.array(0)))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe(
      "foriLoop: upper must be an integer (a whole number or an int32 Array), got 2.5; round it, e.g. Math.floor"
    )
    expect(
      thrown(() => lax.foriLoop(jnp.array(0.5, { dtype: "float32" }), 2, (_i, v: JArray) => v, jnp.array(0)))
    ).toBeInstanceOf(ArgumentError)
  })

  it("grad with hasAux whose function returns three values is a GradError", () => {
    const e = thrown(() => grad((v: JArray) => [v.sum(), 1, 2] as never, { hasAux: true })(x3))
    expect(e).toBeInstanceOf(GradError)
    expect(e.message).toMatch(/with hasAux the function must return a pair \[value, aux\], got 3 values/)
  })

  it("staticArgnums past the last argument is a StructureError naming the position", () => {
    // @ts-expect-error a position past f's parameters does not compile (the run-time check is for casts)
    const e = thrown(() => jit((v: JArray, n: number) => v.mul(n), { staticArgnums: [5] })(x3, 2))
    expect(e).toBeInstanceOf(StructureError)
    expect(e.message).toMatch(/staticArgnums includes 5, but the function was called with 2 arguments/)
    // @ts-expect-error staticArgnums are non-negative
    expect(thrown(() => jit((v: JArray) => v, { staticArgnums: -1 }))).toBeInstanceOf(StructureError)
    // @ts-expect-error out of range: nnx.jit refuses it at compile time too
    const lifted = thrown(() => nnx.jit((v: JArray, n: number) => v.mul(n), { staticArgnums: [5] }).sync(x3, 2))
    expect(lifted).toBeInstanceOf(StructureError)
    expect(lifted.message).toMatch(/^nnx\.jit: staticArgnums includes 5/)
  })

  it("an integer literal outside int32 meeting an integer array is an OverflowError", () => {
    const e = thrown(() => jnp.array([1, 5]).add(2 ** 31))
    expect(e).toBeInstanceOf(OverflowError)
    expect(e.message).toBe(
      "add: the integer 2147483648 is out of bounds for int32: int32 holds -2147483648 to 2147483647; convert the array to float32 first, or use a smaller value"
    )
    expect(thrown(() => jnp.array([1], { dtype: "uint32" }).sub(2 ** 32))).toBeInstanceOf(OverflowError)
    expect(thrown(() => jnp.array(-1, { dtype: "uint32" }))).toBeInstanceOf(OverflowError)
    expect(thrown(() => jnp.full([2], 2 ** 31, { dtype: "int32" }))).toBeInstanceOf(OverflowError)
  })

  it("an out-of-bounds mode name is an ArgumentError listing the modes", () => {
    expect(thrown(() => x3.at(0).get({ mode: "wrap" } as never)).message).toBe(
      'index: mode "wrap" is not one of "promise_in_bounds", "clip", "fill", "drop"'
    )
    expect(thrown(() => jnp.take(x3, jnp.array([0]), null, { mode: "promise_in_bounds" } as never))).toBeInstanceOf(
      ArgumentError
    )
  })

  it("pad with an unknown mode, a misplaced option or an empty axis is an ArgumentError", () => {
    expect(thrown(() => jnp.pad(x3, 1, { mode: "foo" } as never)).message).toMatch(
      /pad: mode "foo" is not one of "constant", "edge"/
    )
    expect(thrown(() => jnp.pad(x3, 1, { mode: "edge", constantValues: 1 })).message).toBe(
      'pad: the option constantValues does not apply to mode "edge" (only to "constant")'
    )
    expect(thrown(() => jnp.pad(jnp.zeros([0]), 1, { mode: "reflect" })).message).toBe(
      'pad: cannot apply "reflect" padding to axis 0, which is empty; use mode "constant"'
    )
    expect(thrown(() => jnp.pad(x3, -1))).toBeInstanceOf(ArgumentError)
  })

  it("the wrong forms do not compile either", () => {
    const never = (f: () => unknown): void => void f
    // @ts-expect-error: options are an object
    never(() => jnp.array(0, "float32"))
    // @ts-expect-error: a misspelt key
    never(() => jnp.zeros([2], { dtyp: "float32" }))
    // @ts-expect-error: not a pad mode
    never(() => jnp.pad(x3, 1, { mode: "foo" }))
    // @ts-expect-error: take has no promise_in_bounds mode (as in JAX)
    never(() => jnp.take(x3, jnp.array([0]), 0, { mode: "promise_in_bounds" }))
    // @ts-expect-error: the fill value is a number or a boolean
    never(() => jnp.full([2], "1"))
    never(() => x3.at(0).get({ mode: "fill", fillValue: 0 }))
    never(() => evalShape((v: JArray) => v, { shape: [2], dtype: "float32" }))
  })

  it("evalShape with a bad { shape, dtype } is a ShapeError or DTypeError", () => {
    expect(thrown(() => evalShape((v: JArray) => v, { shape: [-1], dtype: "float32" }))).toBeInstanceOf(ShapeError)
    expect(thrown(() => evalShape((v: JArray) => v, { shape: [2], dtype: "float64" as never }))).toBeInstanceOf(
      DTypeError
    )
  })
})
