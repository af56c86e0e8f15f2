"""Gradient exercises and the checker behind ``tinyae check``.

A student writes one backward pass in ``lessons/exercises/exNN_*.py`` (for BatchNorm
and Dropout, the forward pass too: in train and eval mode). The checker
loads the function, runs it on several random cases (batch size 1, non-square
shapes, different seeds) and compares each gradient it returns with

* the hand-derived reference in :data:`EXERCISES` (relative error below
  :data:`tinyae.teach.gradcheck.THRESHOLD`), and
* finite differences of the scalar the gradient belongs to
  (:func:`tinyae.teach.gradcheck.numerical_gradient`), so no answer rests on the
  reference alone. (A forward pass's outputs are not gradients: they are
  compared with the reference only.)

A wrong gradient goes to :func:`tinyae.teach.diagnose.diagnose`, which names the
mistake when it recognises it: a flipped sign, a missing 1/N, a transpose, the
activation's value where its derivative belongs, ...

Usage::

    tinyae check lessons/exercises/ex04_dense_backward.py      # shell; exit code 0 = all pass
    from tinyae.exercises import check_exercise                # notebook
    report = check_exercise(my_dense_backward, name="dense_backward")

Conventions, the package's own: row convention ``y = x @ W + b`` with ``x`` of
shape ``(N, features)``; a loss sums over the features and averages over the
batch, so a loss gradient carries exactly one factor ``1/N``.
"""

import argparse
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TinyAEError
from ..nn.activations import sigmoid
from ..nn.losses import softplus
from .diagnose import (
    PASS_THRESHOLD,
    ExerciseReport,
    FunctionResult,
    GradientRow,
    check_function,
    crash_location,
)

__all__ = ["EXERCISES", "PASS_THRESHOLD", "Exercise", "ExerciseError", "ExerciseReport",
           "FunctionResult", "GradientRow", "Mistake", "check_exercise", "check_function",
           "load_functions", "main_check"]


class ExerciseError(TinyAEError, ValueError):
    """The exercise cannot be checked at all: no such file, no known function, no import."""


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer, computed from the exercise's inputs.

    ``compute(*args)`` returns what the mistaken code returns: a value shaped like
    the reference's, or, when ``output`` names one gradient (``"db"``), that gradient only.
    A mistake with no one definite answer (a dropout mask drawn from the student's own
    random generator) returns instead a test, a function ``got -> bool`` that
    recognises any of its answers.
    """

    label: str
    explanation: str
    compute: Callable
    output: str = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: the function to write, how to test it, and the mistakes to recognise.

    ``make_inputs(shape, rng)`` draws the arguments for one case; ``reference``
    returns the right gradients (one array, or a tuple in the order of
    ``outputs``); ``loss(*args)`` is the scalar whose gradient with respect to the
    argument ``wrt[k]`` is ``outputs[k]``; ``sizes(*args)`` gives the batch size
    ``N`` (and number of features ``D``) for the scale-factor diagnoses. A forward
    pass's outputs are not gradients: their ``wrt`` is None and they have no ``loss``.
    """

    function: str
    file: str
    args: tuple
    outputs: tuple
    wrt: tuple
    forward: str
    shape_names: tuple
    shapes: tuple
    make_inputs: Callable
    reference: Callable
    loss: Callable = None
    sizes: Callable = lambda *args: {}
    mistakes: tuple = ()

    @property
    def signature(self):
        outs = self.outputs[0] if len(self.outputs) == 1 else f"({', '.join(self.outputs)})"
        return f"{self.function}({', '.join(self.args)}) -> {outs}"


# ----- input generators (np.random.default_rng only) ------------------------------------
def _away_from_zero(rng, shape):
    """Entries in ±[0.1, 3]: never within a finite-difference step of a ReLU kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)


def _z_and_grad_out(shape, rng):
    return 2 * rng.standard_normal(shape), rng.standard_normal(shape)


def _batch(*args):
    return {"N": args[0].shape[0]}


def _batch_and_features(*args):
    return {"N": args[0].shape[0], "D": args[0].shape[1]}


# ----- 1-3: activations, dz = grad_out * f'(z) ------------------------------------------
def _dsigmoid(a):
    """σ'(z) written with the output a = σ(z): a(1 − a)."""
    return a * (1 - a)


def _activation_mistakes(f, f_prime, formula):
    """Mistakes every activation exercise shares; ``formula`` is f'(z) in words."""
    return (
        Mistake("activation's value where its derivative belongs",
                f"multiplied grad_out by f(z) itself; the chain rule needs f'(z) = {formula}",
                lambda z, g: g * f(z)),
        Mistake("derivative taken at the wrong point",
                "evaluated f' at the output a = f(z); the derivative belongs at the "
                "pre-activation z",
                lambda z, g: g * f_prime(f(z))),
        Mistake("forgot the chain rule",
                "returned f'(z) without multiplying by grad_out", lambda z, g: f_prime(z)),
    )


EXERCISES = {}


def _register(exercise):
    EXERCISES[exercise.function] = exercise


