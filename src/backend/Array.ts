/**
 * `Array`: an immutable n-dimensional array, the counterpart of `jax.Array`.
 *
 * An Array is either concrete (a buffer on a backend) or a tracer owned by a transform's trace. Every
 * method lowers to primitives through `bind`, so the same code runs eagerly, batched, differentiated
 * or staged. Data is never mutated: "updates" (`x.at(0).set(1)`) return new arrays.
 *
 * @since 0.1.0
 */
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import { ConcretizationError, DTypeError, isPendingReadError } from "./ArrayError.ts"
import type { BackendImpl, DeviceBuffer } from "./BackendImpl.ts"
import type { Aval, DType, HostArray, NumericDType } from "./DType.ts"
import { itemSize } from "./DType.ts"
import type { Trace } from "./bind.ts"
import { styleOf, type StyleOptions } from "./displayStyle.ts"
import { formatArray, formatStr } from "./format.ts"
import type { Index } from "./numpy/indexing.ts"
import type { ReductionOptions, VarianceOptions } from "./numpy/reductions.ts"
import type * as Numpy from "./numpy/ops.ts"
import { sizeOf, stridesOf } from "./shape.ts"

/**
 * The NumPy functions Array's methods call. They are installed from the numpy side
 * (`numpy/install.ts`, loaded by the package entry), as JAX installs its Array methods from
 * `jax.numpy`, so the Array model does not depend on the library built over it.
 */
let ops: typeof Numpy = new Proxy({} as typeof Numpy, {
  get: (_, name) => {
    throw new Error(
      `Array.${String(name)}: the numpy functions are not installed; import the package entry ("effect-nnx")`
    )
  }
})

/** Installs the functions Array's methods call. @internal */
export const installNumpy = (numpy: typeof Numpy): void => {
  ops = numpy
}

/** @category symbols @since 0.1.0 */
export const TypeId: unique symbol = Symbol.for("effect-nnx/Array")

/** A JavaScript value usable where an array is expected: an Array, a number or a boolean. */
export type ArrayLike = Array | number | boolean

/**
 * A complex number as `tolist()` and `item()` return a `complex64` element (JavaScript has no
 * complex type; JAX returns Python's `complex`).
 */
export interface Complex {
  readonly re: number
  readonly im: number
}

/** Nested JavaScript arrays as `tolist()` returns them. */
export type NestedList = number | boolean | Complex | ReadonlyArray<NestedList>

/**
 * Where a tracer's transform keeps its own data about the value (its batch axis, its tangent, its
 * variable in a staged program).
 */
export interface TracerPayload {
  readonly trace: Trace
}

/**
 * An immutable n-dimensional array.
 * @category models
 * @since 0.1.0
 */
export class Array implements Pipeable {
  readonly [TypeId]: typeof TypeId = TypeId
  readonly aval: Aval
  private buffer: DeviceBuffer | undefined
  private backend: BackendImpl | undefined
  readonly tracer: TracerPayload | undefined

  private constructor(
    aval: Aval,
    buffer: DeviceBuffer | undefined,
    backend: BackendImpl | undefined,
    tracer: TracerPayload | undefined
  ) {
    this.aval = aval
    this.buffer = buffer
    this.backend = backend
    this.tracer = tracer
  }

  /** Wraps a buffer a backend produced. @internal */
  static fromBuffer(buffer: DeviceBuffer, aval: Aval, backend: BackendImpl): Array {
    return new Array(aval, buffer, backend, undefined)
  }

  /** Makes a tracer: an array whose value a transform tracks. @internal */
  static traced(aval: Aval, payload: TracerPayload): Array {
    return new Array(aval, undefined, undefined, payload)
  }

  /** The trace that owns this array, if it is a tracer. */
  get trace(): Trace | undefined {
    return this.tracer?.trace
  }

  get shape(): ReadonlyArray<number> {
    return this.aval.shape
  }
  get dtype(): DType {
    return this.aval.dtype
  }
  get weakType(): boolean {
    return this.aval.weakType
  }
  get ndim(): number {
    return this.aval.shape.length
  }
  get size(): number {
    return sizeOf(this.aval.shape)
  }
  /** Bytes the elements take (`nbytes` in JAX). */
  get nbytes(): number {
    return this.size * itemSize(this.aval.dtype)
  }
  /** Row-major strides, in elements. */
  get strides(): ReadonlyArray<number> {
    return stridesOf(this.aval.shape)
  }
  /** Whether this array holds data (as opposed to being a tracer). */
  get isConcrete(): boolean {
    return this.tracer === undefined
  }

