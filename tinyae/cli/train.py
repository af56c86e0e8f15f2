"""``tinyae train``: the data, the model the options describe, the run and what it writes."""

import json
import time
from pathlib import Path

import numpy as np

from ..data.datasets import load_array, load_digits, load_mnist, train_test_split
from .images import load_colour
from .resume import finish, fit_or_interrupt, resumed_args, start_run


def load_data(spec, test_size, seed, dtype, image_size=None):
    """``(X_train, y_train, X_test, y_test, image_shape, name)`` for a ``--data`` value.

    ``image_shape`` is ``(H, W)`` for gray images, ``(C, H, W)`` for colour, None
    for rows that are not images.
    """
    colour = load_colour(spec, test_size, seed, dtype, size=image_size)
    if colour is not None:
        return colour
    if spec == "digits":
        X, y = load_digits(dtype=dtype)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed)
        return X_train, y_train, X_test, y_test, (8, 8), "digits"
    if spec.startswith("mnist:"):
        (X_train, y_train), (X_test, y_test) = load_mnist(spec[6:], split="both", dtype=dtype)
        return X_train, y_train, X_test, y_test, (28, 28), "mnist"
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"--data {spec!r}: expected 'digits', 'mnist:FOLDER', "
                                "'cifar10:FOLDER', 'images:FOLDER' or an existing "
                                ".npy/.npz/.csv file")
    X = load_array(path, dtype=dtype)
    y = _labels_beside(path, len(X))
    if y is None:
        X_train, X_test = train_test_split(X, test_size=test_size, seed=seed)
        y_train = y_test = None
    else:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                            seed=seed)
    side = int(round(np.sqrt(X.shape[1])))
    shape = (side, side) if side * side == X.shape[1] else None
    return X_train, y_train, X_test, y_test, shape, path.stem


def _labels_beside(path, n):
    """The integer labels ``y`` of a ``.npz`` file that holds them beside ``X``, else None."""
    if path.suffix != ".npz":
        return None
    with np.load(path, allow_pickle=False) as f:
        if "y" not in f.files:
            return None
        y = f["y"]
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise ValueError(f"--data {path}: the labels 'y' must be {n} integers (one per row of "
                         f"X), got dtype {y.dtype} and shape {y.shape}")
    return y.astype(np.int64)


def _output_folder(out, name, overwrite):
    if out is None:
        n = 1
        while Path("runs", f"{name}-{n}").exists():
            n += 1
        out = Path("runs", f"{name}-{n}")
    elif (out / "model.npz").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a model; choose another --out or pass "
                              "--overwrite")
    return out   # created when the first file is written: a failed run leaves no empty folder


