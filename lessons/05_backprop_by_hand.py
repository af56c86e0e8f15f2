# %% [markdown]
# # Lesson 5: Backpropagation by hand
#
# Training moves every weight a small step in the direction that lowers the loss. That
# direction is the **gradient**: the derivative of the loss with respect to each weight.
# This lesson derives it for the shallow autoencoder of the textbooks,
#
# $$\hat x = \sigma\bigl(W_2\, \sigma(W_1 x + b_1) + b_2\bigr),$$
#
# one derivative at a time, with the shape of every array; writes the result in plain
# NumPy; and checks it twice: against tinyae's own backward pass, and against the loss
# itself, nudged weight by weight.
#
# ## Objectives
#
# - Derive every gradient of the shallow sigmoid autoencoder with the chain rule, in
#   tinyae's row convention, and know how it reads in the column convention of
#   textbooks.
# - See the pattern of **backpropagation**: one backward step per forward step, in
#   reverse order, each a matrix product or an elementwise product whose shapes fit only
#   one way.
# - Write the backward pass in 10 lines of NumPy, match it with
#   `model.loss_and_backward`, and pass `ta.gradcheck.check_model`.
# - Train the model with your own gradients.
#
# ## Prerequisites
#
# Lessons 2 to 4: the dense layer $y = xW + b$ and the row/column conventions, the
# sigmoid and $\sigma' = \sigma(1 - \sigma)$, the MSE loss $L = \frac1N\sum_n\sum_j(\hat
# x_{nj} - x_{nj})^2$ and its gradient $2(\hat x - x)/N$, and the fused cross-entropy
# gradient $(\hat x - x)/N$. The chain rule for functions of several variables.

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

X, _ = ta.load_digits()
X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
print(f"training digits {X_train.shape}")

# %% [markdown]
# ## 1. The forward pass, with shapes
#
# A batch $x$ holds $N$ images of $D = 64$ pixels, one per row; the code has $H = 16$
# units. In tinyae's row convention the model is
#
# $$\begin{aligned}
# z_1 &= x W_1 + b_1        &&(N, H) &&W_1 : (D, H),\ b_1 : (H,)\\
# h   &= \sigma(z_1)        &&(N, H) &&\text{the code}\\
# z_2 &= h W_2 + b_2        &&(N, D) &&W_2 : (H, D),\ b_2 : (D,)\\
# \hat x &= \sigma(z_2)     &&(N, D) &&\text{the reconstruction}\\
# L &= \tfrac1N \textstyle\sum_{n,j} (\hat x_{nj} - x_{nj})^2 &&\text{a number}
# \end{aligned}$$
#
# (Lesson 1 called the code $z$; here, as in lessons 2 and 3, $z$ is the input of an
# activation, and the code is $h$.) The batch loss $L$ is the mean of the **per-sample
# losses** $\ell_n = \sum_j (\hat x_{nj} - x_{nj})^2$, the losses of the images one by
# one (lesson 4's $\ell$): $L = \frac1N \sum_n \ell_n$. `ta.Autoencoder.shallow(64, 16,
# hidden="sigmoid")` builds exactly this model. `model.named_parameters()` yields
# `(name, parameter, gradient)` for each of its four arrays: `"encoder.0.W"` is $W_1$
# (layer 0 of the encoder), `"decoder.0.W"` is $W_2$.

# %%
model = ta.Autoencoder.shallow(64, 16, hidden="sigmoid", seed=0)
print(model)
names = {"encoder.0.W": "W1", "encoder.0.b": "b1",
         "decoder.0.W": "W2", "decoder.0.b": "b2"}
# our own copies of the four arrays, under the names of the math
params = {names[name]: p.copy() for name, p, _ in model.named_parameters()}
for name, p in params.items():
    print(f"{name}: {p.shape}")

x = X_train[:10]                                # a batch of N = 10 images


def sigmoid(z):
    return 1 / (1 + np.exp(-z))                 # safe here: |z| stays far below 700


def forward_by_hand(x, params):
    """The forward pass; returns the loss and what the backward pass will need."""
    z1 = x @ params["W1"] + params["b1"]
    h = sigmoid(z1)
    z2 = h @ params["W2"] + params["b2"]
    x_hat = sigmoid(z2)
    loss = np.sum((x_hat - x) ** 2) / len(x)
    return loss, (h, x_hat)


