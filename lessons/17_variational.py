# %% [markdown]
# # Lesson 17: The variational autoencoder from scratch
#
# A plain autoencoder maps each image to one point. A **variational autoencoder** (VAE;
# Kingma & Welling, 2014) maps it to a small cloud, a Gaussian $q(z\mid x)$, and is
# trained so that all these clouds together fill a standard normal distribution. Then
# any code drawn from $N(0, I)$ decodes to a plausible image: the model *generates*.
# This lesson derives its loss, the evidence lower bound (ELBO), and every gradient by
# hand, checks them, and trains one on the digits.
#
# ## Objectives
#
# - Derive the ELBO for a Bernoulli decoder and a Gaussian encoder, with the KL term in
#   closed form.
# - Derive the gradient through the reparameterization
#   $z = \mu + \sigma\odot\varepsilon$ and through the KL term, and check them with the
#   noise $\varepsilon$ held fixed.
# - Train `ta.VariationalAutoencoder`, follow the ELBO per epoch, and look at its 2-D
#   latent space, the images it decodes everywhere in it, samples and interpolations.
#
# ## Prerequisites
#
# Lessons 4 (binary cross-entropy from logits), 6 (gradient checking), 14 (latent
# spaces). Probability: a Gaussian density, an expectation, the KL divergence
# $\mathrm{KL}(q\,\|\,p) = \mathbb{E}_q[\log q - \log p]$.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
from statistics import NormalDist  # the standard library's Gaussian, for its quantiles

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.gradcheck import check_model, numerical_gradient, relative_error
from tinyae.vae import GaussianKL, VariationalAutoencoder

X, y = ta.load_digits()
X_train, X_test, y_train, y_test = ta.train_test_split(X, y, test_size=0.2, seed=0)
EPOCHS = 40 if FAST else 200
print(f"{len(X_train)} training and {len(X_test)} test digits; {EPOCHS} epochs")

# %% [markdown]
# ## 1. The ELBO
#
# The model of the data is: draw a code $z \sim p(z) = N(0, I)$, then draw each pixel
# from a Bernoulli distribution with probability $\hat x = \mathrm{decoder}(z)$:
# $\log p(x\mid z) = \sum_d [x_d \log \hat x_d + (1 - x_d)\log(1 - \hat x_d)]$, which is
# minus the binary cross-entropy. The likelihood $p(x) = \int p(x\mid z)p(z)\,dz$ has no
# closed form. For *any* distribution $q(z\mid x)$, Jensen's inequality gives the
# **evidence lower bound**
#
# $$\begin{aligned}
# \log p(x) &\;\ge\; \mathbb{E}_{q(z\mid x)}[\log p(x\mid z)]
#   - \mathrm{KL}(q(z\mid x)\,\|\,p(z))\\
#   &\;=\; \mathrm{ELBO}(x),
# \end{aligned}$$
#
# with equality when $q$ is the true posterior. The encoder outputs the parameters of
# $q(z \mid x) = N(\mu, \mathrm{diag}\,\sigma^2)$: two Dense heads on a shared hidden
# layer, one for $\mu$ and one for $\log\sigma^2$ (a log, so that any real output is a
# valid variance). The KL between two Gaussians is in closed form; per image,
#
# $$\mathrm{KL} = \tfrac12 \sum_k \big(\mu_k^2 + \sigma_k^2 - 1 - \log\sigma_k^2\big).$$
#
# The expectation is estimated with one sample. We minimise $J = -\mathrm{ELBO}$,
# averaged over the batch like every tinyae loss:
# $J = \mathrm{BCE}(\hat x, x) + \mathrm{KL}$ per image, where $\hat x$ decodes a
# sampled $z$.
#
# ## 2. The gradients, by hand
#
# **Reparameterization.** Sampling $z \sim N(\mu, \sigma^2)$ has no derivative with
# respect to $\mu$ or $\sigma$. Writing the sample as
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim N(0, I), \qquad
#   \sigma = e^{\frac12 \log\sigma^2},$$
#
# moves the randomness into an input $\varepsilon$, and $z$ becomes a differentiable
# function: $\partial z/\partial\mu = 1$ and
# $\partial z / \partial \log\sigma^2 = \varepsilon\,\sigma/2$. With
# $g = \partial J/\partial z$ from the decoder's backward pass (the fused sigmoid + BCE
# gives $(\hat x - x)/N$ at the output, as in lesson 4):
#
# $$\frac{\partial J}{\partial \mu} = g + \frac{\mu}{N}, \qquad
#   \frac{\partial J}{\partial \log\sigma^2} = g\odot\varepsilon\odot\frac{\sigma}{2}
#   + \frac{\sigma^2 - 1}{2N}.$$
#
# The second terms are the KL's: $\partial\mathrm{KL}/\partial\mu = \mu$ and
# $\partial \mathrm{KL}/\partial\log\sigma^2 = \frac12(\sigma^2 - 1)$, each divided by
# $N$ for the batch mean. The hidden layer $h$ feeds both heads, so its gradient is the
# **sum** of the two heads' backward passes; then the encoder's backward pass continues
# as usual. This is `VariationalAutoencoder.loss_and_backward`, line for line.
#
# First the KL term on its own:

