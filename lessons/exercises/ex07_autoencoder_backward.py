r"""Exercise 7: the full backward pass of the shallow autoencoder.

The textbook model, $\hat x = σ(W_2\, σ(W_1 x + b_1) + b_2)$, in tinyae's row
convention (one sample per row, so each W is the transpose of the textbook's):

    $$
    z_1 = x W_1 + b_1, \qquad h = σ(z_1) \qquad \text{(the code)}
    $$
    $$
    z_2 = h W_2 + b_2, \qquad \hat x = σ(z_2) \qquad \text{(the reconstruction)}
    $$
    $$
    L = \frac{1}{N} \sum_n \sum_j (\hat x_{nj} - x_{nj})^2
    $$

The loss is the squared error, summed over the features and averaged over the
batch. The shapes: x (N, D), W1 (D, H), b1 (H,), W2 (H, D), b2 (D,).

Task
----
Return the four parameter gradients (dW1, db1, dW2, db2), each of the shape of
its parameter. (The target is the input x itself: that is what makes it an
autoencoder.)

Derive
------
Backward is forward in reverse, one step per line; exercises 1, 4 and 5 are
the pieces:

1. $∂L/∂\hat x$ (exercise 5)
2. $∂L/∂z_2$ through the output sigmoid (exercise 1)
3. dW2, db2 and $∂L/∂h$ through the second dense layer (exercise 4)
4. $∂L/∂z_1$ through the hidden sigmoid
5. dW1, db1 through the first dense layer

Write the shape next to every line. Each σ' belongs at that layer's
pre-activation: $σ'(z_2) = \hat x(1 - \hat x)$ and $σ'(z_1) = h(1 - h)$.

Check your answer
-----------------
    tinyae check lessons/exercises/ex07_autoencoder_backward.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)

from tinyae.activations import sigmoid  # noqa: F401  (a numerically stable σ)


def autoencoder_backward(x, W1, b1, W2, b2):
    """Gradients of L = (1/N) Σ ||σ(σ(x @ W1 + b1) @ W2 + b2) − x||² w.r.t. W1, b1, W2, b2.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    W1 : ndarray, shape (D, H)
    b1 : ndarray, shape (H,)
    W2 : ndarray, shape (H, D)
    b2 : ndarray, shape (D,)

    Returns
    -------
    dW1 : ndarray, shape (D, H)
    db1 : ndarray, shape (H,)
    dW2 : ndarray, shape (H, D)
    db2 : ndarray, shape (D,)
    """
    raise NotImplementedError("run the forward pass, then go backward one layer at a time")
