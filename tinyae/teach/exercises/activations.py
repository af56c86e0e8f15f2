"""Exercises 1-3: the backward pass of an activation, dz = grad_out · f'(z)."""

import numpy as np

from ...nn.activations import sigmoid
from .spec import (
    Exercise,
    Mistake,
    away_from_zero,
    batch_size,
    dsigmoid,
    register,
    z_and_grad_out,
)

# ----- 1-3: activations, dz = grad_out * f'(z) ------------------------------------------

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



register(Exercise(
    function="sigmoid_backward", file="ex01_sigmoid_backward",
    args=("z", "grad_out"), outputs=("dz",), wrt=("z",),
    forward="a = σ(z) = 1 / (1 + e^(−z)), element-wise",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=z_and_grad_out,
    reference=lambda z, grad_out: grad_out * dsigmoid(sigmoid(z)),
    loss=lambda z, grad_out: float(np.sum(sigmoid(z) * grad_out)),
    sizes=batch_size,
    mistakes=_activation_mistakes(sigmoid, lambda z: dsigmoid(sigmoid(z)),
                                  "σ(z)(1 − σ(z))") + (
        Mistake("derivative taken at the wrong point",
                "used a(1 − a) with z in place of a; that formula needs the output a = σ(z)",
                lambda z, g: g * z * (1 - z)),
    ),
))

register(Exercise(
    function="relu_backward", file="ex02_relu_backward",
    args=("z", "grad_out"), outputs=("dz",), wrt=("z",),
    forward="a = max(0, z), element-wise",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=lambda shape, rng: (away_from_zero(rng, shape), rng.standard_normal(shape)),
    reference=lambda z, grad_out: grad_out * (z > 0),
    loss=lambda z, grad_out: float(np.sum(np.maximum(z, 0) * grad_out)),
    sizes=batch_size,
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

register(Exercise(
    function="tanh_backward", file="ex03_tanh_backward",
    args=("z", "grad_out"), outputs=("dz",), wrt=("z",),
    forward="a = tanh(z), element-wise",
    shape_names=("N", "D"), shapes=((1, 4), (3, 5), (6, 3), (4, 7)),
    make_inputs=z_and_grad_out,
    reference=lambda z, grad_out: grad_out * (1 - np.tanh(z) ** 2),
    loss=lambda z, grad_out: float(np.sum(np.tanh(z) * grad_out)),
    sizes=batch_size,
    mistakes=_activation_mistakes(np.tanh, lambda z: 1 - np.tanh(z) ** 2, "1 − tanh(z)²") + (
        Mistake("derivative taken at the wrong point",
                "used 1 − a² with z in place of a; that formula needs the output a = tanh(z)",
                lambda z, g: g * (1 - z**2)),
        Mistake("forgot the square", "tanh'(z) = 1 − tanh(z)², not 1 − tanh(z)",
                lambda z, g: g * (1 - np.tanh(z))),
    ),
))

