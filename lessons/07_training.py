# %% [markdown]
# # Lesson 7: Training
#
# We can now compute a loss and its exact gradient (lessons 4–6). Training turns that
# gradient into better weights, one small step at a time. This lesson writes the
# training loop out in full, then looks at the choices that decide whether it works: the
# optimizer, the learning rate, and when to stop.
#
# ## Objectives
#
# - Write the **minibatch training loop** line by line, and show that it gives
#   bit-identical weights to `model.fit` with the same seed.
# - Compare three optimizers, **SGD**, **SGD with momentum** and **Adam**, on the same
#   problem.
# - Recognise a **learning rate** that is too small, about right, or too large, and what
#   tinyae does when training **diverges**.
# - Read **training versus validation** curves, produce **overfitting** on purpose, and
#   stop early.
#
# ## Prerequisites
#
# Lessons 1–6: the digits and `train_test_split`, `Autoencoder.shallow`, the MSE loss
# ("squared error per image"), `model.loss_and_backward(x, target, loss)`, and the
# `(param, grad)` pairs of `model.parameters()`.

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
from tinyae.errors import DivergenceError

X, y = ta.load_digits()
X_train, X_val = ta.train_test_split(X, test_size=0.2, seed=0)
EPOCHS = 12 if FAST else 40
print(f"training digits {X_train.shape}, validation digits {X_val.shape}, "
      f"{EPOCHS} epochs per run")

# %% [markdown]
# The 20% we hold out is the **validation set**. The model never trains on it; we only
# measure its error there, to see how well the model does on digits it has not seen.
#
# ## 1. Gradient descent, one minibatch at a time
#
# Training minimises the loss over the training set, $L(\theta)$, where $\theta$ stands
# for all the weights and biases. **Gradient descent** repeats one step:
#
# $$\theta \leftarrow \theta - \eta\, \nabla_\theta L(\theta),$$
#
# moving every parameter a little against its gradient. The step size $\eta > 0$ is the
# **learning rate**. Computing $\nabla L$ over all 1,437 training digits for every step
# is wasteful, because a random **minibatch** of, say, 64 digits gives a noisy but
# unbiased estimate of the same gradient at a twentieth of the cost. Our losses average
# over the batch (lesson 4), so a minibatch loss is on the same scale as the full one.
# One pass over the training set, in a fresh random order, is an **epoch**.
#
# The update rule lives in an **optimizer** object. `optimizer.step(model.parameters())`
# receives every `(param, grad)` pair and changes the parameters *in place*. The model's
# arrays are never replaced, so the layers keep seeing their own weights. Here is the
# whole loop:

# %%
def train_by_hand(model, X, optimizer, epochs, batch_size, seed):
    """Minibatch training, written out. Returns the mean training loss of each epoch."""
    rng = np.random.default_rng(seed)
    n_batches = -(-len(X) // batch_size)      # ceil(N / batch_size): last one smaller
    epoch_losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))             # a fresh random order every epoch
        total = 0.0
        for b in range(n_batches):
            x = X[order[b * batch_size:(b + 1) * batch_size]]   # one minibatch (a copy)
            loss = model.loss_and_backward(x, x, "mse")    # forward, loss, backward
            optimizer.step(model.parameters())             # update W and b in place
            total += loss * len(x)                               # loss is a batch mean
        epoch_losses.append(total / len(X))         # mean squared error per image
    return epoch_losses


by_hand = ta.Autoencoder.shallow(64, 16, seed=0)
losses_by_hand = train_by_hand(by_hand, X_train, ta.SGD(lr=0.1, momentum=0.9),
                               epochs=3, batch_size=64, seed=0)

by_fit = ta.Autoencoder.shallow(64, 16, seed=0)
history = by_fit.fit(X_train, loss="mse", optimizer=ta.SGD(lr=0.1, momentum=0.9),
                     epochs=3, batch_size=64, seed=0, verbose=0)

print("by hand:", [f"{v:.6f}" for v in losses_by_hand])
print("fit:    ", [f"{v:.6f}" for v in history.train_loss])
same = all(np.array_equal(p, q) for (p, _), (q, _) in zip(by_hand.parameters(),
                                                          by_fit.parameters()))
print("all parameters bit-identical:", same)
assert same and losses_by_hand == history.train_loss

