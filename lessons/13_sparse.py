# %% [markdown]
# # Lesson 13: Sparse autoencoders and what their filters learn
#
# A code does not have to be *small* to be useful; it can be *sparse*: many units, each
# switched on by few images. A sparse autoencoder adds to the reconstruction loss a
# penalty that keeps each code unit quiet most of the time. The units then specialise,
# and the first layer's weights, drawn as images, turn into strokes and edges.
#
# ## Objectives
#
# - Write the KL-divergence sparsity penalty, the L1 activity penalty and L2 weight
#   decay, and derive their gradients by hand.
# - Check each term on its own and inside the model against finite differences, as the
#   UFLDL tutorial does: reconstruction, then weight decay, then sparsity.
# - Train a sparse autoencoder and measure that the mean code activation lands near the
#   target ρ, while a plain one sits near 0.5.
# - Look at the learned filters as image tiles and measure how concentrated they are.
#
# ## Prerequisites
#
# Lessons 4 (losses: summed over pixels, averaged over the batch), 6 (gradient checking)
# and 8 (filters). Exercises 8 and 9 derive the weight-decay and KL gradients; this
# lesson uses the versions in `tinyae.regularizers`.
#
# **Data.** With the MNIST files present (the environment variable `TINYAE_MNIST` names
# their folder) the lesson uses 10,000 MNIST training images of 28×28 pixels, where
# strokes have room to show; otherwise the built-in 8×8 digits.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import numpy as np
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.gradcheck import check_model, numerical_gradient, relative_error
from tinyae.regularizers import KLSparsity, L1Activity, WeightDecay

MNIST = os.environ.get("TINYAE_MNIST")
if MNIST and not FAST:
    (X_train, _), (X_test, _) = ta.load_mnist(MNIST, split="both", dtype=np.float32)
    X_train, X_test = X_train[:10_000], X_test[:2_000]
    SHAPE, HIDDEN, EPOCHS, BATCH, WD = (28, 28), 100, 30, 64, 3e-3
    DATA = "MNIST (10,000 training, 2,000 test images)"
else:
    X, _ = ta.load_digits(dtype=np.float32)
    X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
    SHAPE, HIDDEN, EPOCHS, BATCH, WD = (8, 8), 36, (30 if FAST else 150), 32, 1e-4
    DATA = "the built-in 8x8 digits"
RHO, BETA = 0.05, 3.0
print(f"data: {DATA};\n{HIDDEN} sigmoid code units, rho = {RHO}, beta = {BETA}, "
      f"weight decay {WD:g}, {EPOCHS} epochs")

# %% [markdown]
# ## 1. Three penalties and their gradients
#
# With a sigmoid code $h_{nj} \in (0, 1)$ for image $n$ and unit $j$, the mean
# activation of unit $j$ over a batch of $N$ images is
# $\hat\rho_j = \frac1N \sum_n h_{nj}$. Read it as the probability that unit $j$ fires.
# The **KL sparsity penalty** compares it with a small target $\rho$:
#
# $$\Omega_{KL} = \beta \sum_j \Big[\rho \log\frac{\rho}{\hat\rho_j}
#    + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}\Big].$$
#
# It is zero when $\hat\rho_j = \rho$ and grows steeply as $\hat\rho_j$ moves away. By
# the chain rule, with $\partial\hat\rho_j/\partial h_{nj} = 1/N$,
#
# $$\frac{\partial \Omega_{KL}}{\partial h_{nj}} = \frac{\beta}{N}
#    \Big(-\frac{\rho}{\hat\rho_j} + \frac{1-\rho}{1-\hat\rho_j}\Big),$$
#
# the same for every image $n$. The **L1 activity penalty**
# $\Omega_{L1} = \frac{\lambda_1}{N}\sum_{n,j} |h_{nj}|$ has gradient
# $\frac{\lambda_1}{N}\,\mathrm{sign}(h_{nj})$, and **weight decay**
# $\Omega_{W} = \frac{\lambda_W}{2}\sum W^2$ has gradient $\lambda_W W$ on every weight
# matrix (not on the biases).
#
# **Scale.** tinyae's losses are "error per image" (summed over pixels, averaged over
# the batch). The activity penalties follow the same convention, and weight decay is
# added once per batch, so β, $\lambda_1$ and $\lambda_W$ weigh each penalty against the
# error of *one image*.
#
# First each penalty on its own, against centred finite differences:

# %%
rng = np.random.default_rng(0)
h = rng.uniform(0.05, 0.95, (6, 4))
W = [rng.normal(size=(5, 4)), rng.normal(size=(4, 5))]
errors = {}
for penalty, a in ((KLSparsity(RHO, BETA), h), (L1Activity(0.1), h - 0.5)):
    penalty.forward(a)
    fresh = type(penalty)(**penalty.config())      # the same penalty, for the nudges
    numeric = numerical_gradient(lambda v, p=fresh: p.forward(v), a.copy())
    errors[repr(penalty)] = relative_error(penalty.backward(), numeric)
