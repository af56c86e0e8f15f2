# %% [markdown]
# # Lesson 6: Checking gradients
#
# In lesson 5 we derived the backward pass of the shallow autoencoder by hand. A mistake
# there does not crash anything: the model still trains, only worse, and nothing tells
# us why. This lesson builds the tool that catches such mistakes. It computes the same
# gradient a second way, from nothing but the forward pass, and compares the two.
#
# ## Objectives
#
# - Estimate a derivative with **finite differences**, and show why the *centred*
#   difference is far more accurate than the *forward* difference.
# - Measure the disagreement with the **relative error**, and read the U-shaped curve of
#   error against step size: *truncation* error on one side, *round-off* error on the
#   other, in float64 and in float32.
# - See why ReLU's **kink** at 0 can fool a checker, and what tinyae's report does about
#   it.
# - Plant a bug in a layer and watch the checker catch it and point at the guilty layer.
#
# ## Prerequisites
#
# Lessons 1–5: the shallow autoencoder, `Dense`, the activations (sigmoid, ReLU), the
# losses, and the module contract (`forward` keeps a `cache`, `backward` returns the
# gradient with respect to the input and fills `grads`). `model.loss_and_backward(x,
# target, loss)` runs one forward and one backward pass and returns the loss.

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
from tinyae.gradcheck import THRESHOLD, numerical_gradient, relative_error

X, _ = ta.load_digits()
print(f"digits: {X.shape}")

# %% [markdown]
# ## 1. Two ways to estimate a derivative
#
# The derivative is the limit of a slope: $f'(x) = \lim_{h\to 0} \frac{f(x+h) -
# f(x)}{h}$. A computer cannot take the limit, but it can pick a small $h$. Taylor's
# theorem says how wrong that is:
#
# $$f(x \pm h) = f(x) \pm h f'(x) + \frac{h^2}{2} f''(x)
# \pm \frac{h^3}{6} f'''(x) + \dots$$
#
# The **forward difference** keeps the $h^2$ term, so its error shrinks like $h$:
#
# $$\frac{f(x+h) - f(x)}{h} = f'(x) + \frac{h}{2} f''(x) + O(h^2).$$
#
# The **centred difference** subtracts $f(x-h)$ from $f(x+h)$; the even terms cancel and
# the error shrinks like $h^2$:
#
# $$\frac{f(x+h) - f(x-h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + O(h^4).$$
#
# Check it on a function whose derivative we know, $f = \sin$, $f' = \cos$, at $x = 1$.
# Dividing $h$ by 10 should divide the forward error by 10 (slope 1 on a log-log plot)
# and the centred error by 100 (slope 2).

# %%
x0 = 1.0
print(f"{'h':>8} {'forward error':>14} {'centred error':>14}")
fwd_err, cen_err = {}, {}
for h in [1e-1, 1e-2, 1e-3, 1e-4]:
    fwd_err[h] = abs((np.sin(x0 + h) - np.sin(x0)) / h - np.cos(x0))
    cen_err[h] = abs((np.sin(x0 + h) - np.sin(x0 - h)) / (2 * h) - np.cos(x0))
    print(f"{h:8.0e} {fwd_err[h]:14.3e} {cen_err[h]:14.3e}")
slope_fwd = np.log10(fwd_err[1e-2] / fwd_err[1e-3])
slope_cen = np.log10(cen_err[1e-2] / cen_err[1e-3])
print(f"error lost per decade of h: forward {slope_fwd:.2f} digits, "
      f"centred {slope_cen:.2f} digits")
assert abs(slope_fwd - 1) < 0.1 and abs(slope_cen - 2) < 0.1

