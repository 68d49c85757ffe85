/**
 * The benchmark's outputs: plain-text tables for stdout, docs/benchmarks.md, and a hand-written
 * SVG plot (log-scale horizontal bars: median, whiskers from the fastest to the slowest round).
 */
import type { Cell, Row } from "./harness.ts"

export interface Results {
  readonly rows: ReadonlyArray<Row>
  readonly labels: ReadonlyArray<string>
  /** `cells[row][contestant]`. */
  readonly cells: ReadonlyArray<ReadonlyArray<Cell>>
  /** Index of the baseline column (effect-nnx's default backend). */
  readonly baseline: number
}

export interface Footnotes {
  readonly marks: ReadonlyArray<ReadonlyArray<string>>
  readonly notes: ReadonlyArray<string>
}

const superscripts = ["¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]

/** One footnote per distinct note or error message, marked in its cells. */
export const footnotes = (r: Results): Footnotes => {
  const notes: Array<string> = []
  const marks = r.cells.map((row) =>
    row.map((cell) => {
      const text = cell.kind === "ok" ? cell.note : cell.kind === "error" ? `error: ${cell.reason}` : undefined
      if (text === undefined) return ""
      let i = notes.indexOf(text)
      if (i < 0) i = notes.push(text) - 1
      return superscripts[i] ?? `[${i + 1}]`
    })
  )
  return { marks, notes }
}

export const fmtMs = (ms: number): string => {
  if (!Number.isFinite(ms)) return "?"
  if (ms >= 1000) return ms.toFixed(0)
  if (ms >= 0.001) return String(Number(ms.toPrecision(3)))
  return ms.toExponential(1)
}

const fmtNumber = (x: number): string =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)

const median = (c: Cell): number | undefined => (c.kind === "ok" ? c.stats.median : undefined)

/** Cells of the main table: median (interquartile range), in ms. */
export const timeTable = (r: Results, f: Footnotes): Array<Array<string>> =>
  r.rows.map((row, i) => [
    row.title,
    ...r.cells[i]!.map((c, j) => {
      const mark = f.marks[i]![j]!
      if (c.kind === "skip") return "n/a"
      if (c.kind === "error") return `error${mark}`
      return `${fmtMs(c.stats.median)} (${fmtMs(c.stats.q1)}–${fmtMs(c.stats.q3)})${mark}`
    })
  ])

/** Each median divided by the baseline's median: below 1 is faster than effect-nnx's default. */
export const ratioTable = (r: Results): Array<Array<string>> =>
  r.rows.map((row, i) => {
    const base = median(r.cells[i]![r.baseline]!)
    return [
      row.title,
      ...r.cells[i]!.map((c) => {
        const m = median(c)
        if (m === undefined || base === undefined) return "n/a"
        const q = m / base
        return `${q >= 10 ? q.toFixed(0) : q >= 1 ? q.toFixed(1) : q.toPrecision(2)}×`
      })
    ]
  })

/** GFLOP/s for rows with a flop count, µs per layer for the stack rows. */
export const derivedTable = (r: Results): Array<Array<string>> =>
  r.rows.flatMap((row, i) => {
    if (row.flops === undefined && row.layers === undefined) return []
    return [
      [
        `${row.title} (${row.flops !== undefined ? "GFLOP/s" : "µs/layer"})`,
        ...r.cells[i]!.map((c) => {
          const m = median(c)
          if (m === undefined) return "n/a"
          return row.flops !== undefined ? fmtNumber(row.flops / (m * 1e6)) : fmtNumber((m * 1000) / row.layers!)
        })
      ]
    ]
  })

/** A plain-text table with aligned columns. */
export const textTable = (header: ReadonlyArray<string>, body: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [header, ...body]
  const widths = header.map((_, j) => Math.max(...all.map((r) => [...(r[j] ?? "")].length)))
  const line = (r: ReadonlyArray<string>) =>
    r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]! + (c.length - [...c].length)))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n")
}

