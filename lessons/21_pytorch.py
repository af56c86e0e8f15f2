# %% [markdown]
# # Lesson 21: Going on to PyTorch
#
# You have built an autoencoder by hand: every layer, every derivative, every optimizer
# step. One day the data will not fit one process any more, or you will want a GPU.
# tinyae will not grow a distributed engine of its own for that day. It hands you over
# to PyTorch, the tool you will use next, with the model you already understand, its
# trained weights, and the same numbers. This last lesson makes the crossing and checks
# every step of it: the same outputs, the same gradients, the same weights coming back.
# Then it trains the same autoencoder on two processes at once with PyTorch's
# `DistributedDataParallel`, and shows exactly what that does to the gradients.
#
# ## Objectives
#
# - Carry a trained tinyae model to PyTorch (`ta.to_torch`) and back (`ta.from_torch`),
#   and check that outputs agree to about 1e-15 in float64.
# - Read each hand-written layer beside its PyTorch line, and see autograd give the
#   gradients you derived by hand.
# - Know where the conventions differ: the weight layout of a dense layer, the reduction
#   of the loss, where the sigmoid sits.
# - Keep training in PyTorch, bring the model back, and hand the weights to someone who
#   has only PyTorch, in a safetensors file.
# - Train on two CPU processes with `DistributedDataParallel` (`gloo`), each on its own
#   shard of the data, and check that the gradients are averaged and the two replicas
#   stay identical, bit for bit.
#
# ## Prerequisites
#
# Lesson 2 (the dense layer, row convention), lesson 4 (the fused cross-entropy from
# logits), lesson 5 (backpropagation by hand), lesson 7 (minibatches and Adam), and
# lessons 18–19 for BatchNorm and convolution. PyTorch (the CPU build) and safetensors:
# `pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu`, then
# `pip install -e ".[torch]"`. Without them this lesson says so and stops.

# %%
import os
from pathlib import Path
FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import inspect
import sys
import tempfile
import textwrap
import time

import numpy as np

import tinyae as ta

try:
    import torch
    import torch.nn.functional as F
    from safetensors import safe_open
    from safetensors.torch import load_file
    from torch import nn
    from torch.utils.data import DistributedSampler, TensorDataset
except ImportError as exc:
    print(f"Lesson 21 stops here: it needs PyTorch and safetensors ({exc}).\n"
          "Install the CPU build of torch, then safetensors:\n"
          '  pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu\n'
          '  pip install -e ".[torch]"')
    sys.exit(0)

# small matrices, a shared 2-core machine: one thread is fastest
torch.set_num_threads(1)
start = time.perf_counter()
print(f"PyTorch {torch.__version__}, tinyae {ta.__version__}")

# %% [markdown]
# ## 1. Train in tinyae
#
# The deep autoencoder of lesson 10 on the built-in digits, 64 → 32 → 8 → 32 → 64: ReLU
# hidden layers, a linear code, a sigmoid output, cross-entropy loss (fused with the
# sigmoid), Adam. Everything in float64, so that any difference we see later is a real
# one and not float32 rounding.

# %%
X, _ = ta.load_digits()
X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
EPOCHS = 5 if FAST else 40
model = ta.Autoencoder.deep([64, 32, 8], seed=0)
model.fit(X_train, loss="bce", optimizer=ta.Adam(3e-3), epochs=EPOCHS, batch_size=32,
          verbose=0)
error_tinyae = model.reconstruction_error(X_test)
print(model)
print(f"after {EPOCHS} epochs in tinyae: test error {error_tinyae:.4f} "
      "(squared error per image)")

# %% [markdown]
# ## 2. Carry it to PyTorch
#
# `ta.to_torch(model)` builds the `torch.nn` twin of every layer and copies every weight
# into it. The autoencoder becomes an `nn.Sequential` with two named halves, so
# `net.encoder` and `net.decoder` run on their own, as `model.encoder` and
# `model.decoder` do.

# %%
net = ta.to_torch(model)
print(net)

# %% [markdown]
# The first difference to know: **the weight layout**. tinyae keeps one sample per row
# and computes `y = x @ W + b` with `W` of shape `(n_in, n_out)`. PyTorch's `nn.Linear`
# keeps `weight` of shape `(n_out, n_in)`, the column convention of the textbooks, and
# computes `y = x @ weight.T + bias`. The same layer: `weight = W.T`.

