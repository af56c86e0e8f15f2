# %% [markdown]
# # Lesson 12: Denoising autoencoders
#
# An autoencoder trained to copy its input can get away with learning little about the
# data: with a code as wide as it needs, copying is easy. A **denoising autoencoder**
# (Vincent et al., 2008) is given a *corrupted* image and asked for the *clean* one. To
# undo the damage it has to know what digits look like. This lesson trains one and
# measures how well it removes noise from digits it has never seen.
#
# ## Objectives
#
# - Corrupt images with Gaussian, masking and salt-and-pepper noise (`ta.add_noise`).
# - Train a denoising autoencoder with `fit(..., noise=(kind, level))`, which draws
#   fresh noise for every batch from the seeded Generator and keeps the clean batch as
#   target.
# - Measure, on held-out noisy digits, the error against the clean digits of three
#   denoisers at the same code size: PCA projection, the plain autoencoder and the
#   denoising autoencoder.
# - See what the denoising model gives up on clean images, and how it copes with other
#   noise levels than the one it was trained on.
#
# ## Prerequisites
#
# Lessons 7 and 8 (training with `fit`, `reconstruct`, comparing with PCA). The error
# throughout is tinyae's "squared error per image": summed over the 64 pixels, averaged
# over the images.

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

X, y = ta.load_digits()
X_train, X_test, y_train, y_test = ta.train_test_split(X, y, test_size=0.2, seed=0)
CODE = 32
EPOCHS = 25 if FAST else 100
NOISES = {"gaussian": 0.3, "masking": 0.3, "salt_pepper": 0.2}
print(f"{len(X_train)} training and {len(X_test)} held-out digits; code size {CODE}, "
      f"{EPOCHS} epochs per model")

# %% [markdown]
# ## 1. Three kinds of noise
#
# `ta.add_noise(X, kind, level, seed)` returns a corrupted copy:
#
# - **gaussian**: $\tilde x = \mathrm{clip}(x + \sigma\,\varepsilon, 0, 1)$ with
#   $\varepsilon \sim N(0, 1)$ and $\sigma$ = `level`;
# - **masking**: each pixel set to 0 with probability `level` (a pixel "drops out");
# - **salt_pepper**: each pixel, with probability `level`, set to 0 or 1.
#
# The noisy test digits are drawn once, with a seed that training never uses
# ({numref}`fig-12-noise-kinds`).

# %% mystnb={"figure": {"caption": "Ten held-out digits (top row) and their copies with each kind of noise, at the level used in this lesson.", "name": "fig-12-noise-kinds"}}
X_noisy = {kind: ta.add_noise(X_test, kind, level, seed=1234)
           for kind, level in NOISES.items()}
labels = ["clean"] + [f"{kind} {level}" for kind, level in NOISES.items()]
fig = plots.plot_reconstructions(
    X_test, list(X_noisy.values()), n=10, image_shape=(8, 8),
    row_labels=labels, path=FIGURES / "12_noise_kinds.png",
    title="held-out digits and their noisy copies")

# %%


def error(X_hat, X_clean=X_test):
    """Squared error per image (summed over pixels, averaged over images)."""
    return float(np.sum((X_hat - X_clean) ** 2) / len(X_clean))


for kind, Xn in X_noisy.items():
    print(f"{kind:>11}: the noisy input itself is {error(Xn):.3f} away from the clean "
          "digits")

# %% [markdown]
# ## 2. Training on corrupted inputs against clean targets
#
# The only change to training is one argument. In `fit`'s inner loop each batch `x` is
# corrupted *afresh* and the loss compares the reconstruction of the noisy batch with
# the clean one:
#
# ```python
# x_in = add_noise(x, kind, level, seed=rng)     # new noise every batch, every epoch
# loss = model.loss_and_backward(x_in, x, loss_fn)  # target: the clean x
# ```
#
# Because the noise is new every time, the model never sees the same corrupted image
# twice and cannot memorise the noise. `rng` is the Generator seeded by `fit(seed=...)`,
# so the run is reproducible: same seed, same bits.
#
# We train one plain autoencoder (on clean digits) and one denoising autoencoder per
# kind of noise, all `Autoencoder.shallow(64, 32)` with the same seed and epochs, and
# fit a PCA with 32 components, the linear denoiser: projecting a noisy image on the
# 32-dimensional subspace of the training digits removes the noise that lies outside it.

