/**
 * How layers raise `LayerError` (defined with the graph's errors, so lifted transforms carry it in
 * their error channel): a layer does not know where it sits, so it reports the empty path and each
 * container it was called through (`Sequential`, ...) prefixes its own key on the way out, the way a
 * stack trace grows. Nothing was changed when it is raised: layers check before they draw keys or
 * update state.
 *
 * @since 0.1.0
 */
import { LayerError } from "../graph/errors.ts"

export { LayerError }

/** @category guards @since 0.1.0 */
export const isLayerError = (u: unknown): u is LayerError => u instanceof LayerError

/** Runs `f`, prefixing `key` to the path of a LayerError it throws (containers call layers through this). */
export const atPath = <A>(key: string | number, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof LayerError) throw new LayerError({ layer: e.layer, path: [key, ...e.path], reason: e.reason })
    throw e
  }
}

/** A LayerError at the layer itself (empty path); containers add theirs through `atPath`. */
export const layerError = (layer: string, reason: string): LayerError => new LayerError({ layer, path: [], reason })

/** Formats a shape as Python does, `(2, 3)` / `(3,)`, matching the array errors. */
export const fmtShape = (s: ReadonlyArray<number>): string => `(${s.join(", ")}${s.length === 1 ? "," : ""})`