export const markdownTable = (header: ReadonlyArray<string>, body: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, j) => (j === 0 ? "---" : "---:")).join(" | ")} |`,
    ...body.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n")

// ---- SVG ----

const palette = ["#3b6fb6", "#e07b39", "#4a9a5b", "#c0444a", "#7d62b3", "#8c6d4f", "#d16ba5", "#6b6b6b"]

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** A log-scale horizontal bar chart: a group of bars per row, one bar per contestant. */
export const svgPlot = (r: Results, title: string): string => {
  const values = r.cells.flatMap((row) =>
    row.flatMap((c) => (c.kind === "ok" ? [c.stats.min, c.stats.max, c.stats.median] : []))
  )
  const positive = values.filter((v) => v > 0 && Number.isFinite(v))
  const lo = Math.floor(Math.log10(positive.length > 0 ? Math.min(...positive) : 0.01))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(positive.length > 0 ? Math.max(...positive) : 1000)))
  const width = 960
  const left = 190
  const right = 880
  const barH = 11
  const gap = 3
  const groupGap = 14
  const legendH = 22 + 16 * Math.ceil(r.labels.length / 3)
  const top = 40 + legendH
  const x = (ms: number): number => left + ((Math.log10(ms) - lo) / (hi - lo)) * (right - left)
  const groupH = r.labels.length * (barH + gap) + groupGap
  const height = top + r.rows.length * groupH + 30
  const out: Array<string> = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`
  )
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`)
  // legend
  r.labels.forEach((label, j) => {
    const lx = left + (j % 3) * 230
    const ly = 38 + Math.floor(j / 3) * 16
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="10" fill="${palette[j % palette.length]}"/>`)
    out.push(`<text x="${lx + 16}" y="${ly}">${esc(label)}</text>`)
  })
  // decade grid
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d)
    const label = d >= 0 ? `${10 ** d} ms` : `${(10 ** d).toFixed(-d)} ms`
    out.push(`<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${height - 24}" stroke="#dddddd"/>`)
    out.push(`<text x="${gx.toFixed(1)}" y="${top - 10}" text-anchor="middle" fill="#555555">${label}</text>`)
    out.push(`<text x="${gx.toFixed(1)}" y="${height - 10}" text-anchor="middle" fill="#555555">${label}</text>`)
  }
  r.rows.forEach((row, i) => {
    const gy = top + i * groupH
    out.push(
      `<text x="${left - 8}" y="${gy + (r.labels.length * (barH + gap)) / 2 + 4}" text-anchor="end" font-weight="bold">${esc(row.title)}</text>`
    )
    r.cells[i]!.forEach((c, j) => {
      const by = gy + j * (barH + gap)
      const color = palette[j % palette.length]!
      if (c.kind !== "ok") {
        out.push(
          `<text x="${left + 4}" y="${by + barH - 2}" fill="#999999">${c.kind === "skip" ? "n/a" : "error"}</text>`
        )
        return
      }
      const s = c.stats
      const w = Math.max(1, x(s.median) - left)
      out.push(
        `<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"><title>${esc(`${r.labels[j]}: ${fmtMs(s.median)} ms (min ${fmtMs(s.min)}, max ${fmtMs(s.max)})`)}</title></rect>`
      )
      const mid = by + barH / 2
      const x0 = x(s.min).toFixed(1)
      const x1 = x(s.max).toFixed(1)
      out.push(`<line x1="${x0}" y1="${mid}" x2="${x1}" y2="${mid}" stroke="#222222"/>`)
      out.push(`<line x1="${x0}" y1="${by + 2}" x2="${x0}" y2="${by + barH - 2}" stroke="#222222"/>`)
      out.push(`<line x1="${x1}" y1="${by + 2}" x2="${x1}" y2="${by + barH - 2}" stroke="#222222"/>`)
      out.push(
        `<text x="${(Math.max(x(s.max), x(s.median)) + 5).toFixed(1)}" y="${by + barH - 2}" fill="#333333">${fmtMs(s.median)}</text>`
      )
    })
  })
  out.push(`</svg>`)
  return out.join("\n") + "\n"
}
