/**
 * The op mapping of test/backend/opsGoldens.test.ts, shared by the cross-backend replay: each golden
 * case of test/goldens/ops.json to the same-named effect-nnx operation, and the comparison (exact for
 * integers, booleans and dtypes; floats within a tolerance the caller chooses).
 */
import { readFileSync } from "node:fs"
import { expect } from "vitest"
import { jnp, lax, nn } from "effect-nnx"
import type { Array as JArray } from "effect-nnx"

interface ArraySpec {
  readonly array: unknown
  readonly dtype: jnp.NumericDType
  readonly shape: ReadonlyArray<number>
}
interface ScalarSpec {
  readonly scalar: number
}
export type Arg = ArraySpec | ScalarSpec
export interface Result {
  readonly shape: ReadonlyArray<number>
  readonly dtype: string
  readonly weak: boolean
  readonly data: ReadonlyArray<number | boolean | null>
  readonly special?: Record<string, string>
}
export interface Case {
  readonly name: string
  readonly op: string
  readonly args: ReadonlyArray<Arg>
  readonly params: Record<string, unknown>
  readonly output?: Result
  readonly outputs?: ReadonlyArray<Result>
  readonly repr?: string
}

export const goldens = JSON.parse(readFileSync(new URL("../goldens/ops.json", import.meta.url), "utf8")) as {
  cases: ReadonlyArray<Case>
}

export const toArg = (a: Arg): JArray | number => {
  if ("scalar" in a) return a.scalar
  const named = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(named) : v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v
  const x = jnp.array(named(a.array) as jnp.ArrayLiteral, { dtype: a.dtype })
  return a.shape.length === 0 ? x : jnp.reshape(x, a.shape)
}

const INDEX: Record<string, ReadonlyArray<jnp.Index>> = {
  "[1]": [1],
  "[:, 1:3]": [":", "1:3"],
  "[..., ::2]": ["...", "::2"],
  "[::-1]": ["::-1"],
  "[None, 0]": [null, 0],
  "[-1, :, -2]": [-1, ":", -2],
  "[:, [0, 2]]": [":", jnp.array([0, 2])],
  "[[0, 1], [1, 2]]": [jnp.array([0, 1]), jnp.array([1, 2])],
  "[:, [2, 0], 1:3]": [":", jnp.array([2, 0]), "1:3"],
  "[[1], :, [0, 3]]": [jnp.array([1]), ":", jnp.array([0, 3])],
  "[1, ::-2, [3, -1]]": [1, "::-2", jnp.array([3, -1])],
  "[:, :, 1:-1:2]": [":", ":", "1:-1:2"],
  "[..., None]": ["...", null],
  "[:, 0]": [":", 0]
}

type Axis = number | ReadonlyArray<number> | null
const p = (c: Case) =>
  c.params as {
    axis?: Axis
    keepdims?: boolean
    ddof?: number
    index?: string
    value?: number
    dimension_numbers?: readonly [
      readonly [ReadonlyArray<number>, ReadonlyArray<number>],
      readonly [ReadonlyArray<number>, ReadonlyArray<number>]
    ]
  }
const ax1 = (a: Axis | undefined): number | null => (a === undefined || a === null ? null : (a as number))

