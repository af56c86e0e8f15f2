"""Exercise 7: the full backward pass of the shallow autoencoder.

The textbook model, x̂ = σ(W2·σ(W1·x + b1) + b2), in tinyae's row convention
(one sample per row, so each W is the transpose of the textbook's):

    z1 = x @ W1 + b1,    h = σ(z1)          (the code)
    z2 = h @ W2 + b2,    x̂ = σ(z2)          (the reconstruction)
    L  = (1/N) Σ_n Σ_j (x̂_nj − x_nj)²        (squared error: sum over features, mean over batch)

    x : (N, D)    W1 : (D, H)    b1 : (H,)    W2 : (H, D)    b2 : (D,)

Task
----
Return the four parameter gradients (dW1, db1, dW2, db2), each of the shape of
its parameter. (The target is the input x itself: that is what makes it an
autoencoder.)

Derive
------
Backward is forward in reverse, one step per line; exercises 1, 4 and 5 are
the pieces:

1. dL/dx̂    (exercise 5)
2. dL/dz2   through the output sigmoid (exercise 1)
3. dW2, db2 and dL/dh   through the second dense layer (exercise 4)
4. dL/dz1   through the hidden sigmoid
5. dW1, db1   through the first dense layer

Write the shape next to every line. Each σ' belongs at that layer's
pre-activation: σ'(z2) = x̂(1 − x̂) and σ'(z1) = h(1 − h).

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
