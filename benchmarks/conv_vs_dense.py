"""Convolutional against dense autoencoders on MNIST: test error, parameters, time per epoch.

The comparison asked for by the convolution issue, at the same code size:

* **dense**: 784→256→code→256→784 (ReLU hidden layer, linear code, sigmoid output);
* **conv**: 28×28×1 → Conv 3×3 16 channels, stride 2 → Conv 3×3 32 channels, stride 2
  (7×7×32) → Dense to the code → Dense back to 7×7×32 → two stride-2 transposed
  convolutions (4×4 kernels by default, 3×3 with ``--decoder-kernel 3``, which is
  ``Autoencoder.conv``'s mirror; ReLU inside, sigmoid output); see :func:`conv_model`.

Both are trained the same way: 10 epochs of Adam (lr 1e-3), batch 128, squared error
summed over the 784 pixels and averaged over the batch, float32, seed 0. The figure
reported is the **test error**: that squared error averaged over the 10,000 test images
(eval mode). Epoch times are wall-clock seconds of each training epoch (the model's
``fit`` for one epoch; the first includes Numba's compile or cache load).

Usage::

    python benchmarks/conv_vs_dense.py --mnist ../shared/data/mnist            # ~10 min
    python benchmarks/conv_vs_dense.py --mnist ../shared/data/mnist --backend numba
    python benchmarks/conv_vs_dense.py --fast      # seconds: synthetic images, 2 epochs

``--fast`` trains on 512 images for 2 epochs, from ``--mnist`` when given, else on
synthetic stroke images (shapes only: the numbers mean nothing). The full run writes
JSON to ``benchmarks/results/conv_vs_dense_mnist.json`` (``--out`` to change).
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import tinyae as ta
from tinyae import backend
from tinyae.conv import conv_transpose_output_size

HERE = Path(__file__).resolve().parent
INPUT_SHAPE = (1, 28, 28)
CHANNELS = (16, 32)
HIDDEN = 256
EPOCHS, BATCH, LR = 10, 128, 1e-3


def synthetic_strokes(n, seed=0):
    """``n`` images (n, 784) in [0, 1]: two or three blurred line strokes each.

    For ``--fast`` without MNIST files: digit-sized shapes with strokes, not digits.
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float32)
    X = np.zeros((n, 28, 28), dtype=np.float32)
    for k in range(3):
        a = rng.uniform(6, 22, size=(n, 2)).astype(np.float32)        # stroke from a ...
        b = rng.uniform(6, 22, size=(n, 2)).astype(np.float32)        # ... to b
        on = (rng.random(n) < 0.8) | (k == 0)                          # 2 or 3 strokes
        d = b - a
        t = ((rows[None] - a[:, 0, None, None]) * d[:, 0, None, None]
             + (cols[None] - a[:, 1, None, None]) * d[:, 1, None, None])
        t = np.clip(t / np.maximum((d * d).sum(axis=1), 1e-3)[:, None, None], 0, 1)
        dr = rows[None] - (a[:, 0, None, None] + t * d[:, 0, None, None])
        dc = cols[None] - (a[:, 1, None, None] + t * d[:, 1, None, None])
        X = np.maximum(X, on[:, None, None] * np.exp(-(dr * dr + dc * dc) / 2.0))
    return X.reshape(n, 784)


def load(args):
    """``(X_train, X_test, description)`` as float32 (n, 784) arrays."""
    if args.mnist:
        X_train, _ = ta.load_mnist(args.mnist, split="train", dtype=np.float32)
        X_test, _ = ta.load_mnist(args.mnist, split="test", dtype=np.float32)
        source = f"MNIST from {args.mnist}"
    elif args.fast:
        X_train, X_test = synthetic_strokes(512, seed=0), synthetic_strokes(256, seed=1)
        source = "synthetic stroke images (--fast without MNIST)"
    else:
        sys.exit("give --mnist FOLDER or set TINYAE_MNIST (or use --fast for a smoke run)")
    if args.fast:
        X_train, X_test = X_train[:512], X_test[:256]
    return X_train, X_test, f"{source}: {len(X_train)} training, {len(X_test)} test images"


