"""The ``tinyae`` command: ``train``, ``reconstruct``, ``encode``, ``sample``, ``check``.

``tinyae train`` with no arguments trains the shallow autoencoder
x̂ = σ(W2·σ(W1·x + b1) + b2) (ReLU hidden units, 16-number code) on the
built-in digits, compares it with PCA at the same code size, and writes the
model, ``metrics.json`` and pictures to a new folder under ``runs/``.
The variants: ``--noise KIND:LEVEL`` (denoising), ``--sparsity RHO:BETA``,
``--l1 LAMBDA`` and ``--weight-decay LAMBDA`` (sparse), ``--variational`` (VAE);
``tinyae sample MODEL N OUT.png`` draws new images from a variational model.
"""

import sys
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import DivergenceError, TinyAEError
from .args import (
    ACTIVATIONS,
    _dropout,
    _fraction,
    _labeled_fraction,
    _noise,
    _nonnegative_float,
    _Parser,
    _positive_float,
    _positive_int,
    _schedule,
    _sizes,
    _sparsity,
)
from .commands import cmd_apply, cmd_export, cmd_sample
from .grading import register as register_grading
from .images import image_size
from .train import cmd_train


def build_parser():
    parser = _Parser(prog="tinyae", description="Autoencoders written by hand in NumPy.")
    parser.add_argument("-V", "--version", action="version",
                        version=f"tinyae {__version__} (numpy {np.__version__}, "
                        f"python {sys.version.split()[0]})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train an autoencoder and write model, metrics, pictures",
                       description="Train an autoencoder; with no options, the shallow model "
                       "on the built-in 8x8 digits (well under a minute).")
    t.add_argument("--data", default="digits",
                   help="'digits' (built in), 'mnist:FOLDER' (IDX files), 'cifar10:FOLDER' "
                   "(CIFAR-10, binary version), 'images:FOLDER' (your PNG/JPEG pictures, "
                   "colour kept), or a .npy/.npz/.csv file of shape (n, d) (default: digits)")
    t.add_argument("--image-size", type=image_size, default=None, metavar="HxW",
                   help="with --data images:FOLDER: resize every picture to H x W pixels "
                   "(e.g. 32 or 32x48); without it all pictures must have the same size")
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
    t.add_argument("--optimizer", choices=["adam", "adamw", "sgd"], default="adam",
                   help="adam (default), adamw (Adam with decoupled weight decay, --decay) or "
                   "sgd (with --momentum)")
    t.add_argument("--decay", type=_nonnegative_float, default=None, metavar="LAMBDA",
                   help="with --optimizer adamw: its decoupled weight decay (default 0.01, "
                   "PyTorch's)")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (default 3e-3 for adam, 0.05 for sgd)")
    t.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    t.add_argument("--epochs", type=_positive_int, default=100)
    t.add_argument("--schedule", type=_schedule, default=None, metavar="KIND",
                   help="learning-rate schedule: cosine (to 0 over the run), "
                   "step[:STEP[:GAMMA]] (x GAMMA, default 0.1, every STEP epochs, default a "
                   "third of the run), or plateau[:PATIENCE[:FACTOR]] (x FACTOR, default "
                   "0.1, when the test loss has not improved for more than PATIENCE epochs, "
                   "default 5) (default: a constant rate)")
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
                   help="a convolutional autoencoder (images: digits, MNIST, CIFAR-10, "
                   "your pictures; gray or colour)")
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
    t.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the interrupted run in DIR with its recorded options "
                   "(bit for bit as if never stopped)")
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

    register_grading(sub)   # check, exercises (release, grade): cli/grading.py
    return parser


def main(argv=None):
    """Entry point of the ``tinyae`` console script; returns the exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:              # plain `tinyae`: say what it can do, not an error
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    args.argv = list(argv)   # for train's run.json (--resume)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:   # Ctrl-C outside training (which saves and says how to resume)
        print(f"\ntinyae {args.command}: interrupted", file=sys.stderr)
        return 130
    except DivergenceError as exc:
        print(f"tinyae: {exc}", file=sys.stderr)
        return 1
    except (TinyAEError, FileNotFoundError, FileExistsError, ValueError, TypeError) as exc:
        print(f"tinyae {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
