# %% [markdown]
# # Lesson 4: Losses for pixels
#
# Training needs one number that says how bad a reconstruction is: the **loss**. Lesson
# 1 used the squared error. For pixels in $[0, 1]$ coming out of a sigmoid there is a
# second classic choice, the **binary cross-entropy**. This lesson compares the two,
# derives the gradient each one sends back into the network, and shows how to compute
# the cross-entropy without ever taking the logarithm of 0.
#
# ## Objectives
#
# - Write the mean squared error (MSE) and the binary cross-entropy (BCE) with tinyae's
#   convention: **summed over the pixels of an image, averaged over the images of a
#   batch**, and their gradients.
# - Compare them per pixel, and see why BCE's gradient keeps pushing a saturated sigmoid
#   output while MSE's fades away.
# - Derive the **cross-entropy from logits**, $\ell = \mathrm{softplus}(z) - xz$, and
#   its gradient $(\hat x - x)/N$; check numerically that it equals the chain rule
#   through the separate sigmoid and cross-entropy, and that it stays exact where they
#   break down.
#
# ## Prerequisites
#
# Lesson 3 (the sigmoid, its derivative $\sigma(1 - \sigma)$, saturation, and that
# $\sigma(z)$ rounds to exactly 1.0 for $z \gtrsim 37$). The chain rule. The natural
# logarithm: $\log(ab) = \log a + \log b$, $\frac{d}{dp}\log p = 1/p$.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import warnings

import numpy as np
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.activations import sigmoid
from tinyae.losses import softplus
from tinyae.model import fuse_output

X, _ = ta.load_digits()

# %% [markdown]
# ## 1. Two losses
#
# Write $x$ for a target pixel (the original, in $[0, 1]$) and $\hat x$ for its
# reconstruction. For one image the **squared error** is
#
# $$\ell_\text{MSE}(\hat x, x) = \sum_{j=1}^{D} (\hat x_j - x_j)^2 .$$
#
# The **binary cross-entropy** reads each pixel as a probability: $x_j$ is the chance
# that pixel $j$ is inked, and $\hat x_j$ is the model's guess of that chance. It
# measures how surprised the guess is by the truth:
#
# $$\ell_\text{BCE}(\hat x, x) = -\sum_{j=1}^{D} \bigl[x_j \log \hat x_j
# + (1 - x_j) \log(1 - \hat x_j)\bigr].$$
#
# For a batch of $N$ images, tinyae **sums over the pixels and averages over the
# images**: $L = \frac1N \sum_n \ell(\hat x_n, x_n)$. So a loss is an "error per image",
# the same whatever the batch size, and its gradient with respect to each prediction
# carries one factor $1/N$:
#
# $$\frac{\partial L_\text{MSE}}{\partial \hat x_{nj}}
# = \frac{2(\hat x_{nj} - x_{nj})}{N},
# \qquad
# \frac{\partial L_\text{BCE}}{\partial \hat x_{nj}} = \frac{1}{N}\left(
# -\frac{x_{nj}}{\hat x_{nj}} + \frac{1 - x_{nj}}{1 - \hat x_{nj}}\right)
# = \frac{\hat x_{nj} - x_{nj}}{N\, \hat x_{nj}(1 - \hat x_{nj})}.$$
#
# `ta.MSE()` and `ta.BinaryCrossEntropy()` compute these: `forward(x_hat, x)` returns
# $L$, `backward()` the gradient with respect to `x_hat`.
#
# The loss $\ell$ of one image is a sum of one term per pixel, and a pixel's prediction
# enters only its own term. So when we follow a single pixel below, $\ell$ stands for
# that pixel's term, and its derivatives are those of the image loss $\ell$ with respect
# to that pixel.

# %%
rng = np.random.default_rng(0)
x = X[:8]                                             # 8 digits: the targets
x_hat = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0.01, 0.99)   # imperfect copies
N = len(x)

mse, bce = ta.MSE(), ta.BinaryCrossEntropy()
L_mse, L_bce = mse.forward(x_hat, x), bce.forward(x_hat, x)
by_hand_mse = np.sum((x_hat - x) ** 2) / N
by_hand_bce = -np.sum(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat)) / N
print(f"MSE: tinyae {L_mse:.6f}, by hand {by_hand_mse:.6f}")
print(f"BCE: tinyae {L_bce:.6f}, by hand {by_hand_bce:.6f}")
assert np.isclose(L_mse, by_hand_mse, rtol=1e-12)
assert np.isclose(L_bce, by_hand_bce, rtol=1e-12)
assert np.allclose(mse.backward(), 2 * (x_hat - x) / N, rtol=1e-12)
assert np.allclose(bce.backward(), (x_hat - x) / (x_hat * (1 - x_hat)) / N, rtol=1e-12)

