"""Run the five scripts on MNIST, in tinyae and in Keras, and write what "Coming from Keras" shows.

    TINYAE_MNIST=FOLDER python examples/keras/make_results.py        # about 15 minutes

For each script, two runs one after the other with the same data and hyper-parameters:
tinyae (``--figure docs/images/keras_NAME.png``) and its Keras twin (``--keras``: Keras 3
on PyTorch, as many threads as tinyae's BLAS). Each run's output goes to
``results/NAME.txt`` and ``results/NAME_keras.txt``, under the command that made it, and
``results/table.md`` puts the numbers side by side; the page includes that file
(``--table-only`` remakes it from the stored outputs). Needs the keras extra:
``pip install -e ".[keras]"``.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULTS = HERE / "results"
SCRIPTS = {  # name: (model, epochs, batch size), as the scripts run them on MNIST
    "shallow": ("784-128-784", 5, 256),
    "deep": ("784-64-32-64-784", 5, 256),
    "denoising": ("784-128-784, noise 0.5", 5, 256),
    "convolutional": ("conv 16, 8; transposed 8, 16", 2, 32),
    "variational": ("784-256-2 VAE", 5, 128),
}
ERROR = re.compile(r"test squared error per image ([0-9.]+)")
SPEED = re.compile(r"trained \d+ epochs in [0-9.]+ s \(([0-9.]+) s/epoch\)")


def run(name, keras):
    """One run; returns its output, also written to results/NAME[_keras].txt."""
    args = ["--mnist"] + (["--keras"] if keras else ["--figure",
                                                      f"docs/images/keras_{name}.png"])
    shown = ("OPENBLAS_NUM_THREADS=1 " + ("KERAS_BACKEND=torch " if keras else "")
             + f"python examples/keras/{name}.py " + " ".join(args))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "KERAS_BACKEND": "torch",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("TINYAE_FAST", None)
    print(f"$ {shown}", flush=True)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], cwd=REPO,
                            env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{shown} failed:\n{result.stdout}\n{result.stderr}")
    out = (f"$ {shown}\n{result.stdout}"
           f"(wall clock for the whole command, data loading included: {wall:.1f} s)\n")
    (RESULTS / f"{name}{'_keras' if keras else ''}.txt").write_text(out, encoding="utf-8")
    return out


def number(pattern, text):
    return pattern.search(text).group(1)


def table():
    """results/table.md from the ten results files, numbers side by side."""
    rows = ["| script | model | epochs, batch | tinyae error | Keras error | tinyae s/epoch "
            "| Keras s/epoch |", "|---|---|---|---:|---:|---:|---:|"]
    for name, (model, epochs, batch) in SCRIPTS.items():
        texts = [(RESULTS / f"{name}{suffix}.txt").read_text(encoding="utf-8")
                 for suffix in ("", "_keras")]
        errors = [number(ERROR, text) for text in texts]
        speeds = [number(SPEED, text) for text in texts]
        rows.append(f"| `{name}.py` | {model} | {epochs}, {batch} | {errors[0]} | {errors[1]} "
                    f"| {speeds[0]} | {speeds[1]} |")
    (RESULTS / "table.md").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print("\n".join(rows))


def main():
    if sys.argv[1:] == ["--table-only"]:   # the table again from the stored outputs
        return table()
    if os.environ.get("TINYAE_FAST") == "1":
        raise SystemExit("make_results.py runs on MNIST; unset TINYAE_FAST")
    if not os.environ.get("TINYAE_MNIST"):
        raise SystemExit("set TINYAE_MNIST to the folder of the four MNIST IDX files")
    RESULTS.mkdir(exist_ok=True)
    for name in SCRIPTS:
        run(name, keras=False)
        run(name, keras=True)
    table()


if __name__ == "__main__":
    main()