# %%
def train(noise=None):
    model = ta.Autoencoder.shallow(64, CODE, seed=0)
    model.fit(X_train, loss="bce", optimizer=ta.Adam(3e-3), epochs=EPOCHS,
              batch_size=32, seed=0, verbose=0, noise=noise)
    return model


plain = train()
denoisers = {kind: train((kind, level)) for kind, level in NOISES.items()}
pca = PCA(CODE).fit(X_train)

results = {}
print(f"{'noise':>11}  {'noisy input':>11}  {'PCA-32':>7}  {'plain AE':>8}  "
      f"{'denoising AE':>12}")
for kind, Xn in X_noisy.items():
    results[kind] = {"input": error(Xn), "pca": error(pca.reconstruct(Xn)),
                     "plain": plain.reconstruction_error(Xn, X_test),
                     "denoising": denoisers[kind].reconstruction_error(Xn, X_test)}
    r = results[kind]
    print(f"{kind:>11}  {r['input']:11.3f}  {r['pca']:7.3f}  {r['plain']:8.3f}  "
          f"{r['denoising']:12.3f}")

# %% [markdown]
# Read the table row by row: each number is how far the cleaned-up held-out digits are
# from the clean originals. For every kind of noise the denoising autoencoder is
# closest. The plain autoencoder, trained only to copy clean digits, also copies much of
# the noise. PCA removes the part of the noise that lies outside its subspace, but keeps
# the part inside it.

# %%
for kind, r in results.items():
    assert r["denoising"] < r["plain"], kind
    assert r["denoising"] < r["pca"], kind
    assert r["denoising"] < 0.6 * r["input"], kind
gain = {k: 1 - r["denoising"] / r["plain"] for k, r in results.items()}
print("error removed relative to the plain autoencoder:\n  " +
      ", ".join(f"{k} {g:.0%}" for k, g in gain.items()))

# %% [markdown]
# ## 3. What it looks like
#
# {numref}`fig-12-denoised-gaussian` and {numref}`fig-12-denoised-masking` show ten of
# the noisy held-out digits and what each model makes of them.

# %%
def show_denoised(kind):
    """Clean, noisy and three cleaned-up versions of ten held-out digits."""
    Xn = X_noisy[kind][:10]
    cleaned = [model.reconstruct(Xn) for model in (pca, plain, denoisers[kind])]
    plots.plot_reconstructions(
        X_test[:10], [Xn, *cleaned], image_shape=(8, 8),
        row_labels=["clean", "noisy", "PCA-32", "plain AE", "denoising AE"],
        path=FIGURES / f"12_denoised_{kind}.png",
        title=f"held-out digits with {kind} noise, cleaned by three models")


# %% mystnb={"figure": {"caption": "Gaussian noise (σ = 0.3): ten held-out digits, their noisy copies, and the copies cleaned by PCA with 32 components, the plain autoencoder and the denoising autoencoder.", "name": "fig-12-denoised-gaussian"}}
show_denoised("gaussian")

# %% mystnb={"figure": {"caption": "Masking noise (30 % of the pixels set to 0): ten held-out digits, their noisy copies, and the copies cleaned by PCA with 32 components, the plain autoencoder and the denoising autoencoder.", "name": "fig-12-denoised-masking"}}
show_denoised("masking")

# %% [markdown]
# ## 4. The price on clean digits
#
# The denoising model was never asked to reproduce a clean image exactly from a clean
# input, and its code has been pushed to ignore small details that noise could also
# produce. On clean test digits it is therefore *worse* than the plain model, by a
# margin we can measure.

# %%
clean_plain = plain.reconstruction_error(X_test)
clean_den = {k: m.reconstruction_error(X_test) for k, m in denoisers.items()}
print(f"clean test digits: plain AE {clean_plain:.3f}; denoising AEs:\n  " +
      ", ".join(f"{k} {v:.3f}" for k, v in clean_den.items()))
assert all(v > clean_plain for v in clean_den.values())

