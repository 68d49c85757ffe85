/**
 * gpu.js sources of the primitives that only move elements: transpose, broadcast_in_dim, slice (and
 * dynamic_slice with host-known starts), pad, concatenate and dynamic_update_slice.
 *
 * transpose, broadcast and slice are one strided gather: output element `i`, decomposed over the
 * output shape, reads the input at `base + Σ coord_d · stride_d`, where a transposed axis takes the
 * permuted stride, a broadcast axis stride 0 and a sliced axis `stride · step`.
 */
import { kernelSource, lit, offsets, rowMajor } from "./codegen.ts"

/** A gather of `outShape` elements from one input at `base + Σ coord_d · strides[d]`. */
export const gatherSource = (outShape: ReadonlyArray<number>, strides: ReadonlyArray<number>, base: number): string =>
  kernelSource(1, `${offsets("i", outShape, [strides], ["j0"], [base])}\nreturn x0[j0];`)

/**
 * A gather whose base offset is a run-time scalar argument (`x1`): `dynamic_slice`, whose starts
 * change from call to call (a scan's step index) while the kernel stays the same.
 */
export const dynamicGatherSource = (outShape: ReadonlyArray<number>, strides: ReadonlyArray<number>): string =>
  kernelSource(2, `${offsets("i", outShape, [strides], ["j0"])}\nreturn x0[x1 + j0];`)

/** Input strides of a transpose, per output axis. */
export const transposeStrides = (inShape: ReadonlyArray<number>, permutation: ReadonlyArray<number>): Array<number> => {
  const st = rowMajor(inShape)
  return permutation.map((p) => st[p]!)
}

/** Input strides of `broadcast_in_dim`, per output axis (0 along new and size-1 axes). */
export const broadcastInDimStrides = (
  inShape: ReadonlyArray<number>,
  outRank: number,
  broadcastDimensions: ReadonlyArray<number>
): Array<number> => {
  const st = rowMajor(inShape)
  const out = new Array<number>(outRank).fill(0)
  broadcastDimensions.forEach((d, i) => {
    out[d] = inShape[i] === 1 ? 0 : st[i]!
  })
  return out
}

/** Base offset and per-axis strides of a strided window `[start, ...)` with `steps`. */
export const windowGather = (
  inShape: ReadonlyArray<number>,
  starts: ReadonlyArray<number>,
  steps: ReadonlyArray<number>
): { readonly base: number; readonly strides: Array<number> } => {
  const st = rowMajor(inShape)
  return { base: st.reduce((acc, s, d) => acc + s * starts[d]!, 0), strides: st.map((s, d) => s * steps[d]!) }
}

/**
 * `pad(x, value)` with (lo, hi, interior) per axis: output coordinate `c` comes from input
 * `(c - lo) / (interior + 1)` when that is a whole number inside the input, else it is the value.
 * Negative `lo`/`hi` (cropping) work the same way.
 */
export const padSource = (
  inShape: ReadonlyArray<number>,
  outShape: ReadonlyArray<number>,
  config: ReadonlyArray<readonly [number, number, number]>
): string => {
  const outStrides = rowMajor(outShape)
  const inStrides = rowMajor(inShape)
  const lines: Array<string> = ["let rest = i;", "let src = 0.0;", "let inside = 1.0;"]
  outShape.forEach((_, d) => {
    const [lo, , interior] = config[d]!
    const step = interior + 1
    lines.push(`let c${d} = Math.floor(rest / ${lit(outStrides[d]!)});`)
    lines.push(`if (rest - c${d} * ${lit(outStrides[d]!)} < 0.0) { c${d} = c${d} - 1.0; }`)
    lines.push(`if (rest - c${d} * ${lit(outStrides[d]!)} >= ${lit(outStrides[d]!)}) { c${d} = c${d} + 1.0; }`)
    lines.push(`rest = rest - c${d} * ${lit(outStrides[d]!)};`)
    lines.push(`let p${d} = c${d} - ${lit(lo)};`)
    lines.push(`let q${d} = Math.floor(p${d} / ${lit(step)});`)
    lines.push(`if (p${d} - q${d} * ${lit(step)} < 0.0) { q${d} = q${d} - 1.0; }`)
    lines.push(`if (p${d} - q${d} * ${lit(step)} >= ${lit(step)}) { q${d} = q${d} + 1.0; }`)
    lines.push(
      `if (p${d} < 0.0 || p${d} - q${d} * ${lit(step)} !== 0.0 || q${d} >= ${lit(inShape[d]!)}) { inside = 0.0; }`
    )
    lines.push(`src = src + q${d} * ${lit(inStrides[d]!)};`)
  })
  lines.push("if (inside > 0.5) { return x0[src]; }", "return x1[0];")
  return kernelSource(2, lines.join("\n"))
}

