"""Exercise 10: batch normalization, forward (train and eval mode) and backward.

BatchNorm normalizes each feature j over the batch of N samples, then lets the
network rescale and shift it with learnable γ_j and β_j (Ioffe & Szegedy, 2015).
With x of shape (N, F), in train mode:

    μ_j  = (1/N) Σ_n x_nj                       the batch mean,     shape (F,)
    σ²_j = (1/N) Σ_n (x_nj − μ_j)²              the batch variance (biased: 1/N)
    x̂_nj = (x_nj − μ_j) / √(σ²_j + ε)
    y_nj = γ_j · x̂_nj + β_j

and the layer keeps running statistics for eval mode, updated in train mode
with PyTorch's convention (the *unbiased* variance, 1/(N − 1), for the running one):

    running_mean ← (1 − momentum)·running_mean + momentum·μ
    running_var  ← (1 − momentum)·running_var  + momentum·σ²·N/(N − 1)

In eval mode the running statistics take the place of μ and σ², and are not
changed: y = γ·(x − running_mean)/√(running_var + ε) + β.

Task (two functions)
--------------------
a) batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps,
   training): return (y, new_running_mean, new_running_var). In eval mode
   (training=False) the "new" running statistics are the old ones. Return new
   arrays: do not change running_mean or running_var in place.

b) batchnorm_backward(x, gamma, beta, running_mean, running_var, eps, grad_out):
   the backward pass of the *train-mode* forward. grad_out = dL/dy, shape (N, F).
   Return (dx, dgamma, dbeta) with shapes (N, F), (F,), (F,). The running
   statistics are passed because a layer has them at hand; decide whether the
   train-mode gradient needs them.

Derive
------
1. dβ and dγ: β_j and γ_j are used by every sample of feature j.
2. dx̂ = γ·dy. Then x̂ depends on x_nj three ways: directly, through μ_j and
   through σ²_j, and μ_j, σ²_j depend on *every* x_nj of the batch. Draw the
   graph x → μ → σ² → x̂ and add the three paths:
       dL/dσ²_j = Σ_n dx̂_nj · (x_nj − μ_j) · (−½)(σ²_j + ε)^(−3/2)
       dL/dμ_j  = −Σ_n dx̂_nj / √(σ²_j + ε)     (the path through σ² adds
                                                Σ_n (x_nj − μ_j) = 0)
       dL/dx_nj = dx̂_nj/√(σ²_j + ε) + dL/dσ²_j · 2(x_nj − μ_j)/N + dL/dμ_j / N
3. Simplify to one line in dy, x̂ and two sums over the batch.

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
