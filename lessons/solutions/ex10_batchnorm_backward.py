"""Solution to exercise 10 (instructors): batch normalization, forward and backward.

Forward. Train mode normalizes with the batch's mean and biased variance (np.var's
default, ddof=0) and moves the running statistics towards the batch's, the
variance unbiased (ddof=1); eval mode uses the running statistics and returns them
unchanged.

Backward, with σ = √(σ² + ε) and dx̂ = γ·dy:

    dβ = Σ_n dy,   dγ = Σ_n dy·x̂                                    (over the batch)
    dL/dσ² = −½ σ⁻³ Σ_n dx̂·(x − μ),   dL/dμ = −(1/σ) Σ_n dx̂
    dx = dx̂/σ + dL/dσ²·2(x − μ)/N + dL/dμ/N
       = (1/(N·σ)) · (N·dx̂ − Σ_n dx̂ − x̂·Σ_n(dx̂·x̂))

The running statistics play no part in the train-mode backward.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    if training:
        N = x.shape[0]
        mean, var = x.mean(axis=0), x.var(axis=0)                      # biased: 1/N
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)   # unbiased
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    y = gamma * (x - mean) / np.sqrt(var + eps) + beta
    return y, new_mean, new_var


def batchnorm_backward(x, gamma, beta, running_mean, running_var, eps, grad_out):
    N = x.shape[0]
    std = np.sqrt(x.var(axis=0) + eps)                                 # (F,)
    x_hat = (x - x.mean(axis=0)) / std                                 # (N, F)
    dx_hat = grad_out * gamma                                          # (N, F)
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * std)
    return dx, (grad_out * x_hat).sum(axis=0), grad_out.sum(axis=0)
