# %% [markdown]
# # Lesson 3: Activations
#
# A stack of dense layers alone is still one linear map: $(xW_1)W_2 = x(W_1W_2)$. What
# lets an autoencoder do better than PCA is the **activation** between the layers, a
# nonlinear function applied to each number separately. This lesson looks at the three
# tinyae uses most, their derivatives (which training needs), where those derivatives
# vanish, and one numerical trap: the textbook formula of the sigmoid overflows.
#
# ## Objectives
#
# - Write ReLU, sigmoid and tanh and their derivatives, and see that tinyae's modules
#   compute exactly these.
# - Recognise **saturation**: where an activation is flat, its derivative is close to 0,
#   and a unit there stops learning.
# - Understand why `1 / (1 + np.exp(-z))` overflows for large negative $z$, and how the
#   stable sigmoid in `tinyae.activations` avoids it.
#
# ## Prerequisites
#
# Lesson 2 (dense layers, and the activations ReLU and tanh met there). From calculus:
# the derivative, the chain rule, and $\frac{d}{dz} e^{z} = e^{z}$.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import inspect
import textwrap
import warnings

import numpy as np
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.activations import sigmoid as stable_sigmoid

# %% [markdown]
# ## 1. Three activations and their derivatives
#
# An activation $a = f(z)$ acts on each number $z$ on its own, so its derivative is an
# ordinary one-variable derivative $f'(z)$.
#
# **ReLU**, the rectified linear unit:
#
# $$\mathrm{relu}(z) = \max(0, z), \qquad
# \mathrm{relu}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z < 0 \end{cases}$$
#
# At $z = 0$ it has a kink and no derivative; tinyae takes 0 there.
#
# **Sigmoid** (the logistic function), output in $(0, 1)$, like a pixel or a
# probability:
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
# \sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2}
# = \frac{1}{1 + e^{-z}} \cdot \frac{e^{-z}}{1 + e^{-z}}
# = \sigma(z)\,\bigl(1 - \sigma(z)\bigr).$$
#
# **Tanh**, output in $(-1, 1)$, and the same curve as the sigmoid stretched and
# shifted, $\tanh(z) = 2\sigma(2z) - 1$:
#
# $$\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}, \qquad
# \tanh'(z) = 1 - \tanh^2(z).$$
#
# The derivatives of sigmoid and tanh are written with their *outputs*: once $a = f(z)$
# is known, $f'(z)$ costs one multiplication.
#
# In tinyae each activation is a module with the same two methods as `Dense`.
# `forward(z)` returns $a = f(z)$ and keeps in `cache` what the backward pass needs.
# `backward(grad_out)` receives how much the loss changes per unit change of each
# output, $\partial L/\partial a$, and returns it per unit change of the input, by the
# chain rule
#
# $$\frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z),$$
#
# where $\odot$ is the elementwise product. Lesson 5 uses this to train a network; here,
# a `grad_out` of ones makes `backward` return $f'(z)$ itself:

# %%
z = np.linspace(-6, 6, 241).reshape(1, -1)    # a batch of one row of 241 numbers
modules = {"ReLU": ta.ReLU(), "sigmoid": ta.Sigmoid(), "tanh": ta.Tanh()}
colour = {"ReLU": "C0", "sigmoid": "C1", "tanh": "C2"}      # the same in every figure
formulas = {
    "ReLU": (np.maximum(0, z), (z > 0).astype(float)),
    "sigmoid": (1 / (1 + np.exp(-z)), np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh(z), 1 - np.tanh(z) ** 2),
}


def derivative(module, z):
    """f'(z) from the module itself: forward, then backward with dL/da = 1."""
    module.forward(z)
    return module.backward(np.ones_like(z))


values, slopes = {}, {}
for name, module in modules.items():
    values[name] = module.forward(z)
    slopes[name] = derivative(module, z)
    f, df = formulas[name]
    print(f"{name:8s} forward = formula: {np.allclose(values[name], f)}, "
          f"backward = derivative: {np.allclose(slopes[name], df)}; "
          f"the cache holds {'z' if name == 'ReLU' else 'a = f(z)'}")
    assert np.allclose(values[name], f, rtol=1e-12, atol=1e-15)
    assert np.allclose(slopes[name], df, rtol=1e-12, atol=1e-15)
