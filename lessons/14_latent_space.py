# %% [markdown]
# # Lesson 14: The latent space
#
# An autoencoder's code, or *latent* representation, is a new coordinate system for the
# images. This lesson looks at it three ways: as a map (2-D codes, coloured by digit,
# and the images the decoder draws at each point of the map), as a space to walk in
# (interpolation between two digits), and as features for a classifier trained with few
# labels.
#
# ## Objectives
#
# - Draw 2-D codes coloured by digit and decode a grid of points of the code plane.
# - Interpolate between two digits in code space and in pixel space, and measure which
#   path stays closer to real digits.
# - Train a softmax classifier (`ta.SoftmaxClassifier`, multinomial logistic regression
#   written with tinyae's own modules and gradient-checked) on codes and on raw pixels
#   with 10, 50 and all labels per class, and compare test accuracy.
#
# ## Prerequisites
#
# Lesson 8 (codes and PCA), lesson 12 (denoising autoencoders). For the classifier: the
# softmax $p_c = e^{z_c}/\sum_{c'} e^{z_{c'}}$ and the cross-entropy $-\log p_{y}$; with
# them fused, the gradient with respect to the logits is $(p - \mathrm{onehot}(y))/N$,
# the same shape of result as the sigmoid with binary cross-entropy of lesson 4.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.gradcheck import check_loss, numerical_gradient, relative_error
from tinyae.pca import PCA

X, y = ta.load_digits()
X_train, X_test, y_train, y_test = ta.train_test_split(X, y, test_size=0.2, seed=0)
EPOCHS = 30 if FAST else 100
DRAWS = 2 if FAST else 5          # labelled subsets drawn per setting
print(f"{len(X_train)} training and {len(X_test)} test digits; {EPOCHS} epochs per "
      f"autoencoder,\n{DRAWS} draws of labelled subsets")


def train_ae(sizes, noise=None):
    model = ta.Autoencoder.deep(sizes, seed=0) if len(sizes) > 2 else \
        ta.Autoencoder.shallow(*sizes, seed=0)
    model.fit(X_train, loss="bce", optimizer=ta.Adam(3e-3), epochs=EPOCHS,
              batch_size=32, seed=0, verbose=0, noise=noise)
    return model


# %% [markdown]
# ## 1. A map of the digits
#
# A `[64, 128, 2]` autoencoder squeezes each digit into two numbers. No label is used in
# training; we colour the test codes by their label afterwards. PCA's first two
# components are the linear comparison ({numref}`fig-14-codes-2d`).

# %% mystnb={"figure": {"caption": "The test digits in two dimensions, coloured by their label: PCA's first two components (left) and the 2-D code of the autoencoder (right), which never saw a label.", "name": "fig-14-codes-2d"}}
ae2 = train_ae([64, 128, 2])
pca2 = PCA(2).fit(X_train)
Z_train, Z_test = ae2.encode(X_train), ae2.encode(X_test)

fig = Figure(figsize=(8.6, 4.2), layout="constrained")
tab10 = colormaps["tab10"]
panels = [("PCA, 2 components", pca2.transform(X_test)),
          ("autoencoder, 2-D code", Z_test)]
for ax, (name, Z), axis in zip(fig.subplots(1, 2), panels, ("component", "code")):
    for c in range(10):
        ax.scatter(*Z[y_test == c].T, s=10, color=tab10(c), label=str(c))
    ax.set_title(name)
    ax.set_xlabel(f"{axis} 1")
    ax.set_ylabel(f"{axis} 2")
ax.legend(title="digit", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
plots.save_figure(fig, FIGURES / "14_codes_2d.png", dpi=100)

# %%


def nearest_neighbour_accuracy(F_train, F_test):
    """Test accuracy of labelling each test point like its nearest training point."""
    d = ((F_test[:, None, :] - F_train[None, :, :]) ** 2).sum(-1)
    return float(np.mean(y_train[d.argmin(1)] == y_test))


knn_ae = nearest_neighbour_accuracy(Z_train, Z_test)
knn_pca = nearest_neighbour_accuracy(pca2.transform(X_train), pca2.transform(X_test))
print(f"1-nearest-neighbour accuracy in 2-D: autoencoder {knn_ae:.3f}, "
      f"PCA {knn_pca:.3f}")
assert knn_ae > knn_pca + 0.05

# %% [markdown]
# The digits form clusters in the autoencoder's plane, far more cleanly than in PCA's:
# a test digit's nearest training code usually has its label. What does the decoder draw
# *between* the clusters? We decode a grid of points covering the codes of the training
# digits ({numref}`fig-14-code-grid`).

# %% mystnb={"figure": {"caption": "What the decoder draws at each point of a grid over the 2-D code plane, from the 2nd to the 98th percentile of the training codes on each axis (code 1 grows to the right, code 2 upwards).", "name": "fig-14-code-grid"}}
lo, hi = np.percentile(Z_train, [2, 98], axis=0)
steps = 8 if FAST else 12
g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(hi[1], lo[1], steps))
grid = np.column_stack([g1.ravel(), g2.ravel()])
fig = plots.plot_image_grid(ae2.decode(grid), ncols=steps,
                            path=FIGURES / "14_code_grid.png",
                            title="the decoder's drawing at each point of the plane")

