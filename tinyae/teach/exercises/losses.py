"""Exercises 5-6: the gradients of the squared error and of the cross-entropy."""

import numpy as np

from ...nn.activations import sigmoid
from ...nn.losses import softplus
from .spec import (
    Exercise,
    Mistake,
    batch_and_features,
    dsigmoid,
    register,
)


def _two_normal(shape, rng):
    return rng.standard_normal(shape), rng.standard_normal(shape)


register(Exercise(
    function="mse_grad", file="ex05_mse_grad",
    args=("y_pred", "y_true"), outputs=("dy_pred",), wrt=("y_pred",),
    forward="L = (1/N) Σ_n Σ_j (ŷ_nj − y_nj)²",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=_two_normal,
    reference=lambda y_pred, y_true: 2 * (y_pred - y_true) / len(y_pred),
    loss=lambda y_pred, y_true: float(np.sum((y_pred - y_true) ** 2)) / len(y_pred),
    sizes=batch_and_features,
))


def _probabilities_and_targets(shape, rng):
    return rng.uniform(0.1, 0.9, size=shape), rng.uniform(0, 1, size=shape)


register(Exercise(
    function="bce_grad", file="ex06_bce_grad",
    args=("p", "y"), outputs=("dp",), wrt=("p",),
    forward="L = −(1/N) Σ_n Σ_j [y log p + (1 − y) log(1 − p)]",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=_probabilities_and_targets,
    reference=lambda p, y: (p - y) / (p * (1 - p)) / len(p),
    loss=lambda p, y: -float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))) / len(p),
    sizes=batch_and_features,
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

register(Exercise(
    function="bce_logits_grad", file="ex06_bce_grad",
    args=("z", "y"), outputs=("dz",), wrt=("z",),
    forward="L = (1/N) Σ_n Σ_j [softplus(z) − y·z], i.e. cross-entropy of p = σ(z)",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=lambda shape, rng: (2 * rng.standard_normal(shape), rng.uniform(0, 1, shape)),
    reference=lambda z, y: (sigmoid(z) - y) / len(z),
    loss=lambda z, y: float(np.sum(softplus(z) - y * z)) / len(z),
    sizes=batch_and_features,
    mistakes=(
        Mistake("used z where σ(z) belongs",
                "computed (z − y)/N; the prediction is p = σ(z), so dL/dz = (σ(z) − y)/N",
                lambda z, y: (z - y) / len(z)),
        Mistake("extra derivative factor",
                "multiplied by σ'(z) = σ(z)(1 − σ(z)); in the fused gradient that factor has "
                "already cancelled against the cross-entropy's 1/(p(1 − p))",
                lambda z, y: (sigmoid(z) - y) * dsigmoid(sigmoid(z)) / len(z)),
    ),
))