assert np.allclose(values["tanh"], 2 * stable_sigmoid(2 * z) - 1)   # tanh is a sigmoid

# %% [markdown]
# A derivative is the slope of the curve. The slope of a short chord,
# $\bigl(f(z + h) - f(z - h)\bigr) / 2h$ with a small $h$, should match it wherever the
# curve is smooth (lesson 6 turns this into a tool for checking every gradient):

# %%
h = 1e-5
smooth = np.abs(z) > 2 * h                    # keep away from ReLU's kink at 0
for name, module in modules.items():
    chord = (module.forward(z + h) - module.forward(z - h)) / (2 * h)
    gap = np.max(np.abs(chord - slopes[name])[smooth])
    print(f"{name:8s} largest gap between f'(z) and the chord slope: {gap:.1e}")
    assert gap < 1e-8

# {numref}`fig-03-activations` draws the three functions and their derivatives.

# %% mystnb={"figure": {"caption": "ReLU, sigmoid and tanh (left) and their derivatives (right), as computed by the forward and backward methods of tinyae's modules.", "name": "fig-03-activations"}}
fig = Figure(figsize=(8.8, 3.8), layout="constrained")
ax_f, ax_df = fig.subplots(1, 2)
for name in modules:
    ax_f.plot(z[0], values[name][0], color=colour[name], label=name)
    ax_df.plot(z[0], slopes[name][0], color=colour[name], label=name)
ax_f.set_title("activation $a = f(z)$")
ax_f.set_ylabel("$a = f(z)$")
ax_df.set_title("derivative $f'(z)$")
ax_df.set_ylabel("$f'(z)$")
for ax in (ax_f, ax_df):
    ax.axhline(0, color="gray", lw=0.8)
    ax.axvline(0, color="gray", lw=0.8)
    ax.set_xlabel("$z$")
    ax.grid(alpha=0.3)
    ax.legend()
ax_f.set_ylim(-1.5, 3)
plots.save_figure(fig, FIGURES / "03_activations.png")

# %% [markdown]
# ## 2. Saturation: where the derivative vanishes
#
# Far from 0 the sigmoid and tanh are flat: the output hardly moves when the input
# moves, and the derivative goes to zero exponentially fast: $\sigma'(z) \approx
# e^{-|z|}$ and $\tanh'(z) \approx 4e^{-2|z|}$ for large $|z|$ (the sigmoid's is at most
# $1/4$, at $z = 0$). A unit whose input sits there is **saturated**. Since every
# correction to the weights before it is multiplied by $f'(z)$ (the chain rule above), a
# saturated unit passes back almost nothing, and the layers before it stop learning.
# ReLU never saturates for $z > 0$ (its slope is 1), but for $z < 0$ its derivative is
# exactly 0: a unit whose input is negative for every example is **dead** and gets no
# correction at all. (`ta.LeakyReLU` keeps a small slope, 0.01, for $z < 0$ to avoid
# this.)

# %%
zs = np.array([[0.0, 2.0, 5.0, 10.0, 20.0]])
deriv = {name: derivative(module, zs) for name, module in modules.items()}
print("z:        " + " ".join(f"{v:9.0f}" for v in zs[0]))
for name in modules:
    print(f"{name:8s}  " + " ".join(f"{v:9.1e}" for v in deriv[name][0]))
print(f"the sigmoid's largest derivative on the grid: {slopes['sigmoid'].max()} at "
      f"z = {z[0, slopes['sigmoid'].argmax()]}")
assert slopes["sigmoid"].max() == deriv["sigmoid"][0, 0]   # the peak is at z = 0 ...
assert np.isclose(deriv["sigmoid"][0, 0], 0.25)           # ... and it is 1/4
assert deriv["sigmoid"][0, 3] < 1e-4 and deriv["tanh"][0, 3] < 1e-8   # flat at z = 10
assert deriv["ReLU"][0, 4] == 1.0                  # ReLU does not saturate for z > 0

# %% [markdown]
# Through a stack of layers the chain rule multiplies one such factor per layer. With
# sigmoids, each factor is at most $1/4$: after 10 layers, at most $4^{-10} \approx
# 10^{-6}$, even before the weights are counted. This **vanishing gradient** is why deep
# networks use ReLU in their hidden layers, and why tinyae's deep autoencoders default
# to it. {numref}`fig-03-saturation` shows both effects.

