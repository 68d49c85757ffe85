/**
 * `jnp.fft`: the transforms (`fft`, `ifft`, `rfft`, `irfft`, `hfft`, `ihfft`, their 2-d and n-d
 * forms; see `fftTransforms.ts`) and the frequency helpers `fftfreq`, `rfftfreq`, `fftshift` and
 * `ifftshift`.
 *
 * @since 0.1.0
 */
import type { Array as JArray, ArrayLike } from "../Array.ts"
import { isArray } from "../Array.ts"
import { ArgumentError } from "../ArrayError.ts"
import { normalizeAxes } from "../shape.ts"
import { asArray, fromHost } from "./creation.ts"
import { convertTo, divide, multiply } from "./elementwise.ts"
import { roll } from "./extraShape.ts"

export {
  fft,
  fft2,
  fftn,
  hfft,
  ifft,
  ifft2,
  ifftn,
  ihfft,
  irfft,
  irfft2,
  irfftn,
  rfft,
  rfft2,
  rfftn
} from "./fftTransforms.ts"
export type { FftNOptions, FftNorm, FftOptions } from "./fftTransforms.ts"

const checkLength = (op: string, n: number): void => {
  if (!Number.isInteger(n) || n < 0)
    throw new ArgumentError({ op, reason: `n must be a non-negative integer, got ${n}` })
}

/** `k / (d·n)` for the integer frequencies `k`, divided in float32 as JAX does. */
const frequencies = (op: string, ks: ReadonlyArray<number>, n: number, d: number | JArray): JArray => {
  if (isArray(d))
    return divide(fromHost(Float32Array.from(ks), [ks.length], "float32"), multiply(convertTo(d, "float32"), n))
  if (typeof d !== "number" || !Number.isFinite(d))
    throw new ArgumentError({ op, reason: `d must be a finite number or an Array, got ${String(d)}` })
  const dn = Math.fround(d * n)
  return fromHost(
    Float32Array.from(ks, (k) => k / dn),
    [ks.length],
    "float32"
  )
}

/**
 * The sample frequencies of an `n`-point DFT with spacing `d`: `[0, 1, ..., ⌈n/2⌉-1, -⌊n/2⌋, ..., -1] / (d·n)`,
 * like `jnp.fft.fftfreq`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.fft.fftfreq(4).tolist() // [0, 0.25, -0.5, -0.25]
 * ```
 * @category fft
 * @since 0.1.0
 */
export const fftfreq = (n: number, d: number | JArray = 1): JArray => {
  checkLength("fft.fftfreq", n)
  const half = Math.floor(n / 2)
  const ks = Array.from({ length: n }, (_, i) => ((i + half) % n) - half)
  return frequencies("fft.fftfreq", ks, n, d)
}

/**
 * The non-negative sample frequencies of an `n`-point real DFT, `[0, 1, ..., ⌊n/2⌋] / (d·n)`, like
 * `jnp.fft.rfftfreq`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.fft.rfftfreq(5).tolist() // [0, 0.2, 0.4]
 * ```
 * @category fft
 * @since 0.1.0
 */
export const rfftfreq = (n: number, d: number | JArray = 1): JArray => {
  checkLength("fft.rfftfreq", n)
  const ks = Array.from({ length: Math.floor(n / 2) + 1 }, (_, i) => i)
  return frequencies("fft.rfftfreq", ks, n, d)
}

const shiftBy = (
  op: string,
  x: ArrayLike,
  axes: number | ReadonlyArray<number> | null | undefined,
  inverse: boolean
): JArray => {
  const a = asArray(x)
  const ax =
    axes === null || axes === undefined
      ? a.shape.map((_, i) => i)
      : normalizeAxes(op, typeof axes === "number" ? [axes] : axes, a.ndim)
  if (ax.length === 0) return a
  const shifts = ax.map((i) => (inverse ? -1 : 1) * Math.floor(a.shape[i]! / 2))
  return roll(a, shifts, ax)
}

/**
 * Moves the zero frequency to the centre (rolls each axis by half its length), like `jnp.fft.fftshift`.
 *
 * @example
 * ```ts
 * import { jnp } from "effect-nnx"
 *
 * jnp.fft.fftshift(jnp.fft.fftfreq(4)).tolist() // [-0.5, -0.25, 0, 0.25]
 * ```
 * @category fft
 * @since 0.1.0
 */
export const fftshift = (x: ArrayLike, axes?: number | ReadonlyArray<number> | null): JArray =>
  shiftBy("fft.fftshift", x, axes, false)

/**
 * The inverse of {@link fftshift} (they differ for odd lengths), like `jnp.fft.ifftshift`.
 * @category fft
 * @since 0.1.0
 */
export const ifftshift = (x: ArrayLike, axes?: number | ReadonlyArray<number> | null): JArray =>
  shiftBy("fft.ifftshift", x, axes, true)