# The same images twice over: the same loss per image (an average over the images).
twice = mse.forward(np.concatenate([x_hat, x_hat]), np.concatenate([x, x]))
print(f"MSE of the batch: {L_mse:.6f}; of the batch repeated twice: {twice:.6f}")
assert np.isclose(twice, L_mse, rtol=1e-12)

# %% [markdown]
# ## 2. The two losses, pixel by pixel
#
# Take one pixel whose target is $x = 0.2$ (a light grey) or $x = 0.8$ (a dark one), and
# let the prediction $\hat x$ run over $(0, 1)$. Both losses are smallest at $\hat x =
# x$. But the cross-entropy's minimum is not 0: it is the **entropy** of the target,
# $H(x) = -[x \log x + (1 - x)\log(1 - x)]$, the surprise that remains even for a
# perfect guess of a grey pixel. And the cross-entropy grows without bound as $\hat x$
# approaches the wrong end, while the squared error never exceeds 1
# ({numref}`fig-04-loss-per-pixel`).

# %% mystnb={"figure": {"caption": "The loss of one pixel against its prediction, for a target of 0.2 (left) and 0.8 (right): the squared error, the binary cross-entropy, and the entropy of the target, the cross-entropy's minimum.", "name": "fig-04-loss-per-pixel"}}
p = np.linspace(0.001, 0.999, 999)
fig = Figure(figsize=(8.8, 4), layout="constrained")
axes = fig.subplots(1, 2, sharey=True)
for ax, target in zip(axes, (0.2, 0.8)):
    t = np.full_like(p, target)
    per_pixel_mse = (p - t) ** 2
    per_pixel_bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    entropy = -(target * np.log(target) + (1 - target) * np.log(1 - target))
    ax.plot(p, per_pixel_mse, label=r"squared error $(\hat x - x)^2$")
    ax.plot(p, per_pixel_bce, label="binary cross-entropy")
    ax.axhline(entropy, color="C1", ls=":", lw=1,
               label=f"entropy $H({target})$ = {entropy:.3f}")
    ax.axvline(target, color="gray", ls="--", lw=1, label=f"target $x$ = {target}")
    ax.set_xlabel(r"prediction $\hat x$")
    ax.set_title(f"one pixel, target {target}")
    ax.set_ylim(0, 3)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper center")
    print(f"target {target}: MSE smallest at {p[per_pixel_mse.argmin()]:.3f}, "
          f"BCE smallest at {p[per_pixel_bce.argmin()]:.3f}, "
          f"value {per_pixel_bce.min():.4f} (entropy {entropy:.4f})")
    assert abs(p[per_pixel_mse.argmin()] - target) < 1e-3
    assert abs(p[per_pixel_bce.argmin()] - target) < 1e-3
    assert np.isclose(per_pixel_bce.min(), entropy, rtol=1e-5)
for ax in axes:
    ax.set_ylabel("loss for this pixel")
plots.save_figure(fig, FIGURES / "04_loss_per_pixel.png")

# %% [markdown]
# ## 3. What each loss sends back through the sigmoid
#
# In the autoencoder the prediction is the output of a sigmoid: the decoder's last dense
# layer computes a number $z$ (a **logit**) and $\hat x = \sigma(z)$. What reaches the
# weights is the gradient with respect to $z$, by the chain rule
# $\frac{\partial\ell}{\partial z} = \frac{\partial\ell}{\partial\hat x}\,\sigma'(z)$
# with $\sigma'(z) = \hat x(1 - \hat x)$. For one pixel:
#
# $$\text{MSE:}\quad \frac{\partial\ell}{\partial z}
# = 2(\hat x - x)\,\hat x(1 - \hat x),
# \qquad
# \text{BCE:}\quad \frac{\partial\ell}{\partial z}
# = \frac{\hat x - x}{\hat x(1 - \hat x)}\,\hat x(1 - \hat x) = \hat x - x .$$
#
# In the cross-entropy the sigmoid's derivative cancels exactly: the gradient is just
# the error. With the squared error it stays, and when the sigmoid saturates on the
# *wrong* side (say $x = 1$ but $z = -10$, so $\hat x \approx 0$) the factor $\hat x(1 -
# \hat x)$ makes the gradient tiny: the pixel is as wrong as it can be, and hardly gets
# corrected.