loss, (h, x_hat) = forward_by_hand(x, params)
print(f"loss by hand {loss:.10f}; tinyae {ta.MSE().forward(model.forward(x), x):.10f}")
assert np.allclose(x_hat, model.forward(x), rtol=1e-12)

# %% [markdown]
# ## 2. The backward pass, one derivative at a time
#
# Write $\delta v = \partial L / \partial v$ for the gradient of the loss with respect
# to any array $v$. It has the shape of $v$: each entry says how fast $L$ changes when
# that entry of $v$ moves. We go through the forward pass backwards, and each step uses
# the gradient of the step after it.
#
# **Loss.** Differentiating $L = \frac1N\sum(\hat x - x)^2$ entry by entry (lesson 4):
#
# $$\delta\hat x = \frac{2}{N}(\hat x - x) \qquad (N, D).$$
#
# **Output sigmoid.** $\hat x_{nj} = \sigma(z_{2,nj})$ depends only on $z_{2,nj}$, so
# the chain rule is an elementwise product with $\sigma' = \hat x(1 - \hat x)$ (lesson
# 3):
#
# $$\delta z_2 = \delta\hat x \odot \hat x \odot (1 - \hat x) \qquad (N, D).$$
#
# **Second dense layer.** $z_{2,nj} = \sum_i h_{ni} W_{2,ij} + b_{2,j}$. The weight
# $W_{2,ij}$ appears in $z_{2,nj}$ for every sample $n$, with coefficient $h_{ni}$, so
# its effects add up over the batch:
#
# $$\delta W_{2,ij} = \sum_n \delta z_{2,nj}\, h_{ni}
# \quad\Longleftrightarrow\quad \delta W_2 = h^\top \delta z_2
# \qquad (H, N)(N, D) = (H, D).$$
#
# The bias $b_{2,j}$ appears in every $z_{2,nj}$ with coefficient 1:
#
# $$\delta b_2 = \sum_n \delta z_{2,n} \qquad (D,).$$
#
# The code $h_{ni}$ appears in every $z_{2,nj}$, $j = 1..D$, with coefficient
# $W_{2,ij}$:
#
# $$\delta h_{ni} = \sum_j \delta z_{2,nj}\, W_{2,ij}
# \quad\Longleftrightarrow\quad \delta h = \delta z_2 W_2^\top
# \qquad (N, D)(D, H) = (N, H).$$
#
# **Hidden sigmoid**, the same rule as at the output, with $\sigma' = h(1 - h)$:
#
# $$\delta z_1 = \delta h \odot h \odot (1 - h) \qquad (N, H).$$
#
# **First dense layer**, the same rules as the second, with $x$ in the place of $h$:
#
# $$\delta W_1 = x^\top \delta z_1 \quad (D, H), \qquad
# \delta b_1 = \sum_n \delta z_{1,n} \quad (H,).$$
#
# ($\delta x = \delta z_1 W_1^\top$ would continue to earlier layers; here $x$ is the
# data, not something we learn, so we stop.)
#
# This is **backpropagation**: the gradient flows from the loss back to the input, and
# every forward step has one backward step. A dense layer sends back $\delta y\, W^\top$
# and keeps $x^\top \delta y$ and $\sum_n \delta y_n$ for its weights; an activation
# multiplies by its derivative. When unsure of an order or a transpose, the shapes
# decide: $\delta W_2$ must be $(H, D)$ like $W_2$, and from $h$ $(N, H)$ and $\delta
# z_2$ $(N, D)$ only $h^\top \delta z_2$ gives it.
#
# **The column convention.** Textbooks write one sample as a column vector and the model
# as $\hat x = \sigma(W_2' \sigma(W_1' x + b_1) + b_2)$, with $W_1' = W_1^\top$ of shape
# $(H, D)$ and $W_2' = W_2^\top$ of shape $(D, H)$ (lesson 2). They differentiate the
# loss of one sample, $\ell_n$, and write $x_n$, $h_n$, $z_{1,n}$, $z_{2,n}$,
# $\hat x_n$ for the columns of sample $n$. Their backward pass starts from
# $\partial \ell_n / \partial z_{2,n} = 2(\hat x_n - x_n) \odot \hat x_n \odot
# (1 - \hat x_n)$, a $(D \times 1)$ column (many texts name it $\delta_2$; here $\delta$
# is kept for gradients of the batch loss $L$), and reads
#
# $$\begin{aligned}
# \frac{\partial \ell_n}{\partial W_2'} &= \frac{\partial \ell_n}{\partial z_{2,n}}\,
# h_n^\top &&(D \times 1)(1 \times H) = (D \times H),\\
# \frac{\partial \ell_n}{\partial z_{1,n}} &= \Bigl(W_2'^\top
# \frac{\partial \ell_n}{\partial z_{2,n}}\Bigr) \odot h_n \odot (1 - h_n)
# &&(H \times 1),\\
# \frac{\partial \ell_n}{\partial W_1'} &= \frac{\partial \ell_n}{\partial z_{1,n}}\,
# x_n^\top &&(H \times 1)(1 \times D) = (H \times D):
# \end{aligned}$$
#
# an outer product per sample. tinyae's loss is the **mean** over the batch,
# $L = \frac1N \sum_n \ell_n$, and $z_{2,n}$ enters only $\ell_n$, so row $n$ of
# $\delta z_2$ is $\frac1N (\partial \ell_n / \partial z_{2,n})^\top$. *Averaging* the
# outer products over the batch therefore gives exactly the transpose of our matrix
# product,
#
# $$\frac1N \sum_n \frac{\partial \ell_n}{\partial W_2'}
# = \frac1N \sum_n \frac{\partial \ell_n}{\partial z_{2,n}}\, h_n^\top
# = \bigl(h^\top \delta z_2\bigr)^\top = \delta W_2^\top,$$
#
# and their plain sum is $N\,\delta W_2^\top$, the gradient of the summed loss
# $\sum_n \ell_n$. We check both below.
#
# ## 3. The same, in NumPy

