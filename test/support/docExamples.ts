/**
 * The docs' code as programs: the ```ts blocks of README.md and docs/*.md, and the `@example` blocks
 * of the doc comments under src/, are type-checked together in one TypeScript program and run, with
 * what they print compared to their comments. Shared by the docs tests (test/docs/*).
 *
 * A block is a module importing from `effect-nnx` (this checkout's src/index.ts, through the
 * package's `source` condition). It must be a complete program, with one allowance: a page's blocks
 * made only of import lines (the page's "prelude") are put before each later block of that page that
 * has no imports of its own, so a reference page can open with its imports once.
 *
 * What a block says it prints or gives, top-level statement by statement (other comments are prose):
 * - `console.log(x) // text`, or `console.log(x)` with `// ` lines right below it: the statement
 *   prints that, as Node prints it (util.format) or with its arguments written as TypeScript
 *   literals (`["a", null]` for Node's `[ 'a', null ]`).
 * - `expr // value`, or `expr` with `// value` lines below: the expression's value, written as a
 *   TypeScript reader would (`[2, 4]`, `"int32"`, `true`, `{ a: 1 }`; an Array as its repr
 *   `Array([1, 2], dtype=int32)` or, when the comment is a list, as `tolist()`). A comment that does
 *   not read as a value (`// x[0]`, `// a new Model`) is prose and is not compared.
 * - In both, prose may follow after `;`, `:` or a space (`// [3]; every value > 0`), a `...` stands
 *   for anything (`{ shardingNames: [...] }`), and a last comment line `...` for the rest.
 * - A comment after a declaration speaks of what it declares and is not compared.
 *
 * An `@example` of an internal module may import it relatively (`./pool.ts`).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { format } from "node:util"
import ts from "typescript"

const root = fileURLToPath(new URL("../../", import.meta.url))
const entry = fileURLToPath(new URL("../../src/index.ts", import.meta.url))

/** One code block: where it is (`docs/graph.md:58`, `src/layers/Linear.ts:60`) and its code. */
export interface Example {
  /** The file, relative to the repository root. */
  readonly file: string
  /** The line of the block's opening fence (1-based). */
  readonly line: number
  /** The block's own code. */
  readonly code: string
  /** Code put before and after it in its module: a page's prelude and, on a continuing page, the blocks before. */
  readonly before: string
  readonly after: string
}

export const exampleName = (e: Example): string => `${e.file}:${e.line}`

/** The file line of a line of an example's own code (1-based). */
export const fileLine = (e: Example, codeLine: number): number => e.line + codeLine

/** The example's module: its code with what goes before and after it. */
const moduleOf = (e: Example, code = e.code): string => `${e.before}${code}${e.after}\nexport {}\n`

const importsOf = (code: string): Array<ts.ImportDeclaration> =>
  ts.createSourceFile("block.ts", code, ts.ScriptTarget.ES2022, true).statements.filter(ts.isImportDeclaration)

const isImportOnly = (code: string): boolean => {
  const sf = ts.createSourceFile("block.ts", code, ts.ScriptTarget.ES2022, true)
  return sf.statements.length > 0 && sf.statements.every(ts.isImportDeclaration)
}

/** The marker of a page whose blocks continue one another, as a notebook's cells do. */
export const continuingMarker = "<!-- docs: each block continues the blocks before it -->"

/**
 * The ```ts blocks of a Markdown file (a path relative to the repository root, such as
 * `docs/graph.md`). Import-only blocks are the page's prelude, put before each later block that has
 * no imports of its own. On a page with {@link continuingMarker}, each block runs inside the scope of
 * the blocks before it (each opens a `{` scope the next is nested in, so a block may use what they
 * declare, or declare a name again: then the name is the new one in the whole block), every block's
 * imports moved to the top.
 */
