r"""Exercise 11: dropout, forward (train and eval mode) and backward.

While training, dropout zeroes each value with probability p, independently, so
that no unit can rely on any one other (Srivastava et al., 2014). *Inverted*
dropout, as in PyTorch and tinyae, divides the values it keeps by $1 - p$, so
the expected output equals the input; then eval mode needs no correction and
simply passes x through.

Here the randomness is handed to you: u has the shape of x and holds uniform
numbers in [0, 1), one per value. Value (n, j) is kept when $u_{nj} ≥ p$
(which happens with probability $1 - p$) and dropped when $u_{nj} < p$. Use u;
do not draw random numbers of your own.

Task (two functions)
--------------------
a) dropout_forward(x, p, u, training): return y, shape (N, D), in train mode
   (training=True) and in eval mode (training=False).

b) dropout_backward(x, p, u, grad_out): the backward pass of the *train-mode*
   forward with the same u. grad_out $= ∂L/∂y$, shape (N, D).
   Return dx $= ∂L/∂x$, shape (N, D).

Derive
------
1. Write $y_{nj} = x_{nj}\, m_{nj}$. What is the mask $m_{nj}$, scale included?
2. What is $\mathbb{E}[y_{nj}]$ over the randomness of u? Why is no scaling
   needed in eval mode?
3. $∂y_{nj}/∂x_{nj} = {?}$ A layer computes the mask in forward
   and keeps it in its cache for backward: why must backward use that mask,
   and not a new one?

Check your answer
-----------------
    tinyae check lessons/exercises/ex11_dropout.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)


def dropout_forward(x, p, u, training):
    """Inverted dropout's forward pass.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    p : float in [0, 1)
        Probability of dropping each value in train mode.
    u : ndarray, shape (N, D)
        Uniform numbers in [0, 1): value (n, j) is kept when u[n, j] >= p.
    training : bool
        True: train mode (drop); False: eval mode.

    Returns
    -------
    y : ndarray, shape (N, D)
    """
    raise NotImplementedError("build the mask from u; remember the scale, and eval mode")


def dropout_backward(x, p, u, grad_out):
    """dL/dx of dropout in train mode, for the mask given by u.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        The input of the forward pass.
    p : float in [0, 1)
    u : ndarray, shape (N, D)
        The same uniforms as in the forward pass.
    grad_out : ndarray, shape (N, D)
        dL/dy.

    Returns
    -------
    dx : ndarray, shape (N, D)
    """
    raise NotImplementedError("y = x·mask: what is dy/dx?")
