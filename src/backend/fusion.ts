/**
 * Fused programs: what `jit`'s compiler hands a backend when a chain of elementwise primitives (and
 * optionally the reduction they feed) can run as one kernel.
 *
 * A program iterates over one index space, `shape`. Each input is read at the current position
 * through its own element strides over that space (0 on a broadcast axis), so broadcasts, size-1
 * axes and scalar operands cost nothing. Nodes form a DAG in evaluation order; each has the dtype of
 * its value. The outputs are either nodes over the whole space (`map`), or one node reduced over some
 * axes of the space (`reduce`), in which case the output's shape is `shape` without those axes.
 *
 * The IR is backend-independent: the wasm backend compiles it to one generated WebAssembly function,
 * the gpujs backend to one gpu.js kernel, and {@link evaluateFused} is the readable reference every
 * backend's compiled kernel is tested against.
 *
 * @since 0.2.0
 */
import type { DType, NumericDType } from "./DType.ts"
import type { BinaryPrimitive, ReducePrimitive, UnaryPrimitive } from "./Primitive.ts"
import type { Shape } from "./shape.ts"

/** An input of a fused program: its dtype and its element strides over the program's index space. */
export interface FusedInput {
  readonly dtype: DType
  /** One stride per axis of the program's `shape`, in elements of the input's storage; 0 broadcasts. */
  readonly strides: ReadonlyArray<number>
  /** The input's own element count (its storage length). */
  readonly size: number
}

/** A node of a fused program's DAG. `args` refer to earlier nodes by index. */
export type FusedNode =
  | { readonly kind: "input"; readonly input: number; readonly dtype: DType }
  | { readonly kind: "literal"; readonly value: number; readonly dtype: NumericDType }
  | { readonly kind: "unary"; readonly prim: UnaryPrimitive; readonly arg: number; readonly dtype: NumericDType }
  | {
      readonly kind: "round"
      readonly method: "awayFromZero" | "toNearestEven"
      readonly arg: number
      readonly dtype: "float32"
    }
  | {
      readonly kind: "binary"
      readonly prim: BinaryPrimitive
      readonly args: readonly [number, number]
      readonly dtype: NumericDType
    }
  | {
      readonly kind: "select"
      readonly args: readonly [pred: number, onTrue: number, onFalse: number]
      readonly dtype: NumericDType
    }
  | { readonly kind: "convert"; readonly arg: number; readonly dtype: NumericDType }

/** What a fused program produces. */
export type FusedOutputs =
  | { readonly kind: "map"; readonly nodes: ReadonlyArray<number> }
  | {
      readonly kind: "reduce"
      readonly node: number
      readonly prim: ReducePrimitive
      readonly axes: ReadonlyArray<number>
    }

/**
 * A fused program.
 * @category models
 * @since 0.2.0
 */
export interface FusedProgram {
  readonly shape: Shape
  readonly inputs: ReadonlyArray<FusedInput>
  readonly nodes: ReadonlyArray<FusedNode>
  readonly outputs: FusedOutputs
}

/**
 * A stable text key of a program, for kernel caches. Unlike plain JSON it tells NaN, the infinities
 * and -0 apart (JSON writes the first three as `null`), so programs differing only in such a literal
 * never share a kernel.
 */
export const fusedKey = (p: FusedProgram): string =>
  JSON.stringify(p, (_k, v: unknown) =>
    typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? "-0" : String(v)}` : v
  )