_register(Exercise(
    function="sigmoid_backward", file="ex01_sigmoid_backward",
    args=("z", "grad_out"), outputs=("dz",), wrt=("z",),
    forward="a = σ(z) = 1 / (1 + e^(−z)), element-wise",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=_z_and_grad_out,
    reference=lambda z, grad_out: grad_out * _dsigmoid(sigmoid(z)),
    loss=lambda z, grad_out: float(np.sum(sigmoid(z) * grad_out)),
    sizes=_batch,
    mistakes=_activation_mistakes(sigmoid, lambda z: _dsigmoid(sigmoid(z)),
                                  "σ(z)(1 − σ(z))") + (
        Mistake("derivative taken at the wrong point",
                "used a(1 − a) with z in place of a; that formula needs the output a = σ(z)",
                lambda z, g: g * z * (1 - z)),
    ),
))

_register(Exercise(
    function="relu_backward", file="ex02_relu_backward",
    args=("z", "grad_out"), outputs=("dz",), wrt=("z",),
    forward="a = max(0, z), element-wise",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=lambda shape, rng: (_away_from_zero(rng, shape), rng.standard_normal(shape)),
    reference=lambda z, grad_out: grad_out * (z > 0),
    loss=lambda z, grad_out: float(np.sum(np.maximum(z, 0) * grad_out)),
    sizes=_batch,
    mistakes=_activation_mistakes(lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0,
                                  "1 where z > 0, else 0") + (
        Mistake("applied ReLU to the gradient",
                "computed max(0, grad_out); the mask comes from z (pass grad_out where z > 0), "
                "not from the sign of grad_out",
                lambda z, g: np.maximum(g, 0)),
        Mistake("inverted mask", "passed the gradient where z < 0 instead of where z > 0",
                lambda z, g: g * (z < 0)),
    ),
))

_register(Exercise(
    function="tanh_backward", file="ex03_tanh_backward",
    args=("z", "grad_out"), outputs=("dz",), wrt=("z",),
    forward="a = tanh(z), element-wise",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=_z_and_grad_out,
    reference=lambda z, grad_out: grad_out * (1 - np.tanh(z) ** 2),
    loss=lambda z, grad_out: float(np.sum(np.tanh(z) * grad_out)),
    sizes=_batch,
    mistakes=_activation_mistakes(np.tanh, lambda z: 1 - np.tanh(z) ** 2, "1 − tanh(z)²") + (
        Mistake("derivative taken at the wrong point",
                "used 1 − a² with z in place of a; that formula needs the output a = tanh(z)",
                lambda z, g: g * (1 - z**2)),
        Mistake("forgot the square", "tanh'(z) = 1 − tanh(z)², not 1 − tanh(z)",
                lambda z, g: g * (1 - np.tanh(z))),
    ),
))


# ----- 4: dense layer ----------------------------------------------------------------------
def _dense_inputs(shape, rng):
    N, n_in, n_out = shape
    return (rng.standard_normal((N, n_in)), rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
            rng.standard_normal(n_out), rng.standard_normal((N, n_out)))


_register(Exercise(
    function="dense_backward", file="ex04_dense_backward",
    args=("x", "W", "b", "grad_out"), outputs=("dx", "dW", "db"), wrt=("x", "W", "b"),
    forward="y = x @ W + b",
    shape_names=("N", "n_in", "n_out"), shapes=((1, 3, 4), (4, 5, 3), (3, 4, 4), (5, 2, 6)),
    make_inputs=_dense_inputs,
    reference=lambda x, W, b, g: (g @ W.T, x.T @ g, g.sum(axis=0)),
    loss=lambda x, W, b, g: float(np.sum((x @ W + b) * g)),
    sizes=_batch,
    mistakes=(
        Mistake("transposed", "back-propagated through W instead of Wᵀ: dx = grad_out @ W.T",
                lambda x, W, b, g: g @ W, output="dx"),
        Mistake("summed over the wrong axis",
                "summed grad_out over the features (axis=1); b is added to every row, so db "
                "sums over the batch: grad_out.sum(axis=0), shape (n_out,)",
                lambda x, W, b, g: g.sum(axis=1), output="db"),
        Mistake("forgot to sum over the batch",
                "returned grad_out itself, shape (N, n_out); b is shared by every row, so "
                "db = grad_out.sum(axis=0), shape (n_out,)",
                lambda x, W, b, g: g, output="db"),
    ),
))


# ----- 5-6: losses -------------------------------------------------------------------------
def _two_normal(shape, rng):
    return rng.standard_normal(shape), rng.standard_normal(shape)


_register(Exercise(
    function="mse_grad", file="ex05_mse_grad",
    args=("y_pred", "y_true"), outputs=("dy_pred",), wrt=("y_pred",),
    forward="L = (1/N) Σ_n Σ_j (ŷ_nj − y_nj)²",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=_two_normal,
    reference=lambda y_pred, y_true: 2 * (y_pred - y_true) / len(y_pred),
    loss=lambda y_pred, y_true: float(np.sum((y_pred - y_true) ** 2)) / len(y_pred),
    sizes=_batch_and_features,
))


def _probabilities_and_targets(shape, rng):
    return rng.uniform(0.1, 0.9, size=shape), rng.uniform(0, 1, size=shape)


