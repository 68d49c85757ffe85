"""Golden outputs for JAX's behaviour in the corners test/backend/parity.test.ts checks: out-of-bounds
indexing modes, jnp.pad's modes, integer literals meeting uint32/int32 arrays, repeat with an array of
counts, linearize through control flow, grad through cond with a closed-over value, eval_shape.

Re-run after changing a case (needs `pip install jax`):

    python tools/goldens/ops_parity.py      # writes test/goldens/ops_parity.json

Same case format as tools/goldens/ops_extra.py: an `op`, array arguments (data + dtype), `params` in
the TypeScript option names, and JAX's result. `kind` is "grad" for gradients (of the sum of the output
times the weights 1, 2, 3, ...), "error" where JAX raises (the Python exception's name is kept).
Index patterns name array arguments "i" and "j" (args[1], args[2]); ":" is a full slice; numbers
are static integers.
"""
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "ops_parity.json"
rng = np.random.default_rng(20261211)


def arr(data, dtype="float32"):
    data = np.asarray(data, dtype=dtype)
    return {"array": data.tolist(), "dtype": dtype, "shape": list(data.shape)}


def scalar(v):
    return {"scalar": v}


def to_jax(a):
    if "scalar" in a:
        return a["scalar"]
    return jnp.asarray(np.asarray(a["array"], dtype=a["dtype"]).reshape(a["shape"]))


cases = []


def weights(shape):
    return jnp.arange(1, int(np.prod(shape)) + 1, dtype=jnp.float32).reshape(shape)


def case(name, op, fn, *args, kind="value", **params):
    """`fn` gets the JAX arguments and `params`; `params` (TypeScript spellings) also go to the test."""
    entry = {"name": name, "op": op, "args": list(args), "params": params}
    xs = [to_jax(a) for a in args]
    if kind == "error":
        try:
            fn(*xs, **params)
        except Exception as e:  # noqa: BLE001 - the exception's kind is the golden
            entry.update(kind="error", error=type(e).__name__)
            cases.append(entry)
            return
        raise AssertionError(f"{name}: JAX did not raise")
    if kind == "grad":
        def loss(x):
            y = fn(x, *xs[1:], **params)
            return jnp.sum(y * weights(y.shape))
        out = jax.grad(loss)(xs[0])
        entry["kind"] = "grad"
    else:
        out = fn(*xs, **params)
    if isinstance(out, (list, tuple)):
        entry["outputs"] = [result(o) for o in out]
    else:
        entry["output"] = result(out)
    cases.append(entry)


def index_of(pattern, arrays):
    """The Python index a pattern stands for; "i"/"j" are the array arguments after x."""
    named = {"i": arrays[0] if arrays else None, "j": arrays[1] if len(arrays) > 1 else None}
    return tuple(named[p] if p in named else slice(None) if p == ":" else p for p in pattern)


# --- out-of-bounds indexing ---
x5 = arr([0.0, 1.0, 2.0, 3.0, 4.0])
i5 = arr([0, 1, 2, 3, 4], "int32")
u5 = arr([0, 1, 2, 3, 4], "uint32")
b5 = arr([True, False, True, False, True], "bool")
m34 = arr(np.round(rng.uniform(-3, 3, size=(3, 4)), 3))
oob = arr([7, -7, -1, 2], "int32")
oob_nodup = arr([7, -7, 1], "int32")
for x, label in [(x5, "float"), (i5, "int"), (u5, "uint"), (b5, "bool")]:
    case(f"getitem clamps {label}", "getitem", lambda x, i, index: x[index_of(index, [i])], x, oob, index=["i"])
for n in [5, -6, 9, -1]:
    case(f"getitem static {n}", "getitem", lambda x, index: x[index_of(index, [])], x5, index=[n])
