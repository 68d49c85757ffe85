"""Golden outputs of jax.numpy / jax.lax operations for effect-nnx's array tests.

Re-run after changing a case (needs `pip install jax`):

    python tools/goldens/ops.py      # writes test/goldens/ops.json

Each case names an operation (`op`), its arguments (arrays as data + dtype, JavaScript-like scalars,
plain parameters) and JAX's result: shape, dtype, weak type and data, or the repr string. The
TypeScript test (test/backend/opsGoldens.test.ts) maps the same `op` names onto effect-nnx calls.
"""
import json
import sys
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402
from jax import lax

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "ops.json"
rng = np.random.default_rng(20261125)


def finite_or_name(v):
    if isinstance(v, list):
        return [finite_or_name(u) for u in v]
    if isinstance(v, float) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def arr(data, dtype):
    """An array argument; non-finite floats are written as "nan", "inf" and "-inf"."""
    return {"array": finite_or_name(np.asarray(data).tolist()), "dtype": dtype, "shape": list(np.shape(data))}


def rand(shape, dtype="float32", lo=-3, hi=3):
    if dtype == "float32":
        return np.round(rng.uniform(lo, hi, size=shape), 3).astype(np.float32)
    if dtype == "bool":
        return rng.uniform(size=shape) < 0.5
    return rng.integers(lo, hi, size=shape).astype(dtype)


def to_jax(a):
    if isinstance(a, dict) and "array" in a:
        data = np.asarray(a["array"], dtype=object)
        data = np.vectorize(lambda v: float(v) if isinstance(v, str) else v, otypes=[object])(data) if data.size else data
        return jnp.asarray(np.asarray(data.tolist(), dtype=a["dtype"]).reshape(a["shape"]))
    if isinstance(a, dict) and "scalar" in a:
        return a["scalar"]
    return a


cases = []


def case(name, op, fn, *args, meta=None, **params):
    """`params` go to `fn` and to the TypeScript side; `meta` only to the TypeScript side."""
    jargs = [to_jax(a) for a in args]
    out = fn(*jargs, **params)
    entry = {"name": name, "op": op, "args": list(args), "params": {**params, **(meta or {})}}
    if isinstance(out, (list, tuple)):
        entry["outputs"] = [result(o) for o in out]
    else:
        entry["output"] = result(out)
    cases.append(entry)


def repr_case(name, op, fn, *args, **params):
    jargs = [to_jax(a) for a in args]
    cases.append({"name": name, "op": op, "args": list(args), "params": params, "repr": repr(fn(*jargs, **params))})


# --- promotion: jnp.add over every pair of (strong dtypes, weak scalars) ---
operands = {
    "int32": arr([1, -2, 3], "int32"),
    "uint32": arr([1, 2, 3], "uint32"),
    "float32": arr([0.5, -1.5, 2.0], "float32"),
    "bool": arr([True, False, True], "bool"),
    "weak_int": {"scalar": 2},
    "weak_float": {"scalar": 2.5},
}
for a_name, a in operands.items():
    for b_name, b in operands.items():
        if "scalar" in a and "scalar" in b:
            continue
        case(f"promote {a_name} + {b_name}", "add", jnp.add, a, b)
case("promote weak scalar array + int32", "add", jnp.add, {"scalar": 2}, arr([1, 2], "int32"))
case("jnp.array of a scalar is weak", "array", lambda x: jnp.array(x), {"scalar": 3})

# --- broadcasting ---
for sa, sb in [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((5, 1, 3), (1, 4, 1)), ((), (2, 3)), ((4, 1), (3,))]:
    a, b = rand(sa), rand(sb)
    for op, fn in [("add", jnp.add), ("multiply", jnp.multiply), ("maximum", jnp.maximum), ("subtract", jnp.subtract)]:
        case(f"broadcast {op} {sa} {sb}", op, fn, arr(a, "float32"), arr(b, "float32"))
