"""Golden outputs of JAX's core transforms for effect-nnx's transform tests.

Re-run (needs `pip install jax`):

    python tools/goldens/transforms.py      # writes test/goldens/transforms.json

Each case records the inputs (as nested lists) and JAX's outputs; test/transforms/goldens.test.ts
computes the same function with effect-nnx's transforms and compares at float32 tolerance.
"""
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "transforms.json"
rng = np.random.default_rng(7)


def f32(shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def tolist(x):
    return np.asarray(x).tolist()


cases = {}

# Per-example gradients of a small tanh layer: loss_i = sum(tanh(x_i @ W + b) * t_i)
W, b = f32((4, 3), 0.5), f32((3,), 0.1)
X, T = f32((6, 4)), f32((6, 3))


def layer_loss(params, x, t):
    w, bb = params
    return jnp.sum(jnp.tanh(x @ w + bb) * t)


per_ex = jax.vmap(jax.grad(layer_loss), in_axes=(None, 0, 0))((W, b), X, T)
cases["per_example_grads"] = {"W": tolist(W), "b": tolist(b), "X": tolist(X), "T": tolist(T), "dW": tolist(per_ex[0]), "db": tolist(per_ex[1])}
cases["jit_vmap_grad"] = {"dW": tolist(jax.jit(jax.vmap(jax.grad(layer_loss), in_axes=(None, 0, 0)))((W, b), X, T)[0])}

# Hessian diagonal of f(x) = sum(sin(x) * x**2) + prod(x[:2])
xh = f32((5,))


def hfun(x):
    return jnp.sum(jnp.sin(x) * x ** 2) + x[0] * x[1] * x[2]


H = jax.hessian(hfun)(xh)
cases["hessian"] = {"x": tolist(xh), "H": tolist(H), "diag": tolist(jnp.diag(H))}

# grad through scan: a small RNN-like recurrence
h0, Ws, xs = f32((3,)), f32((3, 3), 0.5), f32((5, 3))


def rnn_loss(h0, w, xs):
    def step(h, x):
        h = jnp.tanh(h @ w + x)
        return h, jnp.sum(h * h)
    h, ys = lax.scan(step, h0, xs)
    return jnp.sum(h) + jnp.sum(ys)


g = jax.grad(rnn_loss, argnums=(0, 1, 2))(h0, Ws, xs)
cases["grad_scan"] = {"h0": tolist(h0), "w": tolist(Ws), "xs": tolist(xs), "value": float(rnn_loss(h0, Ws, xs)), "dh0": tolist(g[0]), "dw": tolist(g[1]), "dxs": tolist(g[2])}
g_rev = jax.grad(lambda h0, w, xs: jnp.sum(lax.scan(lambda h, x: (jnp.tanh(h @ w + x), h), h0, xs, reverse=True)[1]), argnums=(0, 1))(h0, Ws, xs)
cases["grad_scan_reverse"] = {"dh0": tolist(g_rev[0]), "dw": tolist(g_rev[1])}

# vmap with out_axes=1
A = f32((4, 2, 3))
cases["vmap_out_axes_1"] = {"A": tolist(A), "out": tolist(jax.vmap(lambda a: jnp.tanh(a) * 2.0, out_axes=1)(A))}
cases["vmap_in_axes_1_out_axes_neg1"] = {"out": tolist(jax.vmap(lambda a: jnp.sum(a, axis=0), in_axes=1, out_axes=-1)(A))}

# Control flow under vmap and grad
xs_b = f32((4, 3))
cases["cf_inputs"] = {"xs": tolist(xs_b)}


def cond_f(x):
    return lax.cond(jnp.sum(x) > 0, lambda v: jnp.sin(v) * 2.0, lambda v: jnp.cos(v) - 1.0, x)


def switch_f(x):
    i = jnp.clip(jnp.floor(jnp.sum(x)).astype(jnp.int32), -1, 3)
    return lax.switch(i, [lambda v: v * 2.0, lambda v: jnp.sin(v), lambda v: v ** 2], x)


def while_f(x):
    def c(s):
        return s[0] < 4
    def body(s):
        return (s[0] + 1, s[1] * 1.5 + jnp.sin(s[1]))
    return lax.while_loop(c, body, (0, x))[1]


def while_batched_pred_f(x):
    def c(s):
        return jnp.sum(s) < 10.0
    def body(s):
        return s * 1.3 + 1.0
    return lax.while_loop(c, body, x)


def fori_f(x):
    return lax.fori_loop(0, 3, lambda i, v: v * jnp.cos(v) + i, x)


def scan_f(x):
    return lax.scan(lambda c, xi: (c * xi + jnp.sin(c), c), x, jnp.stack([x, x * 0.5, -x]))[0]


for name, fn in [("cond", cond_f), ("switch", switch_f), ("while", while_f), ("while_batched_pred", while_batched_pred_f), ("fori", fori_f), ("scan", scan_f)]:
    cases[f"cf_vmap_{name}"] = tolist(jax.vmap(fn)(xs_b))
    if name not in ("while", "while_batched_pred"):
        cases[f"cf_grad_{name}"] = tolist(jax.vmap(jax.grad(lambda v: jnp.sum(fn(v))))(xs_b))
    cases[f"cf_jvp_{name}"] = tolist(jax.jvp(fn, (xs_b[0],), (jnp.ones(3, jnp.float32),))[1])

OUT.write_text(json.dumps({"generator": "tools/goldens/transforms.py", "jax": jax.__version__, "cases": cases}) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
