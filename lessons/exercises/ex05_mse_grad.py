r"""Exercise 5: the gradient of the mean squared error.

tinyae's losses sum over the features of a sample and average over the batch.
For predictions $\hat y$ (y_pred) and targets y (y_true), both of shape (N, D):

    $$ L = \frac{1}{N} \sum_n \sum_j (\hat y_{nj} - y_{nj})^2 $$

So L is the squared error *per sample* (summed over its D features), not the
mean over all N·D entries that np.mean would give.

Task
----
Return $∂L/∂\hat y$, shape (N, D).

Derive
------
1. $∂L/∂\hat y_{nj}$: only one term of the double sum contains
   $\hat y_{nj}$.
2. Count the factors: one from differentiating the square, one from the
   average over the batch. None from the features.

Check your answer
-----------------
    tinyae check lessons/exercises/ex05_mse_grad.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you may need it)


def mse_grad(y_pred, y_true):
    """dL/dŷ for L = (1/N) Σ_n Σ_j (ŷ_nj − y_nj)².

    Parameters
    ----------
    y_pred : ndarray, shape (N, D)
        The predictions ŷ.
    y_true : ndarray, shape (N, D)
        The targets y.

    Returns
    -------
    dy_pred : ndarray, shape (N, D)
    """
    raise NotImplementedError("differentiate the squared error, batch mean included")
