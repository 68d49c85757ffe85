/**
 * `jnp.fft`'s transforms against JAX (tools/goldens/complex_fft.py): every function with `n`/`s`,
 * `axis`/`axes` and each `norm`, over lengths that are and are not powers of two; gradients against
 * JAX's and finite differences; properties over random shapes and axes (inverses, Parseval, n-d as
 * composed 1-d transforms, a direct DFT for long prime lengths); `vmap` and `jit`; typed errors.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { ArgumentError, AxisError, DTypeError, grad, jit, jnp, lax, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { G } from "./complexGoldens.ts"
import { expectAllClose, expectGolden, fromGolden, goldens } from "./complexGoldens.ts"

type Options = Record<string, unknown>
interface FftGoldens {
  readonly fft: {
    readonly cases: ReadonlyArray<{ readonly fn: string; readonly x: G; readonly options: Options; readonly y: G }>
    readonly grads: ReadonlyArray<{
      readonly fn: string
      readonly x: G
      readonly options: Options
      readonly c: G
      readonly value: G
      readonly grad: G
    }>
  }
}
const F = goldens<FftGoldens>().fft

type Transform = (x: JArray, options?: Options) => JArray
const transforms: Record<string, Transform> = {
  fft: jnp.fft.fft,
  ifft: jnp.fft.ifft,
  rfft: jnp.fft.rfft,
  irfft: jnp.fft.irfft,
  hfft: jnp.fft.hfft,
  ihfft: jnp.fft.ihfft,
  fft2: jnp.fft.fft2,
  ifft2: jnp.fft.ifft2,
  rfft2: jnp.fft.rfft2,
  irfft2: jnp.fft.irfft2,
  fftn: jnp.fft.fftn,
  ifftn: jnp.fft.ifftn,
  rfftn: jnp.fft.rfftn,
  irfftn: jnp.fft.irfftn
} as Record<string, Transform>

const describeCase = (fn: string, options: Options, x: G): string =>
  `${fn}(${x.dtype}[${x.shape.join(",")}], ${JSON.stringify(options)})`

/** `sum(re(T(x) c)) + 0.01 sum(|T(x)|²)`, the scalar the gradient goldens differentiate. */
const objective =
  (t: Transform, options: Options, c: JArray) =>
  (v: JArray): JArray => {
    const out = t(v, options)
    const a = jnp.abs(out)
    return jnp.real(out.mul(c)).sum().add(a.mul(a).sum().mul(0.01))
  }

describe("jnp.fft against JAX", () => {
  it("every transform, with n/s, axis/axes and norm", () => {
    for (const { fn, x, options, y } of F.cases) {
      const t = transforms[fn]!
      expectGolden(t(fromGolden(x), options), y, describeCase(fn, options, x), { rtol: 1e-5, atol: 2e-6 })
    }
  })

  it("gradients follow JAX's transpose rules (FFT, IFFT self-transposed; RFFT, IRFFT as JAX)", () => {
    for (const { fn, x, options, c, value, grad: g } of F.grads) {
      const f = objective(transforms[fn]!, options, fromGolden(c))
      const label = describeCase(fn, options, x)
      expectGolden(f(fromGolden(x)), value, `${label} value`, { rtol: 1e-4, atol: 1e-5 })
      expectGolden(grad(f)(fromGolden(x)), g, `${label} grad`, { rtol: 1e-4, atol: 1e-5 })
    }
  })
})

const real = (shape: ReadonlyArray<number>, seed: number): JArray => {
  let s = seed >>> 0
  const n = shape.reduce((a, b) => a * b, 1)
  const data = Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s / 2 ** 32) * 4 - 2
  })
  return jnp.array(data, { dtype: "float32" }).reshape(shape)
}
const complex = (shape: ReadonlyArray<number>, seed: number): JArray =>
  lax.complex(real(shape, seed), real(shape, seed + 7))

const shapeAndAxis = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
    seed: fc.integer({ min: 0, max: 1e6 })
  })
)