export const OPS: Record<string, (c: Case, args: ReadonlyArray<JArray | number>) => JArray | ReadonlyArray<JArray>> = {
  add: (_, [a, b]) => jnp.add(a!, b!),
  subtract: (_, [a, b]) => jnp.subtract(a!, b!),
  multiply: (_, [a, b]) => jnp.multiply(a!, b!),
  divide: (_, [a, b]) => jnp.divide(a!, b!),
  maximum: (_, [a, b]) => jnp.maximum(a!, b!),
  minimum: (_, [a, b]) => jnp.minimum(a!, b!),
  floor_divide: (_, [a, b]) => jnp.floorDivide(a!, b!),
  remainder: (_, [a, b]) => jnp.remainder(a!, b!),
  fmod: (_, [a, b]) => jnp.fmod(a!, b!),
  power: (_, [a, b]) => jnp.power(a!, b!),
  left_shift: (_, [a, b]) => jnp.leftShift(a!, b!),
  right_shift: (_, [a, b]) => jnp.rightShift(a!, b!),
  arctan2: (_, [a, b]) => jnp.arctan2(a!, b!),
  less: (_, [a, b]) => jnp.less(a!, b!),
  equal: (_, [a, b]) => jnp.equal(a!, b!),
  greater_equal: (_, [a, b]) => jnp.greaterEqual(a!, b!),
  bitwise_xor: (_, [a, b]) => jnp.bitwiseXor(a!, b!),
  where: (_, [c, a, b]) => jnp.where(c!, a!, b!),
  array: (_, [a]) => jnp.array(a as number),
  exp: (_, [a]) => jnp.exp(a!),
  sin: (_, [a]) => jnp.sin(a!),
  cos: (_, [a]) => jnp.cos(a!),
  tanh: (_, [a]) => jnp.tanh(a!),
  floor: (_, [a]) => jnp.floor(a!),
  ceil: (_, [a]) => jnp.ceil(a!),
  round: (_, [a]) => jnp.round(a!),
  sign: (_, [a]) => jnp.sign(a!),
  abs: (_, [a]) => jnp.abs(a!),
  negative: (_, [a]) => jnp.negative(a!),
  sigmoid: (_, [a]) => nn.sigmoid(a!),
  expm1: (_, [a]) => jnp.expm1(a!),
  erf: (_, [a]) => lax.erf(a as JArray),
  log: (_, [a]) => jnp.log(a!),
  sqrt: (_, [a]) => jnp.sqrt(a!),
  rsqrt: (_, [a]) => lax.rsqrt(a as JArray),
  log1p: (_, [a]) => jnp.log1p(a!),
  erf_inv: (_, [a]) => lax.erfInv(a as JArray),
  astype: (_, [a]) => jnp.astype(a!, "int32"),
  astype_uint32: (_, [a]) => jnp.astype(a!, "uint32"),
  astype_bool: (_, [a]) => jnp.astype(a!, "bool"),
  clip: (_, [a, lo, hi]) => jnp.clip(a!, lo!, hi!),
  sum: (c, [a]) => jnp.sum(a!, p(c).axis, { keepdims: p(c).keepdims ?? false }),
  max: (c, [a]) => jnp.max(a!, p(c).axis),
  min: (c, [a]) => jnp.min(a!, p(c).axis),
  prod: (c, [a]) => jnp.prod(a!, p(c).axis),
  mean: (c, [a]) => jnp.mean(a!, p(c).axis),
  var: (c, [a]) => jnp.variance(a!, p(c).axis),
  std: (c, [a]) => jnp.std(a!, p(c).axis, { ddof: p(c).ddof ?? 0 }),
  any: (c, [a]) => jnp.any(a!, p(c).axis),
  all: (c, [a]) => jnp.all(a!, p(c).axis),
  argmax: (c, [a]) => jnp.argmax(a!, ax1(p(c).axis)),
  argmin: (c, [a]) => jnp.argmin(a!, ax1(p(c).axis)),
  cumsum: (c, [a]) => jnp.cumsum(a!, ax1(p(c).axis)),
  dot_general: (c, [a, b]) => lax.dotGeneral(a as JArray, b as JArray, p(c).dimension_numbers!),
  matmul: (_, [a, b]) => jnp.matmul(a!, b!),
  dot: (_, [a, b]) => jnp.dot(a!, b!),
  index: (c, [a]) => (a as JArray).get(...INDEX[p(c).index!]!),
  at_set: (c, [a]) => (a as JArray).at(...INDEX[p(c).index!]!).set(p(c).value!),
  at_add: (c, [a]) => (a as JArray).at(...INDEX[p(c).index!]!).add(p(c).value!),
  at_add_dup: (_, [a]) => (a as JArray).at(jnp.array([0, 0, 1])).add(1),
  take: (_, [a]) =>
    jnp.take(
      a!,
      jnp.array([
        [0, 2],
        [1, 1]
      ]),
      1
    ),
  take_along_axis: (_, [a]) => jnp.takeAlongAxis(a!, jnp.argsort(a!, 2).get(":", ":", "::-1"), 2),
  sort: (c, [a]) => jnp.sort(a!, ax1(p(c).axis)),
  argsort: (c, [a]) => jnp.argsort(a!, ax1(p(c).axis)),
  concatenate: (_, [a, b]) => jnp.concatenate([a!, b!], 1),
  stack: (_, [a, b]) => jnp.stack([a!, b!], -1),
  split: (_, [a]) => jnp.split(a!, 3, 1),
  split_indices: (_, [a]) => jnp.split(a!, [1, 4], 1),
  transpose: (_, [a]) => jnp.transpose(a!, [2, 0, 1]),
  moveaxis: (_, [a]) => jnp.moveaxis(a!, 0, -1),
  reshape: (_, [a]) => jnp.reshape(a!, [4, -1]),
  pad: (_, [a]) =>
    jnp.pad(
      a!,
      [
        [1, 0],
        [2, 1]
      ],
      { constantValues: -1 }
    ),
  tile: (_, [a]) => jnp.tile(a!, [2, 2]),
  repeat: (_, [a]) => jnp.repeat(a!, 2, 1),
  flip: (_, [a]) => jnp.flip(a!, [0, 2]),
  softmax: (_, [a]) => nn.softmax(a!),
  log_softmax: (_, [a]) => nn.logSoftmax(a!, 0),
  logsumexp: (_, [a]) => nn.logsumexp(a!, 1),
  gelu: (_, [a]) => nn.gelu(a!),
  relu: (_, [a]) => nn.relu(a!),
  one_hot: (_, [a]) => nn.oneHot(a!, 4),
  repr: (_, [a]) => a as JArray,
  repr_weak_scalar: () => jnp.array(0).add(1)
}

