/**
 * `jnp.linalg.eig` and `eigvals` against JAX (tools/goldens/complex_fft.py): eigenvalues compared as
 * sorted sets (their order is LAPACK's); eigenvectors by their properties (`A v = λ v`, unit norm,
 * largest entry real and positive); gradients of symmetric functions of the eigenvalues against JAX
 * and finite differences; eigenvector derivatives refused as in JAX; `vmap` and `jit`.
 */
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { grad, GradError, jit, jnp, ShapeError, vmap } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"
import type { G } from "./complexGoldens.ts"
import { expectGolden, fromGolden, goldens } from "./complexGoldens.ts"

interface EigGoldens {
  readonly eig: {
    readonly cases: ReadonlyArray<{
      readonly name: string
      readonly a: G
      readonly w_sorted: G
      readonly eigvals_sorted: G
    }>
    readonly grads: ReadonlyArray<{ readonly name: string; readonly a: G; readonly value: G; readonly grad: G }>
  }
}
const E = goldens<EigGoldens>().eig

/** Eigenvalues sorted along the last axis by real part, then imaginary part (rounded as the golden script does). */
const sortEigs = (w: JArray): JArray => {
  const n = w.shape[w.ndim - 1]!
  const data = w.dataSync()
  const out = new Float32Array(data.length)
  const rows = w.size / n
  for (let r = 0; r < rows; r++) {
    const items = Array.from({ length: n }, (_, i) => [data[2 * (r * n + i)]!, data[2 * (r * n + i) + 1]!] as const)
    const key = (v: number): number => Math.round(v * 1e4) / 1e4
    items.sort((a, b) => key(a[0]) - key(b[0]) || key(a[1]) - key(b[1]))
    items.forEach(([re, im], i) => {
      out[2 * (r * n + i)] = re
      out[2 * (r * n + i) + 1] = im
    })
  }
  return jnp
    .array(Array.from({ length: out.length / 2 }, (_, i) => ({ re: out[2 * i]!, im: out[2 * i + 1]! })))
    .reshape(w.shape)
}

/** Checks `A v = v diag(w)`, unit columns, and each column's largest entry real and non-negative. */
const checkVectors = (a: JArray, w: JArray, v: JArray, label: string, tol: number): void => {
  const ac = a.astype("complex64")
  const lhs = ac.matmul(v)
  const rhs = v.mul(jnp.expandDims(w, -2))
  const scale = Math.max(1, Number(jnp.abs(ac).max().item()))
  const err = Number(jnp.abs(lhs.sub(rhs)).max().item())
  expect(err, `${label}: |A v - v w|`).toBeLessThan(tol * scale)
  const norms = jnp.sqrt(jnp.abs(v).mul(jnp.abs(v)).sum(-2)).dataSync()
  for (const nrm of norms) expect(Math.abs(nrm - 1), `${label}: column norm`).toBeLessThan(1e-5)
  const n = v.shape[v.ndim - 1]!
  const vd = v.dataSync()
  const batches = v.size / (n * n)
  for (let b = 0; b < batches; b++) {
    for (let col = 0; col < n; col++) {
      let best = 0,
        bestAbs = -1
      for (let r = 0; r < n; r++) {
        const i = 2 * (b * n * n + r * n + col)
        const m = Math.hypot(vd[i]!, vd[i + 1]!)
        if (m > bestAbs * (1 + 1e-5)) {
          bestAbs = m
          best = i
        }
      }
      expect(vd[best]!, `${label}: largest entry real part`).toBeGreaterThan(0)
      expect(Math.abs(vd[best + 1]!), `${label}: largest entry imaginary part`).toBeLessThan(1e-6)
    }
  }
}

describe("jnp.linalg.eig against JAX", () => {
  it("eigenvalues (as sorted sets) of real, complex, batched, triangular and defective matrices", () => {
    for (const { name, a, w_sorted, eigvals_sorted } of E.cases) {
      const A = fromGolden(a)
      const [w, v] = jnp.linalg.eig(A)
      const tol = name === "defective" ? { rtol: 1e-3, atol: 1e-3 } : { rtol: 1e-4, atol: 1e-5 }
      expectGolden(sortEigs(w), w_sorted, `${name} eig`, tol)
      expectGolden(sortEigs(jnp.linalg.eigvals(A)), eigvals_sorted, `${name} eigvals`, tol)
      if (name !== "defective") checkVectors(A, w, v, name, 1e-4)
    }
  })

  it("gradients of a symmetric function of the eigenvalues, real and complex input", () => {
    for (const { name, a, value, grad: g } of E.grads) {
      const f = (m: JArray): JArray =>
        jnp
          .real(
            jnp.linalg
              .eigvals(m)
              .mul(jnp.linalg.eigvals(m))
              .mul(jnp.array({ re: 1, im: 0.5 }))
          )
          .sum()
      expectGolden(f(fromGolden(a)), value, `${name} value`, { rtol: 1e-4, atol: 1e-4 })
      expectGolden(grad(f)(fromGolden(a)), g, `${name} grad`, { rtol: 1e-3, atol: 1e-4 })
    }
  })
})

