"""Exercise 9: the KL sparsity penalty of a sparse autoencoder.

A sparse autoencoder asks each hidden unit to be active only rarely: on
average over the batch, unit j's activation should be a small target ρ
(e.g. 0.05). With sigmoid hidden activations h of shape (N, H):

    ρ̂_j = (1/N) Σ_n h_nj                         (mean activation of unit j, shape (H,))
    KL(ρ ‖ ρ̂_j) = ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j))
    L_sparse = β Σ_j KL(ρ ‖ ρ̂_j)

KL(ρ ‖ ρ̂) is 0 when ρ̂ = ρ and grows as ρ̂ moves away; β ≥ 0 weighs the
penalty against the reconstruction loss (Ng, "Sparse autoencoder", CS294A
lecture notes, 2011).

Task
----
Return dL_sparse/dh, shape (N, H): the gradient that is added to the hidden
layer's incoming gradient in backward.

Derive
------
1. d KL(ρ ‖ ρ̂)/dρ̂ (ρ is a constant).
2. ∂ρ̂_j/∂h_nj: every sample moves the mean by the same amount.
3. Chain rule: dL/dh_nj = dL/dρ̂_j · ∂ρ̂_j/∂h_nj. Every row of the answer is
   the same; the answer still has one row per sample.

Check your answer
-----------------
    tinyae check lessons/exercises/ex09_sparsity_kl.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)


def kl_sparsity_grad(h, rho, beta):
    """dL/dh for L = β Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j = mean of h over the batch.

    Parameters
    ----------
    h : ndarray, shape (N, H), entries in (0, 1)
        Hidden activations of a batch.
    rho : float
        The target mean activation ρ, in (0, 1).
    beta : float
        The weight β of the penalty.

    Returns
    -------
    dh : ndarray, shape (N, H)
    """
    raise NotImplementedError("differentiate the KL divergence, then go through the mean")
