/**
 * The `Backend` namespace of the public API: the service and the cpu backend ({@link ./Backend.ts}),
 * the gpujs and webgpu backends, automatic selection between them, and reading values as Effects.
 *
 * @since 0.1.0
 */
export * from "./Backend.ts"
export { auto, gpuModes, layerAuto, layerGpujs, layerWebgpu, select } from "./auto.ts"
export type { AutoOptions, Selection } from "./auto.ts"
export {
  GpuDeviceLostError,
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
export { blockUntilReady, data, item, tolist } from "./read.ts"
export type { ReadError } from "./read.ts"
export { describeAdapter, isWebgpuBackend, make as makeWebgpu } from "./webgpu/Webgpu.ts"
export type { AdapterInfo, WebgpuBackend, WebgpuOptions, WebgpuStats } from "./webgpu/Webgpu.ts"
export type { WebgpuMemoryStats } from "./webgpu/storage.ts"
