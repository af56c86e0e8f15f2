"""Exercise 7: the whole backward pass of the shallow sigmoid autoencoder."""

import numpy as np

from ...nn.activations import sigmoid
from .spec import (
    Exercise,
    Mistake,
    batch_and_features,
    dsigmoid,
    register,
)


def _autoencoder_inputs(shape, rng):
    N, D, H = shape
    return (rng.uniform(0, 1, (N, D)), rng.standard_normal((D, H)), 0.5 * rng.standard_normal(H),
            rng.standard_normal((H, D)), 0.5 * rng.standard_normal(D))


def _autoencoder_loss(x, W1, b1, W2, b2):
    x_hat = sigmoid(sigmoid(x @ W1 + b1) @ W2 + b2)
    return float(np.sum((x_hat - x) ** 2)) / len(x)


def _sigmoid_prime(a, z):
    """σ'(z) = a(1 − a), from the layer's output ``a`` (its pre-activation ``z`` unused)."""
    return dsigmoid(a)


def _autoencoder_deltas(x, W1, b1, W2, b2, d_out=_sigmoid_prime, d_hid=_sigmoid_prime,
                        W2_back=None):
    """``h``, ``dz1``, ``dz2`` of the backward pass; the keywords plant mistakes.

    ``d_out(a, z)``, ``d_hid(a, z)``: what multiplies the gradient at the output and
    the hidden sigmoid, from the layer's output ``a`` and pre-activation ``z``;
    ``W2_back(W2)``: the matrix the gradient flows back through (``W2.T`` when right).
    """
    z1 = x @ W1 + b1
    h = sigmoid(z1)                                  # (N, H)
    z2 = h @ W2 + b2
    x_hat = sigmoid(z2)                              # (N, D)
    dx_hat = 2 * (x_hat - x) / len(x)                # MSE: dL/dx̂
    dz2 = dx_hat * d_out(x_hat, z2)                  # through the output sigmoid
    dh = dz2 @ (W2.T if W2_back is None else W2_back(W2))
    dz1 = dh * d_hid(h, z1)                          # through the hidden sigmoid
    return h, dz1, dz2


def _autoencoder_grads(x, W1, b1, W2, b2, **mistake):
    h, dz1, dz2 = _autoencoder_deltas(x, W1, b1, W2, b2, **mistake)
    return x.T @ dz1, dz1.sum(axis=0), h.T @ dz2, dz2.sum(axis=0)


def _ae_mistake(label, explanation, **mistake):
    return Mistake(label, explanation, lambda *args: _autoencoder_grads(*args, **mistake))


def _sigmoid_prime_of_output(a, z):
    """σ'(a) = σ(a)(1 − σ(a)): the derivative evaluated at the output a instead of at z."""
    return dsigmoid(sigmoid(a))


def _formula_fed_z(a, z):
    """a(1 − a) with the pre-activation z put in for a: z(1 − z)."""
    return z * (1 - z)


def _left_out(a, z):
    return 1.0


def _ae_bias_mistakes(label, explanation, reduce):
    """The same wrong ``reduce`` of the deltas, for db1 (from dz1) and db2 (from dz2)."""
    return (Mistake(label, explanation, lambda *a: reduce(_autoencoder_deltas(*a)[1]), "db1"),
            Mistake(label, explanation, lambda *a: reduce(_autoencoder_deltas(*a)[2]), "db2"))


register(Exercise(
    function="autoencoder_backward", points=3, file="ex07_autoencoder_backward",
    args=("x", "W1", "b1", "W2", "b2"), outputs=("dW1", "db1", "dW2", "db2"),
    wrt=("W1", "b1", "W2", "b2"),
    forward="h = σ(x @ W1 + b1), x̂ = σ(h @ W2 + b2), L = (1/N) Σ_n Σ_j (x̂_nj − x_nj)²",
    shape_names=("N", "D", "H"), shapes=((1, 5, 3), (4, 6, 3), (3, 4, 4), (5, 3, 7)),
    make_inputs=_autoencoder_inputs,
    reference=_autoencoder_grads,
    loss=_autoencoder_loss,
    sizes=batch_and_features,
    mistakes=(
        _ae_mistake("activation's value where its derivative belongs",
                    "multiplied by a sigmoid's output a = σ(z) where σ'(z) = a(1 − a) belongs",
                    d_out=lambda a, z: a, d_hid=lambda a, z: a),
        _ae_mistake("activation's value where its derivative belongs",
                    "at the output layer: multiplied by x̂ where x̂(1 − x̂) belongs",
                    d_out=lambda a, z: a),
        _ae_mistake("activation's value where its derivative belongs",
                    "at the hidden layer: multiplied by h where h(1 − h) belongs",
                    d_hid=lambda a, z: a),
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
                    d_out=_left_out),
        _ae_mistake("left out the hidden sigmoid's derivative",
                    "dz1 = dh is missing the factor σ'(z1) = h(1 − h): the gradient passes "
                    "through the hidden sigmoid on its way to W1 and b1 (dz1 = dh * h * (1 − h))",
                    d_hid=_left_out),
        _ae_mistake("left out both sigmoids' derivatives",
                    "dz2 = dx̂ and dz1 = dh: each sigmoid multiplies the gradient passing "
                    "through it by its derivative, x̂(1 − x̂) and h(1 − h)",
                    d_out=_left_out, d_hid=_left_out),
        _ae_mistake("derivative taken at the wrong point",
                    "at the hidden layer: used a(1 − a) with z1 in place of a; that formula "
                    "needs the output h = σ(z1): dz1 = dh * h * (1 − h)",
                    d_hid=_formula_fed_z),
        _ae_mistake("derivative taken at the wrong point",
                    "at the output layer: used a(1 − a) with z2 in place of a; that formula "
                    "needs the output x̂ = σ(z2): dz2 = dx̂ * x̂ * (1 − x̂)",
                    d_out=_formula_fed_z),
        _ae_mistake("derivative taken at the wrong point",
                    "used a(1 − a) with the pre-activations z1, z2 in place of a; that formula "
                    "needs the sigmoid's outputs h and x̂", d_out=_formula_fed_z,
                    d_hid=_formula_fed_z),
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