_register(Exercise(
    function="bce_grad", file="ex06_bce_grad",
    args=("p", "y"), outputs=("dp",), wrt=("p",),
    forward="L = −(1/N) Σ_n Σ_j [y log p + (1 − y) log(1 − p)]",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=_probabilities_and_targets,
    reference=lambda p, y: (p - y) / (p * (1 - p)) / len(p),
    loss=lambda p, y: -float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))) / len(p),
    sizes=_batch_and_features,
    mistakes=(
        Mistake("gradient with respect to the logits",
                "(p − y)/N is dL/dz, the fused gradient with respect to the logits z; with "
                "respect to p it is (p − y) / (p(1 − p)) / N",
                lambda p, y: (p - y) / len(p)),
        Mistake("dropped a term",
                "differentiated only y·log p, giving −y/p/N; the (1 − y)·log(1 − p) term "
                "adds (1 − y)/(1 − p)/N",
                lambda p, y: -y / p / len(p)),
    ),
))

_register(Exercise(
    function="bce_logits_grad", file="ex06_bce_grad",
    args=("z", "y"), outputs=("dz",), wrt=("z",),
    forward="L = (1/N) Σ_n Σ_j [softplus(z) − y·z], i.e. cross-entropy of p = σ(z)",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=lambda shape, rng: (2 * rng.standard_normal(shape), rng.uniform(0, 1, shape)),
    reference=lambda z, y: (sigmoid(z) - y) / len(z),
    loss=lambda z, y: float(np.sum(softplus(z) - y * z)) / len(z),
    sizes=_batch_and_features,
    mistakes=(
        Mistake("used z where σ(z) belongs",
                "computed (z − y)/N; the prediction is p = σ(z), so dL/dz = (σ(z) − y)/N",
                lambda z, y: (z - y) / len(z)),
        Mistake("extra derivative factor",
                "multiplied by σ'(z) = σ(z)(1 − σ(z)); in the fused gradient that factor has "
                "already cancelled against the cross-entropy's 1/(p(1 − p))",
                lambda z, y: (sigmoid(z) - y) * _dsigmoid(sigmoid(z)) / len(z)),
    ),
))


# ----- 7: the shallow autoencoder ------------------------------------------------------------
def _autoencoder_inputs(shape, rng):
    N, D, H = shape
    return (rng.uniform(0, 1, (N, D)), rng.standard_normal((D, H)), 0.5 * rng.standard_normal(H),
            rng.standard_normal((H, D)), 0.5 * rng.standard_normal(D))


def _autoencoder_loss(x, W1, b1, W2, b2):
    x_hat = sigmoid(sigmoid(x @ W1 + b1) @ W2 + b2)
    return float(np.sum((x_hat - x) ** 2)) / len(x)


def _autoencoder_deltas(x, W1, b1, W2, b2, d_out=_dsigmoid, d_hid=_dsigmoid, W2_back=None):
    """``h``, ``dz1``, ``dz2`` of the backward pass; the keywords plant mistakes.

    ``d_out``, ``d_hid``: σ' as a function of the layer's output;
    ``W2_back(W2)``: the matrix the gradient flows back through (``W2.T`` when right).
    """
    h = sigmoid(x @ W1 + b1)                         # (N, H)
    x_hat = sigmoid(h @ W2 + b2)                     # (N, D)
    dx_hat = 2 * (x_hat - x) / len(x)                # MSE: dL/dx̂
    dz2 = dx_hat * d_out(x_hat)                      # through the output sigmoid
    dh = dz2 @ (W2.T if W2_back is None else W2_back(W2))
    dz1 = dh * d_hid(h)                              # through the hidden sigmoid
    return h, dz1, dz2


def _autoencoder_grads(x, W1, b1, W2, b2, **mistake):
    h, dz1, dz2 = _autoencoder_deltas(x, W1, b1, W2, b2, **mistake)
    return x.T @ dz1, dz1.sum(axis=0), h.T @ dz2, dz2.sum(axis=0)


def _ae_mistake(label, explanation, **mistake):
    return Mistake(label, explanation, lambda *args: _autoencoder_grads(*args, **mistake))


def _sigmoid_prime_of_output(a):
    return _dsigmoid(sigmoid(a))


def _ae_bias_mistakes(label, explanation, reduce):
    """The same wrong ``reduce`` of the deltas, for db1 (from dz1) and db2 (from dz2)."""
    return (Mistake(label, explanation, lambda *a: reduce(_autoencoder_deltas(*a)[1]), "db1"),
            Mistake(label, explanation, lambda *a: reduce(_autoencoder_deltas(*a)[2]), "db2"))


