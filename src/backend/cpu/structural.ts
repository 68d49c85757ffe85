/**
 * Kernels that only move elements: broadcasting, layout changes, slicing, concatenation, padding,
 * plus `iota` and the key wrappers.
 *
 * Each is one strided copy ({@link copyStrided}) between a source and a destination layout. A PRNG key
 * array is handled as its uint32 storage with a trailing axis of 2 words ({@link storageShape}); that
 * axis is never transposed, sliced or broadcast, so keys move as units. Pure reinterpretations (reshape,
 * squeeze, expand_dims, random_wrap/unwrap) return their input: arrays are immutable.
 */
import { allocHost, wordsPerElement } from "../DType.ts"
import type { HostArray } from "../DType.ts"
import type { Primitive } from "../Primitive.ts"
import { normalizeAxis, sizeOf, stridesOf } from "../shape.ts"
import type { CpuKernel } from "./kernel.ts"
import { broadcastStrides, copyStrided, storageShape } from "./stridedRows.ts"

/** reshape, squeeze, expand_dims, random_wrap, random_unwrap: the storage is already the result's. */
export const identityKernel =
  <P extends Primitive>(): CpuKernel<P> =>
  (inputs) => [inputs[0]!]

/** Appends the key-word axis to per-axis parameters when the array holds keys. */
const withWordAxis = <A>(keyed: boolean, xs: ReadonlyArray<A>, wordAxis: A): ReadonlyArray<A> =>
  keyed ? [...xs, wordAxis] : xs

export const broadcastInDimKernel: CpuKernel<"broadcast_in_dim"> = (inputs, inAvals, outAvals, params) => {
  const input = inputs[0]!
  const outAval = outAvals[0]!
  const size = sizeOf(outAval.shape)
  // Equal sizes mean the added axes all have size 1: row-major order is unchanged.
  if (size === sizeOf(inAvals[0]!.shape)) return [input]
  const out = allocHost(outAval.dtype, size)
  if (out.length === 0) return [out]
  if (input.length === 1) {
    out.fill(input[0]!)
    return [out]
  }
  const keyed = wordsPerElement(outAval.dtype) === 2
  const outShape = storageShape(outAval)
  const dims = withWordAxis(keyed, params.broadcastDimensions, outAval.shape.length)
  const inStrides = broadcastStrides(storageShape(inAvals[0]!))
  const src = new Array<number>(outShape.length).fill(0)
  dims.forEach((d, i) => {
    src[d] = inStrides[i]!
  })
  copyStrided(outShape, out, stridesOf(outShape), 0, input, src, 0)
  return [out]
}

export const transposeKernel: CpuKernel<"transpose"> = (inputs, inAvals, outAvals, params) => {
  const input = inputs[0]!
  const perm = params.permutation
  if (perm.every((p, i) => p === i)) return [input]
  const outAval = outAvals[0]!
  const keyed = wordsPerElement(outAval.dtype) === 2
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  const inStrides = stridesOf(storageShape(inAvals[0]!))
  const outShape = storageShape(outAval)
  const src = withWordAxis(keyed, perm, perm.length).map((p) => inStrides[p]!)
  copyStrided(outShape, out, stridesOf(outShape), 0, input, src, 0)
  return [out]
}

/** Copies the window `[start, start + size)` of `input` with per-axis steps (all in storage axes). */
const window = (
  input: HostArray,
  inShape: ReadonlyArray<number>,
  out: HostArray,
  outShape: ReadonlyArray<number>,
  starts: ReadonlyArray<number>,
  steps: ReadonlyArray<number>
): void => {
  const inStrides = stridesOf(inShape)
  let base = 0
  for (let i = 0; i < inStrides.length; i++) base += starts[i]! * inStrides[i]!
  copyStrided(
    outShape,
    out,
    stridesOf(outShape),
    0,
    input,
    inStrides.map((s, i) => s * steps[i]!),
    base
  )
}

