# %% [markdown]
# # Lesson 2: The dense layer
#
# The encoder and the decoder of lesson 1 are built from one kind of layer, the
# **dense** (or fully connected) layer: every output is a weighted sum of every input,
# plus a constant. This lesson takes it apart: what it computes, the shapes of
# everything, why a batch of inputs goes through it in one matrix product, and how its
# weights must be drawn at the start so that a deep stack of layers neither fades out
# nor blows up.
#
# ## Objectives
#
# - Write the forward pass $y = xW + b$ of a dense layer with the shape of every array,
#   and run it with `ta.Dense`.
# - See that a batch is processed row by row: one sample alone and the same sample
#   inside a batch give the same output row.
# - Translate between tinyae's **row convention** ($y = xW + b$, one sample per row) and
#   the **column convention** of many textbooks ($y = W'x + b$, one sample per column).
# - Explain why the weights start random, and why their scale matters: **He**
#   initialization before ReLU, **Glorot** before tanh and sigmoid, checked by measuring
#   the activations through a stack of 10 layers.
#
# ## Prerequisites
#
# Lesson 1 (the digits, `X` of shape `(1797, 64)`; the shallow autoencoder $z =
# \mathrm{relu}(xW_1 + b_1)$, $\hat x = \sigma(zW_2 + b_2)$). From probability: the mean
# and variance of a random number, and that the variance of a sum of independent numbers
# is the sum of their variances.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import textwrap

import numpy as np
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots

X, y = ta.load_digits()
print(f"digits {X.shape}")

# %% [markdown]
# ## 1. The forward pass
#
# A dense layer with $n_\text{in}$ inputs and $n_\text{out}$ outputs holds a **weight
# matrix** $W$ of shape $(n_\text{in}, n_\text{out})$ and a **bias** vector $b$ of shape
# $(n_\text{out},)$. For one input row $x$ of shape $(n_\text{in},)$, output $j$ is
#
# $$y_j = \sum_{i=1}^{n_\text{in}} x_i W_{ij} + b_j,
# \qquad j = 1, \dots, n_\text{out}:$$
#
# column $j$ of $W$ holds the weights output $j$ gives to each input, and $b_j$ is its
# offset. A **batch** of $N$ inputs is a matrix $x$ of shape $(N, n_\text{in})$, one
# sample per row (the layout of `X`), and the whole batch goes through in one matrix
# product:
#
# $$y = xW + b, \qquad y_{nj} = \sum_i x_{ni} W_{ij} + b_j, \qquad
# \underbrace{(N, n_\text{out})}_{y} = \underbrace{(N, n_\text{in})}_{x}\,
# \underbrace{(n_\text{in}, n_\text{out})}_{W} + \underbrace{(n_\text{out},)}_{b}.$$
#
# Adding $b$ of shape $(n_\text{out},)$ to a matrix of shape $(N, n_\text{out})$ adds it
# to every row: NumPy's *broadcasting*. `ta.Dense(n_in, n_out)` is this layer; its
# arrays live in the dict `layer.params`.

# %%
layer = ta.Dense(64, 16, init="he", seed=0)  # the encoder layer of lesson 1: 64 -> 16
W, b = layer.params["W"], layer.params["b"]
print(layer, "W", W.shape, "b", b.shape)

x = X[:5]                                       # a batch of 5 digits, shape (5, 64)
out = layer.forward(x)
print(f"x {x.shape} -> y {out.shape}")

# The same numbers, three ways: tinyae, one matrix product, and the sum written out.
by_hand = x @ W + b
by_loops = np.zeros((5, 16))
for n in range(5):
    for j in range(16):
        by_loops[n, j] = sum(x[n, i] * W[i, j] for i in range(64)) + b[j]
print(f"largest difference, Dense vs x @ W + b: {np.max(np.abs(out - by_hand)):.1e}; "
      f"vs the loops: {np.max(np.abs(out - by_loops)):.1e}")
assert np.allclose(out, by_hand, rtol=1e-12, atol=1e-12)
assert np.allclose(out, by_loops, rtol=1e-12, atol=1e-12)

# %% [markdown]
# The layer has $n_\text{in} n_\text{out} + n_\text{out}$ numbers to learn, its
# **parameters**. The autoencoder of lesson 1 has two dense layers, $64 \to 16$ and
# $16 \to 64$:

# %%
model = ta.Autoencoder.shallow(64, 16, seed=0)
count = (64 * 16 + 16) + (16 * 64 + 64)
print(f"parameters: {count} by the formula, {model.n_parameters()} by tinyae")
for name, param, _ in model.named_parameters():
    print(f"  {name:12s} shape {param.shape}")
