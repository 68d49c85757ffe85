/**
 * Building blocks of generated gpu.js kernel sources.
 *
 * Every kernel here has a one-dimensional output (`output: [n]`) over row-major storage, and reads
 * one-dimensional inputs; shapes, strides and parameters are baked into the source as literals, so
 * the source text identifies the compiled kernel. Index arithmetic is done in floats, which hold
 * integers exactly below 2^24 (the backend keeps larger arrays on the cpu kernels): `+ - *` of such
 * integers are exact, but GLSL's division may be off by ulps, so every quotient is corrected with
 * an exact remainder test ({@link divmod}).
 */
import { stridesOf } from "../shape.ts"

/** Arrays whose element indices stay below this are exact in float32 index arithmetic. */
export const maxGpuElements = 1 << 24

/** A number as a source literal that gpu.js types as a float (`3.0`, `-0.5`, `1e-7`). */
export const lit = (x: number): string => {
  if (!Number.isFinite(x)) throw new RangeError(`no float literal for ${x}`)
  const s = Number.isInteger(x) && Math.abs(x) < 1e21 ? `${x}.0` : `${x}`
  return x < 0 || Object.is(x, -0) ? `(${Object.is(x, -0) ? "-0.0" : s})` : s
}

/** Axes of a loop nest with one stride vector per array, merged where every array walks them as one run. */
export interface Collapsed {
  readonly dims: ReadonlyArray<number>
  readonly strides: ReadonlyArray<ReadonlyArray<number>>
}

/** Drops size-1 axes and merges neighbours that every array walks contiguously. */
export const collapse = (shape: ReadonlyArray<number>, strides: ReadonlyArray<ReadonlyArray<number>>): Collapsed => {
  const dims: Array<number> = []
  const st: Array<Array<number>> = strides.map(() => [])
  shape.forEach((d, i) => {
    if (d === 1) return
    dims.push(d)
    strides.forEach((s, a) => st[a]!.push(s[i]!))
  })
  for (let i = dims.length - 2; i >= 0; i--) {
    const inner = dims[i + 1]!
    if (st.every((s) => s[i] === s[i + 1]! * inner)) {
      dims[i + 1] = dims[i]! * inner
      dims.splice(i, 1)
      for (const s of st) s.splice(i, 1)
    }
  }
  return { dims, strides: st }
}

/**
 * Statements setting `q` to `floor(x / d)` and `r` to `x - q * d` for a non-negative integer `x`
 * held in a float, exactly: the float quotient is corrected by one step either way.
 */
export const divmod = (q: string, r: string, x: string, d: number): string => {
  const t = `t_${q}`
  return [
    `let ${q} = Math.floor(${x} / ${lit(d)});`,
    `let ${t} = ${x} - ${q} * ${lit(d)};`,
    `if (${t} < 0.0) { ${q} = ${q} - 1.0; ${t} = ${t} + ${lit(d)}; }`,
    `if (${t} >= ${lit(d)}) { ${q} = ${q} + 1.0; ${t} = ${t} - ${lit(d)}; }`,
    `let ${r} = ${t};`
  ].join("\n")
}

/**
 * Statements that turn the flat index `index` over `shape` (row-major) into one offset per array,
 * `names[a] = base[a] + Σ coord_d · strides[a][d]`. Axes are collapsed first, so an array that is
 * walked contiguously costs no division at all.
 */
export const offsets = (
  index: string,
  shape: ReadonlyArray<number>,
  strides: ReadonlyArray<ReadonlyArray<number>>,
  names: ReadonlyArray<string>,
  bases: ReadonlyArray<number> = names.map(() => 0)
): string => {
  const { dims, strides: st } = collapse(shape, strides)
  const lines: Array<string> = []
  const terms: Array<Array<string>> = names.map((_, a) => (bases[a] !== 0 ? [lit(bases[a]!)] : []))
  if (dims.length === 0) {
    // A single element: every offset is its base.
  } else {
    const tag = names.join("_")
    let rest = index
    for (let d = 0; d < dims.length; d++) {
      const inner = dims.slice(d + 1).reduce((x, y) => x * y, 1)
      let coord: string
      if (d === dims.length - 1) coord = rest
      else if (d === 0 && inner === 1) coord = rest
      else {
        coord = `c${d}_${tag}`
        const nextRest = `m${d}_${tag}`
        lines.push(divmod(coord, nextRest, rest, inner))
        rest = nextRest
      }
      st.forEach((s, a) => {
        const stride = s[d]!
        if (stride === 0) return
        terms[a]!.push(stride === 1 ? coord : `${coord} * ${lit(stride)}`)
      })
    }
  }
  names.forEach((n, a) => lines.push(`let ${n} = ${terms[a]!.length === 0 ? "0.0" : terms[a]!.join(" + ")};`))
  return lines.join("\n")
}

/** Row-major strides (the shape helpers' own). */
export const rowMajor = stridesOf

/** Strides of an operand broadcast into a same-rank output: size-1 axes do not move. */
export const broadcastStrides = (shape: ReadonlyArray<number>): Array<number> => {
  const st = rowMajor(shape)
  return st.map((s, i) => (shape[i] === 1 ? 0 : s))
}

/** A kernel function's source: `function(x0, x1, ...) { const i = this.thread.x; ... }`. */
export const kernelSource = (arity: number, body: string): string => {
  const params = Array.from({ length: arity }, (_, k) => `x${k}`).join(", ")
  return `function(${params}) {\nconst i = this.thread.x;\n${body}\n}`
}
