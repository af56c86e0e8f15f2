# %% [markdown]
# # Lesson 8: The autoencoder at work
#
# We can train an autoencoder (lesson 7). Now we look at what it learned: how good its
# reconstructions are, what its first layer looks for, how its codes arrange the digits,
# and how much it beats PCA, the linear baseline of lesson 1, at each code size.
#
# ## Objectives
#
# - Compare reconstructions of held-out digits by PCA and by an autoencoder at the same
#   code size.
# - Read the first layer's weights as images ("filters") and say what a unit responds
#   to.
# - Plot reconstruction error against code size for the autoencoder and PCA, and relate
#   code size to the **compression ratio**.
# - Show, on held-out digits, that a nonlinear autoencoder beats PCA for small codes,
#   and that its 2-D codes separate the digit classes better.
#
# ## Prerequisites
#
# Lesson 1 (PCA as the baseline, `PCA(k)` with `fit`/`transform`/`reconstruct`/
# `reconstruction_error`), lesson 7 (`fit` with `Adam`, validation data), and the
# "squared error per image" of lesson 4. We use `Autoencoder.deep(sizes)`, which builds
# a mirrored stack: `[64, 128, k]` means 64 → 128 → k → 128 → 64, ReLU in the hidden
# layers, a linear code and a sigmoid output. Lesson 10 looks at deep models in detail.

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
CODE_SIZES = [2, 4, 8, 16, 32]
EPOCHS = 12 if FAST else 60
print(f"{len(X_train)} training digits, {len(X_test)} held-out test digits; "
      f"{EPOCHS} epochs per model")

# %% [markdown]
# ## 1. One autoencoder and one PCA per code size
#
# For each code size $k$ we fit a PCA with $k$ components and train an autoencoder
# `[64, 128, k]` with MSE and Adam, on the training digits only. Every number below is
# measured on the **test** digits, which neither model has seen. A model that had only
# memorised its training set would do badly there.
#
# One new ingredient: **weight decay**. It adds $\frac{\lambda}{2}\sum \theta^2$ over
# all weights to the loss, so every gradient gets an extra $\lambda\theta$. This term
# pulls each weight towards 0 unless the data push back. Both tinyae optimizers take it
# as an argument, `Adam(lr, weight_decay=λ)`. Section 3 shows why we want it here.

# %%
def train_autoencoder(k, weight_decay=1e-3):
    """A [64, 128, k] autoencoder trained on the training digits (MSE, Adam)."""
    model = ta.Autoencoder.deep([64, 128, k], hidden="relu", output="sigmoid", seed=0)
    model.fit(X_train, loss="mse", optimizer=ta.Adam(3e-3, weight_decay=weight_decay),
              epochs=EPOCHS, batch_size=32, seed=0, verbose=0)
    return model


autoencoders, pcas = {}, {}
ae_error, pca_error = {}, {}
for k in CODE_SIZES:
    model = train_autoencoder(k)
    autoencoders[k], pcas[k] = model, PCA(k).fit(X_train)
    ae_error[k] = model.evaluate(X_test, "mse")
    pca_error[k] = pcas[k].reconstruction_error(X_test)
    print(f"k = {k:2d}: autoencoder {ae_error[k]:.3f}, PCA {pca_error[k]:.3f} "
          "squared error per test image")

# %% [markdown]
# ## 2. Reconstructions
#
# `plots.plot_reconstructions(X, [X_hat_1, X_hat_2, ...])` puts the originals in the top
# row and one row per reconstruction below. In {numref}`fig-08-reconstructions`: PCA and
# the autoencoder with a 4-number code, then both with a 16-number code.

# %% mystnb={"figure": {"caption": "One held-out test digit of each class (top row) and its reconstructions by PCA and by the autoencoder, from codes of 4 and of 16 numbers.", "name": "fig-08-reconstructions"}}
one_per_class = [int(np.flatnonzero(y_test == digit)[0]) for digit in range(10)]
show = X_test[one_per_class]                      # one test image of each digit 0..9
fig = plots.plot_reconstructions(
    show,
    [pcas[4].reconstruct(show), autoencoders[4].reconstruct(show),
     pcas[16].reconstruct(show), autoencoders[16].reconstruct(show)],
    row_labels=["original", "PCA, k=4", "AE, k=4", "PCA, k=16", "AE, k=16"],
    title="Held-out digits and their reconstructions",
    path=FIGURES / "08_reconstructions.png",
)