# %% [markdown]
# For a function of many inputs, such as a loss of all the weights in a layer, we
# estimate one partial derivative at a time: nudge entry $i$ by $\pm h$, keep the others
# fixed. `ta.gradcheck.numerical_gradient(f, x, h)` does exactly that with centred
# differences. It perturbs `x` in place and writes the saved value back. For an
# autoencoder with $P$ parameters that is $2P$ forward passes. That is far too slow for
# training, but fine for a check on a small model.
#
# ## 2. How to compare two gradients: the relative error
#
# An absolute difference means nothing on its own: $10^{-6}$ is a large error for a
# gradient whose entries are $10^{-6}$ and a tiny one for entries of size $10^{3}$. So
# we divide by the scale of the gradient:
#
# $$\text{relative error}(a, b) =
#   \frac{\max_i |a_i - b_i|}{\max\left(\max_i |a_i|,\ \max_i |b_i|\right)}.$$
#
# One scale for the whole array (not one per entry) matters: an entry whose true
# gradient is almost 0 would otherwise be "100% wrong" because of rounding noise alone.
# `ta.gradcheck.relative_error(a, b)` computes this number.
#
# ## 3. Round-off: why a smaller $h$ is not always better
#
# Floating-point numbers carry about 16 significant digits in float64 and 7 in float32.
# The **machine epsilon** $\varepsilon$ is the relative spacing of representable numbers
# (`np.finfo(dtype).eps`). Each evaluation of $f$ is off by roughly $\varepsilon |f|$,
# and the difference quotient divides that by $2h$, so it *grows* as $h$ shrinks. The
# total error of the centred difference is roughly
#
# $$E(h) \approx \underbrace{\frac{h^2}{6}|f'''|}_{\text{truncation}} +
#   \underbrace{\frac{\varepsilon |f|}{h}}_{\text{round-off}},$$
#
# smallest at $h^\ast = (3\varepsilon|f|/|f'''|)^{1/3} \sim \varepsilon^{1/3}$, where
# $E(h^\ast) \sim \varepsilon^{2/3}$. For the forward difference the same reasoning
# gives $h^\ast \sim \varepsilon^{1/2}$ and $E \sim \varepsilon^{1/2}$: fewer correct
# digits.

# %%
for dtype in (np.float64, np.float32):
    eps = float(np.finfo(dtype).eps)
    print(f"{np.dtype(dtype).name}: eps = {eps:.1e}; "
          f"best h ~ eps^(1/3) = {eps ** (1 / 3):.0e}, "
          f"its error ~ eps^(2/3) = {eps ** (2 / 3):.0e}")

# %% [markdown]
# Let's measure it on the gradient we care about: the decoder weights of a shallow
# autoencoder, loss MSE, 20 digits. We build the same model twice, in float64 and in
# float32, with *identical* weights (the float32 ones copied into the float64 model), so
# the float64 backward pass gives the exact gradient at the very point where both
# finite-difference estimates are taken. Then we sweep $h$ from $10^{-1}$ down to
# $10^{-12}$ in half-decade steps.
#
# `numerical_gradient` only does centred differences, so we write the forward difference
# ourselves, in the same way.

# %%
def forward_difference(f, x, h):
    """``(f(x + h·e_i) − f(x)) / h`` for each ``i``, changing ``x`` in place."""
    grad = np.zeros(x.shape)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        grad[i] = (f(x) - f0) / h
        x[i] = old
    return grad


model64 = ta.Autoencoder.shallow(64, 4, seed=0, dtype=np.float64)
model32 = ta.Autoencoder.shallow(64, 4, seed=0, dtype=np.float32)
pairs = zip(model64.named_parameters(), model32.named_parameters())
for (_, p64, _), (_, p32, _) in pairs:
    p64[...] = p32                     # the same numbers, now held in float64
x32 = X[:20].astype(np.float32)
x64 = x32.astype(np.float64)

model64.loss_and_backward(x64, x64, "mse")
exact = model64.decoder[0].grads["W"].copy()     # dL/dW2, shape (4, 64)
W64, W32 = model64.decoder[0].params["W"], model32.decoder[0].params["W"]


def loss64(_):
    return model64.loss_and_backward(x64, x64, "mse", backward=False)


def loss32(_):
    return model32.loss_and_backward(x32, x32, "mse", backward=False)


steps = 10.0 ** -np.arange(1, 12.01, 0.5)
err64, err32, err_fwd = [], [], []
for h in steps:
    err64.append(relative_error(numerical_gradient(loss64, W64, h), exact))
    err32.append(relative_error(numerical_gradient(loss32, W32, h), exact))
    err_fwd.append(relative_error(forward_difference(loss64, W64, h), exact))
err64, err32, err_fwd = map(np.array, (err64, err32, err_fwd))
best64, best32, best_fwd = err64.argmin(), err32.argmin(), err_fwd.argmin()
print(f"{'h':>8} {'centred f64':>12} {'centred f32':>12} {'forward f64':>12}")
for h, a, b, c in zip(steps, err64, err32, err_fwd):
    print(f"{h:8.0e} {a:12.1e} {b:12.1e} {c:12.1e}")
