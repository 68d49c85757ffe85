/**
 * `display`: the tree summary of Modules, Variables, Rngs and containers that Flax's `nnx.display`
 * (treescope) shows: each object with its class, per-kind element and byte counts for Modules
 * (`# Param: 90 (360 B)`), each Variable with its size, its value's dtype and shape and its
 * metadata, static attributes as literals, and objects reached more than once marked
 * `# Repeated reference`.
 *
 * Values are spelled in the display style (see `setDisplayStyle`): TypeScript's by default
 * (`tag="noise"`, `false`, `["a", null]`, `Array float32[10, 3]`), or Python's, as Flax shows them
 * (`tag='noise'`, `False`, `['a', None]`, `Array float32(10, 3)`, `# Repeated python obj`).
 *
 * The summary is built once as a small tree of text parts, as treescope builds it, and printed in
 * one of two ways:
 * - multi-line (the default): every Module, Variable and container holding them expanded one
 *   attribute per line; lists and records of plain values stay on one line.
 * - one-line: the text of treescope's HTML rendering with its line breaks removed, which is how the
 *   reference guide's "Display" blocks are written. It shows text of both folding states (the
 *   separators `, ` and the trailing `,`, the `<3 elements...>` abbreviations) and roundtrip-mode
 *   markers (`<Weights(` ... `)>`), and where the guide showed an array visualization it keeps the
 *   guide's text (`# Visualization hidden in roundtrip mode` after a non-last array value, no
 *   trailing comma after a last one). For the guide's modules, in the Python style, it reproduces
 *   the guide exactly, with attribute names as written in TypeScript (camelCase).
 *
 * Attributes appear in sorted order; Modules sum the state of their sub-graphs, counting a shared
 * Variable once, with `RngKey`/`RngCount` grouped as `RngState`.
 *
 * @since 0.1.0
 */
import { isArray } from "../backend/Array.ts"
import { type DisplayStyle, styleOf, type StyleOptions } from "../backend/displayStyle.ts"
import {
  addSize,
  arraySummary,
  formatSizeBytes,
  keyIn,
  reprIn,
  type SizeBytes,
  sizeBytesOf,
  zeroSize
} from "./format.ts"
import { classify, containerKeys, typeName } from "./node.ts"
import type { PathKey } from "./path.ts"
import type { Variable, VariableClass } from "./Variable.ts"
import { kindOf, RngState } from "./Variable.ts"

// ---------------------------------------------------------------------------------------------
// The part tree
// ---------------------------------------------------------------------------------------------

type Part = string | Fold | Roundtrip | Seq | Node

/** Text shown only when the enclosing node is collapsed, or only when it is expanded. */
interface Fold {
  readonly _tag: "Fold"
  readonly collapsed: string
  readonly expanded: string
}
/** Text shown only in roundtrip mode, or only outside it. */
interface Roundtrip {
  readonly _tag: "Roundtrip"
  readonly roundtrip: Part
  readonly plain: Part
}
interface Seq {
  readonly _tag: "Seq"
  readonly parts: ReadonlyArray<Part>
}
/** A foldable node: prefix, a comment on its first line, one line per child, suffix. */
interface Node {
  readonly _tag: "Node"
  readonly prefix: Part
  readonly comment: string
  readonly lines: ReadonlyArray<Line>
  /** Shown in place of the children when collapsed past the abbreviation level (`<3 elements...>`). */
  readonly abbreviation: string
  readonly suffix: Part
  /** Whether the multi-line form expands it. */
  readonly expand: boolean
}
interface Line {
  readonly content: Part
  /** Line annotations, after the separator. */
  readonly notes: ReadonlyArray<Note>
}
type Note =
  | { readonly _tag: "Text"; readonly text: string; readonly roundtripOnly: boolean }
  | { readonly _tag: "Repeated"; readonly object: object }

const fold = (collapsed: string, expanded: string): Fold => ({ _tag: "Fold", collapsed, expanded })
const roundtrip = (rt: Part, plain: Part = ""): Roundtrip => ({ _tag: "Roundtrip", roundtrip: rt, plain })
const seq = (...parts: ReadonlyArray<Part>): Seq => ({ _tag: "Seq", parts })

/** The separator after a child: `, ` (space only when collapsed) or, after the last, `,` when expanded. */
const commaAfter = (last: boolean): Part => (last ? fold("", ",") : seq(",", fold(" ", "")))

const VISUALIZATION_NOTE = "# Visualization hidden in roundtrip mode"
const repeatedNote = (style: DisplayStyle): string =>
  style === "python" ? "# Repeated python obj" : "# Repeated reference"

// ---------------------------------------------------------------------------------------------
// Statistics (Flax's _collect_stats): per-kind sizes of every Module's sub-graph
// ---------------------------------------------------------------------------------------------