/** `concatenate` along `dimension`: each output element picks the operand whose range holds it. */
export const concatenateSource = (
  shapes: ReadonlyArray<ReadonlyArray<number>>,
  outShape: ReadonlyArray<number>,
  dimension: number
): string => {
  const inner = outShape.slice(dimension + 1).reduce((a, b) => a * b, 1)
  const total = outShape[dimension]!
  const lines: Array<string> = []
  // i = (o · total + c) · inner + e
  lines.push(`let o = Math.floor(i / ${lit(total * inner)});`)
  lines.push(`if (i - o * ${lit(total * inner)} < 0.0) { o = o - 1.0; }`)
  lines.push(`if (i - o * ${lit(total * inner)} >= ${lit(total * inner)}) { o = o + 1.0; }`)
  lines.push(`const rest = i - o * ${lit(total * inner)};`)
  lines.push(`let c = Math.floor(rest / ${lit(inner)});`)
  lines.push(`if (rest - c * ${lit(inner)} < 0.0) { c = c - 1.0; }`)
  lines.push(`if (rest - c * ${lit(inner)} >= ${lit(inner)}) { c = c + 1.0; }`)
  lines.push(`const e = rest - c * ${lit(inner)};`)
  let start = 0
  shapes.forEach((s, k) => {
    const size = s[dimension]!
    const end = start + size
    const read = `x${k}[(o * ${lit(size)} + (c - ${lit(start)})) * ${lit(inner)} + e]`
    lines.push(k === shapes.length - 1 ? `return ${read};` : `if (c < ${lit(end)}) { return ${read}; }`)
    start = end
  })
  return kernelSource(shapes.length, lines.join("\n"))
}

/**
 * `dynamic_update_slice`: inside the window the update, elsewhere the operand. The window's (already
 * clamped) starts are run-time scalar arguments `x2, x3, ...`, one per axis.
 */
export const updateWindowSource = (outShape: ReadonlyArray<number>, updateShape: ReadonlyArray<number>): string => {
  const outStrides = rowMajor(outShape)
  const updStrides = rowMajor(updateShape)
  const lines: Array<string> = ["let rest = i;", "let src = 0.0;", "let inside = 1.0;"]
  outShape.forEach((_, d) => {
    const s = outStrides[d]!
    const start = `x${2 + d}`
    lines.push(`let c${d} = Math.floor(rest / ${lit(s)});`)
    lines.push(`if (rest - c${d} * ${lit(s)} < 0.0) { c${d} = c${d} - 1.0; }`)
    lines.push(`if (rest - c${d} * ${lit(s)} >= ${lit(s)}) { c${d} = c${d} + 1.0; }`)
    lines.push(`rest = rest - c${d} * ${lit(s)};`)
    lines.push(`if (c${d} < ${start} || c${d} >= ${start} + ${lit(updateShape[d]!)}) { inside = 0.0; }`)
    lines.push(`src = src + (c${d} - ${start}) * ${lit(updStrides[d]!)};`)
  })
  lines.push("if (inside > 0.5) { return x1[src]; }", "return x0[i];")
  return kernelSource(2 + outShape.length, lines.join("\n"))
}
