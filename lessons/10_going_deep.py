# %% [markdown]
# # Lesson 10: Going deep
#
# A deep autoencoder stacks several hidden layers in the encoder and mirrors them in the
# decoder. Hinton & Salakhutdinov (2006) used one, 784-1000-500-250-30, to compress
# MNIST digits far better than PCA. Depth buys expressive power, but it also makes
# gradients harder to pass through the network. This lesson measures that problem, shows
# how the choice of activation and initialisation fixes it, and then asks when depth
# actually helps.
#
# ## Objectives
#
# - Explain **vanishing gradients**: why the gradient shrinks layer by layer through
#   sigmoids, and why ReLU with He initialisation does not shrink it.
# - Measure per-layer gradient norms at initialisation for a deep sigmoid stack, a tanh
#   stack and a ReLU stack, and see the consequence in training.
# - Compare autoencoders with zero, one and two hidden layers at the same code size on
#   held-out digits.
# - If you have the MNIST files, train a 784-256-64-256-784 autoencoder and compare it
#   with PCA with 64 components.
#
# ## Prerequisites
#
# Lesson 2 (Dense layers, He and Glorot initialisation), lesson 3 (sigmoid, tanh, ReLU
# and their derivatives), lesson 5 (backpropagation), lesson 7 (`fit`, Adam) and lesson
# 8 (`Autoencoder.deep`, the comparison with PCA at equal code size, weight decay).

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
from tinyae.errors import DataFormatError
from tinyae.pca import PCA

X, y = ta.load_digits()
X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
EPOCHS = 12 if FAST else 60
print(f"training digits {X_train.shape}, test digits {X_test.shape}; "
      f"{EPOCHS} epochs per run")

# %% [markdown]
# ## 1. Why gradients vanish
#
# `Autoencoder.deep(sizes, hidden=..., code="identity", output="sigmoid")` builds the
# mirrored stack: `sizes=[64, 64, 64, 64, 64, 16]` gives five Dense layers down to a
# 16-number code and five back up, ten in all. Call the pre-activation of layer $l$
# $z_l = a_{l-1} W_l + b_l$ and its output $a_l = f(z_l)$. Backpropagation (lesson 5,
# with $\delta v = \partial L / \partial v$) carries $\delta z_l$ downwards:
#
# $$\delta z_{l-1} = \left(\delta z_l\, W_l^\top\right) \odot f'(z_{l-1}), \qquad
#   \delta W_l = a_{l-1}^\top\, \delta z_l .$$
#
# Each layer multiplies the backward signal by $W_l^\top$ and by the activation's
# derivative. Glorot initialisation keeps the first factor near 1 in size for square
# layers. The second is the problem:
#
# - **sigmoid**: $\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4$, with the maximum at $z
#   = 0$. Every sigmoid layer shrinks the gradient by a factor of at least about 4. The
#   first layer's gradient has passed through 8 hidden sigmoids, so it is smaller by
#   something like $4^{8} \approx 65{,}000$.
# - **tanh**: $\tanh'(0) = 1$. Near 0 there is no shrinking, until units saturate.
# - **ReLU**: $f'(z)$ is 1 for half the units and 0 for the other half. On its own that
#   halves the signal's variance at each layer. He initialisation draws $W$ with
#   variance $2/n_{\text{in}}$, twice Glorot's $1/n$ for a square layer, which exactly
#   makes up for the lost half. The variance is preserved through any depth.
#
# Let's measure it: one `loss_and_backward` at initialisation on 256 training digits,
# then the norm of $\partial L/\partial W_l$ for each of the ten layers.
# (`Autoencoder.deep` picks He initialisation before ReLUs and Glorot otherwise.)

# %%
sizes = [64, 64, 64, 64, 64, 16]
x = X_train[:256]
grad_norms = {}
for hidden in ("sigmoid", "tanh", "relu"):
    model = ta.Autoencoder.deep(sizes, hidden=hidden, seed=0)
    model.loss_and_backward(x, x, "mse")
    grad_norms[hidden] = [float(np.linalg.norm(g))
                          for name, _, g in model.named_parameters()
                          if name.endswith(".W")]
