/**
 * The transpose of `fft` (JAX's `_fft_transpose_rule`). With JAX's convention for complex
 * cotangents (a cotangent pairs with a tangent as `re(ct · t)`, no conjugation), the DFT matrix is
 * symmetric, so `FFT` and `IFFT` are their own transposes; `RFFT` is an `FFT` of the real input
 * followed by a slice, so its transpose pads, transforms and keeps the real part; `IRFFT`'s is JAX's
 * masked, scaled and conjugated `RFFT`.
 *
 * @internal
 */
import type { Array as JArray } from "../../backend/Array.ts"
import { bind1 } from "../../backend/bind.ts"
import { fromHost } from "../../backend/numpy/creation.ts"
import type { Params } from "../../backend/Primitive.ts"
import { constant } from "./jvpRulesCommon.ts"

export const fftTranspose = (ct: JArray, x: JArray, p: Params<"fft">): JArray => {
  const lengths = p.fftLengths
  switch (p.fftType) {
    case "FFT":
    case "IFFT":
      return bind1("fft", [ct], p)
    case "RFFT": {
      const n = lengths[lengths.length - 1]!
      const have = ct.shape[ct.ndim - 1]!
      const config = ct.shape.map((_, i): readonly [number, number, number] => [0, i === ct.ndim - 1 ? n - have : 0, 0])
      const padded = bind1("pad", [ct, constant(0, 0, "complex64")], { config })
      return bind1("real", [bind1("fft", [padded], { fftType: "FFT", fftLengths: lengths })], {})
    }
    case "IRFFT": {
      const spectrum = bind1("fft", [ct], { fftType: "RFFT", fftLengths: lengths })
      const m = x.shape[x.ndim - 1]!
      const odd = lengths[lengths.length - 1]! % 2
      const scale = 1 / lengths.reduce((a, b) => a * b, 1)
      // The de-duplicated half spectrum: every entry but the zero frequency (and, for an even
      // length, the Nyquist one) stands for two.
      const mask = new Float32Array(2 * m)
      for (let k = 0; k < m; k++) mask[2 * k] = scale * (k === 0 || (odd === 0 && k === m - 1) ? 1 : 2)
      const maskArray = fromHost(mask, [...new Array<number>(x.ndim - 1).fill(1), m], "complex64")
      const scaled = bind1(
        "mul",
        [
          spectrum,
          bind1("broadcast_in_dim", [maskArray], {
            shape: spectrum.shape,
            broadcastDimensions: spectrum.shape.map((_, i) => i)
          })
        ],
        {}
      )
      return bind1("conj", [scaled], {})
    }
  }
}
