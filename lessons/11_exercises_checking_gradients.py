# %% [markdown]
# # Lesson 11: Exercises: checking your own gradients
#
# The backward passes in tinyae are derived by hand. The best way to learn them is to
# derive them yourself, and `lessons/exercises/` holds exercises that ask you to: the
# sigmoid, ReLU and tanh, the dense layer, the MSE and cross-entropy gradients, the full
# shallow autoencoder, weight decay, the sparsity penalty, and (after lesson 18)
# BatchNorm and Dropout. This lesson shows how to check your answer with `tinyae check`,
# and what the checker tells you when it is wrong: not just *that* a gradient is wrong,
# but *how*.
#
# ## Objectives
#
# - Run the checker on an exercise file, or on a function in a notebook.
# - Read its report: pass or fail per gradient, relative errors against a reference and
#   against finite differences, the worst entry.
# - Use its diagnosis (a flipped sign, a missing $1/N$, a transposed matrix, ...) to
#   find and fix the mistake, and know how the checker recognises it.
#
# ## Prerequisites
#
# The dense layer $y = xW + b$ in tinyae's row convention (one sample per row), the
# losses (summed over features, averaged over the batch), and lesson 6 on gradient
# checking with finite differences (`tinyae.gradcheck`).

# %%
import sys
import importlib.util
import textwrap
from pathlib import Path

import numpy as np

if importlib.util.find_spec("tinyae") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinyae.exercises import EXERCISES, check_exercise
from tinyae.gradcheck import numerical_gradient, relative_error

LESSONS = Path("lessons")      # the lessons run from the repository root
if not LESSONS.is_dir() and "__file__" in globals():
    LESSONS = Path(__file__).resolve().parent


def show(report):
    """Print a checker report; a function typed here is said to be from this lesson."""
    for result in report.results:
        if not result.source.endswith("ex04_dense_backward.py"):
            result.source = "this lesson"
    print(report)

# %% [markdown]
# ## 1. The exercise: a dense layer's backward pass
#
# Exercise 4 (`lessons/exercises/ex04_dense_backward.py`) gives the forward pass of a
# batch of $N$ samples, one per row:
#
# $$y = xW + b, \qquad y_{nj} = \sum_i x_{ni} W_{ij} + b_j,$$
#
# with $x$ of shape $(N, n_\text{in})$, $W$ of shape $(n_\text{in}, n_\text{out})$ and
# $b$ of shape $(n_\text{out},)$. Some loss $L$ further on has been differentiated
# already: we are handed $g = \partial L / \partial y$, shape $(N, n_\text{out})$, and
# must return $\partial L/\partial x$, $\partial L/\partial W$ and
# $\partial L/\partial b$.
#
# The file states the task, the shapes, and the function to fill in; its body raises
# `NotImplementedError`. The checker says so, and nothing else:

# %%
exercise_file = LESSONS / "exercises" / "ex04_dense_backward.py"
untouched = check_exercise(exercise_file)     # prints its report
assert untouched.status == "not implemented" and not untouched.passed

# %% [markdown]
# From a shell the same check is
# `tinyae check lessons/exercises/ex04_dense_backward.py`; its exit code is 0 only when
# every gradient passes, so it can grade a whole class.

# %% [markdown]
# ## 2. A wrong attempt
#
# Here is an attempt a student might write. It looks reasonable: every line runs, and
# nothing raises an error on the first shapes one tries. (In a notebook you pass the
# function itself to `check_exercise`; `name=` says which exercise it answers.)

# %%
def dense_backward_attempt(x, W, b, grad_out):
    dx = grad_out @ W.T
    dW = grad_out.T @ x             # the column-convention habit: "dW = g xᵀ"
    db = grad_out.mean(axis=0)      # "the loss is a mean, so average"
    return dx, dW, db


report = check_exercise(dense_backward_attempt, name="dense_backward", verbose=False)
show(report)

# %% [markdown]
# The checker ran the attempt on four cases (batch size 1, square and non-square
# weights, different seeds) and compared each gradient with a hand-derived reference and
# with finite differences. `dx` is right. `dW` and `db` are wrong, and the report says
# *how*:

# %%
for row in report.rows:
    verdict = "ok" if row.passed else row.diagnosis
    print(textwrap.fill(f"{row.name}: {verdict}", width=88, subsequent_indent="    "))

assert report["dx"].passed
assert report["dW"].diagnosis.startswith("transposed")
assert report["db"].diagnosis.startswith("divided by the batch size N once too often")

# %% [markdown]
# ## 3. How the checker recognises a mistake
#
# A wrong gradient is compared against *candidate mistakes* computed from the same
# inputs: the right answer with its sign flipped, scaled by $N$, $1/N$, $D$, $1/D$, $2$
# or $1/2$, transposed, with an axis of length 1 added or lost; and mistakes specific to
# the exercise, such as `grad_out.sum(axis=1)` for the bias. If the student's array
# equals a candidate (a relative error below $10^{-6}$) in *every* failing case, that
# mistake is named. Several cases matter: with $N = 2$ "forgot the $1/N$" and "off by a
# factor of 2" give the same numbers, but not with $N = 3$.
#
# The relative error is that of `tinyae.gradcheck`:
#
# $$\text{err} = \frac{\max_i |a_i - b_i|}{\max(\max_i |a_i|, \max_i |b_i|)}.$$
#
# Check the `db` diagnosis by hand: the attempt's bias gradient is exactly $1/N$ times
# the right one.