layer_names = [name for name, _, _ in model.named_parameters() if name.endswith(".W")]
print(f"{'layer':<12}" + "".join(f"{h:>11}" for h in grad_norms))
for i, name in enumerate(layer_names):
    print(f"{name:<12}" + "".join(f"{grad_norms[h][i]:11.2e}" for h in grad_norms))
ratio = {h: norms[0] / norms[-1] for h, norms in grad_norms.items()}
for h, r in ratio.items():
    print(f"{h:>8}: |dW first layer| / |dW last layer| = {r:.1e}")

# %% [markdown]
# {numref}`fig-10-gradient-norms` draws the table.

# %% mystnb={"figure": {"caption": "The norm of the gradient of each Dense layer's weights in a 10-layer autoencoder at initialisation, for sigmoid, tanh and ReLU hidden units, log scale; the dotted line separates encoder and decoder.", "name": "fig-10-gradient-norms"}}
fig = Figure(figsize=(8, 4.5), layout="constrained")
ax = fig.subplots()
labels = {"sigmoid": "sigmoid, Glorot init", "tanh": "tanh, Glorot init",
          "relu": "ReLU, He init"}
for hidden, norms in grad_norms.items():
    ax.semilogy(range(1, len(norms) + 1), norms, "o-", label=labels[hidden])
ax.axvline(5.5, color="gray", ls=":", lw=1)
ax.text(5.6, ax.get_ylim()[0] * 3, "code", fontsize=9, color="gray")
ax.set_xticks(range(1, len(layer_names) + 1), layer_names, rotation=45, ha="right",
              fontsize=9)
ax.set_xlabel("Dense layer, from the input (left) to the output (right)")
ax.set_ylabel("‖dL/dW‖ at initialisation")
ax.set_title("Gradient norm per layer of a 10-layer autoencoder, at initialisation")
ax.grid(alpha=0.3, which="both")
ax.legend()
plots.save_figure(fig, FIGURES / "10_gradient_norms.png")

# %% [markdown]
# Backpropagation runs from right to left in this figure. The sigmoid stack loses a
# roughly constant factor per hidden layer, and its first layer gets a gradient orders
# of magnitude smaller than its last. The ReLU stack with He initialisation keeps all
# ten layers within a small factor of each other, and so does tanh at this depth.
#
# The checks. For sigmoid we ask for at least half the decades the $1/4$ bound predicts,
# a ratio below $4^{-8/2} = 1/256$, and a factor per sigmoid layer,
# $\text{ratio}^{-1/8}$, between 2 and 8, i.e. "about 4". For ReLU with He
# initialisation, and for tanh, a ratio within a factor of 10 of 1.

# %%
per_layer = ratio["sigmoid"] ** (-1 / 8)
print(f"sigmoid ratio {ratio['sigmoid']:.1e} (must be < {4.0 ** -4:.1e}), "
      f"a factor of {per_layer:.1f} per sigmoid layer")
print(f"ReLU+He ratio {ratio['relu']:.2f}, tanh ratio {ratio['tanh']:.2f} "
      "(must be in [0.1, 10])")
assert ratio["sigmoid"] < 4.0 ** -4
assert 2 < per_layer < 8
assert 0.1 < ratio["relu"] < 10 and 0.1 < ratio["tanh"] < 10

# %% [markdown]
# ### What it does to training
#
# Adam divides each step by the gradient's running size (lesson 7), so small gradients
# alone would not stop it. But the sigmoid stack also *forwards* little. Near $z = 0$ a
# sigmoid multiplies differences between images by $\sigma'(0) = 1/4$, so their variance
# by $1/16$. After the four sigmoid layers of the encoder, the codes of different images
# are almost the same. We measure the spread of the codes at initialisation: their
# variance across the 256 images, summed over the code units.