case("getitem 2d row", "getitem", lambda x, i, index: x[index_of(index, [i])], m34, arr([5, -5, 1], "int32"), index=["i"])
case("getitem 2d column", "getitem", lambda x, i, index: x[index_of(index, [i])], m34, arr([[9, -9], [0, 3]], "int32"), index=[":", "i"])
case("getitem 2d pair", "getitem", lambda x, i, j, index: x[index_of(index, [i, j])], m34, arr([5, -5, 1], "int32"), arr([1, 9, -2], "int32"), index=["i", "j"])
case("getitem static 2d", "getitem", lambda x, index: x[index_of(index, [])], m34, index=[5, -9])
case("getitem static slice 2d", "getitem", lambda x, index: x[index_of(index, [])], m34, index=[":", 7])
for mode in ["promise_in_bounds", "clip", "fill", "drop"]:
    for x, label in [(x5, "float"), (i5, "int"), (u5, "uint"), (b5, "bool")]:
        case(f"at.get mode={mode} {label}", "at_get", lambda x, i, index, mode: x.at[index_of(index, [i])].get(mode=mode), x, oob, index=["i"], mode=mode)
    case(f"at.get static mode={mode}", "at_get", lambda x, index, mode: x.at[index_of(index, [])].get(mode=mode), x5, index=[5], mode=mode)
    case(f"at.get 2d mode={mode}", "at_get", lambda x, i, j, index, mode: x.at[index_of(index, [i, j])].get(mode=mode), m34, arr([5, -5, 1], "int32"), arr([1, 9, -2], "int32"), index=["i", "j"], mode=mode)
    for method in ["set", "add"]:
        case(f"at.{method} mode={mode}", "at_update", lambda x, i, v, index, method, mode: getattr(x.at[index_of(index, [i])], method)(v, mode=mode), x5, oob, arr([9.0, 8.0, 7.0, 6.0]), index=["i"], method=method, mode=mode)
    for method in ["multiply", "min", "max"]:
        case(f"at.{method} mode={mode}", "at_update", lambda x, i, v, index, method, mode: getattr(x.at[index_of(index, [i])], method)(v, mode=mode), x5, oob_nodup, arr([-3.0, 5.0, 0.5]), index=["i"], method=method, mode=mode)
    case(f"at.set static mode={mode}", "at_update", lambda x, v, index, method, mode: x.at[index_of(index, [])].set(v, mode=mode), x5, scalar(9.0), index=[5], method="set", mode=mode)
    case(f"at.add 2d mode={mode}", "at_update", lambda x, i, v, index, method, mode: x.at[index_of(index, [i])].add(v, mode=mode), m34, arr([5, -5, 1], "int32"), scalar(1.5), index=[":", "i"], method="add", mode=mode)
dups = arr([0, 2, 0, 4, 2, 0, 9, -1], "int32")
for method in ["multiply", "min", "max", "add", "set"]:
    for mode in [None, "clip"]:
        p = {} if mode is None else {"mode": mode}
        case(f"at.{method} repeated indices mode={mode}", "at_update", lambda x, i, v, index, method, **kw: getattr(x.at[index_of(index, [i])], method)(v, **kw),
             x5, dups, arr([2.0, -3.0, 0.5, 4.0, 1.5, -1.0, 7.0, 3.0]), index=["i"], method=method, **p)
case("at.multiply repeated indices int", "at_update", lambda x, i, v, index, method: x.at[index_of(index, [i])].multiply(v), i5, dups, arr([2, -3, 5, 4, 3, -1, 7, 3], "int32"), index=["i"], method="multiply")
case("at.max repeated indices 2d", "at_update", lambda x, i, v, index, method: x.at[index_of(index, [i])].max(v), m34, arr([1, 3, 1], "int32"), arr(np.round(rng.uniform(-3, 3, size=(3, 3)), 3)), index=[":", "i"], method="max")
case("at.set default", "at_update", lambda x, i, v, index, method: x.at[index_of(index, [i])].set(v), x5, oob, scalar(9.0), index=["i"], method="set")
for fill in [-1.0, 7.5]:
    case(f"at.get fill fillValue={fill}", "at_get", lambda x, i, index, mode, fillValue: x.at[index_of(index, [i])].get(mode=mode, fill_value=fillValue), x5, oob, index=["i"], mode="fill", fillValue=fill)
case("at.get fill fillValue int", "at_get", lambda x, i, index, mode, fillValue: x.at[index_of(index, [i])].get(mode=mode, fill_value=fillValue), i5, oob, index=["i"], mode="fill", fillValue=-1)
case("at.get fill fillValue 2d", "at_get", lambda x, i, j, index, mode, fillValue: x.at[index_of(index, [i, j])].get(mode=mode, fill_value=fillValue), m34, arr([5, -5, 1], "int32"), arr([1, 9, -2], "int32"), index=["i", "j"], mode="fill", fillValue=0.25)
for mode in [None, "fill", "clip", "wrap"]:
    p = {} if mode is None else {"mode": mode}
    case(f"take mode={mode}", "take", lambda x, i, **kw: jnp.take(x, i, **kw), x5, oob, **p)
    case(f"take axis=1 mode={mode}", "take", lambda x, i, axis, **kw: jnp.take(x, i, axis=axis, **kw), m34, arr([[5, -5], [-1, 2]], "int32"), axis=1, **p)