type Stats = Map<VariableClass, SizeBytes>

const statsKind = (v: Variable<unknown>): VariableClass => {
  const k = kindOf(v)
  return k === RngState || k.prototype instanceof RngState ? RngState : k
}

/**
 * Sizes per kind for every object reachable from `root`. As in Flax, an object is counted in the
 * first parent that reaches it only, so a shared Variable counts once.
 */
const collectStats = (root: unknown): Map<object, Stats> => {
  const all = new Map<object, Stats>()
  const isNode = (k: string): k is "module" | "variable" | "list" | "record" =>
    k === "module" || k === "variable" || k === "list" || k === "record"
  // An explicit stack, so that very deep graphs do not overflow: a frame is a node whose children
  // are being visited; its totals go to the frame below when it is done.
  const frames: Array<{
    readonly node: object
    readonly stats: Stats
    readonly keys: ReadonlyArray<PathKey>
    i: number
  }> = []
  const enter = (node: object): void => {
    const stats: Stats = new Map()
    all.set(node, stats)
    const kind = classify(node)
    if (kind === "variable") {
      const v = node as Variable<unknown>
      const size = sizeBytesOf(v.value)
      if (size.size > 0) stats.set(statsKind(v), size)
    }
    const keys = kind === "module" || kind === "list" || kind === "record" ? containerKeys(node, kind) : []
    frames.push({ node, stats, keys, i: 0 })
  }
  if ((typeof root === "object" || typeof root === "function") && root !== null && isNode(classify(root))) enter(root)
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!
    if (top.i === top.keys.length) {
      frames.pop()
      const parent = frames[frames.length - 1]
      if (parent !== undefined)
        for (const [k, s] of top.stats) parent.stats.set(k, addSize(parent.stats.get(k) ?? zeroSize, s))
      continue
    }
    const child: unknown = Reflect.get(top.node, top.keys[top.i++]!)
    if (!isNode(classify(child)) || all.has(child as object)) continue
    enter(child as object)
  }
  return all
}

const statsComment = (stats: Stats | undefined): string => {
  if (stats === undefined || stats.size === 0) return ""
  const entries = [...stats].map(([k, s]) => `${k.name}: ${formatSizeBytes(s)}`)
  let total: SizeBytes = { size: 0, bytes: 0 }
  for (const s of stats.values()) total = addSize(total, s)
  return ` # ${entries.join(", ")}${stats.size > 1 ? `, Total: ${formatSizeBytes(total)}` : ""}`
}

// ---------------------------------------------------------------------------------------------
// Building the part tree
// ---------------------------------------------------------------------------------------------

interface Built {
  readonly part: Part
  /** The object the part shows, when it has identity (for `# Repeated python obj`). */
  readonly identity: object | undefined
  /** An array value the guide shows with a visualization. */
  readonly visualized: boolean
}

class Builder {
  readonly stats: Map<object, Stats>
  readonly occurrences = new Map<object, number>()
  private readonly stack = new Set<object>()

  constructor(
    root: unknown,
    private readonly maxDepth: number,
    private readonly style: DisplayStyle
  ) {
    this.stats = collectStats(root)
  }

  private count(obj: object): void {
    this.occurrences.set(obj, (this.occurrences.get(obj) ?? 0) + 1)
  }

  build(u: unknown): Built {
    if (isArray(u))
      return {
        part: arraySummary(u, this.style),
        identity: undefined,
        visualized: u.dtype !== "key<fry>" && u.ndim >= 1
      }
    const kind = classify(u)
    if (kind === "static") return { part: reprIn(u, this.style), identity: undefined, visualized: false }
    const obj = u as object
    this.count(obj)
    if (this.stack.has(obj)) return { part: `<cyclic reference to ${typeName(obj)}>`, identity: obj, visualized: false }
    if (this.stack.size >= this.maxDepth) {
      // Past the depth limit (Flax's flax_max_repr_depth), nodes are elided as `Name(...)`.
      const elided =
        kind === "list"
          ? "[...]"
          : kind === "record"
            ? "{...}"
            : seq(
                roundtrip("<"),
                kind === "variable" ? (obj as Variable<unknown>).kind : typeName(obj),
                "(...)",
                roundtrip(">")
              )
      return { part: elided, identity: obj, visualized: false }
    }
    this.stack.add(obj)
    try {
      if (kind === "variable")
        return { part: this.variable(obj as Variable<unknown>), identity: obj, visualized: false }
      if (kind === "module") return { part: this.module(obj), identity: obj, visualized: false }
      return { part: this.container(obj, kind === "list"), identity: obj, visualized: false }
    } finally {
      this.stack.delete(obj)
    }
  }

