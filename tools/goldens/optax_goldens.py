"""Golden values of optax and Flax NNX's training helpers for effect-nnx's ``optax`` namespace,
``nnx.Optimizer`` and ``nnx.metrics``.

Writes ``test/goldens/optax.json``, read by ``test/optax/*.test.ts`` and ``test/training/*.test.ts``:

- ``optimizers``: for each named case (an optimizer, a chain, a schedule as learning rate), the
  parameters and updates after each of several steps from fixed parameters and gradients (the
  gradients are inputs too, so the TypeScript side feeds the same ones);
- ``schedules``: each schedule's value at several steps;
- ``losses``: each loss's value and the gradient of its sum with respect to the first argument;
- ``metrics``: ``Average``, ``Accuracy``, ``Welford`` and ``MultiMetric`` after a series of updates;
- ``optimizer``: ``nnx.Optimizer`` training a small linear model (fixed weights and data) for a few
  steps under ``nnx.jit``: the loss at each step, the parameters and the step count after.

The TypeScript tests map the case names onto their own constructors. Re-run from the repository
root with a Python that has optax and Flax installed::

    python -P tools/goldens/optax_goldens.py
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
import optax  # noqa: E402
from flax import nnx  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from goldens_json import result  # noqa: E402

jax.config.update("jax_enable_x64", False)

OUT = pathlib.Path(__file__).resolve().parents[2] / "test" / "goldens" / "optax.json"
STEPS = 5


def tree_result(tree):
    """A tree's leaves in flattening order (dict keys sorted, as the TypeScript records flatten)."""
    return [result(x) for x in jax.tree.leaves(tree)]


def params0():
    return {
        "b": jnp.array([0.1, -0.2, 0.3], dtype=jnp.float32),
        "w": jnp.array([[0.5, -1.0, 2.0], [-0.25, 0.75, -1.5]], dtype=jnp.float32),
    }


def grads_at(step):
    k = jax.random.key(100 + step)
    kb, kw = jax.random.split(k)
    # Large enough that the global-norm clip of 1.0 triggers on some steps and not others.
    scale = 0.3 + 0.4 * step
    return {"b": scale * jax.random.normal(kb, (3,)), "w": scale * jax.random.normal(kw, (2, 3))}


warmup_cosine = optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, warmup_steps=2, decay_steps=6, end_value=0.01)


def optimizer_cases():
    mask_w = {"b": False, "w": True}
    return {
        "sgd": optax.sgd(0.1),
        "sgd_momentum": optax.sgd(0.1, momentum=0.9),
        "sgd_nesterov": optax.sgd(0.1, momentum=0.9, nesterov=True),
        "sgd_warmup_cosine": optax.sgd(warmup_cosine),
        "adam": optax.adam(0.01),
        "adam_nesterov": optax.adam(0.01, nesterov=True),
        "adam_eps_root": optax.adam(0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-4),
        "adam_exponential_decay": optax.adam(optax.exponential_decay(0.05, transition_steps=2, decay_rate=0.5)),
        "adamw": optax.adamw(0.01, weight_decay=0.1),
        "adamw_mask": optax.adamw(0.01, weight_decay=0.1, mask=mask_w),
        "adamw_schedule_decay": optax.adamw(0.01, weight_decay=optax.linear_schedule(0.1, 0.0, 4)),
        "rmsprop": optax.rmsprop(0.01),
        "rmsprop_centered_momentum": optax.rmsprop(0.01, decay=0.8, centered=True, momentum=0.5),
        "rmsprop_eps_outside": optax.rmsprop(0.01, eps=1e-3, eps_in_sqrt=False, initial_scale=0.1),
        "adagrad": optax.adagrad(0.1),
        "lion": optax.lion(0.001),
        "lion_smooth": optax.chain(optax.scale_by_lion(mode="smooth", smooth_beta=2.0), optax.scale_by_learning_rate(0.01)),
        "lamb": optax.lamb(0.01, weight_decay=0.01),
        "adabelief": optax.adabelief(0.01),
        "chain_clip_adam": optax.chain(optax.clip_by_global_norm(1.0), optax.adam(0.01)),
        "chain_clip_sgd": optax.chain(optax.clip(0.5), optax.sgd(0.1, momentum=0.5)),
        "piecewise_sgd": optax.sgd(optax.piecewise_constant_schedule(0.1, {2: 0.5, 4: 0.1})),
        "masked_scale": optax.chain(optax.masked(optax.scale(0.5), mask_w), optax.sgd(1.0)),
    }