export const sliceKernel: CpuKernel<"slice"> = (inputs, inAvals, outAvals, params) => {
  const outAval = outAvals[0]!
  const keyed = wordsPerElement(outAval.dtype) === 2
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  window(
    inputs[0]!,
    storageShape(inAvals[0]!),
    out,
    storageShape(outAval),
    withWordAxis(keyed, params.startIndices, 0),
    withWordAxis(keyed, params.strides, 1)
  )
  return [out]
}

/** XLA clamps dynamic start indices so the whole window stays inside the operand. */
const clampedStarts = (
  inputs: ReadonlyArray<HostArray>,
  first: number,
  shape: ReadonlyArray<number>,
  sizes: ReadonlyArray<number>
): Array<number> => shape.map((d, i) => Math.min(Math.max(inputs[first + i]![0]!, 0), d - sizes[i]!))

export const dynamicSliceKernel: CpuKernel<"dynamic_slice"> = (inputs, inAvals, outAvals, params) => {
  const inAval = inAvals[0]!
  const outAval = outAvals[0]!
  const keyed = wordsPerElement(outAval.dtype) === 2
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  const starts = clampedStarts(inputs, 1, inAval.shape, params.sliceSizes)
  window(
    inputs[0]!,
    storageShape(inAval),
    out,
    storageShape(outAval),
    withWordAxis(keyed, starts, 0),
    withWordAxis(
      keyed,
      starts.map(() => 1),
      1
    )
  )
  return [out]
}

export const dynamicUpdateSliceKernel: CpuKernel<"dynamic_update_slice"> = (inputs, inAvals) => {
  const operand = inputs[0]!,
    update = inputs[1]!
  const opAval = inAvals[0]!,
    updAval = inAvals[1]!
  const keyed = wordsPerElement(opAval.dtype) === 2
  const out = operand.slice()
  const starts = withWordAxis(keyed, clampedStarts(inputs, 2, opAval.shape, updAval.shape), 0)
  const outShape = storageShape(opAval)
  const updShape = storageShape(updAval)
  const outStrides = stridesOf(outShape)
  let base = 0
  for (let i = 0; i < outStrides.length; i++) base += starts[i]! * outStrides[i]!
  copyStrided(updShape, out, outStrides, base, update, stridesOf(updShape), 0)
  return [out]
}

export const concatenateKernel: CpuKernel<"concatenate"> = (inputs, inAvals, outAvals, params) => {
  const outAval = outAvals[0]!
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  const d = normalizeAxis("concatenate", params.dimension, outAval.shape.length)
  const outStrides = stridesOf(storageShape(outAval))
  let at = 0
  inputs.forEach((input, j) => {
    const shape = storageShape(inAvals[j]!)
    copyStrided(shape, out, outStrides, at * outStrides[d]!, input, stridesOf(shape), 0)
    at += shape[d]!
  })
  return [out]
}

export const padKernel: CpuKernel<"pad"> = (inputs, inAvals, outAvals, params) => {
  const outAval = outAvals[0]!
  const out = allocHost(outAval.dtype, sizeOf(outAval.shape))
  out.fill(inputs[1]![0]!)
  const outStrides = stridesOf(outAval.shape)
  let base = 0
  params.config.forEach(([lo], i) => {
    base += lo * outStrides[i]!
  })
  const dst = outStrides.map((s, i) => s * (params.config[i]![2] + 1))
  const inShape = inAvals[0]!.shape
  copyStrided(inShape, out, dst, base, inputs[0]!, stridesOf(inShape), 0)
  return [out]
}

export const iotaKernel: CpuKernel<"iota"> = (_inputs, _inAvals, _outAvals, params) => {
  const shape = params.shape
  const out = allocHost(params.dtype, sizeOf(shape))
  const d = normalizeAxis("iota", params.dimension, shape.length)
  const dim = shape[d]!
  const inner = sizeOf(shape.slice(d + 1))
  const outer = sizeOf(shape.slice(0, d))
  let i = 0
  for (let o = 0; o < outer; o++) {
    for (let v = 0; v < dim; v++) {
      for (let t = 0; t < inner; t++) out[i++] = v
    }
  }
  return [out]
}