# %%
def backward_by_hand(x, params, h, x_hat, loss="mse"):
    """Gradients of L for W1, b1, W2, b2, from the h and x_hat of the forward pass."""
    N = len(x)
    if loss == "mse":
        dx_hat = 2 * (x_hat - x) / N                 # (N, D)
        dz2 = dx_hat * x_hat * (1 - x_hat)           # (N, D)
    else:                                  # fused sigmoid + cross-entropy (lesson 4)
        dz2 = (x_hat - x) / N                        # (N, D)
    dW2 = h.T @ dz2                                  # (H, N)(N, D) = (H, D)
    db2 = dz2.sum(axis=0)                            # (D,)
    dh = dz2 @ params["W2"].T                        # (N, D)(D, H) = (N, H)
    dz1 = dh * h * (1 - h)                           # (N, H)
    dW1 = x.T @ dz1                                  # (D, N)(N, H) = (D, H)
    db1 = dz1.sum(axis=0)                            # (H,)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


grads = backward_by_hand(x, params, h, x_hat)
for name, g in grads.items():
    print(f"d{name}: {g.shape}  (the shape of {name}: {params[name].shape})")
    assert g.shape == params[name].shape

# %% [markdown]
# ## 4. Check 1: against tinyae's backward pass
#
# `model.loss_and_backward(x, target, loss)` runs the forward pass, the loss, and the
# backward pass of every layer (the `backward` method of each module, like the
# activations' in lesson 3, called in reverse order), filling the gradients that
# `named_parameters()` yields. Our gradients must be
# the same numbers, to rounding.

# %%
def relative_difference(a, b):
    """Largest entry of |a − b|, relative to the largest entry of |b|."""
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def compare_with_tinyae(loss_name, loss_object):
    loss_value, (h, x_hat) = forward_by_hand(x, params)
    mine = backward_by_hand(x, params, h, x_hat, loss=loss_name)
    model.loss_and_backward(x, x, loss_object)
    theirs = {names[name]: g.copy() for name, _, g in model.named_parameters()}
    print(f"{loss_name}: relative difference, by hand vs tinyae:")
    for name in mine:
        diff = relative_difference(mine[name], theirs[name])
        print(f"  d{name:3s} {diff:.1e}")
        assert diff < 1e-10, f"d{name} differs from tinyae's by {diff:.1e}"
    return mine, theirs


mine, theirs = compare_with_tinyae("mse", ta.MSE())

# %% [markdown]
# With the cross-entropy loss and a sigmoid output, tinyae fuses the two (lesson 4), and
# the gradient entering the last dense layer is $\delta z_2 = (\hat x - x)/N$;
# everything after that line of the backward pass is unchanged:

# %%
mine_bce, theirs_bce = compare_with_tinyae("bce", ta.BinaryCrossEntropy())

# %% [markdown]
# And the column convention, one sample at a time, from the per-sample loss $\ell_n$:
# the mean of the outer products
# $\frac{\partial \ell_n}{\partial z_{2,n}} h_n^\top$ is $\delta W_2^\top$, and their
# sum is $N$ times it.

