# %% [markdown]
# # Lesson 16: Generating new data, and data augmentation
#
# A decoder turns codes into images, so any code we can make up becomes an image nobody
# drew. This lesson makes new digits three ways (sampling a variational autoencoder's
# prior, perturbing the codes of real digits, and interpolating between two digits of
# the same class), checks how recognisable they are, and then asks the practical
# question: does adding them to a small labelled training set make a classifier better?
#
# ## Objectives
#
# - Draw new images with `VariationalAutoencoder.sample(n, seed)` and from codes near
#   real ones with `tinyae.augment.perturb_codes` and `tinyae.augment.mix_codes`.
# - Measure how recognisable generated images are with a reference classifier.
# - Run a controlled experiment: a classifier trained on 10 labelled digits per class,
#   with and without generated images, over several random draws; report the effect with
#   its spread, whichever way it goes.
#
# ## Prerequisites
#
# Lesson 14 (codes, interpolation, `ta.SoftmaxClassifier`). Lesson 17 explains the
# variational autoencoder in full; here we only need that its codes of real images are
# spread like a standard normal distribution, so a code drawn from $N(0, I)$ decodes to
# a plausible image.

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
from tinyae.augment import mix_codes, perturb_codes

X, y = ta.load_digits()
X_train, X_test, y_train, y_test = ta.train_test_split(X, y, test_size=0.2, seed=0)
EPOCHS = 40 if FAST else 150
DRAWS = 2 if FAST else 8
PER_CLASS = 10
print(f"{len(X_train)} training and {len(X_test)} test digits; {EPOCHS} epochs; "
      f"{DRAWS} draws of {PER_CLASS} labelled digits per class")

# %% [markdown]
# ## 1. Two generators
#
# Both are trained on all training images without labels: an autoencoder
# `deep([64, 128, 8])` and a variational autoencoder of the same shape.

# %%
fit_args = dict(loss="bce", optimizer=ta.Adam(3e-3), epochs=EPOCHS, batch_size=32,
                seed=0, verbose=0)
ae = ta.Autoencoder.deep([64, 128, 8], seed=0)
ae.fit(X_train, **fit_args)
vae = ta.VariationalAutoencoder.deep([64, 128, 8], seed=0)
history = vae.fit(X_train, **fit_args)
print(f"VAE: ELBO per image {-history.train_loss[0]:.2f} in the first epoch, "
      f"{-history.train_loss[-1]:.2f} in the last")

# %% [markdown]
# How do we judge a generated image without a human reader? Two measurements:
#
# - its squared distance to the **nearest training digit** (summed over pixels): an
#   image that looks like a digit is near some real digit, noise is far from all of
#   them;
# - a **reference classifier**, trained on every labelled training digit: how often it
#   reads the image with confidence above 0.9, and, for images that come with a label,
#   whether it agrees with that label.

# %%
reference = ta.SoftmaxClassifier(64, 10, seed=0, weight_decay=1e-3)
reference.fit(X_train, y_train, epochs=50, optimizer=ta.Adam(1e-2))
print(f"reference classifier: test accuracy {reference.score(X_test, y_test):.3f}")


def nearest_training_distance(images):
    squared = ((images[:, None, :] - X_train[None, :, :]) ** 2).sum(-1)
    return float(squared.min(axis=1).mean())


def confident(images):
    return float(np.mean(reference.predict_proba(images).max(axis=1) > 0.9))


# %% [markdown]
# ## 2. New digits from the prior
#
# `vae.sample(n, seed)` draws $z \sim N(0, I)$ and decodes it. The plain autoencoder's
# codes are not spread like $N(0, I)$, so we give it the fairest Gaussian we can, one
# with the mean and covariance of its training codes. {numref}`fig-16-vae-samples` and
# {numref}`fig-16-ae-samples` show forty of each.

# %% mystnb={"figure": {"caption": "Forty new digits from the variational autoencoder: codes drawn from its prior N(0, I), decoded.", "name": "fig-16-vae-samples"}}
N_SAMPLES = 200
vae_samples = vae.sample(N_SAMPLES, seed=1)
fig = plots.plot_image_grid(
    vae_samples[:40], ncols=10, path=FIGURES / "16_vae_samples.png",
    title="40 new digits: VAE codes drawn from N(0, I)")

# %% mystnb={"figure": {"caption": "Forty images from the plain autoencoder: codes drawn from a Gaussian with the mean and covariance of its training codes, decoded.", "name": "fig-16-ae-samples"}}
Z = ae.encode(X_train)
rng = np.random.default_rng(1)
codes = rng.multivariate_normal(Z.mean(0), np.cov(Z, rowvar=False), N_SAMPLES)
ae_samples = ae.decode(codes)
fig = plots.plot_image_grid(ae_samples[:40], ncols=10,
                            path=FIGURES / "16_ae_gaussian_samples.png",
                            title="plain AE: codes from a Gaussian fitted to its codes")