export const CREATION: Record<string, () => JArray> = {
  "linspace 0 1 7": () => jnp.linspace(0, 1, 7),
  "linspace -3 5 11": () => jnp.linspace(-3, 5, 11),
  "linspace no endpoint": () => jnp.linspace(0, 1, 5, { endpoint: false }),
  "arange floats": () => jnp.arange(0, 1, 0.1),
  "arange ints": () => jnp.arange(2, 11, 3),
  "eye k=1": () => jnp.eye(3, 4, { k: 1 })
}

export const expectMatches = (
  name: string,
  got: JArray,
  want: Result,
  tol: { readonly atol: number; readonly rtol: number } = { atol: 1e-6, rtol: 2e-6 }
): void => {
  expect(got.shape, `${name}: shape`).toEqual(want.shape)
  expect(got.dtype, `${name}: dtype`).toBe(want.dtype)
  expect(got.weakType, `${name}: weak type`).toBe(want.weak)
  const data = Array.from(got.dataSync(), (v) => (got.dtype === "bool" ? v !== 0 : v))
  want.data.forEach((w, i) => {
    const g = data[i]!
    const special = want.special?.[String(i)]
    if (special !== undefined) {
      const expected = special === "nan" ? NaN : special === "inf" ? Infinity : -Infinity
      expect(
        Object.is(g, expected) || (Number.isNaN(g as number) && Number.isNaN(expected)),
        `${name}[${i}] = ${g}, want ${special}`
      ).toBe(true)
    } else if (want.dtype === "float32") {
      const w32 = w as number
      expect(Math.abs((g as number) - w32), `${name}[${i}] = ${g}, want ${w32}`).toBeLessThanOrEqual(
        tol.atol + tol.rtol * Math.abs(w32)
      )
    } else {
      expect(g, `${name}[${i}]`).toBe(w)
    }
  })
}