_register(Exercise(
    function="autoencoder_backward", file="ex07_autoencoder_backward",
    args=("x", "W1", "b1", "W2", "b2"), outputs=("dW1", "db1", "dW2", "db2"),
    wrt=("W1", "b1", "W2", "b2"),
    forward="h = σ(x @ W1 + b1), x̂ = σ(h @ W2 + b2), L = (1/N) Σ_n Σ_j (x̂_nj − x_nj)²",
    shape_names=("N", "D", "H"), shapes=((1, 5, 3), (4, 6, 3), (3, 4, 4), (5, 3, 7)),
    make_inputs=_autoencoder_inputs,
    reference=_autoencoder_grads,
    loss=_autoencoder_loss,
    sizes=_batch_and_features,
    mistakes=(
        _ae_mistake("activation's value where its derivative belongs",
                    "multiplied by a sigmoid's output a = σ(z) where σ'(z) = a(1 − a) belongs",
                    d_out=lambda a: a, d_hid=lambda a: a),
        _ae_mistake("activation's value where its derivative belongs",
                    "at the output layer: multiplied by x̂ where x̂(1 − x̂) belongs",
                    d_out=lambda a: a),
        _ae_mistake("activation's value where its derivative belongs",
                    "at the hidden layer: multiplied by h where h(1 − h) belongs",
                    d_hid=lambda a: a),
        _ae_mistake("derivative taken at the wrong point",
                    "computed σ'(a) = σ(a)(1 − σ(a)) at a sigmoid's output a; the derivative "
                    "belongs at the pre-activation z, σ'(z) = a(1 − a)",
                    d_out=_sigmoid_prime_of_output, d_hid=_sigmoid_prime_of_output),
        _ae_mistake("derivative taken at the wrong point",
                    "at the output layer: σ'(x̂) instead of σ'(z2) = x̂(1 − x̂)",
                    d_out=_sigmoid_prime_of_output),
        _ae_mistake("derivative taken at the wrong point",
                    "at the hidden layer: σ'(h) instead of σ'(z1) = h(1 − h)",
                    d_hid=_sigmoid_prime_of_output),
        _ae_mistake("left out the output sigmoid's derivative",
                    "dL/dz2 = dL/dx̂ · x̂(1 − x̂) for squared error; dropping x̂(1 − x̂) is "
                    "right only for cross-entropy computed from the logits",
                    d_out=lambda a: 1.0),
        _ae_mistake("transposed",
                    "back-propagated to the hidden layer through W2 instead of W2ᵀ: "
                    "dh = dz2 @ W2.T", W2_back=lambda W2: W2),
        *_ae_bias_mistakes("summed over the wrong axis",
                           "summed over the features (axis=1); a bias gradient sums over the "
                           "batch, axis=0, and has the bias's shape",
                           lambda delta: delta.sum(axis=1)),
        *_ae_bias_mistakes("forgot to sum over the batch",
                           "returned the per-sample deltas (N rows); a bias gradient sums "
                           "them over the batch, axis=0", lambda delta: delta),
    ),
))


# ----- 8-9: regularisers ---------------------------------------------------------------------
_register(Exercise(
    function="weight_decay_grad", file="ex08_weight_decay",
    args=("W", "lam"), outputs=("dW",), wrt=("W",),
    forward="L = (λ/2) Σ_ij W_ij²",
    shape_names=("n_in", "n_out"), shapes=((3, 4), (5, 2), (1, 6), (4, 4)),
    make_inputs=lambda shape, rng: (rng.standard_normal(shape), float(rng.uniform(0.1, 0.9))),
    reference=lambda W, lam: lam * W,
    loss=lambda W, lam: 0.5 * lam * float(np.sum(W**2)),
    mistakes=(
        Mistake("off by a factor of 2 (too large)",
                "2λW is the gradient of λ ΣW²; this penalty is (λ/2) ΣW², whose 1/2 cancels "
                "the 2 from the square", lambda W, lam: 2 * lam * W),
        Mistake("forgot λ", "returned W; the penalty is scaled by λ, so its gradient is λW",
                lambda W, lam: W),
        Mistake("L1 instead of L2", "λ·sign(W) is the gradient of the L1 penalty λ Σ|W|; the "
                "L2 penalty (λ/2) ΣW² gives λW", lambda W, lam: lam * np.sign(W)),
    ),
))


def _kl_inputs(shape, rng):
    return rng.uniform(0.05, 0.95, shape), float(rng.uniform(0.02, 0.2)), float(rng.uniform(0.5, 3))


def _kl_loss(h, rho, beta):
    rho_hat = h.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    return beta * float(np.sum(kl))


def _dkl_drho_hat(h, rho, beta):
    """dL/dρ̂_j = β(−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j)), shape (H,)."""
    rho_hat = h.mean(axis=0)
    return beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))


_register(Exercise(
    function="kl_sparsity_grad", file="ex09_sparsity_kl",
    args=("h", "rho", "beta"), outputs=("dh",), wrt=("h",),
    forward="ρ̂_j = (1/N) Σ_n h_nj, L = β Σ_j [ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j))]",
    shape_names=("N", "H"), shapes=((1, 4), (5, 3), (8, 6), (3, 5)),
    make_inputs=_kl_inputs,
    reference=lambda h, rho, beta: np.broadcast_to(_dkl_drho_hat(h, rho, beta) / len(h), h.shape),
    loss=_kl_loss,
    sizes=_batch_and_features,
    mistakes=(
        Mistake("returned dL/dρ̂ instead of dL/dh",
                "that is the gradient with respect to ρ̂ (shape (H,)); each h_nj moves ρ̂_j by "
                "1/N, so dL/dh_nj = dL/dρ̂_j / N, the same on every row (shape (N, H))",
                _dkl_drho_hat),
        Mistake("did not spread over the batch",
                "the numbers are dL/dρ̂_j / N, but dL/dh has one row per sample: broadcast "
                "to shape (N, H), e.g. np.broadcast_to(g, h.shape) or g * np.ones_like(h)",
                lambda h, rho, beta: _dkl_drho_hat(h, rho, beta) / len(h)),
        Mistake("KL the wrong way round",
                "differentiated KL(ρ̂ ‖ ρ); the sparsity penalty is KL(ρ ‖ ρ̂), the target ρ first",
                lambda h, rho, beta: np.broadcast_to(beta * (
                    np.log(h.mean(0) / rho) - np.log((1 - h.mean(0)) / (1 - rho))) / len(h),
                    h.shape)),
        Mistake("used h where ρ̂ belongs",
                "put each sample's h_nj in the formula; the penalty is on the batch mean "
                "ρ̂_j = (1/N) Σ_n h_nj",
                lambda h, rho, beta: beta * (-rho / h + (1 - rho) / (1 - h)) / len(h)),
        Mistake("forgot β", "the penalty is multiplied by β, so is its gradient",
                lambda h, rho, beta: np.broadcast_to(_dkl_drho_hat(h, rho, 1.0) / len(h),
                                                     h.shape)),
    ),
))


