/**
 * Typed errors of the gpujs backend.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * gpu.js could not start in the requested mode: the package is missing, the mode is not supported
 * here (no WebGL, no `gl` addon, no display), or a first test kernel gave a wrong answer.
 * `Backend.auto` catches it and uses the cpu backend instead.
 * @category errors
 * @since 0.1.0
 */
export class GpuUnavailableError extends Data.TaggedError("GpuUnavailableError")<{
  readonly mode: string
  readonly reason: string
}> {
  override get message(): string {
    return `gpu.js mode '${this.mode}' is unavailable: ${this.reason}`
  }
}

/**
 * A gpu.js kernel failed while compiling or running. With `onKernelError: "fail"` the operation
 * throws it; by default the backend logs it once and runs the operation on the cpu kernels instead,
 * so a failing kernel never produces a number.
 * @category errors
 * @since 0.1.0
 */
export class GpuKernelError extends Data.TaggedError("GpuKernelError")<{
  readonly op: string
  readonly mode: string
  readonly reason: string
}> {
  override get message(): string {
    return `gpu.js kernel for ${this.op} failed in mode '${this.mode}': ${this.reason}`
  }
}

/**
 * The WebGPU device went away (a driver reset, the adapter removed, `destroy()`): every array on it
 * lost its data. Reads of those arrays and operations on them fail with this error; make a new
 * backend to continue.
 * @category errors
 * @since 0.2.0
 */
export class GpuDeviceLostError extends Data.TaggedError("GpuDeviceLostError")<{
  readonly reason: string
}> {
  override get message(): string {
    return `the WebGPU device was lost: ${this.reason}`
  }
}
