/**
 * The JVP of `eig`, as JAX's `eig_jvp_rule`: eigenvalues are differentiable,
 * `dw = diag(V⁻¹ dA V)`; eigenvectors are not (JAX refuses them unless asked to assume what it
 * cannot check, see jax-ml/jax#2748), and here they are refused with a GradError. The VJP is the
 * JVP's transpose.
 *
 * `V⁻¹` comes from the real 2n × 2n embedding `[[re V, -im V], [im V, re V]]`, inverted by
 * `jnp.linalg.inv`; its left half holds `re V⁻¹` and `im V⁻¹`.
 *
 * @internal
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind, bind1 } from "../../backend/bind.ts"
import { fromHost } from "../../backend/numpy/creation.ts"
import { inv } from "../../backend/numpy/linalgDecomp.ts"
import type { Params } from "../../backend/Primitive.ts"
import { GradError } from "./TransformError.ts"

const swapLast = (x: JArray): JArray => {
  const perm = x.shape.map((_, i) => i)
  perm[x.ndim - 1] = x.ndim - 2
  perm[x.ndim - 2] = x.ndim - 1
  return bind1("transpose", [x], { permutation: perm })
}

/** Batched matrix product over the trailing two axes. */
const matmul = (a: JArray, b: JArray): JArray => {
  const batch = a.shape.slice(0, -2).map((_, i) => i)
  return bind1("dot_general", [a, b], {
    lhsContracting: [a.ndim - 1],
    rhsContracting: [b.ndim - 2],
    lhsBatch: batch,
    rhsBatch: batch
  })
}

const sliceLast2 = (x: JArray, r0: number, r1: number, c0: number, c1: number): JArray => {
  const nd = x.ndim
  return bind1("slice", [x], {
    startIndices: x.shape.map((_, i) => (i === nd - 2 ? r0 : i === nd - 1 ? c0 : 0)),
    limitIndices: x.shape.map((d, i) => (i === nd - 2 ? r1 : i === nd - 1 ? c1 : d)),
    strides: x.shape.map(() => 1)
  })
}

const inverse = (v: JArray): JArray => {
  const n = v.shape[v.ndim - 1]!
  const re = bind1("real", [v], {})
  const im = bind1("imag", [v], {})
  const top = bind1("concatenate", [re, bind1("neg", [im], {})], { dimension: v.ndim - 1 })
  const bottom = bind1("concatenate", [im, re], { dimension: v.ndim - 1 })
  const m = inv(bind1("concatenate", [top, bottom], { dimension: v.ndim - 2 }))
  return bind1("complex", [sliceLast2(m, 0, n, 0, n), sliceLast2(m, n, 2 * n, 0, n)], {})
}

/**
 * The cotangent of `a` from that of the eigenvalues: `V⁻ᵀ diag(ct) Vᵀ`, the transpose of the JVP
 * above (real part for a real `a`); eigenvector cotangents are refused as their tangents are.
 */
export const eigVjp = (a: JArray, cts: ReadonlyArray<JArray | null>, params: Params<"eig">): JArray | null => {
  const ct = cts[0] ?? null
  if (params.vectors && cts[1] !== null && cts[1] !== undefined) throw eigenvectorError("vjp")
  if (ct === null) return null
  const [, v] = bind("eig", [a], { vectors: true }) as [JArray, JArray]
  const n = v.shape[v.ndim - 1]!
  const diag = bind1(
    "mul",
    [
      bind1("broadcast_in_dim", [ct], { shape: v.shape, broadcastDimensions: [...ct.shape.map((_, i) => i)] }),
      eyeLike(n, v.ndim)
    ],
    {}
  )
  const g = matmul(matmul(swapLast(inverse(v)), diag), swapLast(v))
  return a.dtype === "complex64" ? g : bind1("real", [g], {})
}

const eigenvectorError = (transform: string): GradError =>
  new GradError({
    transform,
    reason:
      "derivatives of non-symmetric eigenvectors are not supported (as in JAX, they are only valid under assumptions on the input that cannot be checked); differentiate jnp.linalg.eigvals, or use jnp.linalg.eigh for symmetric matrices"
  })

/** The identity as complex64 of rank `rank` (leading axes of size 1). */
const eyeLike = (n: number, rank: number): JArray => {
  const data = new Float32Array(2 * n * n)
  for (let i = 0; i < n; i++) data[2 * (i * n + i)] = 1
  return fromHost(data, [...new Array<number>(rank - 2).fill(1), n, n], "complex64")
}

export const eigJvp = (
  a: JArray,
  t: JArray | null,
  params: Params<"eig">
): readonly [ReadonlyArray<JArray>, ReadonlyArray<JArray | null>] => {
  if (t !== null && params.vectors) throw eigenvectorError("jvp")
  const outs = bind("eig", [a], params)
  if (t === null) return [outs, outs.map(() => null)]
  const [, v] = bind("eig", [a], { vectors: true }) as [JArray, JArray]
  const da =
    t.dtype === "complex64" ? t : bind1("convert_element_type", [t], { newDtype: "complex64", weakType: false })
  const y = matmul(inverse(v), da)
  const dw = bind1("reduce_sum", [bind1("mul", [y, swapLast(v)], {})], { axes: [y.ndim - 1] })
  return [outs, [dw]]
}