# %% [markdown]
# Most of the plane decodes to something digit-like, with smooth changes from one cell
# to the next; the borders between clusters give hybrids, and regions where no training
# code lies (often a corner) decode to broken shapes. The autoencoder was never asked to
# make the space between codes meaningful. Lesson 17's variational autoencoder is.
#
# ## 2. Walking from one digit to another
#
# Between a test "0" and a test "6" we take seven in-between points in two ways:
# blending the pixels, $(1-t)\,x_a + t\,x_b$, and blending the codes, decoding
# $(1-t)\,z_a + t\,z_b$ (`model.interpolate(x_a, x_b, steps)`). To measure how
# digit-like each in-between image is, we take its distance to the nearest *training*
# digit. {numref}`fig-14-interpolation` shows one pair.

# %% mystnb={"figure": {"caption": "From a test 0 to a test 6 in nine steps: blending the pixels (top) and decoding blends of the two codes (bottom).", "name": "fig-14-interpolation"}}
def nearest_training_distance(images):
    return ((images[:, None, :] - X_train[None, :, :]) ** 2).sum(-1).min(axis=1)


a, b = int(np.flatnonzero(y_test == 0)[0]), int(np.flatnonzero(y_test == 6)[0])
t = np.linspace(0, 1, 9)[:, None]
pixel_path = (1 - t) * X_test[a] + t * X_test[b]
code_path = ae2.interpolate(X_test[a], X_test[b], steps=9)
fig = plots.plot_reconstructions(
    pixel_path, code_path, n=9, image_shape=(8, 8),
    row_labels=["pixel blend", "code blend"],
    path=FIGURES / "14_interpolation.png",
    title="from a 0 to a 6: blending pixels vs blending codes")

# %%
# the same comparison over many random pairs of test digits
rng = np.random.default_rng(0)
pairs = rng.choice(len(X_test), size=(10 if FAST else 40, 2))
inner = t[1:-1]
d_pixel, d_code = [], []
for i, j in pairs:
    blend = (1 - inner) * X_test[i] + inner * X_test[j]
    d_pixel.append(nearest_training_distance(blend).mean())
    decoded = ae2.interpolate(X_test[i], X_test[j], 9)[1:-1]
    d_code.append(nearest_training_distance(decoded).mean())
d_pixel, d_code = float(np.mean(d_pixel)), float(np.mean(d_code))
print("mean squared distance of in-between images to the nearest training digit:\n"
      f"pixel blend {d_pixel:.3f}, code blend {d_code:.3f} ({len(pairs)} pairs)")
assert d_code < d_pixel

# %% [markdown]
# A pixel blend is a double exposure: two faint digits on top of each other, which looks
# like no real digit. The code blend morphs one shape into the other and stays nearer to
# real digits all along the way.
#
# ## 3. Codes as features for a classifier
#
# Labels are often scarce while images are plentiful. We train the autoencoders on all
# training images *without* labels, then a softmax classifier with only $k$
# labelled images per class, on three kinds of features:
#
# - the 64 raw pixels,
# - a 16-number code (`Autoencoder.shallow(64, 16)`), four times more compact,
# - a 128-number code of a *denoising* autoencoder (`shallow(64, 128)` trained with
#   masking noise 0.3): overcomplete, which is only useful because the noise stops it
#   from simply copying the pixels (lesson 12).
#
# First, the classifier's own gradients, checked like every other piece of tinyae:

# %%
z, labels = rng.normal(size=(6, 10)) * 2, rng.integers(0, 10, 6)
report = check_loss(ta.SoftmaxCrossEntropy(), z, np.eye(10)[labels])
print(f"softmax cross-entropy: {report.max_error:.1e}")
assert report.passed
clf = ta.SoftmaxClassifier(5, 10, seed=0, weight_decay=0.1)
F = rng.normal(size=(6, 5))
clf.loss_and_backward(F, labels)
for name, param, grad in clf.named_parameters():
    numeric = numerical_gradient(
        lambda _: clf.loss_and_backward(F, labels, backward=False), param)
    err = relative_error(grad, numeric)
    print(f"classifier {name}: {err:.1e}")
    assert err < 1e-7

# %%
features = {"pixels (64)": (X_train, X_test)}
ae16 = train_ae([64, 16])
features["AE code (16)"] = (ae16.encode(X_train), ae16.encode(X_test))
dae128 = train_ae([64, 128], noise=("masking", 0.3))
features["denoising AE code (128)"] = (dae128.encode(X_train), dae128.encode(X_test))


def labelled_subset(k, seed):
    """k random training images of each digit (all of them when k is None)."""
    if k is None:
        return np.arange(len(y_train))
    r = np.random.default_rng(seed)
    return np.concatenate([r.choice(np.flatnonzero(y_train == c), k, replace=False)
                           for c in range(10)])