c = rand((3, 1), "bool")
case("where broadcast", "where", jnp.where, arr(c, "bool"), arr(rand((1, 4)), "float32"), {"scalar": 0.0})

# --- binary ops with edge values ---
ia = arr([7, -7, 7, -7, 0, 2147483647, -2147483648, 5], "int32")
ib = arr([2, 2, -2, -2, 3, 1, -1, 0], "int32")
for op, fn in [("floor_divide", jnp.floor_divide), ("remainder", jnp.remainder), ("fmod", jnp.fmod), ("add", jnp.add),
               ("multiply", jnp.multiply), ("subtract", jnp.subtract), ("divide", jnp.divide), ("maximum", jnp.maximum)]:
    case(f"int32 {op}", op, fn, ia, ib)
ua = arr([7, 0, 4294967295, 5, 1], "uint32")
ub = arr([2, 3, 2, 0, 4294967295], "uint32")
for op, fn in [("floor_divide", jnp.floor_divide), ("remainder", jnp.remainder), ("add", jnp.add), ("multiply", jnp.multiply), ("subtract", jnp.subtract)]:
    case(f"uint32 {op}", op, fn, ua, ub)
case("int32 power", "power", jnp.power, arr([2, -3, 5, 0, 7], "int32"), arr([10, 3, 0, 4, 11], "int32"))
case("float power", "power", jnp.power, arr([2.0, 0.5, 9.0, 1.5], "float32"), arr([0.5, -2.0, 0.5, 3.0], "float32"))
case("shift left", "left_shift", jnp.left_shift, arr([1, -1, 3, 5], "int32"), arr([3, 4, 31, 0], "int32"))
case("shift right int32", "right_shift", jnp.right_shift, arr([-16, 16, -1, 5], "int32"), arr([2, 2, 31, 1], "int32"))
case("shift right uint32", "right_shift", jnp.right_shift, arr([4294967280, 16, 1, 5], "uint32"), arr([2, 2, 31, 1], "uint32"))
fa, fb = rand((12,)), rand((12,))
for op, fn in [("floor_divide", jnp.floor_divide), ("remainder", jnp.remainder), ("divide", jnp.divide), ("arctan2", jnp.arctan2),
               ("less", jnp.less), ("equal", jnp.equal), ("greater_equal", jnp.greater_equal), ("minimum", jnp.minimum)]:
    case(f"float32 {op}", op, fn, arr(fa, "float32"), arr(fb, "float32"))
case("bitwise and/or/xor", "bitwise_xor", jnp.bitwise_xor, arr([12, -1, 5], "int32"), arr([10, 7, -6], "int32"))
case("bool add is or", "add", jnp.add, arr([True, False, False], "bool"), arr([True, True, False], "bool"))

# --- unary ops ---
xs = arr(np.array([-2.5, -1.0, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 3.7], np.float32), "float32")
pos = arr(np.array([0.01, 0.3, 1.0, 2.0, 10.0, 123.4], np.float32), "float32")
unit = arr(np.array([-0.99, -0.5, -0.1, 0.0, 0.2, 0.7, 0.999], np.float32), "float32")
for op, fn, x in [("exp", jnp.exp, xs), ("sin", jnp.sin, xs), ("cos", jnp.cos, xs), ("tanh", jnp.tanh, xs),
                  ("floor", jnp.floor, xs), ("ceil", jnp.ceil, xs), ("round", jnp.round, xs), ("sign", jnp.sign, xs),
                  ("abs", jnp.abs, xs), ("negative", jnp.negative, xs), ("sigmoid", jax.nn.sigmoid, xs),
                  ("expm1", jnp.expm1, xs), ("erf", lax.erf, xs), ("log", jnp.log, pos), ("sqrt", jnp.sqrt, pos),
                  ("rsqrt", lax.rsqrt, pos), ("log1p", jnp.log1p, pos), ("erf_inv", lax.erf_inv, unit)]:
    case(f"unary {op}", op, fn, x)
