"""How fast tinyae trains, next to the frameworks a learner would otherwise use.

A script, not a test: it measures this machine and prints what it saw. Four parts:

1. **The matmul ladder**: GFLOP/s of ``(256, 784) @ (784, 256)``, the shape of a
   training product, for the Numba kernels of ``tinyae/backend/numba_kernels.py``
   (naive loop → loop order i-k-j → ``prange`` over rows → packed and
   register-blocked) and for NumPy's BLAS, the machine's practical limit; float32
   and float64.
2. **Training speed**: seconds per epoch (median of several epochs after a warm-up
   epoch) of the 784→256→64→256→784 autoencoder (ReLU hidden and code layers,
   sigmoid output, MSE, Adam, batch 128, float32, 20,000 samples) with tinyae's
   numpy and numba backends and, when installed, PyTorch (CPU) and scikit-learn's
   ``MLPRegressor`` on the same data, shapes and batch size. The frameworks take
   turns, one epoch each per round, so a change in the machine's load hits all of
   them alike; every ratio compares figures from this one run.
3. **Where the time goes**: the matrix products of one epoch alone (the floor for
   any backend that calls BLAS) and a profile of one epoch per backend.
4. **Peak memory** of one training epoch on 20,000 and 60,000 samples, each in a
   fresh process: it grows with the batch and the model, not with the data set.
5. **Convolutions** (issue 10): seconds per epoch of the conv autoencoder (28×28×1 →
   Conv 16 → Conv 32, both stride 2 → code 32 → two stride-2 transposed convolutions
   back; batch 128, float32) with tinyae's numpy and numba backends and PyTorch (CPU)
   on the same model, taking turns as in part 2, and a profile of one epoch per backend
   (im2col gather, col2im scatter, layout changes, matrix products, the rest).
6. **The cost of BatchNorm and Dropout** (issue 14): epoch time of the Hinton
   784-1000-500-250-30 autoencoder with BatchNorm (and BatchNorm + Dropout 0.1) after
   each hidden layer divided by its epoch time without, for tinyae (numpy backend) and
   PyTorch, in the same run.

Usage::

    pip install -e ".[fast,bench]"      # numba, torch==2.13.0 (CPU), scikit-learn
    python benchmarks/bench.py           # about two minutes
    python benchmarks/bench.py --quick   # a smoke run of a few seconds
    python benchmarks/bench.py --wait-quiet   # on a shared machine: measure when idle
    python benchmarks/bench.py --parts conv batchnorm   # parts 5 and 6 only (~3 minutes)

Data: MNIST from ``--mnist`` (default ``$TINYAE_MNIST``, else ``../shared/data/mnist``
beside the repository) when present, else uniform random pixels in [0, 1] (the
output says which). Results are printed as tables and written as JSON to
``benchmarks/results/<machine>.json`` (``<machine>-<parts>.json`` with ``--parts``).

OpenBLAS reads ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) to pick its kernels;
the output records both. To measure the BLAS a fresh install would use, run the
script with both unset: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ...``.
"""

import argparse
import cProfile
import json
import os
import platform
import pstats
import re
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

import tinyae as ta
from tinyae import backend

HERE = Path(__file__).resolve().parent
SIZES = [784, 256, 64]            # 784→256→64→256→784
BATCH, N_TRAIN, LR = 128, 20_000, 1e-3
LADDER_SHAPE = (256, 784, 256)    # (m, k, n): a (256, 784) @ (784, 256) product


# ----- the machine --------------------------------------------------------------------------

def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info():
    """Which BLAS NumPy calls, its kernel (OpenBLAS "architecture") and its threads."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return {"library": pool.get("internal_api"), "version": pool.get("version"),
                        "kernel": pool.get("architecture"), "threads": pool.get("num_threads"),
                        "source": "threadpoolctl"}
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"library": cfg.get("name"), "version": cfg.get("version"),
                "kernel": None, "threads": None, "source": "numpy.show_config"}
    except Exception:  # noqa: BLE001 (old NumPy: no dict mode)
        return {"library": "unknown", "version": None, "kernel": None, "threads": None,
                "source": None}


def versions():
    """Installed versions, read from the package metadata (importing torch here would
    start its thread pool in the process that times tinyae)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("numpy", "tinyae", "numba", "llvmlite", "torch", "scikit-learn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def machine():
    blas = blas_info()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(), "cores": cores, "os": platform.platform(),
        "blas": blas,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                               "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                               "NUMBA_NUM_THREADS")},
        "versions": versions(),
    }


def machine_slug(info):
    cpu = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*", "", info["cpu"].lower())
    cpu = "-".join(re.findall(r"[a-z0-9]+", cpu))[:30] or "cpu"
    blas = info["blas"]
    parts = [cpu, f"{info['cores']}c", blas.get("library") or "blas"]
    if blas.get("kernel"):
        parts.append(str(blas["kernel"]).lower())
    return "-".join(parts)


# ----- timing helpers -------------------------------------------------------------------------

QUIET = {"enabled": False, "waits": 0, "timeouts": 0}


def _cpu_times():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]            # total, idle + iowait


def wait_until_quiet(busy_below=0.1, timeout=60.0):
    """With ``--wait-quiet`` (Linux): wait until the CPUs are idle before measuring.

    On a machine shared with other jobs, two busy cores turn a 2-thread BLAS call
    into a queue; this waits for a 0.5 s window with under 10% of the CPU busy, and
    counts the windows it never found (reported with the results).
    """
    if not QUIET["enabled"] or not Path("/proc/stat").exists():
        return
    QUIET["waits"] += 1
    deadline = time.time() + timeout
    while time.time() < deadline:
        t0, i0 = _cpu_times()
        time.sleep(0.5)
        t1, i1 = _cpu_times()
        if 1 - (i1 - i0) / max(t1 - t0, 1) < busy_below:
            return
    QUIET["timeouts"] += 1


def timed(f, repeats, inner=1):
    """Seconds per call of ``f()``: the list of ``repeats`` measurements (after one warm-up)."""
    f()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            f()
        out.append((time.perf_counter() - start) / inner)
    return out


# ----- 1. the matmul ladder -------------------------------------------------------------------

LADDER = [("numba naive (i-j-k)", "matmul_naive"),
          ("numba loop order i-k-j", "matmul_ikj"),
          ("numba i-k-j + prange rows", "matmul_ikj_parallel"),
          ("numba packed + 4x4 register block", "matmul_blocked"),
          ("NumPy / BLAS", None)]


def ladder_probe(kernel, dtype, quick):
    """Run in a fresh process: GFLOP/s of one kernel (prints JSON).

    A fresh process each, because two thread pools in one process fight: after a
    ``prange`` kernel Numba's OpenMP threads keep spinning, and the next BLAS call
    (whose own threads spin too) ran 30 times slower here; the other way round as well.
    """
    m, k, n = LADDER_SHAPE if not quick else (64, 196, 64)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)
    if kernel == "None":
        def f():
            return np.matmul(a, b, out=out)
    else:
        from tinyae.backend import numba_kernels as K

        fn = getattr(K, kernel)

        def f():
            return fn(a, b, out)
    start = time.perf_counter()
    f()                                              # compiles, or loads the cache
    first = time.perf_counter() - start
    ref = a.astype(np.float64) @ b.astype(np.float64)
    err = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))
    slow = kernel == "matmul_naive"
    times = timed(f, repeats=3 if slow else 15,
                  inner=1 if slow else max(1, int(0.02 / max(first, 1e-4))))
    flops = 2.0 * m * k * n
    print(json.dumps({"gflops_best": flops / min(times) / 1e9,
                      "gflops_median": flops / float(np.median(times)) / 1e9,
                      "first_call_s": first, "rel_error_vs_float64": err}))