describe("jnp.fft properties", () => {
  test.prop([shapeAndAxis], { numRuns: 30 })(
    "ifft(fft(x)) = x and irfft(rfft(x), n) = x along any axis",
    ({ shape, axis, seed }) => {
      const x = complex(shape, seed)
      expectAllClose(jnp.fft.ifft(jnp.fft.fft(x, { axis }), { axis }), x, "ifft∘fft", 1e-5)
      const r = real(shape, seed)
      const n = shape[axis < 0 ? axis + shape.length : axis]!
      expectAllClose(jnp.fft.irfft(jnp.fft.rfft(r, { axis }), { axis, n }), r, "irfft∘rfft", 1e-5)
    }
  )

  test.prop([shapeAndAxis], { numRuns: 30 })(
    "Parseval: sum |x|² = sum |fft(x)|² / n, and 'ortho' keeps the norm",
    ({ shape, axis, seed }) => {
      const x = complex(shape, seed)
      const n = shape[axis < 0 ? axis + shape.length : axis]!
      const energy = (v: JArray): number => Number(jnp.abs(v).mul(jnp.abs(v)).sum().item())
      const ex = energy(x)
      expect(Math.abs(energy(jnp.fft.fft(x, { axis })) / n - ex)).toBeLessThan(1e-4 * ex)
      expect(Math.abs(energy(jnp.fft.fft(x, { axis, norm: "ortho" })) - ex)).toBeLessThan(1e-4 * ex)
    }
  )

  test.prop(
    [fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }), fc.integer({ min: 0, max: 1e6 })],
    { numRuns: 20 }
  )(
    "fftn is the composition of one-dimensional transforms over its axes (more than three in stages)",
    (shape, seed) => {
      const x = complex(shape, seed)
      let y = x
      for (let a = 0; a < shape.length; a++) y = jnp.fft.fft(y, { axis: a })
      expectAllClose(jnp.fft.fftn(x), y, "fftn", 1e-5)
      expectAllClose(jnp.fft.ifftn(jnp.fft.fftn(x)), x, "ifftn∘fftn", 1e-5)
    }
  )

  it("long prime and composite lengths (Bluestein) agree with a direct DFT", () => {
    for (const n of [97, 257, 1000]) {
      const x = real([n], n)
      const xs = Array.from(x.dataSync())
      const y = jnp.fft.fft(x).dataSync()
      for (const k of [0, 1, Math.floor(n / 3), n - 1]) {
        let re = 0,
          im = 0
        for (let j = 0; j < n; j++) {
          re += xs[j]! * Math.cos((2 * Math.PI * j * k) / n)
          im -= xs[j]! * Math.sin((2 * Math.PI * j * k) / n)
        }
        expect(Math.abs(y[2 * k]! - re)).toBeLessThan(1e-4 * Math.sqrt(n))
        expect(Math.abs(y[2 * k + 1]! - im)).toBeLessThan(1e-4 * Math.sqrt(n))
      }
    }
  })

  test.prop([fc.integer({ min: 2, max: 9 }), fc.integer({ min: 0, max: 1e6 })], { numRuns: 15 })(
    "the gradient of a function of rfft and irfft matches finite differences",
    (n, seed) => {
      const x = real([n], seed)
      const c = complex([Math.floor(n / 2) + 1], seed + 1)
      const f = (v: JArray): JArray =>
        jnp
          .real(jnp.fft.rfft(v).mul(c))
          .sum()
          .add(jnp.fft.irfft(jnp.fft.rfft(v).mul(c), { n }).sum())
      const g = Array.from(grad(f)(x).dataSync())
      const xs = Array.from(x.dataSync())
      const h = 1e-2
      for (let i = 0; i < n; i++) {
        const at = (d: number): number =>
          Number(
            f(
              jnp.array(
                xs.map((v, j) => (j === i ? v + d : v)),
                { dtype: "float32" }
              )
            ).item()
          )
        const fd = (at(h) - at(-h)) / (2 * h)
        expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-2 * (1 + Math.abs(fd)))
      }
    }
  )
})

describe("jnp.fft under transforms", () => {
  it("vmap of a transform equals the transform of the stack, and jit equals eager", () => {
    const x = complex([4, 6], 3)
    const f = (v: JArray): JArray => jnp.fft.fft(v, { n: 8, norm: "ortho" })
    expectAllClose(vmap(f)(x), jnp.stack([0, 1, 2, 3].map((i) => f(x.get(i)))), "vmap", 1e-6)
    expectAllClose(
      vmap(f, { inAxes: 1 })(x),
      jnp.stack([0, 1, 2, 3, 4, 5].map((i) => f(x.get(":", i)))),
      "vmap axis 1",
      1e-6
    )
    const g = (v: JArray): JArray => jnp.fft.irfft2(jnp.fft.rfft2(jnp.real(v)).mul(2))
    expectAllClose(jit(g)(x), g(x), "jit", 1e-6)
    expectAllClose(
      vmap(grad((v: JArray) => jnp.abs(jnp.fft.fft(v)).sum()))(x),
      jnp.stack([0, 1, 2, 3].map((i) => grad((v: JArray) => jnp.abs(jnp.fft.fft(v)).sum())(x.get(i)))),
      "vmap of grad",
      1e-5
    )
  })
})

describe("jnp.fft errors", () => {
  it("names what was wrong", () => {
    expect(() => jnp.fft.rfft(complex([4], 1))).toThrow(DTypeError)
    expect(() => jnp.fft.fft(real([4], 1), { norm: "both" as "ortho" })).toThrow(ArgumentError)
    expect(() => jnp.fft.fft(real([4], 1), { axis: [0] as unknown as number })).toThrow(/multiple axes/)
    expect(() => jnp.fft.fftn(real([4, 4], 1), { axes: [0, 0] })).toThrow(AxisError)
    expect(() => jnp.fft.fftn(real([4, 4], 1), { s: [2], axes: [0, 1] })).toThrow(ArgumentError)
    expect(() => jnp.fft.fft(real([4], 1), { n: 0 })).toThrow(ArgumentError)
    expect(() => lax.fft(real([4], 1), "FFT", [4])).toThrow(DTypeError)
  })
})