const matrix = (n: number, seed: number): JArray => {
  let s = seed >>> 0
  return jnp
    .array(
      Array.from({ length: n * n }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0
        return (s / 2 ** 32) * 4 - 2
      }),
      { dtype: "float32" }
    )
    .reshape(n, n)
}

describe("jnp.linalg.eig properties", () => {
  test.prop([fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1e6 }), fc.boolean()], { numRuns: 30 })(
    "A v = λ v with unit eigenvectors, for random real and complex matrices",
    (n, seed, isComplex) => {
      const a = isComplex
        ? jnp
            .array(matrix(n, seed))
            .astype("complex64")
            .add(
              matrix(n, seed + 1)
                .astype("complex64")
                .mul(jnp.array({ re: 0, im: 1 }))
            )
        : matrix(n, seed)
      const [w, v] = jnp.linalg.eig(a)
      checkVectors(a, w, v, `n=${n}`, 1e-4 * n)
      // The trace is the sum of the eigenvalues.
      const tr = jnp.trace(a.astype("complex64")).item() as { re: number; im: number }
      const s = w.sum().item() as { re: number; im: number }
      expect(Math.abs(tr.re - s.re) + Math.abs(tr.im - s.im)).toBeLessThan(1e-4 * n * (1 + Math.abs(tr.re)))
    }
  )

  test.prop([fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1e6 })], { numRuns: 10 })(
    "the gradient of sum(re(λ²)) matches finite differences",
    (n, seed) => {
      const a = matrix(n, seed)
      const f = (m: JArray): JArray => jnp.real(jnp.linalg.eigvals(m).mul(jnp.linalg.eigvals(m))).sum()
      const g = grad(f)(a).dataSync()
      const xs = Array.from(a.dataSync())
      const h = 1e-2
      for (const i of [0, n + 1, n * n - 1]) {
        const at = (d: number): number =>
          Number(
            f(
              jnp
                .array(
                  xs.map((v, j) => (j === i ? v + d : v)),
                  { dtype: "float32" }
                )
                .reshape(n, n)
            ).item()
          )
        const fd = (at(h) - at(-h)) / (2 * h)
        // sum(λ²) = trace(A²): smooth even where eigenvalues meet.
        expect(Math.abs(g[i]! - fd)).toBeLessThan(3e-2 * (1 + Math.abs(fd)))
      }
    }
  )
})

describe("jnp.linalg.eig under transforms and errors", () => {
  it("vmap equals a loop and jit equals eager", () => {
    const stack = jnp.stack([matrix(4, 1), matrix(4, 2), matrix(4, 3)])
    const batched = vmap(jnp.linalg.eigvals)(stack)
    for (let i = 0; i < 3; i++) {
      expect(Array.from(sortEigs(batched.get(i)).dataSync())).toEqual(
        Array.from(sortEigs(jnp.linalg.eigvals(stack.get(i))).dataSync())
      )
    }
    const [w] = jit((m: JArray) => jnp.linalg.eig(m))(matrix(5, 9))
    expect(Array.from(w.dataSync())).toEqual(Array.from(jnp.linalg.eig(matrix(5, 9))[0].dataSync()))
  })

  it("refuses eigenvector derivatives and non-square input, naming them", () => {
    expect(() => grad((m: JArray) => jnp.abs(jnp.linalg.eig(m)[1]).sum())(matrix(3, 1))).toThrow(GradError)
    expect(() => grad((m: JArray) => jnp.abs(jnp.linalg.eig(m)[1]).sum())(matrix(3, 1))).toThrow(/eigenvectors/)
    expect(() => jnp.linalg.eig(jnp.ones([2, 3]))).toThrow(ShapeError)
  })
})
