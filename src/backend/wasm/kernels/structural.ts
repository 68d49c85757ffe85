/**
 * Kernels that only move elements (broadcast_in_dim, transpose, slice, dynamic_slice,
 * dynamic_update_slice, concatenate, pad) and iota.
 *
 * Each copy is a plan whose output node is its input node, read and written through strides, so the
 * elementwise code generator does the work: contiguous runs move as vectors, broadcasts as splats,
 * transposes as gathers. As in the cpu kernels, a PRNG key array (or a complex64 one) is its
 * 32-bit storage with a trailing axis of 2 words that is never broadcast, sliced or transposed, so keys move as units. Start
 * indices of the dynamic slices are read from the memory and clamped as XLA does, outside the
 * generated code, so one kernel serves every start.
 *
 * @since 0.2.0
 */
import type { Aval, DType } from "../../DType.ts"
import type { WasmKernel, WasmRuntime } from "../runtime.ts"
import { cachedPlan } from "./elementwise.ts"
import { bytesOf, count, rowMajor } from "./plan.ts"

interface Storage {
  readonly dtype: DType
  readonly shape: ReadonlyArray<number>
}

/**
 * An array's storage: keys as uint32 and complex64 as float32, each with a trailing axis of two words
 * (a key's, or the real and imaginary parts), so both move as 8-byte units.
 */
const storage = (a: Aval): Storage =>
  a.dtype === "key<fry>"
    ? { dtype: "uint32", shape: [...a.shape, 2] }
    : a.dtype === "complex64"
      ? { dtype: "float32", shape: [...a.shape, 2] }
      : { dtype: a.dtype, shape: a.shape }
const keyed = (a: Aval): boolean => a.dtype === "key<fry>" || a.dtype === "complex64"

/**
 * Copies `shape` elements from byte address `src` (element strides `from`) to `dst` (strides `to`), as
 * a generated kernel on the pool's threads. Other kernels use it for their layout changes.
 */
export const copy = (
  rt: WasmRuntime,
  dtype: DType,
  shape: ReadonlyArray<number>,
  src: number,
  from: ReadonlyArray<number>,
  dst: number,
  to: ReadonlyArray<number>
): void => {
  if (count(shape) === 0) return
  cachedPlan(rt, `copy:${dtype}:${shape.join(",")}:${from.join(",")}:${to.join(",")}`, () => ({
    shape,
    inputs: [{ dtype, strides: from }],
    nodes: [{ kind: "input", input: 0, dtype }],
    outputs: { kind: "map", results: [{ node: 0, strides: to }] }
  }))!([src, dst])
}

/** @category kernels @since 0.2.0 */
export const broadcastInDimKernel: WasmKernel<"broadcast_in_dim"> = (
  rt,
  inputs,
  outputs,
  inAvals,
  outAvals,
  params
) => {
  const input = storage(inAvals[0]!),
    out = storage(outAvals[0]!)
  const dims = keyed(inAvals[0]!) ? [...params.broadcastDimensions, params.shape.length] : params.broadcastDimensions
  const inStrides = rowMajor(input.shape)
  const from = out.shape.map(() => 0)
  dims.forEach((d, i) => {
    from[d] = input.shape[i] === 1 ? 0 : inStrides[i]!
  })
  copy(rt, out.dtype, out.shape, inputs[0]!, from, outputs[0]!, rowMajor(out.shape))
}

/** @category kernels @since 0.2.0 */
export const transposeKernel: WasmKernel<"transpose"> = (rt, inputs, outputs, inAvals, outAvals, params) => {
  const input = storage(inAvals[0]!),
    out = storage(outAvals[0]!)
  const perm = keyed(inAvals[0]!) ? [...params.permutation, params.permutation.length] : params.permutation
  const inStrides = rowMajor(input.shape)
  copy(
    rt,
    out.dtype,
    out.shape,
    inputs[0]!,
    perm.map((p) => inStrides[p]!),
    outputs[0]!,
    rowMajor(out.shape)
  )
}

/** Copies the window of `input` at `starts` with `steps` into the whole of `out`. */
const window = (
  rt: WasmRuntime,
  input: Storage,
  src: number,
  out: Storage,
  dst: number,
  starts: ReadonlyArray<number>,
  steps: ReadonlyArray<number>
): void => {
  const inStrides = rowMajor(input.shape)
  const base = starts.reduce((s, x, i) => s + x * inStrides[i]!, 0)
  copy(
    rt,
    out.dtype,
    out.shape,
    src + base * bytesOf(input.dtype),
    inStrides.map((s, i) => s * steps[i]!),
    dst,
    rowMajor(out.shape)
  )
}

/** @category kernels @since 0.2.0 */
export const sliceKernel: WasmKernel<"slice"> = (rt, inputs, outputs, inAvals, outAvals, params) => {
  const key = keyed(inAvals[0]!)
  window(
    rt,
    storage(inAvals[0]!),
    inputs[0]!,
    storage(outAvals[0]!),
    outputs[0]!,
    key ? [...params.startIndices, 0] : params.startIndices,
    key ? [...params.strides, 1] : params.strides
  )
}