# %%
sum_of_outer = np.zeros((64, 16))            # Σ_n dℓ_n/dW2', shape (D, H)
for n in range(len(x)):
    x_n = x[n].reshape(64, 1)                # the columns of sample n: (D, 1) ...
    x_hat_n = x_hat[n].reshape(64, 1)
    h_n = h[n].reshape(16, 1)                # ... and (H, 1)
    dl_dz2 = 2 * (x_hat_n - x_n) * x_hat_n * (1 - x_hat_n)   # dℓ_n/dz_2,n: (D, 1)
    sum_of_outer += dl_dz2 @ h_n.T           # outer product (D, 1)(1, H) = (D, H)
mean_of_outer = sum_of_outer / len(x)        # L is the mean of the ℓ_n
print("column convention: relative difference of the mean of dℓ_n/dW2' and dW2ᵀ "
      f"{relative_difference(mean_of_outer, mine['W2'].T):.1e}")
print(f"their sum is {np.mean(sum_of_outer / mine['W2'].T):.1f} times dW2ᵀ, "
      f"for N = {len(x)}")
assert relative_difference(mean_of_outer, mine["W2"].T) < 1e-12
assert np.allclose(sum_of_outer, len(x) * mine["W2"].T, rtol=1e-10)

# %% [markdown]
# {numref}`fig-05-hand-vs-tinyae` puts every entry of our gradients against tinyae's.

# %% mystnb={"figure": {"caption": "Every entry of the four gradients of the MSE loss, computed by hand (vertical) against tinyae's backward pass (horizontal): all lie on the diagonal.", "name": "fig-05-hand-vs-tinyae"}}
fig = Figure(figsize=(8.8, 2.5), layout="constrained")
axes = fig.subplots(1, 4)
for ax, name in zip(axes, mine):
    a, b = theirs[name].ravel(), mine[name].ravel()
    lim = 1.05 * np.max(np.abs(a))
    ax.plot([-lim, lim], [-lim, lim], color="gray", lw=0.8)
    ax.scatter(a, b, s=6, alpha=0.6)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(f"d{name}: {a.size} entries")
    ax.set_xlabel("tinyae")
    ax.set_ylabel("by hand")
    ax.ticklabel_format(style="sci", scilimits=(-2, 2))
fig.suptitle("Every gradient entry, by hand vs tinyae (MSE)")
plots.save_figure(fig, FIGURES / "05_hand_vs_tinyae.png")

# %% [markdown]
# ## 5. Check 2: against the loss itself
#
# Agreeing with tinyae proves we made the same derivation, not that it is right. An
# independent check uses only the forward pass: nudge one weight $w$ by $\pm\epsilon$,
# a tiny step ($\epsilon = 10^{-5}$), recompute the loss, and the slope
# $(L(w + \epsilon) - L(w - \epsilon))/2\epsilon$ should equal that weight's gradient.
# `ta.gradcheck.check_model` does this for every weight of the model and reports, per
# parameter, the largest disagreement relative to the size of the gradient; it passes
# below $10^{-7}$. Lesson 6 explains the method and its limits. (There the step is
# called $h$, like the checker's argument `h=`: no hidden code $h$ appears in that
# lesson, and $\varepsilon$ is taken by the machine epsilon.)

# %%
report = ta.gradcheck.check_model(model, x, ta.MSE())
print(report)
assert report.passed

# %% [markdown]
# ## 6. Training with your own gradients
#
# Gradients are all training needs. Plain **gradient descent** repeats: compute the
# gradients on the training batch, then move every parameter a step against its
# gradient, $W \leftarrow W - \eta\,\delta W$, with a step size $\eta$ (the learning
# rate). We run it twice from the same start: once with our functions, once with
# tinyae's `loss_and_backward` (its `model.parameters()` lists the `(parameter,
# gradient)` pairs, the arrays of `named_parameters()` without the names). The two runs
# must follow the same path.

# %%
steps = 40 if FAST else 300
lr = 2.0
x_batch = X_train[:300]
ours = {k: v.copy() for k, v in params.items()}
twin = ta.Autoencoder.shallow(64, 16, hidden="sigmoid", seed=0)   # the same start
curve_ours, curve_tinyae = [], []
for _ in range(steps):
    loss, (h, x_hat) = forward_by_hand(x_batch, ours)
    g = backward_by_hand(x_batch, ours, h, x_hat)
    for k in ours:
        ours[k] -= lr * g[k]
    curve_ours.append(loss)
    curve_tinyae.append(twin.loss_and_backward(x_batch, x_batch, ta.MSE()))
    for p, grad in twin.parameters():
        p -= lr * grad
