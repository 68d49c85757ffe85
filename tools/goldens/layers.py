"""Golden values of Flax NNX's core layers and ``jax.nn.initializers``.

Writes ``test/goldens/layers.json``, read by the suites under ``test/layers`` and
``test/backend/einsum.test.ts``:

- ``initializers``: every initializer's values for one key and a few shapes;
- ``layers``: each layer's initial parameters (``nnx.state`` flattened, paths joined by ``.``) for a
  fixed ``nnx.Rngs`` seed, its inputs and outputs, in training and evaluation modes where they differ,
  and the state after the call (BatchNorm's running statistics, Dropout's rng count);
- ``einsum``: ``jnp.einsum`` over explicit and implicit subscripts, ellipses, repeated and summed indices.

Computed by JAX on CPU with 64-bit mode off and ``jax_threefry_partitionable=True``. Re-run from the
repository root with a Python that has JAX and Flax::

    python tools/goldens/layers.py
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402
from flax.nnx.nn import attention as attention_mod  # noqa: E402

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_threefry_partitionable", True)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "layers.json"
init = jax.nn.initializers
KEY = jax.random.key(42)


def initializer_cases():
    """(name, initializer, shape): the TypeScript test rebuilds each initializer from its name."""
    cases = [
        ("zeros", init.zeros, (3, 4)),
        ("ones", init.ones, (3, 4)),
        ("constant(-7)", init.constant(-7.0), (2, 3)),
        ("uniform()", init.uniform(), (3, 4)),
        ("uniform(2)", init.uniform(2.0), (3, 4)),
        ("normal()", init.normal(), (3, 4)),
        ("normal(0.5)", init.normal(0.5), (3, 4)),
        ("truncatedNormal(0.3)", init.truncated_normal(0.3), (3, 4)),
        ("truncatedNormal(1,-1,0.5)", init.truncated_normal(1.0, lower=-1.0, upper=0.5), (3, 4)),
        ("varianceScaling(2,fan_in,normal)", init.variance_scaling(2.0, "fan_in", "normal"), (3, 4)),
        ("varianceScaling(0.5,fan_out,uniform)", init.variance_scaling(0.5, "fan_out", "uniform"), (3, 4)),
        ("varianceScaling(1,fan_avg,truncated_normal)", init.variance_scaling(1.0, "fan_avg", "truncated_normal"), (3, 4)),
        ("varianceScaling(1,fan_geo_avg,normal)", init.variance_scaling(1.0, "fan_geo_avg", "normal"), (3, 5)),
        ("varianceScaling(1,fan_in,normal,axes)", init.variance_scaling(1.0, "fan_in", "normal", in_axis=(1, 2), out_axis=0, batch_axis=3), (2, 3, 4, 5)),
        ("varianceScaling(1,fan_in,normal,outAxis0)", init.variance_scaling(1.0, "fan_in", "normal", out_axis=0), (10, 4)),
        ("varianceScaling(1,fan_in,normal,1d)", init.variance_scaling(1.0, "fan_in", "normal", in_axis=0), (6,)),
        ("orthogonal()", init.orthogonal(), (3, 4)),
        ("orthogonal(tall)", init.orthogonal(), (5, 3)),
        ("orthogonal(2,3d)", init.orthogonal(2.0), (2, 3, 4)),
        ("orthogonal(columnAxis0)", init.orthogonal(column_axis=0), (4, 3)),
        ("deltaOrthogonal()", init.delta_orthogonal(), (3, 3, 4)),
    ]
    for name, f in [("glorotUniform", init.glorot_uniform), ("glorotNormal", init.glorot_normal),
                    ("lecunUniform", init.lecun_uniform), ("lecunNormal", init.lecun_normal),
                    ("heUniform", init.he_uniform), ("heNormal", init.he_normal)]:
        cases.append((f"{name}()", f(), (3, 4)))
        cases.append((f"{name}(conv)", f(), (3, 3, 2, 4)))
    return [{"name": n, "shape": list(s), "value": result(f(KEY, s, jnp.float32))} for n, f, s in cases]


def flat_state(module):
    """Every Variable of a module: kind, path and value."""
    out = {}
    for path, v in nnx.to_flat_state(nnx.state(module)):
        value = v.get_value()
        if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
            value = jax.random.key_data(value)  # keys are compared by their data
        out[".".join(str(p) for p in path)] = {"kind": type(v).__name__, "value": result(value)}
    return out


def x_of(shape, seed=1):
    return jax.random.normal(jax.random.key(seed), shape)


def layer_cases():
    cases = []

    def add(name, make, inputs, calls):
        """calls: list of (label, fn(module, inputs) -> output)."""
        m = make()
        case = {"name": name, "params": flat_state(m), "inputs": [result(x) for x in inputs], "outputs": {}}
        for label, fn in calls:
            case["outputs"][label] = result(fn(m, *inputs))
            case.setdefault("stateAfter", {})[label] = flat_state(m)
        cases.append(case)

    call = [("call", lambda m, x: m(x))]
    add("Linear(3,4)", lambda: nnx.Linear(3, 4, rngs=nnx.Rngs(0)), [x_of((2, 3))], call)
    add("Linear(3,4,noBias)", lambda: nnx.Linear(3, 4, use_bias=False, rngs=nnx.Rngs(0)), [x_of((5, 2, 3))], call)
    add("Linear(3,2,normal,ones)", lambda: nnx.Linear(3, 2, kernel_init=init.normal(0.5), bias_init=init.ones, rngs=nnx.Rngs(params=7)),
        [x_of((4, 3))], call)
    add("LinearGeneral((2,3),(4,5))", lambda: nnx.LinearGeneral((2, 3), (4, 5), axis=(-2, -1), rngs=nnx.Rngs(0)), [x_of((6, 2, 3))], call)
    add("LinearGeneral(3,4,batch)", lambda: nnx.LinearGeneral(3, 4, axis=-1, batch_axis={0: 2}, rngs=nnx.Rngs(0)), [x_of((2, 5, 3))], call)
    add("LinearGeneral(3,(2,2),axis1)", lambda: nnx.LinearGeneral(3, (2, 2), axis=1, rngs=nnx.Rngs(3)), [x_of((4, 3, 5))], call)
    add("Einsum(abc,cde->abde)", lambda: nnx.Einsum("abc,cde->abde", (3, 4, 5), (4, 5), rngs=nnx.Rngs(0)), [x_of((2, 6, 3))], call)
    add("Einsum(ab,bc->ac,noBias)", lambda: nnx.Einsum("ab,bc->ac", (3, 4), rngs=nnx.Rngs(1)), [x_of((2, 3))], call)
    add("Embed(10,4)", lambda: nnx.Embed(10, 4, rngs=nnx.Rngs(0)), [jnp.array([[0, 3, 9], [1, 1, 2]], jnp.int32), x_of((2, 4))],
        [("call", lambda m, i, q: m(i)), ("attend", lambda m, i, q: m.attend(q))])
    add("LayerNorm(6)", lambda: nnx.LayerNorm(6, rngs=nnx.Rngs(0)), [x_of((2, 3, 6)) * 3 + 1], call)
    add("LayerNorm(6,noScale,eps)", lambda: nnx.LayerNorm(6, use_scale=False, epsilon=1e-2, rngs=nnx.Rngs(0)), [x_of((4, 6))], call)
    add("LayerNorm(axes)", lambda: nnx.LayerNorm(4, reduction_axes=(1, 2), feature_axes=-1, rngs=nnx.Rngs(0)), [x_of((2, 3, 4))], call)
    add("RMSNorm(6)", lambda: nnx.RMSNorm(6, rngs=nnx.Rngs(0)), [x_of((2, 3, 6)) * 2 + 0.5], call)
    add("GroupNorm(6,2)", lambda: nnx.GroupNorm(6, num_groups=2, rngs=nnx.Rngs(0)), [x_of((2, 5, 6))], call)
    add("GroupNorm(6,groupSize3)", lambda: nnx.GroupNorm(6, num_groups=None, group_size=3, rngs=nnx.Rngs(0)), [x_of((2, 4, 4, 6))], call)
    add("InstanceNorm(3)", lambda: nnx.InstanceNorm(3, rngs=nnx.Rngs(0)), [x_of((2, 4, 5, 3)) * 2 - 1], call)
    add("BatchNorm(3)", lambda: nnx.BatchNorm(3, rngs=nnx.Rngs(0)), [x_of((4, 3)) * 2 + 1],
        [("train", lambda m, x: m(x, use_running_average=False)), ("train2", lambda m, x: m(x * 0.5, use_running_average=False)),
         ("eval", lambda m, x: m(x, use_running_average=True))])
    add("BatchNorm(4,axis1,momentum)", lambda: nnx.BatchNorm(4, axis=1, momentum=0.9, epsilon=1e-3, rngs=nnx.Rngs(0)), [x_of((2, 4, 3))],
        [("train", lambda m, x: m(x)), ("eval", lambda m, x: m(x, use_running_average=True))])
    add("Dropout(0.5)", lambda: nnx.Dropout(0.5, rngs=nnx.Rngs(dropout=1)), [x_of((4, 5))],
        [("train", lambda m, x: m(x)), ("train2", lambda m, x: m(x)), ("eval", lambda m, x: m(x, deterministic=True))])
    add("Dropout(0.3,broadcast)", lambda: nnx.Dropout(0.3, broadcast_dims=(0,), rngs=nnx.Rngs(2)), [x_of((3, 6))],
        [("train", lambda m, x: m(x))])
    add("Dropout(0.5,callRngs)", lambda: nnx.Dropout(0.5), [x_of((4, 5))],
        [("train", lambda m, x: m(x, rngs=nnx.Rngs(dropout=5)))])
    add("Sequential", lambda: nnx.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(4, 2, rngs=nnx.Rngs(1))),
        [x_of((2, 3))], call)
    attention_cases(add)
    recurrent_cases(add)
    return cases


def attention_cases(add):
    q, k, v = x_of((2, 4, 3, 5), 11), x_of((2, 6, 3, 5), 12), x_of((2, 6, 3, 5), 13)
    kv_gqa = x_of((2, 6, 1, 5), 14)
    bias = x_of((2, 3, 4, 6), 15)
    mask = jax.random.bernoulli(jax.random.key(16), 0.7, (2, 1, 4, 6))
    nn_attn = [
        ("jax.nn(plain)", lambda: jax.nn.dot_product_attention(q, k, v)),
        ("jax.nn(bias,mask)", lambda: jax.nn.dot_product_attention(q, k, v, bias=bias, mask=mask)),
        ("jax.nn(causal,scale)", lambda: jax.nn.dot_product_attention(q, k[:, :4], v[:, :4], is_causal=True, scale=0.3)),
        ("jax.nn(gqa)", lambda: jax.nn.dot_product_attention(q, kv_gqa, kv_gqa)),
        ("jax.nn(unbatched)", lambda: jax.nn.dot_product_attention(q[0], k[0], v[0])),
        ("nnx(mask)", lambda: nnx.dot_product_attention(q, k, v, mask=mask.astype(jnp.float32))),
        ("nnx.weights(bias,causal)", lambda: attention_mod.dot_product_attention_weights(q, k[:, :4], bias=bias[..., :4], is_causal=True)),
        ("nnx.weights(dropout)", lambda: attention_mod.dot_product_attention_weights(q, k, dropout_rng=jax.random.key(17), dropout_rate=0.4)),
        ("nnx(dropout,gqa)", lambda: nnx.dot_product_attention(q, kv_gqa, kv_gqa, dropout_rng=jax.random.key(18), dropout_rate=0.3, broadcast_dropout=False)),
        ("nnx.causalMask", lambda: nnx.make_causal_mask(jnp.ones((2, 4)))),
        ("nnx.attentionMask", lambda: nnx.make_attention_mask(jnp.array([[1, 1, 0]]), jnp.array([[1, 0, 1, 1]]))),
    ]
    ATTENTION.extend({"name": n, "value": result(f())} for n, f in nn_attn)
    ATTENTION_INPUTS.update({"q": result(q), "k": result(k), "v": result(v), "kvGqa": result(kv_gqa), "bias": result(bias), "mask": result(mask)})

    xq, xkv = x_of((2, 4, 8), 20), x_of((2, 6, 6), 21)
    add("MultiHeadAttention(self)", lambda: nnx.MultiHeadAttention(2, 8, decode=False, rngs=nnx.Rngs(0)), [xq],
        [("call", lambda m, x: m(x)), ("causal", lambda m, x: m(x, is_causal=True))])
    cross_mask = nnx.make_attention_mask(jnp.array([[1, 1, 1, 0], [1, 1, 0, 0]]), jnp.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]]))
    add("MultiHeadAttention(cross)", lambda: nnx.MultiHeadAttention(4, 8, qkv_features=16, out_features=5, in_kv_features=6, decode=False, rngs=nnx.Rngs(1)),
        [xq, xkv, cross_mask], [("call", lambda m, x, kv, mk: m(x, kv, mask=mk))])
    add("MultiHeadAttention(gqa,normalizeQk)", lambda: nnx.MultiHeadAttention(4, 8, num_kv_heads=2, normalize_qk=True, decode=False, rngs=nnx.Rngs(2)),
        [xq], [("call", lambda m, x: m(x))])
    add("MultiHeadAttention(dropout)", lambda: nnx.MultiHeadAttention(2, 8, dropout_rate=0.5, deterministic=False, decode=False, rngs=nnx.Rngs(params=0, dropout=3)),
        [xq], [("train", lambda m, x: m(x)), ("eval", lambda m, x: m(x, deterministic=True))])

    def decode_steps(m, x):
        m.init_cache(x.shape)
        return jnp.concatenate([m(x[:, i:i + 1], decode=True) for i in range(x.shape[1])], axis=1)
    add("MultiHeadAttention(decode)", lambda: nnx.MultiHeadAttention(2, 8, rngs=nnx.Rngs(0)), [xq],
        [("decode", decode_steps), ("causal", lambda m, x: m(x, is_causal=True, decode=False))])


def recurrent_cases(add):
    x = x_of((2, 5, 3), 30)
    add("LSTMCell(3,4)", lambda: nnx.LSTMCell(3, 4, rngs=nnx.Rngs(0)), [x[:, 0], x_of((2, 4), 31), x_of((2, 4), 32)],
        [("call", lambda m, xi, c, h: jnp.concatenate(jax.tree.leaves(m((c, h), xi)), -1))])
    add("GRUCell(3,4)", lambda: nnx.GRUCell(3, 4, rngs=nnx.Rngs(0)), [x[:, 0], x_of((2, 4), 31)],
        [("call", lambda m, xi, h: m(h, xi)[0])])
    add("SimpleCell(3,4)", lambda: nnx.SimpleCell(3, 4, rngs=nnx.Rngs(0)), [x[:, 0], x_of((2, 4), 31)],
        [("call", lambda m, xi, h: m(h, xi)[0])])
    add("RNN(LSTMCell)", lambda: nnx.RNN(nnx.LSTMCell(3, 4, rngs=nnx.Rngs(0))), [x],
        [("call", lambda m, x: m(x)), ("reverse", lambda m, x: m(x, reverse=True, keep_order=True))])
    add("RNN(GRUCell,timeMajor)", lambda: nnx.RNN(nnx.GRUCell(3, 4, rngs=nnx.Rngs(1)), time_major=True), [jnp.swapaxes(x, 0, 1)],
        [("call", lambda m, x: m(x))])
    def carry_and_outputs(out):
        c, y = out
        return jnp.concatenate([c[:, None], y], 1)
    add("RNN(GRUCell,seqLengths)", lambda: nnx.RNN(nnx.GRUCell(3, 4, rngs=nnx.Rngs(2))), [x, jnp.array([5, 3], jnp.int32)],
        [("forward", lambda m, x, l: carry_and_outputs(m(x, seq_lengths=l, return_carry=True))),
         ("reverse", lambda m, x, l: carry_and_outputs(m(x, seq_lengths=l, reverse=True, keep_order=True, return_carry=True)))])
    add("Bidirectional(SimpleCell)", lambda: nnx.Bidirectional(nnx.RNN(nnx.SimpleCell(3, 4, rngs=nnx.Rngs(0))), nnx.RNN(nnx.SimpleCell(3, 4, rngs=nnx.Rngs(1)))),
        [x], [("call", lambda m, x: m(x))])


ATTENTION = []
ATTENTION_INPUTS = {}

EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("ijk->", [(2, 3, 4)]),
    ("ijk->k", [(2, 3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk->...ik", [(5, 2, 3, 4), (4, 2)]),
    ("...i,i->...", [(2, 3, 4), (4,)]),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("...", [(2, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 4)]),
    ("...ij,...jk->...ik", [(1, 3, 4), (6, 4, 2)]),
    ("iij->ij", [(3, 3, 2)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("abc,cde->abde", [(2, 6, 3), (3, 4, 5)]),
    ("a b , b c -> a c", [(2, 3), (3, 4)]),
    ("ij,->ij", [(2, 3), ()]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("i,i,i->i", [(4,), (4,), (4,)]),
]


def einsum_cases():
    out = []
    for k, (spec, shapes) in enumerate(EINSUM):
        ops = [x_of(s, 100 + 10 * k + i) for i, s in enumerate(shapes)]
        out.append({"spec": spec, "operands": [result(o) for o in ops], "value": result(jnp.einsum(spec, *ops))})
    ints = [jnp.arange(6, dtype=jnp.int32).reshape(2, 3), jnp.arange(12, dtype=jnp.int32).reshape(3, 4)]
    out.append({"spec": "ij,jk->ik", "operands": [result(o) for o in ints], "value": result(jnp.einsum("ij,jk->ik", *ints))})
    return out


if __name__ == "__main__":
    data = {
        "generator": "tools/goldens/layers.py",
        "jax": jax.__version__,
        "flax": __import__("flax").__version__,
        "initializers": initializer_cases(),
        "layers": layer_cases(),
        "einsum": einsum_cases(),
        "attention": {"inputs": ATTENTION_INPUTS, "cases": ATTENTION},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n")
    print(f"wrote {OUT}")