# %%
x, W, b, g = EXERCISES["dense_backward"].make_inputs((4, 5, 3),
                                                    np.random.default_rng(0))
N = x.shape[0]
right_db = g.sum(axis=0)
_, _, attempt_db = dense_backward_attempt(x, W, b, g)
print(f"relative error of db: {relative_error(attempt_db, right_db):.3f}"
      f"   of N·db: {relative_error(N * attempt_db, right_db):.1e}")
assert relative_error(N * attempt_db, right_db) < 1e-12

# %% [markdown]
# ## 4. Understanding the diagnosis, and the fix
#
# **dW.** Differentiate one entry:
# $\partial y_{nj} / \partial W_{ik} = x_{ni}\,[j = k]$, so
#
# $$\frac{\partial L}{\partial W_{ik}} = \sum_n \sum_j g_{nj}\, x_{ni} [j = k]
#   = \sum_n x_{ni}\, g_{nk} = (x^\top g)_{ik}.$$
#
# A gradient has the shape of what it differentiates, $(n_\text{in}, n_\text{out})$;
# `grad_out.T @ x` has shape $(n_\text{out}, n_\text{in})$. The column convention's
# $g\,x^\top$ is right for $W' = W^\top$, not for tinyae's $W$.
#
# **db.** $b_k$ is added to every row: $\partial y_{nj}/\partial b_k = [j = k]$, so
# $\partial L / \partial b_k = \sum_n g_{nk}$, a *sum* over the batch. The loss's $1/N$
# is already inside `grad_out`; averaging divides by $N$ a second time.
#
# Before trusting the reference, we can ask finite differences directly. For the scalar
# $f(b) = \sum_{nj} y_{nj}\, g_{nj}$, whose gradient with respect to $b$ is exactly
# $\partial L/\partial b$ when $g = \partial L / \partial y$:

# %%
numeric_db = numerical_gradient(lambda b_: float(np.sum((x @ W + b_) * g)), b.copy())
print("finite differences:", np.round(numeric_db, 6))
print("sum over the batch:", np.round(right_db, 6))
assert relative_error(numeric_db, right_db) < 1e-8

# %% [markdown]
# The fix is two lines:

# %%
def dense_backward(x, W, b, grad_out):
    dx = grad_out @ W.T             # (N, n_out) @ (n_out, n_in) -> (N, n_in)
    dW = x.T @ grad_out             # (n_in, N) @ (N, n_out)     -> (n_in, n_out)
    db = grad_out.sum(axis=0)       # sum over the batch         -> (n_out,)
    return dx, dW, db


fixed = check_exercise(dense_backward, verbose=False)
show(fixed)
assert fixed.passed
assert max(row.error for row in fixed.rows) < 1e-12      # against the reference
assert max(row.fd_error for row in fixed.rows) < 1e-6    # against finite differences

# %% [markdown]
# When the answer is right but written differently, for example with `np.einsum`, it
# passes just the same: the checker compares numbers, not code.

# %%
def dense_backward_einsum(x, W, b, grad_out):
    return (np.einsum("nj,ij->ni", grad_out, W), np.einsum("ni,nj->ij", x, grad_out),
            np.einsum("nj->j", grad_out))


einsum = check_exercise(dense_backward_einsum, name="dense_backward", verbose=False)
assert einsum.passed

# %% [markdown]
# ## Summary
#
# * `tinyae check FILE` (or `check_exercise(function, name=...)` in a notebook) runs
#   your gradient on several random cases, including batch size 1 and non-square shapes,
#   and compares it with a hand-derived reference and with finite differences.
# * Per gradient it reports pass or fail, the largest relative error, and the worst
#   entry with the expected value and yours.
# * When the error is one it recognises (a flipped sign, a missing or extra factor, a
#   transpose, a sum over the wrong axis, the activation where its derivative belongs, a
#   derivative at the wrong point, a wrong shape), it names it; otherwise it says so and
#   shows the numbers.
# * Write the shape next to every line of a backward pass: most mistakes change a shape.
#
# ## Exercises
#
# 1. The attempt's `dW` was caught by its shape. With $n_\text{in} = n_\text{out}$ the
#    shapes agree: how can the checker still tell that it is transposed?
# 2. Why does the dense layer's `db` sum over the batch while the MSE gradient divides
#    by $N$? Where does the $1/N$ enter the chain, and how often?
# 3. Do exercise 7, the full autoencoder backward pass, and plant one mistake on purpose
#    in the hidden layer only. Which of the four gradients does the checker flag, and
#    why not the others?