# %%
W = model.encoder[0].params["W"]
weight = net.encoder[0].weight.detach().numpy()
print(f"tinyae  encoder[0] W      {W.shape}")
print(f"PyTorch encoder[0] weight {tuple(weight.shape)}")
assert np.array_equal(weight, W.T)

# %% [markdown]
# Now the whole model, in eval mode, on the test digits:

# %%
print(f"{len(X_test)} test digits")
net.eval()
with torch.no_grad():
    out_torch = net(torch.from_numpy(X_test)).numpy()
out_tinyae = model.reconstruct(X_test)
diff = np.max(np.abs(out_torch - out_tinyae))
print(f"largest difference between the two reconstructions: {diff:.1e}")
assert diff < 1e-14

# %% [markdown]
# ## 3. Each layer beside its PyTorch line
#
# The same batch goes through each layer of the model twice: through the forward and
# backward passes you wrote by hand in tinyae, and through the PyTorch layer, whose
# backward pass autograd derives from the forward. We feed both the same upstream
# gradient `g` and compare the outputs and every gradient (input and parameters). Two
# more layers of the course, BatchNorm in train mode and a convolution, join them.

# %%
rng = np.random.default_rng(0)
LINES = {   # what each side runs, as you would write it
    "Dense": ("y = x @ W + b;  dW = x.T @ dy, dx = dy @ W.T",
              "nn.Linear: x @ weight.T + bias"),
    "ReLU": ("np.maximum(z, 0);  dz = da * (z > 0)", "nn.ReLU: torch.relu(z)"),
    "Identity": ("z;  dz = da", "nn.Identity"),
    "Sigmoid": ("stable σ(z);  dz = da * a * (1 - a)", "nn.Sigmoid: torch.sigmoid(z)"),
    "BatchNorm1d": ("γ (x - μ)/√(s² + ε) + β;  dx by hand",
                    "nn.BatchNorm1d (weight=γ, bias=β)"),
    "Conv2D": ("W2 @ im2col(x) + b;  col2im(W2.T @ dY)",
               "nn.Conv2d: F.conv2d(x, weight, bias)"),
}
for kind, (mine, theirs) in LINES.items():
    print(f"{kind:12s} tinyae   {mine}\n{'':12s} PyTorch  {theirs}")


def side_by_side(layer, x):
    """Forward and backward through a tinyae layer and its twin: largest differences."""
    twin = ta.to_torch(layer)
    x_t = torch.tensor(x, requires_grad=True)
    y, y_t = layer.forward(x), twin(x_t)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    (y_t * torch.from_numpy(g)).sum().backward()      # autograd: the same g flows back
    grads = ta.interop.state_dict(layer, grads=True)  # tinyae's grads, PyTorch's names
    back = [np.max(np.abs(x_t.grad.numpy() - dx))]
    back += [np.max(np.abs(p.grad.numpy() - grads[name]))
             for name, p in twin.named_parameters()]
    return y, np.max(np.abs(y_t.detach().numpy() - y)), max(back)


# a copy: the model itself is not touched
copy = ta.from_torch(ta.to_torch(model)).train()
a = X_train[:16]
rows = []
for layer in [*copy.encoder.layers, *copy.decoder.layers]:
    a_next, forward, backward = side_by_side(layer, a)
    rows.append((layer, forward, backward))
    a = a_next
batchnorm = ta.BatchNorm1d(32).train()
rows.append((batchnorm, *side_by_side(batchnorm, rng.standard_normal((16, 32)))[1:]))
conv = ta.Conv2D(1, 4, 3, padding=1, seed=1)
rows.append((conv, *side_by_side(conv, X_train[:16].reshape(-1, 1, 8, 8))[1:]))

print(f"\n{'layer':32s} {'forward':>8s} {'backward':>8s}   "
      "(largest |tinyae − PyTorch|)")
for layer, forward, backward in rows:
    print(f"{layer!r:32.32s} {forward:8.1e} {backward:8.1e}")
    if type(layer).__name__ in ("ReLU", "Identity"):
        assert forward == backward == 0.0