print(f"best centred float64: {err64[best64]:.1e} at h = {steps[best64]:.0e}")
print(f"best centred float32: {err32[best32]:.1e} at h = {steps[best32]:.0e}")
print(f"best forward float64: {err_fwd[best_fwd]:.1e} at h = {steps[best_fwd]:.0e}")

# %% [markdown]
# Now the claims, checked on these numbers:
#
# - both centred curves are U-shaped: the best $h$ is neither the largest nor the
#   smallest one we tried, and it lies within a factor of 30 of $\varepsilon^{1/3}$ (the
#   factor $(3|f|/|f'''|)^{1/3}$ that the theory leaves open is of order 1 here);
# - float32's best error is far worse than float64's. Theory says by about
#   $(\varepsilon_{32}/\varepsilon_{64})^{2/3} \approx 7\times 10^{5}$; we ask for at
#   least $10^3$, leaving room for the unknown constants $|f|$ and $|f'''|$;
# - the forward difference, even at its best $h$, is worse than the centred one;
# - tinyae's default step $h = 10^{-5}$ in float64 lands well below its pass threshold
#   $10^{-7}$, near $10^{-10}$, so a correct backward pass passes;
# - float32's best error is near $10^{-4}$, between $10^{-5}$ and $10^{-3}$.

# %%
ratio = err32[best32] / err64[best64]
theory = (np.finfo(np.float32).eps / np.finfo(np.float64).eps) ** (2 / 3)
print(f"float32 best / float64 best = {ratio:.1e} (theory ~ {theory:.0e})")
i_default = int(np.argmin(np.abs(steps - 1e-5)))
print(f"error at tinyae's default h = 1e-5: {err64[i_default]:.1e} "
      f"(threshold {THRESHOLD:g})")
assert 0 < best64 < len(steps) - 1 and 0 < best32 < len(steps) - 1
for best, dtype in ((best64, np.float64), (best32, np.float32)):
    assert 1 / 30 < steps[best] / np.finfo(dtype).eps ** (1 / 3) < 30
assert ratio > 1e3
assert err_fwd[best_fwd] > err64[best64]
assert err64[i_default] < THRESHOLD and 1e-11 < err64[i_default] < 1e-9
assert 1e-5 < err32[best32] < 1e-3
unchanged = np.mean(W32 + np.float32(steps[-1]) == W32)
print(f"float32 weights that w + {steps[-1]:.0e} leaves unchanged: {unchanged:.0%}; "
      f"relative error there: {err32[-1]:.2f}")
assert unchanged > 0.9 and err32[-1] > 0.9

# %% mystnb={"figure": {"caption": "Relative error of the finite-difference estimate of dL/dW2 against the step size h, centred differences in float64 and float32 and forward differences in float64; h shrinks to the right.", "name": "fig-06-step-size"}}
fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.subplots()
ax.loglog(steps, err64, "o-", ms=4, label="centred, float64")
ax.loglog(steps, err32, "s-", ms=4, label="centred, float32")
ax.loglog(steps, err_fwd, "^--", ms=4, color="gray", label="forward, float64")
ax.axhline(THRESHOLD, color="k", lw=0.8, ls=":")
ax.text(1.5e-12, THRESHOLD / 1.5, "tinyae's pass threshold (float64)", fontsize=9,
        ha="right", va="top")
ax.text(6e-2, 1e-9, "truncation wins:\ncentred ∝ h²,\nforward ∝ h", fontsize=9)
ax.text(1e-9, 5e-10, "round-off wins:\nerror ∝ 1/h", fontsize=9)
ax.set_xlabel("step size h (smaller to the right)")
ax.set_ylabel("relative error against the exact gradient")
ax.set_title("Finite-difference error of dL/dW2 against the step size")
ax.invert_xaxis()                  # h shrinks to the right, as we make it smaller
ax.grid(alpha=0.3, which="both")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, frameon=False)
plots.save_figure(fig, FIGURES / "06_step_size.png")