case("exp of int promotes to float", "exp", jnp.exp, arr([0, 1, 2], "int32"))
case("astype float to int truncates and saturates", "astype", lambda x: x.astype(jnp.int32), arr(np.array([1.7, -1.7, 3e9, -3e9, 0.5], np.float32), "float32"))
case("astype float to uint32", "astype_uint32", lambda x: x.astype(jnp.uint32), arr(np.array([1.7, 3e9, 5e9, 0.0], np.float32), "float32"))
case("astype int to bool", "astype_bool", lambda x: x.astype(jnp.bool_), arr([0, 2, -1], "int32"))
case("clip", "clip", jnp.clip, arr(fa, "float32"), {"scalar": -1.0}, {"scalar": 1.0})

# --- reductions ---
r3 = rand((2, 3, 4))
i3 = rand((2, 3, 4), "int32", -10, 10)
for axis in [None, 0, 1, -1, (0, 2)]:
    key = "all" if axis is None else str(axis)
    for op, fn in [("sum", jnp.sum), ("max", jnp.max), ("min", jnp.min), ("prod", jnp.prod), ("mean", jnp.mean), ("var", jnp.var)]:
        case(f"{op} axis={key}", op, fn, arr(r3, "float32"), axis=axis)
    case(f"int sum axis={key}", "sum", jnp.sum, arr(i3, "int32"), axis=axis)
    case(f"keepdims sum axis={key}", "sum", jnp.sum, arr(r3, "float32"), axis=axis, keepdims=True)
for axis in [None, 0, 2]:
    key = "all" if axis is None else str(axis)
    case(f"argmax axis={key}", "argmax", jnp.argmax, arr(r3, "float32"), axis=axis)
    case(f"argmin axis={key}", "argmin", jnp.argmin, arr(i3, "int32"), axis=axis)
    case(f"cumsum axis={key}", "cumsum", jnp.cumsum, arr(r3, "float32"), axis=axis)
case("argmax with nan", "argmax", jnp.argmax, arr(np.array([1.0, np.nan, 3.0, np.nan], np.float32), "float32"), axis=None)
case("std ddof=1", "std", jnp.std, arr(r3, "float32"), axis=1, ddof=1)
case("sum of bools is int32", "sum", jnp.sum, arr(rand((5,), "bool"), "bool"), axis=None)
case("any", "any", jnp.any, arr(rand((3, 4), "bool"), "bool"), axis=1)
case("all", "all", jnp.all, arr(rand((3, 4), "bool"), "bool"), axis=0)

# --- dot_general / matmul ---
def dg(_dims):
    return lambda a, b, dimension_numbers: lax.dot_general(a, b, dimension_numbers)

case("dot_general batch (0,0) contract (2,1)", "dot_general", dg((((2,), (1,)), ((0,), (0,)))),
     arr(rand((2, 3, 4)), "float32"), arr(rand((2, 4, 5)), "float32"), dimension_numbers=[[[2], [1]], [[0], [0]]])
case("dot_general batch (1,1) contract (2,0)", "dot_general", dg((((2,), (0,)), ((1,), (1,)))),
     arr(rand((3, 2, 4)), "float32"), arr(rand((4, 2, 6)), "float32"), dimension_numbers=[[[2], [0]], [[1], [1]]])
case("dot_general two contracting dims", "dot_general", dg((((1, 2), (0, 1)), ((), ()))),
     arr(rand((3, 4, 5)), "float32"), arr(rand((4, 5, 2)), "float32"), dimension_numbers=[[[1, 2], [0, 1]], [[], []]])
case("dot_general int32", "dot_general", dg((((1,), (0,)), ((), ()))),
     arr(rand((3, 4), "int32", -5, 5), "int32"), arr(rand((4, 2), "int32", -5, 5), "int32"), dimension_numbers=[[[1], [0]], [[], []]])