assert model.n_parameters() == count

# %% [markdown]
# `named_parameters()` lists every parameter with a name: `"encoder.0.W"` is the `W` of
# layer 0 of the encoder. (It also yields a third item, the parameter's gradient, which
# lesson 5 fills in.)
#
# ## 2. A batch is a stack of independent rows
#
# Row $n$ of $y$ depends only on row $n$ of $x$: the layer treats the samples of a batch
# independently. So pushing one digit through alone, or inside a batch, must give the
# same output row. (Up to rounding in the last digit: a matrix product may add the same
# numbers in a different order for a different shape.)

# %%
# 5 batches of shape (1, 64), then one batch of shape (5, 64)
one_at_a_time = np.concatenate([layer.forward(x[n:n + 1]) for n in range(5)])
whole_batch = layer.forward(x)
print(f"largest difference, one at a time vs whole batch: "
      f"{np.max(np.abs(one_at_a_time - whole_batch)):.1e}")
assert np.allclose(one_at_a_time, whole_batch, rtol=1e-12, atol=1e-12)

# %% [markdown]
# A single sample is still a batch, of one row: shape `(1, 64)`, not `(64,)`. The layer
# checks the shape of what it gets and says what it expected:

# %%
for bad in (X[0], X[:5, :63]):
    try:
        layer.forward(bad)
    except ValueError as err:
        print(textwrap.fill(f"shape {bad.shape}: {type(err).__name__}: {err}", 88,
                            subsequent_indent="    "))
    else:
        raise AssertionError("a wrong shape went through")

# %% [markdown]
# ## 3. Rows or columns: two ways to write the same layer
#
# Many textbooks write one sample as a *column* vector $x$ of shape $(n_\text{in}, 1)$
# and the layer as $y = W'x + b$, with $W'$ of shape $(n_\text{out}, n_\text{in})$. It
# is the same layer with $W' = W^\top$: transposing $y = xW + b$ gives $y^\top = W^\top
# x^\top + b^\top$. A batch in that convention is a matrix with one sample per *column*.
# tinyae uses rows because that is how data sets are stored (`X[n]` is sample $n$) and
# how NumPy, scikit-learn and PyTorch lay out a batch. When a formula from a textbook
# uses $W'$, read $W^\top$ here.

# %%
W_col = W.T                                     # (16, 64): the textbook's W'
x_col = x[0].reshape(64, 1)                     # one digit as a column vector
y_col = W_col @ x_col + b.reshape(16, 1)        # (16, 1)
print(f"column convention: {W_col.shape} @ {x_col.shape} -> {y_col.shape}")
assert np.allclose(y_col.ravel(), out[0], rtol=1e-12, atol=1e-12)

# %% [markdown]
# ## 4. Why the weights start random
#
# What if every weight started at the same value? Then every output $j$ computes the
# same sum: the 16 units are copies of each other. They would also receive the same
# correction during training (lesson 5 shows how corrections are computed), so they
# would stay copies forever, and a layer of 16 units would be no better than one. Random
# weights break this **symmetry**. The biases can start at zero (tinyae's `Dense` does
# this): the random weights already make the units differ.

# %%
same = ta.Dense(64, 16, init="he", seed=0)
same.params["W"][:] = 0.1                       # every weight equal
y_same = same.forward(x)
print(f"equal weights: the 16 outputs of digit 0 are {np.unique(y_same[0].round(12))}")
assert np.allclose(y_same, y_same[:, :1])       # every column equals the first