# %% [markdown]
# Same seed, same order of minibatches, same arithmetic: the same bits. `fit` adds only
# bookkeeping around these lines: the validation loss after each epoch, a progress
# line, early stopping (section 4), and a check that stops training when the loss stops
# being a finite number (section 3).
#
# The epoch loss is the average of the minibatch losses *while the weights were
# changing*. It lags a little behind the model at the end of the epoch. The validation
# loss is measured once, after the epoch.
#
# ## 2. Three optimizers
#
# With $g = \nabla_\theta L$ on the current minibatch:
#
# - **SGD** (stochastic gradient descent): $\theta \leftarrow \theta - \eta g$.
# - **SGD with momentum** $\mu$ (e.g. 0.9): a velocity $v$ accumulates past gradients,
#   $v \leftarrow \mu v + g$, $\theta \leftarrow \theta - \eta v$. Along a direction
#   where the gradient keeps its sign, the steps grow to up to $1/(1-\mu) = 10$ times
#   $\eta g$. Along a direction where it flips sign, the terms cancel. Progress is
#   faster along long, shallow valleys, with less zig-zag across them.
# - **Adam** (Kingma & Ba, 2015) keeps running means of the gradient and of its square,
#   $m \leftarrow \beta_1 m + (1-\beta_1) g$ and $v \leftarrow \beta_2 v + (1-\beta_2)
#   g^2$. It corrects them for starting at 0, $\hat m = m/(1-\beta_1^t)$ and $\hat v =
#   v/(1-\beta_2^t)$ at step $t$, and steps by $\theta \leftarrow \theta - \eta\, \hat m
#   / (\sqrt{\hat v} + \epsilon)$. Every parameter gets its own step size: about $\eta$,
#   whatever the size of its gradient.
#
# Each has its own good learning rate, so a fair comparison tries a few rates for each
# and keeps the best. Every run starts from the same initial weights (`seed=0`) and sees
# the minibatches in the same order.

# %%
candidates = {
    "SGD": (lambda lr: ta.SGD(lr), [0.03, 0.1, 0.3, 1.0]),
    "SGD + momentum 0.9": (lambda lr: ta.SGD(lr, momentum=0.9), [0.01, 0.03, 0.1, 0.3]),
    "Adam": (lambda lr: ta.Adam(lr), [1e-3, 3e-3, 1e-2, 3e-2]),
}
best = {}
for name, (make, rates) in candidates.items():
    for lr in rates:
        model = ta.Autoencoder.shallow(64, 16, seed=0)
        h = model.fit(X_train, loss="mse", optimizer=make(lr), epochs=EPOCHS,
                      batch_size=64, validation_data=X_val, seed=0, verbose=0)
        print(f"{name:<20} lr {lr:<6g} validation error {h.val_loss[-1]:.3f}")
        if name not in best or h.val_loss[-1] < best[name][1].val_loss[-1]:
            best[name] = (lr, h)

# %% [markdown]
# {numref}`fig-07-optimizers` shows the best run of each optimizer.

# %% mystnb={"figure": {"caption": "Validation error (solid) and training error (dashed, averaged during each epoch) of the three optimizers, each at its best learning rate.", "name": "fig-07-optimizers"}}
fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.subplots()
epochs = np.arange(1, EPOCHS + 1)
for name, (lr, h) in best.items():
    line, = ax.plot(epochs, h.val_loss, marker="o", ms=3,
                    label=f"{name}, lr {lr:g}: {h.val_loss[-1]:.3f} at the end")
    ax.plot(epochs, h.train_loss, ls="--", color=line.get_color(), lw=1)
ax.set_xlabel("epoch")
ax.set_ylabel("squared error per image")
ax.set_title("Each optimizer at its best learning rate\n"
             "(solid: validation, dashed: training, averaged during the epoch)")
ax.grid(alpha=0.3)
ax.legend()
plots.save_figure(fig, FIGURES / "07_optimizers.png")

# %%
final = {name: h.val_loss[-1] for name, (lr, h) in best.items()}
for name, value in final.items():
    print(f"{name:<20} best lr {best[name][0]:<6g} final validation error {value:.3f}")
assert final["SGD + momentum 0.9"] < final["SGD"] and final["Adam"] < final["SGD"]
assert best["Adam"][0] > 1e-3            # larger than fit's default Adam(lr=1e-3)

# %% [markdown]
# In the same number of epochs, both momentum and Adam end below plain SGD, each at its
# own best rate. (Which of the two wins depends on the problem and the budget; run it
# with more epochs and see.) Adam with `lr=1e-3` is `fit`'s default optimizer, a common
# and safe starting point; note that Adam's best rate on this problem is larger than
# that.
#
# ## 3. The learning rate: too small, about right, too large
#
# Plain SGD, three rates a factor of 10–30 apart ({numref}`fig-07-learning-rates`):

