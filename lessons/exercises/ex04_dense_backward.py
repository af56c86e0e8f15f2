r"""Exercise 4: the backward pass of a dense (fully connected) layer.

tinyae uses the row convention: a batch x holds N samples, one per row, and
y = x @ W + b in NumPy, that is

    $$ y_{nj} = \sum_i x_{ni} W_{ij} + b_j $$

with x of shape (N, n_in), W (n_in, n_out), b (n_out,) and y (N, n_out).
(A textbook's column convention $y = W' x + b$ for one sample is the same
layer with $W' = W^\top$.)

Task
----
Some scalar loss L further on has been differentiated already:
grad_out $= ∂L/∂y$, shape (N, n_out). Return the three gradients
dx $= ∂L/∂x$ (N, n_in), dW $= ∂L/∂W$ (n_in, n_out)
and db $= ∂L/∂b$ (n_out,).

Derive
------
1. Differentiate one entry: $∂y_{nj}/∂W_{ik}$,
   $∂y_{nj}/∂x_{mi}$ and $∂y_{nj}/∂b_k$. Then sum
   the chain rule over every $y_{nj}$:
   $∂L/∂W_{ik} = \sum_n \sum_j ∂L/∂y_{nj} · ∂y_{nj}/∂W_{ik}$,
   and so on.
2. Write each sum as a matrix product or a sum over an axis.
3. Check the shapes: a gradient has the shape of what it differentiates.

grad_out already contains the loss's 1/N (tinyae's losses average over the
batch), so a layer adds no 1/N of its own: the weights and the bias are
shared by all N samples, and their gradients *sum* the samples' contributions.

Check your answer
-----------------
    tinyae check lessons/exercises/ex04_dense_backward.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)


def dense_backward(x, W, b, grad_out):
    """Gradients of y = x @ W + b, given grad_out = dL/dy.

    Parameters
    ----------
    x : ndarray, shape (N, n_in)
    W : ndarray, shape (n_in, n_out)
    b : ndarray, shape (n_out,)
    grad_out : ndarray, shape (N, n_out)

    Returns
    -------
    dx : ndarray, shape (N, n_in)
    dW : ndarray, shape (n_in, n_out)
    db : ndarray, shape (n_out,)
    """
    raise NotImplementedError("derive dx, dW and db, then return them in that order")
