"""Golden values of Flax NNX's LoRA layers and PReLU (src/layers/LoRA.ts): each layer's initial
parameters for a fixed ``nnx.Rngs`` seed (``nnx.state`` flattened, paths joined by ``.``), an input
and the output.

    python tools/goldens/lora.py   # writes test/goldens/lora.json
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402

jax.config.update("jax_threefry_partitionable", True)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "lora.json"
rng = np.random.default_rng(20261206)


def flat_state(module):
    out = {}
    for path, v in nnx.to_flat_state(nnx.state(module)):
        out[".".join(str(p) for p in path)] = {"kind": type(v).__name__, **result(v[...])}
    return out


def entry(name, module, x):
    return {"name": name, "params": flat_state(module), "input": result(x), "output": result(module(x))}


x53 = jnp.asarray(np.round(rng.uniform(-2, 2, size=(5, 3)), 3), dtype=jnp.float32)
x243 = jnp.asarray(np.round(rng.uniform(-2, 2, size=(2, 4, 3)), 3), dtype=jnp.float32)
cases = []
cases.append(entry("LoRA", nnx.LoRA(3, 2, 4, rngs=nnx.Rngs(0)), x53))
rngs = nnx.Rngs(params=3)
base = nnx.Linear(3, 4, rngs=rngs)
cases.append(entry("LoRA base normal b", nnx.LoRA(3, 2, 4, base_module=base, b_initializer=jax.nn.initializers.normal(0.5), rngs=rngs), x53))
cases.append(entry("LoRALinear", nnx.LoRALinear(3, 4, lora_rank=2, b_initializer=jax.nn.initializers.normal(0.5), rngs=nnx.Rngs(1)), x243))
cases.append(entry("LoRALinear no bias rank 1", nnx.LoRALinear(3, 2, lora_rank=1, use_bias=False, b_initializer=jax.nn.initializers.normal(1.0), rngs=nnx.Rngs(7)), x53))
cases.append(entry("PReLU", nnx.PReLU(), x53))
cases.append(entry("PReLU 0.25", nnx.PReLU(0.25), x243))

OUT.write_text(json.dumps({"generator": "tools/goldens/lora.py", "jax": jax.__version__, "cases": cases}, separators=(",", ":"), allow_nan=False) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