# %%
n_layers = np.arange(1, 11)
best_sigmoid = 0.25 ** n_layers
print(f"10 sigmoid layers shrink a gradient by at least {1 / best_sigmoid[-1]:,.0f} "
      "times")

# %% mystnb={"figure": {"caption": "Left: the derivatives of sigmoid and tanh fall exponentially as z grows (log scale). Right: the product of L activation derivatives, at best (1/4) to the power L for sigmoids, 1 for an active ReLU.", "name": "fig-03-saturation"}}
fig = Figure(figsize=(8.8, 3.8), layout="constrained")
ax_log, ax_depth = fig.subplots(1, 2)
z_pos = np.linspace(0, 20, 201).reshape(1, -1)
for name in ("sigmoid", "tanh"):
    ax_log.semilogy(z_pos[0], derivative(modules[name], z_pos)[0], color=colour[name],
                    label=name)
ax_log.set_xlabel("$z$ (the curves are symmetric in $z$)")
ax_log.set_ylabel("$f'(z)$, log scale")
ax_log.set_title("saturation: the derivative decays")
ax_depth.semilogy(n_layers, best_sigmoid, marker="o", color=colour["sigmoid"],
                  label=r"sigmoid: $(1/4)^{L}$, at best")
ax_depth.semilogy(n_layers, np.ones_like(n_layers, dtype=float), marker="o",
                  color=colour["ReLU"], label="ReLU, active unit: $1^{L}$")
ax_depth.set_xlabel("number of layers $L$")
ax_depth.set_ylabel("product of the activation derivatives")
ax_depth.set_title("what the chain rule multiplies")
ax_depth.set_xticks(n_layers)
for ax in (ax_log, ax_depth):
    ax.grid(alpha=0.3)
    ax.legend()
plots.save_figure(fig, FIGURES / "03_saturation.png")

# %% [markdown]
# (The staircase at the end of the tanh curve in {numref}`fig-03-saturation` is
# rounding: near $z = 19$, $\tanh(z)$ rounds to exactly 1.0 in float64, and $1 - a^2$ to
# exactly 0.)
#
# ## 3. The sigmoid that overflows
#
# The textbook formula $1/(1 + e^{-z})$ is fine for $z \ge 0$, but for a large negative
# $z$ it computes $e^{-z} = e^{|z|}$, which exceeds the largest float64 ($\approx 1.8
# \times 10^{308}$) as soon as $|z| > 709$. NumPy returns `inf` and warns with a
# `RuntimeWarning` (an overflow). Here $1/(1 + \infty) = 0$ happens to be the right
# answer, but the warning is a sign of an unsafe formula, and the equivalent form
# $e^{z}/(1 + e^{z})$ fails the other way round: at $z = +1000$ it computes
# $\infty/\infty$ = `nan`. In float32 the limit is $|z| > 88$, easily reached by a badly
# trained layer.

# %%
def naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def naive_sigmoid_other_form(z):
    return np.exp(z) / (1 + np.exp(z))


def run_and_record(f, z):
    """f(z), and the messages of the RuntimeWarnings it raised.

    Overflow, division by zero and invalid operations (inf/inf) warn; underflow to 0
    (e.g. exp(-1000) = 0.0) is harmless here and stays silent, NumPy's default.
    """
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        result = f(z)
    return result, [str(w.message) for w in caught
                    if issubclass(w.category, RuntimeWarning)]


for f, value in ((naive_sigmoid, -1000.0), (naive_sigmoid_other_form, 1000.0),
                 (naive_sigmoid, np.float32(-100.0))):
    result, messages = run_and_record(f, np.array([value]))
    print(f"{f.__name__}({value}) in {result.dtype} = {result[0]}")
    print(textwrap.fill(f"warnings: {messages}", 88, initial_indent="    ",
                        subsequent_indent="    "))
    assert messages, "expected a RuntimeWarning"