# %% [markdown]
# With 4 numbers per image, PCA can only mix its 4 fixed "eigendigits" (linear
# combinations plus the mean). Its reconstructions are blurry blends, and several digits
# look alike. The autoencoder's decoder is a nonlinear function of its 4 numbers. It can
# draw a sharp stroke for one code and a quite different one for a nearby code, and many
# of its reconstructions are recognisable. At 16 numbers both are good.
#
# ## 3. Filters: what the first layer looks for
#
# The first layer computes $z_j = \sum_i x_i W_{ij} + b_j$ for each hidden unit $j$.
# That is a *template match*: the pixel image $x$ is multiplied pixel by pixel with the
# column $W_{:,j}$ and summed. Drawing each column as an 8×8 image shows which pattern
# of ink drives the unit up (red) or down (blue). `plots.plot_filters(model)` draws the
# columns of the first `Dense` layer. {numref}`fig-08-filters` shows 36 of the 128 units
# of the $k = 16$ model, and {numref}`fig-08-filters-no-decay` the same model trained
# *without* weight decay.

# %% mystnb={"figure": {"caption": "The first-layer weights of 36 of the 128 hidden units of the k = 16 autoencoder trained with weight decay, each column drawn as an 8×8 image: red positive, blue negative, each tile scaled to its own largest weight.", "name": "fig-08-filters"}}
fig = plots.plot_filters(autoencoders[16], n=36,
                         title="First-layer filters, k = 16, weight decay 1e-3",
                         path=FIGURES / "08_filters_autoencoder.png")

# %% mystnb={"figure": {"caption": "The same 36 filters when the model is trained without weight decay.", "name": "fig-08-filters-no-decay"}}
no_decay = ta.Autoencoder.deep([64, 128, 16], hidden="relu", output="sigmoid", seed=0)
W_init = no_decay.encoder[0].params["W"].copy()      # the random start, before training
no_decay = train_autoencoder(16, weight_decay=0.0)   # same seed: same W_init
fig = plots.plot_filters(no_decay, n=36,
                         title="The same model trained without weight decay",
                         path=FIGURES / "08_filters_no_decay.png")

# %% [markdown]
# Without weight decay the filters look like noise ({numref}`fig-08-filters-no-decay`).
# The reason is in the gradient of the first layer, $\delta W_{ij} = \sum_n x_{ni}\,
# \delta z_{nj}$ (lesson 5, with $z = xW + b$ the layer's output): a pixel $i$ that is
# blank in every training image gives its weights a gradient of exactly zero. Those
# weights keep their random initial values forever, and pixels that are only
# rarely inked (the border of the 8×8 grid) get small, rare gradients. Weight decay
# gives every weight a pull towards 0, so the weights that the data do not use fade
# away, and what is left is what the data asked for. It does not cost accuracy here: the
# test errors printed below are within 5% of each other, or better with decay. (Weight
# decay is also a mild defence against overfitting, lesson 7.) We check these claims on
# the pixels that are blank in all training digits, and on the border ring of the grid
# against its interior:

# %%
blank = np.all(X_train == 0, axis=0)                 # pixels with no ink in any image
W_no_decay = no_decay.encoder[0].params["W"]
W_decay = autoencoders[16].encoder[0].params["W"]
shrink = np.abs(W_decay[blank]).mean() / np.abs(W_init[blank]).mean()
print(f"{blank.sum()} pixels are blank in every training digit: "
      f"{np.flatnonzero(blank)}")
print(f"their weights without decay unchanged since initialisation: "
      f"{np.array_equal(W_no_decay[blank], W_init[blank])}")
print(f"with decay, their mean |weight| is {shrink:.1e} times the initial one")
print(f"test error without decay {no_decay.evaluate(X_test, 'mse'):.3f}, "
      f"with decay {ae_error[16]:.3f}")
assert np.array_equal(W_no_decay[blank], W_init[blank])
assert shrink < 0.1
assert ae_error[16] < 1.05 * no_decay.evaluate(X_test, "mse")

ring = np.zeros((8, 8), dtype=bool)
ring[[0, -1], :] = ring[:, [0, -1]] = True
ring = ring.ravel()                         # the 28 pixels on the edge of the grid


def border_share(W):
    """Mean |weight| on the border ring divided by the mean |weight| inside it."""
    return np.abs(W[ring]).mean() / np.abs(W[~ring]).mean()


print(f"border/interior weight size: without decay {border_share(W_no_decay):.2f}, "
      f"with decay {border_share(W_decay):.2f}")