  /** Whether `dispose` (or a `tidy`) has released this array's buffer: it can no longer be read. */
  get isDisposed(): boolean {
    if (this.tracer !== undefined) return false
    return this.buffer === undefined || this.backend?.released?.(this.buffer) === true
  }

  /** This array's buffer on `backend`, copying it across backends when needed. @internal */
  bufferOn(backend: BackendImpl): DeviceBuffer {
    const buffer = this.concreteBuffer("use")
    if (this.backend === backend) return buffer
    const moved = backend.upload(this.backend!.download(buffer, this.aval), this.aval, { moved: true })
    this.buffer = moved
    this.backend = backend
    return moved
  }

  private concreteBuffer(what: string): DeviceBuffer {
    if (this.tracer !== undefined) {
      throw new ConcretizationError({
        op: what,
        reason: `needs a concrete value, but this Array is traced by ${this.tracer.trace.name} (an abstract ${this.aval.dtype}[${this.shape.join(",")}]); keep it as an Array: use jnp.where or lax.cond/lax.switch/lax.whileLoop instead of JavaScript branching, and return values instead of reading them`
      })
    }
    if (this.buffer === undefined)
      throw new DTypeError({ op: what, dtypes: [this.aval.dtype], reason: "this Array was disposed" })
    return this.buffer
  }

  /**
   * The host storage of the elements (keys: two uint32 words each), once every operation producing
   * it has run: at once on the wasm and cpu backends, after the device finishes on webgpu. Do not
   * mutate it.
   *
   * ```ts
   * const values = await x.data()
   * ```
   */
  data(): Promise<HostArray> {
    try {
      const buffer = this.concreteBuffer("data")
      const backend = this.backend!
      return backend.read !== undefined
        ? backend.read(buffer, this.aval)
        : Promise.resolve(backend.download(buffer, this.aval))
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /**
   * The elements' host storage, read synchronously (see {@link data}). On webgpu, a value not read
   * back yet is a `PendingReadError`: read it with `await x.data()` or `await
   * x.blockUntilReady()` first. Do not mutate it.
   */
  dataSync(): HostArray {
    const buffer = this.concreteBuffer("dataSync")
    return this.backend!.download(buffer, this.aval)
  }

  /**
   * Resolves with this array once its value is computed and readable on the host, so that
   * synchronous reads (`tolist()`, `item()`, `dataSync()`, printing) work afterwards (JAX's
   * `block_until_ready`). Immediate on the wasm and cpu backends.
   *
   * ```ts
   * const loss = (await step(batch).blockUntilReady()).item()
   * ```
   */
  blockUntilReady(): Promise<this> {
    return this.data().then(() => this)
  }

  /**
   * Calls `f` with the elements and returns its result: a read without a copy on the wasm backend
   * (the array's own memory, lent for the call), the elements of {@link data} elsewhere. The data
   * is valid during the call only: copy what you keep (`withData((d) => d.slice(0, 10))`). Use it to
   * read large results in a loop, where `data()` would copy or hold a block of the memory until the
   * garbage collector runs.
   *
   * ```ts
   * const total = x.withData((d) => d.reduce((a, b) => a + b, 0))
   * ```
   */
  withData<A>(f: (data: HostArray) => A): A {
    const buffer = this.concreteBuffer("withData")
    const backend = this.backend!
    return backend.borrow !== undefined ? backend.borrow(buffer, this.aval, f) : f(backend.download(buffer, this.aval))
  }

  /** The elements as nested JavaScript arrays (numbers, booleans for `bool`, `{ re, im }` for `complex64`). */
  tolist(): NestedList {
    if (this.aval.dtype === "key<fry>") {
      throw new DTypeError({
        op: "tolist",
        dtypes: [this.aval.dtype],
        reason: "PRNG key arrays have no list form; use random.keyData(key).tolist()"
      })
    }
    return this.withData((data) => this.nested(data))
  }

  private nested(data: HostArray): NestedList {
    const isBool = this.aval.dtype === "bool"
    const isComplex = this.aval.dtype === "complex64"
    const shape = this.aval.shape
    const build = (dim: number, offset: number, stride: number): NestedList => {
      if (dim === shape.length)
        return isBool
          ? data[offset] !== 0
          : isComplex
            ? { re: data[2 * offset]!, im: data[2 * offset + 1]! }
            : data[offset]!
      const n = shape[dim]!
      const inner = stride / Math.max(n, 1)
      const out: NestedList[] = []
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * inner, inner))
      return out
    }
    return build(0, 0, this.size)
  }