def ladder(quick):
    m, k, n = LADDER_SHAPE if not quick else (64, 196, 64)
    rows = []
    for dtype in ("float32", "float64"):
        for name, kernel in LADDER:
            cmd = [sys.executable, __file__, "--ladder-probe", str(kernel), dtype]
            wait_until_quiet()
            out = subprocess.run(cmd + (["--quick"] if quick else []), capture_output=True,
                                 text=True)
            if out.returncode:
                if "No module named 'numba'" in out.stderr:
                    continue
                raise RuntimeError(out.stderr)
            rows.append({"dtype": dtype, "kernel": name,
                         **json.loads(out.stdout.strip().splitlines()[-1])})
        blas = rows[-1]["gflops_best"]
        for row in rows:
            if row["dtype"] == dtype:
                row["vs_blas"] = row["gflops_best"] / blas
    return {"shape": [m, k, n], "rows": rows}


# ----- 2. training speed ----------------------------------------------------------------------

def load_data(path, n, quick):
    if quick:
        n = 2_000
    if path and Path(path).is_dir():
        X, _ = ta.load_mnist(path, dtype=np.float32)
        return np.ascontiguousarray(X[:n]), f"MNIST ({n} training images)"
    rng = np.random.default_rng(0)
    return rng.random((n, 784), dtype=np.float32), f"random pixels in [0, 1] ({n} samples)"


def load_kernels_at_once(name):
    """The benchmark times the kernels: with ``"numba"``, use them from the first call.

    (``numba_ops.LOAD_AFTER`` is 0 already; set here so that a changed default could
    not make the benchmark time NumPy's twins under the numba label.)
    """
    if name == "numba":
        try:
            from tinyae.backend import numba_ops
        except ImportError:         # an older tinyae (--before): it had no such switch
            return
        numba_ops.LOAD_AFTER = 0


class TinyAE:
    """One tinyae model trained one epoch at a time with a chosen backend."""

    def __init__(self, name, X):
        self.name, self.X = name, X
        load_kernels_at_once(name)
        backend.set_backend(name)
        self.model = ta.Autoencoder.deep(SIZES, hidden="relu", code="relu", output="sigmoid",
                                         seed=0, dtype=np.float32)
        self.opt = ta.Adam(lr=LR)
        self.epoch = 0

    def run_epoch(self):
        backend.set_backend(self.name)
        h = self.model.fit(self.X, loss="mse", optimizer=self.opt, epochs=1, batch_size=BATCH,
                           verbose=0, seed=self.epoch)
        self.epoch += 1
        backend.set_backend("numpy")
        return h.train_loss[-1]


class Torch:
    """The same model in PyTorch: the loop a tutorial writes (randperm, index, step)."""

    def __init__(self, X, fused):
        import torch

        self.torch = torch
        torch.manual_seed(0)
        nn = torch.nn
        self.net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU(),
                                 nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR, fused=True if fused else None)
        self.X = torch.from_numpy(X)                 # shares the NumPy array's memory

    def run_epoch(self):
        torch, X = self.torch, self.X
        total = 0.0
        order = torch.randperm(len(X))
        for i in range(0, len(X), BATCH):
            x = X[order[i:i + BATCH]]
            self.opt.zero_grad()
            loss = ((self.net(x) - x) ** 2).sum() / len(x)   # tinyae's MSE: sum over pixels
            loss.backward()
            self.opt.step()
            total += loss.item() * len(x)
        return total / len(X)