def build_model(args, n_inputs, image_shape=None):
    """The model the ``train`` options describe: plain, denoising, sparse, variational, conv."""
    from ..models.autoencoder import Autoencoder
    from ..models.vae import VariationalAutoencoder

    penalized = args.sparsity or args.l1 is not None or args.weight_decay is not None
    if (args.batchnorm or args.dropout) and not args.hidden_sizes and not args.conv:
        raise ValueError("--batchnorm and --dropout go between hidden layers: give "
                         "--hidden-sizes too (e.g. --hidden-sizes 32)")
    if args.conv:
        if image_shape is None:
            raise ValueError(f"--conv needs images, but each row of --data {args.data} has "
                             f"{n_inputs} values, not a square number of pixels (8x8 = 64 for "
                             "the digits, 28x28 = 784 for MNIST); colour images come from "
                             "'cifar10:FOLDER' or 'images:FOLDER'")
        if args.variational or penalized or args.hidden_sizes:
            raise ValueError("--conv trains a plain convolutional autoencoder; it does not "
                             "combine with --variational, --sparsity, --l1, --weight-decay "
                             "or --hidden-sizes")
        C, H, W = image_shape if len(image_shape) == 3 else (1, *image_shape)
        strides = [1 if i == 0 and H <= 8 else 2 for i in range(len(args.channels))]
        model = Autoencoder.conv((C, H, W), channels=args.channels, code=args.code,
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


def _pca_baseline(PCA, code, X_train, say):
    """PCA with as many components as the code, or None (with a note) when it cannot exist.

    An overcomplete code (more numbers than pixels, lesson 12's exercise) or fewer
    training rows than the code has no PCA of that size: the run goes on without it.
    """
    most = min(X_train.shape)
    if code > most:
        say(f"PCA baseline skipped: a code of {code} numbers is larger than PCA can make "
            f"(at most min(rows, pixels) = {most} components)")
        return None
    return PCA(code).fit(X_train)


def make_optimizer(args):
    """The ``--optimizer`` (adam, adamw, sgd) with ``--lr``, ``--momentum``, ``--decay``."""
    from ..optim.optimizers import SGD, Adam, AdamW

    if args.decay is not None and args.optimizer != "adamw":
        raise ValueError(f"--decay is AdamW's decoupled weight decay: add --optimizer adamw "
                         f"(--optimizer is {args.optimizer}; for an L2 penalty in the loss use "
                         "--weight-decay)")
    if args.optimizer == "adam":
        return Adam(lr=args.lr or 3e-3)
    if args.optimizer == "adamw":
        return AdamW(lr=args.lr or 3e-3, weight_decay=0.01 if args.decay is None else args.decay)
    return SGD(lr=args.lr or 0.05, momentum=args.momentum)


def make_schedule(spec, epochs):
    """The learning-rate schedule of ``--schedule`` as a list of ``fit`` callbacks.

    ``spec`` is ``(kind, *numbers)`` from :func:`tinyae.cli.args._schedule`:
    ``("cosine",)`` decays to 0 over the run; ``("step", STEP, GAMMA)`` multiplies the
    rate by GAMMA (default 0.1) every STEP epochs (default a third of the run);
    ``("plateau", PATIENCE, FACTOR)`` multiplies it by FACTOR (default 0.1) when the
    test loss has not improved for more than PATIENCE epochs (default 5).
    """
    from ..optim.schedules import CosineDecay, ReduceLROnPlateau, StepDecay

    if spec is None:
        return []
    kind, *numbers = spec
    if kind == "cosine":
        return [CosineDecay(epochs)]
    if kind == "step":
        step, gamma = (numbers + [None, None])[:2]
        return [StepDecay(int(step or max(1, epochs // 3)), 0.1 if gamma is None else gamma)]
    patience, factor = (numbers + [None, None])[:2]
    return [ReduceLROnPlateau(factor=0.1 if factor is None else factor,
                              patience=5 if patience is None else int(patience))]


def cmd_train(args):
    from .. import plots
    from ..backend import check_usable, set_backend

    args = resumed_args(args)  # --resume DIR: the options recorded there
    if args.backend:
        set_backend(args.backend)
    check_usable()
    from ..data.datasets import add_noise
    from ..uses.pca import PCA
    from .supervised import check_options, train_supervised

    check_options(args)
    if args.labels and args.schedule:
        raise ValueError("--schedule applies to the autoencoders, not yet to --labels")
    X_train, y_train, X_test, y_test, shape, name = load_data(
        args.data, args.test_size, args.seed, args.dtype, args.image_size)
    if args.labels:
        out = _output_folder(args.out, name, args.overwrite)
        return train_supervised(args, X_train, y_train, X_test, y_test, shape, name, out)
    model, sizes = build_model(args, X_train.shape[1], shape)
    out = _output_folder(args.out, name, args.overwrite)
    optimizer = make_optimizer(args)
    checkpoint = start_run(args, out)
    variational = args.variational
    say = (lambda *a: None) if args.quiet else print
    what = "x".join(map(str, shape)) + " = " if shape is not None and len(shape) == 3 else ""
    say(f"data: {name}, {len(X_train)} training and {len(X_test)} test images of "
        f"{what}{X_train.shape[1]} pixels")
    kind = "variational autoencoder, " if variational else ""
    extras = "".join(f"; {p!r}" for p in getattr(model, "penalties", []))
    say(f"model: {kind}{' -> '.join(map(str, sizes + sizes[-2::-1]))}, "
        f"{model.n_parameters():,} parameters; {args.loss} loss{extras}, {optimizer!r}, "
        f"{args.epochs} epochs")
    start = time.perf_counter()
    history = fit_or_interrupt(lambda: model.fit(
        X_train, loss=args.loss, optimizer=optimizer, epochs=args.epochs,
        batch_size=args.batch_size, validation_data=X_test, seed=args.seed,
        verbose=0 if args.quiet else 1, noise=args.noise, checkpoint=checkpoint,
        callbacks=make_schedule(args.schedule, args.epochs)), out, args.epochs)
    if history is None:  # Ctrl-C: the checkpoint holds the last complete epoch
        return 130
    seconds = time.perf_counter() - start

    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.npz")        # first: nothing after this can lose the model
    say(f"saved {out / 'model.npz'}")
    pca = _pca_baseline(PCA, args.code, X_train, print)   # a result: shown even with --quiet
    errors = {"train_error": model.reconstruction_error(X_train),
              "test_error": model.reconstruction_error(X_test),
              "pca_train_error": None if pca is None else pca.reconstruction_error(X_train),
              "pca_test_error": None if pca is None else pca.reconstruction_error(X_test)}
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
            "pca_error": None if pca is None else float(
                np.sum((pca.reconstruct(X_noisy) - X_test) ** 2) / len(X_test)),
            "note": "squared error per image of the clean test images against the "
                    "reconstruction of their noisy copies"}
    metrics = {"data": name, "n_train": len(X_train), "n_test": len(X_test),
               "model": type(model).__name__, "sizes": sizes, "code_size": args.code,
               "n_parameters": model.n_parameters(),
               "penalties": [repr(p) for p in getattr(model, "penalties", [])],
               "loss": args.loss, "optimizer": repr(optimizer), "epochs": history.epochs,
               "batch_size": args.batch_size, "seed": args.seed, "dtype": args.dtype,
               "noise": list(args.noise) if args.noise else None,
               "image_shape": list(shape) if shape else None,
               "schedule": ":".join([args.schedule[0], *(f"{v:g}" for v in args.schedule[1:])])
               if args.schedule else None,
               "error": "squared error summed over pixels, mean over images",
               **errors, **extra, "seconds": seconds, "history": history.to_dict()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))

    X_show = X_test[:10]

    def rows(images):  # a conv model gives (N, C, H, W); the pictures take flat rows
        return images.reshape(len(images), -1)

    if shape is not None:
        shown = ([pca.reconstruct(X_show)] if pca is not None else []) + \
            [rows(model.reconstruct(X_show))]
        labels = ("original", f"PCA-{args.code}", "autoencoder") if pca is not None \
            else ("original", "autoencoder")
        plots.plot_reconstructions(X_show, shown, image_shape=shape,
                                   path=out / "reconstructions.png", row_labels=labels,
                                   title=f"ten test images and their reconstructions "
                                   f"(code size {args.code})")
    else:
        say(f"no image pictures: rows of {X_train.shape[1]} values are not square images")
    title = "−ELBO per image" if variational else f"{args.loss} loss per image"
    plots.plot_loss_curves(history, path=out / "loss.png", title=title)
    plots.plot_codes(model.encode(X_test), y_test, path=out / "codes.png",
                     title=f"codes of the test images ({args.code} numbers each"
                     f"{', coloured by label' if y_test is not None else ''})")
    if shape is not None:
        plots.plot_filters(model, image_shape=shape, path=out / "filters.png",
                           title="encoder filters (first layer)"
                           + ("; gray is 0" if len(shape) == 3 else ""))
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
                path=out / "denoising.png", row_labels=("clean", "noisy", "denoised"),
                title=f"denoising: {args.noise[0]} noise at {args.noise[1]:g}")

    print(f"\nsquared error per image      train    test   ({history.epochs} epochs, "
          f"{seconds:.1f} s)")
    label = "VAE means  " if variational else "autoencoder"
    print(f"  {label} (code {args.code:>3})  {errors['train_error']:7.3f} "
          f"{errors['test_error']:7.3f}")
    if pca is not None:
        print(f"  PCA         ({args.code:>3} comps) {errors['pca_train_error']:7.3f} "
              f"{errors['pca_test_error']:7.3f}")
        if errors["pca_test_error"] <= 1e-9 * max(1.0, errors["test_error"]):
            print(f"  PCA with {args.code} components reconstructs the data exactly: the code "
                  "is as large as the data")
        else:
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
        by_pca = "" if pca is None else f", by PCA {d['pca_error']:.3f}"
        print(f"  noisy test images ({args.noise[0]}:{args.noise[1]:g}): error of the noisy "
              f"input {d['noisy_input_error']:.3f}, denoised by the model "
              f"{d['model_error']:.3f}{by_pca}")
    finish(out)
    print(f"wrote {out}/: model.npz, metrics.json, " +
          ", ".join(sorted(p.name for p in out.glob("*.png"))))
    return 0
