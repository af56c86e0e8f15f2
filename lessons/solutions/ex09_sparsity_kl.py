"""Solution to exercise 9 (instructors): the KL sparsity penalty.

    d KL(ρ ‖ ρ̂)/dρ̂ = −ρ/ρ̂ + (1 − ρ)/(1 − ρ̂)
    ∂ρ̂_j/∂h_nj = 1/N
    dL/dh_nj = (β/N) · (−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j))     (the same for every sample n)
"""

import numpy as np


def kl_sparsity_grad(h, rho, beta):
    N = h.shape[0]
    rho_hat = h.mean(axis=0)                                      # (H,)
    d_rho_hat = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))  # (H,)
    return np.tile(d_rho_hat / N, (N, 1))                         # (N, H)
