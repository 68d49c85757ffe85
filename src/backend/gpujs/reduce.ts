/**
 * Reductions on gpu.js: each output element loops over its reduced elements. A long reduction is
 * split into chunks of at most {@link chunk} elements, reduced in passes (a tree of partial results),
 * which keeps every kernel's loop short. Sums are compensated (Neumaier's variant of Kahan's
 * summation): a sequential float32 sum of a few thousand similar values drifts by several units in
 * the fifth digit, the compensated one stays within an ulp or two, like XLA's pairwise sums.
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
      case "reduce_sum":
        return "sum"
      case "reduce_prod":
        return "prod"
      case "reduce_max":
        return "max"
      case "reduce_min":
        return "min"
      default:
        return undefined
    }
  }
  if (dtype === "bool") {
    // On 0/1 values, or is max and and is min.
    switch (prim) {
      case "reduce_sum":
      case "reduce_max":
      case "reduce_or":
        return "max"
      case "reduce_prod":
      case "reduce_min":
      case "reduce_and":
        return "min"
    }
  }
  return undefined
}

const combineStatement = (c: Combine): string => {
  switch (c) {
    case "sum":
      return "acc = acc + v;"
    case "prod":
      return "acc = acc * v;"
    case "max":
      return "if (v > acc || v !== v) { acc = v; }"
    case "min":
      return "if (v < acc || v !== v) { acc = v; }"
  }
}

/** Once NaN, a max or min stays NaN: later comparisons with it are false. */
const stickyNaN = (c: Combine): string => (c === "max" || c === "min" ? "if (acc !== acc) { v = acc; }" : "")

/**
 * What a reduction reads: kernel arguments `x0, x1, ...` (chain values `args`), each at its own
 * strides over the reduced value's index space `shape`, and statements computing the element `v`
 * at one position from those arguments' element indices.
 */
export interface ReduceSource {
  /** Chain values passed as the kernel's arrays, in argument order. */
  readonly args: ReadonlyArray<number>
  readonly shape: ReadonlyArray<number>
  /** One stride vector over `shape` per argument. */
  readonly strides: ReadonlyArray<ReadonlyArray<number>>
  /** Statements that declare `v` from `at[k]`, the element index of argument `k` (`x${k}`). */
  readonly value: (at: ReadonlyArray<string>) => string
}

/**
 * One pass: output element `o · parts + p` reduces elements `[p·size, min((p+1)·size, count))` of
 * the reduction of output `o`.
 */
const passSource = (
  src: ReduceSource,
  axes: ReadonlyArray<number>,
  parts: number,
  size: number,
  c: Combine
): string => {
  const kept = (d: number): boolean => !axes.includes(d)
  const keptShape = src.shape.filter((_, d) => kept(d))
  const redShape = axes.map((d) => src.shape[d]!)
  const keptStrides = src.strides.map((s) => s.filter((_, d) => kept(d)))
  const redStrides = src.strides.map((s) => axes.map((d) => s[d]!))
  const bases = src.args.map((_, k) => `base${k}`)
  const offs = src.args.map((_, k) => `off${k}`)
  const count = redShape.reduce((a, b) => a * b, 1)
  const lines: Array<string> = []
  if (parts === 1) lines.push("const o = i;", "const p = 0.0;")
  else {
    lines.push(`let o = Math.floor(i / ${lit(parts)});`)
    lines.push(`if (i - o * ${lit(parts)} < 0.0) { o = o - 1.0; }`)
    lines.push(`if (i - o * ${lit(parts)} >= ${lit(parts)}) { o = o + 1.0; }`)
    lines.push(`const p = i - o * ${lit(parts)};`)
  }
  if (src.args.length > 0) lines.push(offsets("o", keptShape, keptStrides, bases))
  const red = collapse(redShape, redStrides)
  const simple = red.dims.length <= 1
  lines.push("let acc = 0.0;")
  if (c === "sum") lines.push("let comp = 0.0;")
  lines.push(`for (let r = 0; r < ${size}; r++) {`)
  lines.push(`  const g = p * ${lit(size)} + r;`)
  if (size * parts !== count) lines.push(`  if (g < ${lit(count)}) {`)
  if (simple) {
    offs.forEach((off, k) => {
      const stride = red.dims.length === 0 ? 0 : red.strides[k]![0]!
      lines.push(`  const ${off} = g * ${lit(stride)};`)
    })
  } else if (src.args.length > 0) lines.push(offsets("g", redShape, redStrides, offs))
  lines.push(src.value(src.args.map((_, k) => `${bases[k]} + ${offs[k]}`)))
  lines.push(
    c === "sum"
      ? "  if (r === 0) { acc = v; } else { const t = acc + v; if (Math.abs(acc) >= Math.abs(v)) { comp = comp + ((acc - t) + v); } else { comp = comp + ((v - t) + acc); } acc = t; }"
      : `  if (r === 0) { acc = v; } else { ${stickyNaN(c)} ${combineStatement(c)} }`
  )
  if (size * parts !== count) lines.push("  }")
  lines.push("}")
  // An infinite or NaN sum is returned as it is: its compensation is meaningless.
  if (c === "sum") lines.push("if (acc - acc === 0.0) { acc = acc + comp; }")
  lines.push("return acc;")
  return kernelSource(src.args.length, lines.join("\n"))
}

/**
 * Adds the passes reducing `src` over `axes` (sorted) to `chain`; returns the value index of the
 * result. The first pass computes each element from `src`; later passes reduce partial results.
 * The reduced count must be at least 1.
 */
export const pushReduceOf = (chain: StepChain, src: ReduceSource, axes: ReadonlyArray<number>, c: Combine): number => {
  const outSize = src.shape.filter((_, d) => !axes.includes(d)).reduce((a, b) => a * b, 1)
  const count = axes.reduce((a, d) => a * src.shape[d]!, 1)
  if (count <= 4 * chunk) return chain.push(passSource(src, axes, 1, count, c), outSize, src.args)
  const parts = Math.ceil(count / chunk)
  const partial = chain.push(passSource(src, axes, parts, chunk, c), outSize * parts, src.args)
  // Partial results are laid out [outSize, parts]: reduce the last axis.
  return pushReduce(chain, partial, [outSize, parts], [1], c)
}

/**
 * Adds the passes reducing value `input` (shape `shape`, row-major) over `axes` to `chain`; returns
 * the value index of the result. The reduced count must be at least 1.
 */
export const pushReduce = (
  chain: StepChain,
  input: number,
  shape: ReadonlyArray<number>,
  axes: ReadonlyArray<number>,
  c: Combine
): number =>
  pushReduceOf(
    chain,
    { args: [input], shape, strides: [rowMajor(shape)], value: (at) => `let v = x0[${at[0]}];` },
    axes,
    c
  )
