"""Train a tinyae autoencoder on several CPU processes with PyTorch's DistributedDataParallel.

Lesson 21 uses this module. Each process (a *rank*) holds a replica of the model and a
shard of the data; after every ``backward`` DDP averages the gradients over the ranks
(``gloo`` all-reduce), so every rank takes the same step and the replicas stay identical.

How the processes start: each worker is a **fresh Python interpreter**
(``python -m tinyae.bridge.ddp FOLDER RANK``), what ``torchrun`` and the ``spawn``
start method do; nothing of the parent's state is inherited. A process made by ``fork``
copies the parent's memory but not its threads: once the parent has run PyTorch with
several threads, a forked child can wait forever for an OpenMP thread pool that does not
exist in it (PyTorch's multiprocessing notes: "use spawn or forkserver"). Fresh
interpreters also work where ``fork`` does not exist (Windows) or is unsafe (macOS, CUDA).
``multiprocessing``'s own ``spawn`` is not used because it re-runs the parent's
``__main__`` file in every child, which for a lesson run as a script means the whole
lesson. The parent hands the model, the data and the settings over in files in a
temporary folder, and reads each rank's results back from a file of its own.

PyTorch is imported only inside the functions: ``import tinyae`` never imports it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["train", "worker"]


def _flat(tensors):
    import torch
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def worker(rank, folder):
    """What each process runs: rank ``rank`` of the run described in ``folder``.

    Reads ``settings.json``, ``start.npz`` (the tinyae model) and ``data.npy``; writes
    ``rank{rank}.npz`` with this rank's gradient on its first minibatch before
    (``local``) and after (``averaged``) DDP's all-reduce, its final weights as one flat
    vector (``weights``, in ``parameters()`` order) and how many samples it saw an epoch.
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

    from ..data.modelfile import load
    from .pytorch import to_torch

    folder = Path(folder)
    s = json.loads((folder / "settings.json").read_text())
    torch.set_num_threads(1)            # one thread a rank: the ranks share the cores
    store = dist.FileStore(str(folder / "rendezvous"), s["world"])
    dist.init_process_group("gloo", store=store, rank=rank, world_size=s["world"])
    net = to_torch(load(folder / "start.npz")).train()
    ddp = DDP(nn.Sequential(net.encoder, net.decoder[:-1]))   # logits; rank 0's weights
    make = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[s["optimizer"]]
    opt = make(ddp.parameters(), lr=s["lr"])
    data = TensorDataset(torch.from_numpy(np.load(folder / "data.npy")))
    sampler = DistributedSampler(data, num_replicas=s["world"], rank=rank, shuffle=True,
                                 seed=s["seed"])
    loader = DataLoader(data, batch_size=s["batch_size"], sampler=sampler)

    def loss_of(xb):
        return F.binary_cross_entropy_with_logits(ddp(xb), xb, reduction="sum") / len(xb)

    for epoch in range(s["epochs"]):
        sampler.set_epoch(epoch)                # a new shuffled order every epoch
        for step, (xb,) in enumerate(loader):
            if epoch == step == 0:
                with ddp.no_sync():             # this rank's own gradient, no averaging
                    loss_of(xb).backward()
                local = _flat(p.grad for p in ddp.parameters())
                opt.zero_grad()
            loss_of(xb).backward()              # DDP averages over the ranks here
            if epoch == step == 0:
                averaged = _flat(p.grad for p in ddp.parameters())
            opt.step()
            opt.zero_grad()
    np.savez(folder / f"rank{rank}.npz", local=local.numpy(), averaged=averaged.numpy(),
             weights=_flat(ddp.parameters()).numpy(), n_samples=len(sampler))
    dist.destroy_process_group()


def train(model, X, world=2, epochs=10, batch_size=32, lr=3e-3, seed=0, timeout=300,
          optimizer="adam"):
    """Train copies of ``model`` on ``world`` CPU processes with DDP; return each rank's results.

    Parameters
    ----------
    model : Autoencoder
        A dense tinyae autoencoder with a sigmoid output; it is not changed.
    X : ndarray, shape (N, D)
        The training data, float64, shared among the ranks by ``DistributedSampler``.
    world : int
        The number of processes.
    epochs, batch_size, lr, seed : training settings (fused cross-entropy; a
        minibatch of ``batch_size`` on every rank, so ``world * batch_size`` per step).
    timeout : float
        Seconds to wait for the processes; then they are killed and ``TimeoutError``
        is raised.
    optimizer : {"adam", "sgd"}
        ``torch.optim.Adam`` or ``torch.optim.SGD``, with learning rate ``lr``.

    Returns
    -------
    list of dict
        One dict per rank with ``local``, ``averaged``, ``weights`` (1-D arrays) and
        ``n_samples`` (see :func:`worker`).
    """
    if int(world) < 1:
        raise ValueError(f"world must be at least 1 process, got {world}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    folder = Path(tempfile.mkdtemp(prefix="tinyae-ddp-"))
    try:
        model.save(folder / "start.npz")
        np.save(folder / "data.npy", X)
        settings = dict(world=int(world), epochs=int(epochs), batch_size=int(batch_size),
                        lr=float(lr), seed=int(seed), optimizer=optimizer)
        (folder / "settings.json").write_text(json.dumps(settings))
        # The children import the same tinyae as this process, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        logs = [open(folder / f"rank{r}.log", "w") for r in range(world)]
        processes = [subprocess.Popen([sys.executable, "-m", "tinyae.bridge.ddp", str(folder),
                                       str(r)], env=env, stdout=logs[r], stderr=subprocess.STDOUT)
                     for r in range(world)]
        deadline = time.monotonic() + timeout
        try:
            while any(process.poll() is None for process in processes):
                failed = [r for r, process in enumerate(processes) if process.poll()]
                if failed:                          # one rank failed: the others would wait
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the {world} DDP processes did not finish in "
                                       f"{timeout:g} s; they were stopped")
                time.sleep(0.05)
            for r, process in enumerate(processes):
                if process.poll():
                    logs[r].flush()
                    tail = (folder / f"rank{r}.log").read_text()[-2000:]
                    raise RuntimeError(f"DDP rank {r} exited with code {process.returncode}:"
                                       f"\n{tail}")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            for log in logs:
                log.close()
        results = []
        for r in range(world):
            with np.load(folder / f"rank{r}.npz") as f:
                results.append({k: f[k] for k in f.files})
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    worker(int(sys.argv[2]), sys.argv[1])
