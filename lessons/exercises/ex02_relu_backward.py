"""Exercise 2: the backward pass of the ReLU.

The rectified linear unit keeps positive entries and zeroes the others:

    a = max(0, z)        (element-wise)

z, a, grad_out and the answer dz all have the same shape, e.g. (N, D).

Task
----
Given grad_out = dL/da, return dz = dL/dz.

Derive
------
1. The derivative of max(0, z) for z > 0 and for z < 0. (At z = 0 the ReLU
   has a kink and no derivative; tinyae takes 0 there. The checker never puts
   an input at the kink.)
2. The chain rule entry by entry: dL/dz_nj = dL/da_nj · f'(z_nj). Which
   entries of grad_out pass through, and which are stopped?

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