# %%
rng = np.random.default_rng(0)
mu, logvar = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
kl = GaussianKL()
kl.forward(mu, logvar)
dmu, dlogvar = kl.backward()
numeric_mu = numerical_gradient(lambda m: GaussianKL().forward(m, logvar), mu)
numeric_lv = numerical_gradient(lambda v: GaussianKL().forward(mu, v), logvar)
err_mu, err_lv = relative_error(dmu, numeric_mu), relative_error(dlogvar, numeric_lv)
print(f"KL term: relative error dmu {err_mu:.1e}, dlogvar {err_lv:.1e}")
assert max(err_mu, err_lv) < 1e-7

# %% [markdown]
# Then the whole model. Finite differences need the *same* function at $\theta + h$ and
# $\theta - h$, so the noise must not change between evaluations: we hold it fixed with
# `model.fixed_eps`. (In training, $\varepsilon$ is drawn fresh at every step from the
# model's own Generator, seeded at construction: same seed, same bits.)

# %%
small = VariationalAutoencoder.deep([10, 6, 3], hidden="tanh", seed=1)
X_small = rng.random((4, 10))
small.fixed_eps = rng.standard_normal((4, 3))
report = check_model(small, X_small, "bce")
print(report)
assert report.passed


class ForgotTheHalf(VariationalAutoencoder):
    """A typical slip: dz/dlogvar taken as ε·σ, forgetting that σ = exp(logvar / 2)."""

    def _backward_code(self, dz, dmu_extra=0.0, dlogvar_extra=0.0):
        _, _, eps, sigma = self.cache
        extra = dz * eps * sigma * 0.5     # on top of the right ½·ε·σ: ε·σ in all
        return super()._backward_code(dz, dmu_extra, dlogvar_extra + extra)


buggy = ForgotTheHalf(small.encoder, small.mu, small.logvar, small.decoder)
buggy.fixed_eps = small.fixed_eps
bad = check_model(buggy, X_small, "bce")
print(f"with the slip: mu head {bad['mu.W'].max_rel_error:.1e}, logvar head "
      f"{bad['logvar.W'].max_rel_error:.1e} -> {'PASSED' if bad.passed else 'FAILED'}")
assert not bad.passed and bad["mu.W"].passed

# %% [markdown]
# The check points at the right place: the μ head is fine, the log-variance head is not.
#
# ## 3. Training, and the ELBO per epoch
#
# A `[64, 128, 2]` VAE: 64 → 128 (ReLU) → μ, log σ² (2 each) → 2 → 128 → 64 (sigmoid).
# `fit` uses the same loop as every tinyae model; `history.train_loss` is −ELBO per
# image and `history.terms` holds its two parts.

# %%
vae = VariationalAutoencoder.deep([64, 128, 2], seed=0)
elbo_start = vae.elbo(X_test)
history = vae.fit(X_train, loss="bce", optimizer=ta.Adam(3e-3), epochs=EPOCHS,
                  batch_size=32, validation_data=X_test, seed=0, verbose=0)
elbo = [-v for v in history.train_loss]
print(f"ELBO per image (train): epoch 1 {elbo[0]:.2f}, "
      f"epoch {len(elbo)} {elbo[-1]:.2f};\n"
      f"test: before training {elbo_start:.2f}, after {vae.elbo(X_test):.2f}")
print(f"last epoch: reconstruction (BCE) {history.terms['reconstruction'][-1]:.2f}, "
      f"KL {history.terms['kl'][-1]:.2f} nats per image")
assert elbo[-1] > elbo[0] + 3 and vae.elbo(X_test) > elbo_start + 10
assert np.isclose(history.terms["reconstruction"][-1] + history.terms["kl"][-1],
                  history.train_loss[-1])