# %%
def grad_wrt_logit(z, target, loss):
    """dℓ/dz for one pixel x̂ = σ(z) with target x."""
    x_hat = sigmoid(z)
    if loss == "mse":
        return 2 * (x_hat - target) * x_hat * (1 - x_hat)
    return x_hat - target


z = np.linspace(-10, 10, 401)
for target in (1.0, 0.8):
    g_mse = grad_wrt_logit(-10.0, target, "mse")
    g_bce = grad_wrt_logit(-10.0, target, "bce")
    print(f"target {target}, z = -10 (x̂ = {sigmoid(-10.0):.1e}): "
          f"dℓ/dz MSE {g_mse:.1e}, BCE {g_bce:.3f}")
assert abs(grad_wrt_logit(-10.0, 1.0, "mse")) < 1e-3        # MSE: almost no push
assert abs(grad_wrt_logit(-10.0, 1.0, "bce")) > 0.99        # BCE: full push

# %% [markdown]
# The same pixel trained alone makes the difference visible: start at $z = -6$ (output
# $\approx 0.002$) with target $x = 1$, and take plain gradient descent steps
# $z \leftarrow z - \eta\, \partial\ell/\partial z$ with step size $\eta = 1$.
# {numref}`fig-04-gradient-wrt-logit` shows the two gradients and the two paths.

# %%
steps = 60
trajectories = {}
for loss in ("mse", "bce"):
    z_t, outputs = -6.0, []
    for _ in range(steps):
        z_t -= 1.0 * grad_wrt_logit(z_t, 1.0, loss)
        outputs.append(sigmoid(z_t))
    trajectories[loss] = np.array(outputs)
for k in (10, steps):
    print(f"after {k} steps: MSE output {trajectories['mse'][k - 1]:.3f}, "
          f"BCE output {trajectories['bce'][k - 1]:.3f}")
# BCE has gone most of the way in 10 steps; MSE has hardly left its start of 0.002.
assert trajectories["bce"][9] > 0.5 and trajectories["mse"][9] < 0.01

# %% mystnb={"figure": {"caption": "Left: the gradient of one pixel's loss with respect to its logit z, for MSE and BCE and two targets. Right: a pixel that starts saturated on the wrong side (z = -6, target 1) trained by gradient descent with each loss.", "name": "fig-04-gradient-wrt-logit"}}
fig = Figure(figsize=(8.8, 4.2), layout="constrained")
ax_g, ax_t = fig.subplots(1, 2)
for target, ls in ((1.0, "-"), (0.8, "--")):
    for loss, colour in (("mse", "C0"), ("bce", "C1")):
        ax_g.plot(z, grad_wrt_logit(z, target, loss), colour, ls=ls,
                  label=f"{loss.upper()}, target {target}")
ax_g.axhline(0, color="gray", lw=0.8)
ax_g.set_xlabel(r"logit $z$ (prediction $\hat x = \sigma(z)$)")
ax_g.set_ylabel(r"gradient $\partial\ell / \partial z$")
ax_g.set_title("gradient with respect to the logit")
ax_g.legend(fontsize=9)
for loss, colour in (("mse", "C0"), ("bce", "C1")):
    ax_t.plot(np.arange(1, steps + 1), trajectories[loss], colour, marker="o", ms=3,
              label=loss.upper())
ax_t.axhline(1.0, color="gray", ls="--", lw=1, label="target 1")
ax_t.set_xlabel("gradient descent step")
ax_t.set_ylabel(r"prediction $\hat x$")
ax_t.set_title(r"a saturated pixel ($z_0 = -6$) learning")
ax_t.legend(fontsize=9)
for ax in (ax_g, ax_t):
    ax.grid(alpha=0.3)
plots.save_figure(fig, FIGURES / "04_gradient_wrt_logit.png")

