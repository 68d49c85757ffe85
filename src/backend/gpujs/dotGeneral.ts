/**
 * dot_general on gpu.js as a batched matmul `[B, M, K] × [B, K, N] → [B, M, N]`.
 *
 * Each operand's batch, free and contracting axes are read through strides, so transposed operands
 * (`x @ w.T`, the products autodiff makes) need no copy; only an operand whose group of axes is not
 * one strided run gets rearranged first, by a transpose kernel on the device. Each output element
 * runs the contraction loop, four products per iteration. A long contraction with few outputs is
 * tiled along K: partial dot products over tiles of {@link tileK}, then a reduction of the tiles,
 * so no single element loops over all of K and the GPU keeps enough elements in flight.
 */
import type { Params } from "../Primitive.ts"
import { collapse, divmod, kernelSource, lit, offsets, rowMajor } from "./codegen.ts"
import type { Plan } from "./plan.ts"
import { StepChain } from "./plan.ts"
import { pushReduce } from "./reduce.ts"
import { gatherSource, transposeStrides } from "./structural.ts"

/** Contraction tile length when K is long and outputs are few. */
export const tileK = 512

/** The stride walking `axes` (in this order) as one run, or undefined when they are not one run. */
const groupStride = (
  shape: ReadonlyArray<number>,
  strides: ReadonlyArray<number>,
  axes: ReadonlyArray<number>
): number | undefined => {
  const c = collapse(
    axes.map((a) => shape[a]!),
    [axes.map((a) => strides[a]!)]
  )
  if (c.dims.length === 0) return 0
  return c.dims.length === 1 ? c.strides[0]![0]! : undefined
}

interface Operand {
  readonly value: number
  /** Strides of the batch, free (lhs: M, rhs: N) and contracting groups. */
  readonly batch: number
  readonly free: number
  readonly contract: number
}

/** Reads operand `value` of `shape` with groups `[batch, free, contract]`, rearranging it if needed. */
const operand = (
  chain: StepChain,
  value: number,
  shape: ReadonlyArray<number>,
  batch: ReadonlyArray<number>,
  free: ReadonlyArray<number>,
  contract: ReadonlyArray<number>
): Operand => {
  const strides = rowMajor(shape)
  const b = groupStride(shape, strides, batch)
  const f = groupStride(shape, strides, free)
  const k = groupStride(shape, strides, contract)
  if (b !== undefined && f !== undefined && k !== undefined) return { value, batch: b, free: f, contract: k }
  // Lay it out as [batch, free, contract], contiguously.
  const order = [...batch, ...free, ...contract]
  const outShape = order.map((a) => shape[a]!)
  const size = outShape.reduce((x, y) => x * y, 1)
  const moved = chain.push(gatherSource(outShape, transposeStrides(shape, order), 0), size, [value])
  const F = free.reduce((x, a) => x * shape[a]!, 1)
  const K = contract.reduce((x, a) => x * shape[a]!, 1)
  return { value: moved, batch: F * K, free: K, contract: 1 }
}

/** The contraction loop of one output element over `[k0, k0 + len)`, four products per iteration. */
const contraction = (len: number, kStart: string, lk: number, rk: number): string => {
  const lines = ["let s = 0.0;"]
  const quads = Math.floor(len / 4)
  const at = (side: "la" | "rb", stride: number, k: string): string =>
    `x${side === "la" ? 0 : 1}[${side} + (${k}) * ${lit(stride)}]`
  if (quads > 0) {
    lines.push(`for (let q = 0; q < ${quads}; q++) {`)
    lines.push(`  const k = ${kStart} + q * 4.0;`)
    lines.push(
      `  s = s + ${[0, 1, 2, 3].map((t) => `${at("la", lk, `k + ${lit(t)}`)} * ${at("rb", rk, `k + ${lit(t)}`)}`).join(" + ")};`
    )
    lines.push("}")
  }
  for (let t = quads * 4; t < len; t++) {
    lines.push(`s = s + ${at("la", lk, `${kStart} + ${lit(t)}`)} * ${at("rb", rk, `${kStart} + ${lit(t)}`)};`)
  }
  return lines.join("\n")
}

/** The plan of a float32 dot_general. */
export const dotGeneralPlan = (
  lhsShape: ReadonlyArray<number>,
  rhsShape: ReadonlyArray<number>,
  p: Params<"dot_general">
): Plan => {
  const norm = (axes: ReadonlyArray<number>, n: number) => axes.map((a) => (a < 0 ? a + n : a))
  const lc = norm(p.lhsContracting, lhsShape.length),
    rc = norm(p.rhsContracting, rhsShape.length)
  const lb = norm(p.lhsBatch, lhsShape.length),
    rb = norm(p.rhsBatch, rhsShape.length)
  const lFree = lhsShape.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i))
  const rFree = rhsShape.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i))
  const prod = (shape: ReadonlyArray<number>, axes: ReadonlyArray<number>) => axes.reduce((x, a) => x * shape[a]!, 1)
  const B = prod(lhsShape, lb),
    M = prod(lhsShape, lFree),
    K = prod(lhsShape, lc),
    N = prod(rhsShape, rFree)
  const chain = new StepChain(2)
  const l = operand(chain, 0, lhsShape, lb, lFree, lc)
  const r = operand(chain, 1, rhsShape, rb, rFree, rc)
  const outSize = B * M * N
  const tiles = K > 2 * tileK && outSize < 16384 ? Math.ceil(K / tileK) : 1
  const lines: Array<string> = []
  if (tiles === 1) {
    // Output element i = (b · M + m) · N + n.
    lines.push(
      offsets(
        "i",
        [B, M, N],
        [
          [l.batch, l.free, 0],
          [r.batch, 0, r.free]
        ],
        ["la", "rb"]
      )
    )
    lines.push(contraction(K, "0.0", l.contract, r.contract))
  } else {
    // Output element i = cell · tiles + t; tile t covers [t · tileK, min(K, (t + 1) · tileK)).
    lines.push(divmod("cell", "t", "i", tiles))
    lines.push(
      offsets(
        "cell",
        [B, M, N],
        [
          [l.batch, l.free, 0],
          [r.batch, 0, r.free]
        ],
        ["la0", "rb0"]
      )
    )
    lines.push(`const la = la0 + t * ${lit(tileK * l.contract)};`)
    lines.push(`const rb = rb0 + t * ${lit(tileK * r.contract)};`)
    lines.push(`const kEnd = ${lit(K)} - t * ${lit(tileK)};`)
    lines.push("let s = 0.0;")
    lines.push(`for (let k = 0; k < ${tileK}; k++) {`)
    lines.push(`  if (k < kEnd) { s = s + x0[la + k * ${lit(l.contract)}] * x1[rb + k * ${lit(r.contract)}]; }`)
    lines.push("}")
  }
  lines.push("return s;")
  const product = chain.push(kernelSource(2, lines.join("\n")), outSize * tiles, [l.value, r.value])
  if (tiles > 1) pushReduce(chain, product, [outSize, tiles], [1], "sum")
  return chain.plan()
}