  /** The single element of a size-1 array (`{ re, im }` for `complex64`). */
  item(): number | boolean | Complex {
    if (this.size !== 1)
      throw new DTypeError({
        op: "item",
        dtypes: [this.aval.dtype],
        reason: `needs an array of size 1, got shape (${this.shape.join(", ")})`
      })
    if (this.aval.dtype === "complex64") return this.withData((d): Complex => ({ re: d[0]!, im: d[1]! }))
    const v = this.withData((d) => d[0]!)
    return this.aval.dtype === "bool" ? v !== 0 : v
  }

  /**
   * Takes this array out of every open `Backend.tidy`, so that none disposes it (as TF.js's `keep`).
   * A Variable does this for the arrays stored in it. Nothing for traced or disposed arrays.
   */
  keep(): this {
    if (this.buffer !== undefined) this.backend?.keep?.(this.buffer)
    return this
  }

  /** Releases the buffer now (useful on GPU backends); the array must not be used afterwards. */
  dispose(): void {
    if (this.buffer !== undefined && this.backend !== undefined) this.backend.dispose(this.buffer)
    this.buffer = undefined
  }

  /**
   * JAX's `repr`: `Array([1, 2], dtype=int32)`. Also what `console.log` shows. In the TypeScript
   * display style (the default) booleans print `true`/`false`; `{ style: "python" }` prints
   * exactly as JAX does (see `setDisplayStyle`).
   */
  repr(options?: StyleOptions): string {
    if (this.tracer !== undefined) return `Traced<${this.dtype}[${this.shape.join(",")}]>`
    return formatArray(this, styleOf(options))
  }
  /** The elements alone: `[1, 2]`, `false` (JAX's `str`, what Python's `print` shows, is `[1 2]`, `False`). */
  toString(options?: StyleOptions): string {
    if (this.tracer !== undefined) return this.repr()
    return formatStr(this, styleOf(options))
  }
  /**
   * What `console.log` shows: {@link repr}, or for a value an asynchronous backend has not read back
   * yet, its shape and dtype and how to read it (printing must not throw; `repr()` itself does).
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    try {
      return this.repr()
    } catch (e) {
      if (!isPendingReadError(e)) throw e
      return `Array(<not read back from ${e.backend} yet: await x.blockUntilReady()>, shape=(${this.shape.join(", ")}${this.ndim === 1 ? "," : ""}), dtype=${this.dtype})`
    }
  }
  /**
   * JavaScript's coercion (`x > 0`, `if (x.item())`, `+x`): a concrete size-1 array gives its number;
   * a traced one fails with a ConcretizationError, since its value is not known while tracing.
   */
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString()
    if (this.tracer !== undefined) {
      throw new ConcretizationError({
        op: "coercion",
        reason: `a traced Array (${this.tracer.trace.name}, ${this.aval.dtype}[${this.shape.join(",")}]) was used as a JavaScript number or boolean, as in \`if (x > 0)\`; its value is unknown while tracing: use jnp.where(x.gt(0), a, b) or lax.cond`
      })
    }
    if (this.aval.dtype === "complex64") {
      throw new DTypeError({
        op: "coercion",
        dtypes: ["complex64"],
        reason:
          "a complex Array has no JavaScript number; take jnp.real, jnp.imag or jnp.abs first, or read item() as { re, im }"
      })
    }
    return Number(this.item())
  }
  toJSON(): unknown {
    return this.aval.dtype === "key<fry>" ? { dtype: this.dtype, shape: this.shape } : this.tolist()
  }

  pipe(...args: ReadonlyArray<unknown>): unknown {
    return pipeArguments(this, args as unknown as IArguments)
  }

  // ---- arithmetic (NumPy semantics, JAX promotion) ----
  add(y: ArrayLike): Array {
    return ops.add(this, y)
  }
  sub(y: ArrayLike): Array {
    return ops.subtract(this, y)
  }
  mul(y: ArrayLike): Array {
    return ops.multiply(this, y)
  }
  div(y: ArrayLike): Array {
    return ops.divide(this, y)
  }
  floorDiv(y: ArrayLike): Array {
    return ops.floorDivide(this, y)
  }
  mod(y: ArrayLike): Array {
    return ops.remainder(this, y)
  }
  pow(y: ArrayLike): Array {
    return ops.power(this, y)
  }
  neg(): Array {
    return ops.negative(this)
  }
  abs(): Array {
    return ops.abs(this)
  }
  matmul(y: Array): Array {
    return ops.matmul(this, y)
  }
  dot(y: Array): Array {
    return ops.dot(this, y)
  }
  maximum(y: ArrayLike): Array {
    return ops.maximum(this, y)
  }
  minimum(y: ArrayLike): Array {
    return ops.minimum(this, y)
  }
  eq(y: ArrayLike): Array {
    return ops.equal(this, y)
  }
  ne(y: ArrayLike): Array {
    return ops.notEqual(this, y)
  }
  lt(y: ArrayLike): Array {
    return ops.less(this, y)
  }
  le(y: ArrayLike): Array {
    return ops.lessEqual(this, y)
  }
  gt(y: ArrayLike): Array {
    return ops.greater(this, y)
  }
  ge(y: ArrayLike): Array {
    return ops.greaterEqual(this, y)
  }
  and(y: ArrayLike): Array {
    return ops.bitwiseAnd(this, y)
  }
  or(y: ArrayLike): Array {
    return ops.bitwiseOr(this, y)
  }
  xor(y: ArrayLike): Array {
    return ops.bitwiseXor(this, y)
  }
  not(): Array {
    return ops.bitwiseNot(this)
  }

  // ---- shape ----
  reshape(...shape: ReadonlyArray<number> | [ReadonlyArray<number>]): Array {
    return ops.reshape(this, (typeof shape[0] === "number" ? shape : shape[0]) as ReadonlyArray<number>)
  }
  transpose(axes?: ReadonlyArray<number>): Array {
    return ops.transpose(this, axes)
  }
  /** The transpose (axes reversed). */
  get T(): Array {
    return ops.transpose(this)
  }
  flatten(): Array {
    return ops.reshape(this, [-1])
  }
  squeeze(axis?: number | ReadonlyArray<number>): Array {
    return ops.squeeze(this, axis)
  }
  expandDims(axis: number | ReadonlyArray<number>): Array {
    return ops.expandDims(this, axis)
  }
  astype(dtype: NumericDType): Array {
    return ops.astype(this, dtype)
  }
  swapaxes(a: number, b: number): Array {
    return ops.swapaxes(this, a, b)
  }

  // ---- reductions ----
  sum(axis?: number | ReadonlyArray<number> | null, options?: ReductionOptions): Array {
    return ops.sum(this, axis, options)
  }
  prod(axis?: number | ReadonlyArray<number> | null, options?: ReductionOptions): Array {
    return ops.prod(this, axis, options)
  }
  max(axis?: number | ReadonlyArray<number> | null, options?: Omit<ReductionOptions, "dtype">): Array {
    return ops.max(this, axis, options)
  }
  min(axis?: number | ReadonlyArray<number> | null, options?: Omit<ReductionOptions, "dtype">): Array {
    return ops.min(this, axis, options)
  }
  mean(axis?: number | ReadonlyArray<number> | null, options?: Omit<ReductionOptions, "initial">): Array {
    return ops.mean(this, axis, options)
  }
  var(axis?: number | ReadonlyArray<number> | null, options?: VarianceOptions): Array {
    return ops.variance(this, axis, options)
  }
  std(axis?: number | ReadonlyArray<number> | null, options?: VarianceOptions): Array {
    return ops.std(this, axis, options)
  }
  all(axis?: number | ReadonlyArray<number> | null, options?: Pick<ReductionOptions, "keepdims" | "where">): Array {
    return ops.all(this, axis, options)
  }
  any(axis?: number | ReadonlyArray<number> | null, options?: Pick<ReductionOptions, "keepdims" | "where">): Array {
    return ops.any(this, axis, options)
  }
  argmax(axis?: number | null, options?: { keepdims?: boolean }): Array {
    return ops.argmax(this, axis, options)
  }
  argmin(axis?: number | null, options?: { keepdims?: boolean }): Array {
    return ops.argmin(this, axis, options)
  }
  cumsum(axis?: number | null): Array {
    return ops.cumsum(this, axis)
  }

  // ---- indexing ----
  /**
   * NumPy indexing: numbers, slices (`":"`, `"1:3"`, `"::-1"` or `{ start, stop, step }`), `null`
   * for a new axis, `"..."`, and integer or boolean arrays.
   *
   * @example
   * ```ts
   * import { jnp } from "effect-nnx"
   *
   * const x = jnp.arange(12).reshape([3, 4])
   * x.get(0)            // x[0]
   * x.get(":", "1:3")   // x[:, 1:3]
   * x.get("...", null)  // x[..., None]
   * ```
   */
  get(...index: ReadonlyArray<Index>): Array {
    return ops.getItem(this, index)
  }
  /** Functional updates, like JAX's `x.at[idx]`: `x.at(0).set(5)`, `x.at(":", 1).add(1)`. */
  at(...index: ReadonlyArray<Index>): Numpy.IndexUpdate {
    return ops.indexUpdate(this, index)
  }
}

/** @category guards @since 0.1.0 */
export const isArray = (u: unknown): u is Array => typeof u === "object" && u !== null && TypeId in u
