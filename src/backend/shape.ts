/** Shape arithmetic shared by inference and kernels: sizes, strides, broadcasting, axes. */
import { AxisError, ShapeError } from "./ArrayError.ts"

export type Shape = ReadonlyArray<number>

export const sizeOf = (shape: Shape): number => {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Row-major strides in elements. */
export const stridesOf = (shape: Shape): Array<number> => {
  const st = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc
    acc *= shape[i]!
  }
  return st
}

export const shapeEquals = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/** NumPy broadcasting of any number of shapes. */
export const broadcastShapes = (op: string, shapes: ReadonlyArray<Shape>): Array<number> => {
  const nd = Math.max(0, ...shapes.map((s) => s.length))
  const out = new Array<number>(nd).fill(1)
  for (const s of shapes) {
    const off = nd - s.length
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!
      const o = out[off + i]!
      if (o === 1) out[off + i] = d
      else if (d !== 1 && d !== o) {
        throw new ShapeError({
          op,
          shapes,
          reason: `shapes are not broadcast-compatible: dimension ${i - s.length} is ${d} in one and ${o} in another`
        })
      }
    }
  }
  return out
}

/** Normalizes a possibly negative axis; fails with an AxisError naming the op. */
export const normalizeAxis = (op: string, axis: number, ndim: number): number => {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    // A string or fractional axis is a mistake in kind, not in range: say what to write instead.
    const hint =
      typeof axis === "string" && Number.isInteger(Number(axis)) && (axis as string).trim() !== ""
        ? ` (write ${Number(axis)}, not "${axis}")`
        : ""
    throw new AxisError({ op, axis, ndim, reason: `an axis must be an integer in [${-ndim}, ${ndim})${hint}` })
  }
  if (axis < -ndim || axis >= ndim) {
    throw new AxisError({ op, axis, ndim, reason: `axis out of range [${-ndim}, ${ndim})` })
  }
  return axis < 0 ? axis + ndim : axis
}

/** Normalizes a list of axes, which must be distinct. */
export const normalizeAxes = (op: string, axes: ReadonlyArray<number>, ndim: number): Array<number> => {
  if (!Array.isArray(axes)) return [normalizeAxis(op, axes as unknown as number, ndim)]
  const out = axes.map((a) => normalizeAxis(op, a, ndim))
  if (new Set(out).size !== out.length) throw new AxisError({ op, axis: axes, ndim, reason: "repeated axis" })
  return out
}

export const isValidShape = (s: unknown): s is Shape =>
  Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0)