decay = WeightDecay(0.1)
decay.forward(W)
errors[repr(decay)] = max(relative_error(dW, numerical_gradient(
    lambda _: WeightDecay(0.1).forward(W), Wi)) for dW, Wi in zip(decay.backward(), W))
for name, err in errors.items():
    print(f"{name:<34} max relative error {err:.1e}")
assert all(err < 1e-7 for err in errors.values())

# %% [markdown]
# Then inside a model, term by term. `Autoencoder.loss_and_backward` adds each penalty's
# value to the loss and its gradient where it belongs: $\partial\Omega/\partial h$ joins
# the gradient coming back from the decoder before the encoder's backward pass, and
# $\lambda_W W$ is added to each `dW` afterwards. `check_model` calls the same function
# training calls, so it checks the whole objective.

# %%
X_small = rng.random((5, 12))
for kwargs in ({}, {"weight_decay": 0.1}, {"sparsity": (RHO, BETA)},
               {"sparsity": (RHO, BETA), "l1": 0.01, "weight_decay": 0.1}):
    model = ta.Autoencoder.shallow(12, 4, hidden="sigmoid", seed=1, **kwargs)
    report = check_model(model, X_small, "mse")
    name = str(kwargs) if kwargs else "reconstruction only"
    print(f"{name:<60} largest error {report.max_error:.1e}")
    assert report.passed

# %% [markdown]
# ## 2. Training: a plain and a sparse autoencoder
#
# Both are `Autoencoder.shallow(D, HIDDEN, hidden="sigmoid")` with the same weight
# decay; the sparse one adds `sparsity=(ρ, β)`. `History.terms` records each part of the
# objective per epoch.

# %%
def train(**penalties):
    model = ta.Autoencoder.shallow(X_train.shape[1], HIDDEN, hidden="sigmoid", seed=0,
                                   dtype=np.float32, weight_decay=WD, **penalties)
    history = model.fit(X_train, loss="mse", optimizer=ta.Adam(3e-3), epochs=EPOCHS,
                        batch_size=BATCH, seed=0, verbose=0)
    return model, history


dense, _ = train()
sparse, history = train(sparsity=(RHO, BETA))
for name, values in history.terms.items():
    print(f"{name:>14}: first epoch {values[0]:8.3f}, last epoch {values[-1]:8.3f}")

H_dense, H_sparse = dense.encode(X_test), sparse.encode(X_test)
print(f"mean code activation on the test images: plain {H_dense.mean():.3f}, "
      f"sparse {H_sparse.mean():.3f} (target rho = {RHO})")
print(f"per-unit means of the sparse code: from {H_sparse.mean(0).min():.3f} to "
      f"{H_sparse.mean(0).max():.3f}")
quiet_dense, quiet_sparse = np.mean(H_dense < 0.1), np.mean(H_sparse < 0.1)
print(f"share of activations below 0.1: plain {quiet_dense:.2f}, "
      f"sparse {quiet_sparse:.2f}")
err_dense = dense.reconstruction_error(X_test)
err_sparse = sparse.reconstruction_error(X_test)
print(f"test squared error per image: plain {err_dense:.3f}, sparse {err_sparse:.3f}")

assert abs(H_sparse.mean() - RHO) < RHO   # within a factor 2 of the target
# without the penalty, units are on about half the time
assert 0.3 < H_dense.mean() < 0.7
assert quiet_sparse > 2 * quiet_dense     # most of the sparse code is nearly silent
assert history.terms["KLSparsity"][-1] < 0.5 * history.terms["KLSparsity"][0]
assert err_sparse > err_dense             # sparsity costs reconstruction

# %% [markdown]
# The penalty does its job: the sparse code's mean activation sits near ρ (how near
# depends on β, on the weight decay and on how long we train), against about half for
# the plain code. Each image now switches on a handful of units. The price is a larger
# reconstruction error: fewer active units carry less detail.
# {numref}`fig-13-activations` shows how often each unit fires.

