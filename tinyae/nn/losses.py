"""Reconstruction losses and their gradients.

Convention used everywhere in tinyae: a loss *sums over the features of one
sample and averages over the batch*. For a batch of ``N`` samples with ``D``
features each, ``L = (1/N) Σ_n ℓ(ŷ_n, y_n)`` with ``ℓ`` a sum over the ``D``
features. So the value is "error per image", the figure papers report (e.g.
squared error summed over the 784 MNIST pixels), and every gradient carries
exactly one factor ``1/N``.

Each loss has ``forward(y_pred, y_true) -> float`` and ``backward() ->
dL/dy_pred`` (same shape as ``y_pred``), keeping what backward needs in
``self.cache`` like the layers do.
"""

import numpy as np

from .. import backend
from .._validate import check_array
from ..errors import ForwardNotCalledError, ShapeError


class Loss:
    """Base class: input checks and the cache."""

    def __init__(self):
        self.cache = None

    def __call__(self, y_pred, y_true):
        return self.forward(y_pred, y_true)

    def _inputs(self, y_pred, y_true):
        name = type(self).__name__
        y_pred = check_array(y_pred, f"{name} y_pred")
        y_true = check_array(y_true, f"{name} y_true", dtype=y_pred.dtype)
        if y_pred.shape != y_true.shape:
            raise ShapeError(
                f"{name} expected y_pred and y_true of the same shape, "
                f"got {y_pred.shape} and {y_true.shape}"
            )
        if y_pred.ndim < 2:
            raise ShapeError(
                f"{name} expected a batch of shape (N, features), got shape {y_pred.shape}"
            )
        return y_pred, y_true

    def _cached(self):
        if self.cache is None:
            raise ForwardNotCalledError(
                f"{type(self).__name__}.backward was called before forward"
            )
        return self.cache

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Squared error summed over features, averaged over the batch.

    Forward:  ``L = (1/N) Σ_n Σ_j (ŷ_nj − y_nj)²``
    Backward: ``dL/dŷ = 2 (ŷ − y) / N``

    Shapes: ``y_pred``, ``y_true`` and the gradient are ``(N, D)`` (or any
    ``(N, ...)``); ``N`` is the first axis.
    """

    def forward(self, y_pred, y_true):
        y_pred, y_true = self._inputs(y_pred, y_true)
        # diff = y_pred - y_true;  L = Σ diff² / N
        value, diff = backend.mse(y_pred, y_true)
        self.cache = diff
        return value

    def backward(self):
        diff = self._cached()
        return diff * (2.0 / diff.shape[0])


def _check_targets(y_true, name):
    lo, hi = float(y_true.min()), float(y_true.max())
    if lo < 0 or hi > 1:
        raise ValueError(
            f"{name} expected targets in [0, 1], got values in [{lo:g}, {hi:g}]; "
            "scale the data first (e.g. X / X.max())"
        )


class BinaryCrossEntropy(Loss):
    """Cross-entropy between targets ``y ∈ [0, 1]`` and probabilities ``p = ŷ``.

    Forward:  ``L = −(1/N) Σ_n Σ_j [y log p + (1 − y) log(1 − p)]``
    Backward: ``dL/dp = (p − y) / (p (1 − p)) / N``

    A sigmoid in float arithmetic can round to exactly 0 or 1, where ``log``
    gives −inf and the gradient divides by zero. So ``p`` is clipped to
    ``[eps, 1 − eps]`` (``eps`` = 1e-12 in float64, 1e-7 in float32) and the
    loss stays finite; where the clip is active the gradient is that of the
    clipped value. Prefer :class:`BinaryCrossEntropyWithLogits` after a sigmoid:
    it never clips, and ``Autoencoder.fit(loss="bce")`` uses it automatically.
    """

    def forward(self, y_pred, y_true):
        p, y = self._inputs(y_pred, y_true)
        _check_targets(y, type(self).__name__)
        eps = 1e-7 if p.dtype == np.float32 else 1e-12
        p = np.clip(p, eps, 1 - eps)
        self.cache = (p, y)
        total = -np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))
        return float(total) / p.shape[0]

    def backward(self):
        p, y = self._cached()
        return (p - y) / (p * (1 - p)) / p.shape[0]


def softplus(z):
    """``log(1 + e^z)`` without overflow: ``max(z, 0) + log1p(e^{−|z|})``."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class BinaryCrossEntropyWithLogits(Loss):
    """Sigmoid followed by binary cross-entropy, fused and computed from logits ``z``.

    With ``p = σ(z)``: ``log p = −softplus(−z)`` and ``log(1 − p) = −softplus(z)``,
    and ``softplus(z) − softplus(−z) = z``, so the per-entry loss simplifies to

        ``ℓ = softplus(z) − y·z = max(z, 0) − y·z + log(1 + e^{−|z|})``,

    which is finite for every finite ``z`` (no ``log 0``; log-sum-exp style).

    Why the gradient is so simple: ``dℓ/dz = σ(z) − y``. Chain rule through the
    separate pieces gives ``dℓ/dp · dp/dz = (p − y)/(p(1 − p)) · p(1 − p)``: the
    sigmoid's derivative cancels the cross-entropy's denominator exactly. With the
    batch mean, ``dL/dz = (ŷ − y) / N`` where ``ŷ = σ(z)``. No division by a
    number that can round to zero, so it is exact where the unfused pair is not.

    Forward:  ``L = (1/N) Σ_n Σ_j [softplus(z_nj) − y_nj z_nj]``
    Backward: ``dL/dz = (σ(z) − y) / N``

    ``forward`` computes both (they share ``e^{−|z|}``) and keeps the gradient
    for ``backward``.
    """

    def forward(self, y_pred, y_true):
        z, y = self._inputs(y_pred, y_true)
        _check_targets(y, type(self).__name__)
        # L = Σ (softplus(z) - y * z) / N;  grad = (sigmoid(z) - y) / N
        value, grad = backend.bce_with_logits(z, y)
        self.cache = grad
        return value

    def backward(self):
        return self._cached()


LOSSES = {"mse": MSE, "bce": BinaryCrossEntropy, "bce_logits": BinaryCrossEntropyWithLogits}


def get_loss(loss):
    """A loss object from a name (``"mse"``, ``"bce"``) or the object itself."""
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(LOSSES)} or a Loss")
    return LOSSES[loss]()