  /** `name=value` lines of an object constructor (Flax's render_object_constructor). */
  private attributeLines(entries: ReadonlyArray<readonly [string, unknown]>): Array<Line> {
    return entries.map(([name, value], i) => {
      const last = i === entries.length - 1
      const b = this.build(value)
      const notes: Array<Note> = []
      let comma = commaAfter(last)
      if (b.visualized) {
        // Where the guide's page showed an array visualization, its text has the roundtrip note
        // after a non-last value and no comma after a last one.
        if (last) comma = roundtrip("", comma)
        else notes.push({ _tag: "Text", text: VISUALIZATION_NOTE, roundtripOnly: true })
      }
      if (b.identity !== undefined) notes.push({ _tag: "Repeated", object: b.identity })
      return { content: seq(`${name}=`, b.part, comma), notes }
    })
  }

  private constructorNode(name: string, comment: string, lines: ReadonlyArray<Line>): Node {
    return {
      _tag: "Node",
      prefix: seq(roundtrip("<"), name, "("),
      comment,
      lines,
      abbreviation: "",
      suffix: seq(")", roundtrip(">")),
      expand: true
    }
  }

  private variable(v: Variable<unknown>): Node {
    const size = sizeBytesOf(v.value)
    const comment = size.size > 0 ? ` # ${formatSizeBytes(size)}` : ""
    const entries: Array<readonly [string, unknown]> = [["value", v.value], ...Object.entries(v.metadata)]
    return this.constructorNode(v.kind, comment, this.attributeLines(entries))
  }

  private module(m: object): Node {
    const entries = containerKeys(m, "module").map((k) => [String(k), Reflect.get(m, k)] as const)
    return this.constructorNode(typeName(m), statsComment(this.stats.get(m)), this.attributeLines(entries))
  }

