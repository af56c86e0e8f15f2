"""Reproduce Hinton & Salakhutdinov (2006), Science 313:504, on MNIST with tinyae.

The paper's MNIST table: a 784-1000-500-250-30 autoencoder reconstructs the
test images with a squared error of 3.00 per image, PCA with 30 components
13.87 (logistic PCA 8.01). Error = squared error summed over the 784 pixels
(scaled to [0, 1]), averaged over the 10,000 test images.

The paper pre-trained logistic units as stacked RBMs. This script uses the
modern replacement, no pre-training: ReLU hidden layers, a linear 30-unit code,
a sigmoid output trained with cross-entropy (fused with the sigmoid), Adam or
AdamW with a cosine learning-rate schedule, and optionally BatchNorm after each
hidden layer and Dropout.

The test set is never used for training or model selection: the recipe and its
number of epochs are fixed beforehand; the test error printed each epoch is for
watching only, and the final figure is the last epoch's.

Usage (the full run is a benchmark, not a test)::

    python benchmarks/reproduce_hinton2006.py --mnist ../shared/data/mnist \\
        --batchnorm --weight-decay 0.1 --epochs 60 --minutes 20
    python benchmarks/reproduce_hinton2006.py --fast          # a few seconds

The run writes ``checkpoint.npz`` (and ``run.json``, its options) to ``--out`` after
every epoch; after Ctrl-C or a crash, ``--resume DIR`` continues it with the options
recorded there and ends with the same model, bit for bit.
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
from tinyae.normalization import BatchNorm1d, Dropout
from tinyae.optim import AdamW
from tinyae.pca import PCA
from tinyae.plots import plot_reconstructions
from tinyae.schedules import CosineDecay

SIZES = [784, 1000, 500, 250, 30]
PAPER = {"autoencoder": 3.00, "PCA-30": 13.87, "logistic PCA": 8.01}


def build_model(sizes, batchnorm, dropout, seed, dtype=np.float32):
    """Encoder 784-1000-500-250-30 (linear code), mirrored decoder with a sigmoid output."""
    rng = np.random.default_rng(seed)

    def stack(widths, last):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            final = i == len(widths) - 2
            layers.append(ta.Dense(n_in, n_out, init="glorot" if final else "he", seed=rng,
                                   dtype=dtype))
            if final:
                if last is not None:
                    layers.append(last)
                break
            if batchnorm:
                layers.append(BatchNorm1d(n_out, dtype=dtype))
            layers.append(ta.ReLU())
            if dropout:
                layers.append(Dropout(dropout, seed=rng))
        return layers

    return ta.Autoencoder(stack(sizes, None), stack(sizes[::-1], ta.Sigmoid()))


def machine():
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]["name"]
    except Exception:  # older NumPy: no dict mode
        pass
    return f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, " \
           f"NumPy {np.__version__} with {blas}"


class Monitor(ta.Callback):
    """After each epoch: train error (on a fixed subset) and test error, in eval mode."""

    def __init__(self, X_train_sub, X_test, minutes, start, log, stop_after=None):
        self.X_train_sub, self.X_test, self.log = X_train_sub, X_test, log
        self.limit, self.start, self.rows = minutes * 60, start, []
        self.stop_after, self.cpu_start = stop_after, time.process_time()

    def on_epoch_end(self, epoch, state):
        model = state.model
        train = model.evaluate(self.X_train_sub, "mse")
        test = model.evaluate(self.X_test, "mse")
        elapsed = time.perf_counter() - self.start
        cpu = time.process_time() - self.cpu_start
        self.rows.append({"epoch": epoch + 1, "train_error": train, "test_error": test,
                          "seconds": elapsed, "cpu_seconds": cpu, "lr": state.history.lr[-1]})
        self.log(f"epoch {epoch + 1:3d}  train {train:6.3f}  test {test:6.3f}  "
                 f"lr {state.history.lr[-1]:.2e}  {elapsed:7.1f} s  (cpu {cpu:7.1f} s)")
        if elapsed > self.limit:
            self.log(f"time limit of {self.limit / 60:g} minutes reached: stopping")
            state.stop = True
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            self.log(f"stopping after epoch {epoch + 1} (--stop-after)")
            state.stop = True

    def state_dict(self):  # for the checkpoint: the rows so far (times go on from them)
        return {"rows": self.rows}

    def load_state_dict(self, state):
        self.rows = state["rows"]
        if self.rows:
            self.start = time.perf_counter() - self.rows[-1]["seconds"]
            self.cpu_start = time.process_time() - self.rows[-1]["cpu_seconds"]


def train_tinyae(args, X_train, X_test, log):
    model = build_model(args.sizes, args.batchnorm, args.dropout, args.seed)
    if args.weight_decay:
        optimizer = AdamW(lr=args.lr, weight_decay=args.weight_decay, decay="all")
    else:
        optimizer = ta.Adam(lr=args.lr)
    sub = X_train[np.random.default_rng(1).permutation(len(X_train))[:10_000]]
    start = time.perf_counter()
    monitor = Monitor(sub, X_test, args.minutes, start, log, args.stop_after)
    model.fit(X_train, loss=args.loss, optimizer=optimizer, epochs=args.epochs,
              batch_size=args.batch_size, seed=args.seed, verbose=0,
              callbacks=[CosineDecay(args.epochs), monitor],
              checkpoint=args.out / CHECKPOINT)
    return model, monitor.rows, time.perf_counter() - monitor.start


def train_torch(args, X_train, X_test, init_model, log):
    """The same recipe in PyTorch, from the same initial weights and batch order."""
    import torch
    from torch import nn

    torch.manual_seed(args.seed)
    torch.set_num_threads(os.cpu_count())

    def to_torch(seq):
        layers = []
        for m in seq.layers:
            if isinstance(m, ta.Dense):
                lin = nn.Linear(m.n_in, m.n_out)
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(m.params["W"].T.copy()))
                    lin.bias.copy_(torch.from_numpy(m.params["b"]))
                layers.append(lin)
            elif isinstance(m, BatchNorm1d):
                layers.append(nn.BatchNorm1d(m.num_features))
            elif isinstance(m, ta.ReLU):
                layers.append(nn.ReLU())
            elif isinstance(m, Dropout):
                layers.append(nn.Dropout(m.p))
        return nn.Sequential(*layers)  # the final Sigmoid is fused into the loss

    net = nn.Sequential(to_torch(init_model.encoder), to_torch(init_model.decoder))
    if args.weight_decay:
        opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    bce = nn.BCEWithLogitsLoss(reduction="sum")
    Xt, Xs = torch.from_numpy(X_train), torch.from_numpy(X_test)
    sub = Xt[np.random.default_rng(1).permutation(len(X_train))[:10_000]]

    def error(X):
        net.eval()
        with torch.no_grad():
            total = sum(((torch.sigmoid(net(X[i:i + 1024])) - X[i:i + 1024]) ** 2).sum().item()
                        for i in range(0, len(X), 1024))
        net.train()
        return total / len(X)

    rng, rows, start = np.random.default_rng(args.seed), [], time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.from_numpy(rng.permutation(len(Xt)))
        for i in range(0, len(Xt), args.batch_size):
            x = Xt[order[i:i + args.batch_size]]
            if args.loss == "bce":  # tinyae's convention: sum over pixels, batch mean
                loss = bce(net(x), x) / len(x)
            else:
                loss = ((torch.sigmoid(net(x)) - x) ** 2).sum() / len(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        elapsed = time.perf_counter() - start
        rows.append({"epoch": epoch + 1, "train_error": error(sub), "test_error": error(Xs),
                     "seconds": elapsed})
        log(f"torch epoch {epoch + 1:3d}  train {rows[-1]['train_error']:6.3f}  "
            f"test {rows[-1]['test_error']:6.3f}  {elapsed:7.1f} s")
        if elapsed > args.minutes * 60:
            break
    return rows


def first_below(rows, target=3.00):
    for row in rows:
        if row["test_error"] < target:
            return row
    return None


def synthetic(n_train, n_test, seed=0):
    """Stroke-like 28x28 images for --fast without MNIST files (shapes only, not MNIST)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n_train + n_test, 28, 28), np.float32)
    for img in X:
        r, c = rng.integers(4, 24, 2)
        img[r - 3:r + 3, 4:24] = 1.0
        img[4:24, c - 2:c + 2] = rng.uniform(0.5, 1)
    X = X.reshape(len(X), -1)
    return X[:n_train], X[n_train:]