case("matmul broadcast batch", "matmul", jnp.matmul, arr(rand((2, 1, 3, 4)), "float32"), arr(rand((5, 4, 2)), "float32"))
case("matmul vector-matrix", "matmul", jnp.matmul, arr(rand((4,)), "float32"), arr(rand((4, 3)), "float32"))
case("matmul matrix-vector", "matmul", jnp.matmul, arr(rand((2, 4)), "float32"), arr(rand((4,)), "float32"))
case("dot N-d", "dot", jnp.dot, arr(rand((2, 3, 4)), "float32"), arr(rand((5, 4, 2)), "float32"))

# --- indexing ---
x24 = arr(np.arange(24).reshape(2, 3, 4), "int32")
IDX = {
    "[1]": lambda x: x[1],
    "[:, 1:3]": lambda x: x[:, 1:3],
    "[..., ::2]": lambda x: x[..., ::2],
    "[::-1]": lambda x: x[::-1],
    "[None, 0]": lambda x: x[None, 0],
    "[-1, :, -2]": lambda x: x[-1, :, -2],
    "[:, [0, 2]]": lambda x: x[:, jnp.array([0, 2])],
    "[[0, 1], [1, 2]]": lambda x: x[jnp.array([0, 1]), jnp.array([1, 2])],
    "[:, [2, 0], 1:3]": lambda x: x[:, jnp.array([2, 0]), 1:3],
    "[[1], :, [0, 3]]": lambda x: x[jnp.array([1]), :, jnp.array([0, 3])],
    "[1, ::-2, [3, -1]]": lambda x: x[1, ::-2, jnp.array([3, -1])],
    "[:, :, 1:-1:2]": lambda x: x[:, :, 1:-1:2],
    "[..., None]": lambda x: x[..., None],
}
for k, fn in IDX.items():
    case(f"index {k}", "index", fn, x24, meta={"index": k})
case("at set", "at_set", lambda x: x.at[1].set(0), x24, meta={"index": "[1]", "value": 0})
case("at add", "at_add", lambda x: x.at[:, 0].add(5), x24, meta={"index": "[:, 0]", "value": 5})
case("at add duplicates", "at_add_dup", lambda x: x.at[jnp.array([0, 0, 1])].add(1), arr(np.zeros(3, np.float32), "float32"))
case("take axis 1", "take", lambda x: jnp.take(x, jnp.array([[0, 2], [1, 1]]), axis=1), x24)
case("take_along_axis", "take_along_axis", lambda x: jnp.take_along_axis(x, jnp.argsort(x, axis=2)[:, :, ::-1], axis=2), arr(rand((2, 3, 4)), "float32"))
case("sort axis 0", "sort", jnp.sort, arr(rand((4, 3)), "float32"), axis=0)
case("argsort stable", "argsort", jnp.argsort, arr([3, 1, 2, 1, 3, 0], "int32"), axis=-1)
case("sort nan last", "sort", jnp.sort, arr(np.array([2.0, np.nan, -1.0, np.inf, 0.0], np.float32), "float32"), axis=-1)

# --- shape ops ---
case("concatenate axis 1", "concatenate", lambda a, b: jnp.concatenate([a, b], axis=1), arr(rand((2, 3)), "float32"), arr(rand((2, 2)), "int32"))
case("stack axis -1", "stack", lambda a, b: jnp.stack([a, b], axis=-1), arr(rand((2, 3)), "float32"), arr(rand((2, 3)), "float32"))
case("split sections", "split", lambda x: jnp.split(x, 3, axis=1), arr(np.arange(12).reshape(2, 6), "int32"))
case("split indices", "split_indices", lambda x: jnp.split(x, [1, 4], axis=1), arr(np.arange(12).reshape(2, 6), "int32"))
case("transpose", "transpose", lambda x: jnp.transpose(x, (2, 0, 1)), x24)
case("moveaxis", "moveaxis", lambda x: jnp.moveaxis(x, 0, -1), x24)
case("reshape -1", "reshape", lambda x: jnp.reshape(x, (4, -1)), x24)
case("pad", "pad", lambda x: jnp.pad(x, ((1, 0), (2, 1)), constant_values=-1), arr(np.arange(6).reshape(2, 3), "int32"))
case("tile", "tile", lambda x: jnp.tile(x, (2, 2)), arr(np.arange(6).reshape(2, 3), "int32"))
case("repeat", "repeat", lambda x: jnp.repeat(x, 2, axis=1), arr(np.arange(6).reshape(2, 3), "int32"))
case("flip", "flip", lambda x: jnp.flip(x, (0, 2)), x24)

