import { existsSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { configDefaults, defineConfig } from "vitest/config"

/**
 * The webgpu suites (test/webgpu) need a WebGPU adapter. On a machine without a GPU, Dawn finds one
 * through SwiftShader's Vulkan driver, which Debian's chromium package ships: point the Vulkan loader
 * at it unless the environment already names a driver (on a GPU machine, set VK_ICD_FILENAMES to the
 * vendor's ICD, or to an empty value for the loader's own search). Dawn also wants XDG_RUNTIME_DIR.
 */
const swiftShaderIcd = "/usr/lib/chromium/vk_swiftshader_icd.json"
if (process.env["VK_ICD_FILENAMES"] === undefined && existsSync(swiftShaderIcd))
  process.env["VK_ICD_FILENAMES"] = swiftShaderIcd
if (process.env["XDG_RUNTIME_DIR"] === undefined) {
  const dir = join(tmpdir(), "effect-nnx-xdg")
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  process.env["XDG_RUNTIME_DIR"] = dir
}

/**
 * Every test runs on the default backend (wasm, every core). The array, random and transform suites
 * run twice more: on the cpu reference backend and on the wasm backend with one thread, picked by
 * `EFFECT_NNX_BACKEND` (see src/backend/wasm/default.ts).
 */
const perBackend = ["test/backend/**/*.test.ts", "test/random/**/*.test.ts", "test/transforms/**/*.test.ts"]

/**
 * Mutation runs (stryker.config.mjs sets `EFFECT_NNX_MUTATION_SEED`): one fast-check seed, so that
 * property tests keep the names Stryker selects them by; without the slow gpu.js, browser and
 * package suites (the last builds and installs a tarball, and runs no core code in-process). Normal
 * runs are unchanged.
 */
const mutation =
  process.env["EFFECT_NNX_MUTATION_SEED"] === undefined
    ? {}
    : {
        setupFiles: ["test/support/mutationSeed.ts"],
        exclude: [...configDefaults.exclude, "test/gpujs/**", "test/browser/**", "test/package/**"]
      }

/**
 * `npm run test:webgpu` (which sets `EFFECT_NNX_WEBGPU`: `dawn`, or `stand-in` for the JavaScript
 * stand-in for the GPU): the example-based array, random and transform suites on the webgpu
 * backend, each synchronous read of a value still on the device suspending the test until the
 * device is done, then replaying it (test/support/suspense/replay.ts). Not part of `npm test`: on a
 * software adapter it takes far longer than the other projects together.
 */
const webgpuSuites =
  process.env["EFFECT_NNX_WEBGPU"] === undefined
    ? []
    : [
        {
          extends: true,
          test: {
            name: "webgpu",
            include: perBackend,
            setupFiles: ["test/support/suspense/setup.ts"],
            env: { EFFECT_NNX_BACKEND: "webgpu" },
            retry: { count: 2000, condition: /WebGPU reads asynchronously/ },
            // Before a retry, the hook waits for the device to finish and read back everything the
            // test made: on a software adapter that can take far longer than vitest's 10 s default.
            hookTimeout: 300_000
          }
        }
      ]

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    testTimeout: 60_000,
    ...mutation,
    projects: [
      { extends: true, test: { name: "wasm", include: ["test/**/*.test.ts"] } },
      { extends: true, test: { name: "cpu", include: perBackend, env: { EFFECT_NNX_BACKEND: "cpu" } } },
      { extends: true, test: { name: "wasm:1", include: perBackend, env: { EFFECT_NNX_BACKEND: "wasm:1" } } },
      ...webgpuSuites
    ]
  }
})