# ----- 10: batch normalization ---------------------------------------------------------------
# Train mode normalizes with the batch's own statistics (biased variance) and updates the
# running ones (unbiased variance, PyTorch's convention, as tinyae.normalization.BatchNorm1d);
# eval mode normalizes with the running statistics and leaves them alone.
def _bn_arrays(N, F, rng):
    """x with its own mean and spread per feature, γ away from 1, and running statistics
    unlike the batch's: every mistake below then changes the numbers."""
    x = rng.standard_normal(F) + rng.uniform(1.0, 3.0, F) * rng.standard_normal((N, F))
    gamma = rng.choice([-1.0, 1.0], F) * rng.uniform(0.5, 2.0, F)
    beta = rng.standard_normal(F)
    return x, gamma, beta, 0.5 * rng.standard_normal(F), rng.uniform(0.5, 2.0, F)


#: ε large enough that leaving it out changes the numbers visibly (PyTorch's default is 1e-5).
_BN_EPS = 1e-3


def _bn_forward_inputs(shape, rng):
    N, F, training = shape
    return (*_bn_arrays(N, F, rng), float(rng.uniform(0.05, 0.3)), _BN_EPS, training)


def _bn_backward_inputs(shape, rng):
    N, F = shape
    return (*_bn_arrays(N, F, rng), _BN_EPS, rng.standard_normal((N, F)))


def _bn_y(x, gamma, beta, mean, var, eps):
    """y = γ·(x − μ)/√(σ² + ε) + β, per feature."""
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _bn_update(running, batch, momentum):
    """PyTorch's convention: the new batch's statistic gets the weight ``momentum``."""
    return (1 - momentum) * running + momentum * batch


def _batch_estimates(x):
    """What the running statistics move towards: the batch mean, the *unbiased* variance."""
    return x.mean(axis=0), x.var(axis=0, ddof=1)                       # ddof=1: divide by N − 1


def _batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    if not training:
        return (_bn_y(x, gamma, beta, running_mean, running_var, eps), running_mean.copy(),
                running_var.copy())
    mean, unbiased_var = _batch_estimates(x)
    y = _bn_y(x, gamma, beta, mean, x.var(axis=0), eps)                # biased: divide by N
    new_mean = _bn_update(running_mean, mean, momentum)
    return y, new_mean, _bn_update(running_var, unbiased_var, momentum)


def _bn_forward_mistake(label, explanation, output, train, evaluate=None):
    """A mistake on one output; ``train(*args)`` (``evaluate(*args)``) gives what the mistaken
    code returns in train (eval) mode. In the other mode the reference's answer is used, which
    the checker skips as no mistake."""
    k = ("y", "new_running_mean", "new_running_var").index(output)

    def compute(*args):
        wrong = train if args[-1] else evaluate
        return wrong(*args) if wrong else _batchnorm_forward(*args)[k]
    return Mistake(label, explanation, compute, output)


def _running_mistakes(label, explanation, train=None, evaluate=None):
    """The same mistake on both running statistics: ``train(running, batch, momentum)``
    (``evaluate``) gives the mistaken new value in train (eval) mode, from the old running
    statistic and the batch's estimate of it."""
    def on(k, update):
        if update is None:
            return None
        return lambda x, g, b, rm, rv, m, eps, t: update((rm, rv)[k], _batch_estimates(x)[k], m)
    return tuple(_bn_forward_mistake(label, explanation, output, on(k, train), on(k, evaluate))
                 for k, output in enumerate(("new_running_mean", "new_running_var")))


_SWAPPED = "swapped biased and unbiased variance"

