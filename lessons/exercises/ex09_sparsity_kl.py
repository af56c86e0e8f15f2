r"""Exercise 9: the KL sparsity penalty of a sparse autoencoder.

A sparse autoencoder asks each hidden unit to be active only rarely: on
average over the batch, unit j's activation should be a small target ρ (rho,
e.g. 0.05). With sigmoid hidden activations h of shape (N, H), the mean
activation of unit j, over the batch, is

    $$ \hat ρ_j = \frac{1}{N} \sum_n h_{nj} $$

(a vector of shape (H,)), and the penalty, weighed by $β ≥ 0$ (beta) against
the reconstruction loss, is

    $$
    \mathrm{KL}(ρ \,\|\, \hat ρ_j)
        = ρ \log\frac{ρ}{\hat ρ_j} + (1 - ρ) \log\frac{1 - ρ}{1 - \hat ρ_j}
    $$
    $$ L_\text{sparse} = β \sum_j \mathrm{KL}(ρ \,\|\, \hat ρ_j) $$

$\mathrm{KL}(ρ \,\|\, \hat ρ)$ is 0 when $\hat ρ = ρ$ and grows as $\hat ρ$
moves away (Ng, "Sparse autoencoder", CS294A lecture notes, 2011).

Task
----
Return $∂L_\text{sparse}/∂h$, shape (N, H): the gradient that is
added to the hidden layer's incoming gradient in backward.

Derive
------
1. $d\,\mathrm{KL}(ρ \,\|\, \hat ρ)/d\hat ρ$ (ρ is a constant).
2. $∂\hat ρ_j/∂h_{nj}$: every sample moves the mean by the same amount.
3. The chain rule:
   $∂L/∂h_{nj} = ∂L/∂\hat ρ_j · ∂\hat ρ_j/∂h_{nj}$.
   Every row of the answer is the same; the answer still has one row per sample.

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