# %% [markdown]
# ## 4. Cross-entropy from logits
#
# Computing $\sigma(z)$ first and then $\log \hat x$ and $\log(1 - \hat x)$ is fragile.
# Lesson 3 showed that $\sigma(z)$ rounds to exactly 1.0 for $z \gtrsim 37$; then
# $\log(1 - \hat x) = \log 0 = -\infty$. The cure is to never form $\hat x$: write the
# loss directly in terms of $z$. With $\mathrm{softplus}(t) = \log(1 + e^{t})$,
#
# $$\log \sigma(z) = -\log(1 + e^{-z}) = -\mathrm{softplus}(-z), \qquad
# \log\bigl(1 - \sigma(z)\bigr) = \log\frac{e^{-z}}{1 + e^{-z}}
# = -z - \mathrm{softplus}(-z) = -\mathrm{softplus}(z),$$
#
# using $\mathrm{softplus}(t) - \mathrm{softplus}(-t) = \log\frac{1 + e^{t}}{1 + e^{-t}}
# = t$. Substituting, the cross-entropy of one pixel is
#
# $$\ell(z, x) = x\,\mathrm{softplus}(-z) + (1 - x)\,\mathrm{softplus}(z)
# = \mathrm{softplus}(z) - x z .$$
#
# Softplus itself is computed the stable way, like the sigmoid of lesson 3:
# $\mathrm{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})$ exponentiates only $-|z|$.
# Its derivative is the sigmoid, $\frac{d}{dz}\log(1 + e^{z}) = \frac{e^{z}}{1 + e^{z}}
# = \sigma(z)$, so
#
# $$\frac{\partial \ell}{\partial z} = \sigma(z) - x = \hat x - x,
# \qquad\text{and for the batch loss}\qquad
# \frac{\partial L}{\partial z_{nj}} = \frac{\hat x_{nj} - x_{nj}}{N}.$$
#
# It is the same gradient as section 3 found through the chain rule, now without a
# division by $\hat x(1 - \hat x)$, a number that can round to 0. tinyae fuses the
# sigmoid and the cross-entropy into `ta.BinaryCrossEntropyWithLogits`, whose `forward`
# takes the logits $z$.
#
# First check: away from saturation, the chain rule through the two separate modules
# (`Sigmoid`, then `BinaryCrossEntropy`) and the fused module give the same loss and the
# same gradient with respect to $z$.

# %%
z = rng.uniform(-5, 5, size=(8, 64))            # logits of 8 reconstructions
target = X[:8]

sig, bce = ta.Sigmoid(), ta.BinaryCrossEntropy()
fused = ta.BinaryCrossEntropyWithLogits()
L_two = bce.forward(sig.forward(z), target)
dz_two = sig.backward(bce.backward())           # chain rule: dL/dx̂, then times σ'(z)
L_fused = fused.forward(z, target)
dz_fused = fused.backward()
rel = np.max(np.abs(dz_two - dz_fused)) / np.max(np.abs(dz_fused))
print(f"loss: sigmoid + BCE {L_two:.10f}, fused {L_fused:.10f}")
print(f"dL/dz: largest relative difference {rel:.1e}")
assert np.isclose(L_two, L_fused, rtol=1e-12)
assert np.allclose(dz_two, dz_fused, rtol=1e-10, atol=1e-15)
assert np.allclose(dz_fused, (sigmoid(z) - target) / len(z), rtol=1e-12)  # (x̂ − x)/N
assert np.allclose(softplus(z), np.logaddexp(0, z), rtol=1e-12)  # softplus is right

# %% [markdown]
# Second check: at $z = \pm 100$, far into saturation. Written naively, $\log(1 - \hat
# x)$ at $\hat x = \sigma(100) = 1.0$ is $\log 0$: NumPy warns and returns infinity.
# `ta.BinaryCrossEntropy` guards against this by **clipping** $\hat x$ into $[10^{-12},
# 1 - 10^{-12}]$: the result is finite, but it is the loss of the clipped prediction,
# not of the real one, and the chain rule then multiplies a huge $\partial
# L/\partial\hat x$ by a $\sigma'(z)$ that is 0 or tiny, so the gradient is lost. The
# fused form needs no clipping and stays exact: we compare it with NumPy's own stable
# `np.logaddexp(0, z)` $= \log(e^0 + e^z) = \mathrm{softplus}(z)$.

# %%
z_sat = np.array([[100.0, -100.0]])     # one image of two pixels, both saturated
x_sat = np.array([[0.2, 0.2]])                  # both are wrong: the target is 0.2

with warnings.catch_warnings(record=True) as caught, np.errstate(divide="warn"):
    warnings.simplefilter("always")
    p_sat = sigmoid(z_sat)
    naive = -np.sum(x_sat * np.log(p_sat) + (1 - x_sat) * np.log(1 - p_sat))