def optimizers():
    out = {"params": tree_result(params0()), "grads": [tree_result(grads_at(s)) for s in range(STEPS)], "cases": {}}
    for name, tx in optimizer_cases().items():
        params = params0()
        state = tx.init(params)
        steps = []
        for s in range(STEPS):
            updates, state = tx.update(grads_at(s), state, params)
            params = optax.apply_updates(params, updates)
            steps.append({"updates": tree_result(updates), "params": tree_result(params)})
        out["cases"][name] = steps
    return out


SCHEDULE_STEPS = [0, 1, 2, 3, 5, 7, 10, 20, 100]


def schedules():
    cases = {
        "constant": optax.constant_schedule(0.3),
        "linear": optax.linear_schedule(1.0, 0.1, transition_steps=10),
        "linear_begin": optax.linear_schedule(0.5, 1.5, transition_steps=4, transition_begin=3),
        "polynomial": optax.polynomial_schedule(1.0, 0.0, power=2, transition_steps=10),
        "cosine": optax.cosine_decay_schedule(0.5, decay_steps=10),
        "cosine_alpha": optax.cosine_decay_schedule(0.5, decay_steps=10, alpha=0.1, exponent=2.0),
        "warmup_cosine": optax.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=3, decay_steps=20, end_value=0.05),
        "exponential": optax.exponential_decay(1.0, transition_steps=4, decay_rate=0.5),
        "exponential_staircase": optax.exponential_decay(1.0, transition_steps=4, decay_rate=0.5, transition_begin=2, staircase=True),
        "exponential_end": optax.exponential_decay(1.0, transition_steps=2, decay_rate=0.5, end_value=0.2),
        "exponential_growth": optax.exponential_decay(0.1, transition_steps=2, decay_rate=2.0, end_value=1.0),
        "piecewise": optax.piecewise_constant_schedule(0.1, {3: 0.5, 10: 0.2}),
        "join": optax.join_schedules([optax.constant_schedule(1.0), optax.linear_schedule(1.0, 0.0, 5)], [3]),
    }
    return {
        "steps": SCHEDULE_STEPS,
        "cases": {name: [result(jnp.asarray(s(jnp.asarray(t, dtype=jnp.int32)), dtype=jnp.float32)) for t in SCHEDULE_STEPS] for name, s in cases.items()},
    }


def losses():
    k = jax.random.key(7)
    k1, k2, k3, k4 = jax.random.split(k, 4)
    logits = 2.0 * jax.random.normal(k1, (4, 5))
    labels_int = jnp.array([0, 3, 4, 1], dtype=jnp.int32)
    labels_prob = jax.nn.softmax(jax.random.normal(k2, (4, 5)))
    preds = jax.random.normal(k3, (4, 3))
    targets = jax.random.normal(k4, (4, 3))
    # Errors around the Huber boundary but never on it (the derivative of min at a tie is a convention).
    huber_preds = jnp.array([[0.2, -1.7, 3.0], [0.95, -0.4, 1.3]], dtype=jnp.float32)
    huber_targets = jnp.zeros((2, 3), jnp.float32)
    binary_labels = jnp.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.5]], dtype=jnp.float32)
    big_logits = jnp.array([[-30.0, 0.0, 30.0], [5.0, -5.0, 0.5], [1.0, 2.0, 3.0], [-1.0, -2.0, 100.0]], dtype=jnp.float32)

    def case(f, *args):
        value = f(*args)
        g = jax.grad(lambda a: jnp.sum(f(a, *args[1:])))(args[0])
        return {"args": [result(a) for a in args], "value": result(value), "grad": result(g)}

    return {
        "softmax_cross_entropy": case(optax.softmax_cross_entropy, logits, labels_prob),
        "softmax_cross_entropy_with_integer_labels": case(optax.softmax_cross_entropy_with_integer_labels, logits, labels_int),
        "sigmoid_binary_cross_entropy": case(optax.sigmoid_binary_cross_entropy, big_logits, binary_labels),
        "l2_loss": case(optax.l2_loss, preds, targets),
        "squared_error": case(optax.squared_error, preds, targets),
        "huber_loss": case(lambda p, t: optax.huber_loss(p, t, delta=1.0), huber_preds, huber_targets),
        "huber_loss_delta": case(lambda p, t: optax.huber_loss(p, t, delta=0.5), huber_preds, huber_targets),
        "cosine_similarity": case(optax.cosine_similarity, preds, targets),
        "cosine_distance": case(lambda p, t: optax.cosine_distance(p, t, epsilon=1e-3), preds, targets),
    }


