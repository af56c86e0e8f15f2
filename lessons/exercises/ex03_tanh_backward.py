r"""Exercise 3: the backward pass of tanh.

Element by element,

    $$ a = \tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}} $$

z, a, grad_out and the answer dz all have the same shape, e.g. (N, D).

Task
----
Given grad_out $= ∂L/∂a$, return dz $= ∂L/∂z$.

Derive
------
1. $\tanh'(z)$, and show that it can be written with the output alone:
   $\tanh'(z) = 1 - \tanh^2(z)$.
2. The chain rule entry by entry:
   $∂L/∂z_{nj} = ∂L/∂a_{nj} · \tanh'(z_{nj})$.

Careful: the derivative belongs at the input z. A formula written with the
output $a = \tanh(z)$ must be given a, not z.

Check your answer
-----------------
    tinyae check lessons/exercises/ex03_tanh_backward.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)


def tanh_backward(z, grad_out):
    """dL/dz for a = tanh(z), given grad_out = dL/da.

    Parameters
    ----------
    z : ndarray, shape (N, D)
    grad_out : ndarray, shape (N, D)

    Returns
    -------
    dz : ndarray, shape (N, D)
    """
    raise NotImplementedError("derive tanh'(z) and apply the chain rule")
