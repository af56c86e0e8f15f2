r"""The supervised autoencoder: a classifier head on the code, trained with the reconstruction.

An encoder maps $x$ to a code $z$; the decoder maps $z$ back to $\hat x$; a
softmax head (:class:`~tinyae.models.classifier.SoftmaxClassifier`) maps $z$ to class
logits $s = z W_c + b_c$. The loss on a batch of $N$ rows, $M$ of them labeled:

$$J = β\, L(\hat x, x) + α\, \mathrm{CE}(s, y)$$

where $L$ is the reconstruction loss (summed over pixels, mean over the $N$
rows, as everywhere in tinyae) and $\mathrm{CE}$ the softmax cross-entropy
(:class:`~tinyae.nn.softmax.SoftmaxCrossEntropy`) averaged over the $M$ labeled
rows only. Unlabeled rows carry the label ``-1``: they feed the reconstruction,
not the classification. With $M = 0$ the classification term is 0 (not
$0/0$). $β = 0$ leaves the classifier alone (encoder + head), the baseline;
$α = 0$ leaves the plain autoencoder.

Backward, by hand. The two gradients meet at the code:

$$
\frac{\partial J}{\partial z} = β\, \frac{\partial L}{\partial z}
  + α\, \mathrm{scatter}\Big(\frac{\partial\, \mathrm{CE}}{\partial z}\Big)
$$

where ``decoder.backward`` turns $\partial L/\partial \hat x$ into
$\partial L/\partial z$ and ``head.backward`` turns
$\partial\,\mathrm{CE}/\partial s = (p - \mathrm{onehot}(y))/M$, on the labeled rows, into
$\partial\,\mathrm{CE}/\partial z$; ``scatter`` puts each labeled row's gradient back at
its place in the batch (unlabeled rows get 0 from the head). Then ``encoder.backward``
turns $\partial J/\partial z$ into $\partial J/\partial x$. The head's and decoder's
parameter gradients come out of their own backward passes, scaled by $α$ and $β$.

Semi-supervised recipe (``noise`` and ``consistency``): in train mode the
encoder reads a corrupted copy $\tilde x$ of each row and the decoder must rebuild
the clean $x$ (a denoising autoencoder); with ``consistency`` $= γ > 0$ a second
corrupted copy $\tilde x'$ gives class probabilities
$p' = \mathrm{softmax}(\text{head}(\text{encoder}(\tilde x')))$ that the first pass
must match on every row, labeled or not, adding to $J$

$$γ\, \frac{1}{N} \sum_n \lVert p_n - p'_n \rVert^2$$

with $p'$ held as a constant target (no gradient flows through the second
pass: the Π-model of Laine & Aila, 2017). Its gradient on the logits is the
softmax backward of $2γ(p - p')/N$ (:class:`~tinyae.nn.softmax.Softmax`).

References: L. Le, A. Patterson and M. White, "Supervised autoencoders: improving
generalization performance with unsupervised regularizers", NeurIPS 2018.
S. Laine and T. Aila, "Temporal ensembling for semi-supervised learning", ICLR 2017.
"""

import numpy as np

from .._validate import as_float_dtype, check_array
from ..data.datasets import NOISE_KINDS, add_noise
from ..data.labels import UNLABELED, check_semi_labels, hide_labels  # noqa: F401 (old path)
from ..errors import ShapeError
from ..nn.activations import get_activation
from ..nn.dense import Dense
from ..nn.module import Module, Sequential, module_to_config
from ..optim.loop import evaluate, fit
from .classifier import Softmax, SoftmaxClassifier, SoftmaxCrossEntropy, softmax
from .common import ModelFiles, _init_for, fuse_output, reconstruction_error, run_in_eval


