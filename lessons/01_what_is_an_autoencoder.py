# %% [markdown]
# # Lesson 1: What is an autoencoder?
#
# An **autoencoder** is a network trained to copy its input to its output through a
# narrow middle. The middle is too small to hold the input as it is, so the network has
# to find a short description of it (compress), and then rebuild the input from that
# description alone (reconstruct). What it learns to keep in the middle is what the data
# is made of.
#
# ## Objectives
#
# - Know the words of the subject: **encoder**, **decoder**, **code**,
#   **reconstruction**, **reconstruction error**, **compression ratio**.
# - Meet the data of these lessons, 1,797 handwritten digits of 8×8 pixels: their
#   shapes, their pixel range, how a row of 64 numbers becomes a picture.
# - Measure the reconstruction error of **PCA**, the classical linear compressor, for
#   every code size: it is the number an autoencoder has to beat.
# - Train a first small autoencoder with tinyae and watch its error fall.
#
# ## Prerequisites
#
# Python and NumPy arrays (shapes, indexing, `@` for the matrix product). Nothing about
# neural networks: lessons 2 to 5 build one piece by piece.
#
# **How to run a lesson.** Every lesson is a plain Python script in the "percent"
# format: cells start with `# %%`, prose cells with `# %% [markdown]`. Run it from the
# root of the repository (the folder holding `README.md`), after installing tinyae with
# `pip install -e .` as the README's quick start says:
#
# ```bash
# python lessons/01_what_is_an_autoencoder.py
# ```
#
# or open it as a notebook: VS Code runs the cells directly, and Jupyter does with the
# `jupytext` extension. Each lesson prints the numbers it talks about, checks each claim
# it makes with an `assert` on the computed numbers, and saves its figures in
# `lessons/figures/` (set the environment variable `TINYAE_FIGURES` to use another
# folder). `lessons/README.md` says how the tests run every lesson in a few seconds.

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
from tinyae.pca import PCA

N_SHOW = 6 if FAST else 10   # images per row in the figures (fewer is faster to draw)

# %% [markdown]
# ## 1. Compress, then reconstruct
#
# Take an input $x$ with $D$ numbers (a $D$-dimensional vector). An autoencoder is two
# functions:
#
# - the **encoder** $f$ maps $x$ to a **code** $z = f(x)$ with only $K < D$ numbers;
# - the **decoder** $g$ maps the code back to a **reconstruction** $\hat x = g(z)$ with
#   $D$ numbers again.
#
# $$x \;\xrightarrow{\ \text{encoder } f\ }\; z \;\xrightarrow{\ \text{decoder } g\ }\;
# \hat x = g(f(x)), \qquad x, \hat x \in \mathbb{R}^D,\ z \in \mathbb{R}^K .$$
#
# Nobody tells the network what the code should be. We only ask that $\hat x$ be close
# to $x$, and measure how far it is with the **reconstruction error**. In these lessons
# it is the squared error summed over the $D$ numbers of one input, then averaged over
# the $N$ inputs of a data set:
#
# $$E = \frac{1}{N} \sum_{n=1}^{N} \sum_{j=1}^{D}
# \left(\hat x_{nj} - x_{nj}\right)^2 .$$
#
# We call it the **squared error per image**. The **compression ratio** $D/K$ says how
# many times smaller the code is than the input. With $K = D$ the task is trivial
# (copy); the smaller $K$, the more the autoencoder must understand to reconstruct well.
#
# ## 2. The data: handwritten digits
#
# `ta.load_digits()` returns the 1,797 digits that ship inside tinyae (the UCI optical
# digits; the README says where they come from). Each image has $8 \times 8 = 64$
# pixels, stored as one row of 64 numbers: the first 8 numbers are the top row of the
# image, the next 8 the second row, and so on. Rows are samples: `X` has shape `(N, D)`.

# %%
X, y = ta.load_digits()
print(f"X: shape {X.shape}, dtype {X.dtype}, pixels from {X.min()} to {X.max()}")
print(f"y: shape {y.shape}, digits {np.unique(y)}")
print(f"images per digit: {np.bincount(y)}")
assert X.shape == (len(y), 64) and X.min() >= 0.0 and X.max() <= 1.0

# %% [markdown]
# One image is one row. Folding its 64 numbers back into 8 rows of 8 gives the picture
# (`reshape(8, 8)` reads the row in the order it was written). Here is the first one, as
# numbers (×16, the intensities of the original scanner, 0 to 16):

# %%
first = X[0].reshape(8, 8)
print(f"label {y[0]}:")
print((first * 16).astype(int))

# %% [markdown]
# Drawn with dark ink (1) on white paper (0), the first digits look like
# {numref}`fig-01-digits`.