case("take fill fillValue", "take", lambda x, i, mode, fillValue: jnp.take(x, i, mode=mode, fill_value=fillValue), x5, oob, mode="fill", fillValue=3.0)
for mode in [None, "fill", "clip"]:
    p = {} if mode is None else {"mode": mode}
    case(f"takeAlongAxis mode={mode}", "takeAlongAxis", lambda x, i, axis, **kw: jnp.take_along_axis(x, i, axis=axis, **kw), m34, arr([[5, -5, 0, 1], [-1, 2, 3, 9], [0, 0, -4, -5]], "int32"), axis=1, **p)

for mode in ["promise_in_bounds", "drop"]:
    case(f"takeAlongAxis mode={mode}", "takeAlongAxis", lambda x, i, axis, mode: jnp.take_along_axis(x, i, axis=axis, mode=mode), x5, oob, axis=0, mode=mode)
for mode in [None, "promise_in_bounds", "clip", "fill"]:
    p = {} if mode is None else {"mode": mode}
    case(f"takeAlongAxis mode={mode} grad", "takeAlongAxis", lambda x, i, axis, **kw: jnp.take_along_axis(x, i, axis=axis, **kw), x5, oob, kind="grad", axis=0, **p)
    case(f"at.get mode={mode} grad", "at_get", lambda x, i, index, **kw: x.at[index_of(index, [i])].get(**kw), x5, oob, kind="grad", index=["i"], **p)
case("take drop", "take", lambda x, i, mode: jnp.take(x, i, mode="fill"), x5, oob, mode="drop")
case("take promise_in_bounds is refused", "take", lambda x, i, mode: jnp.take(x, i, mode=mode), x5, oob, kind="error", mode="promise_in_bounds")
case("getitem static past the end grad", "getitem", lambda x, index: x[index_of(index, [])], x5, kind="grad", index=[7])
case("jvp getitem clamps tangents", "jvpGetitem", lambda x, t, i: list(jax.jvp(lambda v: v[i], (x,), (t,))), x5, arr([1.0, 2.0, 3.0, 4.0, 5.0]), oob)

# --- pad ---
p1 = arr([1.0, 2.0, 4.0, -3.0])
p2 = arr(np.round(rng.uniform(-3, 3, size=(2, 3)), 3))
pint = arr([1, 2, 4, 7], "int32")
pad_cases = [
    ("constant", {}),
    ("constant", {"constantValues": 5.0}),
    ("constant", {"constantValues": [-1.0, 2.0]}),
    ("edge", {}), ("wrap", {}), ("empty", {}),
    ("reflect", {}), ("reflect", {"reflectType": "odd"}),
    ("symmetric", {}), ("symmetric", {"reflectType": "odd"}),
    ("linear_ramp", {}), ("linear_ramp", {"endValues": [10.0, -1.0]}),
    ("maximum", {}), ("minimum", {}), ("mean", {}), ("median", {}),
    ("maximum", {"statLength": 2}), ("mean", {"statLength": [1, 3]}), ("median", {"statLength": 3}), ("minimum", {"statLength": [2, 2]}),
]


def tup(v):
    """JAX wants pad's static arguments hashable: nested tuples, not lists."""
    return tuple(tup(u) for u in v) if isinstance(v, list) else v


def py_pad(x, padWidth, mode="constant", constantValues=None, endValues=None, statLength=None, reflectType=None):
    padWidth, constantValues, endValues, statLength = tup(padWidth), tup(constantValues), tup(endValues), tup(statLength)
    kw = {}
    if constantValues is not None:
        kw["constant_values"] = constantValues
    if endValues is not None:
        kw["end_values"] = endValues
    if statLength is not None:
        kw["stat_length"] = statLength
    if reflectType is not None:
        kw["reflect_type"] = reflectType
    return jnp.pad(x, padWidth, mode=mode, **kw)


for mode, opts in pad_cases:
    label = " ".join(f"{k}={v}" for k, v in opts.items())
    for width in [[2, 3], [6, 9]]:
        case(f"pad {mode} {label} width={width}", "pad", py_pad, p1, padWidth=width, mode=mode, **opts)
    case(f"pad {mode} {label} int", "pad", py_pad, pint, padWidth=[3, 2], mode=mode, **opts)
    case(f"pad {mode} {label} 2d", "pad", py_pad, p2, padWidth=[[1, 2], [3, 1]], mode=mode, **opts)
    if mode != "empty":
        case(f"pad {mode} {label} grad", "pad", py_pad, p1, kind="grad", padWidth=[5, 4], mode=mode, **opts)