largest = max(max(forward, backward) for _, forward, backward in rows)
print(f"largest difference over all layers: {largest:.1e}, "
      f"{largest / np.finfo(np.float64).eps:.0f} times the float64 spacing at 1")
assert largest < 1e-13

# %% [markdown]
# Every difference is rounding: exactly 0 where both sides do the same operations (ReLU
# and the identity), and otherwise a small multiple of float64's spacing (2.2e-16 near
# 1), where the two sides add up the same sums in another order (the matrix products,
# the convolution's im2col against PyTorch's own kernel).
#
# **The losses** differ in their *reduction*. tinyae sums the error over the 64 pixels
# of an image and averages over the batch: "error per image". PyTorch's losses average
# over every number by default (`reduction="mean"` divides by N·64). To get tinyae's
# numbers, sum and divide by the batch size. And **where the sigmoid sits**: tinyae
# fuses the output sigmoid with the cross-entropy (lesson 4) and computes the loss from
# the logits; in PyTorch the fused loss is `F.binary_cross_entropy_with_logits`, applied
# to the network *without* its last `nn.Sigmoid`.

# %%
x = torch.from_numpy(X_train[:16])
# everything but the final Sigmoid
logits = net.decoder[:-1](net.encoder(x))
z = logits.detach().numpy()
losses = [
    ("squared error", ta.MSE().forward(model.reconstruct(X_train[:16]), X_train[:16]),
     (((net(x) - x) ** 2).sum() / len(x)).item(), "((x_hat - x)**2).sum() / N"),
    ("cross-entropy", ta.BinaryCrossEntropyWithLogits().forward(z, X_train[:16]),
     (F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)).item(),
     "F.binary_cross_entropy_with_logits(z, x, reduction='sum') / N"),
    ("PyTorch default", None, F.binary_cross_entropy_with_logits(logits, x).item(),
     "F.binary_cross_entropy_with_logits(z, x): a mean over N·64"),
]
for name, mine, theirs, line in losses:
    shown = f"{mine:9.4f}" if mine is not None else " " * 9
    print(f"{name:16s} tinyae {shown}   PyTorch {theirs:9.4f}\n{'':16s} {line}")
assert abs(losses[0][1] - losses[0][2]) < 1e-12
assert abs(losses[1][1] - losses[1][2]) < 1e-12
assert abs(losses[2][2] * 64 - losses[1][2]) < 1e-12

# %% [markdown]
# ## 4. Keep training in PyTorch
#
# The weights are PyTorch's now. A few more epochs with `torch.optim.Adam`, on the fused
# loss, minibatches of 32 in a shuffled order. (Adam's running averages stay behind in
# tinyae's optimizer: they are not part of the model, so PyTorch's Adam starts afresh.)

# %%
TORCH_EPOCHS = 3 if FAST else 20
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
X_train_t, X_test_t = torch.from_numpy(X_train), torch.from_numpy(X_test)
order = torch.Generator().manual_seed(0)


def test_error(network):
    network.eval()
    with torch.no_grad():
        return (((network(X_test_t) - X_test_t) ** 2).sum() / len(X_test_t)).item()


