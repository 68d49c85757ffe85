/**
 * The extract protocol's errors and edge cases that mutation testing (issue 16) found unchecked in
 * src/transforms/extract.ts, each pinned by its whole message or by the values and states it gives:
 * - prefix trees that do not fit the arguments or the output: where the two part (the top level, an
 *   argument, a path inside it, the output), what was expected there and what was found, every kind of
 *   value and prefix spelled out; `null` and `undefined` arguments take any prefix;
 * - a `StateAxes` (or `StateSharding`) given to a value that is not a graph node, under `nnx.vmap`
 *   (an axis instead) and `nnx.jit` (a PartitionSpec instead), in the arguments and in the output;
 * - option forms checked when the transform is made, inside nested lists and records;
 * - aliasing: a Variable reached at the root of one argument and inside another, several aliased
 *   Variables in one report, and bare Arrays, which are values and never alias;
 * - objects of another trace stored deep inside an argument (refused by `nnx.jit`), and kept in an
 *   auxiliary output of `nnx.valueAndGrad` (not refused there);
 * - which leaf an error names: the first in path order, a bare Array included, with the kind and
 *   path of the leaf itself, not of a neighbour in another group.
 */
import { describe, expect, it } from "vitest"
import { jnp, nnx } from "effect-nnx"
import { makeMesh, P } from "../../src/transforms/lifted/mesh.ts"
import { shardMap } from "../../src/transforms/lifted/shardMap.ts"
import { thrownAs } from "../support/thrown.ts"

class Layer extends nnx.Module {
  w = new nnx.Param(jnp.ones([2, 3]))
  s = new nnx.BatchStat(jnp.zeros([2]))
}

/** The message and the structured fields of a `LiftTypeError`. */
const fields = (e: nnx.LiftTypeError) => ({
  message: e.message,
  what: e.what,
  path: e.path,
  argument: e.argument,
  expected: e.expected,
  found: e.found
})

const AXES = "an integer, null or a StateAxes (of integers and null)"
const x2 = jnp.ones([2])