def metrics():
    avg = nnx.metrics.Average()
    avg.update(values=jnp.array([1.0, 2.0, 4.0]))
    avg.update(values=3.0)
    avg.update(values=jnp.array([[0.5, 1.5]]), mask=jnp.array([[True, False]]))
    avg_value = avg.compute()

    acc = nnx.metrics.Accuracy()
    logits = jnp.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=jnp.float32)
    labels = jnp.array([1, 0, 1, 2], dtype=jnp.int32)
    acc.update(logits=logits, labels=labels)
    acc_first = acc.compute()
    acc.update(logits=logits[:2], labels=jnp.array([0, 0], dtype=jnp.int32))
    acc_second = acc.compute()

    binary = nnx.metrics.Accuracy(threshold=0.5)
    binary.update(logits=jnp.array([0.2, 0.7, 0.5, 0.9], dtype=jnp.float32), labels=jnp.array([0, 1, 0, 0], dtype=jnp.int32))
    binary_value = binary.compute()

    welford = nnx.metrics.Welford()
    welford.update(values=jnp.array([1.0, 2.0, 3.0, 4.0]))
    welford.update(values=jnp.array([10.0, -2.0]))
    welford.update(values=5.0)
    stats = welford.compute()

    multi = nnx.MultiMetric(accuracy=nnx.metrics.Accuracy(), loss=nnx.metrics.Average("loss"))
    multi.update(logits=logits, labels=labels, loss=jnp.array(0.75))
    multi.update(logits=logits[1:], labels=labels[1:], loss=jnp.array(0.25))
    multi_value = multi.compute()
    multi.reset()
    after_reset = {"count": int(multi.loss.count[...]), "total": float(multi.loss.total[...])}

    return {
        "average": result(avg_value),
        "accuracy_first": result(acc_first),
        "accuracy_second": result(acc_second),
        "accuracy_binary": result(binary_value),
        "welford": {"mean": result(stats.mean), "standard_error_of_mean": result(stats.standard_error_of_mean), "standard_deviation": result(stats.standard_deviation)},
        "multi": {k: result(v) for k, v in multi_value.items()},
        "multi_after_reset": after_reset,
    }


class Model(nnx.Module):
    def __init__(self):
        self.kernel = nnx.Param(jnp.array([[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]], dtype=jnp.float32))
        self.bias = nnx.Param(jnp.array([0.05, -0.05], dtype=jnp.float32))
        self.count = nnx.BatchStat(jnp.array(0, dtype=jnp.int32))

    def __call__(self, x):
        self.count[...] += 1
        return x @ self.kernel[...] + self.bias[...]


def optimizer():
    x = jax.random.normal(jax.random.key(11), (8, 3))
    y = jax.random.normal(jax.random.key(12), (8, 2))
    out = {"x": result(x), "y": result(y), "cases": {}}
    for name, tx in {"adam": optax.adam(0.05), "sgd_momentum": optax.sgd(0.1, momentum=0.9), "adamw_cosine": optax.adamw(optax.cosine_decay_schedule(0.1, 5), weight_decay=0.05)}.items():
        model = Model()
        opt = nnx.Optimizer(model, tx, wrt=nnx.Param)

        @nnx.jit
        def train_step(model, opt, x, y):
            def loss_fn(model):
                return jnp.mean((model(x) - y) ** 2)

            loss, grads = nnx.value_and_grad(loss_fn)(model)
            opt.update(model, grads)
            return loss

        losses = [result(train_step(model, opt, x, y)) for _ in range(4)]
        out["cases"][name] = {
            "losses": losses,
            "kernel": result(model.kernel[...]),
            "bias": result(model.bias[...]),
            "count": int(model.count[...]),
            "step": result(opt.step[...]),
            "opt_state": tree_result(nnx.to_pure_dict(nnx.state(opt, nnx.OptState))),
        }
    return out


def main() -> None:
    data = {
        "optax_version": optax.__version__,
        "jax_version": jax.__version__,
        "optimizers": optimizers(),
        "schedules": schedules(),
        "losses": losses(),
        "metrics": metrics(),
        "optimizer": optimizer(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