# %% [markdown]
# Read {numref}`fig-06-step-size` from left to right, with $h$ getting smaller. On the
# left the truncation error falls, two decades per decade of $h$ for the centred
# difference and one for the forward difference. Then round-off takes over and the error
# climbs again. float32 bottoms out early, at a large $h$ and an error of the size
# printed above: too few correct digits for a threshold that would catch a subtle bug.
# For the smallest steps the float32 curve flattens at 1. A weight $w$ of size 0.1 is
# stored with a spacing of about $10^{-8}$ in float32, so $w + h$ rounds back to $w$.
# The two losses are then equal, and the estimate is 0. That is why tinyae checks
# gradients in float64, and warns (`GradcheckPrecisionWarning`) and loosens its
# threshold to $10^{-2}$ when you hand it a float32 model.
#
# ## 4. Checking a whole model
#
# `ta.gradcheck.check_model(model, X, loss)` runs `loss_and_backward` once to get the
# analytic gradients. It then estimates every parameter's gradient by centred
# differences and prints one row per parameter: the largest relative error in that
# parameter, where it occurs, and the two numbers there. All rows share one scale (the
# largest gradient entry in the whole model), so together they give the relative error
# of the full gradient.

# %%
report = ta.gradcheck.check_model(model64, x64[:10], "mse")
print(report)
assert report.passed

# %% [markdown]
# ## 5. Kinks: where the derivative does not exist
#
# ReLU, $a = \max(0, z)$, has slope 0 for $z < 0$ and 1 for $z > 0$. At $z = 0$ there is
# a corner and no derivative; tinyae's backward uses 0 there. If an input sits within
# $h$ of 0, the centred difference straddles the corner. It averages the two slopes and
# returns a number that is neither 0 nor 1. For $0 \le z < h$ and an upstream gradient
# $R$:
#
# $$\frac{f(z+h) - f(z-h)}{2h} = \frac{(z+h)R - 0}{2h} = \frac{z+h}{2h}R \in [R/2, R).$$
#
# The backward pass is right here; the estimate is wrong. We put three inputs within
# $h = 10^{-5}$ of the kink and compare the raw numbers first.

# %%
rng = np.random.default_rng(0)
z = rng.standard_normal((3, 5))
z[0, :3] = [3e-6, -4e-6, 0.0]              # three entries closer to 0 than h
R = rng.standard_normal(z.shape)           # an upstream gradient dL/da
relu = ta.ReLU()
relu.forward(z)
analytic = relu.backward(R)


def relu_loss(z_):
    return float(np.sum(relu.forward(z_) * R))


numeric = numerical_gradient(relu_loss, z.copy(), h=1e-5)
print("analytic dL/dz at the three entries:", np.round(analytic[0, :3], 4) + 0.0)
print("numeric  dL/dz at the three entries:", np.round(numeric[0, :3], 4) + 0.0)
print(f"relative error of the raw comparison: {relative_error(analytic, numeric):.2e}")
assert relative_error(analytic, numeric) > THRESHOLD

# %% [markdown]
# Taken at face value, that comparison says the correct ReLU is broken. tinyae's checker
# also records the two *one-sided* slopes $(f(z+h) - f(z))/h$ and $(f(z) - f(z-h))/h$.
# On a smooth stretch they agree to $O(h)$; across a kink they differ by the jump in
# slope, however small $h$ is. An entry whose miss is no larger than that jump is listed
# as a *kink crossed* and left out of the error. The threshold is not loosened, and a
# wrong gradient on a smooth stretch is never excused. `check_module(module, x)` checks
# one module: the gradient with respect to its input (row `input`) and to each of its
# parameters.

# %%
report = ta.gradcheck.check_module(relu, z, h=1e-5)
print(report)
near_zero = np.argwhere(np.abs(z) < 1e-5)
expected_kinks = sorted(tuple(int(i) for i in idx) for idx in near_zero)
print("entries within h of 0:", expected_kinks)
print("reported kinks:       ", report["input"].kinks)
assert report.passed
assert sorted(report["input"].kinks) == expected_kinks

# %% [markdown]
# In a real model a pre-activation lands within $10^{-5}$ of 0 only rarely, so most
# checks report no kinks at all. When a check of a ReLU network does fail, look at
# the kink count first, and rerun with other data (or a smaller $h$) before you suspect
# the code.
#
# ## 6. Planting a bug
#
# A checker that never fails proves nothing. So we break something on purpose. The
# sigmoid's derivative is $\sigma'(z) = a(1-a)$ with $a = \sigma(z)$; a classic slip is
# to write $a$ alone. `BuggySigmoid` inherits everything from `ta.Sigmoid` and overrides
# only `backward`:

# %%
class BuggySigmoid(ta.Sigmoid):
    """A sigmoid whose backward forgets the factor (1 − a): dz = da * a. WRONG."""

    def backward(self, grad_out):
        a = self.cache                    # forward cached the output a = σ(z)
        return grad_out * a               # should be grad_out * a * (1 - a)