describe("a prefix tree that does not fit the arguments names where they part", () => {
  it("too many entries at the top level count the arguments", () => {
    const f = nnx.vmap((a: jnp.Array) => a, { inAxes: [0, 0] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync(x2)))).toEqual({
      message: `nnx.vmap: inAxes is not a prefix of the arguments: at the top level, which is 1 arguments, expected an array of 1 entries, one per argument, found an array of 2: [0, 0]`,
      what: "inAxes",
      path: "args",
      argument: undefined,
      expected: "an array of 1 entries, one per argument",
      found: "an array of 2: [0, 0]"
    })
  })

  it("a list too long for a list argument names the argument, not the top level", () => {
    const f = nnx.vmap((_a: unknown) => 1, { inAxes: [[0, 0, 0]] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync([x2, x2] as never)))).toEqual({
      message: `nnx.vmap: inAxes is not a prefix of the arguments: at args[0] (argument 0), which is an array of 2, expected an array of 2 entries, found an array of 3: [0, 0, 0]`,
      what: "inAxes",
      path: "args[0]",
      argument: 0,
      expected: "an array of 2 entries",
      found: "an array of 3: [0, 0, 0]"
    })
  })

  it("inside the second argument, the argument is 1 whatever the index inside it", () => {
    const f = nnx.vmap((_a: jnp.Array, _b: unknown) => 1, { inAxes: [0, [{ a: 0 }, 0]] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync(x2, [x2, x2] as never)))).toEqual({
      message: `nnx.vmap: inAxes is not a prefix of the arguments: at args[1][0] (argument 1), which is an Array of shape (2), expected ${AXES}, found { a: 0 }`,
      what: "inAxes",
      path: "args[1][0]",
      argument: 1,
      expected: AXES,
      found: "{ a: 0 }"
    })
  })

  it("a record prefix for a list argument, and a list prefix for a record argument", () => {
    const list = nnx.vmap((_a: unknown) => 1, { inAxes: [{ a: 0 }] as never })
    expect(thrownAs(nnx.LiftTypeError, () => list.sync([x2] as never)).message).toBe(
      `nnx.vmap: inAxes is not a prefix of the arguments: at args[0] (argument 0), which is an array of 1, expected ${AXES}, or an array of 1, found { a: 0 }`
    )
    const record = nnx.vmap((_a: jnp.Array, _b: unknown) => 1, { inAxes: [0, { a: [0] }] as never })
    const e = thrownAs(nnx.LiftTypeError, () => record.sync(x2, { a: { c: x2 } } as never))
    expect(fields(e)).toEqual({
      message: `nnx.vmap: inAxes is not a prefix of the arguments: at args[1]['a'] (argument 1), which is a record with keys c, expected ${AXES}, or a record with keys c, found [0]`,
      what: "inAxes",
      path: "args[1]['a']",
      argument: 1,
      expected: `${AXES}, or a record with keys c`,
      found: "[0]"
    })
  })

  it("a list prefix for a record argument lists the record's keys", () => {
    const f = nnx.vmap((_a: unknown) => 1, { inAxes: [[0]] as never })
    expect(thrownAs(nnx.LiftTypeError, () => f.sync({ b: x2, a: x2 } as never)).expected).toBe(
      `${AXES}, or a record with keys a, b`
    )
  })

  it("records' keys are listed sorted, whatever order they were written in", () => {
    const f = nnx.vmap((_a: unknown) => 1, { inAxes: [{ c: 0, a: 0 }] as never })
    const e = thrownAs(nnx.LiftTypeError, () => f.sync({ b: x2, a: x2 } as never))
    expect(fields(e)).toEqual({
      message: `nnx.vmap: inAxes is not a prefix of the arguments: at args[0] (argument 0), which is a record with keys a, b, expected a record with keys a, b, found a record with keys a, c: { c: 0, a: 0 }`,
      what: "inAxes",
      path: "args[0]",
      argument: 0,
      expected: "a record with keys a, b",
      found: "a record with keys a, c: { c: 0, a: 0 }"
    })
  })

  it("a record whose keys fit is walked into, to the entry that does not", () => {
    const f = nnx.vmap((_a: unknown) => 1, { inAxes: [{ b: 0, a: [0, 0] }] as never })
    const e = thrownAs(nnx.LiftTypeError, () => f.sync({ a: [x2], b: x2 } as never))
    expect(fields(e)).toEqual({
      message: `nnx.vmap: inAxes is not a prefix of the arguments: at args[0]['a'] (argument 0), which is an array of 1, expected an array of 1 entries, found an array of 2: [0, 0]`,
      what: "inAxes",
      path: "args[0]['a']",
      argument: 0,
      expected: "an array of 1 entries",
      found: "an array of 2: [0, 0]"
    })
  })

  it("empty records read as such, as values and as prefixes", () => {
    const f = nnx.vmap((_a: unknown, _b: jnp.Array) => 1, { inAxes: [[0], 0] as never })
    expect(thrownAs(nnx.LiftTypeError, () => f.sync({} as never, x2)).message).toBe(
      `nnx.vmap: inAxes is not a prefix of the arguments: at args[0] (argument 0), which is a record with keys (none), expected ${AXES}, or a record with keys , found [0]`
    )
    const g = nnx.vmap((_a: unknown, _b: jnp.Array) => 1, { inAxes: [{}, 0] as never })
    expect(thrownAs(nnx.LiftTypeError, () => g.sync(x2 as never, x2)).message).toBe(
      `nnx.vmap: inAxes is not a prefix of the arguments: at args[0] (argument 0), which is an Array of shape (2), expected ${AXES}, found {}`
    )
  })

  it("a list prefix for a Module says a graph node takes one prefix or a StateAxes", () => {
    const f = nnx.vmap((_m: Layer) => 1, { inAxes: [[0]] as never })
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(new Layer())).message).toBe(
      `nnx.vmap: inAxes is not a prefix of the arguments: at args[0] (argument 0), which is the graph node Layer, expected ${AXES} for the whole graph node (choose per sub-state with a StateAxes), found [0]`
    )
  })

  it("null and undefined arguments take any prefix: the error is at the argument that does not fit", () => {
    const f = nnx.vmap((_a: unknown, _b: unknown) => 1, { inAxes: [{ a: 0 }, [0]] as never })
    const message = `nnx.vmap: inAxes is not a prefix of the arguments: at args[1] (argument 1), which is a record with keys b, expected ${AXES}, or a record with keys b, found [0]`
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(null as never, { b: x2 } as never)).message).toBe(message)
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(undefined as never, { b: x2 } as never)).message).toBe(message)
  })
})

