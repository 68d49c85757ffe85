/**
 * The main job: every example of the Flax NNX transforms guide, run in TypeScript, printing what
 * the guide prints, spelled as TypeScript prints it (multi-line displays, `false`, `["a", null]`).
 * `npm run guide` (see README). The guide's own one-line, Python-spelled text is what
 * test/guide/guide.test.ts compares, from the same sections run in the Python display style.
 */
import { runSections } from "./guide/sections.ts"

for (const section of runSections("typescript")) {
  console.log(`\n## ${section.title}\n`)
  for (const block of section.blocks) console.log(block)
}