# %% [markdown]
# The fix is to exponentiate only numbers $\le 0$, so that the exponential
# $u = e^{-|z|}$ stays in $(0, 1]$. For $z \ge 0$ use the formula as it is; for $z < 0$
# multiply the top and bottom by $e^{z}$:
#
# $$\sigma(z) = \begin{cases} \dfrac{1}{1 + e^{-z}} = \dfrac{1}{1 + u} & z \ge 0
# \\[2ex]
# \dfrac{e^{z}}{1 + e^{z}} = \dfrac{u}{1 + u} & z < 0 \end{cases}
# \qquad\text{with}\qquad u = e^{-|z|}.$$
#
# This is `tinyae.activations.sigmoid`, which the `Sigmoid` module calls (its variable
# `e` is our $u$):

# %%
print(inspect.getsource(stable_sigmoid))

# %%
extreme = np.array([-1e4, -1000.0, -745.0, -100.0, 0.0, 100.0, 1000.0, 1e4])
stable, messages = run_and_record(stable_sigmoid, extreme)
print("z         " + "".join(f"{v:9.4g}" for v in extreme))
print("stable σ  " + "".join(f"{v:9.2g}" for v in stable))
print(f"warnings: {messages}")
assert not messages and np.all(np.isfinite(stable))
assert np.all((stable >= 0) & (stable <= 1))
assert np.all(np.diff(stable) >= 0)      # still increasing

# Where the naive formula is safe, the two agree to the last digits.
z_safe = np.linspace(-30, 30, 601)
naive, messages = run_and_record(naive_sigmoid, z_safe)
print(f"on [-30, 30]: no warnings ({not messages}), largest relative difference "
      f"{np.max(np.abs(stable_sigmoid(z_safe) - naive) / naive):.1e}")
assert not messages
assert np.allclose(stable_sigmoid(z_safe), naive, rtol=1e-14, atol=0)

# float32 stays float32, and is just as safe.
z32 = extreme.astype(np.float32)
stable32, messages = run_and_record(stable_sigmoid, z32)
print(f"float32: dtype {stable32.dtype}, finite {np.all(np.isfinite(stable32))}, "
      f"warnings {messages}")
assert stable32.dtype == np.float32 and not messages and np.all(np.isfinite(stable32))

# %% [markdown]
# One more fact about the sigmoid in floating point, which lesson 4 needs: for large
# positive $z$, $\sigma(z)$ is so close to 1 that it *rounds* to exactly 1.0 (and
# $1 - \sigma(z)$ to exactly 0). In float64 this happens from about $z = 37$ on:

# %%
z_grid = np.arange(0, 60, 0.5)
first_one = z_grid[np.argmax(stable_sigmoid(z_grid) == 1.0)]
print(f"float64: σ(z) == 1.0 exactly from z = {first_one} on; "
      f"1 - σ(40) = {1 - stable_sigmoid(np.array(40.0))}")
assert stable_sigmoid(np.array(first_one)) == 1.0 and 30 < first_one < 40

# %% [markdown]
# ## Summary
#
# - ReLU $\max(0, z)$ has slope 1 or 0; sigmoid $\sigma(z)$ has slope
#   $\sigma(1 - \sigma) \le 1/4$; tanh has slope $1 - \tanh^2 \le 1$. tinyae's modules
#   compute $f$ in `forward`, cache what the derivative needs, and return
#   $\partial L/\partial a \odot f'(z)$ in `backward`.
# - Sigmoid and tanh **saturate**: for large $|z|$ their derivative decays exponentially
#   ($e^{-|z|}$ and $4e^{-2|z|}$), so gradients through them vanish, and through many
#   layers of them shrink geometrically. ReLU does not saturate for $z > 0$, but a unit
#   with $z < 0$ on every input is dead.
# - `1 / (1 + np.exp(-z))` overflows for $z < -709$ (float64) or $z < -88$ (float32).
#   The stable sigmoid exponentiates only $-|z|$ and is finite and warning-free for any
#   input, while agreeing with the formula everywhere the formula works.
#
# ## Exercises
#
# 1. Show that $\mathrm{softplus}(z) = \log(1 + e^{z})$ has derivative $\sigma(z)$.
#    Where does the naive `np.log(1 + np.exp(z))` fail, and how would you rewrite it?
#    (Lesson 4 needs it.)
# 2. In a network of 5 tanh layers whose inputs are all near $z = 2$, by how much is the
#    gradient shrunk by the activations alone? And near $z = 0$?
# 3. Write the backward pass of `LeakyReLU` with slope $\alpha$ for $z < 0$, and check
#    it against `ta.LeakyReLU(0.1).backward` the way section 1 does.