# %% [markdown]
# ## 5. Why the *scale* of the random weights matters
#
# Stack many layers, each a dense layer followed by an activation $f$ (a function
# applied to each number; lesson 3 studies them). Here we use two: **ReLU**, $\max(0,
# z)$, and **tanh**, which squashes $z$ into $(-1, 1)$ and is close to $z$ near 0;
# tinyae has them as modules `ta.ReLU()` and `ta.Tanh()`, with a `forward` method like
# `Dense`. Call $a$ the input of a layer and $z = aW$ its output before the activation
# (biases are zero at the start). If the weights $W_{ij}$ are independent with mean 0
# and variance $s^2$, and independent of $a$, each $z_j$ is a sum of $n_\text{in}$
# independent terms, so
#
# $$\operatorname{Var}(z_j) = n_\text{in}\, s^2\, \mathbb{E}[a_i^2].$$
#
# The signal keeps its size from layer to layer only if $n_\text{in} s^2
# \mathbb{E}[a^2]$ equals the variance of the previous layer's $z$:
#
# - **tanh** is close to the identity near 0, so $\mathbb{E}[a^2] \approx
#   \operatorname{Var}(z)$ and we need $s^2 = 1/n_\text{in}$. The backward pass (lesson
#   5) multiplies by $W^\top$ and asks for $s^2 = 1/n_\text{out}$; **Glorot**
#   initialization (Glorot & Bengio, 2010) takes the compromise
#   $s^2 = 2/(n_\text{in} + n_\text{out})$, drawing $W$ uniformly from $[-l, l]$ with
#   $l = \sqrt{6/(n_\text{in} + n_\text{out})}$ (a uniform draw has variance $l^2/3$).
#   The sigmoid is a shifted and scaled tanh, $\sigma(z) = (1 + \tanh(z/2))/2$, and
#   gets the same treatment.
# - **ReLU** sets the negative half of $z$ to zero. For $z$ symmetric around 0 this
#   halves the mean square: $\mathbb{E}[\mathrm{relu}(z)^2] = \tfrac12
#   \operatorname{Var}(z)$. To make up for it, **He** initialization (He et al., 2015)
#   doubles the variance: $s^2 = 2/n_\text{in}$, drawing $W$ from a normal distribution
#   $N(0, 2/n_\text{in})$.
#
# `ta.Dense(n_in, n_out, init=...)` offers `"he"`, `"glorot"`, `"lecun"` ($s^2 =
# 1/n_\text{in}$) and `"normal"` (a fixed $s = 0.01$, the small scale of older papers).
# First, the draws have the variances the formulas say:

# %%
n_in, n_out = 256, 256
for init, s2 in (("he", 2 / n_in), ("glorot", 2 / (n_in + n_out)), ("normal", 0.01**2)):
    W_draw = ta.Dense(n_in, n_out, init=init, seed=1).params["W"]
    print(f"{init:7s} variance of the weights {W_draw.var():.2e}, formula {s2:.2e}")
    assert abs(W_draw.var() / s2 - 1) < 0.05

# %% [markdown]
# Now the experiment: a batch of random inputs of 256 numbers with standard deviation 1
# goes through 10 layers of width 256. After each layer we measure the standard
# deviation of the activations.

# %%
depth, width = 10, 256
n_samples = 200 if FAST else 1000
x0 = np.random.default_rng(0).standard_normal((n_samples, width))


def activation_stats(init, activation, scale=1.0, seed=1):
    """Per layer: std of the activations, fraction of saturated units (|a| > 0.99)."""
    rng = np.random.default_rng(seed)
    a, stds, saturated = x0, [], []
    for _ in range(depth):
        dense = ta.Dense(width, width, init=init, seed=rng)
        dense.params["W"] *= scale
        a = activation.forward(dense.forward(a))
        stds.append(a.std())
        saturated.append(np.mean(np.abs(a) > 0.99))
    return np.array(stds), np.array(saturated)


relu_runs = {"He": activation_stats("he", ta.ReLU()),
             "Glorot": activation_stats("glorot", ta.ReLU()),
             "N(0, 0.01²), too small": activation_stats("normal", ta.ReLU())}
tanh_runs = {"Glorot": activation_stats("glorot", ta.Tanh()),
             "N(0, 0.01²), too small": activation_stats("normal", ta.Tanh()),
             "3 × LeCun, too large": activation_stats("lecun", ta.Tanh(), scale=3.0)}
short = {"He": "He", "Glorot": "Glorot", "N(0, 0.01²), too small": "0.01",
         "3 × LeCun, too large": "3×LeCun"}   # column headings of the table
columns = [(f"ReLU {short[name]}", stds) for name, (stds, _) in relu_runs.items()]
columns += [(f"tanh {short[name]}", stds) for name, (stds, _) in tanh_runs.items()]
print(f"std of the activations after each layer, {n_samples:,} random inputs:")
print("layer" + "".join(f"{heading:>13}" for heading, _ in columns))
for i in range(depth):
    print(f"{i + 1:5d}" + "".join(f"{stds[i]:13.1e}" for _, stds in columns))
print("tanh units saturated (|a| > 0.99) in the last layer: "
      + ", ".join(f"{short[k]} {sat[-1]:.0%}" for k, (_, sat) in tanh_runs.items()))

