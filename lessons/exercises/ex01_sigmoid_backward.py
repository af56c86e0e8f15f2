r"""Exercise 1: the backward pass of the sigmoid.

The sigmoid squashes every entry of its input into (0, 1), element by element:

    $$ a = σ(z) = \frac{1}{1 + e^{-z}} $$

z, a, grad_out and the answer dz all have the same shape, e.g. (N, D) for a
batch of N samples with D features each (tinyae's row convention).

Task
----
Some scalar loss L further on has been differentiated already:
grad_out $= ∂L / ∂a$. Return dz $= ∂L / ∂z$.

Derive
------
1. The derivative $σ'(z)$. Show that it can be written with the output alone:
   $σ'(z) = σ(z)\,(1 - σ(z))$.
2. $a_{nj}$ depends only on $z_{nj}$, so the chain rule has a single term per
   entry: $∂L/∂z_{nj} = ∂L/∂a_{nj} · σ'(z_{nj})$.
   In NumPy, * is that element-wise product.

Check your answer
-----------------
    tinyae check lessons/exercises/ex01_sigmoid_backward.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)

from tinyae.activations import sigmoid  # noqa: F401  (a numerically stable σ)


def sigmoid_backward(z, grad_out):
    """dL/dz for a = σ(z), given grad_out = dL/da.

    Parameters
    ----------
    z : ndarray, shape (N, D)
        The pre-activation (the sigmoid's input).
    grad_out : ndarray, shape (N, D)
        dL/da, the gradient of the loss with respect to the sigmoid's output.

    Returns
    -------
    dz : ndarray, shape (N, D)
    """
    raise NotImplementedError("derive σ'(z) and apply the chain rule")