assert border_share(W_decay) < border_share(W_no_decay)

# %% [markdown]
# With decay ({numref}`fig-08-filters`) the border fades towards white and each filter
# concentrates on the centre, where the strokes are. A filter mixes patches of red and
# blue: the unit fires for ink on the red pixels *and* no ink on the blue ones, and the
# ReLU after it answers only when that pattern is present. A filter that is white almost
# everywhere belongs to a unit the data barely use. Eight by eight pixels are coarse, so
# the patterns are coarse too. For comparison, {numref}`fig-08-filters-pca` draws PCA's
# first 16 principal directions (the rows of `components_`) the same way.

# %% mystnb={"figure": {"caption": "PCA's first 16 principal directions, drawn like the filters: in order, from the top left.", "name": "fig-08-filters-pca"}}
fig = plots.plot_filters(pcas[16].components_.T,
                         title="PCA's 16 principal directions, drawn the same way",
                         path=FIGURES / "08_filters_pca.png")

# %% [markdown]
# PCA's directions are global, orthogonal and ordered by variance. The first ones are
# broad, digit-sized patterns; later ones get finer. The autoencoder's filters have no
# order and need not be orthogonal: the layer after them mixes them freely.
#
# ## 4. Codes: how the digits are arranged
#
# With $k = 2$ every digit becomes a point in the plane, and we can look at all of them.
# `plots.plot_codes(codes, labels)` colours each point by the digit it shows (labels we
# never used for training): {numref}`fig-08-codes-pca` for PCA,
# {numref}`fig-08-codes-autoencoder` for the autoencoder.

# %% mystnb={"figure": {"caption": "The test digits as points of the plane: their coordinates on PCA's first two principal directions, coloured by label.", "name": "fig-08-codes-pca"}}
fig = plots.plot_codes(pcas[2].transform(X_test), y_test,
                       title="PCA, 2 components: codes of the test digits",
                       path=FIGURES / "08_codes_pca.png")

# %% mystnb={"figure": {"caption": "The test digits' 2-number codes from the autoencoder with k = 2, coloured by label.", "name": "fig-08-codes-autoencoder"}}
fig = plots.plot_codes(autoencoders[2].encode(X_test), y_test,
                       title="Autoencoder, 2-number code: codes of the test digits",
                       path=FIGURES / "08_codes_autoencoder.png")

# %% [markdown]
# To put a number on "better separated" we use the simplest classifier there is,
# **1-nearest-neighbour**: label each test digit with the label of the training digit
# whose code is closest. If the classes overlap in code space, it guesses wrong.

# %%
def nearest_neighbour_accuracy(codes_train, codes_test):
    """Fraction of test codes whose nearest training code has the same label."""
    d2 = ((codes_test[:, None, :] - codes_train[None, :, :]) ** 2).sum(axis=2)
    return float(np.mean(y_train[d2.argmin(axis=1)] == y_test))


acc_pca = nearest_neighbour_accuracy(pcas[2].transform(X_train),
                                     pcas[2].transform(X_test))
acc_ae = nearest_neighbour_accuracy(autoencoders[2].encode(X_train),
                                    autoencoders[2].encode(X_test))
print(f"1-nearest-neighbour accuracy from a 2-number code: PCA {acc_pca:.1%}, "
      f"autoencoder {acc_ae:.1%}")
print("(chance: 10%)")
assert acc_ae > acc_pca

# %% [markdown]
# ## 5. Error against code size, and the compression ratio
#
# A code of $k$ numbers for an image of 64 pixels is a **compression ratio** of $64/k$.
# The price is the reconstruction error. The honest comparison is error against $k$,
# for both models on the same test digits (the table, and
# {numref}`fig-08-error-vs-code-size`):

# %%
print(f"{'k':>3} {'ratio':>6} {'PCA':>7} {'AE':>7} {'AE/PCA':>7}  better")
for k in CODE_SIZES:
    winner = "autoencoder" if ae_error[k] < pca_error[k] else "PCA"
    print(f"{k:3d} {64 / k:5.0f}x {pca_error[k]:7.3f} {ae_error[k]:7.3f} "
          f"{ae_error[k] / pca_error[k]:7.2f}  {winner}")
total_variance = X_test.var(axis=0).sum()
print(f"(for scale: always answering the mean image costs {total_variance:.3f} "
      "per image)")