# %% mystnb={"figure": {"caption": "Standard deviation of the activations after each of 10 dense layers of width 256, for several initial weight scales: ReLU stacks (left) and tanh stacks (right), log scale.", "name": "fig-02-init-depth"}}
fig = Figure(figsize=(8.8, 4.2), layout="constrained")
axes = fig.subplots(1, 2)
layers = np.arange(1, depth + 1)
colour = {"He": "C0", "Glorot": "C1", "N(0, 0.01²), too small": "C2",
          "3 × LeCun, too large": "C3"}   # one colour per initialization, both panels
panels = (("dense + ReLU", relu_runs), ("dense + tanh", tanh_runs))
for ax, (title, runs) in zip(axes, panels):
    for name, (stds, _) in runs.items():
        ax.plot(layers, stds, marker="o", ms=4, color=colour[name], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("std of the activations")
    ax.set_title(f"10 layers of {title}, width {width}")
    ax.set_xticks(layers)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
plots.save_figure(fig, FIGURES / "02_init_depth.png")

# %% [markdown]
# {numref}`fig-02-init-depth`, left, ReLU: with He's scale the activations keep their
# size through all 10 layers. Glorot's variance is half of He's here ($2/(256 + 256) =
# 1/256$), so each layer loses a factor $\sqrt 2$ of the std, and the ratio between two
# layers sits near $1/\sqrt 2 \approx 0.71$. With the small fixed scale 0.01 each layer
# multiplies the std by about $0.01 \sqrt{256/2} \approx 0.11$: after 10 layers nothing
# is left. Right, tanh: with Glorot's scale the std drifts down slowly (tanh squashes a
# little at every layer), but does not collapse; the small scale collapses it again, and
# a scale three times too large pushes many units to $\pm 1$, where tanh is flat
# (**saturated**: lesson 3 shows why a saturated unit stops learning). The checks:

# %%
he, glorot, small = (relu_runs[k][0] for k in relu_runs)
print(f"ReLU, He: largest/smallest std over the 10 layers {he.max() / he.min():.2f}")
print(f"ReLU, Glorot: std ratio per layer {np.mean(glorot[1:] / glorot[:-1]):.3f}")
print(f"ReLU, too small: last/first std {small[-1] / small[0]:.1e}")
assert he.max() / he.min() < 2                            # He keeps the signal's size
assert abs(np.mean(glorot[1:] / glorot[:-1]) - 1 / np.sqrt(2)) < 0.1
assert small[-1] / small[0] < 1e-3                        # a too-small init collapses
t_glorot, t_small, t_large = (tanh_runs[k] for k in tanh_runs)
assert t_glorot[0][-1] > 0.1 and t_glorot[1][-1] < 0.05   # alive, hardly saturated
assert t_small[0][-1] / t_small[0][0] < 1e-3
assert t_large[1][-1] > 0.2                               # > 20% of units stuck near ±1

# %% [markdown]
# tinyae's autoencoders pick the initialization from the activation that follows the
# layer: He before ReLU, Glorot otherwise. In the model of lesson 1 (`model.modules()`
# walks through the model and every module inside it, in order):

# %%
dense_layers = [m for m in model.modules() if isinstance(m, ta.Dense)]
for layer_, follows in zip(dense_layers, ("ReLU", "sigmoid")):
    print(f"{layer_!r:18s} followed by {follows:8s} init={layer_.init!r}")
assert [m.init for m in dense_layers] == ["he", "glorot"]

# %% [markdown]
# ## Summary
#
# - A dense layer computes $y = xW + b$: $x$ is $(N, n_\text{in})$ with one sample per
#   row, $W$ is $(n_\text{in}, n_\text{out})$, $b$ is $(n_\text{out},)$ and is added to
#   every row. It has $n_\text{in} n_\text{out} + n_\text{out}$ parameters.
# - The rows of a batch do not interact: a sample gives the same output alone or in a
#   batch.
# - The column convention $y = W'x + b$ of many texts is the same layer with $W' =
#   W^\top$.
# - Weights start random to break the symmetry between units, and with a variance chosen
#   so the signal keeps its size through depth: $2/n_\text{in}$ (He) before ReLU,
#   $2/(n_\text{in} + n_\text{out})$ (Glorot) before tanh and sigmoid. Too small, and
#   the signal vanishes geometrically; too large, and tanh units saturate.
#
# ## Exercises
#
# 1. Repeat the ReLU experiment with `init="lecun"` ($s^2 = 1/n_\text{in}$). Predict the
#    std ratio per layer before you run it.
# 2. Build the stack with widths that change, e.g. 256 → 64 → 256 → ..., and compare He
#    with a version using $2/n_\text{out}$. Which one keeps the forward signal's size?
# 3. Why is it fine to start every *bias* at zero, when starting every weight at zero is
#    not?
