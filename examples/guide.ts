/**
 * The main job: every example of the Flax NNX transforms guide, run in TypeScript, printing what
 * the guide prints. `npm run guide` (see README).
 */
import { sections } from "./guide/sections.ts"

for (const section of sections) {
  console.log(`\n## ${section.title}\n`)
  for (const block of section.run()) console.log(block)
}