# %%
def digit_grid(images, titles, ncols, title, path):
    """Images (n, 64) drawn as 8×8 pictures, dark on white, in rows of ncols."""
    nrows = -(-len(images) // ncols)  # ceiling division
    fig = Figure(figsize=(0.8 * ncols, 0.95 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, image, tile_title in zip(axes, images, titles):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(tile_title, fontsize=9)
    fig.suptitle(title)
    plots.save_figure(fig, path)


# %% mystnb={"figure": {"caption": "The first digits of the data set, each titled with its label: 8×8 pixels, dark ink (1) on white paper (0).", "name": "fig-01-digits"}}
n = 4 * N_SHOW
digit_grid(X[:n], [f"label {d}" for d in y[:n]], N_SHOW,
           f"The first {n} digits", FIGURES / "01_digits.png")

# %% [markdown]
# We keep 20% of the images aside as a **test set**. A compressor is fitted on the other
# 80% (the **training set**), and its error on the test set tells how well it does on
# digits it has never seen. `ta.train_test_split` shuffles the rows with a seeded random
# generator, so every run gives the same split.

# %%
X_train, X_test, y_train, y_test = ta.train_test_split(X, y, test_size=0.2, seed=0)
print(f"training set {X_train.shape}, test set {X_test.shape}")
show = [int(np.flatnonzero(y_test == d)[0]) for d in range(N_SHOW)]  # a 0, a 1, ...

# %% [markdown]
# ## 3. Two trivial compressors
#
# Two extremes frame the problem. With no code at all ($K = 0$) the best a decoder can
# do is output the same image for every input: the mean training image $\mu$. Its error
# is (about) the total variance of the pixels. With the whole image as the code ($K = D
# = 64$) the error is zero, and nothing has been compressed. Everything interesting is
# in between.

# %%
mean_image = X_train.mean(axis=0)
error_mean_image = np.sum((X_test - mean_image) ** 2) / len(X_test)
print(f"K = 0  (always answer the mean image): squared error per image "
      f"{error_mean_image:.3f}")
print("K = 64 (copy the input): squared error per image 0, compression ratio 1")

# %% [markdown]
# ## 4. PCA, the compressor to beat
#
# **Principal component analysis** (PCA) is the best *linear* compressor. It finds the
# $K$ directions $v_1, \dots, v_K$ (orthonormal rows of a $K \times D$ matrix $V_K$)
# along which the training images vary most. The code of an image is its coordinates
# along them, and the decoder adds the directions back to the mean:
#
# $$z = (x - \mu)\, V_K^\top \quad (K \text{ numbers}), \qquad
# \hat x = \mu + z\, V_K \quad (D \text{ numbers}).$$
#
# Encoder and decoder are both linear (a matrix product and a shift). No linear encoder
# and decoder with a $K$-number code have a lower squared error on the training data
# (the Eckart–Young theorem). An autoencoder has nonlinear encoder and decoder: it is
# worth its trouble only if it beats PCA at the same code size $K$. `tinyae.pca.PCA`
# computes it with NumPy's singular value decomposition, in tinyae's convention (rows
# are samples): `fit(X_train)` learns $\mu$ and $V_K$, `transform` is the encoder,
# `inverse_transform` the decoder, and `reconstruction_error(X)` the squared error per
# image.

# %%
pca_16 = PCA(16).fit(X_train)
Z = pca_16.transform(X_test)            # the codes: (360, 16)
X_hat = pca_16.inverse_transform(Z)     # the reconstructions: (360, 64)
print(f"PCA K = 16: codes {Z.shape}, reconstructions {X_hat.shape}")
print("squared error per image on the test set "
      f"{pca_16.reconstruction_error(X_test):.3f}")

# %% [markdown]
# The directions come out sorted, most variation first, and the first $K$ of them do not
# depend on how many we ask for. So one PCA with all 64 components gives every code
# size: keep the first $K$ rows of $V$ and apply the two formulas above.

# %%
full = PCA(64).fit(X_train)
mu, V = full.mean_, full.components_    # (64,) and (64, 64), rows sorted


def pca_reconstruct(X, K):
    """x̂ = μ + ((x − μ) V_Kᵀ) V_K with the first K directions."""
    V_K = V[:K]
    return mu + ((X - mu) @ V_K.T) @ V_K


def squared_error_per_image(X, X_hat):
    return np.sum((X_hat - X) ** 2) / len(X)


ks = np.arange(1, 65)
train_err = np.array([squared_error_per_image(X_train, pca_reconstruct(X_train, k))
                      for k in ks])
test_err = np.array([squared_error_per_image(X_test, pca_reconstruct(X_test, k))
                     for k in ks])
for k in (2, 4, 8, 16, 32):
    print(f"PCA K = {k:2d} (ratio {64 // k:2d}:1): squared error per image "
          f"train {train_err[k - 1]:.3f}, test {test_err[k - 1]:.3f}")

# The truncated formula is what PCA(16) computes.
assert np.isclose(test_err[15], pca_16.reconstruction_error(X_test), rtol=1e-10)
# More components never hurt on the data PCA was fitted to; all 64 reconstruct exactly.
assert np.all(np.diff(train_err) <= 1e-9)
assert train_err[-1] < 1e-12
# One component already does better than the mean image alone.
assert test_err[0] < error_mean_image
# On unseen digits PCA does about as well as on those it was fitted to (K <= 32).
gap = np.max(np.abs(test_err[:32] / train_err[:32] - 1))
print(f"for K = 1 to 32 the test error is within {gap:.0%} of the training error")
assert gap < 0.15

# %% mystnb={"figure": {"caption": "Squared error per image of PCA against the number of components K, on the training and the test digits; the dashed line is the error of always answering the mean image.", "name": "fig-01-pca-error"}}
fig = Figure(figsize=(6.5, 4), layout="constrained")
ax = fig.subplots()
ax.plot(ks, train_err, marker="o", ms=3, label="PCA, training set")
ax.plot(ks, test_err, marker="o", ms=3, label="PCA, test set")
ax.axhline(error_mean_image, color="gray", ls="--", lw=1,
           label="mean image (K = 0), test")
ax.set_xlabel("code size K (number of components)")
ax.set_ylabel("squared error per image")
ax.set_title("PCA on the 8×8 digits: reconstruction error vs code size")
ax.set_xlim(0, 65)
ax.set_ylim(bottom=0)
ax.grid(alpha=0.3)
ax.legend()
plots.save_figure(fig, FIGURES / "01_pca_error.png")

# %% [markdown]
# The curve of {numref}`fig-01-pca-error` falls fast, then slowly: a few directions
# carry most of the variation (the broad strokes of a digit), and the last ones carry
# little (the corners of the image are almost always blank). The test error stays close
# to the training error (the sentence printed above the figure): PCA does about as well
# on digits it has never seen as on those it was fitted to.
#
# How does a digit look after compression? {numref}`fig-01-pca-reconstructions` shows
# one test digit of each class (top row) and its PCA reconstructions from codes of 2,
# 4, 8 and 16 numbers.

# %% mystnb={"figure": {"caption": "Test digits (top row) and their PCA reconstructions from codes of K = 2, 4, 8 and 16 numbers, clipped to [0, 1].", "name": "fig-01-pca-reconstructions"}}
code_sizes = (2, 4, 8, 16)
pca_recons = [pca_reconstruct(X_test, k) for k in code_sizes]
fig = plots.plot_reconstructions(
    X_test[show], [np.clip(R[show], 0, 1) for R in pca_recons],  # PCA can leave [0, 1]
    n=N_SHOW, row_labels=["original"] + [f"PCA\nK = {k}" for k in code_sizes],
    title="Test digits and their PCA reconstructions",
    path=FIGURES / "01_pca_reconstructions.png")

# %% [markdown]
# With 2 numbers every digit becomes a blur of a few prototypes; with 16 (a compression
# ratio of 4:1) most are readable. Note that PCA's reconstructions can leave the range
# $[0, 1]$ of real pixels (we clipped them for the picture): a linear decoder knows
# nothing of the range.
#
# ## 5. A first autoencoder
#
# tinyae builds the simplest autoencoder with `ta.Autoencoder.shallow(D, K)`: one
# layer in the encoder, one in the decoder,
#
# $$z = \mathrm{relu}(x W_1 + b_1), \qquad \hat x = \sigma(z W_2 + b_2),$$
#
# where $W_1$ ($64 \times 16$), $b_1$, $W_2$ ($16 \times 64$) and $b_2$ are numbers the
# network learns, $\mathrm{relu}(t) = \max(0, t)$ and the sigmoid
# $\sigma(t) = 1/(1 + e^{-t})$ squashes each output pixel into $(0, 1)$. Lessons 2 to 4
# take these pieces one by one; here we only watch them work.
#
# Learning means adjusting the weights to lower the error; the number that training
# lowers is called the **loss** (here `loss="mse"`, the squared error per image).
# `model.fit` does it by **gradient descent**: it takes a small group of images (a
# **batch**), computes in which direction each weight should move to lower the error on
# them (the **gradient**, lesson 5), and moves every weight a small step that way. The
# rule that sets the step is the **optimizer** (here `ta.Adam`, with a **learning rate**
# `lr` that scales the steps; lesson 7 explains it). One pass over all training images
# is an **epoch**. Before training, the weights are random and the reconstructions are
# noise.

# %%
model = ta.Autoencoder.shallow(64, 16, seed=0)   # 64 -> 16 -> 64
print(model)
error_before = model.evaluate(X_test, "mse")
print(f"before training: squared error per image on the test set {error_before:.3f}")

epochs = 20 if FAST else 150
history = model.fit(X_train, loss="mse", optimizer=ta.Adam(lr=3e-3), epochs=epochs,
                    validation_data=X_test, seed=0, verbose=0)
error_after = model.evaluate(X_test, "mse")
pca_error_16 = test_err[15]
print(f"after {epochs} epochs ({sum(history.epoch_time):.1f} s): squared error per "
      f"image on the test set {error_after:.3f}")
print(f"PCA with 16 components on the same test set: {pca_error_16:.3f}")
print(f"The autoencoder's error is "
      f"{'lower' if error_after < pca_error_16 else 'higher'} than PCA's by "
      f"{abs(error_after - pca_error_16) / pca_error_16:.0%}.")

# Training lowered the error on digits the model never trained on.
assert error_after < error_before
assert history.val_loss[-1] < history.val_loss[0]
if not FAST:  # the claim below, checked where it is made
    assert error_after < pca_error_16

# %% [markdown]
# `fit` returns a `History` with the training loss and the test ("validation") loss
# after every epoch. `model.evaluate(X, "mse")` is the squared error per image, the same
# number as PCA's, and `model.reconstruct(X)` returns the reconstructions $\hat x$
# (`model.encode(X)` and `model.decode(Z)` are its two halves). After the epochs of
# this run the autoencoder ends below PCA with the same code size, by the margin
# printed above; the cell asserts it. (Train for fewer epochs, say 20, and see where it
# ends.) {numref}`fig-01-loss` shows the two losses falling, and
# {numref}`fig-01-autoencoder-vs-pca` the reconstructions side by side.

# %% mystnb={"figure": {"caption": "Training and test (validation) loss of the first autoencoder after each epoch, on a log scale.", "name": "fig-01-loss"}}
fig = plots.plot_loss_curves(history, log=True,
                             title="First autoencoder (64 → 16 → 64)",
                             path=FIGURES / "01_first_autoencoder_loss.png")

# %% mystnb={"figure": {"caption": "Test digits (top row), their PCA reconstructions and the autoencoder's, both from codes of 16 numbers.", "name": "fig-01-autoencoder-vs-pca"}}
recons = [np.clip(pca_recons[-1][show], 0, 1), model.reconstruct(X_test[show])]
fig = plots.plot_reconstructions(
    X_test[show], recons,
    n=N_SHOW, row_labels=["original", "PCA\nK = 16", "autoencoder\nK = 16"],
    title="Test digits, PCA and the autoencoder (codes of 16 numbers)",
    path=FIGURES / "01_autoencoder_vs_pca.png")

# %% [markdown]
# ## Summary
#
# - An autoencoder is an **encoder** $z = f(x)$ that compresses an input into a **code**
#   of $K$ numbers, and a **decoder** $\hat x = g(z)$ that **reconstructs** the input;
#   it is trained to make the **reconstruction error** small. $D/K$ is the
#   **compression ratio**.
# - Our data: 1,797 digits, `X` of shape `(1797, 64)`, pixels in $[0, 1]$, one image per
#   row, `reshape(8, 8)` to see it.
# - The reconstruction error here is the **squared error per image**: summed over the 64
#   pixels, averaged over the images.
# - **PCA** is the best linear compressor; its error against $K$ is the curve an
#   autoencoder must get under.
# - `ta.Autoencoder.shallow(64, 16)` and `model.fit(...)` train one; its test error fell
#   from the error of random weights to the level of PCA and below.
#
# ## Exercises
#
# 1. The first 8 components of PCA remove most of the error. Draw the rows of
#    `PCA(8).fit(X_train).components_` as 8×8 images (they can be negative: use a
#    diverging colour map such as `"RdBu_r"`). What strokes do they describe?
# 2. What is the compression ratio of a code of 16 numbers if each code number is stored
#    as a float64 (8 bytes) while each original pixel needs only 5 bits (17 values)? Is
#    "compression" in the autoencoder sense the same as file compression?
# 3. Train `ta.Autoencoder.shallow(64, K)` for K = 2, 8 and 32 and put its test error on
#    the PCA curve. For which K is the gap to PCA largest? Why might a small code favour
#    the autoencoder?