def conv_model(code, decoder_kernel=4, seed=0, dtype=np.float32):
    """The convolutional autoencoder of the comparison (and of ``bench.py``'s conv rows).

    Encoder: ``Conv2D(1→16, 3, stride 2, padding 1)`` → ReLU → ``Conv2D(16→32, 3, 2, 1)``
    → ReLU → ``Flatten`` → ``Dense(1568→code)``. Decoder: ``Dense(code→1568)`` → ReLU →
    ``Reshape((32, 7, 7))`` → ``ConvTranspose2D(32→16, k, 2, 1)`` → ReLU →
    ``ConvTranspose2D(16→1, k, 2, 1)`` → sigmoid, with ``k = decoder_kernel``:

    * ``4`` (default): 7 → 14 → 28 exactly, ``(H − 1)·2 − 2 + 4 = 2H``; every output
      pixel sums 2×2 kernel taps. 115,217 parameters at code 32, the model the
      issue's PyTorch reference used;
    * ``3``: ``Autoencoder.conv((1, 28, 28), channels=[16, 32], code=code)`` itself,
      the mirror of the encoder (``output_padding=1`` to reach 14 and 28); output
      pixels sum 1, 2 or 4 taps in a checkerboard. 111,521 parameters at code 32.
    """
    if decoder_kernel == 3:
        return ta.Autoencoder.conv(INPUT_SHAPE, channels=CHANNELS, code=code, seed=seed,
                                   dtype=dtype)
    rng = np.random.default_rng(seed)
    (c1, c2), k = CHANNELS, int(decoder_kernel)
    flat = c2 * 7 * 7
    encoder = [ta.Conv2D(1, c1, 3, stride=2, padding=1, seed=rng, dtype=dtype), ta.ReLU(),
               ta.Conv2D(c1, c2, 3, stride=2, padding=1, seed=rng, dtype=dtype), ta.ReLU(),
               ta.Flatten(), ta.Dense(flat, code, "glorot", rng, dtype)]
    out = [conv_transpose_output_size(n, k, 2, 1) for n in (7, 14)]
    if out != [14, 28]:
        raise ValueError(f"decoder_kernel {k} maps 7 -> {out[0]} -> {out[1]}, not 14 -> 28; "
                         "use 3 or 4")
    decoder = [ta.Dense(code, flat, "he", rng, dtype), ta.ReLU(), ta.Reshape((c2, 7, 7)),
               ta.ConvTranspose2D(c2, c1, k, stride=2, padding=1, init="he", seed=rng,
                                  dtype=dtype), ta.ReLU(),
               ta.ConvTranspose2D(c1, 1, k, stride=2, padding=1, init="glorot", seed=rng,
                                  dtype=dtype), ta.Sigmoid()]
    return ta.Autoencoder(encoder, decoder, input_shape=INPUT_SHAPE)


def dense_model(code, seed=0, dtype=np.float32):
    """784→256→code→256→784: ReLU hidden layers, linear code, sigmoid output."""
    return ta.Autoencoder.deep([784, HIDDEN, code], hidden="relu", code="identity",
                               output="sigmoid", seed=seed, dtype=dtype)


def build(kind, code, decoder_kernel=4, seed=0):
    """The dense or the conv autoencoder with ``code`` units, float32."""
    if kind == "dense":
        return dense_model(code, seed=seed)
    return conv_model(code, decoder_kernel, seed=seed)


def describe(kind, code, decoder_kernel=4):
    if kind == "dense":
        return f"dense 784→{HIDDEN}→{code}→{HIDDEN}→784"
    return (f"conv 1×28×28 → {CHANNELS[0]}×14×14 → {CHANNELS[1]}×7×7 → {code} → "
            f"{CHANNELS[1]}×7×7 → {CHANNELS[0]}×14×14 → 1×28×28 (3×3 convolutions, "
            f"{decoder_kernel}×{decoder_kernel} transposed, all stride 2)")