describe("a prefix tree that does not fit the output names where they part", () => {
  it("at the output itself: a list of the wrong length, a record for an Array", () => {
    const pair = nnx.vmap((a: jnp.Array) => [a, a], { outAxes: [0] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => pair.sync(x2)))).toEqual({
      message:
        "nnx.vmap: outAxes is not a prefix of the output: at the output, which is an array of 2, expected an array of 2 entries, found an array of 1: [0]",
      what: "outAxes",
      path: "out",
      argument: undefined,
      expected: "an array of 2 entries",
      found: "an array of 1: [0]"
    })
    const one = nnx.vmap((a: jnp.Array) => a.sum(), { outAxes: { b: 0 } as never })
    expect(thrownAs(nnx.LiftTypeError, () => one.sync(x2)).message).toBe(
      `nnx.vmap: outAxes is not a prefix of the output: at the output, which is an Array of shape (), expected ${AXES}, found { b: 0 }`
    )
  })

  it("inside the output, the path alone (outputs are not arguments)", () => {
    const f = nnx.vmap((a: jnp.Array) => [a, { a }], { outAxes: [0, [0]] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync(x2)))).toEqual({
      message: `nnx.vmap: outAxes is not a prefix of the output: at out[1], which is a record with keys a, expected ${AXES}, or a record with keys a, found [0]`,
      what: "outAxes",
      path: "out[1]",
      argument: undefined,
      expected: `${AXES}, or a record with keys a`,
      found: "[0]"
    })
  })

  it("a transform that names no prefix forms expects a single prefix (nnx.shardMap's outSpecs)", () => {
    const mesh = makeMesh([2], ["d"])
    const f = shardMap((a: jnp.Array) => a, { mesh, inSpecs: [P("d")], outSpecs: [P("d"), P("d")] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync(jnp.ones([4]))))).toEqual({
      message:
        'nnx.shardMap: outSpecs is not a prefix of the output: at the output, which is an Array of shape (2), expected a single prefix, found [["d"], ["d"]]',
      what: "outSpecs",
      path: "out",
      argument: undefined,
      expected: "a single prefix",
      found: '[["d"], ["d"]]'
    })
  })
})

describe("a StateAxes or StateSharding given to a value that is not a graph node", () => {
  const axes = new nnx.StateAxes([
    [nnx.Param, 0],
    [nnx.BatchStat, null]
  ])
  const vmapMessage = (path: string, argument: number, value: string) =>
    `nnx.vmap: StateAxes can only be used on graph nodes (Modules, Variables, Rngs), but inAxes gives one to ${path} (argument ${argument}), which is ${value}; use an axis (or null) for it`

  it("nnx.vmap names the argument and the value, and asks for an axis", () => {
    const f = nnx.vmap((m: Layer, _x: unknown) => m.w.value, { inAxes: [0, axes] as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync(new Layer(), jnp.ones([2, 5]) as never)))).toEqual({
      message: vmapMessage("args[1]", 1, "an Array of shape (2, 5)"),
      what: "inAxes",
      path: "args[1]",
      argument: 1,
      expected: "a prefix for a value that is not a graph node",
      found: "StateAxes({Param: 0, BatchStat: null})"
    })
    const at = (value: unknown) => thrownAs(nnx.LiftTypeError, () => f.sync(new Layer(), value as never)).message
    expect(at(3)).toBe(vmapMessage("args[1]", 1, "the number 3"))
    expect(at("hi")).toBe(vmapMessage("args[1]", 1, "the string hi"))
    expect(at(true)).toBe(vmapMessage("args[1]", 1, "the boolean true"))
    expect(at({ b: x2, a: x2 })).toBe(vmapMessage("args[1]['a']", 1, "an Array of shape (2)"))
  })

  it("arguments past the tenth are counted in full", () => {
    const prefixes = [...Array.from({ length: 11 }, () => 0), new nnx.StateAxes([[nnx.Param, 0]])]
    const f = nnx.vmap((..._a: ReadonlyArray<unknown>) => 1, { inAxes: prefixes as never })
    const e = thrownAs(nnx.LiftTypeError, () => f.sync(...(Array.from({ length: 12 }, () => x2) as Array<never>)))
    expect([e.path, e.argument]).toEqual(["args[11]", 11])
    expect(e.message).toBe(
      "nnx.vmap: StateAxes can only be used on graph nodes (Modules, Variables, Rngs), but inAxes gives one to args[11] (argument 11), which is an Array of shape (2); use an axis (or null) for it"
    )
  })

  it("in the output, the path alone", () => {
    const f = nnx.vmap((m: Layer) => m.w.value, { inAxes: 0, outAxes: axes as never })
    expect(fields(thrownAs(nnx.LiftTypeError, () => f.sync(new Layer())))).toEqual({
      message:
        "nnx.vmap: StateAxes can only be used on graph nodes (Modules, Variables, Rngs), but outAxes gives one to out, which is an Array of shape (3); use an axis (or null) for it",
      what: "outAxes",
      path: "out",
      argument: undefined,
      expected: "a prefix for a value that is not a graph node",
      found: "StateAxes({Param: 0, BatchStat: null})"
    })
    // An output entry whose key reads like an argument is still no argument.
    const keyed = nnx.vmap((m: Layer) => ({ "args[1]": m.w.value }), {
      inAxes: 0,
      outAxes: { "args[1]": axes } as never
    })
    const e = thrownAs(nnx.LiftTypeError, () => keyed.sync(new Layer()))
    expect([e.path, e.argument]).toEqual(["out['args[1]']", undefined])
    expect(e.message).toBe(
      "nnx.vmap: StateAxes can only be used on graph nodes (Modules, Variables, Rngs), but outAxes gives one to out['args[1]'], which is an Array of shape (3); use an axis (or null) for it"
    )
  })

  it("nnx.jit asks for null or a PartitionSpec", () => {
    const f = nnx.jit((m: Layer, _x: jnp.Array) => m.w.value, {
      inShardings: [null, new nnx.StateSharding([[nnx.Param, null]])] as never
    })
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(new Layer(), x2)).message).toBe(
      "nnx.jit: StateSharding can only be used on graph nodes (Modules, Variables, Rngs), but inShardings gives one to args[1] (argument 1), which is an Array of shape (2); use null or a PartitionSpec for it"
    )
  })
})