# %%
noise = rng.random((N_SAMPLES, 64))

judged = {"real test digits": X_test, "VAE samples": vae_samples,
          "AE + fitted Gaussian": ae_samples, "uniform noise": noise}
distance = {name: nearest_training_distance(images) for name, images in judged.items()}
print(f"{'images':>22}  {'distance to nearest training digit':>34}  "
      f"{'read with >0.9':>14}")
sure = {name: confident(images) for name, images in judged.items()}
for name in judged:
    print(f"{name:>22}  {distance[name]:34.3f}  {sure[name]:14.2f}")
classes = np.bincount(reference.predict(vae_samples), minlength=10)
print(f"classes the reference sees in the VAE samples: {classes.tolist()}")
assert distance["VAE samples"] < distance["AE + fitted Gaussian"]
assert distance["VAE samples"] < 1.5 * distance["real test digits"]
assert vae_samples.shape == (N_SAMPLES, 64)
assert 0 <= vae_samples.min() <= vae_samples.max() <= 1
assert np.count_nonzero(classes) >= 8   # the samples cover (nearly) every digit
# real digits are read with confidence more often than any generated set
assert all(sure["real test digits"] > sure[name]
           for name in ("VAE samples", "AE + fitted Gaussian"))

# %% [markdown]
# VAE samples lie about as close to real training digits as the real test digits do, and
# they cover the digits: the prior is full of digits. The plain autoencoder's codes,
# even with a Gaussian fitted to them, land in holes of its code space and decode to
# blurrier, less digit-like images. The reference classifier reads real digits with high
# confidence more often than any generated set: generated digits are blurrier than real
# ones. And VAE samples come without labels; for augmentation we need images whose label
# we know.
#
# ## 3. New digits near labelled ones
#
# - `perturb_codes(model, X, y, copies, scale)`: the code of each real digit plus noise,
#   decoded; it keeps the digit's label. For the VAE the noise follows the image's own
#   posterior, $z = \mu + \text{scale}\cdot\sigma\odot\varepsilon$ (scale 1: a draw from
#   $q(z\mid x)$); for the plain autoencoder it is scale × the spread of each code unit.
# - `mix_codes(model, X, y, n)`: a point between the codes of two digits *of the same
#   class*, decoded, with that class as label.

# %%
few = np.concatenate([np.flatnonzero(y_train == c)[:PER_CLASS] for c in range(10)])
X_few, y_few = X_train[few], y_train[few]


def pixel_noise(Xf, yf, seed):
    """Five copies of each image with Gaussian pixel noise 0.1, and their labels."""
    copies = [ta.add_noise(Xf, "gaussian", 0.1, seed=seed + i) for i in range(5)]
    return np.concatenate(copies), np.tile(yf, 5)


generators = {
    "AE perturb": lambda Xf, yf, s: perturb_codes(ae, Xf, yf, copies=5, scale=0.5,
                                                  seed=s),
    "AE mix": lambda Xf, yf, s: mix_codes(ae, Xf, yf, n=5 * len(Xf), seed=s),
    "VAE posterior": lambda Xf, yf, s: perturb_codes(vae, Xf, yf, copies=5, scale=1.0,
                                                     seed=s),
    "VAE mix": lambda Xf, yf, s: mix_codes(vae, Xf, yf, n=5 * len(Xf), seed=s),
    "pixel noise": pixel_noise,
}

# %% mystnb={"figure": {"caption": "One real training digit per class (top row) and images generated near it: its autoencoder code perturbed, a mix of two codes of the same class, and a draw from the VAE's posterior of the digit.", "name": "fig-16-augmented"}}
shown = X_few[::PER_CLASS]
mixes = [mix_codes(ae, X_few[y_few == c], y_few[y_few == c], n=1, seed=c)[0]
         for c in range(10)]
rows = [perturb_codes(ae, shown, copies=1, scale=0.5, seed=0), np.concatenate(mixes),
        perturb_codes(vae, shown, copies=1, scale=1.0, seed=0)]
fig = plots.plot_reconstructions(
    shown, rows, n=10, image_shape=(8, 8),
    row_labels=["real", "AE perturb", "AE mix", "VAE posterior"],
    path=FIGURES / "16_augmented.png",
    title="one real digit per class, and images made near it")

# %%
fidelity = {}
for name, make in generators.items():
    X_new, y_new = make(X_few, y_few, 0)
    fidelity[name] = float(np.mean(reference.predict(X_new) == y_new))
    print(f"{name:>14}: {len(X_new)} images, the reference agrees with their label for "
          f"{fidelity[name]:.0%}")
assert 0.5 < min(fidelity.values()) < 1  # most keep their label, not all

