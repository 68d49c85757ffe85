/**
 * Reductions on gpu.js: each output element loops over its reduced elements. A long reduction is
 * split into chunks of at most {@link chunk} elements, reduced in passes (a tree of partial results),
 * which keeps every kernel's loop short and sums in float32 with pairwise-like error.
 */
import type { ReducePrimitive } from "../Primitive.ts"
import { collapse, kernelSource, lit, offsets, rowMajor } from "./codegen.ts"
import type { StepChain } from "./plan.ts"

/** How values combine. */
export type Combine = "sum" | "prod" | "max" | "min"

/** Longest loop one output element runs. */
export const chunk = 1024

/** The combining operation of a reduction on `dtype`, or undefined for the cpu kernels. */
export const combineOf = (prim: ReducePrimitive, dtype: string): Combine | undefined => {
  if (dtype === "float32") {
    switch (prim) {
      case "reduce_sum": return "sum"
      case "reduce_prod": return "prod"
      case "reduce_max": return "max"
      case "reduce_min": return "min"
      default: return undefined
    }
  }
  if (dtype === "bool") {
    // On 0/1 values, or is max and and is min.
    switch (prim) {
      case "reduce_sum": case "reduce_max": case "reduce_or": return "max"
      case "reduce_prod": case "reduce_min": case "reduce_and": return "min"
    }
  }
  return undefined
}

const combineStatement = (c: Combine): string => {
  switch (c) {
    case "sum": return "acc = acc + v;"
    case "prod": return "acc = acc * v;"
    case "max": return "if (v > acc || v !== v) { acc = v; }"
    case "min": return "if (v < acc || v !== v) { acc = v; }"
  }
}

/** Once NaN, a max or min stays NaN: later comparisons with it are false. */
const stickyNaN = (c: Combine): string => (c === "max" || c === "min" ? "if (acc !== acc) { v = acc; }" : "")

/**
 * One pass: output element `o · parts + p` reduces elements `[p·size, min((p+1)·size, count))` of
 * the reduction of output `o`.
 */
const passSource = (
  keptShape: ReadonlyArray<number>, keptStrides: ReadonlyArray<number>,
  redShape: ReadonlyArray<number>, redStrides: ReadonlyArray<number>,
  parts: number, size: number, c: Combine
): string => {
  const count = redShape.reduce((a, b) => a * b, 1)
  const lines: Array<string> = []
  if (parts === 1) lines.push("const o = i;", "const p = 0.0;")
  else {
    lines.push(`let o = Math.floor(i / ${lit(parts)});`)
    lines.push(`if (i - o * ${lit(parts)} < 0.0) { o = o - 1.0; }`)
    lines.push(`if (i - o * ${lit(parts)} >= ${lit(parts)}) { o = o + 1.0; }`)
    lines.push(`const p = i - o * ${lit(parts)};`)
  }
  lines.push(offsets("o", keptShape, [keptStrides], ["base"]))
  const red = collapse(redShape, [redStrides])
  const simple = red.dims.length <= 1
  const stride = red.dims.length === 0 ? 0 : red.strides[0]![0]!
  lines.push("let acc = 0.0;")
  lines.push(`for (let r = 0; r < ${size}; r++) {`)
  lines.push(`  const g = p * ${lit(size)} + r;`)
  if (size * parts !== count) lines.push(`  if (g < ${lit(count)}) {`)
  if (simple) lines.push(`  let v = x0[base + g * ${lit(stride)}];`)
  else {
    lines.push(offsets("g", redShape, [redStrides], ["off"]))
    lines.push("  let v = x0[base + off];")
  }
  lines.push(`  if (r === 0) { acc = v; } else { ${stickyNaN(c)} ${combineStatement(c)} }`)
  if (size * parts !== count) lines.push("  }")
  lines.push("}")
  lines.push("return acc;")
  return kernelSource(1, lines.join("\n"))
}

/**
 * Adds the passes reducing value `input` (shape `shape`) over `axes` to `chain`; returns the value
 * index of the result. The reduced count must be at least 1.
 */
export const pushReduce = (
  chain: StepChain, input: number, shape: ReadonlyArray<number>, axes: ReadonlyArray<number>, c: Combine
): number => {
  const strides = rowMajor(shape)
  const keptShape = shape.filter((_, d) => !axes.includes(d))
  const keptStrides = strides.filter((_, d) => !axes.includes(d))
  const redShape = axes.map((d) => shape[d]!)
  const redStrides = axes.map((d) => strides[d]!)
  const outSize = keptShape.reduce((a, b) => a * b, 1)
  const count = redShape.reduce((a, b) => a * b, 1)
  if (count <= 4 * chunk) {
    return chain.push(passSource(keptShape, keptStrides, redShape, redStrides, 1, count, c), outSize, [input])
  }
  const parts = Math.ceil(count / chunk)
  const partial = chain.push(passSource(keptShape, keptStrides, redShape, redStrides, parts, chunk, c), outSize * parts, [input])
  // Partial results are laid out [outSize, parts]: reduce the last axis.
  return pushReduce(chain, partial, [outSize, parts], [1], c)
}