errors_torch = [test_error(net)]
for epoch in range(TORCH_EPOCHS):
    net.train()
    for batch in torch.randperm(len(X_train_t), generator=order).split(32):
        xb = X_train_t[batch]
        loss = F.binary_cross_entropy_with_logits(net.decoder[:-1](net.encoder(xb)), xb,
                                                  reduction="sum") / len(xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    errors_torch.append(test_error(net))
    print(f"PyTorch epoch {epoch + 1}: test error {errors_torch[-1]:.4f}")
# the same model before training on
assert abs(errors_torch[0] - error_tinyae) < 1e-12

# %% [markdown]
# ## 5. Bring it back
#
# `ta.from_torch(net)` builds the tinyae twin of the network and copies the weights
# back, bit for bit. tinyae's own `reconstruction_error` then measures what PyTorch
# measured.

# %%
model_back = ta.from_torch(net)
error_back = model_back.reconstruction_error(X_test)
print(f"test error: {error_tinyae:.4f} after tinyae ({EPOCHS} epochs), "
      f"{errors_torch[-1]:.4f} after {TORCH_EPOCHS} more in PyTorch,\n"
      f"{error_back:.4f} measured by tinyae on the model brought back")
assert abs(error_back - errors_torch[-1]) < 1e-12
assert np.array_equal(model_back.encoder[0].params["W"],
                      net.encoder[0].weight.detach().numpy().T)

# %% [markdown]
# **A file for someone who has only PyTorch.** `model.export` writes the weights with
# safetensors: named exactly as `net.state_dict()` names them, with the architecture in
# the file's metadata and no pickle anywhere (a safetensors file is a JSON header and
# raw numbers, so loading one cannot run code). On the other side, plain PyTorch builds
# the network and loads the file with `strict=True`: every name must match, none may be
# missing or left over. The line that builds the network is in the file's metadata.

# %%
folder = Path(tempfile.mkdtemp())
file = model_back.export(folder / "autoencoder.safetensors")
with safe_open(file, framework="pt") as f:
    line = f.metadata()["pytorch"]
print("the file's metadata 'pytorch':")
print(textwrap.fill(line, width=84, initial_indent="  ", subsequent_indent="      "))

# What a PyTorch user writes, with no tinyae installed:
from collections import OrderedDict
theirs = nn.Sequential(OrderedDict(
    encoder=nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8),
                          nn.Identity()),
    decoder=nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 64), nn.Sigmoid()),
)).double()
theirs.load_state_dict(load_file(file), strict=True)
print(f"loaded {len(load_file(file))} tensors; "
      f"their test error {test_error(theirs):.4f}")
assert test_error(theirs) == errors_torch[-1]
assert ta.load(file).reconstruction_error(X_test) == error_back   # and back into tinyae

# %% [markdown]
# ## 6. Two processes: DistributedDataParallel
#
# Data parallelism: each process (a *rank*) holds a full copy of the model (a *replica*)
# and its own shard of the data. Every step, each rank computes the gradient of the loss
# on its own minibatch; DDP then **averages the gradients** over the ranks (an
# *all-reduce*), so every rank takes the same optimizer step from the same weights, and
# the replicas stay identical without ever sending weights around. On CPUs the
# communication backend is `gloo`.
#
# **How the processes start.** Each rank is a fresh Python interpreter that imports its
# code, the way `torchrun` starts a training script and the way PyTorch's documentation
# recommends (the `spawn` start method, with the worker in an importable module). The
# quicker-looking alternative, `fork`, copies this notebook's memory into the children
# but not its threads: once this process has trained in PyTorch with several threads, as
# section 4 did, a forked child can wait forever for an OpenMP thread pool that does not
# exist in it. (An earlier version of this lesson forked, and its two processes stalled
# until they were killed.) Fresh interpreters have nothing to inherit, so they behave
# the same in a notebook and in a script, on Linux, macOS and Windows, which has no
# `fork` at all. The price is a few seconds: each rank starts Python and imports
# PyTorch.
#
# So the worker lives in a module, `tinyae/bridge/ddp.py`, and `ddp.train(model, X)`
# starts `python -m tinyae.bridge.ddp` once per rank. It passes the model, the data and
# the settings in files of a temporary folder, waits for the processes (and stops them,
# with an error, if they take longer than `timeout` seconds), and returns what each rank
# wrote. Python's own `multiprocessing` with `spawn` would start the same fresh
# interpreters, but it re-runs the parent's main file in each of them, which for this
# lesson run as a script means the whole lesson.
#
# Here is what each rank runs, after it has read the settings (`s`) and joined the group
# through a file they share. A `DistributedSampler` gives rank `r` the samples
# `r, r + 2, r + 4, ...` of a shuffled order (shuffled afresh each epoch by
# `set_epoch`). On the first step each rank also records its *local* gradient, computed
# under `ddp.no_sync()` (backward without the all-reduce), so we can check what DDP did
# with them. At the end each rank writes what it holds to a file of its own. The loss is
# the fused cross-entropy, so DDP wraps the network that outputs the logits:
# `nn.Sequential(net.encoder, net.decoder[:-1])` shares its parameters with `net`.

# %%
from tinyae.bridge import ddp

source = inspect.getsource(ddp.worker)
body = source[source.index("    folder = Path(folder)"):]
print(textwrap.dedent(body))

# %% [markdown]
# Start the two processes, and wait for them:

# %%
WORLD, DDP_EPOCHS, BATCH = 2, (2 if FAST else 10), 32
t0 = time.perf_counter()
r0, r1 = ddp.train(model, X_train, world=WORLD, epochs=DDP_EPOCHS, batch_size=BATCH,
                   lr=3e-3, seed=0, timeout=300)
ddp_seconds = time.perf_counter() - t0
print(f"{WORLD} processes, {DDP_EPOCHS} epochs, {int(r0['n_samples'])} samples per "
      f"rank an epoch:\n{ddp_seconds:.1f} s, starting the processes included")

# %% [markdown]
# **The gradients are averaged.** The two local gradients differ (two different
# minibatches); after `backward`, both ranks hold their mean.

# %%
local0, local1 = r0["local"], r1["local"]
mean = (local0 + local1) / 2
print("entries 1 to 4 of the gradient of encoder.0.weight on the first step:")
for label, g in [("rank 0, its own batch", local0), ("rank 1, its own batch", local1),
                 ("their mean", mean), ("what DDP left on rank 0", r0["averaged"]),
                 ("what DDP left on rank 1", r1["averaged"])]:
    print(f"  {label:24s} " + "  ".join(f"{v:+.6f}" for v in g[1:5]))
gap = max(np.max(np.abs(r['averaged'] - mean)) for r in (r0, r1))
print(f"largest |DDP gradient − mean of the local gradients|: {gap:.1e}\n"
      f"(the local gradients differ by up to {np.max(np.abs(local0 - local1)):.2f})")
assert gap < 1e-15 and np.max(np.abs(local0 - local1)) > 1e-3

# %% [markdown]
# **The replicas stay identical.** After every step of training, each rank's weights:

# %%
replica_gap = np.max(np.abs(r0["weights"] - r1["weights"]))
print(f"largest difference between the weights of rank 0 and rank 1: {replica_gap}")
assert replica_gap == 0.0

# %% [markdown]
# Why this is the same as one process: with equal minibatches of `B` on each rank, the
# mean of the two per-rank losses is the loss of the combined batch of `2B`, so the
# averaged gradient is the gradient on `2B` samples. One process taking the same
# combined batches, in the same order, must reach the same weights, up to the order of
# the additions.

# %%
def flat(tensors):
    return torch.cat([t.detach().reshape(-1) for t in tensors])


data = TensorDataset(X_train_t)
single = ta.to_torch(model).train()
logits_net = nn.Sequential(single.encoder, single.decoder[:-1])
opt = torch.optim.Adam(logits_net.parameters(), lr=3e-3)
samplers = [DistributedSampler(data, num_replicas=WORLD, rank=r, shuffle=True, seed=0)
            for r in range(WORLD)]