# %%
spread = {}
for hidden in ("sigmoid", "tanh", "relu"):
    model = ta.Autoencoder.deep(sizes, hidden=hidden, seed=0)
    spread[hidden] = float(model.encode(x).var(axis=0).sum())
    print(f"{labels[hidden]:<22} code variance {spread[hidden]:.1e}")
input_spread = float(x.var(axis=0).sum())
print(f"{'the images themselves':<22} pixel variance {input_spread:.1e}")
assert spread["sigmoid"] < 16.0 ** -2 * input_spread  # half the decades of 16⁻⁴ or more
assert spread["relu"] > 0.1 * input_spread

# %% [markdown]
# Now train the three stacks the same way: Adam, same seed, same epochs. The dotted line
# is the error of always answering the mean image, the total variance (lesson 7).

# %%
histories = {}
for hidden in ("sigmoid", "tanh", "relu"):
    model = ta.Autoencoder.deep(sizes, hidden=hidden, seed=0)
    histories[hidden] = model.fit(X_train, loss="mse", optimizer=ta.Adam(3e-3),
                                  epochs=EPOCHS, batch_size=32, validation_data=X_test,
                                  seed=0, verbose=0)
    print(f"{labels[hidden]:<22} test error after {EPOCHS} epochs: "
          f"{histories[hidden].val_loss[-1]:.3f}")
variance = X_test.var(axis=0).sum()
print(f"always answering the mean image: {variance:.3f}")

# %% mystnb={"figure": {"caption": "Test error of the three 10-layer stacks after each epoch of training with Adam; the dotted line is the error of always answering the mean image.", "name": "fig-10-deep-training"}}
fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.subplots()
for hidden, h in histories.items():
    ax.plot(range(1, EPOCHS + 1), h.val_loss, "o-", ms=3, label=labels[hidden])
ax.axhline(variance, color="k", ls=":", lw=1)
ax.set_xlabel("epoch")
ax.set_ylabel("squared error per test image")
ax.set_title(f"Training the 10-layer stacks {sizes}")
ax.grid(alpha=0.3)
ax.legend()
plots.save_figure(fig, FIGURES / "10_deep_training.png")

# %%
sigmoid_end = histories["sigmoid"].val_loss[-1]
relu_end = histories["relu"].val_loss[-1]
print(f"After {EPOCHS} epochs the sigmoid stack's test error is "
      f"{sigmoid_end / variance:.0%} of the mean image's,")
print(f"and {sigmoid_end / relu_end:.1f} times the ReLU stack's.")
assert sigmoid_end > 0.8 * variance and sigmoid_end > 3 * relu_end  # near the mean
assert relu_end < 0.5 * variance                                    # learning
assert histories["tanh"].val_loss[-1] < 0.5 * variance
for hidden in ("relu", "tanh"):             # below the mean image from epoch 1 on
    assert histories[hidden].val_loss[0] < variance

# %% [markdown]
# In {numref}`fig-10-deep-training` the sigmoid stack stays within 20% of the mean
# image's error, at several times the error of the others (the sentence printed above
# gives both numbers). Given more epochs it may start to escape: watch the end of its
# curve. The ReLU and tanh stacks learn from the first epoch.
# This is why deep networks use ReLU-like units with He initialisation (or tanh with
# care). Hinton & Salakhutdinov trained their deep sigmoid autoencoder only after
# pretraining it layer by layer, a workaround for exactly this problem.
#
# ## 2. When does depth help?
#
# Fix the code size $k$ and the code activation (linear), and vary only the depth:
#
# - no hidden layer: `[64, k]`, i.e. 64 → k → 64;
# - one hidden layer: `[64, 128, k]`, the model of lesson 8;
# - two hidden layers: `[64, 128, 64, k]`.
#
# All use ReLU hidden units, a sigmoid output, MSE, and Adam with weight decay as in
# lesson 8. Errors are on the held-out test digits, with PCA for reference.

