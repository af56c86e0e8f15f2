r"""The variational autoencoder: an encoder that outputs a distribution, a decoder that samples it.

For each image the encoder gives the mean $μ$ and the log-variance
$\log σ^2$ of a Gaussian over codes, $q(z \mid x) = \mathcal{N}(μ, \operatorname{diag} σ^2)$.
Training draws one code from it with the *reparameterization trick*

$$z = μ + σ \odot ε, \qquad ε \sim \mathcal{N}(0, I)$$

(ε from the model's own seeded Generator), so that $z$ is a differentiable function of
$μ$ and $\log σ^2$ and the noise $ε$ is an input like any other. The decoder maps $z$
back to an image. The loss is the negative evidence lower bound (ELBO) of Kingma &
Welling (2014), per image and averaged over the batch:

$$
-\mathrm{ELBO} = \mathrm{reconstruction}(\hat x, x)
  + β\, \mathrm{KL}\big(q(z \mid x) \,\Vert\, \mathcal{N}(0, I)\big)
$$

With binary cross-entropy as the reconstruction term and $β = 1$ this is
exactly −ELBO for a Bernoulli decoder; with squared error it is −ELBO for a
Gaussian decoder of variance ½, up to a constant. $β \ne 1$ gives the β-VAE
(Higgins et al., 2017). New images come from decoding codes drawn from the
prior $\mathcal{N}(0, I)$.

Backward, by hand ($N$ samples, $g = \partial L/\partial z$ from the decoder's backward;
the second because $\partial z/\partial \log σ^2 = ε σ/2$):

$$
\frac{\partial J}{\partial μ} = g + \frac{βμ}{N}, \qquad
\frac{\partial J}{\partial \log σ^2} = \frac{g \odot ε \odot σ}{2} + \frac{β(σ^2 - 1)}{2N}
$$

and the hidden layer ``h`` feeds both heads, so its gradient is the sum of the
two heads' backward passes.

Reference: D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""

import numpy as np

from .._validate import as_float_dtype, check_array
from ..errors import ShapeError
from ..nn.activations import get_activation
from ..nn.dense import Dense
from ..nn.kl import GaussianKL
from ..nn.module import Module, Sequential, module_from_config, module_to_config
from ..optim.loop import evaluate, fit
from .common import (
    ModelFiles,
    _init_for,
    fuse_output,
    interpolate,
    reconstruction_error,
    run_in_eval,
)


def _as_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"VariationalAutoencoder seed must be a non-negative int (it is saved "
                        f"with the model), got {seed!r}")
    return int(seed)


class VariationalAutoencoder(ModelFiles, Module):
    r"""Encoder to $(μ, \log σ^2)$, a sampled code $z = μ + σε$, decoder to $\hat x$.

    Parameters
    ----------
    encoder : Sequential or list of Module
        ``x`` (N, D) -> ``h`` (N, H); may be empty (the heads then read ``x``).
    mu, logvar : Dense
        The two heads, ``h`` -> $μ$ (N, K) and ``h`` -> $\log σ^2$ (N, K).
    decoder : Sequential or list of Module
        ``z`` (N, K) -> $\hat x$ (N, D); end it in a Sigmoid for images in [0, 1].
    beta : float > 0
        Weight of the KL term (1: the ELBO).
    seed : int
        Seeds the model's own Generator, which draws $ε$ in training
        (a stream of its own, independent of the weights' stream of the same seed).

    Noise
    -----
    In train mode $ε$ is drawn fresh from the model's Generator at every call
    of ``loss_and_backward``: same seed, same bits. In eval mode (``evaluate``)
    $ε$ comes from a Generator seeded 0 at each call, so the estimate is
    reproducible and leaves the training stream alone. Set ``fixed_eps`` to an
    array of shape (N, K) to hold the noise fixed (gradient checking); set it
    back to None to sample again.

    Parameter names: ``"encoder.0.W"``, ``"mu.W"``, ``"logvar.b"``, ``"decoder.2.W"``, ...
    """

    #: what ``fit`` prints beside each epoch's training loss
    LOSS_LABEL = "-ELBO"

    def __init__(self, encoder, mu, logvar, decoder, beta=1.0, seed=0):
        super().__init__()
        self.encoder = encoder if isinstance(encoder, Sequential) else Sequential(encoder)
        self.decoder = decoder if isinstance(decoder, Sequential) else Sequential(decoder)
        for name, head in (("mu", mu), ("logvar", logvar)):
            if not isinstance(head, Dense):
                raise TypeError(f"VariationalAutoencoder {name} head must be a Dense layer, "
                                f"got {head!r}")
        if (mu.n_in, mu.n_out) != (logvar.n_in, logvar.n_out):
            raise ShapeError(f"the mu and logvar heads must have the same shape, got {mu!r} "
                             f"and {logvar!r}")
        self.mu, self.logvar = mu, logvar
        first = next((m for m in self.encoder.layers if hasattr(m, "n_in")), mu)
        self.n_inputs, self.dtype = first.n_in, mu.dtype
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta!r}")
        self.beta = float(beta)
        self.seed = _as_seed(seed)
        self.rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,)))
        self.fixed_eps = None
        self.kl = GaussianKL()
        self.terms = None

    @classmethod
    def deep(cls, sizes, hidden="relu", output="sigmoid", beta=1.0, seed=0, dtype=np.float64):
        """A mirrored VAE: ``sizes=[64, 32, 2]`` builds 64→32→(μ, log σ²: 2 each), 2→32→64.

        Parameters
        ----------
        sizes : list of int
            Input size first, code size ``K`` last; the sizes between are hidden layers
            (none: the heads read the pixels and the decoder is one Dense layer).
        hidden : str
            Activation of the hidden layers.
        output : str
            Activation of the reconstruction (``"sigmoid"`` for images in [0, 1]).
        beta : float
        seed : int
            Seeds the weights and (through a separate stream) the noise ``ε``.
        dtype : float32 or float64
        """
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive sizes, got {sizes}")
        dtype = as_float_dtype(dtype)
        rng = np.random.default_rng(_as_seed(seed))
        encoder = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            encoder += [Dense(n_in, n_out, _init_for(hidden), rng, dtype),
                        get_activation(hidden)]
        mu = Dense(sizes[-2], sizes[-1], "glorot", rng, dtype)
        logvar = Dense(sizes[-2], sizes[-1], "glorot", rng, dtype)
        back = sizes[::-1]
        acts = [hidden] * (len(sizes) - 2) + [output]
        decoder = []
        for n_in, n_out, act in zip(back[:-1], back[1:], acts):
            decoder += [Dense(n_in, n_out, _init_for(act), rng, dtype), get_activation(act)]
        return cls(encoder, mu, logvar, decoder, beta=beta, seed=seed)

    # ----- the module protocol ----------------------------------------------------
    def check_input(self, X):
        """``X`` as an ``(N, D)`` array of the model's dtype, or a clear error."""
        return check_array(X, "VariationalAutoencoder", ndim=2, n_features=self.n_inputs,
                           dtype=self.dtype)

    def _noise(self, shape):
        """``ε`` of ``shape``: ``fixed_eps``, else fresh (train) or reproducible (eval)."""
        if self.fixed_eps is not None:
            eps = np.asarray(self.fixed_eps, dtype=self.dtype)
            if eps.shape != shape:
                raise ShapeError(f"fixed_eps has shape {eps.shape}, but this batch needs "
                                 f"{shape} (N, code size)")
            return eps
        rng = self.rng if self.training else np.random.default_rng(0)
        return rng.standard_normal(shape, dtype=self.dtype)

    def _sample_code(self, x):
        """$z = μ + σε$ for a batch ``x``; caches $ε$ and $σ$ for the backward pass."""
        h = self.encoder.forward(self.check_input(x))
        mu, logvar = self.mu.forward(h), self.logvar.forward(h)
        eps = self._noise(mu.shape)
        sigma = np.exp(0.5 * logvar)
        self.cache = (mu, logvar, eps, sigma)
        return mu + sigma * eps

    def _backward_code(self, dz, dmu_extra=0.0, dlogvar_extra=0.0):
        r"""From $\partial J/\partial z$ (plus the KL's direct terms) to $\partial J/\partial x$."""
        _, _, eps, sigma = self._cached()
        dmu = dz + dmu_extra                                  # dz/dμ = 1
        dlogvar = dz * eps * sigma * 0.5 + dlogvar_extra      # dz/d log σ² = ε σ / 2
        # h feeds both heads: its gradient is the sum of their contributions
        dh = self.mu.backward(dmu) + self.logvar.backward(dlogvar)
        return self.encoder.backward(dh)

    def forward(self, x):
        r"""$\hat x = \text{decoder}(μ + σε)$; (N, D) -> (N, D), with $ε$ as in *Noise*."""
        return self.decoder.forward(self._sample_code(x))

    def backward(self, grad_out):
        r"""$\partial L/\partial \hat x$ -> $\partial L/\partial x$ through the sampled code.

        No KL term here; see :meth:`loss_and_backward`.
        """
        return self._backward_code(self.decoder.backward(grad_out))

    def loss_and_backward(self, x, target, loss, backward=True):
        r"""One forward pass, −ELBO per sample, and (unless ``backward=False``) its gradients.

        $J = L(\hat x, \text{target}) + β\,\mathrm{KL}$, with $L$ summed over pixels and averaged
        over the batch like every tinyae loss, and ``KL`` from :class:`GaussianKL`.
        A sigmoid output with ``"bce"`` is fused with the loss, as in the
        :class:`~tinyae.models.autoencoder.Autoencoder`. Sets ``self.terms`` to
        ``{"reconstruction": L, "kl": KL}``.

        Returns
        -------
        float : $J$, which is −ELBO per image (for BCE and $β = 1$).
        """
        layers, loss = fuse_output(self.decoder, loss)
        a = self._sample_code(x)
        for layer in layers:
            a = layer.forward(a)
        recon = loss.forward(a, target)
        mu, logvar, _, _ = self.cache
        kl = self.kl.forward(mu, logvar)
        self.terms = {"reconstruction": recon, "kl": kl}
        if backward:
            g = loss.backward()
            for layer in reversed(layers):
                g = layer.backward(g)
            dmu_kl, dlogvar_kl = self.kl.backward()
            self._backward_code(g, self.beta * dmu_kl, self.beta * dlogvar_kl)
        return recon + self.beta * kl

    def _parts(self):
        return (("encoder.", self.encoder), ("mu.", self.mu), ("logvar.", self.logvar),
                ("decoder.", self.decoder))

    # ----- training ---------------------------------------------------------------
    def fit(self, X, loss="bce", optimizer=None, epochs=10, batch_size=64,
            validation_data=None, shuffle=True, seed=0, verbose=1, callbacks=None,
            early_stopping=None, noise=None, checkpoint=None):
        """Maximize the ELBO on ``X``; returns a :class:`~tinyae.optim.loop.History`.

        The same loop and arguments as :meth:`Autoencoder.fit
        <tinyae.model.Autoencoder.fit>`, with ``loss="bce"`` by default.
        ``history.train_loss`` is −ELBO per image (so the ELBO is its negative),
        ``history.terms["reconstruction"]`` and ``history.terms["kl"]`` its two
        parts; ``history.val_loss`` is −ELBO on the validation data (eval-mode noise).
        ``seed`` seeds the shuffling (and input noise); ``ε`` comes from the model's
        own Generator, seeded at construction.
        """
        return fit(self, X, loss=loss, optimizer=optimizer, epochs=epochs,
                   batch_size=batch_size, validation_data=validation_data, shuffle=shuffle,
                   seed=seed, verbose=verbose, callbacks=callbacks,
                   early_stopping=early_stopping, noise=noise, checkpoint=checkpoint)

    def evaluate(self, X, loss="bce", batch_size=1024):
        """−ELBO per image on ``X`` in eval mode (one reproducible draw of ε per image)."""
        return evaluate(self, X, loss, batch_size)

    def elbo(self, X, loss="bce", batch_size=1024):
        """The ELBO per image on ``X``: ``−evaluate(X)``."""
        return -self.evaluate(X, loss, batch_size)

    def reconstruction_error(self, X, target=None, loss="mse"):
        """Loss per image of ``reconstruct(X)`` (decoded means) against ``target`` (default X)."""
        X = self.check_input(X)
        target = X if target is None else self.check_input(target)
        return reconstruction_error(self, X, target, loss)  # by chunks of 4096 rows

    # ----- using a model ----------------------------------------------------------
    def encode(self, X, batch_size=4096):
        """The posterior means $μ$ (N, K): the deterministic code of each image, in eval mode."""
        net = Sequential([*self.encoder.layers, self.mu])
        return run_in_eval(self, net, self.check_input(X), batch_size)

    def posterior(self, X, batch_size=4096):
        r"""$(μ, \log σ^2)$, each (N, K): the Gaussian $q(z \mid x)$ of each image."""
        X = self.check_input(X)
        h = run_in_eval(self, self.encoder, X, batch_size)
        return self.mu.forward(h), self.logvar.forward(h)

    def decode(self, Z, batch_size=4096):
        """Images from codes: (N, K) -> (N, D), in eval mode."""
        Z = check_array(Z, "VariationalAutoencoder.decode", ndim=2, n_features=self.code_size,
                        dtype=self.dtype)
        return run_in_eval(self, self.decoder, Z, batch_size)

    def reconstruct(self, X, batch_size=4096):
        """``decode(encode(X))``: the decoded posterior means, (N, D) -> (N, D)."""
        return self.decode(self.encode(X, batch_size), batch_size)

    def sample(self, n, seed=0):
        r"""``n`` new images: codes drawn from the prior $\mathcal{N}(0, I)$ and decoded, (n, D).

        With a sigmoid output every pixel lies in [0, 1].
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"sample needs a positive number of images, got {n!r}")
        rng = np.random.default_rng(seed)
        return self.decode(rng.standard_normal((int(n), self.code_size), dtype=self.dtype))

    def interpolate(self, x_a, x_b, steps=10):
        """Decode $(1 - t)μ_a + tμ_b$ for ``steps`` values of $t$ from 0 to 1: (steps, D)."""
        return interpolate(self, x_a, x_b, steps)

    @property
    def code_size(self):
        """Number of latent units K."""
        return self.mu.n_out

    def n_parameters(self):
        """Total number of trainable numbers."""
        return sum(p.size for p, _ in self.parameters())

    def config(self):
        return {"encoder": [module_to_config(m) for m in self.encoder.layers],
                "mu": module_to_config(self.mu), "logvar": module_to_config(self.logvar),
                "decoder": [module_to_config(m) for m in self.decoder.layers],
                "beta": self.beta, "seed": self.seed}

    @classmethod
    def from_config(cls, encoder, mu, logvar, decoder, beta=1.0, seed=0):
        return cls(Sequential.from_config(encoder), module_from_config(mu),
                   module_from_config(logvar), Sequential.from_config(decoder), beta, seed)

    def __repr__(self):
        enc = " -> ".join(repr(m) for m in self.encoder.layers) or "(none)"
        dec = " -> ".join(repr(m) for m in self.decoder.layers)
        return (f"VariationalAutoencoder(\n  encoder: {enc}\n  heads: mu {self.mu!r}, "
                f"logvar {self.logvar!r}\n  decoder: {dec}\n  beta={self.beta:g}, "
                f"{self.n_parameters():,} parameters, code size {self.code_size}, "
                f"{self.dtype.name}\n)")