describe("option forms checked when the transform is made", () => {
  const made = (inAxes: unknown) =>
    thrownAs(nnx.LiftTypeError, () => nnx.vmap((_a: unknown) => 1, { inAxes: inAxes as never }))

  it("a bad leaf inside a record inside a list is found, with its path", () => {
    expect(fields(made([{ a: [0, "x"] }]))).toEqual({
      message: `nnx.vmap: inAxes must be ${AXES}, or a (nested) container with those as leaves, but got inAxes=[{ a: [0, "x"] }] (at inAxes[0]['a'][1]: "x")`,
      what: "inAxes",
      path: "inAxes[0]['a'][1]",
      argument: undefined,
      expected: AXES,
      found: '"x"'
    })
    expect(made({ a: [0, 1.5] }).path).toBe("inAxes['a'][1]")
  })

  it("every kind of value reads as itself", () => {
    expect(made([undefined]).found).toBe("undefined")
    expect(made([jnp.ones([2, 3])]).found).toBe("an Array of shape (2, 3)")
    expect(made([new Layer()]).found).toBe("the graph node Layer")
    expect(made([true]).found).toBe("true")
    expect(made([new Map()]).found).toBe("[object Map]")
    expect(made([undefined]).message).toBe(
      `nnx.vmap: inAxes must be ${AXES}, or a (nested) container with those as leaves, but got inAxes=[undefined] (at inAxes[0]: undefined)`
    )
  })
})

describe("aliasing", () => {
  class Holder extends nnx.Module {
    constructor(readonly p: nnx.Param<jnp.Array>) {
      super()
    }
  }

  it("a Variable passed itself and held by a Module is listed at <root> and at its attribute", () => {
    const v = new nnx.Param(jnp.ones([2]))
    const f = nnx.vmap((_a: unknown, _b: unknown) => 1, { inAxes: [0, null] as never })
    const e = thrownAs(nnx.AliasingError, () => f.sync(v as never, new Holder(v) as never))
    expect(e.message).toBe(
      "Inconsistent aliasing detected. The following nodes have different prefixes:\nNode: Param\n  <root>: 0\n  p: null"
    )
    expect(e.nodes).toEqual([
      {
        node: "Param",
        seen: [
          { path: "<root>", prefix: "0" },
          { path: "p", prefix: "null" }
        ]
      }
    ])
  })

  it("every aliased Variable is reported, one after the other", () => {
    class Two extends nnx.Module {
      a = new nnx.Param(jnp.ones([2]))
      b = new nnx.BatchStat(jnp.ones([2]))
    }
    const m = new Two()
    const f = nnx.vmap((_x: Two, _y: Two) => 1, { inAxes: [0, null] })
    expect(thrownAs(nnx.AliasingError, () => f.sync(m, m)).message).toBe(
      "Inconsistent aliasing detected. The following nodes have different prefixes:\nNode: Param\n  a: 0\n  a: null\nNode: BatchStat\n  b: 0\n  b: null"
    )
  })

  it("a bare Array held by two Modules is a value, not an alias: each Module gets its own axis", () => {
    class Bare extends nnx.Module {
      constructor(readonly table: jnp.Array) {
        super()
      }
    }
    const table = jnp.array([1, 2, 3]).astype("float32")
    const f = nnx.vmap((a: Bare, b: Bare) => a.table.mul(b.table.sum()), { inAxes: [0, null] })
    expect(f.sync(new Bare(table), new Bare(table)).tolist()).toEqual([6, 12, 18])
  })
})