# %%
rates = {"too small": 0.01, "about right": 0.3, "too large": 3.0}
runs = {}
for label, lr in rates.items():
    model = ta.Autoencoder.shallow(64, 16, seed=0)
    h = model.fit(X_train, loss="mse", optimizer=ta.SGD(lr), epochs=EPOCHS,
                  batch_size=64, validation_data=X_val, seed=0, verbose=0)
    runs[label] = (model, h)
    print(f"{label:<12} lr {lr:<5g} training error {h.train_loss[-1]:.3f}")
variance = X_train.var(axis=0).sum()

# %% mystnb={"figure": {"caption": "Training error of plain SGD with three learning rates; the dotted line is the error of always answering the mean image.", "name": "fig-07-learning-rates"}}
fig = Figure(figsize=(7, 4.5), layout="constrained")
ax = fig.subplots()
for label, (_, h) in runs.items():
    ax.plot(epochs, h.train_loss, marker="o", ms=3,
            label=f"{label} (lr {rates[label]:g})")
ax.axhline(variance, color="k", ls=":", lw=1)
ax.text(EPOCHS, variance * 1.04, "error of always answering the mean image",
        fontsize=9, ha="right", va="bottom")
ax.set_xlabel("epoch")
ax.set_ylabel("training error per image")
ax.set_title("Plain SGD with three learning rates")
ax.grid(alpha=0.3)
ax.legend()
plots.save_figure(fig, FIGURES / "07_learning_rates.png")

# %% [markdown]
# - **Too small**: every step is safe but tiny. The loss is still falling at the end,
#   far above that of the rate about right.
# - **Too large**: the first steps overshoot so far that the code units stop working. A
#   ReLU unit whose pre-activation is negative for *every* input outputs 0 and gets zero
#   gradient. It is **dead**, and no later step can revive it. With all code units dead
#   the code is always 0, and the decoder can only learn one image for every input. The
#   best such image is the mean image, whose squared error per image is the total
#   variance $\sum_j \operatorname{Var}(x_j)$ (the dotted line).
#
# We check both claims on the numbers:

# %%
def dead_fraction(model, X):
    """Fraction of code units that are 0 for every image in X."""
    return float(np.mean(np.all(model.encode(X) <= 0, axis=0)))


for label, (model, h) in runs.items():
    print(f"{label:<12} dead code units {dead_fraction(model, X_train):5.0%}, "
          f"final error {h.train_loss[-1]:.3f}")
print(f"total variance of the training digits: {variance:.3f}")
small, right, large = (runs[k][1].train_loss[-1] for k in rates)
assert right < small and right < large
assert small > 2 * right                                 # far above the right rate's
assert runs["too small"][1].train_loss[-2] > small       # still falling at the end
assert dead_fraction(runs["too large"][0], X_train) == 1.0
assert abs(large - variance) / variance < 0.05

# %% [markdown]
# Here the sigmoid output keeps every reconstruction in $[0, 1]$, so even a wild step
# cannot make the loss infinite. Without that bound a large rate can make the loss blow
# up until it overflows to infinity or becomes NaN ("not a number"). Then every later
# step is garbage. `fit` checks the loss and the gradients before every step. If one is
# not finite it raises a `DivergenceError` (from `tinyae.errors`), which names the
# epoch, the batch and the rate, and the model keeps its last finite parameters. A model
# with an identity output and a rate of 10:

# %%
model = ta.Autoencoder.shallow(64, 16, output="identity", seed=0)
try:
    model.fit(X_train, loss="mse", optimizer=ta.SGD(10.0), epochs=50, verbose=0)
    diverged = False
except DivergenceError as error:
    diverged = True
    print(textwrap.fill(str(error), 88))
print("all parameters still finite:",
      all(np.isfinite(p).all() for p, _ in model.parameters()))
assert diverged
assert all(np.isfinite(p).all() for p, _ in model.parameters())

# %% [markdown]
# ## 4. Training versus validation: overfitting
#
# The training error measures how well the model reconstructs the digits it learns from;
# the validation error how well it reconstructs new ones. When the model has far more
# parameters than the data has numbers, it can **memorise** the training set. The
# training error then keeps falling while the validation error turns back up. That is
# **overfitting**.
#
# To provoke it we train a big model, `Autoencoder.deep([64, 128, 16])` (64 → 128 → 16 →
# 128 → 64; lesson 10 studies deep models), on only 100 digits. Each step uses all 100
# (`batch_size=100`), which makes the curves smooth.

# %%
few = X_train[:100]
big = ta.Autoencoder.deep([64, 128, 16], seed=0)
print(f"{big.n_parameters():,} parameters, "
      f"{few.size:,} numbers in the 100 training digits")
assert big.n_parameters() > few.size
OVERFIT_EPOCHS = 400
h = big.fit(few, loss="mse", optimizer=ta.Adam(3e-3), epochs=OVERFIT_EPOCHS,
            batch_size=100, validation_data=X_val, seed=0, verbose=0)
