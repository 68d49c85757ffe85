/**
 * How values print: TypeScript's spelling (`true`, `null`, `["a", null]`, `Array([true, false],
 * dtype=bool)`) by default, or Python's (`True`, `None`, `('a', None)`, `Array([ True, False],
 * dtype=bool)`), the spelling of JAX's and Flax's printed outputs, for comparing with them.
 *
 * The setting is one value for the whole program, as NumPy's print options are
 * (`np.set_printoptions`, and the scoped `np.printoptions`); every printing function also takes the
 * style as an option, which wins over the setting.
 *
 * @since 0.4.0
 */

/**
 * `"typescript"` (the default) or `"python"`.
 * @category display
 * @since 0.4.0
 */
export type DisplayStyle = "typescript" | "python"

let current: DisplayStyle = "typescript"

/**
 * The style printing uses when none is asked for.
 * @category display
 * @since 0.4.0
 */
export const displayStyle = (): DisplayStyle => current

/**
 * Sets the style printing uses when none is asked for (for the rest of the program; prefer
 * {@link withDisplayStyle} for a part of it).
 *
 * @example
 * ```ts
 * import { jnp, setDisplayStyle } from "effect-nnx"
 *
 * setDisplayStyle("python")
 * console.log(jnp.array([true, false]).repr()) // Array([ True, False], dtype=bool)
 * setDisplayStyle("typescript")
 * console.log(jnp.array([true, false]).repr()) // Array([true, false], dtype=bool)
 * ```
 * @category display
 * @since 0.4.0
 */
export const setDisplayStyle = (style: DisplayStyle): void => {
  current = style
}

/**
 * Runs `f` with `style` as the printing style, restoring the previous one afterwards (also when
 * `f` throws).
 *
 * @example
 * ```ts
 * import { jnp, withDisplayStyle } from "effect-nnx"
 *
 * withDisplayStyle("python", () => String(jnp.array(false))) // "False"
 * ```
 * @category display
 * @since 0.4.0
 */
export const withDisplayStyle = <A>(style: DisplayStyle, f: () => A): A => {
  const previous = current
  current = style
  try {
    return f()
  } finally {
    current = previous
  }
}

/**
 * Options of the printing functions.
 * @category display
 * @since 0.4.0
 */
export interface StyleOptions {
  /** The spelling to print in; the current {@link displayStyle} when not given. */
  readonly style?: DisplayStyle | undefined
}

/** @internal */
export const styleOf = (options?: StyleOptions): DisplayStyle => options?.style ?? current
