r"""Exercise 2: the backward pass of the ReLU.

The rectified linear unit keeps positive entries and zeroes the others,
element by element:

    $$ a = \max(0, z) $$

z, a, grad_out and the answer dz all have the same shape, e.g. (N, D).

Task
----
Given grad_out $= ∂L/∂a$, return dz $= ∂L/∂z$.

Derive
------
1. The derivative of $\max(0, z)$ for $z > 0$ and for $z < 0$. (At $z = 0$ the
   ReLU has a kink and no derivative; tinyae takes 0 there. The checker never
   puts an input at the kink.)
2. The chain rule entry by entry:
   $∂L/∂z_{nj} = ∂L/∂a_{nj} · f'(z_{nj})$.
   Which entries of grad_out pass through, and which are stopped?

Check your answer
-----------------
    tinyae check lessons/exercises/ex02_relu_backward.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)


def relu_backward(z, grad_out):
    """dL/dz for a = max(0, z), given grad_out = dL/da.

    Parameters
    ----------
    z : ndarray, shape (N, D)
        The pre-activation (the ReLU's input).
    grad_out : ndarray, shape (N, D)
        dL/da.

    Returns
    -------
    dz : ndarray, shape (N, D)
    """
    raise NotImplementedError("which entries does the ReLU let the gradient through?")
