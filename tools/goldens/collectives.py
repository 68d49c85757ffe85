"""Golden outputs of the collectives (lax.psum, pmean, pmax, pmin, all_gather, axis_index, ppermute,
psum_scatter, all_to_all) under vmap with an axis name, pmap and shard_map, with gradients taken
inside and outside the mapped function, and Flax's BatchNorm synchronised over a vmapped axis.

    python tools/goldens/collectives.py   # writes test/goldens/collectives.json

Four virtual CPU devices are asked for so that pmap and shard_map run. Each case is a name and
JAX's result; test/transforms/collectives.test.ts computes the same-named case with effect-nnx.
"""
import json
import os
import pathlib
import sys

os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402
from jax.sharding import Mesh, PartitionSpec as P  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "collectives.json"

if jax.device_count() < 4:
    # XLA reads the flag when jax first starts; a process that imported jax earlier has fewer devices.
    sys.exit("collectives.py needs 4 devices: run it in a fresh process (python tools/goldens/collectives.py)")

x42 = jnp.arange(8.0, dtype=jnp.float32).reshape(4, 2)
x44 = jnp.arange(16.0, dtype=jnp.float32).reshape(4, 4)
x48 = jnp.arange(32.0, dtype=jnp.float32).reshape(4, 8)
x443 = jnp.arange(48.0, dtype=jnp.float32).reshape(4, 4, 3)
x23 = jnp.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]], dtype=jnp.float32)
v4 = jnp.array([0.5, -1.0, 2.0, 1.5], dtype=jnp.float32)
w4 = jnp.array([1.0, 2.0, -1.0, 0.5], dtype=jnp.float32)


def vm(f):
    return jax.vmap(f, axis_name="i")


cases = {
    "psum": vm(lambda v: lax.psum(v, "i"))(x42),
    "pmean": vm(lambda v: lax.pmean(v, "i"))(x42),
    "pmax": vm(lambda v: lax.pmax(v, "i"))(x23.T),
    "pmin": vm(lambda v: lax.pmin(v, "i"))(x23.T),
    "psum int": vm(lambda v: lax.psum(v, "i"))(jnp.arange(4)),
    "psum bool": vm(lambda v: lax.psum(v, "i"))(jnp.arange(4) > 1),
    "pmean int": vm(lambda v: lax.pmean(v, "i"))(jnp.arange(4)),
    "psum of a constant": vm(lambda v: lax.psum(1.0, "i") + 0 * v)(v4),
    "psum pytree": vm(lambda v: lax.psum({"a": v, "b": [v * 2]}, "i")["b"][0])(v4),
    "allGather": vm(lambda v: lax.all_gather(v, "i"))(x42),
    "allGather axis 1": vm(lambda v: lax.all_gather(v, "i", axis=1))(x42),
    "allGather tiled": vm(lambda v: lax.all_gather(v, "i", tiled=True))(x42),
    "axisIndex": vm(lambda v: lax.axis_index("i"))(x42),
    "ppermute cycle": vm(lambda v: lax.ppermute(v, "i", [(0, 1), (1, 2), (2, 3), (3, 0)]))(x42),
    "ppermute partial (pmap)": jax.pmap(lambda v: lax.ppermute(v, "i", [(0, 1), (1, 2)]), axis_name="i")(x42),
    "psumScatter": vm(lambda v: lax.psum_scatter(v, "i"))(x44),
    "psumScatter tiled": vm(lambda v: lax.psum_scatter(v, "i", tiled=True))(x48),
    "allToAll 0 0": vm(lambda v: lax.all_to_all(v, "i", 0, 0))(x44),
    "allToAll 0 1": vm(lambda v: lax.all_to_all(v, "i", 0, 1))(x443),
    "allToAll 1 0": vm(lambda v: lax.all_to_all(v, "i", 1, 0))(jnp.transpose(x443, (0, 2, 1))[:, :3, :]),
    "pmap pmean": jax.pmap(lambda v: lax.pmean(v, "i"), axis_name="i")(x42),
    "nested psum outer": jax.vmap(jax.vmap(lambda v: lax.psum(v, "i"), axis_name="j"), axis_name="i")(x23),
    "nested psum inner": jax.vmap(jax.vmap(lambda v: lax.psum(v, "j"), axis_name="j"), axis_name="i")(x23),
    "nested psum both": jax.vmap(jax.vmap(lambda v: lax.psum(v, ("i", "j")), axis_name="j"), axis_name="i")(x23),
    "nested axisIndex": jax.vmap(jax.vmap(lambda v: lax.axis_index("i") * 10 + lax.axis_index("j"), axis_name="j"), axis_name="i")(x23),
    "nested allGather outer": jax.vmap(jax.vmap(lambda v: lax.all_gather(v, "i"), axis_name="j"), axis_name="i")(x23),
    "grad inside psum": vm(jax.grad(lambda v: lax.psum(v ** 2, "i")))(v4),
    "grad inside pmean": vm(jax.grad(lambda v: lax.pmean(v ** 2, "i")))(v4),
    "grad inside allGather": vm(jax.grad(lambda v: jnp.sum(lax.all_gather(v, "i") * w4)))(v4),
    "grad inside ppermute": vm(jax.grad(lambda v: lax.ppermute(v, "i", [(0, 1), (1, 2), (2, 3), (3, 0)]) * 3.0))(v4),
    "grad inside psumScatter": vm(jax.grad(lambda v: jnp.sum(lax.psum_scatter(v, "i") * v)))(x44),
    "grad inside allToAll (pmap)": jax.pmap(jax.grad(lambda v: jnp.sum(lax.all_to_all(v, "i", 0, 0) * jnp.arange(4.0))), axis_name="i")(x44),
    "grad outside psum": jax.grad(lambda x: jnp.sum(vm(lambda v: lax.psum(v ** 2, "i"))(x) * w4))(v4),
    "grad outside pmax": jax.grad(lambda x: jnp.sum(vm(lambda v: jnp.sin(v) * lax.pmean(v, "i"))(x)))(v4),
    "jvp inside psum": vm(lambda v: jax.jvp(lambda u: lax.psum(u ** 2, "i"), (v,), (jnp.float32(1.0),))[1])(v4),
    "grad of pmap pmean": jax.grad(lambda x: jnp.sum(jax.pmap(lambda v: lax.pmean(v ** 3, "i"), axis_name="i")(x) * w4))(v4),
}

