/**
 * A gpujs plan: how one primitive runs as a short sequence of gpu.js kernels. Plans are plain data
 * (kernel sources, output sizes, argument wiring), so they are cached by primitive, shapes, dtypes
 * and parameters, and the kernels inside them by their source text.
 */

/** One kernel launch: its source, its output length, and which values it reads. */
export interface Step {
  readonly source: string
  readonly size: number
  /** Indices into the plan's values: the operands first, then each earlier step's output. */
  readonly args: ReadonlyArray<number>
  /** Run-time numbers passed after the arrays (dynamic slice starts), so the kernel is reused. */
  readonly scalars?: ReadonlyArray<number>
}

/**
 * How an operation runs on the gpujs backend: a chain of kernel launches whose last output is the
 * result, or an alias of operand `k` (reshapes and other pure reinterpretations share storage).
 */
export type Plan =
  | { readonly _tag: "Kernels"; readonly steps: ReadonlyArray<Step> }
  | { readonly _tag: "Alias"; readonly operand: number }

export const kernels = (steps: ReadonlyArray<Step>): Plan => ({ _tag: "Kernels", steps })

export const single = (source: string, size: number, arity: number, scalars?: ReadonlyArray<number>): Plan =>
  kernels([
    { source, size, args: Array.from({ length: arity }, (_, k) => k), ...(scalars === undefined ? {} : { scalars }) }
  ])

export const alias = (operand: number): Plan => ({ _tag: "Alias", operand })

/** Builds a chain of steps, numbering each step's output after the operands. */
export class StepChain {
  private readonly steps: Array<Step> = []
  constructor(private readonly arity: number) {}

  /** Adds a step; returns the value index of its output. */
  push(source: string, size: number, args: ReadonlyArray<number>): number {
    this.steps.push({ source, size, args })
    return this.arity + this.steps.length - 1
  }

  get length(): number {
    return this.steps.length
  }

  plan(): Plan {
    return kernels(this.steps)
  }
}