kl_curve, recon_curve = np.array(history.terms["kl"]), history.terms["reconstruction"]
lowest = int(np.argmin(kl_curve))
print(f"The KL term is lowest at epoch {lowest + 1} ({kl_curve[lowest]:.2f} nats) "
      f"and ends at {kl_curve[-1]:.2f};\nthe reconstruction term falls from "
      f"{recon_curve[0]:.2f} to {recon_curve[-1]:.2f}.")
assert kl_curve[-1] > kl_curve[lowest]          # the KL term climbs back up
assert kl_curve[-1] < 0.5 * recon_curve[-1]     # and stays the smaller part

# %% [markdown]
# {numref}`fig-17-elbo` draws the curves, each part of −ELBO on its own scale.

# %% mystnb={"figure": {"caption": "Training a VAE on the digits. Left: the ELBO per image on the training and the test digits. Middle and right: the two parts of −ELBO on the training digits, the reconstruction term (binary cross-entropy) and the KL term, each on its own axis.", "name": "fig-17-elbo"}}
fig = Figure(figsize=(8.6, 3.4), layout="constrained")
ax1, ax2, ax3 = fig.subplots(1, 3)
epochs = np.arange(1, len(elbo) + 1)
ax1.plot(epochs, elbo, label="train")
ax1.plot(epochs, [-v for v in history.val_loss], label="test")
ax1.set_ylabel("ELBO per image (nats)")
ax1.set_title("ELBO")
ax1.legend()
ax2.plot(epochs, history.terms["reconstruction"], color="tab:green")
ax2.set_ylabel("nats per image")
ax2.set_title("reconstruction (BCE)")
ax3.plot(epochs, history.terms["kl"], color="tab:purple")
ax3.set_ylabel("nats per image")
ax3.set_title("KL(q(z|x) ‖ N(0, I))")
for ax in (ax1, ax2, ax3):
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
fig.suptitle("training a VAE on the digits: −ELBO = reconstruction + KL")
plots.save_figure(fig, FIGURES / "17_elbo.png", dpi=100)

# %% [markdown]
# The reconstruction term falls quickly; the KL term stays the smaller part, and after
# its lowest point (printed above) it slowly *rises* as
# the encoder learns to put more information in the code, which costs nats against the
# prior. The ELBO is the balance of the two. (Binary cross-entropy on gray pixels cannot
# reach 0, so the ELBO stays well below zero.)
#
# ## 4. The latent space
#
# `vae.encode(X)` returns the means μ. The KL term pulls every $q(z \mid x)$ towards
# $N(0, I)$, so the codes of all images together should look like a standard normal:
# centred, with total variance (spread of the means plus the average σ²) near 1 per
# dimension.

# %%
mu_test, logvar_test = vae.posterior(X_test)
spread = mu_test.var(axis=0) + np.exp(logvar_test).mean(axis=0)
print(f"mean of the codes {np.round(mu_test.mean(0), 3)}, total variance per dimension "
      f"{np.round(spread, 3)}")
assert np.all(np.abs(mu_test.mean(0)) < 0.5) and np.all((0.4 < spread) & (spread < 1.6))

# %% [markdown]
# {numref}`fig-17-latent` draws the means.

# %% mystnb={"figure": {"caption": "The means μ of q(z|x) for the test digits, coloured by label; the dotted circles are 1 and 2 standard deviations of the prior N(0, I).", "name": "fig-17-latent"}}
fig = Figure(figsize=(6.5, 5), layout="constrained")
ax = fig.subplots()
tab10 = colormaps["tab10"]
for c in range(10):
    ax.scatter(*mu_test[y_test == c].T, s=10, color=tab10(c), label=str(c))
theta = np.linspace(0, 2 * np.pi, 200)
for r in (1, 2):
    ax.plot(r * np.cos(theta), r * np.sin(theta), "k:", lw=0.8)