for epoch in range(DDP_EPOCHS):
    shards = []
    for sampler in samplers:
        sampler.set_epoch(epoch)
        shards.append(list(sampler))
    for i in range(0, len(shards[0]), BATCH):
        # rank 0's, then rank 1's
        xb = torch.cat([X_train_t[s[i:i + BATCH]] for s in shards])
        loss = F.binary_cross_entropy_with_logits(logits_net(xb), xb,
                                                  reduction="sum") / len(xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
single_gap = np.max(np.abs(flat(logits_net.parameters()).numpy() - r0["weights"]))
print("largest difference between DDP's weights and one process on the combined "
      f"batches:\n{single_gap:.1e}")
assert single_gap < 1e-10

# %% [markdown]
# And the result comes back to tinyae like any PyTorch model:

# %%
trained = ta.to_torch(model)
flat_weights = torch.from_numpy(r0["weights"])
nn.utils.vector_to_parameters(flat_weights, nn.Sequential(trained.encoder,
                                                          trained.decoder[:-1]).parameters())
model_ddp = ta.from_torch(trained)
print(f"test error of the DDP-trained model, measured by tinyae: "
      f"{model_ddp.reconstruction_error(X_test):.4f} (started at {error_tinyae:.4f})")
print(f"lesson ran in {time.perf_counter() - start:.1f} s")

# %% [markdown]
# ## 7. On GPUs and several machines
#
# What changes, and what this lesson did not measure:
#
# - **The backend.** `gloo` runs on CPUs (and can move GPU tensors); for GPUs the
#   backend is `nccl`, with one process per GPU: `torch.cuda.set_device(local_rank)`,
#   the model moved with `.to(device)`, and `DDP(net, device_ids=[local_rank])`.
# - **Starting the processes.** Instead of `ddp.train`, put the worker in a script and
#   launch it with `torchrun --nproc_per_node=4 train.py` on one machine, or
#   `torchrun --nnodes=2 --nproc_per_node=4 --rdzv_endpoint=HOST:PORT train.py` on each
#   of two machines. `torchrun` starts fresh interpreters, as `ddp.train` does (never
#   `fork`, which is unsafe once CUDA is in use), and sets `RANK`, `LOCAL_RANK` and
#   `WORLD_SIZE` in each process's environment, which `dist.init_process_group("nccl")`
#   reads.
# - **The data.** `DistributedSampler` does what it did here: each rank reads its own
#   share, and `set_epoch` reshuffles every epoch. It pads the dataset so every rank has
#   the same number of samples, so the averaged gradient is a plain mean.
# - **BatchNorm.** Each replica normalizes with the statistics of its own minibatch, and
#   DDP copies rank 0's running statistics to the others at each forward pass; so the
#   two-process run is no longer equal to one process on the combined batch. Across GPUs
#   `nn.SyncBatchNorm` computes the statistics over all ranks.
# - **The numbers.** This lesson worked in float64 on a CPU, where PyTorch and tinyae
#   agree to about 1e-15. GPUs train in float32 (or lower), and some of their reductions
#   add in an order that changes from run to run, so expect float32-sized differences
#   and runs that are not bit-identical, unless you ask for deterministic algorithms
#   (`torch.use_deterministic_algorithms(True)`). We have not run a GPU here, so this
#   lesson quotes no GPU speed or accuracy.
#
# What does not change: the model, its `state_dict` names, and the safetensors file. The
# weights you trained on many GPUs come back to tinyae with
# `ta.import_safetensors(file, into=model)` or `ta.from_torch(net)`, and you can still
# take them apart layer by layer.
#
# ## Summary
#
# - `ta.to_torch(model)` and `ta.from_torch(net)` carry a model between tinyae and
#   PyTorch with bit-identical weights; outputs and gradients agree to rounding (about
#   1e-15 in float64), layer by layer and for the whole model.
# - Conventions differ in three places: `nn.Linear.weight` is tinyae's `W` transposed;
#   PyTorch's losses average over every number by default, tinyae's sum over the
#   features and average over the batch (`reduction="sum"` and divide by N); the sigmoid
#   is fused into the loss in both, as `F.binary_cross_entropy_with_logits` on the
#   logits.
# - `model.export(file)` writes a safetensors file named as `state_dict()`; plain
#   PyTorch loads it with `strict=True`, and tinyae reads it back with `ta.load`.
#   Nothing is pickled.
# - `DistributedDataParallel` gives each process a replica and a shard; after `backward`
#   every rank holds the mean of the ranks' gradients, so the replicas stay identical
#   (here exactly) and the run equals one process on the combined batches.
#
# ## Exercises
#
# 1. Train the DDP part with SGD instead of Adam: `ddp.train(..., optimizer="sgd",
#    lr=0.1)`, and `torch.optim.SGD(..., lr=0.1)` in the single-process comparison. Does
#    the comparison of section 6 still hold? Why would it hold for any optimizer?
# 2. Use 3 processes (`WORLD = 3`). How many samples does each rank get from the 1,437
#    training digits, and how many are repeated by the padding?
# 3. Build the DDP model with `Autoencoder.deep([64, 32, 8], batchnorm=True)`. Are the
#    replicas still identical? Does the single-process comparison still hold? Explain
#    with the BatchNorm item of section 7.
# 4. Write the forward pass of tinyae's `Conv2D` (lesson 19) with `F.unfold` (PyTorch's
#    im2col) and a matrix product, and check it against `nn.Conv2d` to 1e-12.
# 5. Export a variational autoencoder (`VariationalAutoencoder.deep([64, 32, 2])`),
#    convert it with `ta.to_torch`, and draw new digits in PyTorch by decoding codes
#    drawn from `torch.randn`. Compare with `model.sample` for the same codes.