# %% mystnb={"figure": {"caption": "Squared error per held-out test image against the code size k, for PCA and the autoencoder, both axes logarithmic; below each k, the compression ratio 64/k.", "name": "fig-08-error-vs-code-size"}}
fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.subplots()
ax.plot(CODE_SIZES, [pca_error[k] for k in CODE_SIZES], "s-", label="PCA")
ax.plot(CODE_SIZES, [ae_error[k] for k in CODE_SIZES], "o-",
        label="autoencoder [64, 128, k]")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.yaxis.set_major_formatter("{x:.2g}")          # 0.5, 1, 2 rather than 5×10⁻¹
ax.yaxis.set_minor_formatter("{x:.2g}")
ax.set_xticks(CODE_SIZES, [f"{k}\n({64 // k}x)" for k in CODE_SIZES])
ax.set_xlabel("code size k  (compression ratio 64/k)")
ax.set_ylabel("squared error per test image")
ax.set_title("Reconstruction error on held-out digits")
ax.grid(alpha=0.3, which="both")
ax.legend()
plots.save_figure(fig, FIGURES / "08_error_vs_code_size.png")

# %%
for k in (2, 4):
    assert ae_error[k] < pca_error[k], f"at k={k} the autoencoder should beat PCA"
assert ae_error[2] / pca_error[2] < ae_error[32] / pca_error[32]
assert all(pca_error[a] > pca_error[b] for a, b in zip(CODE_SIZES, CODE_SIZES[1:]))

# %% [markdown]
# - For small codes the autoencoder wins clearly. The digits lie near a curved surface
#   in the 64-dimensional pixel space, and a nonlinear encoder and decoder can follow
#   the curve, while PCA can only fit a flat subspace.
# - At $k = 32$ the advantage has shrunk or gone (compare the AE/PCA column at $k = 2$
#   and $k = 32$). With many components a flat subspace already captures most of the
#   variation, and PCA's answer is *exact*: the optimum for its model class, with no
#   training. The autoencoder's is only as good as its training run. The table shows who
#   wins at the largest sizes with this budget.
# - PCA's error falls with every component it adds; it can never rise, since the
#   $k+1$-dimensional subspace contains the $k$-dimensional one.
#
# One more thing the ratio $64/k$ hides: the decoder. To send $N$ images as codes you
# also need the decoder's weights.

# %%
decoder_size = sum(p.size for _, p, _ in autoencoders[8].decoder.named_parameters())
pca_size = pcas[8].components_.size + pcas[8].mean_.size
print(f"compression ratio with the model included (codes alone: {64 / 8:.0f}x):")
for N in (100, 10_000, 1_000_000):
    ae_ratio = 64 * N / (8 * N + decoder_size)
    pca_ratio = 64 * N / (8 * N + pca_size)
    print(f"  N = {N:>9,} images: autoencoder {ae_ratio:5.2f}x, PCA {pca_ratio:5.2f}x")
print(f"numbers in the model: autoencoder decoder {decoder_size:,}, PCA {pca_size:,}")
assert decoder_size > pca_size

# %% [markdown]
# The autoencoder's decoder (for $k = 8$) has many more numbers than PCA's 8 components
# plus the mean. It only pays for itself over many images.
#
# ## Summary
#
# - On held-out digits a `[64, 128, k]` autoencoder reconstructs far better than PCA for
#   small codes; by $k = 32$ the advantage has shrunk or gone, and PCA's exact linear
#   optimum is hard to beat.
# - First-layer weights, drawn as images, are templates. PCA's are global, orthogonal
#   and ordered; the autoencoder's concentrate on the patches where the strokes are.
#   Weight decay removes the random leftovers on pixels the data never use.
# - 2-D autoencoder codes separate the digit classes better than the first two principal
#   components, as measured by 1-nearest-neighbour accuracy, although no label was used
#   in training.
# - The compression ratio is $64/k$ for the codes alone; counting the decoder, it only
#   approaches that for many images.
#
# ## Exercises
#
# 1. Train the autoencoders with `loss="bce"` instead of MSE (lesson 4) and report the
#    test squared error again with `model.evaluate(X_test, "mse")`. Does the loss you
#    train with change the comparison with PCA?
# 2. Repeat section 5 with 4 times fewer training epochs. At which code sizes does the
#    autoencoder still beat PCA? What does that say about comparing a trained model with
#    an exact method?
# 3. Decode a few points of the 2-D code plane that no test digit maps to, e.g. between
#    two clusters, with `autoencoders[2].decode(...)` and `plots.plot_image_grid`. What
#    do the images look like?