CHECKPOINT, RUN = "checkpoint.npz", "run.json"


def resume_options(p, args, argv):
    """With ``--resume DIR``: the options recorded in DIR (others given must be equal)."""
    folder = args.resume
    if not (folder / RUN).is_file():
        p.error(f"--resume {folder}: no interrupted run there (no {RUN})")
    recorded_argv = json.loads((folder / RUN).read_text())["argv"]
    recorded = p.parse_args(recorded_argv)
    for option in (a[2:].split("=")[0] for a in argv if a.startswith("--")):
        name = option.replace("-", "_")
        if name != "resume" and getattr(args, name) != getattr(recorded, name):
            p.error(f"--{option} {getattr(args, name)} differs from the run in {folder} "
                    f"(--{option} {getattr(recorded, name)}); leave it out with --resume")
    recorded.out, recorded.resume, recorded.argv = folder, folder, recorded_argv
    return recorded


def start_run(args):
    """Record the options beside the checkpoint; refuse to start over an interrupted run."""
    args.out.mkdir(parents=True, exist_ok=True)
    if args.resume is None:
        if (args.out / CHECKPOINT).exists():
            sys.exit(f"{args.out} holds an interrupted run: continue it with --resume "
                     f"{args.out}, or delete {args.out / CHECKPOINT} to start over")
        argv = [a for a in args.argv if a not in ("--out", str(args.out))
                and not a.startswith("--out=")]
        (args.out / RUN).write_text(json.dumps({"argv": [*argv, "--out", str(args.out)]}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mnist", default=os.environ.get("TINYAE_MNIST"),
                   help="folder with the MNIST IDX files (default: $TINYAE_MNIST)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--minutes", type=float, default=20.0,
                   help="training time budget; stops after the epoch that passes it")
    p.add_argument("--stop-after", type=int, default=None, metavar="N",
                   help="stop after epoch N (the cosine schedule still spans --epochs)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--loss", choices=["bce", "mse"], default="bce",
                   help="training loss on the sigmoid output: cross-entropy (bce) or squared "
                        "error (mse); the reported error is squared error either way")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm after each hidden layer")
    p.add_argument("--dropout", type=float, default=0.0, help="Dropout after each hidden layer")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="decoupled weight decay (AdamW, on all parameters as PyTorch's AdamW)")
    p.add_argument("--reference", choices=["torch"], default=None,
                   help="also train the same recipe in PyTorch and print both curves")
    p.add_argument("--tinyae-results", type=Path, default=None,
                   help="with --reference torch: take tinyae's curve from this results.json of "
                   "an earlier run of the same recipe instead of training tinyae again")
    p.add_argument("--fast", action="store_true",
                   help="5,000 training images, 2 epochs, smaller layers (a smoke test)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default=None, help="tinyae backend (numpy or numba)")
    p.add_argument("--out", type=Path, default=Path("runs/hinton2006"))
    p.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the interrupted run in DIR, with the options recorded there")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = p.parse_args(argv)
    args.argv = argv
    if args.resume is not None:
        args = resume_options(p, args, argv)
    if args.backend:
        ta.set_backend(args.backend)
    log = print
    args.sizes = SIZES
    if args.fast:
        args.epochs, args.sizes = min(args.epochs, 2), [784, 64, 32, 16, 8]
    if args.mnist:
        (X_train, _), (X_test, _) = ta.load_mnist(args.mnist, split="both", dtype=np.float32)
        source = f"MNIST from {args.mnist}"
    elif args.fast:
        X_train, X_test = synthetic(600, 200)
        source = "synthetic strokes (no MNIST folder given)"
    else:
        sys.exit("give --mnist FOLDER or set TINYAE_MNIST (or use --fast)")
    if args.fast:
        X_train, X_test = X_train[:5000], X_test[:1000]
    recipe = (f"{'-'.join(map(str, args.sizes))}, ReLU, linear code, sigmoid + "
              f"{'cross-entropy' if args.loss == 'bce' else 'squared error'}"
              f"{', BatchNorm' if args.batchnorm else ''}"
              f"{f', Dropout {args.dropout}' if args.dropout else ''}, "
              f"{'AdamW wd ' + str(args.weight_decay) if args.weight_decay else 'Adam'} "
              f"lr {args.lr} cosine, batch {args.batch_size}, float32, "
              f"backend {ta.get_backend()}")
    if args.resume is not None:
        log(f"resuming the run in {args.resume} with its recorded options: {' '.join(args.argv)}")
    log(f"data: {source}: {len(X_train)} training, {len(X_test)} test images")
    log(f"recipe: {recipe}")
    log(f"machine: {machine()}")

    k = args.sizes[-1]
    t = time.perf_counter()
    pca = PCA(k).fit(X_train.astype(np.float64))
    pca_error = pca.reconstruction_error(X_test.astype(np.float64))
    log(f"PCA-{k} test error per image: {pca_error:.2f}  ({time.perf_counter() - t:.1f} s)")

    if args.tinyae_results:
        if args.reference != "torch":
            sys.exit("--tinyae-results goes with --reference torch")
        earlier = json.loads(args.tinyae_results.read_text())
        if earlier["recipe"] != recipe:
            sys.exit(f"{args.tinyae_results} is for another recipe: {earlier['recipe']}")
        model = ta.load(args.tinyae_results.parent / "model.npz")
        rows, seconds = earlier["epochs"], earlier["training_seconds"]
    else:
        start_run(args)
        try:
            model, rows, seconds = train_tinyae(args, X_train, X_test, log)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {args.out / CHECKPOINT} holds the last complete epoch; "
                  f"continue with:\n  python {sys.argv[0]} --resume {args.out}",
                  file=sys.stderr)
            return 130
    torch_rows = None
    if args.reference == "torch":
        torch_rows = train_torch(args, X_train, X_test,
                                 build_model(args.sizes, args.batchnorm, args.dropout,
                                             args.seed), log)
    final = rows[-1]["test_error"]
    passed = first_below(rows)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "model.npz")
    show = X_test[:10]
    plot_reconstructions(show, [pca.reconstruct(show.astype(np.float64)).astype(np.float32),
                                model.reconstruct(show)],
                         image_shape=(28, 28), path=args.out / "reconstructions.png",
                         row_labels=("test image", f"PCA-{k}", "autoencoder"),
                         title=f"MNIST test digits: PCA-{k} {pca_error:.2f}, autoencoder "
                               f"{final:.2f} squared error per image")
    results = {"recipe": recipe, "data": source, "machine": machine(), "args": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "pca_test_error": pca_error, "autoencoder_test_error": final,
        "training_seconds": seconds, "epochs": rows, "torch_epochs": torch_rows,
        "first_below_3": passed}
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    for name in (CHECKPOINT, RUN):  # the run is complete: nothing left to resume
        (args.out / name).unlink(missing_ok=True)

    log("")
    log(f"{'method':<26}{'test error':>11}{'paper':>8}{'training time':>16}")
    paper = args.sizes == SIZES  # the paper's figures are for its architecture only

    def cite(name):
        return f"{PAPER[name]:>8.2f}" if paper else f"{'-':>8}"

    log(f"{'PCA-' + str(k):<26}{pca_error:>11.2f}{cite('PCA-30')}{'-':>16}")
    log(f"{'autoencoder (tinyae)':<26}{final:>11.2f}{cite('autoencoder')}"
        f"{seconds / 60:>13.1f} min")
    if torch_rows:
        log(f"{'same recipe (PyTorch)':<26}{torch_rows[-1]['test_error']:>11.2f}"
            f"{cite('autoencoder')}{torch_rows[-1]['seconds'] / 60:>13.1f} min")
        log("\nepoch   tinyae train/test   PyTorch train/test")
        for a, b in zip(rows, torch_rows):
            log(f"{a['epoch']:5d}   {a['train_error']:6.3f} {a['test_error']:6.3f}"
                f"       {b['train_error']:6.3f} {b['test_error']:6.3f}")
    if passed:
        log(f"test error first below 3.00 at epoch {passed['epoch']}, after "
            f"{passed['seconds'] / 60:.1f} min")
    else:
        log(f"test error did not pass 3.00; best reached {min(r['test_error'] for r in rows):.2f}")
    log(f"machine: {machine()}")
    log(f"wrote {args.out}/model.npz, reconstructions.png, results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