case("pad constant per-axis values 2d", "pad", py_pad, p2, padWidth=[[1, 1], [1, 2]], mode="constant", constantValues=[[1.0, 2.0], [3.0, 4.0]])
case("pad reflect size 1", "pad", py_pad, arr([3.0]), padWidth=[2, 3], mode="reflect")
case("pad reflect odd size 1", "pad", py_pad, arr([3.0]), padWidth=[2, 3], mode="reflect", reflectType="odd")
case("pad edge empty axis", "pad", py_pad, arr(np.zeros((0,))), kind="error", padWidth=[1, 1], mode="edge")
case("pad statLength 0", "pad", py_pad, p1, kind="error", padWidth=[1, 1], mode="maximum", statLength=0)

# --- integer literals ---
u2 = arr([1, 5], "uint32")
i2 = arr([1, 5], "int32")
f2 = arr([1.0, 5.0])
for op, fn in [("add", jnp.add), ("subtract", jnp.subtract), ("multiply", jnp.multiply), ("greater", jnp.greater), ("maximum", jnp.maximum)]:
    for v in [-1, -3, -(2 ** 31), 2 ** 31 - 1]:
        case(f"{op} uint32 {v}", op, fn, u2, scalar(v))
    case(f"{op} int32 {-(2 ** 31)}", op, fn, i2, scalar(-(2 ** 31)))
    case(f"{op} int32 {2 ** 31 - 1}", op, fn, i2, scalar(2 ** 31 - 1))
    for v in [2 ** 31, -(2 ** 31) - 1, 2 ** 32]:
        case(f"{op} uint32 {v} overflows", op, fn, u2, scalar(v), kind="error")
        case(f"{op} int32 {v} overflows", op, fn, i2, scalar(v), kind="error")
case("at.set uint32 -1", "at_update", lambda x, v, index, method: x.at[index_of(index, [])].set(v), u2, scalar(-1), index=[0], method="set")
case("at.set int32 2**31 overflows", "at_update", lambda x, v, index, method: x.at[index_of(index, [])].set(v), i2, scalar(2 ** 31), kind="error", index=[0], method="set")
case("array uint32 2**31", "array", lambda v, dtype: jnp.array(v, dtype=dtype), scalar(2 ** 31), dtype="uint32")
case("array uint32 -1 overflows", "array", lambda v, dtype: jnp.array(v, dtype=dtype), scalar(-1), kind="error", dtype="uint32")
case("array uint32 2**32 overflows", "array", lambda v, dtype: jnp.array(v, dtype=dtype), scalar(2 ** 32), kind="error", dtype="uint32")
case("array int32 2**31 overflows", "array", lambda v, dtype: jnp.array(v, dtype=dtype), scalar(2 ** 31), kind="error", dtype="int32")
case("clip uint32 -1", "clip", lambda x, lo, hi: jnp.clip(x, lo, hi), u2, scalar(-1), scalar(3))

# --- repeat with counts ---
r3 = arr([0.5, -1.0, 2.0])
r23 = arr(np.round(rng.uniform(-3, 3, size=(2, 3)), 3))


def py_repeat(x, r, axis=None, totalRepeatLength=None):
    return jnp.repeat(x, r, axis=axis, total_repeat_length=totalRepeatLength)


for counts in [[1, 0, 2], [0, 0, 3], [2, 2, 2], [0, 0, 0]]:
    case(f"repeat counts {counts}", "repeat", py_repeat, r3, arr(counts, "int32"))
case("repeat counts axis 0", "repeat", py_repeat, r23, arr([1, 2], "int32"), axis=0)
case("repeat counts axis 1", "repeat", py_repeat, r23, arr([3, 0, 1], "int32"), axis=1)
case("repeat one count array", "repeat", py_repeat, r23, arr([2], "int32"), axis=1)
for total in [2, 3, 5]:
    case(f"repeat counts totalRepeatLength={total}", "repeat", py_repeat, r3, arr([1, 0, 2], "int32"), totalRepeatLength=total)