# %%
depths = {"no hidden layer": [], "1 hidden layer": [128], "2 hidden layers": [128, 64]}
CODES = [2, 4, 8]
errors = {name: {} for name in depths}
pca_error = {}
for k in CODES:
    pca_error[k] = PCA(k).fit(X_train).reconstruction_error(X_test)
    for name, hidden_sizes in depths.items():
        model = ta.Autoencoder.deep([64, *hidden_sizes, k], hidden="relu", seed=0)
        model.fit(X_train, loss="mse", optimizer=ta.Adam(3e-3, weight_decay=1e-3),
                  epochs=EPOCHS, batch_size=32, seed=0, verbose=0)
        errors[name][k] = model.evaluate(X_test, "mse")
        if k == CODES[0]:
            print(f"{name:<16} {model.n_parameters():>6,} parameters at k = {k}")

print(f"\n{'k':>3} {'PCA':>8}" + "".join(f"{name:>17}" for name in depths))
for k in CODES:
    print(f"{k:3d} {pca_error[k]:8.3f}"
          + "".join(f"{errors[n][k]:17.3f}" for n in depths))

# %% mystnb={"figure": {"caption": "Squared error per held-out test image against the code size, for PCA and for autoencoders with no, one and two hidden layers.", "name": "fig-10-depth"}}
fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.subplots()
ax.plot(CODES, [pca_error[k] for k in CODES], "s--", color="gray", label="PCA")
for name in depths:
    ax.plot(CODES, [errors[name][k] for k in CODES], "o-", label=f"autoencoder, {name}")
ax.set_xscale("log", base=2)
ax.set_xticks(CODES, [str(k) for k in CODES])
ax.set_xlabel("code size k")
ax.set_ylabel("squared error per test image")
ax.set_title("Depth at a fixed code size (held-out digits)")
ax.grid(alpha=0.3)
ax.legend()
plots.save_figure(fig, FIGURES / "10_depth.png")

# %%
for k in CODES:
    deep_best = min(errors["1 hidden layer"][k], errors["2 hidden layers"][k])
    assert deep_best < errors["no hidden layer"][k], f"depth should help at k={k}"
    assert deep_best < pca_error[k]
    assert 0.75 < errors["no hidden layer"][k] / pca_error[k] < 1.25

# %% [markdown]
# Without a hidden layer, the encoder is one linear map and the decoder one linear map
# followed by a sigmoid. That is almost PCA, and its error is within 25% of PCA's (the
# table; the cell above checks it). A hidden layer is what lets the encoder bend: at
# every code size here, a model with hidden layers beats both. Whether a *second* hidden
# layer helps further depends on the data, the code size and the training budget;
# compare the last two columns. Depth is not free either: more parameters to train, and
# more ways to overfit (lesson 7).
#
# ## 3. MNIST: 784 → 256 → 64 → 256 → 784
#
# The built-in digits are 8×8. MNIST's are 28×28, 784 pixels, 60,000 for training and
# 10,000 for testing, and too large to ship with tinyae. If you have the four IDX files,
# set the environment variable `TINYAE_MNIST` to their folder.
# `ta.load_mnist(split=...)` then reads them, as float32 in $[0, 1]$. Without them this
# section prints a note and is skipped.
#
# We train on a subset of the training images for a few epochs, in float32 (half the
# memory and faster matrix products; lesson 6 explained why gradients are *checked* in
# float64, but training is fine in float32). PCA with 64 components is fitted on the
# same images.

# %%
try:
    mnist_train, _ = ta.load_mnist(split="train")
    mnist_test, mnist_labels = ta.load_mnist(split="test")
    have_mnist = True
except DataFormatError as error:
    have_mnist = False
    print(f"MNIST section skipped: {error}")

