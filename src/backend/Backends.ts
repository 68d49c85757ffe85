/**
 * The `Backend` namespace of the public API: the service and the cpu backend ({@link ./Backend.ts}),
 * the gpujs backend, and automatic selection between them.
 *
 * @since 0.1.0
 */
export * from "./Backend.ts"
export { auto, gpuModes, layerAuto, layerGpujs, select } from "./auto.ts"
export type { Selection } from "./auto.ts"
export {
  GpuKernelError,
  GpuUnavailableError,
  make as makeGpujs,
  makeWith as makeGpujsWith,
  supportedModes as gpujsModes,
  tidy
} from "./gpujs/Gpujs.ts"
export type { GpujsBackend, GpujsMode, GpujsOptions, GpujsStats, GpuMode } from "./gpujs/Gpujs.ts"
export type { GpuJs } from "./gpujs/gpujsModule.ts"
export { asGpuJs } from "./gpujs/gpujsModule.ts"
