/**
 * `conv_general_dilated` and `reduce_window` on gpu.js: one kernel, one thread per output element.
 * The thread splits its index into output coordinates, then visits every kernel (window) position,
 * unrolled at generation time so each position's offsets are constants, and skips positions on
 * padding or a dilation hole. A convolution loops over the input features of its group per position.
 * Windows of more than {@link maxPositions} positions run on the cpu kernels instead.
 */
import type { Params } from "../Primitive.ts"
import { sizeOf, stridesOf } from "../shape.ts"
import { divmod, kernelSource, lit } from "./codegen.ts"
import type { Plan } from "./plan.ts"
import { single } from "./plan.ts"

/** The most window positions a generated kernel unrolls. */
export const maxPositions = 64

/** Statements naming `c0, c1, ...` the row-major coordinates of output element `i` of `shape`. */
const coordinates = (shape: ReadonlyArray<number>): string => {
  const lines: Array<string> = []
  let rest = "i"
  for (let a = shape.length - 1; a >= 1; a--) {
    lines.push(divmod(`q${a}`, `c${a}`, rest, shape[a]!))
    rest = `q${a}`
  }
  lines.push(`let c0 = ${rest};`)
  return lines.join("\n")
}

/** Every multi-index of `dims`, row-major. */
const positions = (dims: ReadonlyArray<number>): Array<Array<number>> => {
  let acc: Array<Array<number>> = [[]]
  for (const n of dims) acc = acc.flatMap((p) => Array.from({ length: n }, (_, k) => [...p, k]))
  return acc
}

/**
 * The condition that spatial position `q` (an expression) of a base-dilated, padded axis of `n`
 * elements is an element, and its index as `j`: statements, then the condition.
 */
const tap = (name: string, q: string, dilation: number, n: number): readonly [string, string] => {
  if (dilation === 1) return [`let ${name} = ${q};`, `${name} >= 0.0 && ${name} < ${lit(n)}`]
  return [
    `let ${name}q = ${q};\nlet ${name} = Math.floor(${name}q / ${lit(dilation)});`,
    `${name}q >= 0.0 && ${name} * ${lit(dilation)} === ${name}q && ${name} < ${lit(n)}`
  ]
}

export const convPlan = (
  lhsShape: ReadonlyArray<number>,
  rhsShape: ReadonlyArray<number>,
  outShape: ReadonlyArray<number>,
  p: Params<"conv_general_dilated">
): Plan | undefined => {
  const { lhsSpec, rhsSpec, outSpec } = p.dimensionNumbers
  const kSp = rhsSpec.slice(2).map((a) => rhsShape[a]!)
  if (sizeOf(kSp) > maxPositions) return undefined
  const ls = stridesOf(lhsShape),
    rs = stridesOf(rhsShape)
  const G = p.featureGroupCount * p.batchGroupCount
  const O = rhsShape[rhsSpec[0]!]!,
    I = rhsShape[rhsSpec[1]!]!,
    Og = O / G
  const outN = outShape[outSpec[0]!]!
  const lines = [coordinates(outShape), `const n = c${outSpec[0]};`, `const o = c${outSpec[1]};`]
  lines.push(`const g = Math.floor(o / ${lit(Og)});`)
  lines.push(`const nb = ${p.batchGroupCount > 1 ? `g * ${lit(outN)} + n` : "n"};`)
  lines.push(
    `const lb = nb * ${lit(ls[lhsSpec[0]!]!)}${p.featureGroupCount > 1 ? ` + g * ${lit(I * ls[lhsSpec[1]!]!)}` : ""};`
  )
  lines.push(`const rb = o * ${lit(rs[rhsSpec[0]!]!)};`)
  lines.push("let s = 0.0;")
  for (const k of positions(kSp)) {
    const parts = k.map((kd, d) => {
      const q = `c${outSpec[2 + d]} * ${lit(p.windowStrides[d]!)} + ${lit(kd * p.rhsDilation[d]! - p.padding[d]![0])}`
      return tap(`j${d}`, q, p.lhsDilation[d]!, lhsShape[lhsSpec[2 + d]!]!)
    })
    const lOff = k.map((_, d) => `j${d} * ${lit(ls[lhsSpec[2 + d]!]!)}`).join(" + ") || "0.0"
    const rOff = lit(k.reduce((acc, kd, d) => acc + kd * rs[rhsSpec[2 + d]!]!, 0))
    lines.push("{")
    lines.push(...parts.map(([st]) => st))
    lines.push(`if (${parts.map(([, c]) => c).join(" && ") || "true"}) {`)
    lines.push(`const la = lb + ${lOff};`, `const ra = rb + ${rOff};`)
    lines.push(`for (let c = 0; c < ${I}; c++) {`)
    lines.push(`s = s + x0[la + c * ${lit(ls[lhsSpec[1]!]!)}] * x1[ra + c * ${lit(rs[rhsSpec[1]!]!)}];`)
    lines.push("}", "}", "}")
  }
  lines.push("return s;")
  return single(kernelSource(2, lines.join("\n")), sizeOf(outShape), 2)
}

export const reduceWindowPlan = (
  inShape: ReadonlyArray<number>,
  outShape: ReadonlyArray<number>,
  p: Params<"reduce_window">
): Plan | undefined => {
  if (sizeOf(p.windowDimensions) > maxPositions) return undefined
  const xs = stridesOf(inShape)
  const lines = [coordinates(outShape)]
  lines.push(`let s = ${p.computation === "add" ? "0.0" : p.computation === "max" ? "-Infinity" : "Infinity"};`)
  for (const k of positions(p.windowDimensions)) {
    const parts = k.map((kd, d) =>
      tap(
        `j${d}`,
        `c${d} * ${lit(p.windowStrides[d]!)} + ${lit(kd * p.windowDilation[d]! - p.padding[d]![0])}`,
        p.baseDilation[d]!,
        inShape[d]!
      )
    )
    const off = k.map((_, d) => `j${d} * ${lit(xs[d]!)}`).join(" + ") || "0.0"
    lines.push(
      "{",
      ...parts.map(([st]) => st),
      `if (${parts.map(([, c]) => c).join(" && ") || "true"}) {`,
      `const v = x0[${off}];`
    )
    lines.push(
      p.computation === "add"
        ? "s = s + v;"
        : p.computation === "max"
          ? "if (v > s) { s = v; }"
          : "if (v < s) { s = v; }"
    )
    lines.push("}", "}")
  }
  lines.push("return s;")
  return single(kernelSource(1, lines.join("\n")), sizeOf(outShape), 1)
}
