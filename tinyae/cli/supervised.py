"""``tinyae train --labels``: a supervised or semi-supervised autoencoder from the command line.

Called by :func:`tinyae.cli.cmd_train` when ``--labels`` is given. Trains a
:class:`~tinyae.models.supervised.SupervisedAutoencoder` on the labeled data (the
built-in digits or MNIST), keeping the labels of a fraction ``--labeled-fraction``
of the training rows (the others are marked -1), with weight ``--alpha`` on the
classification term. Writes ``model.npz``, ``metrics.json`` (with the test
accuracy), ``reconstructions.png``, ``loss.png`` and ``codes.png`` to the output folder.
"""

import json
import time

import numpy as np

INCOMPATIBLE = ("variational", "conv", "sparsity", "l1", "weight_decay", "batchnorm")


def check_options(args):
    """Refuse option combinations that ``--labels`` does not support, in one clear line."""
    if not args.labels:
        given = [f"--{n}" for n, v in (("alpha", args.alpha),
                                       ("labeled-fraction", args.labeled_fraction),
                                       ("consistency", args.consistency)) if v is not None]
        if given:
            raise ValueError(f"{' and '.join(given)} only apply with --labels "
                             "(a supervised model)")
        return
    bad = [f"--{n.replace('_', '-')}" for n in INCOMPATIBLE if getattr(args, n)]
    if args.dropout:
        bad.append("--dropout")
    if bad:
        raise ValueError(f"--labels trains a dense SupervisedAutoencoder; it does not combine "
                         f"with {', '.join(bad)}")
    if args.consistency and not args.noise:
        raise ValueError("--consistency compares two noisy passes: add --noise KIND:LEVEL, "
                         "e.g. --noise masking:0.3")


def train_supervised(args, X_train, y_train, X_test, y_test, shape, name, out):
    """Train, evaluate and write everything; returns 0."""
    from .. import plots
    from ..models.supervised import SupervisedAutoencoder, hide_labels
    from .resume import finish, fit_or_interrupt, start_run
    from .train import make_optimizer

    if y_train is None:
        raise ValueError(f"--labels needs labeled data ('digits', 'mnist:FOLDER', or an .npz "
                         f"file with arrays X and y); --data {args.data!r} has no labels")
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    fraction = 1.0 if args.labeled_fraction is None else args.labeled_fraction
    y_few = hide_labels(y_train, fraction=fraction, seed=args.seed)
    n_labeled = int(np.sum(y_few >= 0))
    alpha = 1.0 if args.alpha is None else args.alpha
    sizes = [X_train.shape[1], *args.hidden_sizes, args.code]
    model = SupervisedAutoencoder.deep(sizes, n_classes, hidden=args.activation or "relu",
                                       output=args.output, alpha=alpha, noise=args.noise,
                                       consistency=args.consistency or 0.0, seed=args.seed,
                                       dtype=args.dtype)
    optimizer = make_optimizer(args)
    say = (lambda *a: None) if args.quiet else print
    say(f"data: {name}, {len(X_train)} training images ({n_labeled} labeled, "
        f"{fraction:g} of them) and {len(X_test)} test images")
    say(f"model: {' -> '.join(map(str, sizes + sizes[-2::-1]))}, head {args.code} -> "
        f"{n_classes}; loss = {args.loss} + {alpha:g}·cross-entropy; {optimizer!r}")
    share = 0.5 if n_labeled < len(y_few) / 2 else None  # few labels: half of each batch
    checkpoint = start_run(args, out)
    start = time.perf_counter()
    history = fit_or_interrupt(lambda: model.fit(
        X_train, y_few, loss=args.loss, optimizer=optimizer, epochs=args.epochs,
        batch_size=args.batch_size, validation_data=(X_test, y_test), labeled_share=share,
        seed=args.seed, verbose=0 if args.quiet else 1, checkpoint=checkpoint),
        out, args.epochs)
    if history is None:  # Ctrl-C: the checkpoint holds the last complete epoch
        return 130
    seconds = time.perf_counter() - start
    accuracy = {"train_accuracy": model.score(X_train, y_train),
                "test_accuracy": model.score(X_test, y_test)}
    errors = {"train_error": model.reconstruction_error(X_train),
              "test_error": model.reconstruction_error(X_test)}
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.npz")
    metrics = {"data": name, "n_train": len(X_train), "n_test": len(X_test),
               "n_labeled": n_labeled, "labeled_fraction": fraction,
               "labeled_share_per_epoch": share, "model": type(model).__name__,
               "sizes": sizes, "code_size": args.code, "n_classes": n_classes,
               "alpha": alpha, "noise": list(args.noise) if args.noise else None,
               "consistency": args.consistency or 0.0,
               "n_parameters": model.n_parameters(), "loss": args.loss,
               "optimizer": repr(optimizer), "epochs": history.epochs,
               "batch_size": args.batch_size, "seed": args.seed, "dtype": args.dtype,
               **accuracy, **errors,
               "error": "squared error summed over pixels, mean over images",
               "seconds": seconds, "history": history.to_dict()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))

    X_show = X_test[:10]
    plots.plot_reconstructions(X_show, [model.reconstruct(X_show)], image_shape=shape,
                               path=out / "reconstructions.png",
                               row_labels=("original", "supervised AE"),
                               title="ten test images and their reconstructions")
    plots.plot_loss_curves(history, path=out / "loss.png",
                           title=f"{args.loss} + {alpha:g}·cross-entropy per image")
    plots.plot_codes(model.encode(X_test), y_test, path=out / "codes.png",
                     title=f"codes of the test images, coloured by class "
                           f"(test accuracy {accuracy['test_accuracy']:.1%})")
    print(f"\naccuracy         train {accuracy['train_accuracy']:.4f}   test "
          f"{accuracy['test_accuracy']:.4f}   ({n_labeled} labels, {history.epochs} epochs, "
          f"{seconds:.1f} s)")
    print(f"squared error    train {errors['train_error']:.3f}   test {errors['test_error']:.3f}")
    finish(out)
    print(f"wrote {out}/: model.npz, metrics.json, " +
          ", ".join(sorted(p.name for p in out.glob("*.png"))))
    return 0