describe("objects of another trace", () => {
  it("nnx.jit refuses one stored deep inside an argument, naming the whole path", () => {
    class Inner extends nnx.Module {
      p = new nnx.Param(jnp.ones([2]))
    }
    class Outer extends nnx.Module {
      h = new Inner()
    }
    const captured = new Layer()
    const f = nnx.jit((m: Outer) => {
      Object.assign(m.h, { c: captured })
      return m.h.p.value.sum()
    })
    const e = thrownAs(nnx.LiftTypeError, () => f.sync(new Outer()))
    expect(e.path).toBe("args[0]/h/c")
    expect(e.message).toBe(
      "nnx.jit: Cannot extract graph node from different trace level: the Layer at args[0]/h/c belongs to another trace than this nnx.jit call (captured by a closure of an enclosing transform, or left over from a transform that has returned); pass it in as an argument, or return a new object made inside"
    )
  })

  it("only nnx.vmap, nnx.scan and nnx.jit refuse them: a captured Module in nnx.valueAndGrad's aux comes back with its values", () => {
    const captured = new Layer()
    captured.w.value = jnp.full([2, 3], 2)
    const f = nnx.valueAndGrad((m: Layer) => [m.w.value.sum(), { kept: captured }] as const, { hasAux: true })
    const [[loss, aux], grads] = f.sync(new Layer())
    expect(loss.item()).toBe(6)
    expect(aux.kept.w.value.tolist()).toEqual([
      [2, 2, 2],
      [2, 2, 2]
    ])
    expect((grads.at("w") as nnx.Variable<jnp.Array>).value.tolist()).toEqual([
      [1, 1, 1],
      [1, 1, 1]
    ])
  })
})

describe("which leaf an error names", () => {
  it("the first leaf in path order that no filter matches, a bare Array before a Variable", () => {
    class Masked extends nnx.Module {
      mask = jnp.ones([2])
      stat = new nnx.BatchStat(jnp.zeros([2]))
      w = new nnx.Param(jnp.ones([2]))
    }
    const f = nnx.vmap((m: Masked) => m.w.value, { inAxes: new nnx.StateAxes([[nnx.Param, 0]]) as never })
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(new Masked())).message).toBe(
      "nnx.vmap: no filter of StateAxes({Param: 0}) matches the Array at 'mask'; add a filter for it (e.g. [..., 0] at the end)"
    )
  })

  it("a leaf of a submodule is named by its whole path", () => {
    class Net extends nnx.Module {
      sub = new Layer()
    }
    const f = nnx.vmap((n: Net) => n.sub.w.value, { inAxes: new nnx.StateAxes([[nnx.Param, 0]]) as never })
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(new Net())).message).toBe(
      "nnx.vmap: no filter of StateAxes({Param: 0}) matches the BatchStat at 'sub/s'; add a filter for it (e.g. [..., 0] at the end)"
    )
  })

  it("a broadcast bare Array written with batched values is named as an Array, past a string Variable", () => {
    class Mixed extends nnx.Module {
      a = new nnx.Param(jnp.ones([3]))
      label = new nnx.Variable("first")
      table = jnp.zeros([3])
    }
    const f = nnx.vmap(
      (m: Mixed, x: jnp.Array) => {
        m.table = x
        return x
      },
      { inAxes: [null, 0] }
    )
    expect(thrownAs(nnx.LiftTypeError, () => f.sync(new Mixed(), jnp.ones([4, 3]))).message).toBe(
      "nnx.vmap: the Array at 'table' is broadcast (its axis is null) but was assigned a value that varies over the batch; give it a batch axis in inAxes (e.g. a StateAxes) or keep its updates independent of the mapped inputs"
    )
  })

  it("a StateAxes whose first filter matches nothing maps the rest as asked", () => {
    class Only extends nnx.Module {
      w = new nnx.Param(jnp.array([[1], [2]]).astype("float32"))
    }
    const axes = new nnx.StateAxes([
      [nnx.BatchStat, 0],
      [nnx.Param, 1]
    ])
    const m = new Only()
    const f = nnx.vmap(
      (o: Only) => {
        o.w.value = o.w.value.mul(10)
        return o.w.value.sum()
      },
      { inAxes: axes as never }
    )
    expect(f.sync(m).tolist()).toEqual([30])
    expect(m.w.value.tolist()).toEqual([[10], [20]])
  })
})