ax.set_aspect("equal")
ax.set_xlabel("z1")
ax.set_ylabel("z2")
ax.legend(title="digit", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
ax.set_title("VAE means of the test digits\n(circles: 1 and 2 standard deviations)")
plots.save_figure(fig, FIGURES / "17_latent.png", dpi=100)

# %% [markdown]
# Decoding a grid of codes placed at the quantiles of $N(0, 1)$ in each direction shows
# the whole manifold the model learned ({numref}`fig-17-latent-grid`); `vae.sample`
# draws codes from the prior ({numref}`fig-17-samples`); `vae.interpolate` walks between
# the means of two digits ({numref}`fig-17-interpolation`).

# %% mystnb={"figure": {"caption": "Codes on a grid of quantiles of N(0, 1) in each of the two latent directions (from 3 % to 97 %), decoded.", "name": "fig-17-latent-grid"}}
steps = 8 if FAST else 15
quantiles = np.linspace(0.03, 0.97, steps)
edges = np.array([NormalDist().inv_cdf(q) for q in quantiles])
g1, g2 = np.meshgrid(edges, edges[::-1])
fig = plots.plot_image_grid(vae.decode(np.column_stack([g1.ravel(), g2.ravel()])),
                            ncols=steps, path=FIGURES / "17_latent_grid.png",
                            title="decoded codes on a grid of N(0, 1) quantiles")

# %% mystnb={"figure": {"caption": "Forty samples: codes drawn from the prior N(0, I), decoded.", "name": "fig-17-samples"}}
samples = vae.sample(40, seed=7)
fig = plots.plot_image_grid(samples, ncols=10, path=FIGURES / "17_samples.png",
                            title="40 samples: z ~ N(0, I), decoded")

# %% mystnb={"figure": {"caption": "From a test 1 to a test 0: the means of their codes blended in equal steps, decoded.", "name": "fig-17-interpolation"}}
a, b = int(np.flatnonzero(y_test == 1)[0]), int(np.flatnonzero(y_test == 0)[0])
fig = plots.plot_interpolation(vae, X_test[a], X_test[b], steps=8, image_shape=(8, 8),
                               path=FIGURES / "17_interpolation.png",
                               title="from a 1 to a 0 through the VAE's latent space")
assert samples.shape == (40, 64) and 0 <= samples.min() and samples.max() <= 1
assert np.array_equal(samples, vae.sample(40, seed=7))  # same seed, same images

# %% [markdown]
# With two latent dimensions the samples are blurry and some are between two digits: two
# numbers cannot hold much. Exercise 1 adds dimensions.
#
# ## 5. Same seed, same bits
#
# The noise ε comes from the model's own Generator, seeded when the model is built, and
# the shuffling from `fit(seed=...)`. Two runs with the same seeds agree to the last
# bit.

# %%
runs = []
for _ in range(2):
    m = VariationalAutoencoder.deep([64, 16, 2], seed=3)
    history_run = m.fit(X_train[:300], epochs=3, batch_size=50, seed=1, verbose=0)
    runs.append(history_run.train_loss)
for i, losses in enumerate(runs, 1):
    print(f"run {i}, −ELBO per epoch: " + ", ".join(f"{v:.15f}" for v in losses))
assert runs[0] == runs[1]

# %% [markdown]
# ## Summary
#
# - A VAE's encoder gives $\mu$ and $\log\sigma^2$; training samples
#   $z = \mu + \sigma\odot\varepsilon$ with the model's seeded Generator and minimises
#   −ELBO = BCE + KL per image, with
#   $\mathrm{KL} = \frac12\sum(\mu^2 + \sigma^2 - 1 - \log\sigma^2)$.
# - Its gradients: $\partial J/\partial\mu = g + \mu/N$,
#   $\partial J/\partial\log\sigma^2 = g\,\varepsilon\,\sigma/2 + (\sigma^2 - 1)/(2N)$,
#   the two heads' contributions summed on the shared hidden layer; checked with
#   `fixed_eps`.
# - Trained, its codes fill $N(0, I)$, so every code decodes to a digit-like image:
#   `sample(n, seed)` generates, `interpolate` morphs. From the command line:
#   `tinyae train --variational --code 2`, then
#   `tinyae sample runs/digits-1/model.npz 40 samples.png`.
#
# ## Exercises
#
# 1. Train with 8 latent dimensions instead of 2. How do the ELBO, the KL term and the
#    samples change?
# 2. Build the model with `beta=4` (a β-VAE: $J$ = BCE + 4·KL). What happens to the
#    reconstructions and to the latent plot? And with `beta=0.1`?
# 3. Estimate $\log p(x)$ more tightly than the ELBO with importance sampling:
#    $\log \frac1S\sum_s p(x\mid z_s)p(z_s)/q(z_s\mid x)$ with $z_s \sim q(z\mid x)$.
#    How large is the gap to the ELBO for $S = 100$?