_register(Exercise(
    function="batchnorm_forward", file="ex10_batchnorm_backward",
    args=("x", "gamma", "beta", "running_mean", "running_var", "momentum", "eps", "training"),
    outputs=("y", "new_running_mean", "new_running_var"), wrt=(None, None, None),
    forward="train: y = γ·(x − μ)/√(σ² + ε) + β with the batch's μ, σ² (biased), and "
            "running ← (1 − m)·running + m·batch (variance unbiased); eval: the running μ, σ²",
    shape_names=("N", "F", "training"),
    shapes=((4, 3, True), (1, 4, False), (6, 5, True), (5, 2, False), (3, 6, True)),
    make_inputs=_bn_forward_inputs,
    reference=_batchnorm_forward,
    sizes=_batch,
    mistakes=(
        _bn_forward_mistake(
            "used the running statistics in train mode",
            "normalized with running_mean and running_var; in train mode BatchNorm normalizes "
            "with the batch's own mean and variance (and updates the running ones)", "y",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, rm, rv, eps)),
        _bn_forward_mistake(
            "used the batch statistics in eval mode",
            "normalized with the batch's mean and variance; in eval mode BatchNorm uses the "
            "running statistics, so each sample's output does not depend on the others "
            "(and a batch of one works)", "y", train=None,
            evaluate=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, x.mean(0), x.var(0), eps)),
        _bn_forward_mistake(
            _SWAPPED,
            "normalized with the unbiased variance (divided by N − 1); the batch is normalized "
            "with the biased variance, Σ(x − μ)²/N, as np.var does by default", "y",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, x.mean(0),
                                                           x.var(0, ddof=1), eps)),
        _bn_forward_mistake(
            _SWAPPED,
            "updated running_var with the biased variance; the running variance estimates the "
            "population's, so it takes the unbiased one, Σ(x − μ)²/(N − 1) = np.var(x, axis=0, "
            "ddof=1)", "new_running_var",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_update(rv, x.var(0), m)),
        _bn_forward_mistake(
            "forgot ε", "divided by √σ²; the normalization divides by √(σ² + ε)", "y",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, x.mean(0), x.var(0), 0.0),
            evaluate=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, rm, rv, 0.0)),
        *_running_mistakes(
            "momentum the wrong way round",
            "gave the new batch the weight 1 − momentum (Keras's convention); in PyTorch's, "
            "used here, running ← (1 − momentum)·running + momentum·batch",
            train=lambda running, batch, m: _bn_update(running, batch, 1 - m)),
        *_running_mistakes(
            "updated the running statistics in eval mode",
            "eval mode only uses the running statistics; it must return them unchanged",
            evaluate=_bn_update),
        *_running_mistakes(
            "did not update the running statistics",
            "returned them unchanged; train mode moves them towards the batch's: "
            "running ← (1 − momentum)·running + momentum·batch",
            train=lambda running, batch, m: running),
    ),
))


def _bn_loss(x, gamma, beta, running_mean, running_var, eps, grad_out):
    """Σ y·grad_out with y in train mode: its gradients are dx, dγ, dβ."""
    return float(np.sum(_bn_y(x, gamma, beta, x.mean(axis=0), x.var(axis=0), eps) * grad_out))


def _bn_grads(x, gamma, beta, running_mean, running_var, eps, grad_out, through_mean=True,
              through_var=True, axis=0, ddof=0, running=False, use_gamma=True):
    """``(dx, dγ, dβ)`` of train-mode batch norm; the keywords plant mistakes.

    ``through_mean``, ``through_var``: keep the paths through the batch mean and variance;
    ``axis``: the axis of the sums; ``ddof=1``: the unbiased variance; ``running``: the
    running statistics in place of the batch's; ``use_gamma=False``: forget γ.
    """
    N = x.shape[0]
    mean, var = ((running_mean, running_var) if running
                 else (x.mean(axis=0), x.var(axis=0, ddof=ddof)))
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    dx_hat = grad_out * gamma if use_gamma else grad_out
    dx = N * dx_hat
    if through_mean:   # every x_n moved μ, so every x_n gets a share of dL/dμ
        dx = dx - dx_hat.sum(axis=axis, keepdims=True)
    if through_var:    # and of dL/dσ²
        dx = dx - x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True)
    return dx / (N * std), (grad_out * x_hat).sum(axis=axis), grad_out.sum(axis=axis)


def _bn_mistake(label, explanation, **mistake):
    return Mistake(label, explanation, lambda *args: _bn_grads(*args, **mistake))


_register(Exercise(
    function="batchnorm_backward", file="ex10_batchnorm_backward",
    args=("x", "gamma", "beta", "running_mean", "running_var", "eps", "grad_out"),
    outputs=("dx", "dgamma", "dbeta"), wrt=("x", "gamma", "beta"),
    forward="train mode: μ = mean(x, axis=0), σ² = var(x, axis=0) (biased), "
            "x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β",
    shape_names=("N", "F"), shapes=((3, 4), (6, 3), (4, 1), (8, 5)),
    make_inputs=_bn_backward_inputs,
    reference=_bn_grads,
    loss=_bn_loss,
    sizes=_batch,
    mistakes=(
        _bn_mistake("treated the batch mean as a constant",
                    "μ depends on every x_n: dx lacks the term −Σ_n dx̂_n/(N·σ) that flows "
                    "back through the mean", through_mean=False),
        _bn_mistake("treated the batch variance as a constant",
                    "σ² depends on every x_n: dx lacks the term −x̂·Σ_n(dx̂_n·x̂_n)/(N·σ) that "
                    "flows back through the variance", through_var=False),
        _bn_mistake("treated the batch mean and variance as constants",
                    "dx = γ·dy/σ is the gradient when μ and σ² are fixed numbers (eval mode); in "
                    "train mode they are computed from the batch, and both paths add a term",
                    through_mean=False, through_var=False),
        _bn_mistake("summed over the wrong axis",
                    "summed over the features (axis=1); the statistics, dγ and dβ belong to "
                    "each feature and sum over the batch, axis=0", axis=1),
        _bn_mistake("used the running statistics in train mode",
                    "normalized with running_mean and running_var; the forward pass in train "
                    "mode used the batch's own mean and variance, and so does its backward",
                    running=True),
        _bn_mistake("used the running statistics in train mode",
                    "dx = γ·dy/√(running_var + ε) is the eval-mode backward; in train mode the "
                    "batch's mean and variance were used, and both depend on x",
                    running=True, through_mean=False, through_var=False),
        _bn_mistake(_SWAPPED,
                    "used the unbiased variance (divided by N − 1); the batch is normalized with "
                    "the biased variance, Σ(x − μ)²/N, as np.var does by default", ddof=1),
        _bn_mistake("forgot γ", "y = γ·x̂ + β, so dL/dx̂ = γ·dy before going back to x",
                    use_gamma=False),
        Mistake("forgot ε", "divided by √σ²; the normalization divides by √(σ² + ε)",
                lambda x, g, b, rm, rv, eps, dy: _bn_grads(x, g, b, rm, rv, 0.0, dy)),
    ),
))


