"""The ``tinyae`` command: ``train``, ``reconstruct``, ``encode``, ``sample``, ``check``.

``tinyae train`` with no arguments trains the shallow autoencoder
x̂ = σ(W2·σ(W1·x + b1) + b2) (ReLU hidden units, 16-number code) on the
built-in digits, compares it with PCA at the same code size, and writes the
model, ``metrics.json`` and pictures to a new folder under ``runs/``.
The variants: ``--noise KIND:LEVEL`` (denoising), ``--sparsity RHO:BETA``,
``--l1 LAMBDA`` and ``--weight-decay LAMBDA`` (sparse), ``--variational`` (VAE);
``tinyae sample MODEL N OUT.png`` draws new images from a variational model.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from .datasets import load_array, load_digits, load_mnist, train_test_split
from .errors import DivergenceError, TinyAEError

ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "identity"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _fraction(text):
    value = _positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def _labeled_fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}") \
            from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 32 or 256,64, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer sizes, got {text!r}")
    return sizes


def _noise(text):
    kind, _, level = text.partition(":")
    kinds = ("gaussian", "masking", "salt_pepper")
    if kind not in kinds:
        raise argparse.ArgumentTypeError(f"expected KIND:LEVEL with KIND one of {kinds}, "
                                         f"e.g. gaussian:0.3, got {text!r}")
    try:
        return kind, float(level or 0.2)
    except ValueError:
        raise argparse.ArgumentTypeError(f"noise level must be a number, got {level!r}") from None


def _nonnegative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value < np.inf:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _sparsity(text):
    rho, sep, beta = text.partition(":")
    try:
        rho, beta = float(rho), float(beta) if sep else 3.0
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected RHO:BETA such as 0.05:3, got {text!r}") from None
    if not 0 < rho < 1 or not 0 <= beta < np.inf:
        raise argparse.ArgumentTypeError(
            f"expected RHO:BETA with RHO in (0, 1) and BETA >= 0, such as 0.05:3, got {text!r}")
    return rho, beta


def _dropout(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}") \
            from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def build_parser():
    parser = _Parser(prog="tinyae", description="Autoencoders written by hand in NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train an autoencoder and write model, metrics, pictures",
                       description="Train an autoencoder; with no options, the shallow model "
                       "on the built-in 8x8 digits (well under a minute).")
    t.add_argument("--data", default="digits",
                   help="'digits' (built in), 'mnist:FOLDER' (IDX files), or a .npy/.npz/.csv "
                   "file of shape (n, d) (default: digits)")
    t.add_argument("--code", type=_positive_int, default=16, help="code size (default 16)")
    t.add_argument("--hidden-sizes", type=_sizes, default=[],
                   help="hidden layers between input and code for a deep model, e.g. 32 or "
                   "256,64 (default: none, the shallow model)")
    t.add_argument("--activation", choices=ACTIVATIONS, default=None,
                   help="hidden activation (default relu; sigmoid for a shallow --sparsity "
                   "model)")
    t.add_argument("--output", choices=["sigmoid", "identity"], default="sigmoid",
                   help="output activation (default sigmoid)")
    t.add_argument("--loss", choices=["bce", "mse"], default="bce",
                   help="training loss (default bce: cross-entropy, fused with the sigmoid)")
    t.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (default 3e-3 for adam, 0.05 for sgd)")
    t.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    t.add_argument("--epochs", type=_positive_int, default=100)
    t.add_argument("--batch-size", type=_positive_int, default=32)
    t.add_argument("--noise", type=_noise, default=None, metavar="KIND:LEVEL",
                   help="denoising: corrupt inputs with gaussian, masking or salt_pepper noise "
                   "(fresh each batch); the metrics then report the error on noisy test images")
    t.add_argument("--sparsity", type=_sparsity, default=None, metavar="RHO:BETA",
                   help="sparse autoencoder: KL penalty pulling each code unit's mean "
                   "activation to RHO, with weight BETA (e.g. 0.05:3); makes the code sigmoid")
    t.add_argument("--l1", type=_nonnegative_float, default=None, metavar="LAMBDA",
                   help="L1 penalty LAMBDA on the code activations")
    t.add_argument("--weight-decay", type=_nonnegative_float, default=None, metavar="LAMBDA",
                   help="L2 weight decay (LAMBDA/2)·ΣW² on the weight matrices")
    t.add_argument("--conv", action="store_true",
                   help="a convolutional autoencoder (square gray images: digits, MNIST)")
    t.add_argument("--channels", type=_sizes, default=[16, 32],
                   help="with --conv: channels of each convolution (default 16,32)")
    t.add_argument("--batchnorm", action="store_true",
                   help="BatchNorm after each hidden layer of a deep model (--hidden-sizes)")
    t.add_argument("--dropout", type=_dropout, default=0.0, metavar="P",
                   help="Dropout with probability P after each hidden layer of a deep model")
    t.add_argument("--variational", action="store_true",
                   help="train a variational autoencoder (ELBO loss; hidden layers from "
                   "--hidden-sizes, default 64); then try tinyae sample")
    t.add_argument("--labels", action="store_true",
                   help="supervised autoencoder: a classifier head on the code, trained with "
                   "the reconstruction; writes the test accuracy (digits or MNIST)")
    t.add_argument("--alpha", type=_positive_float, default=None, metavar="A",
                   help="with --labels: weight A of the classification term (default 1)")
    t.add_argument("--labeled-fraction", type=_labeled_fraction, default=None, metavar="F",
                   help="with --labels: keep the labels of a fraction F in (0, 1] of the "
                   "training images, the rest unlabeled (semi-supervised; default 1)")
    t.add_argument("--consistency", type=_positive_float, default=None, metavar="G",
                   help="with --labels and --noise: weight G of the consistency between two "
                   "noisy passes (the semi-supervised recipe of lesson 20)")
    t.add_argument("--test-size", type=_fraction, default=0.2,
                   help="held-out fraction (default 0.2; MNIST uses its own test set)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    t.add_argument("--out", type=Path, default=None,
                   help="output folder (default: a new runs/<data>-N folder)")
    t.add_argument("--overwrite", action="store_true",
                   help="allow writing into a folder that already holds a model")
    t.add_argument("--backend", choices=["numpy", "numba"], default=None,
                   help="compute backend (default: $TINYAE_BACKEND or numpy); numba needs "
                   "pip install -e '.[fast]'")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.set_defaults(func=cmd_train)

    for name, what in (("reconstruct", "reconstructions x̂"), ("encode", "codes z")):
        p = sub.add_parser(name, help=f"apply a saved model: write the {what} of a .npy file")
        p.add_argument("model", type=Path, help="a model saved by tinyae train (.npz)")
        p.add_argument("input", type=Path, help="a .npy/.npz/.csv file of shape (n, d)")
        p.add_argument("output", type=Path, help="where to write the result (.npy)")
        p.set_defaults(func=cmd_apply, what=name)

    s = sub.add_parser("sample", help="draw new images from a variational model",
                       description="Decode N codes drawn from the prior N(0, I) of a model "
                       "trained with tinyae train --variational.")
    s.add_argument("model", type=Path, help="a variational model saved by tinyae train")
    s.add_argument("n", type=_positive_int, metavar="N", help="number of images")
    s.add_argument("output", type=Path, help="OUTPUT.png (a grid of images) or OUTPUT.npy")
    s.add_argument("--seed", type=int, default=0, help="seed of the codes drawn (default 0)")
    s.add_argument("--ncols", type=_positive_int, default=10, help="images per row (png)")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("export", help="write a saved model's weights to a .safetensors file "
                       "for PyTorch",
                       description="Write the weights of a saved model to OUT.safetensors under "
                       "the names of PyTorch's state_dict (tinyae.to_torch), with the "
                       "architecture in the file's metadata. Needs pip install safetensors.")
    e.add_argument("model", type=Path, help="a model saved by tinyae train (.npz)")
    e.add_argument("output", type=Path, help="OUT.safetensors")
    e.set_defaults(func=cmd_export)

    c = sub.add_parser("check", help="grade a gradient exercise: tinyae check FILE.py")
    c.add_argument("args", nargs=argparse.REMAINDER)
    c.set_defaults(func=cmd_check)
    return parser


def main(argv=None):
    """Entry point of the ``tinyae`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except DivergenceError as exc:
        print(f"tinyae: {exc}", file=sys.stderr)
        return 1
    except (TinyAEError, FileNotFoundError, FileExistsError, ValueError, TypeError) as exc:
        print(f"tinyae {args.command}: error: {exc}", file=sys.stderr)
        return 2


# ----- tinyae train ----------------------------------------------------------------------
def load_data(spec, test_size, seed, dtype):
    """``(X_train, y_train, X_test, y_test, image_shape, name)`` for a ``--data`` value."""
    if spec == "digits":
        X, y = load_digits(dtype=dtype)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed)
        return X_train, y_train, X_test, y_test, (8, 8), "digits"
    if spec.startswith("mnist:"):
        (X_train, y_train), (X_test, y_test) = load_mnist(spec[6:], split="both", dtype=dtype)
        return X_train, y_train, X_test, y_test, (28, 28), "mnist"
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"--data {spec!r}: expected 'digits', 'mnist:FOLDER' or an "
                                "existing .npy/.npz/.csv file")
    X = load_array(path, dtype=dtype)
    X_train, X_test = train_test_split(X, test_size=test_size, seed=seed)
    side = int(round(np.sqrt(X.shape[1])))
    shape = (side, side) if side * side == X.shape[1] else None
    return X_train, None, X_test, None, shape, path.stem


def _output_folder(out, name, overwrite):
    if out is None:
        n = 1
        while Path("runs", f"{name}-{n}").exists():
            n += 1
        out = Path("runs", f"{name}-{n}")
    elif (out / "model.npz").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a model; choose another --out or pass "
                              "--overwrite")
    out.mkdir(parents=True, exist_ok=True)
    return out


def build_model(args, n_inputs, image_shape=None):
    """The model the ``train`` options describe: plain, denoising, sparse, variational, conv."""
    from .model import Autoencoder
    from .vae import VariationalAutoencoder

    penalized = args.sparsity or args.l1 is not None or args.weight_decay is not None
    if (args.batchnorm or args.dropout) and not args.hidden_sizes and not args.conv:
        raise ValueError("--batchnorm and --dropout go between hidden layers: give "
                         "--hidden-sizes too (e.g. --hidden-sizes 32)")
    if args.conv:
        if args.variational or penalized or args.hidden_sizes or image_shape is None:
            raise ValueError("--conv trains a plain convolutional autoencoder on square gray "
                             "images; it does not combine with --variational, --sparsity, "
                             "--l1, --weight-decay or --hidden-sizes")
        H, W = image_shape
        strides = [1 if i == 0 and H <= 8 else 2 for i in range(len(args.channels))]
        model = Autoencoder.conv((1, H, W), channels=args.channels, code=args.code,
                                 strides=strides, hidden=args.activation or "relu",
                                 output=args.output, seed=args.seed, dtype=args.dtype)
        return model, [n_inputs, *(f"conv{c}" for c in args.channels), args.code]
    if args.variational:
        if penalized:
            raise ValueError("--sparsity, --l1 and --weight-decay apply to the plain "
                             "autoencoder, not to --variational")
        sizes = [n_inputs, *(args.hidden_sizes or [64]), args.code]
        return VariationalAutoencoder.deep(sizes, hidden=args.activation or "relu",
                                           output=args.output, seed=args.seed,
                                           dtype=args.dtype), sizes
    sizes = [n_inputs, *args.hidden_sizes, args.code]
    penalties = dict(sparsity=args.sparsity, l1=args.l1, weight_decay=args.weight_decay)
    if args.hidden_sizes:
        code = "sigmoid" if args.sparsity else "identity"
        model = Autoencoder.deep(sizes, hidden=args.activation or "relu", output=args.output,
                                 code=code, seed=args.seed, dtype=args.dtype,
                                 batchnorm=args.batchnorm, dropout=args.dropout, **penalties)
    else:
        activation = args.activation or ("sigmoid" if args.sparsity else "relu")
        if args.sparsity and activation != "sigmoid":
            raise ValueError(f"--sparsity needs a sigmoid code, but --activation is "
                             f"{activation}: drop --activation or use --activation sigmoid")
        model = Autoencoder.shallow(n_inputs, args.code, hidden=activation,
                                    output=args.output, seed=args.seed, dtype=args.dtype,
                                    **penalties)
    return model, sizes


def cmd_train(args):
    from . import plots
    from .backend import set_backend

    if args.backend:
        set_backend(args.backend)
    from .cli_supervised import check_options, train_supervised
    from .datasets import add_noise
    from .optim import SGD, Adam
    from .pca import PCA

    check_options(args)
    X_train, y_train, X_test, y_test, shape, name = load_data(
        args.data, args.test_size, args.seed, args.dtype)
    if args.labels:
        out = _output_folder(args.out, name, args.overwrite)
        return train_supervised(args, X_train, y_train, X_test, y_test, shape, name, out)
    model, sizes = build_model(args, X_train.shape[1], shape)
    out = _output_folder(args.out, name, args.overwrite)
    if args.optimizer == "adam":
        optimizer = Adam(lr=args.lr or 3e-3)
    else:
        optimizer = SGD(lr=args.lr or 0.05, momentum=args.momentum)
    variational = args.variational
    say = (lambda *a: None) if args.quiet else print
    say(f"data: {name}, {len(X_train)} training and {len(X_test)} test images of "
        f"{X_train.shape[1]} pixels")
    kind = "variational autoencoder, " if variational else ""
    extras = "".join(f"; {p!r}" for p in getattr(model, "penalties", []))
    say(f"model: {kind}{' -> '.join(map(str, sizes + sizes[-2::-1]))}, "
        f"{model.n_parameters():,} parameters; {args.loss} loss{extras}, {optimizer!r}, "
        f"{args.epochs} epochs")
    start = time.perf_counter()
    history = model.fit(X_train, loss=args.loss, optimizer=optimizer, epochs=args.epochs,
                        batch_size=args.batch_size, validation_data=X_test, seed=args.seed,
                        verbose=0 if args.quiet else 1, noise=args.noise)
    seconds = time.perf_counter() - start

    pca = PCA(args.code).fit(X_train)
    errors = {"train_error": model.reconstruction_error(X_train),
              "test_error": model.reconstruction_error(X_test),
              "pca_train_error": pca.reconstruction_error(X_train),
              "pca_test_error": pca.reconstruction_error(X_test)}
    extra = {}
    if variational:
        extra["elbo"] = {"train": -model.evaluate(X_train, args.loss),
                         "test": -model.evaluate(X_test, args.loss),
                         "note": f"per image: −({args.loss} reconstruction + KL), eval-mode "
                                 "noise; history.train_loss is −ELBO per epoch"}
    if args.sparsity or args.l1 is not None:
        codes = model.encode(X_test)
        extra["code_activation"] = {"mean": float(codes.mean()),
                                    "rho": args.sparsity[0] if args.sparsity else None,
                                    "fraction_below_0.1": float(np.mean(codes < 0.1))}
    if args.noise:
        X_noisy = add_noise(X_test, args.noise[0], args.noise[1], seed=args.seed + 1)
        extra["denoising"] = {
            "noise": list(args.noise),
            "noisy_input_error": float(np.sum((X_noisy - X_test) ** 2) / len(X_test)),
            "model_error": model.reconstruction_error(X_noisy, X_test),
            "pca_error": float(np.sum((pca.reconstruct(X_noisy) - X_test) ** 2)
                               / len(X_test)),
            "note": "squared error per image of the clean test images against the "
                    "reconstruction of their noisy copies"}
    model.save(out / "model.npz")
    metrics = {"data": name, "n_train": len(X_train), "n_test": len(X_test),
               "model": type(model).__name__, "sizes": sizes, "code_size": args.code,
               "n_parameters": model.n_parameters(),
               "penalties": [repr(p) for p in getattr(model, "penalties", [])],
               "loss": args.loss, "optimizer": repr(optimizer), "epochs": history.epochs,
               "batch_size": args.batch_size, "seed": args.seed, "dtype": args.dtype,
               "noise": list(args.noise) if args.noise else None,
               "error": "squared error summed over pixels, mean over images",
               **errors, **extra, "seconds": seconds, "history": history.to_dict()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))

    X_show = X_test[:10]

    def rows(images):  # a conv model gives (N, C, H, W); the pictures take flat rows
        return images.reshape(len(images), -1)

    plots.plot_reconstructions(X_show, [pca.reconstruct(X_show), rows(model.reconstruct(X_show))],
                               image_shape=shape, path=out / "reconstructions.png",
                               row_labels=("original", f"PCA-{args.code}", "autoencoder"))
    title = "−ELBO per image" if variational else f"{args.loss} loss per image"
    plots.plot_loss_curves(history, path=out / "loss.png", title=title)
    plots.plot_codes(model.encode(X_test), y_test, path=out / "codes.png",
                     title=f"codes of the test images ({args.code} numbers each)")
    if shape is not None:
        plots.plot_filters(model, image_shape=shape, path=out / "filters.png",
                           title="encoder filters (first layer)")
        # walk between two different digits when labels tell which is which
        b = 1 if y_test is None else int(np.argmax(y_test != y_test[0]))
        plots.plot_interpolation(model, X_test[0], X_test[b], steps=8, image_shape=shape,
                                 path=out / "interpolation.png")
        if variational:
            plots.plot_image_grid(model.sample(40, seed=args.seed), image_shape=shape,
                                  path=out / "samples.png", title="new images from N(0, I)")
        if args.noise:
            plots.plot_reconstructions(
                X_show, [X_noisy[:10], rows(model.reconstruct(X_noisy[:10]))], image_shape=shape,
                path=out / "denoising.png", row_labels=("clean", "noisy", "denoised"))

    print(f"\nsquared error per image      train    test   ({history.epochs} epochs, "
          f"{seconds:.1f} s)")
    label = "VAE means  " if variational else "autoencoder"
    print(f"  {label} (code {args.code:>3})  {errors['train_error']:7.3f} "
          f"{errors['test_error']:7.3f}")
    print(f"  PCA         ({args.code:>3} comps) {errors['pca_train_error']:7.3f} "
          f"{errors['pca_test_error']:7.3f}")
    change = 1 - errors["test_error"] / errors["pca_test_error"]
    print(f"  the autoencoder's test error is {abs(change):.0%} "
          f"{'lower' if change > 0 else 'higher'} than PCA's at the same code size")
    if variational:
        print(f"  ELBO per image: train {extra['elbo']['train']:.3f}, test "
              f"{extra['elbo']['test']:.3f} (first epoch {-history.train_loss[0]:.3f})")
    if "code_activation" in extra:
        act = extra["code_activation"]
        target = f" (target rho {act['rho']:g})" if act["rho"] is not None else ""
        print(f"  mean code activation on the test images: {act['mean']:.4f}{target}")
    if args.noise:
        d = extra["denoising"]
        print(f"  noisy test images ({args.noise[0]}:{args.noise[1]:g}): error of the noisy "
              f"input {d['noisy_input_error']:.3f}, denoised by the model "
              f"{d['model_error']:.3f}, by PCA {d['pca_error']:.3f}")
    print(f"wrote {out}/: model.npz, metrics.json, " +
          ", ".join(sorted(p.name for p in out.glob("*.png"))))
    return 0


# ----- tinyae reconstruct / encode ---------------------------------------------------------
def cmd_apply(args):
    from .io import load

    model = load(args.model)
    X = load_array(args.input, dtype=model.dtype)
    result = model.reconstruct(X) if args.what == "reconstruct" else model.encode(X)
    if args.output.resolve() in (args.input.resolve(), args.model.resolve()):
        raise ValueError(f"output {args.output} would overwrite an input file; choose another")
    out = args.output if args.output.suffix == ".npy" else args.output.with_suffix(".npy")
    tmp = out.with_name(f".{out.name}.tmp.npy")
    np.save(tmp, result)
    os.replace(tmp, out)
    print(f"wrote {out}: {args.what} of {len(X)} rows, shape {result.shape}")
    return 0


# ----- tinyae sample ----------------------------------------------------------------------
def cmd_sample(args):
    from . import plots
    from .io import load
    from .vae import VariationalAutoencoder

    if args.output.suffix not in (".png", ".npy"):
        raise ValueError(f"OUTPUT must end in .png or .npy, got {args.output}")
    model = load(args.model)
    if not isinstance(model, VariationalAutoencoder):
        raise ValueError(f"{args.model} holds a model of class {type(model).__name__}, not "
                         "a variational one: only a VAE has a prior to sample codes from; "
                         "train one with tinyae train --variational")
    images = model.sample(args.n, seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix == ".npy":
        np.save(args.output, images)
    else:
        plots.plot_image_grid(images, ncols=args.ncols, path=args.output,
                              title=f"{args.n} images decoded from z ~ N(0, I)")
    print(f"wrote {args.output}: {args.n} images of {images.shape[1]} pixels")
    return 0


# ----- tinyae export -----------------------------------------------------------------------
def cmd_export(args):
    from .interop import export, pytorch_source, state_dict
    from .io import load

    if args.output.suffix != ".safetensors":
        raise ValueError(f"OUT must end in .safetensors, got {args.output}")
    if args.output.resolve() == args.model.resolve():
        raise ValueError(f"output {args.output} would overwrite the model file; choose another")
    model = load(args.model)
    export(model, args.output)
    print(f"wrote {args.output}: {len(state_dict(model))} tensors under PyTorch's state_dict "
          f"names; in PyTorch (from torch import nn; from collections import OrderedDict):\n"
          f"  net = {pytorch_source(model)}\n"
          f"  net.load_state_dict(safetensors.torch.load_file({str(args.output)!r}))")
    return 0


# ----- tinyae check ------------------------------------------------------------------------
def cmd_check(args):
    from .exercises import main_check

    return main_check(args.args)


if __name__ == "__main__":
    sys.exit(main())