# %% mystnb={"figure": {"caption": "Left: the code activations of every test image and unit, plain and sparse autoencoder (log counts). Right: the mean activation of each unit of the sparse code, sorted, against the target ρ.", "name": "fig-13-activations"}}
fig = Figure(figsize=(8.6, 3.8), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
bins = np.linspace(0, 1, 41)
ax1.hist(H_dense.ravel(), bins=bins, alpha=0.6, label="plain")
ax1.hist(H_sparse.ravel(), bins=bins, alpha=0.6, label="sparse")
ax1.set_yscale("log")
ax1.set_xlabel("code activation h")
ax1.set_ylabel("count (test images × units)")
ax1.legend()
ax2.bar(np.arange(HIDDEN), np.sort(H_sparse.mean(0)), color="tab:orange")
ax2.axhline(RHO, color="k", ls="--", label=f"rho = {RHO}")
ax2.set_xlabel("code unit (sorted)")
ax2.set_ylabel("mean activation")
ax2.legend()
ax1.set_title("all activations")
ax2.set_title("each unit of the sparse code")
fig.suptitle("how often the code units fire")
plots.save_figure(fig, FIGURES / "13_activations.png", dpi=100)

# %% [markdown]
# ## 3. What the filters look for
#
# Column $j$ of the first weight matrix $W_1$ (shape $D \times$ HIDDEN) is the image
# that excites unit $j$ most. We draw the first 49 of each model, each tile scaled to
# its own largest weight (red positive, blue negative): {numref}`fig-13-filters-plain`
# and {numref}`fig-13-filters-sparse`.

# %% mystnb={"figure": {"caption": "The first 49 first-layer filters of the plain autoencoder (columns of W1 drawn as images; red positive, blue negative, each tile scaled to its own largest weight).", "name": "fig-13-filters-plain"}}
n_tiles = min(HIDDEN, 49)
fig = plots.plot_filters(
    dense, image_shape=SHAPE, n=n_tiles,
    path=FIGURES / "13_filters_plain.png",
    title="plain autoencoder: first-layer filters")

# %% mystnb={"figure": {"caption": "The first 49 first-layer filters of the sparse autoencoder, drawn as in the previous figure.", "name": "fig-13-filters-sparse"}}
fig = plots.plot_filters(
    sparse, image_shape=SHAPE, n=n_tiles,
    path=FIGURES / "13_filters_sparse.png",
    title=f"sparse autoencoder (ρ = {RHO}, β = {BETA}): filters")


# %%


def concentration(W):
    """Mean share of each filter's energy Σw² held by its 10% largest weights."""
    E = np.sort(W.astype(np.float64) ** 2, axis=0)[::-1]
    top = max(1, len(E) // 10)
    return float(np.mean(E[:top].sum(0) / E.sum(0)))


c_dense = concentration(dense.encoder.layers[0].params["W"])
c_sparse = concentration(sparse.encoder.layers[0].params["W"])
print(f"share of filter energy in the top 10% of pixels: plain {c_dense:.2f}, "
      f"sparse {c_sparse:.2f}\n(spread evenly it would be 0.10)")
if SHAPE == (28, 28):
    assert c_sparse > c_dense

# %% [markdown]
# On MNIST the plain filters are either copies of one blurred whole-digit template
# (units that learned the same thing) or high-frequency speckle, while the sparse
# filters are pen strokes and edges at different positions and angles (compare
# {numref}`fig-13-filters-plain` with {numref}`fig-13-filters-sparse`), and they hold
# more of their weight on fewer pixels (the concentration number above, checked on
# MNIST). A unit that may fire for only 5% of the images has to specialise, and a stroke
# is what a handful of units can add up into a digit. On the 8×8 digits a stroke is two
# or three pixels: the tiles are too coarse to show it, and the concentration number can
# go either way.
#
# ## 4. L1 on a ReLU code: exact zeros
#
# The KL penalty needs a sigmoid code. The L1 penalty works with any code and with a
# ReLU code it produces exact zeros: its gradient $\frac{\lambda_1}{N}\mathrm{sign}(h)$
# pushes every active unit down by the same amount, and a ReLU unit pushed below zero
# outputs exactly 0.

# %%
def relu_model(l1):
    model = ta.Autoencoder.shallow(X_train.shape[1], HIDDEN, hidden="relu", seed=0,
                                   dtype=np.float32, l1=l1)
    # 3,000 images are enough to see it
    model.fit(X_train[:3000], loss="mse", optimizer=ta.Adam(3e-3), epochs=EPOCHS,
              batch_size=BATCH, seed=0, verbose=0)
    return model


L1 = 0.05
zeros = {lam: float(np.mean(relu_model(lam).encode(X_test) == 0)) for lam in (None, L1)}
print(f"fraction of exact zeros in the ReLU code: no penalty {zeros[None]:.2f}, "
      f"L1 (λ1 = {L1}) {zeros[L1]:.2f}")
assert zeros[L1] > zeros[None]

# %% [markdown]
# ## Summary
#
# - A sparse autoencoder adds to the reconstruction loss a penalty on the code: the KL
#   penalty $\beta\sum_j \mathrm{KL}(\rho\,\|\,\hat\rho_j)$ (sigmoid code) or the L1
#   penalty $\frac{\lambda_1}{N}\sum|h|$; weight decay $\frac{\lambda_W}{2}\sum W^2$
#   keeps the weights small.
# - Each gradient is a few lines, derived by hand and checked against finite differences
#   on its own and inside the model:
#   `Autoencoder.shallow(..., sparsity=(ρ, β), l1=λ₁, weight_decay=λ_W)`.
# - Trained, the sparse code's mean activation lands near ρ, each image switches on a
#   few units, and the filters concentrate into strokes and edges, at some cost in
#   reconstruction error.
#
# ## Exercises
#
# 1. Train with β = 0.3, 3 and 30. Plot the mean activation and the test error against
#    β. Where is the trade-off?
# 2. Set ρ = 0.2 and then ρ = 0.01. How do the filters change?
# 3. Remove the weight decay (`WD = 0`) and compare the filters. Which pixels do the
#    undecayed filters put weight on, and why does the data never correct them?