# --- creation ---
case("linspace 0 1 7", "linspace", lambda: jnp.linspace(0, 1, 7))
case("linspace -3 5 11", "linspace", lambda: jnp.linspace(-3, 5, 11))
case("linspace no endpoint", "linspace", lambda: jnp.linspace(0, 1, 5, endpoint=False))
case("arange floats", "arange", lambda: jnp.arange(0, 1, 0.1))
case("arange ints", "arange", lambda: jnp.arange(2, 11, 3))
case("eye k=1", "eye", lambda: jnp.eye(3, 4, k=1))

# --- nn ---
s = arr(rand((3, 5)), "float32")
case("softmax", "softmax", jax.nn.softmax, s)
case("log_softmax axis 0", "log_softmax", lambda x: jax.nn.log_softmax(x, axis=0), s)
case("logsumexp", "logsumexp", lambda x: jax.nn.logsumexp(x, axis=1), s)
case("gelu", "gelu", jax.nn.gelu, s)
case("relu", "relu", jax.nn.relu, s)
case("one_hot", "one_hot", lambda x: jax.nn.one_hot(x, 4), arr([0, 3, 1], "int32"))

# --- reprs ---
repr_case("repr int vector", "repr", lambda x: x, arr(np.arange(1, 11), "int32"))
repr_case("repr weak scalar", "repr_weak_scalar", lambda: jnp.array(0) + 1)
repr_case("repr float scalar", "repr", lambda x: x, arr(np.float32(1.5), "float32"))
repr_case("repr linspace", "repr", lambda x: x, arr(np.linspace(0, 1, 7, dtype=np.float32), "float32"))
repr_case("repr uniform wraps", "repr", lambda x: x, arr(rng.uniform(size=40).astype(np.float32), "float32"))
repr_case("repr small floats use exponents", "repr", lambda x: x, arr(np.array([1e-5, 0.5, 3.0], np.float32), "float32"))
repr_case("repr large floats", "repr", lambda x: x, arr(np.array([1e9, -2.5, 3.0], np.float32), "float32"))
repr_case("repr nan inf", "repr", lambda x: x, arr(np.array([np.nan, 1.5, -np.inf], np.float32), "float32"))
repr_case("repr integral floats", "repr", lambda x: x, arr(np.array([1.0, -2.0, 30.0], np.float32), "float32"))
repr_case("repr bool", "repr", lambda x: x, arr(np.array([True, False, True]), "bool"))
repr_case("repr bool all true", "repr", lambda x: x, arr(np.array([True, True]), "bool"))
repr_case("repr 2d int", "repr", lambda x: x, arr(np.arange(-3, 9).reshape(3, 4), "int32"))
repr_case("repr 3d float", "repr", lambda x: x, arr(rand((2, 2, 3)), "float32"))
repr_case("repr uint32", "repr", lambda x: x, arr(np.array([0, 4294967295], np.uint32), "uint32"))
repr_case("repr summarised", "repr", lambda x: x, arr(np.arange(2000), "int32"))
repr_case("repr summarised 2d", "repr", lambda x: x, arr(np.arange(3000).reshape(50, 60) * 0.5, "float32"))
repr_case("repr empty", "repr", lambda x: x, arr(np.zeros((0, 3), np.float32), "float32"))
repr_case("repr negative zero and small", "repr", lambda x: x, arr(np.array([-0.0, 0.25, -1.125], np.float32), "float32"))

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/ops.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