mesh = Mesh(np.array(jax.devices()[:4]), ("x",))
cases["shardMap pmean"] = jax.shard_map(lambda b: b - lax.pmean(b, "x"), mesh=mesh, in_specs=P("x"), out_specs=P("x"))(jnp.arange(16.0, dtype=jnp.float32).reshape(8, 2))
cases["shardMap axisIndex"] = jax.shard_map(lambda b: b * 0 + lax.axis_index("x"), mesh=mesh, in_specs=P("x"), out_specs=P("x"))(jnp.zeros(8, jnp.int32))
mesh2 = Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("a", "b"))
cases["shardMap 2x2 psum a"] = jax.shard_map(lambda b: lax.psum(b, "a"), mesh=mesh2, in_specs=P("a", "b"), out_specs=P("a", "b"))(jnp.arange(16.0, dtype=jnp.float32).reshape(4, 4))
cases["shardMap 2x2 psum both"] = jax.shard_map(lambda b: lax.psum(b, ("a", "b")), mesh=mesh2, in_specs=P("a", "b"), out_specs=P("a", "b"))(jnp.arange(16.0, dtype=jnp.float32).reshape(4, 4))

# Flax's BatchNorm with axis_name averages its batch statistics over the mapped axis too.
from flax import nnx  # noqa: E402

bn = nnx.BatchNorm(3, axis_name="batch", rngs=nnx.Rngs(0))
bn_x = (jnp.arange(24.0, dtype=jnp.float32).reshape(4, 2, 3) ** 1.5) / 10
cases["BatchNorm axisName output"] = nnx.vmap(lambda m, v: m(v), in_axes=(None, 0), axis_name="batch")(bn, bn_x)
cases["BatchNorm axisName mean"] = bn.mean[...]
cases["BatchNorm axisName var"] = bn.var[...]

errors = {}
for name, f in [("unbound outside", lambda: lax.psum(1.0, "j")), ("unbound inside", lambda: vm(lambda v: lax.psum(v, "j"))(x42))]:
    try:
        f()
    except NameError as e:
        errors[name] = f"{type(e).__name__}: {e}"

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "tools/goldens/collectives.py", "jax": jax.__version__, "cases": {k: result(v) for k, v in cases.items()}, "errors": errors}, indent=None, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
