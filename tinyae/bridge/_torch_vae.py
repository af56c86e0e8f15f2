"""The PyTorch twin of `tinyae.VariationalAutoencoder`, imported only by `tinyae.interop`.

This file imports ``torch``, so ``import tinyae`` never imports it: :func:`tinyae.to_torch`
imports it the first time a variational model is converted. The class uses nothing
from tinyae, so a PyTorch user can copy it (``docs/pytorch.md`` prints it) and load an
exported file without tinyae installed.
"""

import torch
from torch import nn


class VAE(nn.Module):
    """Encoder to ``(μ, log σ²)``, the code ``z = μ + σ·ε``, decoder to ``x̂``.

    Parameters
    ----------
    encoder, decoder : nn.Sequential
    mu, logvar : nn.Linear
        The two heads, ``h -> μ`` and ``h -> log σ²``.
    beta : float
        Weight of the KL term in the loss (kept for :func:`tinyae.from_torch`).
    seed : int
        The tinyae model's noise seed (kept for :func:`tinyae.from_torch`; PyTorch draws
        ``ε`` from its own generator).

    ``forward(x, eps=None)`` returns ``(x̂, μ, log σ²)``. Without ``eps`` it draws
    ``ε ~ N(0, I)`` in train mode and takes ``ε = 0`` (decodes the mean, like tinyae's
    ``reconstruct``) in eval mode. State-dict names: ``encoder.0.weight``,
    ``mu.weight``, ``logvar.bias``, ``decoder.2.weight``, ...
    """

    def __init__(self, encoder, mu, logvar, decoder, beta=1.0, seed=0):
        super().__init__()
        self.encoder, self.mu, self.logvar, self.decoder = encoder, mu, logvar, decoder
        self.beta, self.seed = float(beta), int(seed)

    def forward(self, x, eps=None):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        if eps is None:
            eps = torch.randn_like(mu) if self.training else torch.zeros_like(mu)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mu, logvar
