"""The Gaussian KL term of the variational autoencoder's loss, forward and backward by hand.

Used by :class:`tinyae.models.vae.VariationalAutoencoder` (lesson 17).
"""

import numpy as np

from ..errors import ForwardNotCalledError, ShapeError


class GaussianKL:
    """KL divergence of ``N(μ, σ²)`` from ``N(0, 1)``, summed over code units, mean over the batch.

    Forward, with ``μ`` and ``log σ²`` of shape (N, K)::

        KL = (1/N) Σ_n Σ_k ½ (μ_nk² + σ_nk² − 1 − log σ_nk²)

    (the closed form for two Gaussians; it is 0 exactly when μ = 0 and σ = 1).

    Backward::

        dKL/dμ       = μ / N
        dKL/d log σ² = ½ (σ² − 1) / N      (because d σ²/d log σ² = σ²)
    """

    def __init__(self):
        self.cache = None

    def forward(self, mu, logvar):
        if mu.shape != logvar.shape or mu.ndim != 2:
            raise ShapeError(f"GaussianKL expected mu and logvar of the same shape (N, K), "
                             f"got {mu.shape} and {logvar.shape}")
        var = np.exp(logvar)
        self.cache = (mu, var)
        return 0.5 * float(np.sum(mu * mu + var - 1 - logvar)) / mu.shape[0]

    def backward(self):
        """``(dKL/dμ, dKL/d log σ²)``, each of shape (N, K)."""
        if self.cache is None:
            raise ForwardNotCalledError("GaussianKL.backward was called before forward")
        mu, var = self.cache
        N = mu.shape[0]
        return mu / N, 0.5 * (var - 1) / N

    def __repr__(self):
        return "GaussianKL()"