print(f"σ(±100) = {p_sat[0]}; naive cross-entropy: {naive}")
print(f"warnings: {[str(w.message) for w in caught]}")
assert not np.isfinite(naive) and caught

L_two = bce.forward(sig.forward(z_sat), x_sat)
dz_two = sig.backward(bce.backward())
p_used = bce.cache[0]                   # the prediction the clipped loss really used
print(f"σ(z) = {sig.forward(z_sat)[0]}, clipped to [1 - {1 - p_used[0, 0]:.1e}, "
      f"{p_used[0, 1]:.1e}]")
assert np.all(p_used != sigmoid(z_sat))         # the clip was active on both pixels
L_fused = fused.forward(z_sat, x_sat)
dz_fused = fused.backward()
exact_L = np.sum(np.logaddexp(0, z_sat) - x_sat * z_sat)
exact_dz = sigmoid(z_sat) - x_sat
print("             loss        dL/dz at z = +100, -100")
print(f"exact      {exact_L:9.4f}    {exact_dz[0]}")
print(f"fused      {L_fused:9.4f}    {dz_fused[0]}")
print(f"clipped    {L_two:9.4f}    {dz_two[0]}")
assert np.isfinite(L_fused) and np.all(np.isfinite(dz_fused))
assert np.isclose(L_fused, exact_L, rtol=1e-12)
assert np.allclose(dz_fused, exact_dz, rtol=1e-12)
# The clipped pair is finite but wrong: it reports a much smaller loss, and its gradient
# has all but vanished although both pixels are as wrong as they can be.
assert np.isfinite(L_two) and L_two < 0.5 * exact_L
assert np.all(np.abs(dz_two) < 1e-6 * np.abs(exact_dz))

# %% [markdown]
# ## 5. In tinyae
#
# You never have to choose between the two forms yourself. When an autoencoder ends in a
# sigmoid and is trained with `loss="bce"`, `fit` (and `model.loss_and_backward` of
# lesson 5) drops the final sigmoid from the computation and uses the fused loss on the
# logits:

# %%
model = ta.Autoencoder.shallow(64, 16, seed=0)
layers, loss = fuse_output(model.decoder, "bce")
print(f"decoder: {model.decoder.layers}")
print(f"trained with 'bce' as: {layers} then {loss}")
print(f"trained with 'mse' as: {fuse_output(model.decoder, 'mse')}")
assert isinstance(loss, ta.BinaryCrossEntropyWithLogits) and len(layers) == 1

# %% [markdown]
# So `model.fit(X, loss="bce")` is safe at any logit, and the gradient entering the
# decoder's last dense layer is $(\hat x - x)/N$.
#
# ## Summary
#
# - Both losses sum over the pixels of an image and average over the $N$ images:
#   MSE $= \frac1N\sum(\hat x - x)^2$ with gradient $2(\hat x - x)/N$; BCE
#   $= -\frac1N\sum[x\log\hat x + (1 - x)\log(1 - \hat x)]$ with gradient
#   $(\hat x - x)/(N\hat x(1 - \hat x))$.
# - Both are smallest at $\hat x = x$; BCE's minimum is the entropy $H(x)$, not 0, and
#   BCE punishes confident mistakes without bound.
# - Through a sigmoid output, BCE's gradient with respect to the logit is simply
#   $\hat x - x$: the sigmoid's derivative cancels, so saturated wrong pixels still
#   learn. MSE's keeps the factor $\hat x(1 - \hat x)$ and fades.
# - From logits, $\ell = \mathrm{softplus}(z) - xz$ is finite for every $z$ and its
#   gradient $(\sigma(z) - x)/N$ exact; the separate sigmoid and cross-entropy need
#   clipping, which keeps them finite but wrong at saturation. tinyae fuses them for
#   you.
#
# ## Exercises
#
# 1. Train `ta.Autoencoder.shallow(64, 16)` on the digits with `loss="mse"` and with
#    `loss="bce"` (same seed, same epochs) and compare `model.evaluate(X_test, "mse")`.
#    Does the loss you train with have to be the one you report?
# 2. Show that $\sum_j [\ell_\text{BCE}(\hat x_j, x_j) - H(x_j)]$ is never negative and
#    is 0 only for $\hat x = x$. (It is the Kullback–Leibler divergence between two coin
#    flips.) Would subtracting $H(x)$ from the loss change the gradient?
# 3. The MSE can also be written from logits. Why is there no cancellation in
#    $\partial\ell/\partial z$ for it, whatever form you choose?