# %%
if have_mnist:
    n_train, n_test, mnist_epochs = (2_000, 1_000, 2) if FAST else (10_000, 5_000, 10)
    M_train, M_test = mnist_train[:n_train], mnist_test[:n_test]
    mnist_pca = PCA(64).fit(M_train)
    mnist_ae = ta.Autoencoder.deep([784, 256, 64], hidden="relu", seed=0,
                                   dtype=np.float32)
    h = mnist_ae.fit(M_train, loss="mse", optimizer=ta.Adam(1e-3), epochs=mnist_epochs,
                     batch_size=64, validation_data=M_test, seed=0, verbose=0)
    mnist_pca_error = mnist_pca.reconstruction_error(M_test)
    mnist_ae_error = mnist_ae.evaluate(M_test, "mse")
    print(f"{n_train:,} training images, {mnist_epochs} epochs, "
          f"{sum(h.epoch_time):.1f} s of training")
    print(f"squared error per test image: PCA-64 {mnist_pca_error:.2f}, "
          f"autoencoder 784-256-64 {mnist_ae_error:.2f}")
    change = mnist_ae_error / mnist_pca_error - 1
    print(f"The autoencoder's error is {abs(change):.0%} "
          f"{'lower' if change < 0 else 'higher'} than PCA-64's.")
    assert h.val_loss[-1] < h.val_loss[0]                       # it learned
    if not FAST:        # two epochs on 2,000 images (the tests' quick run) are too few
        assert mnist_ae_error < mnist_pca_error

# %% mystnb={"figure": {"caption": "One MNIST test digit of each class (top row), its reconstruction by PCA with 64 components, and by the 784-256-64 autoencoder: 64 numbers per image, a compression ratio of 12.", "name": "fig-10-mnist"}}
if have_mnist:
    labels_shown = mnist_labels[:n_test]
    one_per_class = [int(np.flatnonzero(labels_shown == d)[0]) for d in range(10)]
    show = M_test[one_per_class]
    fig = plots.plot_reconstructions(
        show, [mnist_pca.reconstruct(show), mnist_ae.reconstruct(show)],
        row_labels=["original", "PCA-64", "AE\n784-256-64"],
        title="MNIST test digits: 64 numbers per image (12x compression)",
        path=FIGURES / "10_mnist_reconstructions.png",
    )

# %% [markdown]
# After the few epochs of this run, the autoencoder's 64 numbers reconstruct the test
# digits better than PCA's 64 components, by the margin printed above (the cell asserts
# it), in the training time printed there. The figure shows ten of them:
# PCA's reconstructions are blurred by the faint ghost strokes of other digits, and the
# autoencoder's strokes are cleaner.
#
# ## Summary
#
# - Backpropagation multiplies by $f'(z)$ at every layer. Sigmoid's $f' \le 1/4$ makes
#   the gradient vanish through depth: measured, a factor of about 4 per layer. ReLU
#   with He initialisation ($\operatorname{Var} W = 2/n_{\text{in}}$) keeps it level.
# - A deep sigmoid stack trained from scratch stays stuck near the mean image, while the
#   same stack with ReLU units learns.
# - At a fixed code size, hidden layers let the encoder and decoder bend, and beat both
#   PCA and the model without hidden layers on held-out digits. More depth still is not
#   automatically better.
# - On MNIST (`TINYAE_MNIST`), a 784-256-64 autoencoder trained for a few epochs on a
#   subset of the images already reconstructs held-out digits better than PCA with 64
#   components.
#
# ## Exercises
#
# 1. Build the sigmoid stack with `sizes=[64, 64, 16]` (four Dense layers), then with
#    `[64] * 8 + [16]`. Predict the first/last gradient ratio from the $1/4$ rule before
#    measuring it.
# 2. Build the ReLU stack with Glorot instead of He initialisation. The layers are
#    reachable as `model.encoder[i]` and `model.decoder[i]`; redraw the weights of each
#    `Dense` with variance $1/n_{\text{in}}$. How does the ratio change, and why is the
#    change a factor of about $\sqrt 2$ per layer?
# 3. Retrain the three 10-layer stacks with `ta.SGD(0.1, momentum=0.9)` instead of Adam.
#    Which ones still learn? Relate your answer to Adam's per-parameter step size
#    (lesson 7).
