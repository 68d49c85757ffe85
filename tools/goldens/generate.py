"""Regenerates every golden file under test/goldens from JAX/Flax.

    python3 -m venv .venv && .venv/bin/pip install jax flax optax
    .venv/bin/python tools/goldens/generate.py

Each script is also runnable on its own; they are deterministic for a given JAX version.
"""
import pathlib
import runpy

HERE = pathlib.Path(__file__).resolve().parent
for script in sorted(HERE.glob("*.py")):
    if script.name not in ("generate.py", "goldens_json.py"):
        print(f"-- {script.name}")
        runpy.run_path(str(script), run_name="__main__")
