/**
 * Dtype conversions. `convert_element_type` follows XLA's value semantics (float→int truncates toward
 * zero, saturates, and maps NaN to 0; int32↔uint32 keep the bits); `bitcast_convert_type` keeps the
 * 32-bit pattern. Reinterpretations return views of the input's buffer, which is safe because
 * arrays are immutable.
 */
import { DTypeError } from "../ArrayError.ts"
import type { HostArray, NumericDType } from "../DType.ts"
import type { CpuKernel } from "./kernel.ts"

const view = (input: HostArray, to: "float32" | "int32" | "uint32"): HostArray => {
  const { buffer, byteOffset, length } = input
  switch (to) {
    case "float32":
      return new Float32Array(buffer, byteOffset, length)
    case "int32":
      return new Int32Array(buffer, byteOffset, length)
    case "uint32":
      return new Uint32Array(buffer, byteOffset, length)
  }
}

const floatToInt32 = (a: HostArray): Int32Array => {
  const n = a.length
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const x = a[i]!
    // `x | 0` truncates toward zero; the comparisons saturate first (NaN fails both and the `| 0` gives 0).
    out[i] = x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : x | 0
  }
  return out
}

const floatToUint32 = (a: HostArray): Uint32Array => {
  const n = a.length
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    const x = a[i]!
    out[i] = x >= 4294967295 ? 4294967295 : x > 0 ? x >>> 0 : 0
  }
  return out
}

const toBool = (a: HostArray): Uint8Array => {
  const n = a.length
  const out = new Uint8Array(n)
  // NaN !== 0, so NaN converts to true as in XLA.
  for (let i = 0; i < n; i++) out[i] = a[i]! !== 0 ? 1 : 0
  return out
}

/** The real words of interleaved complex storage. */
const realPart = (a: HostArray): Float32Array => {
  const n = a.length >> 1
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = a[2 * i]!
  return out
}

/**
 * XLA's complex conversions: a real value becomes `x + 0i`; complex to a real dtype keeps the real
 * part (NumPy warns there, JAX does too), except to bool, which is true where either part is nonzero.
 */
const convert = (input: HostArray, from: NumericDType, to: NumericDType): HostArray => {
  if (from === to) return input
  if (to === "complex64") {
    const re = from === "float32" ? input : convert(input, from, "float32")
    const out = new Float32Array(2 * re.length)
    for (let i = 0; i < re.length; i++) out[2 * i] = re[i]!
    return out
  }
  if (from === "complex64") {
    if (to === "bool") {
      const n = input.length >> 1
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = input[2 * i]! !== 0 || input[2 * i + 1]! !== 0 ? 1 : 0
      return out
    }
    return convert(realPart(input), "float32", to)
  }
  switch (to) {
    case "bool":
      return toBool(input)
    case "float32":
      // The typed-array constructor converts each element with round-to-nearest-even.
      return new Float32Array(input)
    case "int32":
      if (from === "float32") return floatToInt32(input)
      return from === "uint32" ? view(input, "int32") : new Int32Array(input)
    case "uint32":
      if (from === "float32") return floatToUint32(input)
      return from === "int32" ? view(input, "uint32") : new Uint32Array(input)
  }
}

export const convertElementTypeKernel: CpuKernel<"convert_element_type"> = (inputs, inAvals, _outAvals, params) => {
  const from = inAvals[0]!.dtype
  if (from === "key<fry>") {
    throw new DTypeError({
      op: "convert_element_type",
      dtypes: [from],
      reason: "PRNG keys have no numeric value; use random.keyData"
    })
  }
  return [convert(inputs[0]!, from, params.newDtype)]
}

export const bitcastConvertTypeKernel: CpuKernel<"bitcast_convert_type"> = (inputs, inAvals, _outAvals, params) => {
  const input = inputs[0]!
  return [inAvals[0]!.dtype === params.newDtype ? input : view(input, params.newDtype)]
}