train, val = np.array(h.train_loss), np.array(h.val_loss)
best_epoch = int(val.argmin())
print(f"best validation error {val[best_epoch]:.3f} at epoch {best_epoch + 1}; "
      f"at the end {val[-1]:.3f}")
print(f"gap validation − training: {val[best_epoch] - train[best_epoch]:.3f} at the "
      f"best epoch, {val[-1] - train[-1]:.3f} at the end")
print(f"training error: {train[0]:.3f} at epoch 1, {train[-1]:.4f} at the end")
assert val[-1] > 1.02 * val[best_epoch]    # validation error rose after its minimum
assert train[-1] < train[best_epoch]       # while the training error kept falling
assert train[-1] < 0.01 * train[0]         # by orders of magnitude
assert val[-1] - train[-1] > val[best_epoch] - train[best_epoch]   # the gap grew

# %% mystnb={"figure": {"caption": "Training and validation error of a 64-128-16 autoencoder trained on 100 digits, log scale: the validation error reaches its minimum at the dotted line, then rises.", "name": "fig-07-overfitting"}}
fig = Figure(figsize=(6.5, 4), layout="constrained")
ax = fig.subplots()
epochs_run = np.arange(1, OVERFIT_EPOCHS + 1)
ax.plot(epochs_run, train, label="training")
ax.plot(epochs_run, val, label="validation")
ax.axvline(best_epoch + 1, color="gray", ls=":")
ax.annotate("best validation error", xy=(best_epoch + 1, val[best_epoch]),
            xytext=(best_epoch + 40, val[best_epoch] * 3), fontsize=9,
            arrowprops=dict(arrowstyle="->", color="gray"))
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("squared error per image")
ax.set_title("64-128-16 autoencoder on 100 digits: overfitting")
ax.grid(alpha=0.3, which="both")
ax.legend()
plots.save_figure(fig, FIGURES / "07_overfitting.png")

# %% [markdown]
# {numref}`fig-07-overfitting` draws the two curves of the `History`
# (`plots.plot_loss_curves(history)` draws them in one call). The training error
# falls by orders of magnitude: the model reproduces its 100 digits almost perfectly.
# The validation error stops improving early and then drifts up. The model has started
# to learn those 100 particular images rather than what digits have in common.
#
# The simplest remedy is to stop at the best validation epoch. **Early stopping**
# watches the validation error and stops when it has not improved for `patience` epochs;
# by default `ta.EarlyStopping` then copies back the weights of the best epoch. (The
# other remedies are more data, or a smaller model.)

# %%
big = ta.Autoencoder.deep([64, 128, 16], seed=0)
h = big.fit(few, loss="mse", optimizer=ta.Adam(3e-3), epochs=OVERFIT_EPOCHS,
            batch_size=100, validation_data=X_val, seed=0, verbose=0,
            early_stopping=ta.EarlyStopping(patience=30))
print(f"stopped early: {h.stopped_early} after {h.epochs} epochs; "
      f"best validation error {min(h.val_loss):.3f}")
print(f"the restored model's validation error {big.evaluate(X_val, 'mse'):.3f}")
assert h.stopped_early and h.epochs < OVERFIT_EPOCHS
assert np.isclose(big.evaluate(X_val, "mse"), min(h.val_loss), rtol=1e-12)

# %% [markdown]
# ## Summary
#
# - Training is a loop over epochs and minibatches. Shuffle with a seeded `Generator`,
#   cut the permutation into batches, call `loss_and_backward`, then
#   `optimizer.step(model.parameters())`. `fit` runs exactly this loop, bit for bit.
# - Momentum and Adam reach a lower error than plain SGD in the same number of epochs,
#   each at its own best learning rate; compare optimizers only after tuning each rate.
# - Too small a rate crawls. Too large a rate can kill every ReLU, leaving a model that
#   outputs the mean image, or make the loss blow up, which `fit` reports as a
#   `DivergenceError` and keeps the last finite weights.
# - With many parameters and few examples, training error keeps falling while validation
#   error rises: overfitting. Early stopping keeps the best validation epoch.
#
# ## Exercises
#
# 1. Change `batch_size` in `train_by_hand` to 1437 (one batch per epoch: full-batch
#    gradient descent) and to 8. How do the error after 10 epochs and the time per
#    epoch change? Which is better per second of computing?
# 2. The dead-ReLU failure needs a code made of ReLUs. Build the model with
#    `hidden="tanh"` and repeat the "too large" run. What happens now, and why?
# 3. Repeat the overfitting experiment with 1,000 training digits instead of 100.
#    Does the validation error still turn up within 400 epochs? What does that say
#    about the remedy "more data"?