def train_one(kind, code, X_train, X_test, epochs, verbose, decoder_kernel=4):
    """Train one model; its parameter count, epoch times, train loss and test error."""
    model = build(kind, code, decoder_kernel)
    opt = ta.Adam(lr=LR)
    times, losses = [], []
    for epoch in range(epochs):
        start = time.perf_counter()
        h = model.fit(X_train, loss="mse", optimizer=opt, epochs=1, batch_size=BATCH,
                      seed=epoch, verbose=0)
        times.append(time.perf_counter() - start)
        losses.append(float(h.train_loss[-1]))
        if verbose:
            print(f"  {kind:5s} code {code:2d} epoch {epoch + 1:2d}: train loss "
                  f"{losses[-1]:.3f}, {times[-1]:.1f} s", flush=True)
    start = time.perf_counter()
    test_error = float(model.reconstruction_error(X_test))
    return {"model": kind, "code": code, "architecture": describe(kind, code, decoder_kernel),
            "parameters": int(model.n_parameters()), "test_error": test_error,
            "train_loss": losses, "epoch_times": times,
            "epoch_s_median": float(np.median(times)), "train_s": float(sum(times)),
            "test_eval_s": time.perf_counter() - start}


def goal(rows):
    """The issue's goal at code 32: conv error below dense with at most 1/3 the parameters."""
    by = {(r["model"], r["code"]): r for r in rows}
    if ("conv", 32) not in by or ("dense", 32) not in by:
        return None
    conv, dense = by["conv", 32], by["dense", 32]
    lower = conv["test_error"] < dense["test_error"]
    fraction = conv["parameters"] / dense["parameters"]
    return {"conv_error": conv["test_error"], "dense_error": dense["test_error"],
            "parameter_fraction": fraction, "lower_error": lower,
            "at_most_a_third": fraction <= 1 / 3, "met": lower and fraction <= 1 / 3}


def report(res):
    print(f"\nData: {res['data']}; backend {res['backend']}, {res['epochs']} epochs, "
          f"Adam {LR}, batch {BATCH}, float32")
    print("| model | code | parameters | test error | s / epoch (median) | train s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in res["rows"]:
        print(f"| {r['model']} | {r['code']} | {r['parameters']:,} | {r['test_error']:.2f} | "
              f"{r['epoch_s_median']:.2f} | {r['train_s']:.0f} |")
    g = res["goal"]
    if g:
        print(f"\nGoal at code 32 (conv error < dense, conv parameters ≤ 1/3 of dense): "
              f"{'met' if g['met'] else 'MISSED'} — conv {g['conv_error']:.2f} vs dense "
              f"{g['dense_error']:.2f}, parameters {g['parameter_fraction']:.3f} of dense")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", default=os.environ.get("TINYAE_MNIST"),
                   help="folder with the MNIST IDX files (default $TINYAE_MNIST)")
    p.add_argument("--codes", type=int, nargs="+", default=[32, 8], help="code sizes")
    p.add_argument("--epochs", type=int, default=None, help=f"default {EPOCHS} (2 with --fast)")
    p.add_argument("--decoder-kernel", type=int, choices=[3, 4], default=4,
                   help="kernel of the conv model's transposed convolutions (see conv_model)")
    p.add_argument("--backend", choices=backend.available_backends(), default="numpy")
    p.add_argument("--fast", action="store_true", help="512 images, 2 epochs: a smoke run")
    p.add_argument("--out", default=None, help="JSON file (default benchmarks/results/...)")
    p.add_argument("--quiet", action="store_true", help="no line per epoch")
    args = p.parse_args(argv)
    epochs = args.epochs or (2 if args.fast else EPOCHS)
    ta.set_backend(args.backend)
    X_train, X_test, source = load(args)
    print(f"conv vs dense autoencoders on {source}", flush=True)
    rows = [train_one(kind, code, X_train, X_test, epochs, not args.quiet, args.decoder_kernel)
            for code in args.codes for kind in ("dense", "conv")]
    res = {"data": source, "backend": args.backend, "epochs": epochs, "batch": BATCH,
           "lr": LR, "dtype": "float32", "codes": args.codes,
           "decoder_kernel": args.decoder_kernel,
           "threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS",
                                                      "OMP_NUM_THREADS")},
           "machine": {"cpu": platform.processor() or platform.machine(),
                       "cores": os.cpu_count(), "numpy": np.__version__},
           "load_average": [round(x, 2) for x in os.getloadavg()],
           "rows": rows, "goal": goal(rows)}
    report(res)
    out = Path(args.out) if args.out else (None if args.fast else
                                           HERE / "results" / "conv_vs_dense_mnist.json")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1) + "\n")
        print(f"wrote {out}")
    return res


if __name__ == "__main__":
    main()