export const pageExamples = (file: string): Array<Example> => {
  const text = readFileSync(join(root, file), "utf8")
  const continuing = text.includes(continuingMarker)
  const blocks: Array<{ readonly line: number; code: string; readonly own: boolean }> = []
  let prelude = ""
  for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
    const code = m[1]!
    const line = text.slice(0, m.index).split("\n").length
    if (isImportOnly(code)) prelude += code
    else blocks.push({ line, code, own: importsOf(code).length > 0 })
  }
  if (!continuing)
    return blocks.map((b) => ({ file, line: b.line, code: b.code, before: b.own ? "" : prelude, after: "" }))
  // Imports must be top-level: each moves to the prelude, leaving blank lines in its place.
  for (const b of blocks) {
    for (const imp of importsOf(b.code).reverse()) {
      prelude += `${imp.getText()}\n`
      b.code =
        b.code.slice(0, imp.getStart()) + "\n".repeat(imp.getText().split("\n").length - 1) + b.code.slice(imp.getEnd())
    }
  }
  return blocks.map((b, i) => ({
    file,
    line: b.line,
    code: b.code,
    before:
      prelude +
      blocks
        .slice(0, i)
        .map((earlier) => `${earlier.code}\n{\n`)
        .join(""),
    after: "\n}".repeat(i)
  }))
}

/** The ```ts blocks of a page under docs/, as code (the form test/optax/docs.test.ts uses). */
export const docBlocks = (page: string): Array<string> => {
  const doc = readFileSync(join(root, "docs", page), "utf8")
  return [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
}

/** The Markdown files whose TypeScript blocks are checked: README.md and docs/*.md. */
export const pages = (): Array<string> => [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`)
]

const walk = (dir: string): Array<string> =>
  readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f)
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : []
    })

/**
 * Every `@example` block of the doc comments under src/: the ```ts fence right after an `@example`
 * tag, its lines with the comment's leading ` * ` removed. An `@example` without a fence is an error
 * (listed, so that it gets one).
 */
export const sourceExamples = (): { readonly examples: Array<Example>; readonly unfenced: Array<string> } => {
  const examples: Array<Example> = []
  const unfenced: Array<string> = []
  for (const path of walk(join(root, "src"))) {
    const file = relative(root, path)
    const lines = readFileSync(path, "utf8").split("\n")
    lines.forEach((line, i) => {
      if (!/^\s*\*\s*@example\b/.test(line)) return
      if (!/^\s*\*\s*```ts\s*$/.test(lines[i + 1] ?? "")) return void unfenced.push(`${file}:${i + 1}`)
      const body: Array<string> = []
      for (let j = i + 2; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]!); j++)
        body.push(lines[j]!.replace(/^\s*\* ?/, ""))
      // An internal module's example may import it relatively (`./pool.ts`): from the example's folder.
      const code = body
        .join("\n")
        .replace(/from "(\.\.?\/[^"]+)"/g, (_, spec: string) => `from ${JSON.stringify(join(dirname(path), spec))}`)
      examples.push({ file, line: i + 2, code: `${code}\n`, before: "", after: "" })
    })
  }
  return { examples, unfenced }
}

// ---------------------------------------------------------------------------------------------------
// Files

/**
 * A folder for example modules inside the checkout (git-ignored `test/docs/.examples/`), so that
 * `effect-nnx` and `effect` resolve as they do for a user, and a function that removes it.
 */
export const exampleDir = (name: string): { readonly dir: string; readonly remove: () => void } => {
  const base = join(root, "test", "docs", ".examples")
  mkdirSync(base, { recursive: true })
  const dir = mkdtempSync(join(base, `${name}-`))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

const slug = (e: Example): string => `${e.file.replace(/[^A-Za-z0-9]+/g, "_")}_${e.line}`

// ---------------------------------------------------------------------------------------------------
// Type checking

/**
 * Type-checks examples in one program with the project's compiler options (unused locals allowed:
 * an example may name a result without using it). Returns the errors of each example that has any,
 * with line numbers of the block's own lines.
 */
export const typeCheck = (
  examples: ReadonlyArray<Example>,
  dir: string
): Array<{ readonly example: Example; readonly errors: Array<string> }> => {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
      }
    }
  )!
  const files = examples.map((e) => {
    const file = join(dir, `${slug(e)}.ts`)
    writeFileSync(file, moduleOf(e))
    return file
  })
  const program = ts.createProgram(files, {
    ...config.options,
    noUnusedLocals: false,
    noUnusedParameters: false,
    noEmit: true
  })
  const out: Array<{ example: Example; errors: Array<string> }> = []
  examples.forEach((example, i) => {
    const sf = program.getSourceFile(files[i]!)!
    // Errors in what goes before the block (a continuing page's earlier blocks) are theirs.
    const [from, to] = [example.before.length, example.before.length + example.code.length]
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].filter(
      (d) => d.start === undefined || (d.start >= from && d.start < to)
    )
    if (diags.length === 0) return
    const beforeLines = example.before.split("\n").length - 1
    out.push({
      example,
      errors: [
        ...new Set(
          diags.map((d) => {
            const at =
              d.start === undefined
                ? ""
                : `${example.file}:${fileLine(example, sf.getLineAndCharacterOfPosition(d.start).line + 1 - beforeLines)}: `
            return `${at}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
          })
        )
      ]
    })
  })
  return out
}