curve_ours, curve_tinyae = np.array(curve_ours), np.array(curve_tinyae)
test_loss, _ = forward_by_hand(X_test, ours)
rises = int(np.sum(np.diff(curve_ours) > 0))
print(f"{steps} steps of gradient descent: loss {curve_ours[0]:.3f} -> "
      f"{curve_ours[-1]:.3f}; largest gap to tinyae's run "
      f"{np.max(np.abs(curve_ours - curve_tinyae)):.1e}")
print(f"test squared error per image {test_loss:.3f} "
      f"(tinyae's twin: {twin.evaluate(X_test, 'mse'):.3f})")
print(f"steps after which the loss was higher than before: {rises} of {steps}")
assert curve_ours[-1] < 0.5 * curve_ours[0]               # our gradients train
assert np.allclose(curve_ours, curve_tinyae, rtol=1e-8)   # ... exactly like tinyae's
assert rises > 0                                          # some steps overshoot

# %% mystnb={"figure": {"caption": "The training loss of plain gradient descent with our hand-written gradients and with tinyae's: the two curves coincide.", "name": "fig-05-gradient-descent"}}
fig = Figure(figsize=(6.5, 4), layout="constrained")
ax = fig.subplots()
ax.plot(np.arange(1, steps + 1), curve_ours, lw=3, alpha=0.5, label="our backward pass")
ax.plot(np.arange(1, steps + 1), curve_tinyae, "k--", lw=1,
        label="tinyae's backward pass")
ax.set_yscale("log")
ax.set_xlabel("gradient descent step (the whole batch of 300 digits)")
ax.set_ylabel("squared error per image")
ax.set_title(f"Gradient descent with hand-written gradients (η = {lr})")
ax.grid(alpha=0.3, which="both")
ax.legend()
plots.save_figure(fig, FIGURES / "05_hand_gradient_descent.png")

# %% [markdown]
# The loss falls far below the error of the random start (the numbers are printed
# above), and both runs trace the same curve ({numref}`fig-05-gradient-descent`). The
# bumps are steps that overshoot (the count is printed above), a sign
# that $\eta$ is on the large side (lesson 7 studies the learning rate). `model.fit`
# does the same with two refinements that lesson 7 explains: it takes its steps on small
# random batches, and it uses a better step rule (Adam) than plain gradient descent.
#
# ## Summary
#
# - Backpropagation is the chain rule applied from the loss back to the input, one
#   backward step per forward step: $\delta\hat x = 2(\hat x - x)/N$; $\delta z_2 =
#   \delta\hat x \odot \hat x(1 - \hat x)$; $\delta W_2 = h^\top\delta z_2$, $\delta b_2
#   = \sum_n \delta z_2$, $\delta h = \delta z_2 W_2^\top$; $\delta z_1 = \delta h \odot
#   h(1 - h)$; $\delta W_1 = x^\top\delta z_1$, $\delta b_1 = \sum_n \delta z_1$.
# - Every gradient has the shape of its variable, and the shapes leave one way to write
#   each product. The column convention's per-sample outer products
#   $\frac{\partial \ell_n}{\partial z_{2,n}} h_n^\top$, averaged over the batch (the
#   loss is a mean), give $\delta W_2^\top$.
# - With the fused cross-entropy, $\delta z_2 = (\hat x - x)/N$ and the rest is the
#   same.
# - Our 10 lines match tinyae's `loss_and_backward` to rounding, pass
#   `ta.gradcheck.check_model`, and train the model.
#
# ## Exercises
#
# 1. Replace the hidden sigmoid with ReLU: which single line of `backward_by_hand`
#    changes, and to what? Check it against `ta.Autoencoder.shallow(64, 16,
#    hidden="relu")`.
# 2. Plant a mistake: drop the `/ N`, or write `dz2 @ params["W2"]` (no transpose).
#    Which one does Python catch for you, and which one only a check catches? How large
#    is the relative difference?
# 3. **Tied weights** use $W_2 = W_1^\top$: one matrix, used twice. Derive its gradient.
#
#    :::{admonition} Hint
#    :class: dropdown
#    It is the sum of the two contributions, $x^\top\delta z_1 + (h^\top\delta
#    z_2)^\top$.
#    :::
