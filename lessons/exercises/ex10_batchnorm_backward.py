r"""Exercise 10: batch normalization, forward (train and eval mode) and backward.

BatchNorm normalizes each feature j over the batch of N samples, then lets the
network rescale and shift it with learnable $γ_j$ and $β_j$ (Ioffe & Szegedy,
2015). With x of shape (N, F), in train mode the batch mean and the batch
variance (biased: 1/N), both of shape (F,), are

    $$ μ_j = \frac{1}{N} \sum_n x_{nj} $$
    $$ σ^2_j = \frac{1}{N} \sum_n (x_{nj} - μ_j)^2 $$

and each value is normalized, then rescaled and shifted:

    $$ \hat x_{nj} = \frac{x_{nj} - μ_j}{\sqrt{σ^2_j + ε}} $$
    $$ y_{nj} = γ_j \hat x_{nj} + β_j $$

The layer keeps running statistics for eval mode, updated in train mode with
PyTorch's convention (the *unbiased* variance, 1/(N - 1), for the running one),
where m is the momentum:

    $$ \text{running_mean} ← (1 - m)\,\text{running_mean} + m\,μ $$
    $$ \text{running_var} ← (1 - m)\,\text{running_var} + m\,σ^2 \frac{N}{N - 1} $$

In eval mode the running statistics take the place of $μ$ and $σ^2$, and are not
changed: $y = γ\,(x - \text{running_mean}) / \sqrt{\text{running_var} + ε} + β$.

Task (two functions)
--------------------
a) batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps,
   training): return (y, new_running_mean, new_running_var). In eval mode
   (training=False) the "new" running statistics are the old ones. Return new
   arrays: do not change running_mean or running_var in place.

b) batchnorm_backward(x, gamma, beta, running_mean, running_var, eps, grad_out):
   the backward pass of the *train-mode* forward. grad_out $= ∂L/∂y$,
   shape (N, F). Return (dx, dgamma, dbeta) with shapes (N, F), (F,), (F,). The
   running statistics are passed because a layer has them at hand; decide
   whether the train-mode gradient needs them.

Derive
------
1. dβ and dγ: $β_j$ and $γ_j$ are used by every sample of feature j.
2. $∂L/∂\hat x = γ · ∂L/∂y$. Then $\hat x$ depends on $x_{nj}$ three ways:
   directly, through $μ_j$ and through $σ^2_j$, and $μ_j$, $σ^2_j$ depend on
   *every* $x_{nj}$ of the batch. Draw the graph $x → μ → σ^2 → \hat x$ and add
   the three paths. Writing $g_{nj}$ for $∂L/∂\hat x_{nj}$:

   $$\frac{∂L}{∂σ^2_j} = -\frac{1}{2} (σ^2_j + ε)^{-3/2} \sum_n g_{nj} (x_{nj} - μ_j)$$

   $$ \frac{∂L}{∂μ_j} = -\frac{1}{\sqrt{σ^2_j + ε}} \sum_n g_{nj} $$

   (the path through $σ^2$ adds nothing here, since $\sum_n (x_{nj} - μ_j) = 0$), and

   $$
   \frac{∂L}{∂x_{nj}} = \frac{g_{nj}}{\sqrt{σ^2_j + ε}}
       + \frac{∂L}{∂σ^2_j} · \frac{2 (x_{nj} - μ_j)}{N} + \frac{1}{N} \frac{∂L}{∂μ_j}
   $$

3. Simplify to one line in dy, $\hat x$ and two sums over the batch.

Check your answer
-----------------
    tinyae check lessons/exercises/ex10_batchnorm_backward.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """BatchNorm's forward pass, and its new running statistics.

    Parameters
    ----------
    x : ndarray, shape (N, F)
    gamma, beta : ndarray, shape (F,)
    running_mean, running_var : ndarray, shape (F,)
    momentum : float in (0, 1)
        Weight of the batch in the update of the running statistics.
    eps : float
        Added to the variance before the square root.
    training : bool
        True: train mode (batch statistics); False: eval mode (running statistics).

    Returns
    -------
    y : ndarray, shape (N, F)
    new_running_mean, new_running_var : ndarray, shape (F,)
    """
    raise NotImplementedError("normalize with the statistics of the mode, then update them")


def batchnorm_backward(x, gamma, beta, running_mean, running_var, eps, grad_out):
    """dL/dx, dL/dγ, dL/dβ of BatchNorm in train mode.

    Parameters
    ----------
    x : ndarray, shape (N, F)
        The input of the forward pass.
    gamma, beta : ndarray, shape (F,)
    running_mean, running_var : ndarray, shape (F,)
    eps : float
    grad_out : ndarray, shape (N, F)
        dL/dy.

    Returns
    -------
    dx : ndarray, shape (N, F)
    dgamma, dbeta : ndarray, shape (F,)
    """
    raise NotImplementedError("add the three paths from x to x̂: direct, via μ, via σ²")