# %% [markdown]
# ## 5. Other noise levels
#
# The Gaussian denoiser was trained at $\sigma = 0.3$. How does it do at weaker and
# stronger noise? We corrupt the test digits at several levels and compare the three
# models (no retraining), in {numref}`fig-12-error-vs-level`.

# %%
levels = [0.1, 0.2, 0.3, 0.4, 0.5]
curves = {"noisy input": [], "PCA-32": [], "plain AE": [], "denoising AE (σ=0.3)": []}
for level in levels:
    Xn = ta.add_noise(X_test, "gaussian", level, seed=99)
    curves["noisy input"].append(error(Xn))
    curves["PCA-32"].append(error(pca.reconstruct(Xn)))
    curves["plain AE"].append(plain.reconstruction_error(Xn, X_test))
    curves["denoising AE (σ=0.3)"].append(
        denoisers["gaussian"].reconstruction_error(Xn, X_test))
print(f"{'Gaussian σ:':>22}  " + "  ".join(f"{level:6.1f}" for level in levels))
for name, values in curves.items():
    print(f"{name:>22}: " + "  ".join(f"{v:6.3f}" for v in values))

# %% mystnb={"figure": {"caption": "Squared error per image between the clean held-out digits and the noisy input, or its reconstruction by each model, as the Gaussian noise on the test digits grows. The denoising autoencoder was trained at σ = 0.3.", "name": "fig-12-error-vs-level"}}
fig = Figure(figsize=(6.5, 4.2), layout="constrained")
ax = fig.subplots()
for name, values in curves.items():
    ax.plot(levels, values, marker="o", label=name)
ax.set_xlabel("Gaussian noise σ on the test digits")
ax.set_ylabel("squared error per image vs clean")
ax.set_title("denoising held-out digits")
ax.grid(alpha=0.3)
ax.legend()
plots.save_figure(fig, FIGURES / "12_error_vs_level.png", dpi=100)

# %%
den = np.array(curves["denoising AE (σ=0.3)"])
plain_curve = np.array(curves["plain AE"])
assert np.all(den[1:] < plain_curve[1:])  # from σ = 0.2 up
assert np.all(np.diff(plain_curve - den) > 0)  # and the gap grows with the noise
assert np.all(den >= den[0])  # the error grows with the noise it has to undo
# at σ = 0.1 the noisy input is closer to the clean digit than either autoencoder, and
# PCA, which only projects, is about as close as the input
noisy0, pca0 = curves["noisy input"][0], curves["PCA-32"][0]
assert noisy0 < den[0] and noisy0 < plain_curve[0]
assert abs(pca0 - noisy0) < 0.1 * noisy0

# %% [markdown]
# From $\sigma = 0.2$ upwards the denoising model beats the plain one by a wide margin,
# and the gap grows with the noise. At $\sigma = 0.1$ the noise is smaller than what
# each autoencoder loses by squeezing an image through a 32-number code: the noisy input
# itself is closer to the clean digit than either autoencoder's output, and PCA's
# projection, which removes little at that level, is about as close as the input. So
# there no autoencoder should be used at all. Training noise is a choice: a denoiser is
# best near the noise it was trained for.
#
# ## Summary
#
# - A denoising autoencoder is trained on corrupted inputs against clean targets, with
#   fresh noise each batch: `fit(X, noise=("gaussian", 0.3))`. Nothing else changes.
# - On held-out noisy digits it removes far more noise than the plain autoencoder and
#   than PCA projection at the same code size, for Gaussian, masking and salt-and-pepper
#   noise.
# - It pays for this on clean images, and it is best near the noise level it was trained
#   on.
#
# ## Exercises
#
# 1. Train the masking denoiser with `level` 0.1 and 0.5 and test both on masking noise
#    0.3. Which training level is best, and why might a *harder* training task help?
# 2. Evaluate the Gaussian denoiser on salt-and-pepper test images. Does denoising
#    transfer from one kind of noise to another?
# 3. Replace `Autoencoder.shallow(64, 32)` by `Autoencoder.shallow(64, 128)`, an
#    overcomplete code. How do the plain and the denoising models change on noisy
#    digits? (Vincent et al. argue that the noise is what stops an overcomplete code
#    from learning the identity.)