z = np.random.default_rng(1).standard_normal((4, 6))
good = ta.gradcheck.check_module(ta.Sigmoid(), z)
bad = ta.gradcheck.check_module(BuggySigmoid(), z)
print(good, "\n")
print(bad)
assert good.passed and not bad.passed

# %% [markdown]
# The checker does more than say "wrong": in a whole model it points at the layer.
# `ta.Autoencoder(encoder, decoder)` builds an autoencoder from two lists of modules, so
# we can put the buggy sigmoid in the encoder and a correct one in the decoder. Backward
# runs from the loss towards the input. The decoder's gradients are computed before the
# bug is reached, so they stay right. Every gradient computed after it, the encoder's,
# is wrong.

# %%
rng = np.random.default_rng(0)
buggy_model = ta.Autoencoder(
    encoder=[ta.Dense(64, 4, init="glorot", seed=rng), BuggySigmoid()],
    decoder=[ta.Dense(4, 64, init="glorot", seed=rng), ta.Sigmoid()],
)
report = ta.gradcheck.check_model(buggy_model, X[:10], "mse")
print(report)
failed = sorted(row.name for row in report.rows if not row.passed)
print("failed rows:", failed)
assert failed == ["encoder.0.W", "encoder.0.b"]

# %% [markdown]
# ### A bug that hides from a careless check
#
# Our losses average over the batch, so every gradient carries one factor $1/N$
# (lesson 4). Forget it and the gradient is $N$ times too large. Check that with a batch
# of a *single* sample, $N = 1$, and the bug is invisible. `check_loss(loss, y_pred,
# y_true)` checks a loss's gradient with respect to its prediction.

# %%
class MSEWithoutMean(ta.MSE):
    """MSE whose backward forgets the batch mean: 2 (ŷ − y), not 2 (ŷ − y) / N. WRONG"""

    def backward(self):
        diff = self.cache                 # forward cached ŷ − y
        return 2.0 * diff


rng = np.random.default_rng(2)
for N in (1, 5):
    y_pred, y_true = rng.random((N, 8)), rng.random((N, 8))
    report = ta.gradcheck.check_loss(MSEWithoutMean(), y_pred, y_true)
    print(f"batch of {N}: {'passed' if report.passed else 'FAILED'} "
          f"(max rel err {report.max_error:.1e})")
    assert report.passed == (N == 1)

# %% [markdown]
# So check with a batch of several samples, and with sizes that differ from each other
# (say 5 samples, 7 features, 3 hidden units). A swapped axis or a missing factor of $N$
# or $D$ cannot hide when every size is different.
#
# ## Summary
#
# - The centred difference $\frac{f(x+h) - f(x-h)}{2h}$ has error $O(h^2)$, the forward
#   difference $O(h)$.
# - Compare gradients by the **relative error**, measured against the scale of the whole
#   gradient.
# - Error against $h$ is U-shaped: truncation $\propto h^2$ for large $h$, round-off
#   $\propto \varepsilon/h$ for small $h$. The best $h \sim \varepsilon^{1/3}$. In
#   float64 ($h = 10^{-5}$) a correct gradient agrees to about $10^{-10}$. In float32
#   the best is about $10^{-4}$, too coarse to trust, so check in float64.
# - At ReLU's kink the finite difference averages two slopes. tinyae detects these
#   entries from the one-sided slopes, lists them as kinks crossed, and leaves them out.
#   It does not loosen the threshold.
# - A checker must be shown to fail: a planted bug (`BuggySigmoid`) fails, and
#   `check_model` names the layers whose gradients it corrupts. Check with $N > 1$ and
#   unequal sizes, or some bugs stay invisible.
#
# ## Exercises
#
# 1. Our estimate of the best $h$ used $|f|$ and $|f'''|$. Make the loss 1000 times
#    larger (multiply it by 1000 inside `loss64`): does the best $h$ move? Does the
#    relative error at the best $h$ change? Why, or why not?
# 2. The ReLU example put inputs within $h$ of 0. Rerun it with `h=1e-7`: which entries
#    are kinks now? Predict the list before you run it.
# 3. Write a `BuggyTanh(ta.Tanh)` whose backward uses $1 - a$ instead of $1 - a^2$.
#    Check it with inputs of size about $10^{-3}$, then with inputs near $\pm 3$. How
#    large is the relative error in each case? Explain it from the size of $a =
#    \tanh(z)$.
