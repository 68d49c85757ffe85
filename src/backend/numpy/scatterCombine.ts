/**
 * `x.at(i).multiply/min/max` where an index may repeat. XLA's scatter-multiply (-min, -max) folds
 * every update aimed at one position into it; a gather-combine-scatter would keep only one. Here the
 * updates are sorted by position, each run of equal positions is folded by a segmented prefix scan
 * (log2(m) shifted steps, all shapes static, so it works under `jit` and `vmap` and differentiates),
 * and the run's last element, holding the whole fold, is combined with the old value and written.
 */
import type { Array as JArray } from "../Array.ts"
import { bind1 } from "../bind.ts"
import { fromScalar } from "./creation.ts"
import { broadcastRanks, where } from "./elementwise.ts"
import { concatenate, expandDims, reshape } from "./shapeOps.ts"
import { argsort } from "./sorting.ts"

const range = (x: JArray, start: number, stop: number): JArray =>
  bind1("slice", [x], { startIndices: [start], limitIndices: [stop], strides: [1] })

const pick = (x: JArray, idx: JArray): JArray =>
  bind1("gather", [x, expandDims(idx, -1)], { indexedAxes: [0], batchDims: 0, mode: "clip" })

const cmp = (prim: "eq" | "ne" | "ge", a: JArray, b: JArray): JArray => bind1(prim, broadcastRanks("at", [a, b]), {})

/**
 * `flat` (1-d) with `combine(old, u1, u2, ...)` written at each position of `pos` (int32, any shape;
 * negative positions are dropped); `values` has `pos`'s shape and `flat`'s dtype.
 */
export const scatterCombine = (
  flat: JArray,
  pos: JArray,
  values: JArray,
  combine: (a: JArray, b: JArray) => JArray
): JArray => {
  const m = pos.size
  if (m === 0) return flat
  const p1 = reshape(pos, [m])
  const order = argsort(p1)
  const ps = pick(p1, order)
  let vs = pick(reshape(values, [m]), order)
  const iota = bind1("iota", [], { dtype: "int32", shape: [m], dimension: 0 })
  for (let k = 1; k < m; k *= 2) {
    // Element i folds in element i - k when both aim at the same position (runs are contiguous).
    const prevP = concatenate([range(ps, 0, k), range(ps, 0, m - k)], 0)
    const prevV = concatenate([range(vs, 0, k), range(vs, 0, m - k)], 0)
    const same = bind1("and", [cmp("eq", ps, prevP), cmp("ge", iota, fromScalar(k, "int32"))], {})
    vs = where(same, combine(prevV, vs), vs)
  }
  const isLast = concatenate(
    [cmp("ne", range(ps, 0, m - 1), range(ps, 1, m)), fromScalar(true, "bool").reshape([1])],
    0
  )
  const target = where(isLast, ps, -1)
  const updated = combine(pick(flat, ps), vs)
  return bind1("scatter", [flat, expandDims(target, -1), updated], { indexedAxes: [0], batchDims: 0, mode: "fill" })
}