/** The start indices at `pointers` (scalars of `avals`), clamped so the window fits in `shape`. */
const clampedStarts = (
  rt: WasmRuntime,
  pointers: ReadonlyArray<number>,
  avals: ReadonlyArray<Aval>,
  shape: ReadonlyArray<number>,
  sizes: ReadonlyArray<number>
): Array<number> =>
  shape.map((d, i) => {
    const at = pointers[i]! >>> 2
    const index = avals[i]!.dtype === "uint32" ? rt.u32()[at]! : rt.i32()[at]!
    return Math.min(Math.max(index, 0), d - sizes[i]!)
  })

/** @category kernels @since 0.2.0 */
export const dynamicSliceKernel: WasmKernel<"dynamic_slice"> = (rt, inputs, outputs, inAvals, outAvals, params) => {
  const a = inAvals[0]!
  const starts = clampedStarts(rt, inputs.slice(1), inAvals.slice(1), a.shape, params.sliceSizes)
  const key = keyed(a)
  window(
    rt,
    storage(a),
    inputs[0]!,
    storage(outAvals[0]!),
    outputs[0]!,
    key ? [...starts, 0] : starts,
    key ? [...starts.map(() => 1), 1] : starts.map(() => 1)
  )
}

/** @category kernels @since 0.2.0 */
export const dynamicUpdateSliceKernel: WasmKernel<"dynamic_update_slice"> = (rt, inputs, outputs, inAvals) => {
  const operand = storage(inAvals[0]!),
    update = storage(inAvals[1]!)
  const starts = clampedStarts(rt, inputs.slice(2), inAvals.slice(2), inAvals[0]!.shape, inAvals[1]!.shape)
  const outStrides = rowMajor(operand.shape)
  copy(rt, operand.dtype, operand.shape, inputs[0]!, outStrides, outputs[0]!, outStrides)
  const base = starts.reduce((s, x, i) => s + x * outStrides[i]!, 0)
  copy(
    rt,
    update.dtype,
    update.shape,
    inputs[1]!,
    rowMajor(update.shape),
    outputs[0]! + base * bytesOf(operand.dtype),
    outStrides
  )
}

/** @category kernels @since 0.2.0 */
export const concatenateKernel: WasmKernel<"concatenate"> = (rt, inputs, outputs, inAvals, outAvals, params) => {
  const out = storage(outAvals[0]!)
  const rank = outAvals[0]!.shape.length
  const d = params.dimension < 0 ? params.dimension + rank : params.dimension
  const outStrides = rowMajor(out.shape)
  let at = 0
  inAvals.forEach((a, j) => {
    const input = storage(a)
    copy(
      rt,
      out.dtype,
      input.shape,
      inputs[j]!,
      rowMajor(input.shape),
      outputs[0]! + at * outStrides[d]! * bytesOf(out.dtype),
      outStrides
    )
    at += input.shape[d]!
  })
}

/** @category kernels @since 0.2.0 */
export const padKernel: WasmKernel<"pad"> = (rt, inputs, outputs, inAvals, outAvals, params) => {
  const out = outAvals[0]!
  const outStrides = rowMajor(out.shape)
  // The padding value everywhere, then the operand over it with steps of interior + 1.
  copy(
    rt,
    out.dtype,
    out.shape,
    inputs[1]!,
    out.shape.map(() => 0),
    outputs[0]!,
    outStrides
  )
  const base = params.config.reduce((s, [lo], i) => s + lo * outStrides[i]!, 0)
  copy(
    rt,
    out.dtype,
    inAvals[0]!.shape,
    inputs[0]!,
    rowMajor(inAvals[0]!.shape),
    outputs[0]! + base * bytesOf(out.dtype),
    outStrides.map((s, i) => s * (params.config[i]![2] + 1))
  )
}

/** iota: index along `dimension`, written by JavaScript on the memory (there is nothing to read). */
export const iotaKernel: WasmKernel<"iota"> = (rt, _inputs, outputs, _inAvals, _outAvals, params) => {
  const shape = params.shape
  const d = params.dimension < 0 ? params.dimension + shape.length : params.dimension
  const dim = shape[d]!,
    inner = count(shape.slice(d + 1)),
    outer = count(shape.slice(0, d))
  const view = params.dtype === "float32" ? rt.f32() : params.dtype === "uint32" ? rt.u32() : rt.i32()
  let i = outputs[0]! >>> 2
  for (let o = 0; o < outer; o++) {
    if (inner === 1) {
      // The common case (arange, random counters): a plain loop beats a fill call per element.
      for (let v = 0; v < dim; v++) view[i++] = v
      continue
    }
    for (let v = 0; v < dim; v++) {
      view.fill(v, i, i + inner)
      i += inner
    }
  }
}
