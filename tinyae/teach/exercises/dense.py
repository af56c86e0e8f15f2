"""Exercise 4: the dense layer's backward pass, y = x @ W + b."""

import numpy as np

from .spec import (
    Exercise,
    Mistake,
    batch_size,
    register,
)


def _dense_inputs(shape, rng):
    N, n_in, n_out = shape
    return (rng.standard_normal((N, n_in)), rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
            rng.standard_normal(n_out), rng.standard_normal((N, n_out)))


register(Exercise(
    function="dense_backward", points=2, file="ex04_dense_backward",
    args=("x", "W", "b", "grad_out"), outputs=("dx", "dW", "db"), wrt=("x", "W", "b"),
    forward="y = x @ W + b",
    shape_names=("N", "n_in", "n_out"), shapes=((1, 3, 4), (4, 5, 3), (3, 4, 4), (5, 2, 6)),
    make_inputs=_dense_inputs,
    reference=lambda x, W, b, g: (g @ W.T, x.T @ g, g.sum(axis=0)),
    loss=lambda x, W, b, g: float(np.sum((x @ W + b) * g)),
    sizes=batch_size,
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