  private container(c: object, isList: boolean): Node {
    const keys = containerKeys(c, isList ? "list" : "record")
    let expand = false
    const lines = keys.map((k, i): Line => {
      const b = this.build(Reflect.get(c, k))
      if (typeof b.part === "object" && b.part._tag === "Node" && b.part.expand) expand = true
      const notes: Array<Note> = b.identity === undefined ? [] : [{ _tag: "Repeated", object: b.identity }]
      const head = isList ? "" : `${keyIn(String(k), this.style)}: `
      return { content: seq(head, b.part, commaAfter(i === keys.length - 1)), notes }
    })
    const n = keys.length
    const noun = isList ? (n === 1 ? "element" : "elements") : n === 1 ? "item" : "items"
    return {
      _tag: "Node",
      // TypeScript's object literals pad their braces when on one line: `{ features: 2 }`.
      prefix: isList ? "[" : this.style === "typescript" && n > 0 ? seq("{", fold(" ", "")) : "{",
      comment: "",
      lines,
      abbreviation: n === 0 ? "" : `<${n} ${noun}...>`,
      suffix: isList ? "]" : this.style === "typescript" && n > 0 ? seq(fold(" ", ""), "}") : "}",
      expand
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

interface Printer {
  readonly roundtrip: boolean
  readonly style: DisplayStyle
  readonly occurrences: ReadonlyMap<object, number>
}

const noteText = (p: Printer, note: Note): string | undefined => {
  if (note._tag === "Repeated") return (p.occurrences.get(note.object) ?? 0) > 1 ? repeatedNote(p.style) : undefined
  return note.roundtripOnly && !p.roundtrip ? undefined : note.text
}

const endsWithSpace = (out: ReadonlyArray<string>): boolean => {
  for (let i = out.length - 1; i >= 0; i--) if (out[i] !== "") return out[i]!.endsWith(" ")
  return false
}

/** Text of the guide form: every fold branch, abbreviations, notes, no line breaks. */
const printFlat = (p: Printer, part: Part, out: Array<string>): void => {
  if (typeof part === "string") {
    out.push(part)
    return
  }
  switch (part._tag) {
    case "Fold":
      out.push(part.collapsed, part.expanded)
      return
    case "Roundtrip":
      printFlat(p, p.roundtrip ? part.roundtrip : part.plain, out)
      return
    case "Seq":
      for (const q of part.parts) printFlat(p, q, out)
      return
    case "Node":
      printFlat(p, part.prefix, out)
      out.push(part.comment)
      for (const line of part.lines) {
        printFlat(p, line.content, out)
        for (const note of line.notes) {
          const text = noteText(p, note)
          if (text === undefined) continue
          out.push(endsWithSpace(out) ? text : ` ${text}`)
        }
      }
      out.push(part.abbreviation)
      printFlat(p, part.suffix, out)
      return
  }
}

/** One-line text of a collapsed part (fold branches for the collapsed state, no notes). */
const printCollapsed = (p: Printer, part: Part): string => {
  if (typeof part === "string") return part
  switch (part._tag) {
    case "Fold":
      return part.collapsed
    case "Roundtrip":
      return printCollapsed(p, p.roundtrip ? part.roundtrip : part.plain)
    case "Seq":
      return part.parts.map((q) => printCollapsed(p, q)).join("")
    case "Node":
      return (
        printCollapsed(p, part.prefix) +
        part.lines.map((l) => printCollapsed(p, l.content)).join("") +
        printCollapsed(p, part.suffix)
      )
  }
}

/** Multi-line text: expanded nodes one child per line, indented by two spaces per level. */
const printExpanded = (p: Printer, part: Part, indent: string): string => {
  if (typeof part === "string") return part
  switch (part._tag) {
    case "Fold":
      return part.expanded
    case "Roundtrip":
      return printExpanded(p, p.roundtrip ? part.roundtrip : part.plain, indent)
    case "Seq":
      return part.parts.map((q) => printExpanded(p, q, indent)).join("")
    case "Node": {
      if (!part.expand || part.lines.length === 0) return printCollapsed(p, part)
      const inner = indent + "  "
      let s = printExpanded(p, part.prefix, indent) + part.comment + "\n"
      for (const line of part.lines) {
        s += inner + printExpanded(p, line.content, inner)
        for (const note of line.notes) {
          const text = noteText(p, note)
          if (text !== undefined) s += ` ${text}`
        }
        s += "\n"
      }
      return s + indent + printExpanded(p, part.suffix, indent)
    }
  }
}

/**
 * Options of {@link displayString}.
 * @category models
 * @since 0.1.0
 */
export interface DisplayOptions extends StyleOptions {
  /** One line, as the reference guide writes displays (implies `roundtrip` unless it is given). */
  readonly oneLine?: boolean | undefined
  /** Roundtrip-mode markers: `<Weights(` ... `)>`, and the guide's array-visualization notes. */
  readonly roundtrip?: boolean | undefined
  /**
   * How many levels of objects to show before eliding deeper ones as `Name(...)` (default 64, at
   * most 1000: the summary is built and printed recursively, one level per object).
   */
  readonly maxDepth?: number | undefined
}

/** The deepest `maxDepth` honoured, so a deep graph cannot overflow the stack. */
const MAX_DEPTH = 1000

/**
 * The tree summary of a Module, Variable, Rngs, or list/record of them, as text.
 *
 * @example
 * ```ts
 * import { jnp, nnx, random } from "effect-nnx"
 *
 * class Weights extends nnx.Module {
 *   kernel = new nnx.Param(random.uniform(random.key(0), [10, 2, 3]))
 *   bias = new nnx.Param(jnp.zeros([10, 3]))
 * }
 *
 * console.log(nnx.displayString(new Weights()))
 * // Weights( # Param: 90 (360 B)
 * //   bias=Param( # 30 (120 B)
 * //     value=Array float32[10, 3],
 * //   ),
 * //   kernel=Param( # 60 (240 B)
 * //     value=Array float32[10, 2, 3],
 * //   ),
 * // )
 *
 * // The reference guide's form: one line, Python's spelling.
 * nnx.displayString(new Weights(), { oneLine: true, style: "python" })
 * // "<Weights( # Param: 90 (360 B)bias=<Param( # 30 (120 B)value=Array float32(10, 3))>, kernel=<Param( # 60 (240 B)value=Array float32(10, 2, 3))>,)>"
 * ```
 * @category display
 * @since 0.1.0
 */
export const displayString = (value: unknown, options?: DisplayOptions): string => {
  const oneLine = options?.oneLine ?? false
  const roundtripMode = options?.roundtrip ?? oneLine
  const style = styleOf(options)
  const builder = new Builder(value, Math.min(options?.maxDepth ?? 64, MAX_DEPTH), style)
  const built = builder.build(value)
  const printer: Printer = { roundtrip: roundtripMode, style, occurrences: builder.occurrences }
  if (oneLine) {
    const out: Array<string> = []
    printFlat(printer, built.part, out)
    return out.join("")
  }
  return printExpanded(printer, built.part, "")
}

/**
 * Prints the tree summary of each value (multi-line), like Flax's `nnx.display`.
 *
 * @example
 * ```ts
 * import { jnp, nnx } from "effect-nnx"
 *
 * nnx.display(new nnx.Param(jnp.zeros([3])))
 * // Param( # 3 (12 B)
 * //   value=Array float32[3],
 * // )
 * ```
 * @category display
 * @since 0.1.0
 */
export const display = (...values: ReadonlyArray<unknown>): void => {
  for (const v of values) console.log(displayString(v))
}