# %% [markdown]
# Most generated images carry the right label in the reference classifier's eyes, but
# not all: a perturbed 3 can look like a 5, and those wrong labels are noise in a
# training set.
#
# ## 4. Does augmentation help? A measured answer
#
# The experiment: draw 10 labelled digits per class at random, train a softmax
# classifier on their pixels, and measure test accuracy. Then train the same classifier
# on those 100 digits *plus* 500 generated ones. The same draw is used with and without
# augmentation (a paired comparison), and we repeat over several draws, because the draw
# of labelled digits moves the accuracy more than most tricks do.

# %%
def test_accuracy(X_fit, y_fit):
    clf = ta.SoftmaxClassifier(64, 10, seed=0, weight_decay=1e-3)
    clf.fit(X_fit, y_fit, epochs=100 if FAST else 200, batch_size=32,
            optimizer=ta.Adam(1e-2))
    return clf.score(X_test, y_test)


results = {"no augmentation": []} | {name: [] for name in generators}
for draw in range(DRAWS):
    r = np.random.default_rng(100 + draw)
    idx = np.concatenate([r.choice(np.flatnonzero(y_train == c), PER_CLASS,
                                   replace=False) for c in range(10)])
    X_f, y_f = X_train[idx], y_train[idx]
    results["no augmentation"].append(test_accuracy(X_f, y_f))
    for name, make in generators.items():
        X_new, y_new = make(X_f, y_f, draw)
        results[name].append(test_accuracy(np.concatenate([X_f, X_new]),
                                           np.concatenate([y_f, y_new])))

base = np.array(results["no augmentation"])
print(f"{'training set':>16}  {'accuracy':>8}  {'change vs none':>16}  verdict")
effects = {}
for name, accs in results.items():
    accs = np.array(accs)
    diff = accs - base
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else np.inf
    verdict = ("" if name == "no augmentation" else
               "helped" if diff.mean() > 2 * se else
               "hurt" if diff.mean() < -2 * se else "no clear effect")
    effects[name] = (float(diff.mean()), float(se), verdict)
    print(f"{name:>16}  {accs.mean():8.3f}  {diff.mean():+8.3f} ± {se:.3f}  {verdict}")

# %% mystnb={"figure": {"caption": "Change in test accuracy when 500 generated digits are added to 100 labelled ones, for each generator: the mean over the draws of labelled digits, with ± 2 standard errors of the paired differences.", "name": "fig-16-augmentation-effect"}}
fig = Figure(figsize=(7, 3.8), layout="constrained")
ax = fig.subplots()
names = list(generators)
means = [effects[n][0] for n in names]
errs = [2 * effects[n][1] for n in names]
colors = ["tab:green" if m > 0 else "tab:red" for m in means]
ax.barh(names, means, xerr=errs, color=colors, capsize=4)
ax.axvline(0, color="k", lw=0.8)
ax.set_xlabel("change in test accuracy (± 2 standard errors over draws)")
ax.set_ylabel("generator")
ax.set_title(f"adding 500 generated digits to {10 * PER_CLASS} labelled ones")
plots.save_figure(fig, FIGURES / "16_augmentation_effect.png", dpi=100)

# %%

helped = [n for n, e in effects.items() if e[2] == "helped"]
hurt = [n for n, e in effects.items() if e[2] == "hurt"]
print("Augmentations that helped by more than two standard errors: "
      f"{', '.join(helped) or 'none'};\n"
      f"that hurt by more than two: {', '.join(hurt) or 'none'}.")
# every change within 2 points (a short test run, with 2 draws: within 10)
assert all(abs(m) < (0.1 if FAST else 0.02) for m, _, _ in effects.values())
if not FAST:
    assert not helped

# %% [markdown]
# On the 8×8 digits with 10 labels per class every change is within two points, none
# is a clear gain, and some are small losses (the verdicts above,
# {numref}`fig-16-augmentation-effect`). Generated images are
# only as varied as the decoder can draw, they are blurrier than real digits, and some
# carry a wrong label; a linear classifier on pixels gains little from them. Pixel
# noise, the simplest augmentation of all, is an honest baseline that the learned
# generators have to beat. Generative augmentation pays off more with richer generators,
# harder images and a classifier that can overfit.
#
# ## Summary
#
# - A VAE's prior is full of digits: `vae.sample(n, seed)` gives new, recognisable
#   images of every class, where a plain autoencoder's code space has holes.
# - `perturb_codes` and `mix_codes` make new images near labelled ones, keeping the
#   label; most, not all, keep it correctly.
# - Whether they help a classifier is an empirical question: measure it with paired
#   comparisons over several draws, and report the spread. Here the effect is small.
#
# ## Exercises
#
# 1. Change `scale` in `perturb_codes` from 0.5 to 0.1 and to 2. How do the label
#    fidelity and the accuracy change?
# 2. Repeat the experiment with 3 labelled digits per class. Is augmentation more useful
#    when labels are scarcer?
# 3. Use the VAE samples from section 2, labelled by the reference classifier, as extra
#    training data ("pseudo-labels"). Is that fair, given that the reference was trained
#    with all the labels?
