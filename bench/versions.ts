/** Versions of installed packages, read from their package.json (some do not export it). */
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const require = createRequire(import.meta.url)

export const packageVersion = (name: string): string => {
  try {
    let dir = dirname(require.resolve(name))
    for (;;) {
      const file = join(dir, "package.json")
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string }
        if (pkg.name === name) return pkg.version ?? "?"
      }
      const up = dirname(dir)
      if (up === dir) return "?"
      dir = up
    }
  } catch {
    return "?"
  }
}