# ----- 11: dropout ------------------------------------------------------------------------------
# The mask comes from the uniforms u the caller drew, so the right answer is one definite array:
# keep where u ≥ p, and scale what is kept by 1/(1 − p) (inverted dropout, as PyTorch).
def _dropout_uniforms(shape, p, rng):
    u = rng.uniform(0, 1, shape)
    u.flat[:2] = rng.uniform(0, p), rng.uniform(p, 1)  # one dropped, one kept: mistakes show
    return u


def _dropout_forward_inputs(shape, rng):
    N, D, training = shape
    p = float(rng.uniform(0.2, 0.6))
    return rng.standard_normal((N, D)), p, _dropout_uniforms((N, D), p, rng), training


def _dropout_backward_inputs(shape, rng):
    x, p, u, _ = _dropout_forward_inputs((*shape, True), rng)
    return x, p, u, rng.standard_normal(shape)


def _dropout_mask(p, u):
    return (u >= p) / (1 - p)


def _dropout_forward(x, p, u, training):
    return x * _dropout_mask(p, u) if training else x.copy()


def _mask_pattern(got, base, scale):
    """The 0/1 pattern ``m`` (bool array) with ``got = base·m·scale``, or None if there is none."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != base.shape:
        return None
    kept = np.isclose(got, base * scale, rtol=1e-9, atol=0)
    return kept if np.all(kept | (got == 0)) else None


def _other_mask(base, scale, pattern):
    """A test: is ``got`` ``base`` masked by some pattern other than ``pattern``, and scaled?"""
    def test(got):
        m = _mask_pattern(got, base, scale)
        return m is not None and bool(np.any(m != pattern))
    return test


def _in_train(mistake):
    """A forward mistake made in train mode; in eval mode the right answer (skipped)."""
    return lambda x, p, u, training: mistake(x, p, u) if training else x


_register(Exercise(
    function="dropout_forward", file="ex11_dropout",
    args=("x", "p", "u", "training"), outputs=("y",), wrt=(None,),
    forward="train: y = x·[u ≥ p]/(1 − p); eval: y = x",
    shape_names=("N", "D", "training"),
    shapes=((1, 6, True), (4, 5, True), (3, 4, False), (6, 3, True), (1, 5, False)),
    make_inputs=_dropout_forward_inputs,
    reference=_dropout_forward,
    sizes=_batch_and_features,
    mistakes=(
        Mistake("forgot the 1/(1 − p) scale",
                "kept values must be divided by 1 − p, so that the expected output equals the "
                "input and eval mode (no dropping) sees values of the same size",
                _in_train(lambda x, p, u: x * (u >= p))),
        Mistake("multiplied by 1 − p instead of dividing",
                "inverted dropout divides the kept values by 1 − p (the keep probability) while "
                "training; multiplying by it shrinks them twice",
                _in_train(lambda x, p, u: x * (u >= p) * (1 - p))),
        Mistake("took p as the keep probability",
                "kept where u < p and divided by p; p is the probability of *dropping* a value, "
                "so keep where u ≥ p and divide by 1 − p",
                _in_train(lambda x, p, u: x * (u < p) / p)),
        Mistake("drew its own mask instead of using u",
                "the values are dropped with a pattern other than u ≥ p: build the mask from "
                "the argument u, not from np.random, so that backward can use the same mask",
                lambda x, p, u, training: _other_mask(x, 1 / (1 - p), u >= p) if training
                else x),
        *(Mistake("dropped in eval mode",
                  "eval mode uses the whole network: y = x, with no mask and no scale (the "
                  "1/(1 − p) while training already keeps the sizes the same)",
                  lambda x, p, u, training, s=s: _dropout_forward(x, p, u, True) if training
                  else _other_mask(x, s(p), np.ones(x.shape, bool)))
          for s in (lambda p: 1 / (1 - p), lambda p: 1.0)),
        Mistake("dropped nothing in train mode",
                "returned x unchanged; in train mode each value is dropped where u < p and the "
                "rest are scaled by 1/(1 − p)", lambda x, p, u, training: x),
    ),
))

_register(Exercise(
    function="dropout_backward", file="ex11_dropout",
    args=("x", "p", "u", "grad_out"), outputs=("dx",), wrt=("x",),
    forward="train mode: y = x·[u ≥ p]/(1 − p)",
    shape_names=("N", "D"), shapes=((1, 6), (4, 5), (6, 3), (3, 8)),
    make_inputs=_dropout_backward_inputs,
    reference=lambda x, p, u, grad_out: grad_out * _dropout_mask(p, u),
    loss=lambda x, p, u, grad_out: float(np.sum(_dropout_forward(x, p, u, True) * grad_out)),
    sizes=_batch_and_features,
    mistakes=(
        Mistake("forgot the 1/(1 − p) scale",
                "y = x·mask with mask = [u ≥ p]/(1 − p), so dx = grad_out·mask, scale included",
                lambda x, p, u, g: g * (u >= p)),
        Mistake("drew a new mask in backward",
                "the gradient flows only where the forward pass kept the value: rebuild the "
                "forward's mask from u (a layer keeps it in its cache); a fresh random mask "
                "sends gradient to values that were dropped",
                lambda x, p, u, g: _other_mask(g, 1 / (1 - p), u >= p)),
        Mistake("forgot the mask", "returned grad_out unchanged: that is the eval-mode backward; "
                "in train mode a dropped value had no effect on the loss, so its gradient is 0",
                lambda x, p, u, g: g),
    ),
))


# ----- loading a student's file; the public entry points ------------------------------------
def load_functions(path):
    """``{name: function}`` for every exercise function defined in the Python file ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ExerciseError(f"no such file: {path}" if not path.exists()
                            else f"{path} is not a file; give a .py exercise file")
    spec = importlib.util.spec_from_file_location(f"_tinyae_exercise_{path.stem}", path)
    if spec is None or path.suffix != ".py":
        raise ExerciseError(f"{path} is not a Python file; give a .py exercise file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ExerciseError(f"cannot import {path}: {type(exc).__name__}: {exc.msg} "
                            f"(line {exc.lineno})") from None
    except (Exception, SystemExit) as exc:
        raise ExerciseError(f"cannot import {path}: {type(exc).__name__}: {exc} "
                            f"({crash_location(exc, str(path))})") from None
    found = {name: vars(module)[name] for name in EXERCISES if name in vars(module)}
    if not found:
        raise ExerciseError(f"{path} defines no exercise function; expected one of "
                            f"{', '.join(EXERCISES)} (keep the name from the exercise file)")
    return found