class Sklearn:
    """``MLPRegressor`` on (X, X), hidden sizes (256, 64, 256), ReLU, Adam, one epoch per call.

    Differences it cannot avoid: its output layer is linear (no sigmoid) and its loss
    is ``½·mean`` over all entries (a constant factor, which Adam's steps ignore);
    ``alpha=0`` turns off its default L2 penalty so the work per step matches.
    """

    def __init__(self, X):
        from sklearn.neural_network import MLPRegressor

        self.X = X
        self.net = MLPRegressor(hidden_layer_sizes=(256, 64, 256), activation="relu",
                                solver="adam", alpha=0.0, batch_size=BATCH,
                                learning_rate_init=LR, shuffle=True, random_state=0)

    def run_epoch(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.net.partial_fit(self.X, self.X)
        return self.net.loss_ * 2 * self.X.shape[1]  # ½·mean → sum over pixels / N


FRAMEWORKS = ["tinyae numpy", "tinyae numba", "tinyae numba parallel", "PyTorch (default Adam)",
              "PyTorch (fused Adam)", "scikit-learn MLPRegressor"]


def make_trainer(name, X):
    if "parallel" in name:        # the prange kernels (Adam; im2col, col2im), in this process
        from tinyae.backend import numba_ops

        numba_ops.PARALLEL = True
    if name in CONV_FRAMEWORKS or name in BN_FRAMEWORKS:
        return make_model_trainer(name, X)
    if name.startswith("tinyae"):
        return TinyAE(name.split()[1], X)
    if name.startswith("PyTorch"):
        return Torch(X, fused="fused" in name)
    return Sklearn(X)


# ----- --before REV: the same rows with an older tinyae, in the same run --------------------

def export_tree(rev):
    """``tinyae/`` as it was at git revision ``rev``, in a temporary folder; returns the folder.

    ``git archive`` of the package alone: the benchmark's own code (this file, the
    models of ``conv_vs_dense.py``) stays today's, so both sides train the same models
    with the same loop, and only the package differs.
    """
    import tempfile

    root = HERE.parent
    sha = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = tempfile.mkdtemp(prefix=f"tinyae-{sha}-")
    archive = subprocess.run(["git", "-C", str(root), "archive", sha, "tinyae"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    return sha, tree


def use_tree(tree):
    """In a worker process: replace the imported tinyae by the one in ``tree``."""
    global ta, backend
    for mod in [m for m in sys.modules if m == "tinyae" or m.startswith("tinyae.")]:
        del sys.modules[mod]
    sys.path.insert(0, tree)
    import tinyae
    from tinyae import backend as old_backend

    if not tinyae.__file__.startswith(tree):
        raise RuntimeError(f"--before: imported {tinyae.__file__}, not the tree in {tree}")
    ta, backend = tinyae, old_backend


def before_rows(names, sha):
    """The tinyae rows (not the parallel ones) again, labelled ``NAME @sha``."""
    return [f"{n} @{sha}" for n in names if n.startswith("tinyae") and "parallel" not in n]


def before_after(rows, sha):
    """Per tinyae row measured at ``sha`` too: epoch time before, after, and after ÷ before."""
    t = {r["framework"]: r for r in rows}
    out = []
    for name, r in t.items():
        old = t.get(f"{name} @{sha}")
        if old:
            per_round = np.array(r["epoch_times"]) / np.array(old["epoch_times"])
            out.append({"framework": name, "before_s": old["epoch_s"], "after_s": r["epoch_s"],
                        "after_over_before": float(np.median(per_round))})
    return out


def _worker(conn, name, path, quick, tree=None):
    """One framework in its own process: build, then run one epoch per request.

    Separate processes keep the thread pools apart: PyTorch's OpenMP threads, still
    spinning after its epoch, would otherwise slow the next framework's BLAS calls.
    With ``tree`` (``--before``), the row ``NAME @sha`` runs NAME with that older tinyae.
    """
    try:
        X, _ = load_data(path, N_TRAIN, quick)
        if tree:
            use_tree(tree)
        t = make_trainer(name.split(" @")[0], X)
        t.run_epoch()                                  # warm-up: compile, caches, allocator
        extra = {}
        if name.startswith("PyTorch"):
            extra["threads"] = t.torch.get_num_threads()
        if name.startswith("scikit"):
            extra["dtype"] = str(t.net.coefs_[0].dtype)
        conn.send(("ready", extra))
    except ImportError as exc:
        conn.send(("skip", str(exc).split(". ")[0]))
        return
    while conn.recv() == "epoch":
        start = time.perf_counter()
        loss = t.run_epoch()
        conn.send((time.perf_counter() - start, float(loss)))


def training(path, n_samples, epochs, quick, pause=0.3, frameworks=None, before=None):
    """Median epoch time per framework; one process each, taking turns epoch by epoch.

    ``before``: ``(sha, tree)`` from :func:`export_tree`; each tinyae row is then also run
    with that older package (rows ``NAME @sha``), in the same rounds.
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    workers, skipped, extra = {}, {}, {}
    names = list(frameworks or FRAMEWORKS)
    if before:
        names += before_rows(names, before[0])
    for name in names:                                # start them one at a time
        parent, child = ctx.Pipe()
        tree = before[1] if before and " @" in name else None
        proc = ctx.Process(target=_worker, args=(child, name, path, quick, tree), daemon=True)
        proc.start()
        status, info = parent.recv()
        if status == "skip":
            skipped[name] = info
            proc.join()
        else:
            workers[name] = (parent, proc)
            extra[name] = info
    times = {name: [] for name in workers}
    losses = {}
    for _ in range(epochs):
        for name, (conn, _) in workers.items():
            time.sleep(pause)                         # let the last one's threads go idle
            wait_until_quiet()
            conn.send("epoch")
            seconds, losses[name] = conn.recv()
            times[name].append(seconds)
    for conn, proc in workers.values():
        conn.send("stop")
        proc.join()
    rows = []
    for name in workers:
        med = float(np.median(times[name]))
        rows.append({"framework": name, "epoch_s": med, "samples_per_s": n_samples / med,
                     "epoch_times": times[name], "final_loss": losses[name], **extra[name]})
    base = {r["framework"]: r["epoch_s"] for r in rows}
    for r in rows:
        for ref in ("tinyae numpy", "tinyae numba"):
            if ref in base:
                r[f"time_vs_{ref.split()[1]}"] = r["epoch_s"] / base[ref]
    out = {"rows": rows, "skipped": skipped}
    if before:
        out["before_after"] = before_after(rows, before[0])
    return out


def goals(rows, products=None):
    """Issue 23's targets for the dense model, each as (goal, measured ratio, target, met).

    Every ratio is an epoch time divided by another (or by the products' own time, the
    floor), all from this one run; a goal is met when the ratio is at most the target.
    """
    t = {r["framework"]: r["epoch_s"] for r in rows}
    if products:
        t["the matrix products alone"] = products["products_s"]
    checks = []

    def add(what, num, den, target):
        if num in t and den in t:
            ratio = t[num] / t[den]
            checks.append({"goal": what, "ratio": ratio, "target": target,
                           "met": ratio <= target})

    add("numba epoch ≤ 0.77× PyTorch's default-Adam epoch", "tinyae numba",
        "PyTorch (default Adam)", 0.77)
    add("numba epoch ≤ 1.0× PyTorch's fused-Adam epoch", "tinyae numba",
        "PyTorch (fused Adam)", 1.0)
    add("numpy epoch ≤ 1.0× PyTorch's default-Adam epoch", "tinyae numpy",
        "PyTorch (default Adam)", 1.0)
    add("numba epoch ≤ 1.7× the matrix products' own time (the floor)", "tinyae numba",
        "the matrix products alone", 1.7)
    return checks


# ----- 3. where the time goes -----------------------------------------------------------------

def products_only(X, quick):
    """Seconds per epoch spent in the matrix products alone, and the epoch's FLOPs.

    Per batch of 128: four forward products ``x @ W``, four ``dW = xᵀ @ dy`` and three
    ``dx = dy @ Wᵀ`` (the fourth, the gradient with respect to the input images, which
    nothing uses, is timed separately: tinyae skipped it since issue 23, PyTorch always did).
    """
    model = ta.Autoencoder.deep(SIZES, hidden="relu", code="relu", seed=0, dtype=np.float32)
    Ws = [layer.params["W"] for layer in model.encoder.layers + model.decoder.layers
          if isinstance(layer, ta.Dense)]
    rng = np.random.default_rng(0)
    acts = [rng.random((BATCH, W.shape[0]), dtype=np.float32) for W in Ws]
    grads = [rng.random((BATCH, W.shape[1]), dtype=np.float32) for W in Ws]
    outs = [np.empty((BATCH, W.shape[1]), np.float32) for W in Ws]
    dWs = [np.empty_like(W) for W in Ws]
    dxs = [np.empty((BATCH, W.shape[0]), np.float32) for W in Ws]

    def step(first_dx):
        for x, W, y, g, dW in zip(acts, Ws, outs, grads, dWs):
            np.matmul(x, W, out=y)
            np.matmul(x.T, g, out=dW)
        for i, (W, g, dx) in enumerate(zip(Ws, grads, dxs)):
            if i or first_dx:
                np.matmul(g, W.T, out=dx)

    n_batches = -(-len(X) // BATCH)
    reps = 3 if quick else 15
    need = float(np.median(timed(lambda: step(False), reps, inner=20))) * n_batches
    with_dx = float(np.median(timed(lambda: step(True), reps, inner=20))) * n_batches
    flops = sum(2.0 * BATCH * W.size for W in Ws) * 3 - 2.0 * BATCH * Ws[0].size
    return {"products_s": need, "products_with_input_grad_s": with_dx,
            "gflop_per_epoch": flops * n_batches / 1e9,
            "gflops_in_products": flops * n_batches / need / 1e9}


def profile_epoch(X, name):
    """tottime by function for one epoch with backend ``name``, grouped into what the time is."""
    t = TinyAE(name, X)
    t.run_epoch()
    prof = cProfile.Profile()
    backend.set_backend(name)
    prof.enable()
    t.run_epoch()
    prof.disable()
    stats = pstats.Stats(prof).stats
    groups = {"matrix products (BLAS)": 0.0, "optimizer step": 0.0, "divergence check": 0.0,
              "activations": 0.0, "loss": 0.0, "input checks": 0.0, "everything else": 0.0}
    total = 0.0
    for (filename, _, func), (_, _, tottime, _, _) in stats.items():
        total += tottime
        where = Path(filename).name
        if func == "matmul":
            groups["matrix products (BLAS)"] += tottime
        elif "adam" in func or where == "optim.py":
            groups["optimizer step"] += tottime
        elif func in ("all_finite", "_stop_if_diverged"):
            groups["divergence check"] += tottime     # NumPy's max and min: everything else
        elif where == "activations.py" or func in ("relu", "relu_backward", "sigmoid",
                                                   "sigmoid_backward", "sigmoid_from_exp"):
            groups["activations"] += tottime
        elif where == "losses.py" or func in ("mse", "bce_with_logits"):
            groups["loss"] += tottime
        elif where == "_validate.py" or func in ("check_array", "check_finite"):
            groups["input checks"] += tottime
        else:
            groups["everything else"] += tottime
    return {"total_s": total, "groups": groups}


# ----- 4. memory ------------------------------------------------------------------------------

def memory_probe(n, name, path):
    """Run in a fresh process: peak memory of one epoch on ``n`` samples (prints JSON)."""
    import resource

    X_all, source = load_data(path, max(n, 60_000) if path else n, quick=False)
    if len(X_all) < n:                                        # MNIST has 60,000
        X_all = np.concatenate([X_all] * (-(-n // len(X_all))))
    X = X_all[:n].copy()
    del X_all
    t = TinyAE(name, X)
    t.model.fit(X[:BATCH * 4], loss="mse", optimizer=ta.Adam(LR), epochs=1, batch_size=BATCH,
                verbose=0)                                    # imports, compiles, caches
    t = TinyAE(name, X)                                       # a fresh model and optimizer
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t.run_epoch()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"samples": n, "backend": name, "data_mb": X.nbytes / 2**20,
                      "training_peak_mb": (peak - before) / 2**20,
                      "model_mb": t.model.n_parameters() * 4 / 2**20,
                      "rss_before_mb": rss_before, "rss_peak_mb": rss_after,
                      "data": source}))


def cli_memory(path, quick, tree=None):
    """Peak resident memory of ``tinyae train`` on MNIST (one epoch), in a fresh process.

    The command of issue 23: ``tinyae train --data mnist:FOLDER --hidden-sizes 256 --code
    32 --dtype float32`` (here ``--epochs 1``: training adds nothing measurable to the
    peak; the PCA baseline, the errors on the whole training set and the figures come
    after it). Goal: the peak is at most the images (float32) + 300 MB. With ``tree``
    (``--before``), the same command with the package in that folder.
    """
    if not path:
        return {"skipped": "no MNIST folder (--mnist)"}
    import tempfile

    out = tempfile.mkdtemp(prefix="tinyae-bench-")
    argv = ["train", "--data", f"mnist:{Path(path).resolve()}", "--hidden-sizes", "256",
            "--code", "32", "--dtype", "float32", "--epochs", "1", "--quiet", "--out", out]
    if quick:
        argv[argv.index("--hidden-sizes") + 1] = "32"
    code = ("import json, resource, sys, tinyae; from tinyae.cli.main import main; "
            f"rc = main({argv!r}); "
            "print(json.dumps({'rc': rc, 'package': tinyae.__file__, 'peak_mb': "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    wait_until_quiet()
    if tree:
        code = code.replace("tinyae.cli.main", "tinyae.cli")   # where main was before the layout
    env = dict(os.environ, PYTHONPATH=tree) if tree else None
    # cwd: python -c puts the working folder first on sys.path, before PYTHONPATH; from the
    # repository's root that would import today's tinyae instead of the tree's
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=out)
    if run.returncode:
        return {"error": run.stderr[-500:]}
    res = json.loads(run.stdout.strip().splitlines()[-1])
    if tree and not res["package"].startswith(tree):
        return {"error": f"--before: imported {res['package']}, not the tree in {tree}"}
    data_mb = (60_000 + 10_000) * 784 * 4 / 2**20
    res.update({"command": "tinyae " + " ".join(argv[:-2]), "data_mb": data_mb,
                "target_mb": data_mb + 300, "met": res["peak_mb"] <= data_mb + 300})
    return res


def memory(path, names, quick):
    rows = []
    for n in ((2_000, 6_000) if quick else (20_000, 60_000)):
        for name in names:
            cmd = [sys.executable, __file__, "--memory-probe", str(n), name]
            wait_until_quiet()
            if path:
                cmd += ["--mnist", str(path)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode:
                rows.append({"samples": n, "backend": name, "error": out.stderr[-500:]})
            else:
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


# ----- 7. start-up: compile once, start fast ---------------------------------------------------

DENSE_KERNELS = ("relu", "relu_backward", "sigmoid_from_exp", "sigmoid_backward", "mse",
                 "adam_update", "all_finite")


def startup_probe():
    """Run in a fresh process: seconds to import Numba and get each kernel of a dense step.

    With an empty ``NUMBA_CACHE_DIR`` the first calls compile (the first run on a
    machine); with a filled one they load the cached machine code (every later run).
    """
    import importlib

    start = time.perf_counter()
    import numba  # noqa: F401

    t_import = time.perf_counter() - start
    K = importlib.import_module("tinyae.backend.numba_kernels")
    x = np.linspace(-2, 2, 4096, dtype=np.float32)
    o = np.empty_like(x)
    args = {"relu": (x, o), "relu_backward": (x, x, o), "sigmoid_from_exp": (x, x, o),
            "sigmoid_backward": (x, x, o), "mse": (x, x, 8, o),
            "adam_update": (x.copy(), x, np.zeros_like(x), np.zeros_like(x), 0.9, 0.999,
                            1e-8, 0.0, 1e-3, 0.03, 1.0),
            "all_finite": (x,)}
    first = {}
    for name in DENSE_KERNELS:
        t = time.perf_counter()
        getattr(K, name)(*args[name])
        first[name] = time.perf_counter() - t
    print(json.dumps({"import_numba_s": t_import, "first_calls_s": first,
                      "total_s": time.perf_counter() - start}))


#: The row of the start-up part that runs the CLI in a Python that cannot import SciPy.
NO_SCIPY = "numba (SciPy hidden)"
#: Numba imports SciPy (for its ``np.linalg`` support) when the first kernel loads, if
#: SciPy is installed: about 0.2 s. The ``fast`` extra alone does not install SciPy; the
#: ``bench`` extra does (scikit-learn needs it). This row runs the same command as a
#: user with the ``fast`` extra alone would, by hiding SciPy from the import system.
WITHOUT_SCIPY = ("import sys; sys.modules['scipy'] = None; from tinyae.cli.main import main; "
                 "sys.exit(main(sys.argv[1:]))")


def startup(quick, rounds=5, before=None):
    """First-run compile time, cached start-up, and the digits CLI with each backend.

    ``tinyae train --backend numpy`` and ``--backend numba`` on the built-in digits
    (the newcomer's first command), each in a fresh process, taking turns; the goal
    (issue 23) is the numba run at most 0.3 s slower, import and cache loading included.
    With ``before`` (``--before``), the same two commands with the older package take
    turns with them (``numpy @sha``, ``numba @sha``).
    """
    import shutil
    import tempfile

    try:
        import numba  # noqa: F401
    except ImportError:
        return {"skipped": "Numba is not installed"}
    res = {}
    cache = tempfile.mkdtemp(prefix="tinyae-numba-cache-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    try:
        probe = [sys.executable, __file__, "--startup-probe"]
        hidden = [sys.executable, "-c", WITHOUT_SCIPY.split("; from")[0] + "; import runpy; "
                  f"sys.argv = {probe[1:]!r}; runpy.run_path(sys.argv[0], run_name='__main__')"]
        # an empty cache (the first run compiles), then the one just filled, then that
        # one again in a Python without SciPy
        for what, cmd in (("compile", probe), ("cached", probe), ("cached_no_scipy", hidden)):
            wait_until_quiet()
            run = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if run.returncode:
                raise RuntimeError(run.stderr)
            res[what] = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    out = tempfile.mkdtemp(prefix="tinyae-bench-")
    import resource

    def cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    names = ["numpy", "numba", NO_SCIPY] + ([f"numpy @{before[0]}", f"numba @{before[0]}"]
                                            if before else [])
    times, cpu_times = {n: [] for n in names}, {n: [] for n in names}

    def command(name):
        args = ["train", "--backend", name.split()[0], "--quiet", "--out", out, "--overwrite"]
        if name == NO_SCIPY:        # as after pip install -e ".[fast]": no SciPy to import
            return [sys.executable, "-c", WITHOUT_SCIPY, *args], None
        return ([sys.executable, "-m", "tinyae", *args],
                dict(os.environ, PYTHONPATH=before[1]) if " @" in name else None)

    for name in names:                  # untimed: fills each package's Numba cache
        cmd, run_env = command(name)
        subprocess.run(cmd, check=True, capture_output=True, env=run_env, cwd=out)
        if " @" in name:                # and the older rows do import the older package
            where = subprocess.run([sys.executable, "-c", "import tinyae; print(tinyae.__file__)"],
                                   check=True, capture_output=True, text=True, env=run_env,
                                   cwd=out).stdout.strip()
            if not where.startswith(before[1]):
                raise RuntimeError(f"--before: {name} imported {where}, not {before[1]}")
    for _ in range(2 if quick else rounds):
        for name in times:
            wait_until_quiet()
            cmd, run_env = command(name)
            start, start_cpu = time.perf_counter(), cpu()
            subprocess.run(cmd, check=True, capture_output=True, env=run_env, cwd=out)
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(cpu() - start_cpu)
    shutil.rmtree(out, ignore_errors=True)
    med = {k: float(np.median(v)) for k, v in times.items()}
    med_cpu = {k: float(np.median(v)) for k, v in cpu_times.items()}
    res["cli"] = {"times": times, "cpu_times": cpu_times, "median_s": med,
                  "median_cpu_s": med_cpu, "extra_s": med["numba"] - med["numpy"],
                  "extra_cpu_s": med_cpu["numba"] - med_cpu["numpy"],
                  "met": med["numba"] - med["numpy"] <= 0.3,
                  "extra_no_scipy_s": med[NO_SCIPY] - med["numpy"],
                  "met_no_scipy": med[NO_SCIPY] - med["numpy"] <= 0.3}
    return res


# ----- 5. convolutions ------------------------------------------------------------------------

CONV_CODE = 32


def conv_models():
    """``(tinyae builder, PyTorch builder)`` of the conv autoencoder (issue 10, item 6).

    28×28×1 → Conv 3×3 16, stride 2 → Conv 3×3 32, stride 2 → Dense to a 32-unit code →
    Dense back to 32×7×7 → ConvTranspose 4×4 to 16×14×14 → ConvTranspose 4×4 to 1×28×28,
    stride 2, padding 1 throughout; ReLU inside, sigmoid output: 115,217 parameters in
    both. The tinyae model is :func:`conv_vs_dense.conv_model`, the one the MNIST
    comparison trains.
    """
    sys.path.insert(0, str(HERE))
    from conv_vs_dense import conv_model

    def torch_model():
        from torch import nn

        return nn.Sequential(
            nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 7 * 7, CONV_CODE),
            nn.Linear(CONV_CODE, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
            nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Sigmoid())

    return (lambda: conv_model(CONV_CODE, seed=0, dtype=np.float32)), torch_model


HINTON = [784, 1000, 500, 250, 30]


def hinton_torch(batchnorm, dropout):
    """784-1000-500-250-30 and back in PyTorch, laid out as ``Autoencoder.deep`` lays it out:
    Linear → [BatchNorm1d] → ReLU → [Dropout] for each hidden layer, a linear code, and a
    sigmoid output."""
    from torch import nn

    def stack(widths, last):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            hidden = i < len(widths) - 2
            layers.append(nn.Linear(n_in, n_out))
            if hidden and batchnorm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.ReLU() if hidden else last)
            if hidden and dropout:
                layers.append(nn.Dropout(dropout))
        return layers

    return nn.Sequential(*stack(HINTON, nn.Identity()), *stack(HINTON[::-1], nn.Sigmoid()))


class TinyModel(TinyAE):
    """Any tinyae model, trained like :class:`TinyAE` (``fit`` for one epoch)."""

    def __init__(self, backend_name, X, model):
        self.name, self.X, self.model = backend_name, X, model
        load_kernels_at_once(backend_name)
        backend.set_backend(backend_name)
        self.opt = ta.Adam(lr=LR)
        self.epoch = 0


class TorchModel(Torch):
    """Any PyTorch model, trained with the loop of :class:`Torch` (default Adam)."""

    def __init__(self, X, net):
        import torch

        self.torch = torch
        torch.manual_seed(0)
        self.net = net
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR)
        self.X = torch.from_numpy(X)

    def run_epoch(self):
        self.net.train()
        return super().run_epoch()


CONV_FRAMEWORKS = ["tinyae numpy (conv)", "tinyae numba (conv)", "tinyae numba parallel (conv)",
                   "PyTorch (conv)"]
BN_ADDED = ("", " + BatchNorm", " + BatchNorm + Dropout 0.1")
#: Who trains the Hinton rows: "tinyae" is the numpy backend (the name the stored results
#: use). "PyTorch flush-denormal" is PyTorch with ``torch.set_flush_denormal(True)`` in its
#: process: its plain model's output layer receives a gradient with subnormal floats
#: (about 860 of the 128×784 per batch in float32: σ'(z)·(σ(z) − x) for saturated
#: pixels), each a slow microcode assist in MKL's products, which made PyTorch's plain
#: epoch slower than its BatchNorm epoch; flushed, the two take the same time.
BN_WHO = ("tinyae", "tinyae numba", "PyTorch", "PyTorch flush-denormal")
BN_FRAMEWORKS = [f"{who} Hinton{extra}" for who in BN_WHO for extra in BN_ADDED
                 if not (who == "PyTorch flush-denormal" and "Dropout" in extra)]


def make_model_trainer(name, X):
    """Trainers for parts 5 and 6 (``make_trainer`` covers part 2)."""
    if name.endswith("(conv)"):
        tiny, torch_model = conv_models()
        images = np.ascontiguousarray(X.reshape(-1, 1, 28, 28))
        if name.startswith("PyTorch"):
            return TorchModel(images, torch_model())
        return TinyModel(name.split()[1], images, tiny())
    batchnorm, dropout = "BatchNorm" in name, (0.1 if "Dropout" in name else 0.0)
    if name.startswith("PyTorch"):
        if "flush-denormal" in name:              # this worker process only
            import torch

            torch.set_flush_denormal(True)
        return TorchModel(X, hinton_torch(batchnorm, dropout))
    model = ta.Autoencoder.deep(HINTON, hidden="relu", code="identity", output="sigmoid",
                                seed=0, dtype=np.float32, batchnorm=batchnorm,
                                dropout=dropout)
    return TinyModel("numba" if name.startswith("tinyae numba") else "numpy", X, model)


def conv_goals(rows):
    """Issue 23's targets: epoch time ÷ PyTorch's, numpy ≤ 1.5, numba ≤ 0.9."""
    t = {r["framework"]: r["epoch_s"] for r in rows}
    out = []
    for name, target in (("tinyae numpy (conv)", 1.5), ("tinyae numba (conv)", 0.9)):
        if name in t and "PyTorch (conv)" in t:
            ratio = t[name] / t["PyTorch (conv)"]
            out.append({"goal": f"{name} epoch time ≤ {target}× PyTorch's", "ratio": ratio,
                        "target": target, "met": ratio <= target})
    return out


BN_TARGET = 1.05      # tinyae's with ÷ without at most 1.05 × PyTorch's


def batchnorm_costs(rows):
    """Epoch time with ÷ without, per framework; issue 23: tinyae's ≤ PyTorch's + 5%.

    The ratio is the median over rounds of (epoch with) / (epoch without) of the same
    round: the frameworks take turns, so the two epochs of a round ran back to back under
    the same load, and a change of load between rounds cancels. The ratio of the median
    epoch times is kept beside it (``*_ratio_of_medians``).

    Keys: ``{who}_ratio`` for each of :data:`BN_WHO` (spaces as ``_``); the goal, per
    tinyae backend, is ``{tinyae}_over_torch`` = its ratio ÷ PyTorch's (as published,
    no flushing) ≤ :data:`BN_TARGET` (``met``: numpy, ``met_numba``: numba).
    """
    t = {r["framework"]: r for r in rows}
    out = []
    for extra in BN_ADDED[1:]:
        row = {"added": extra.lstrip(" +")}
        for who in BN_WHO:
            with_, without = t.get(f"{who} Hinton{extra}"), t.get(f"{who} Hinton")
            if with_ and without:
                key = who.replace(" ", "_")
                per_round = np.array(with_["epoch_times"]) / np.array(without["epoch_times"])
                row[f"{key}_ratio"] = float(np.median(per_round))
                row[f"{key}_ratio_of_medians"] = with_["epoch_s"] / without["epoch_s"]
        for tiny, met in (("tinyae", "met"), ("tinyae_numba", "met_numba")):
            if f"{tiny}_ratio" in row and "PyTorch_ratio" in row:
                row[f"{tiny}_over_torch"] = row[f"{tiny}_ratio"] / row["PyTorch_ratio"]
                row[met] = row[f"{tiny}_over_torch"] <= BN_TARGET
        out.append(row)
    return out


CONV_GROUPS = {"im2col gather": ("__init__.py", ("im2col",)),
               "col2im scatter": ("__init__.py", ("col2im",)),
               "layout (channels_first, to_images)": ("__init__.py",
                                                      ("channels_first", "to_images")),
               "matrix products (BLAS)": ("__init__.py", ("matmul", "matmul_by_transpose")),
               # a product and the move of its result into images, one backend call
               "products into images (BLAS + layout)": ("__init__.py", ("images_from_product",)),
               "input checks": ("_validate.py", ("check_array",))}


def profile_conv_epoch(X, name):
    """Where a conv epoch's time goes: cumulative time of the backend functions per group.

    For each function named in ``CONV_GROUPS``, the largest cumtime among the entries of
    that name in that file: the module-level function the layers call, which includes
    the backend method and the NumPy or Numba work under it. The rest of the epoch
    (activations, Adam, the loss, Python) is "everything else".
    """
    tiny, _ = conv_models()
    t = TinyModel(name, np.ascontiguousarray(X.reshape(-1, 1, 28, 28)), tiny())
    t.run_epoch()
    prof = cProfile.Profile()
    backend.set_backend(name)
    prof.enable()
    start = time.perf_counter()
    t.run_epoch()
    wall = time.perf_counter() - start
    prof.disable()
    stats = pstats.Stats(prof).stats
    cum = {}
    for (filename, _, func), (_, _, _, cumtime, _) in stats.items():
        key = (Path(filename).name, func)
        cum[key] = max(cum.get(key, 0.0), cumtime)
    groups = {group: sum(cum.get((where, f), 0.0) for f in funcs)
              for group, (where, funcs) in CONV_GROUPS.items()}
    total = sum(st[2] for st in stats.values())
    groups["everything else"] = total - sum(groups.values())
    return {"total_s": total, "wall_s": wall, "groups": groups}


# ----- report ---------------------------------------------------------------------------------

def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


def report(res):
    m = res["machine"]
    blas = m["blas"]
    env = ", ".join(f"{k}={v}" for k, v in m["env"].items() if v) or "none set"
    print(f"\nMachine: {m['cpu']}, {m['cores']} cores; BLAS: {blas['library']} "
          f"{blas['version']} (kernel {blas['kernel']}, {blas['threads']} threads); "
          f"env: {env}")
    v = m["versions"]
    print("Versions: " + ", ".join(f"{k} {v[k]}" for k in v if v[k]))
    print(f"Data: {res['data']}")
    print(f"Load average (1, 5, 15 min) at start {res['load_start']}, at end {res['load_end']}")
    q = res["wait_quiet"]
    if q["enabled"]:
        print(f"--wait-quiet: waited for idle CPUs {q['waits']} times, "
              f"{q['timeouts']} of them in vain (60 s)")

    if "ladder" in res:
        report_dense(res)
    if "memory" in res:
        report_memory(res)
    if "cli_memory" in res:
        report_cli_memory(res)
    if "cli_memory_before" in res and "peak_mb" in res["cli_memory_before"]:
        print(f"   before/after: the same command at {res['before']['sha']} peaked at "
              f"{res['cli_memory_before']['peak_mb']:.0f} MB")
    if "startup" in res:
        report_startup(res)
    if "conv" in res or "batchnorm" in res:
        report_models(res)


def report_dense(res):
    lad = res["ladder"]
    print(f"\n1. Matmul ladder, ({lad['shape'][0]}, {lad['shape'][1]}) @ "
          f"({lad['shape'][1]}, {lad['shape'][2]}), best of repeats")
    print(table(["dtype", "kernel", "GFLOP/s", "× BLAS", "first call s"],
                [[r["dtype"], r["kernel"], f"{r['gflops_best']:.1f}", f"{r['vs_blas']:.2f}",
                  f"{r['first_call_s']:.2f}"] for r in lad["rows"]]))

    tr = res["training"]
    print(f"\n2. Training, 784-256-64-256-784, batch {BATCH}, float32, "
          f"median of {res['epochs']} epochs after a warm-up")
    print(table(["framework", "s / epoch", "samples / s", "time ÷ tinyae numpy",
                 "time ÷ tinyae numba", "final loss"],
                [[r["framework"], f"{r['epoch_s']:.3f}", f"{r['samples_per_s']:,.0f}",
                  f"{r.get('time_vs_numpy', float('nan')):.2f}",
                  f"{r.get('time_vs_numba', float('nan')):.2f}", f"{r['final_loss']:.2f}"]
                 for r in tr["rows"]]))
    for name, why in tr["skipped"].items():
        print(f"  ({name} skipped: {why})")
    report_parallel(tr["rows"], "tinyae numba", "tinyae numba parallel")
    report_before_after(tr, res)
    print("\nGoals:")
    for g in res["goals"]:
        print(f"  {'met   ' if g['met'] else 'MISSED'} {g['goal']}: {g['ratio']:.2f}× "
              f"(target ≤ {g['target']}×)")

    p = res["products"]
    print(f"\n3. Where the time goes: the matrix products of one epoch alone take "
          f"{p['products_s']:.3f} s ({p['gflop_per_epoch']:.1f} GFLOP at "
          f"{p['gflops_in_products']:.0f} GFLOP/s); with the unused input gradient "
          f"{p['products_with_input_grad_s']:.3f} s")
    names = list(res["profile"])
    groups = list(res["profile"][names[0]]["groups"])
    print(table(["cProfile, s / epoch", *names],
                [[g, *(f"{res['profile'][n]['groups'][g]:.3f}" for n in names)] for g in groups]
                + [["total (profiled)", *(f"{res['profile'][n]['total_s']:.3f}" for n in names)]]))


def report_memory(res):
    print("\n4. Peak memory of one training epoch: arrays allocated by training (tracemalloc),\n"
          "   on top of the data set and the parameters; Adam's state (m, v and a scratch\n"
          "   array) is three times the parameters, the rest is one batch's activations")
    print(table(["samples", "backend", "data set MB", "training peak MB", "parameters MB",
                 "process RSS MB"],
                [[r["samples"], r["backend"], f"{r['data_mb']:.1f}",
                  f"{r['training_peak_mb']:.1f}", f"{r['model_mb']:.1f}",
                  f"{r['rss_peak_mb']:.0f}"] if "error" not in r
                 else [r["samples"], r["backend"], "error", r["error"][-60:], "", ""]
                 for r in res["memory"]]))


def report_before_after(section, res):
    """The ``--before`` table of one part: each tinyae row's epoch before and after."""
    if not section.get("before_after"):
        return
    sha = res["before"]["sha"]
    print(f"  before/after: the same rows with tinyae at {sha} ({res['before']['rev']}), "
          "in the same rounds")
    print(table(["tinyae", f"s / epoch at {sha}", "s / epoch now", "now ÷ before"],
                [[r["framework"], f"{r['before_s']:.3f}", f"{r['after_s']:.3f}",
                  f"{r['after_over_before']:.2f}"] for r in section["before_after"]]))


def report_parallel(rows, serial, parallel):
    """The threading choice: the prange kernels' epoch ÷ the serial kernels', same run."""
    t = {r["framework"]: r for r in rows}
    if serial in t and parallel in t:
        per_round = np.array(t[parallel]["epoch_times"]) / np.array(t[serial]["epoch_times"])
        print(f"  threads: {parallel} ÷ {serial} = {np.median(per_round):.2f} (median over "
              f"rounds; below 1: TINYAE_NUMBA_PARALLEL=1 pays on this machine)")


def report_startup(res):
    st = res["startup"]
    if "skipped" in st:
        print(f"\n7. Start-up: skipped ({st['skipped']})")
        return
    c, w = st["compile"], st["cached"]
    print("\n7. Start-up of the numba backend (fresh processes): import Numba, then the first "
          "call of each kernel of a dense step (float32)")
    print(table(["", "import numba s", *DENSE_KERNELS, "total s"],
                [[label, f"{r['import_numba_s']:.2f}",
                  *(f"{r['first_calls_s'][k]:.2f}" for k in DENSE_KERNELS), f"{r['total_s']:.2f}"]
                 for label, r in (("first run (compiles)", c), ("later runs (cache)", w),
                                  ("later runs, SciPy hidden", st["cached_no_scipy"]))]))
    print(f"   first-run compile time: {c['total_s']:.1f} s (once per machine); "
          f"later runs: {w['total_s']:.2f} s to import and load the cached kernels")
    cli = st["cli"]
    print(f"   tinyae train on the digits (median of {len(cli['times']['numpy'])}, fresh "
          f"processes): numpy {cli['median_s']['numpy']:.2f} s, numba "
          f"{cli['median_s']['numba']:.2f} s (CPU time {cli['median_cpu_s']['numpy']:.2f} "
          f"and {cli['median_cpu_s']['numba']:.2f} s)")
    if any(" @" in k for k in cli["median_s"]):
        print("   before/after: " + ", ".join(f"{k} {v:.2f} s" for k, v in cli["median_s"].items()
                                              if k != NO_SCIPY))
    print(f"  {'met   ' if cli['met'] else 'MISSED'} numba ≤ numpy + 0.3 s on the digits: "
          f"{cli['extra_s']:+.2f} s (importing Numba and loading its cached kernels)")
    print(f"  {'met   ' if cli['met_no_scipy'] else 'MISSED'} the same with the fast extra "
          f"alone (SciPy hidden, {cli['median_s'][NO_SCIPY]:.2f} s): "
          f"{cli['extra_no_scipy_s']:+.2f} s")


def report_cli_memory(res):
    m = res["cli_memory"]
    if "skipped" in m or "error" in m:
        print(f"\n   tinyae train peak memory: {m.get('skipped') or m.get('error')}")
        return
    print(f"\n   `{m['command']}`: peak resident memory {m['peak_mb']:.0f} MB for "
          f"{m['data_mb']:.0f} MB of images")
    print(f"  {'met   ' if m['met'] else 'MISSED'} peak ≤ images + 300 MB: {m['peak_mb']:.0f} MB "
          f"(target {m['target_mb']:.0f} MB)")


def report_models(res):
    if "conv" in res:
        c = res["conv"]
        print(f"\n5. Convolutions: the conv autoencoder of issue 10 (28×28×1 → 16 → 32 → code "
              f"{CONV_CODE} → back, stride 2, 115,217 parameters), batch {BATCH}, float32, "
              f"median of {res['epochs']} epochs")
        torch_s = {r["framework"]: r["epoch_s"] for r in c["rows"]}.get("PyTorch (conv)")
        print(table(["framework", "s / epoch", "samples / s", "time ÷ PyTorch", "final loss"],
                    [[r["framework"], f"{r['epoch_s']:.3f}", f"{r['samples_per_s']:,.0f}",
                      f"{r['epoch_s'] / torch_s:.2f}" if torch_s else "-",
                      f"{r['final_loss']:.2f}"] for r in c["rows"]]))
        for name, why in c["skipped"].items():
            print(f"  ({name} skipped: {why})")
        report_parallel(c["rows"], "tinyae numba (conv)", "tinyae numba parallel (conv)")
        report_before_after(c, res)
        for g in c["goals"]:
            print(f"  {'met   ' if g['met'] else 'MISSED'} {g['goal']}: {g['ratio']:.2f}×")
        names = list(c["profile"])
        if names:
            groups = list(c["profile"][names[0]]["groups"])
            print(table(["cProfile, s / epoch", *names],
                        [[g, *(f"{c['profile'][n]['groups'][g]:.3f}" for n in names)]
                         for g in groups]
                        + [["total (profiled)",
                            *(f"{c['profile'][n]['total_s']:.3f}" for n in names)]]))
    if "batchnorm" in res:
        b = res["batchnorm"]
        print(f"\n6. Cost of BatchNorm and Dropout: 784-1000-500-250-30 autoencoder (ReLU, "
              f"Adam, batch {BATCH}, float32; tinyae = numpy backend), median of "
              f"{res['epochs']} epochs")
        print(table(["framework", "s / epoch", "final loss"],
                    [[r["framework"], f"{r['epoch_s']:.3f}", f"{r['final_loss']:.2f}"]
                     for r in b["rows"]]))
        for name, why in b["skipped"].items():
            print(f"  ({name} skipped: {why})")
        report_before_after(b, res)
        def ratio(r, key):
            return f"{r.get(key, float('nan')):.3f}"

        def goal(r, key):
            return {True: "met", False: "MISSED"}.get(r.get(key), "-")

        print("   epoch with ÷ without, median over rounds; goal: tinyae's ÷ PyTorch's ≤ "
              f"{BN_TARGET:.2f} (PyTorch flush-denormal: the reference without the subnormal "
              "floats of its plain model's output gradient, for comparison)")
        print(table(["added", "tinyae numpy", "tinyae numba", "PyTorch", "PyTorch flushed",
                     "numpy ÷ PyTorch", "goal", "numba ÷ PyTorch", "goal"],
                    [[r["added"], ratio(r, "tinyae_ratio"), ratio(r, "tinyae_numba_ratio"),
                      ratio(r, "PyTorch_ratio"), ratio(r, "PyTorch_flush-denormal_ratio"),
                      ratio(r, "tinyae_over_torch"), goal(r, "met"),
                      ratio(r, "tinyae_numba_over_torch"), goal(r, "met_numba")]
                     for r in b["costs"]]))


PARTS = ["dense", "memory", "conv", "batchnorm", "startup"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_mnist = os.environ.get("TINYAE_MNIST") or str(HERE.parent.parent / "shared" /
                                                          "data" / "mnist")
    p.add_argument("--mnist", default=default_mnist, help="folder with the MNIST IDX files")
    p.add_argument("--epochs", type=int, default=7, help="timed epochs per framework")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    p.add_argument("--out", default=None, help="JSON file (default benchmarks/results/...)")
    p.add_argument("--wait-quiet", action="store_true",
                   help="before each measurement, wait (up to 60 s) for idle CPUs (Linux)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS,
                   help="what to measure (default: all): dense = parts 1-3 (ladder, training, "
                        "profile), memory = 4 (and the CLI's peak), conv = 5, batchnorm = 6, "
                        "startup = 7")
    p.add_argument("--before", metavar="REV", default=None,
                   help="also time each tinyae row with the package as it was at git "
                        "revision REV, in the same rounds (a before/after table)")
    p.add_argument("--memory-probe", nargs=2, metavar=("N", "BACKEND"), help=argparse.SUPPRESS)
    p.add_argument("--ladder-probe", nargs=2, metavar=("KERNEL", "DTYPE"), help=argparse.SUPPRESS)
    p.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.startup_probe:
        startup_probe()
        return
    path = args.mnist if args.mnist and Path(args.mnist).is_dir() else None
    if args.memory_probe:
        memory_probe(int(args.memory_probe[0]), args.memory_probe[1], path)
        return
    if args.ladder_probe:
        ladder_probe(args.ladder_probe[0], np.dtype(args.ladder_probe[1]), args.quick)
        return

    QUIET["enabled"] = args.wait_quiet
    info = machine()
    print(f"tinyae benchmark on {info['cpu']} ({info['cores']} cores)", flush=True)
    X, source = load_data(path, N_TRAIN, args.quick)
    epochs = 2 if args.quick else args.epochs
    res = {"machine": info, "data": source, "epochs": epochs, "batch": BATCH,
           "parts": args.parts, "load_start": [round(x, 2) for x in os.getloadavg()]}
    have_numba = True
    before = export_tree(args.before) if args.before else None
    if before:
        res["before"] = {"rev": args.before, "sha": before[0]}
    if "dense" in args.parts:
        print("matmul ladder ...", flush=True)
        res["ladder"] = ladder(args.quick)
        print("training ...", flush=True)
        res["training"] = training(path, len(X), epochs, args.quick, before=before)
        have_numba = "tinyae numba" not in res["training"]["skipped"]
        print("profile ...", flush=True)
        wait_until_quiet()
        res["products"] = products_only(X, args.quick)
        res["goals"] = goals(res["training"]["rows"], res["products"])
        res["profile"] = {}
        for n in ["numpy"] + (["numba"] if have_numba else []):
            wait_until_quiet()
            res["profile"][n] = profile_epoch(X, n)
    if "conv" in args.parts:
        print("convolutions ...", flush=True)
        conv = training(path, len(X), epochs, args.quick, frameworks=CONV_FRAMEWORKS,
                        before=before)
        conv["goals"] = conv_goals(conv["rows"])
        conv["profile"] = {}
        for n in ("numpy", "numba"):
            if f"tinyae {n} (conv)" in conv["skipped"]:
                continue
            wait_until_quiet()
            conv["profile"][n] = profile_conv_epoch(X, n)
        res["conv"] = conv
        have_numba = "tinyae numba (conv)" not in conv["skipped"]
    if "batchnorm" in args.parts:
        print("BatchNorm and Dropout ...", flush=True)
        bn = training(path, len(X), epochs, args.quick, frameworks=BN_FRAMEWORKS,
                      before=before)
        bn["costs"] = batchnorm_costs(bn["rows"])
        res["batchnorm"] = bn
    if "memory" in args.parts:
        print("memory ...", flush=True)
        res["memory"] = memory(path, ["numpy"] + (["numba"] if have_numba else []),
                               args.quick)
        res["cli_memory"] = cli_memory(path, args.quick)
        if before:
            res["cli_memory_before"] = cli_memory(path, args.quick, tree=before[1])
    if "startup" in args.parts:
        print("start-up ...", flush=True)
        res["startup"] = startup(args.quick, before=before)
    if before:
        import shutil

        shutil.rmtree(before[1], ignore_errors=True)
    res["load_end"] = [round(x, 2) for x in os.getloadavg()]
    res["wait_quiet"] = dict(QUIET)
    report(res)
    default = f"{machine_slug(info)}.json" if args.parts == PARTS else \
        f"{machine_slug(info)}-{'-'.join(args.parts)}.json"
    out = Path(args.out) if args.out else HERE / "results" / default
    if not args.quick or args.out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1, default=float) + "\n")
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
