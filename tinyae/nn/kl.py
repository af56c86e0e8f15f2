"""The Gaussian KL term of the variational autoencoder's loss, forward and backward by hand.

Used by :class:`tinyae.models.vae.VariationalAutoencoder` (lesson 17).
"""

import numpy as np

from ..errors import ForwardNotCalledError, ShapeError


class GaussianKL:
    r"""KL divergence of $\mathcal{N}(μ, σ^2)$ from $\mathcal{N}(0, 1)$, summed over code units.

    Averaged over the batch. Forward, with $μ$ (``mu``) and $\log σ^2$ (``logvar``) of
    shape (N, K):

    $$\mathrm{KL} = \frac{1}{N} \sum_n \sum_k \tfrac12 (μ_{nk}^2 + σ_{nk}^2 - 1 - \log σ_{nk}^2)$$

    (the closed form for two Gaussians; it is 0 exactly when $μ = 0$ and $σ = 1$).

    Backward (the second because $\partial σ^2/\partial \log σ^2 = σ^2$):

    $$
    \frac{\partial\, \mathrm{KL}}{\partial μ} = \frac{μ}{N}, \qquad
    \frac{\partial\, \mathrm{KL}}{\partial \log σ^2} = \frac{σ^2 - 1}{2N}
    $$
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
        r"""The gradients $\partial K/\partial μ$ and $\partial K/\partial \log σ^2$ ($K$ = KL).

        A pair of arrays, each of shape (N, K).
        """
        if self.cache is None:
            raise ForwardNotCalledError("GaussianKL.backward was called before forward")
        mu, var = self.cache
        N = mu.shape[0]
        return mu / N, 0.5 * (var - 1) / N

    def __repr__(self):
        return "GaussianKL()"