def accuracy(F_train, F_test, idx):
    few = len(idx) < len(y_train)
    clf = ta.SoftmaxClassifier(F_train.shape[1], 10, seed=0, weight_decay=1e-3)
    epochs = (200 if few else 50) // (2 if FAST else 1)
    clf.fit(F_train[idx], y_train[idx], epochs=epochs, batch_size=32,
            optimizer=ta.Adam(1e-2))
    return clf.score(F_test, y_test)


LABELS = [10, 50, None]
table = {}
for name, (F_train, F_test) in features.items():
    for k in LABELS:
        draws = 1 if k is None else DRAWS  # all labels: only one possible subset
        accs = [accuracy(F_train, F_test, labelled_subset(k, s)) for s in range(draws)]
        table[name, k] = (float(np.mean(accs)), float(np.std(accs)))
header = "".join(f"{f'{k} per class' if k else 'all labels':>18}" for k in LABELS)
print(f"{'features':<26}{header}")
for name in features:
    cells = [f"{table[name, k][0]:>11.3f} ± {table[name, k][1]:.3f}" for k in LABELS]
    print(f"{name:<26}" + "".join(cells))

# %% [markdown]
# The table gives the mean test accuracy over the draws of labelled images (± the
# standard deviation across draws; chance is 0.10). What it says, computed from the
# numbers:

# %%
for k in LABELS:
    best = max(features, key=lambda n: table[n, k][0])
    gains = ", ".join(f"{n} {table[n, k][0] - table['pixels (64)', k][0]:+.3f}"
                      for n in features if n != "pixels (64)")
    print(f"{str(k or 'all'):>3} labels per class: best features: {best};\n"
          f"    codes against pixels: {gains}")
for name in features:
    assert table[name, 10][0] > 0.6          # far above chance with 100 labels in all
gap16 = table["pixels (64)", None][0] - table["AE code (16)", None][0]
print(f"The 16-number code gives up {gap16:.3f} of accuracy with every label, for 4x "
      "fewer numbers.")
assert 0 < gap16 < 0.1
assert table["pixels (64)", None][0] > 0.9       # pixels: already good features
dae = "denoising AE code (128)"
assert all(table[dae, k][0] > table["pixels (64)", k][0] for k in (50, None))

# %% mystnb={"figure": {"caption": "Test accuracy of the softmax classifier on each kind of features, with 10 or 50 labelled images per class (mean over the draws, with the standard deviation as an error bar) or with every label.", "name": "fig-14-classifier-accuracy"}}
fig = Figure(figsize=(7, 4.2), layout="constrained")
ax = fig.subplots()
xs = np.arange(len(LABELS))
for i, name in enumerate(features):
    means = [table[name, k][0] for k in LABELS]
    stds = [table[name, k][1] for k in LABELS]
    ax.bar(xs + (i - 1) * 0.27, means, 0.27, yerr=stds, label=name, capsize=3)
ax.set_xticks(xs, [f"{k} per class" if k else "all labels" for k in LABELS])
low = min(table[key][0] - table[key][1] for key in table)
ax.set_ylim(max(0.0, low - 0.03), 1.0)
ax.set_ylabel("test accuracy")
ax.set_title("softmax classifier on pixels and on codes")
ax.legend(loc="upper left", fontsize=9)
plots.save_figure(fig, FIGURES / "14_classifier_accuracy.png", dpi=100)

# %% [markdown]
# On these small 8×8 digits the raw pixels are already good features for a linear
# classifier (the first row of the table, with every label), so there is little room to
# gain. The compact 16-number code loses a little accuracy for a four-fold reduction,
# and the overcomplete denoising code gains a little: with 10 labels per class the gain
# is about the size of the spread between draws of labelled images, with 50 labels or
# all of them it is steadier (the differences are printed above;
# {numref}`fig-14-classifier-accuracy` draws the table). The codes were learned without
# a single label: the structure the autoencoder found in the images is structure the
# classifier can use.
#
# ## Summary
#
# - 2-D codes of an autoencoder arrange the digits in clusters, much more cleanly than
#   PCA's first two components; decoding a grid of codes shows what the decoder draws
#   everywhere.
# - Interpolating codes morphs one digit into another and stays nearer to real digits
#   than blending pixels.
# - `ta.SoftmaxClassifier` (one Dense layer, fused softmax cross-entropy with gradient
#   $(p - \mathrm{onehot})/N$) trained on codes learned without labels reaches accuracy
#   close to, or above, the same classifier on pixels, with few labels or many.
#
# ## Exercises
#
# 1. Give the classifier 1 and 3 labels per class. Do the codes help more when labels
#    are scarcer?
# 2. Use the 2-D codes as features. How far below the 16-number code is the accuracy,
#    and how does it compare with the 1-nearest-neighbour accuracy of section 1?
# 3. Standardise the features (subtract the training mean, divide by the standard
#    deviation) before the classifier. Which feature set changes most, and why?
