"""What the five "Coming from Keras" scripts share: arguments, data, the report.

Fast mode (the default, and always under ``TINYAE_FAST=1``, as in the tests): the
1,797 built-in 8×8 digits, 20% held out, a few seconds per script. MNIST mode
(``--mnist FOLDER``, or ``--mnist`` with ``TINYAE_MNIST=FOLDER``): the 60,000
training and 10,000 test images of MNIST, 28×28, as in the Keras tutorials.

``--keras`` runs the script's Keras twin instead of its tinyae code: the snippet shown on
the "Coming from Keras" page, on the same data with the same hyper-parameters, in Keras 3
on its PyTorch backend (``pip install -e ".[keras]"``; no TensorFlow).
"""

import argparse
import os
import time
from contextlib import contextmanager

import numpy as np

import tinyae as ta
from tinyae import plots


def parse(description, fast_epochs, mnist_epochs):
    """The command line of every script: --mnist [FOLDER], --epochs, --figure."""
    parser = argparse.ArgumentParser(description=description.split("\n")[0])
    parser.add_argument("--mnist", nargs="?", const="", default=None, metavar="FOLDER",
                        help="train on MNIST from FOLDER (default: $TINYAE_MNIST) instead of "
                             "the built-in 8×8 digits")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"default {fast_epochs} on the digits, {mnist_epochs} on MNIST")
    parser.add_argument("--figure", default=None, metavar="PNG",
                        help="save a figure of the test images and what the model made of them")
    parser.add_argument("--keras", action="store_true",
                        help="run the Keras twin (Keras 3, PyTorch backend) instead of tinyae")
    args = parser.parse_args()
    if os.environ.get("TINYAE_FAST") == "1" and args.mnist is not None:
        parser.error("--mnist and TINYAE_FAST=1 contradict each other")
    args.full = args.mnist is not None
    if args.epochs is None:
        args.epochs = mnist_epochs if args.full else fast_epochs
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    return args


def load(args):
    """``(X_train, X_test, side)``: flat float32 images in [0, 1], side 28 or 8."""
    if args.full:
        (X_train, _), (X_test, _) = ta.load_mnist(args.mnist or None, split="both")
        side = 28
    else:
        X, _ = ta.load_digits()
        X_train, X_test = ta.train_test_split(X.astype(np.float32), test_size=0.2, seed=0)
        side = 8
    print(f"data: {'MNIST' if args.full else 'built-in digits'}, {len(X_train)} training and "
          f"{len(X_test)} test images of {side}×{side} pixels")
    return X_train, X_test, side


def train(model, X_train, X_test, args, batch_size, **fit_args):
    """``model.fit`` as Keras's ``fit(x, x, epochs, batch_size, validation_data)``; timed."""
    start = time.perf_counter()
    history = model.fit(X_train, optimizer=ta.Adam(1e-3), epochs=args.epochs,
                        batch_size=batch_size, validation_data=X_test, verbose=0,
                        seed=0, **fit_args)
    seconds = time.perf_counter() - start
    for epoch, (train_loss, val_loss) in enumerate(zip(history.train_loss, history.val_loss), 1):
        print(f"epoch {epoch:3d}  loss {train_loss:9.4f}  val_loss {val_loss:9.4f}")
    print(f"trained {args.epochs} epochs in {seconds:.1f} s ({seconds / args.epochs:.2f} s/epoch)")
    return history


def report(name, error, X_test, baseline_of=None):
    """Print the test error per image and per pixel, and check it beats the mean image.

    ``error`` is tinyae's squared error per image (summed over the pixels); Keras's
    ``mse`` is the same averaged over the pixels, so it is ``error / D``.
    """
    D = X_test.shape[1]
    target = X_test if baseline_of is None else baseline_of
    mean_image = float(np.mean(np.sum((target - target.mean(axis=0)) ** 2, axis=1)))
    print(f"{name}: test squared error per image {error:.3f} "
          f"(per pixel, as Keras's mse reports it: {error / D:.5f}); "
          f"predicting the mean image: {mean_image:.3f}")
    assert np.isfinite(error) and error < mean_image, \
        f"{name}: the model ({error:.3f}) does no better than the mean image ({mean_image:.3f})"


def save_rows(path, rows, labels, side, title):
    """Test images and what the model made of them, one row each (if ``path`` is given)."""
    if path:
        plots.plot_reconstructions(rows[0], rows[1:], n=10, image_shape=(side, side),
                                   row_labels=labels, title=title, path=path)
        print(f"wrote {path}")


def keras_backend():
    """Keras 3 on PyTorch, seeded, using as many threads as tinyae's BLAS is given."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
        import torch
    except ModuleNotFoundError as error:
        raise SystemExit(f"--keras needs {error.name}: pip install -e '.[keras]' (Keras 3 and "
                         "the CPU build of PyTorch)") from None
    if keras.backend.backend() != "torch":
        raise SystemExit(f"--keras runs on the PyTorch backend; KERAS_BACKEND is "
                         f"{keras.backend.backend()!r}")
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    keras.utils.set_random_seed(0)
    print(f"Keras {keras.__version__} on PyTorch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s)")
    return keras


@contextmanager
def timed(args):
    """Time a Keras snippet (build, compile, fit) as ``train`` times tinyae's fit."""
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    print(f"trained {args.epochs} epochs in {seconds:.1f} s ({seconds / args.epochs:.2f} s/epoch)")


def squared_error(X_hat, X):
    """Squared error summed over the pixels, averaged over the images (tinyae's ``mse``)."""
    X_hat = np.asarray(X_hat, dtype=np.float64).reshape(len(X), -1)
    return float(np.mean(np.sum((X_hat - X.reshape(len(X), -1)) ** 2, axis=1)))