def check_exercise(path_or_function, name=None, verbose=True, shapes=None, seed=0):
    """Check a student's gradient function: from a file, or a function object (notebooks).

    Parameters
    ----------
    path_or_function : str, Path or callable
        An exercise file such as ``lessons/exercises/ex04_dense_backward.py`` (every
        exercise function it defines is checked), or the function itself.
    name : str, optional
        Which exercise: needed when a function's ``__name__`` is not the exercise's
        (``check_exercise(my_attempt, name="dense_backward")``); for a file, check
        only this function.
    verbose : bool
        Print the report.
    shapes : list of tuple, optional
        The cases' shapes (default: the exercise's own, with batch size 1 and
        non-square shapes); case ``i`` uses seed ``seed + i``.

    Returns
    -------
    ExerciseReport

    Raises
    ------
    ExerciseError
        When there is nothing to check: no such file, no exercise function, or
        the file cannot be imported.
    """
    if callable(path_or_function):
        fn = path_or_function
        name = name or getattr(fn, "__name__", None)
        if name not in EXERCISES:
            raise ExerciseError(f"no exercise named {name!r}; pass name=... with one of "
                                f"{', '.join(EXERCISES)}")
        code = getattr(fn, "__code__", None)
        functions, source = {name: fn}, code.co_filename if code else repr(fn)
    else:
        source = str(path_or_function)
        functions = load_functions(path_or_function)
        if name is not None:
            if name not in functions:
                raise ExerciseError(f"{source} does not define {name}; it defines "
                                    f"{', '.join(functions)}")
            functions = {name: functions[name]}
    report = ExerciseReport(source, [check_function(EXERCISES[n], f, source, shapes, seed)
                                     for n, f in functions.items()])
    if verbose:
        print(report)
    return report


def main_check(argv=None):
    """``tinyae check FILE [FILE ...]``: print each report; 0 only when everything passes.

    Exit codes: 0 all passed; 1 a gradient is wrong, not implemented, or crashed;
    2 a file could not be checked at all (missing, no exercise function, import error).
    """
    parser = argparse.ArgumentParser(
        prog="tinyae check", description="Check your gradient exercise against the reference "
        "and finite differences, and say what is wrong.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="exercise file(s), e.g. "
                        "lessons/exercises/ex04_dense_backward.py")
    parser.add_argument("--function", default=None, help="check only this function")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case (default 0)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return exc.code if isinstance(exc.code, int) else 2
    code, failed = 0, []
    for path in args.files:
        try:
            report = check_exercise(path, name=args.function, verbose=False, seed=args.seed)
        except ExerciseError as exc:
            print(f"tinyae check: error: {exc}", file=sys.stderr)
            code, failed = 2, failed + [path]
            continue
        print(report, end="\n\n" if len(args.files) > 1 else "\n")
        if not report.passed:
            code, failed = max(code, 1), failed + [path]
    if len(args.files) > 1:
        print(f"{len(args.files) - len(failed)} of {len(args.files)} files passed"
              + (f"; not passed: {', '.join(map(str, failed))}" if failed else ""))
    return code


if __name__ == "__main__":
    sys.exit(main_check(sys.argv[1:]))
