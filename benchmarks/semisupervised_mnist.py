"""What labels buy: classifier, supervised and semi-supervised autoencoders on MNIST (issue 15).

The protocol of the issue's PyTorch table, in tinyae: encoder 784-256-32 (ReLU hidden,
linear code), head 32-10, decoder 32-256-784 (ReLU, sigmoid output), Adam 1e-3,
batch 128, 3,000 steps; reconstruction = binary cross-entropy per pixel ×10, i.e.
``β = 10/784`` on tinyae's BCE (summed over the 784 pixels), and ``α = 1`` on the
cross-entropy. The labeled images are ``n`` per class, drawn with the run's seed.

Rows (each step draws its batches from the seeded Generator):

* ``classifier``: encoder + head (``β = 0``), 128 labeled images a step (all of them
  when there are fewer).
* ``supervised``: reconstruction + classification, on the labeled images only.
* ``semi``: each step, 128 images drawn from all 60,000 (label -1: reconstruction only)
  plus the labeled batch (reconstruction and classification).
* ``unsup_lr``: an Autoencoder (same encoder and decoder) on all 60,000 images, then
  softmax regression (``SoftmaxClassifier``) on the frozen, standardized codes of the
  labeled images (Adam 1e-3, 3,000 steps, batch up to 128).
* ``recipe``: ``semi`` with the input corrupted by masking noise (30 % of the pixels
  set to 0, fresh each batch; the decoder rebuilds the clean image) and the
  consistency term γ = 1 between two corrupted passes (see tinyae/supervised.py).
* ``recipe_no_recon``: the ablation, the recipe with ``β = 0``: is the decoder needed?

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/semisupervised_mnist.py            # everything
    python benchmarks/semisupervised_mnist.py --rows recipe --labels 10 --seeds 0  # one run

Results are merged into ``benchmarks/results/semisupervised_mnist.json`` (one entry per
row, labels per class and seed), so runs can be split and resumed.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import tinyae as ta
from tinyae.supervised import SupervisedAutoencoder, hide_labels

ROWS = ("classifier", "supervised", "semi", "unsup_lr", "recipe", "recipe_no_recon")
SIZES = [784, 256, 32]
BETA = 10 / 784  # "cross-entropy per pixel ×10" on a BCE summed over 784 pixels
RECIPE = dict(noise=("masking", 0.3), consistency=1.0)
RESULTS = Path(__file__).resolve().parent / "results" / "semisupervised_mnist.json"


def train_steps(model, X_lab, y_lab, X_all, steps, rng, batch=128, loss="bce"):
    """``steps`` Adam steps; each batch: up to 128 labeled rows (+ 128 unlabeled if X_all)."""
    optimizer = ta.Adam(1e-3)
    model.train()
    n_lab = len(X_lab)
    for _ in range(steps):
        li = rng.choice(n_lab, min(batch, n_lab), replace=False)
        x, y = X_lab[li], y_lab[li]
        if X_all is not None:
            ui = rng.integers(0, len(X_all), batch)
            x = np.concatenate([X_all[ui], x])
            y = np.concatenate([np.full(batch, -1), y])
        model.loss_and_backward(x, y, loss)
        optimizer.step(model.parameters())
    model.eval()
    return model


def run(row, per_class, seed, X, y, X_test, y_test, steps):
    rng = np.random.default_rng(seed)
    y_few = hide_labels(y, per_class=per_class, seed=seed)
    lab = np.flatnonzero(y_few >= 0)
    X_lab, y_lab = X[lab], y[lab]
    if row == "unsup_lr":
        ae = ta.Autoencoder.deep(SIZES, seed=seed, dtype=X.dtype)
        optimizer = ta.Adam(1e-3)
        ae.train()
        for _ in range(steps):
            x = X[rng.integers(0, len(X), 128)]
            ae.loss_and_backward(x, x, "bce")
            optimizer.step(ae.parameters())
        Z, Z_test = ae.encode(X), ae.encode(X_test)
        mean, std = Z.mean(axis=0), Z.std(axis=0) + 1e-8
        clf = ta.SoftmaxClassifier(SIZES[-1], 10, seed=seed, dtype=X.dtype)
        Z_lab = (Z[lab] - mean) / std
        optimizer = ta.Adam(1e-3)
        clf.train()
        for _ in range(steps):
            li = rng.choice(len(lab), min(128, len(lab)), replace=False)
            clf.loss_and_backward(Z_lab[li], y_lab[li])
            optimizer.step(clf.parameters())
        return clf.score((Z_test - mean) / std, y_test)
    kwargs = dict(alpha=1.0, beta=0.0 if row in ("classifier", "recipe_no_recon") else BETA,
                  seed=seed, dtype=X.dtype)
    if row.startswith("recipe"):
        kwargs.update(RECIPE)
    model = SupervisedAutoencoder.deep(SIZES, 10, **kwargs)
    X_all = X if row in ("semi", "recipe", "recipe_no_recon") else None
    train_steps(model, X_lab, y_lab, X_all, steps, rng)
    return model.score(X_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=os.environ.get("TINYAE_MNIST",
                                                          "/work/shared/data/mnist"))
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--labels", default="10,100", help="labels per class (10: 100 in all)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = args.rows.split(",")
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {list(ROWS)}")
    (X, y), (X_test, y_test) = ta.load_mnist(args.mnist, split="both", dtype=np.float32)
    results = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
    results["protocol"] = {
        "sizes": SIZES, "head": [SIZES[-1], 10], "optimizer": "Adam(lr=1e-3)", "batch": 128,
        "steps": args.steps, "beta": BETA, "alpha": 1.0, "recipe": {
            "noise": list(RECIPE["noise"]), "consistency": RECIPE["consistency"]},
        "dtype": "float32", "command": "OPENBLAS_NUM_THREADS=1 python "
                                       "benchmarks/semisupervised_mnist.py"}
    for per_class in (int(n) for n in args.labels.split(",")):
        for row in rows:
            for seed in (int(s) for s in args.seeds.split(",")):
                start = time.perf_counter()
                acc = run(row, per_class, seed, X, y, X_test, y_test, args.steps)
                seconds = time.perf_counter() - start
                results["runs"] = [r for r in results["runs"] if (r["row"], r["labels"],
                                   r["seed"]) != (row, 10 * per_class, seed)]
                results["runs"].append({"row": row, "labels": 10 * per_class, "seed": seed,
                                        "accuracy": acc, "seconds": round(seconds, 1),
                                        "steps": args.steps})
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=1))
                print(f"{row:<11} {10 * per_class:>5} labels  seed {seed}  "
                      f"accuracy {acc:.4f}  ({seconds:.0f} s)", flush=True)
    summary = {}
    for r in results["runs"]:
        summary.setdefault(f"{r['row']} {r['labels']}", []).append(r["accuracy"])
    print("\nrow         labels   mean ± std over seeds")
    for key, accs in sorted(summary.items()):
        print(f"{key:<20} {100 * np.mean(accs):5.1f} ± {100 * np.std(accs):.1f}  "
              f"(n={len(accs)})")


if __name__ == "__main__":
    main()