// ---------------------------------------------------------------------------------------------------
// What a block says it prints

/** A top-level statement with an output comment: its index in the block, its lines, the comment. */
interface Claim {
  readonly id: number
  readonly line: number
  readonly text: string
  readonly comment: string
  readonly expression: boolean
}

const claimsOf = (code: string): { readonly claims: Array<Claim>; readonly instrumented: string } => {
  const sf = ts.createSourceFile("block.ts", code, ts.ScriptTarget.ES2022, true)
  const lines = code.split("\n")
  const claims: Array<Claim> = []
  const edits: Array<{ readonly start: number; readonly end: number; readonly text: string }> = []
  sf.statements.forEach((st, id) => {
    // Only a statement that gives or prints something makes a claim: a comment after a declaration
    // speaks of the names it declares, and the lines below it are the next statement's.
    if (!ts.isExpressionStatement(st) && !ts.isIterationStatement(st, false)) return
    const endLine = sf.getLineAndCharacterOfPosition(st.getEnd()).line
    const rest = lines[endLine]!.slice(sf.getLineAndCharacterOfPosition(st.getEnd()).character)
    const trailing = /^\s*;?\s*\/\/ ?(.*)$/.exec(rest)
    let comment: string | undefined
    if (trailing !== null) comment = trailing[1]!.trim()
    else {
      const shown: Array<string> = []
      for (let j = endLine + 1; j < lines.length && /^\s*\/\//.test(lines[j]!); j++)
        shown.push(lines[j]!.replace(/^\s*\/\/ ?/, ""))
      if (shown.length > 0) comment = shown.join("\n")
    }
    if (comment === undefined) return
    const expression = ts.isExpressionStatement(st)
    claims.push({
      id,
      line: sf.getLineAndCharacterOfPosition(st.getStart()).line + 1,
      text: st.getText(),
      comment,
      expression
    })
    const begin = `;globalThis.__nnxDoc.begin(${id});`
    const body = expression ? `globalThis.__nnxDoc.value(${id}, (${st.expression.getText()}));` : st.getText()
    edits.push({ start: st.getStart(), end: st.getEnd(), text: `${begin}${body};globalThis.__nnxDoc.end(${id});` })
  })
  let instrumented = code
  for (const e of edits.reverse()) instrumented = instrumented.slice(0, e.start) + e.text + instrumented.slice(e.end)
  return { claims, instrumented }
}

/** Whether a comment reads as a value (a claim to compare) rather than prose. */
const readsAsValue = (comment: string): boolean =>
  /^(\[|\{ ?\}|\{[^}]*:|"|'|-?\d|-?Infinity|NaN|true\b|false\b|null\b|undefined\b|Array\()/.test(comment)

const isJaxArray = (v: unknown): v is { repr(): string; tolist(): unknown } =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { repr?: unknown }).repr === "function" &&
  "dtype" in v &&
  typeof (v as { tolist?: unknown }).tolist === "function"

/** A number as a reader of float32 results writes it: a float32 value to the digits that read back. */
const showNumber = (n: number): string => {
  if (Object.is(n, -0)) return "-0"
  if (!Number.isFinite(n) || Number.isInteger(n) || Math.fround(n) !== n) return String(n)
  for (let digits = 1; digits <= 17; digits++) {
    const s = String(Number(n.toPrecision(digits)))
    if (Math.fround(Number(s)) === n) return s
  }
  return String(n)
}

/** A value as TypeScript code writes it: `[1, 2]`, `{ a: "x" }`, an Array's repr. */
export const show = (v: unknown, listArrays = false): string => {
  if (typeof v === "string") return JSON.stringify(v)
  if (typeof v === "number") return showNumber(v)
  if (typeof v === "bigint") return `${v}n`
  if (v === null || typeof v !== "object") return String(v)
  if (isJaxArray(v)) return listArrays ? show(v.tolist(), true) : v.repr()
  if (Array.isArray(v)) return `[${v.map((x) => show(x, listArrays)).join(", ")}]`
  const proto = Object.getPrototypeOf(v)
  if (
    proto !== Object.prototype &&
    proto !== null &&
    typeof (v as { toString?: unknown }).toString === "function" &&
    (v as object).toString !== Object.prototype.toString
  )
    return String(v)
  const entries = Object.entries(v)
  if (entries.length === 0) return "{}"
  return `{ ${entries.map(([k, x]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${show(x, listArrays)}`).join(", ")} }`
}

/**
 * `actual` is what `comment` shows: equal, or its beginning (a last line `...`), or followed by prose;
 * a `...` inside a line stands for anything (`{ shardingNames: [...] }`).
 */
const agrees = (actual: string, comment: string, prose: boolean): boolean => {
  const lines = comment.split("\n")
  if (lines.length > 1 && lines[lines.length - 1]!.trim() === "...")
    return actual.startsWith(lines.slice(0, -1).join("\n"))
  if (actual === comment) return true
  if (comment.includes("...")) {
    const pattern = comment
      .split("...")
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[\\s\\S]*?")
    if (new RegExp(`^${pattern}$`).test(actual)) return true
  }
  return prose && comment.startsWith(actual) && /^(\s|[;:])/.test(comment.slice(actual.length))
}

/** A statement whose comment says something else than what it printed or gave. */
export interface Mismatch {
  readonly line: number
  readonly statement: string
  readonly expected: string
  readonly actual: string
}

declare global {
  // The instrumented blocks report to the runner through this global.
  var __nnxDoc: { begin(id: number): void; value(id: number, v: unknown): unknown; end(id: number): void } | undefined
}

/**
 * Runs an example as a module in `dir` (console.log captured) and compares each statement's output
 * comment with what it printed or gave (see the module comment). Returns everything it printed and
 * the statements that disagree; a block that throws rejects.
 */
export const checkExample = async (
  example: Example,
  dir: string
): Promise<{ readonly printed: Array<string>; readonly mismatches: Array<Mismatch> }> => {
  const { claims, instrumented } = claimsOf(example.code)
  const file = join(dir, `${slug(example)}.run.ts`)
  writeFileSync(file, moduleOf(example, instrumented))
  const printed: Array<string> = []
  // What each console.log call printed as TypeScript code writes its arguments (`["a", null]`, not
  // Node's `[ 'a', null ]`), strings as text or as literals: docs may show any of these.
  const written: Array<string> = []
  const quoted: Array<string> = []
  const starts = new Map<number, number>()
  const seen = new Map<
    number,
    { printed: Array<string>; written: Array<string>; quoted: Array<string>; value?: unknown; hasValue: boolean }
  >()
  const values = new Map<number, unknown>()
  globalThis.__nnxDoc = {
    begin: (id) => void starts.set(id, printed.length),
    value: (id, v) => {
      values.set(id, v)
      return v
    },
    end: (id) => {
      const from = starts.get(id) ?? printed.length
      seen.set(id, {
        printed: printed.slice(from),
        written: written.slice(from),
        quoted: quoted.slice(from),
        value: values.get(id),
        hasValue: values.has(id)
      })
    }
  }
  const log = console.log
  console.log = (...args: Array<unknown>) => {
    printed.push(format(...args))
    written.push(args.map((a) => (typeof a === "string" ? a : show(a))).join(" "))
    quoted.push(args.map((a) => show(a)).join(" "))
  }
  try {
    await import(pathToFileURL(file).href)
  } finally {
    console.log = log
    globalThis.__nnxDoc = undefined
  }
  const mismatches: Array<Mismatch> = []
  for (const claim of claims) {
    const got = seen.get(claim.id)
    if (got === undefined) continue
    const base = { line: claim.line, statement: claim.text, expected: claim.comment }
    if (got.printed.length > 0) {
      const actual = got.printed.join("\n")
      const forms = [actual, got.written.join("\n"), got.quoted.join("\n")]
      if (!forms.some((form) => agrees(form, claim.comment, true))) mismatches.push({ ...base, actual })
      continue
    }
    if (!claim.expression || !got.hasValue || got.value === undefined || got.value instanceof Promise) continue
    if (!readsAsValue(claim.comment)) continue
    const v = got.value
    // An Array may be shown by its repr or its elements, a string with or without quotes.
    const candidates =
      isJaxArray(v) || Array.isArray(v) ? [show(v), show(v, true)] : typeof v === "string" ? [show(v), v] : [show(v)]
    if (!candidates.some((c) => agrees(c, claim.comment, true))) mismatches.push({ ...base, actual: candidates[0]! })
  }
  return { printed, mismatches }
}

/** A readable account of mismatches, for a test's failure message. */
export const describeMismatches = (example: Example, mismatches: ReadonlyArray<Mismatch>): string =>
  mismatches
    .map(
      (m) =>
        `${example.file}:${fileLine(example, m.line)} ${m.statement.split("\n")[0]}\n  comment: ${m.expected.replace(/\n/g, "\n           ")}\n  actual:  ${m.actual.replace(/\n/g, "\n           ")}`
    )
    .join("\n")

// ---------------------------------------------------------------------------------------------------
// The earlier interface, kept for the page tests that use it (test/optax/docs.test.ts)

/** The output a block's comments promise, one entry per console.log call. */
export const expectedOutputs = (code: string): Array<string> => {
  const lines = code.split("\n")
  const out: Array<string> = []
  lines.forEach((line, i) => {
    if (!line.includes("console.log(")) return
    const trailing = /\)\s*\/\/ (.*)$/.exec(line)
    if (trailing !== null) return void out.push(trailing[1]!.trim())
    const below: Array<string> = []
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("// "); j++) below.push(lines[j]!.slice(3))
    out.push(below.join("\n"))
  })
  return out
}

/** Runs a block as a module in `dir`; what its console.log calls printed, one entry per call. */
export const runExample = async (code: string, dir: string, name: string): Promise<Array<string>> => {
  const file = join(dir, `${name}.ts`)
  writeFileSync(file, `${code.replace(/from "effect-nnx"/g, `from ${JSON.stringify(entry)}`)}\nexport {}\n`)
  const printed: Array<string> = []
  const log = console.log
  console.log = (...args: Array<unknown>) => void printed.push(format(...args))
  try {
    await import(pathToFileURL(file).href)
  } finally {
    console.log = log
  }
  return printed
}