case("repeat counts grad", "repeat", py_repeat, r3, arr([1, 0, 2], "int32"), kind="grad")
case("repeat counts axis 1 grad", "repeat", py_repeat, r23, arr([3, 0, 1], "int32"), kind="grad", axis=1)
case("repeat negative", "repeat", py_repeat, r3, scalar(-1), kind="error")

# --- gradients of the indexing modes ---
case("getitem clamps grad", "getitem", lambda x, i, index: x[index_of(index, [i])], x5, oob, kind="grad", index=["i"])
case("at.get fill grad", "at_get", lambda x, i, index, mode: x.at[index_of(index, [i])].get(mode=mode), x5, oob, kind="grad", index=["i"], mode="fill")
case("take clip grad", "take", lambda x, i, mode: jnp.take(x, i, mode=mode), x5, oob, kind="grad", mode="clip")
case("take wrap grad", "take", lambda x, i, mode: jnp.take(x, i, mode=mode), x5, oob, kind="grad", mode="wrap")
case("at.add clip grad", "at_update", lambda x, i, v, index, method, mode: x.at[index_of(index, [i])].add(v, mode=mode), x5, oob, scalar(2.0), kind="grad", index=["i"], method="add", mode="clip")


# --- control flow ---
def cond_closed(x):
    return jax.lax.cond(x > 0, lambda: jnp.sqrt(x), lambda: x * 0)


def cond_log(x):
    return jax.lax.cond(x > 1, lambda: jnp.log(x - 1), lambda: x * 3)


for v in [0.0, 4.0]:
    case(f"grad cond closed-over sqrt x={v}", "gradCondSqrt", jax.grad(cond_closed), arr(v))
for v in [1.0, 0.5, 3.0]:
    case(f"grad cond closed-over log x={v}", "gradCondLog", jax.grad(cond_log), arr(v))
def scan_cond(threshold):
    return lambda x: jax.lax.scan(lambda c, xi: (c + jax.lax.cond(xi > threshold, lambda: jnp.sqrt(x), lambda: x * 0), c), jnp.float32(0), jnp.arange(0.0, 3.0))[0]


for threshold in [1.0, 5.0]:
    case(f"grad scan of cond closed-over sqrt threshold={threshold}", "gradScanCond", lambda x, threshold: jax.grad(scan_cond(threshold))(x), arr(0.0), threshold=threshold)
case("grad switch closed-over", "gradSwitch", jax.grad(lambda x: jax.lax.switch(jnp.int32(x > 0) + jnp.int32(x > 2), [lambda: 1 / x, lambda: jnp.sqrt(x), lambda: x])), arr(0.0))


def lin(f):
    def run(x):
        y, f_lin = jax.linearize(f, x)
        return [y, f_lin(jnp.ones_like(x))]
    return run


def scan_f(x):
    return jax.lax.scan(lambda c, xi: (c * xi + jnp.sin(c), c), x, jnp.arange(1.0, 4.0))[0]


def cond_f(x):
    return jax.lax.cond(x.sum() > 0, jnp.sin, lambda y: y * 2, x)


def while_f(x):
    return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * c[1] + 0.5), (0, x))[1]


def fori_f(x):
    return jax.lax.fori_loop(0, 3, lambda i, c: c * x + i, x)


for name, f in [("scan", scan_f), ("cond", cond_f), ("whileLoop", while_f), ("foriLoop", fori_f)]:
    for v, label in [(arr(1.1), "scalar"), (arr([0.5, -2.0, 1.5]), "vector")]:
        case(f"linearize {name} {label}", f"linearize_{name}", lin(f), v)
    case(f"linearize {name} negative", f"linearize_{name}", lin(f), arr([-0.5, -2.0]))

# --- eval_shape of { shape, dtype } ---
def eval_matmul(dtype, a, b):
    s = jax.eval_shape(lambda u, v: u @ v, jax.ShapeDtypeStruct(a, dtype), jax.ShapeDtypeStruct(b, dtype))
    return jnp.zeros(s.shape, s.dtype)


case("evalShape matmul float32", "evalShape", lambda a, b, dtype: eval_matmul(dtype, tuple(a), tuple(b)), a=[2, 3], b=[3, 4], dtype="float32")
case("evalShape matmul int32", "evalShape", lambda a, b, dtype: eval_matmul(dtype, tuple(a), tuple(b)), a=[5, 2, 3], b=[3, 1], dtype="int32")

OUT.write_text(json.dumps({"jax": jax.__version__, "cases": cases}, indent=None, separators=(",", ":")) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