def _check_weight(value, name, allow_zero=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _check_noise(noise):
    if noise is None:
        return None
    if not (isinstance(noise, (tuple, list)) and len(noise) == 2 and noise[0] in NOISE_KINDS):
        raise ValueError(f"noise must be a (kind, level) pair with kind one of "
                         f"{list(NOISE_KINDS)}, such as ('masking', 0.3), got {noise!r}")
    return (str(noise[0]), float(noise[1]))


class SupervisedAutoencoder(ModelFiles, Module):
    r"""Encoder, decoder, and a softmax classification head on the code.

    Parameters
    ----------
    encoder, decoder : Sequential or list of Module
        ``x`` (N, D) -> ``z`` (N, K) and ``z`` -> $\hat x$ (N, D).
    head : SoftmaxClassifier
        ``z`` (N, K) -> logits (N, C).
    alpha : float >= 0
        Weight $α$ of the classification term.
    beta : float >= 0
        Weight $β$ of the reconstruction term (0: the classifier alone).
    noise : (kind, level), optional
        In train mode the encoder reads ``add_noise(x, kind, level)`` (fresh from
        the model's Generator each batch) and the decoder rebuilds the clean ``x``.
    consistency : float >= 0
        Weight $γ$ of the consistency term between two corrupted passes (needs ``noise``).
    seed : int
        Seeds the model's own Generator for the noise (saved with the model).

    Labels: integer class indices ``0..C−1``, ``-1`` for an unlabeled row.
    Parameter names: ``"encoder.0.W"``, ``"head.linear.W"``, ``"decoder.2.b"``, ...
    Like every random module, ``hold_noise = True`` reuses the last corruption,
    and the last consistency target $p'$ (:mod:`tinyae.teach.gradcheck` sets it): the
    function checked is then exactly the one whose gradient ``backward`` computes.
    """

    #: what ``fit`` prints beside each epoch's training loss
    LOSS_LABEL = "objective"

    def __init__(self, encoder, head, decoder, alpha=1.0, beta=1.0, noise=None,
                 consistency=0.0, seed=0):
        super().__init__()
        self.encoder = encoder if isinstance(encoder, Sequential) else Sequential(encoder)
        self.decoder = decoder if isinstance(decoder, Sequential) else Sequential(decoder)
        if not isinstance(head, SoftmaxClassifier):
            raise TypeError(f"SupervisedAutoencoder head must be a SoftmaxClassifier, "
                            f"got {head!r}")
        self.head = head
        first = next((m for m in self.encoder.layers if hasattr(m, "n_in")), None)
        if first is None:
            raise ValueError("SupervisedAutoencoder needs an encoder that starts with a Dense "
                             "layer")
        self.n_inputs, self.dtype = first.n_in, first.dtype
        self.n_classes = head.n_classes
        self.alpha = _check_weight(alpha, "alpha")
        self.beta = _check_weight(beta, "beta")
        if self.alpha == 0 and self.beta == 0:
            raise ValueError("alpha and beta are both 0: the loss would be 0")
        self.noise = _check_noise(noise)
        self.consistency = _check_weight(consistency, "consistency")
        if self.consistency and self.noise is None:
            raise ValueError("consistency compares two corrupted passes: give noise too, "
                             "e.g. noise=('masking', 0.3)")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"SupervisedAutoencoder seed must be a non-negative int (it is "
                            f"saved with the model), got {seed!r}")
        self.seed = int(seed)
        self.rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(2,)))
        self.hold_noise = False
        self._held = None          # the corrupted copies reused while hold_noise is True
        self._target = None        # and the consistency target p' of the second pass
        self.ce = SoftmaxCrossEntropy()
        self.softmax = Softmax()
        self.terms = None
        self.history_ = None

    @classmethod
    def deep(cls, sizes, n_classes, hidden="relu", output="sigmoid", code="identity",
             alpha=1.0, beta=1.0, noise=None, consistency=0.0, seed=0, dtype=np.float64):
        """Mirrored encoder and decoder and a head on the code.

        ``sizes=[784, 256, 32]`` and ``n_classes=10`` build the encoder
        784→256 (``hidden``)→32 (``code``), the head 32→10 and the decoder
        32→256 (``hidden``)→784 (``output``). Weights use He init before ReLU
        units and Glorot otherwise; ``seed`` seeds the weights and (through a
        separate stream) the noise.
        """
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive sizes, got {sizes}")
        dtype = as_float_dtype(dtype)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r}")
        rng = np.random.default_rng(int(seed))

        def stack(widths, last):
            layers = []
            for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
                act = hidden if i < len(widths) - 2 else last
                layers += [Dense(n_in, n_out, _init_for(act), rng, dtype), get_activation(act)]
            return layers

        head = SoftmaxClassifier(sizes[-1], n_classes, seed=rng, dtype=dtype)
        return cls(stack(sizes, code), head, stack(sizes[::-1], output), alpha=alpha,
                   beta=beta, noise=noise, consistency=consistency, seed=seed)

    # ----- checks -------------------------------------------------------------------
    def check_input(self, X):
        """``X`` as an ``(N, D)`` array of the model's dtype, or a clear error."""
        return check_array(X, "SupervisedAutoencoder", ndim=2, n_features=self.n_inputs,
                           dtype=self.dtype)

    def check_target(self, y):
        """Labels: class indices ``0..C−1``, or ``-1`` for an unlabeled row."""
        return check_semi_labels(y, self.n_classes, who="SupervisedAutoencoder labels")

    # ----- the module protocol ------------------------------------------------------
    def _corrupt(self, x, copies):
        """``copies`` corrupted versions of ``x`` (the same ones again while holding noise)."""
        if self.noise is None or not self.training:
            return [x] * copies
        held = self._held
        if self.hold_noise and held is not None and held[0].shape == x.shape \
                and len(held) >= copies:
            return held[:copies]
        self._held = [add_noise(x, *self.noise, seed=self.rng) for _ in range(copies)]
        return self._held

    def forward(self, x):
        r"""$\hat x = \text{decoder}(\text{encoder}(x))$: (N, D) -> (N, D) (no corruption here)."""
        return self.decoder.forward(self.encoder.forward(self.check_input(x)))

    def backward(self, grad_out):
        r"""$\partial L/\partial \hat x$ -> $\partial L/\partial x$ through decoder and encoder.

        The reconstruction term only.
        """
        return self.encoder.backward(self.decoder.backward(grad_out))

    def loss_and_backward(self, x, y, loss="bce", backward=True):
        r"""One forward pass, $J = βL(\hat x, x) + α\,\mathrm{CE} + γC$, and its gradients.

        $C$ is the consistency term (see the module docstring).

        Parameters
        ----------
        x : ndarray (N, D)
            The batch; the reconstruction target is ``x`` itself (clean).
        y : ndarray (N,) of int
            Labels, ``-1`` for unlabeled rows.
        loss : {"bce", "mse"} or Loss
            Reconstruction loss; BCE after a sigmoid output is fused (gradient $(\hat x - x)/N$).
        backward : bool
            Also fill every ``grads`` (each backward overwrites them).

        Sets ``self.terms`` to ``{"reconstruction": L, "classification": CE}``
        (plus ``"consistency"`` when $γ > 0$), unweighted.
        """
        x = self.check_input(x)
        y = self.check_target(y)
        if len(y) != len(x):
            raise ShapeError(f"SupervisedAutoencoder: {len(x)} rows but {len(y)} labels")
        N = len(x)
        use_consistency = self.consistency > 0 and self.training
        x_in, *x_other = self._corrupt(x, 2 if use_consistency else 1)
        if use_consistency:  # the second pass is a constant target: run it first
            p_target = self._target
            if not (self.hold_noise and p_target is not None and len(p_target) == N):
                p_target = softmax(self.head.forward(self.encoder.forward(x_other[0])))
                self._target = p_target
        z = self.encoder.forward(x_in)
        terms, dz = {}, np.zeros_like(z)

        if self.beta:
            layers, rec_loss = fuse_output(self.decoder, loss)
            a = z
            for layer in layers:
                a = layer.forward(a)
            terms["reconstruction"] = rec_loss.forward(a, x)

        labeled = np.flatnonzero(y != UNLABELED)
        if len(labeled):
            terms["classification"] = self.ce.forward(self.head.forward(z[labeled]), y[labeled])
        else:  # no labeled row: the term is 0, and so is its gradient
            terms["classification"] = 0.0
        if backward and len(labeled) and self.alpha:
            dz[labeled] += self.alpha * self.head.backward(self.ce.backward())
            head_grads = {k: self.alpha * g for k, g in self.head.linear.grads.items()}
        else:
            head_grads = {k: np.zeros_like(g) for k, g in self.head.linear.grads.items()}

        if use_consistency:
            p = self.softmax.forward(self.head.forward(z))
            terms["consistency"] = float(np.sum((p - p_target) ** 2)) / N
            if backward:
                dp = self.consistency * 2 * (p - p_target) / N
                dz += self.head.backward(self.softmax.backward(dp))
                for k, g in self.head.linear.grads.items():
                    head_grads[k] += g
        if backward:
            for k, g in head_grads.items():  # the head is used twice: sum both contributions
                self.head.linear.grads[k][...] = g

        if backward and self.beta:
            g = rec_loss.backward()
            for layer in reversed(layers):
                g = layer.backward(g)
            dz += self.beta * g
            for _, _, grad in self.decoder.named_parameters():
                grad *= self.beta
        elif backward:
            for _, _, grad in self.decoder.named_parameters():
                grad[...] = 0
        if backward:
            self.encoder.backward(dz, input_grad=False)  # x is data: no dJ/dx to compute
        self.terms = terms
        value = self.alpha * terms["classification"]
        if self.beta:
            value += self.beta * terms["reconstruction"]
        if use_consistency:
            value += self.consistency * terms["consistency"]
        return value

    def _parts(self):
        return (("encoder.", self.encoder), ("head.", self.head), ("decoder.", self.decoder))

    # ----- training -----------------------------------------------------------------
    def fit(self, X, y, loss="bce", optimizer=None, epochs=10, batch_size=64,
            validation_data=None, labeled_share=None, seed=0, verbose=0, callbacks=None,
            early_stopping=None, checkpoint=None):
        """Train on ``X`` (N, D) with labels ``y`` (N,), ``-1`` marking unlabeled rows.

        Uses the training loop of every tinyae model (:func:`~tinyae.optim.loop.fit`);
        the :class:`~tinyae.optim.loop.History` is returned and kept in ``self.history_``,
        with the terms ``"reconstruction"`` and ``"classification"`` per epoch.

        Parameters
        ----------
        labeled_share : float in (0, 1), optional
            With few labels, a random batch rarely holds a labeled row. Given a
            share, each epoch visits every row once plus the labeled rows repeated
            so that they make up about this share of the epoch (``0.5``: half of
            each batch is labeled, on average). None: every row once.
        validation_data : (X_val, y_val), optional
        checkpoint : str or Path, optional
            Write the run's state after each epoch, and continue from it (see
            :func:`~tinyae.optim.loop.fit`).

        Raises
        ------
        ValueError
            No row of ``y`` is labeled, or ``labeled_share`` is outside (0, 1).
        """
        X = self.check_input(X)
        y = check_semi_labels(y, self.n_classes, len(X), "SupervisedAutoencoder.fit labels")
        labeled = np.flatnonzero(y != UNLABELED)
        if len(labeled) == 0 and self.alpha:
            raise ValueError(f"SupervisedAutoencoder.fit: no labeled row among the {len(y)} "
                             "(every label is -1); label some rows, or train an Autoencoder")
        if labeled_share is not None:
            if isinstance(labeled_share, bool) or not isinstance(
                    labeled_share, (int, float, np.floating)) or not 0 < labeled_share < 1:
                raise ValueError(f"labeled_share must lie in (0, 1), got {labeled_share!r}")
            # r copies of the labeled rows make them a share s of N + r·M rows:
            # r·M / (N + r·M) = s  <=>  r = s·N / ((1 − s)·M)
            r = int(np.ceil(labeled_share * len(X) / ((1 - labeled_share) * len(labeled))))
            extra = np.tile(labeled, max(r - 1, 0))
            X, y = np.concatenate([X, X[extra]]), np.concatenate([y, y[extra]])
        self.history_ = fit(self, X, loss=loss, optimizer=optimizer, epochs=epochs,
                            batch_size=batch_size, validation_data=validation_data, seed=seed,
                            verbose=verbose, callbacks=callbacks, early_stopping=early_stopping,
                            y=y, checkpoint=checkpoint)
        return self.history_

    def evaluate(self, X, y, loss="bce", batch_size=1024):
        """The objective ``J`` per row on ``(X, y)`` in eval mode (no corruption)."""
        return evaluate(self, X, loss, batch_size, target=y)

    # ----- scikit-learn style -------------------------------------------------------
    def decision_function(self, X, batch_size=4096):
        """Class logits ``head(encode(X))``: (N, D) -> (N, C)."""
        return self.head.decision_function(self.encode(X, batch_size), batch_size)

    def predict_proba(self, X, batch_size=4096):
        """Class probabilities (N, C); each row sums to 1."""
        return softmax(self.decision_function(X, batch_size))

    def predict(self, X, batch_size=4096):
        """The most probable class of each row: (N,) int64."""
        return np.argmax(self.decision_function(X, batch_size), axis=1)

    def score(self, X, y):
        """Accuracy: the fraction of rows of ``X`` whose predicted class is ``y`` (all labeled)."""
        X = self.check_input(X)
        y = check_semi_labels(y, self.n_classes, len(X), "SupervisedAutoencoder.score labels")
        if np.any(y == UNLABELED):
            raise ValueError("SupervisedAutoencoder.score needs a label for every row, got "
                             f"{int(np.sum(y == UNLABELED))} rows labeled -1")
        return float(np.mean(self.predict(X) == y))

    # ----- using a model --------------------------------------------------------------
    def encode(self, X, batch_size=4096):
        """Codes ``z = encoder(X)``: (N, D) -> (N, K), in eval mode."""
        return run_in_eval(self, self.encoder, self.check_input(X), batch_size)

    def decode(self, Z, batch_size=4096):
        """Reconstructions from codes: (N, K) -> (N, D), in eval mode."""
        Z = check_array(Z, "SupervisedAutoencoder.decode", ndim=2, n_features=self.code_size,
                        dtype=self.dtype)
        return run_in_eval(self, self.decoder, Z, batch_size)

    def reconstruct(self, X, batch_size=4096):
        """``x̂ = decoder(encoder(X))``: (N, D) -> (N, D), in eval mode."""
        return self.decode(self.encode(X, batch_size), batch_size)

    def reconstruction_error(self, X, target=None, loss="mse"):
        """Reconstruction loss per row of ``reconstruct(X)`` against ``target`` (default X)."""

        X = self.check_input(X)
        target = X if target is None else self.check_input(target)
        return reconstruction_error(self, X, target, loss)  # by chunks of 4096 rows

    @property
    def code_size(self):
        """Number of code units K."""
        return self.head.n_inputs

    def n_parameters(self):
        """Total number of trainable numbers."""
        return sum(p.size for p, _ in self.parameters())

    def config(self):
        return {"encoder": [module_to_config(m) for m in self.encoder.layers],
                "head": module_to_config(self.head),
                "decoder": [module_to_config(m) for m in self.decoder.layers],
                "alpha": self.alpha, "beta": self.beta,
                "noise": list(self.noise) if self.noise else None,
                "consistency": self.consistency, "seed": self.seed}

    @classmethod
    def from_config(cls, encoder, head, decoder, alpha=1.0, beta=1.0, noise=None,
                    consistency=0.0, seed=0):
        from ..nn.module import module_from_config

        return cls(Sequential.from_config(encoder), module_from_config(head),
                   Sequential.from_config(decoder), alpha, beta,
                   tuple(noise) if noise else None, consistency, seed)

    def __repr__(self):
        enc = " -> ".join(repr(m) for m in self.encoder.layers)
        dec = " -> ".join(repr(m) for m in self.decoder.layers)
        extra = f", noise={self.noise}" if self.noise else ""
        extra += f", consistency={self.consistency:g}" if self.consistency else ""
        return (f"SupervisedAutoencoder(\n  encoder: {enc}\n  head: {self.head!r}\n"
                f"  decoder: {dec}\n  alpha={self.alpha:g}, beta={self.beta:g}{extra}, "
                f"{self.n_parameters():,} parameters, code size {self.code_size}, "
                f"{self.dtype.name}\n)")
