r"""Reconstruction losses and their gradients.

Convention used everywhere in tinyae: a loss *sums over the features of one
sample and averages over the batch*. For a batch of $N$ samples with $D$
features each, $L = \frac{1}{N} \sum_n \ell(\hat y_n, y_n)$ with $\ell$, the loss of
one sample, a sum over its $D$ features. So the value is "error per image", the figure
papers report (e.g. squared error summed over the 784 MNIST pixels), and every
gradient carries exactly one factor $1/N$.

Each loss has ``forward(y_pred, y_true) -> float`` and ``backward()``, which returns
$\partial L/\partial \hat y$ (same shape as ``y_pred``), keeping what backward needs in
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
    r"""Squared error summed over features, averaged over the batch.

    Forward:

    $$L = \frac{1}{N} \sum_n \sum_j (\hat y_{nj} - y_{nj})^2$$

    Backward:

    $$\frac{\partial L}{\partial \hat y} = \frac{2 (\hat y - y)}{N}$$

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
    r"""Cross-entropy between targets $y \in [0, 1]$ and probabilities $p = \hat y$.

    Forward:

    $$L = -\frac{1}{N} \sum_n \sum_j \left[y \log p + (1 - y) \log(1 - p)\right]$$

    Backward:

    $$\frac{\partial L}{\partial p} = \frac{p - y}{N\, p (1 - p)}$$

    A sigmoid in float arithmetic can round to exactly 0 or 1, where $\log$
    gives $-\infty$ and the gradient divides by zero. So $p$ is clipped to
    $[ε, 1 - ε]$ (``eps`` = 1e-12 in float64, 1e-7 in float32) and the
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
    r"""$\log(1 + e^z)$ without overflow: $\max(z, 0) + \log(1 + e^{-|z|})$ (``log1p``)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class BinaryCrossEntropyWithLogits(Loss):
    r"""Sigmoid followed by binary cross-entropy, fused and computed from logits $z$.

    With $p = σ(z)$: $\log p = -\operatorname{softplus}(-z)$ and
    $\log(1 - p) = -\operatorname{softplus}(z)$, and
    $\operatorname{softplus}(z) - \operatorname{softplus}(-z) = z$, so the per-entry
    loss simplifies to

    $$\ell = \operatorname{softplus}(z) - yz = \max(z, 0) - yz + \log(1 + e^{-|z|}),$$

    which is finite for every finite $z$ (no $\log 0$; log-sum-exp style).

    Why the gradient is so simple: $\partial \ell/\partial z = σ(z) - y$. Chain rule
    through the separate pieces gives

    $$
    \frac{\partial \ell}{\partial p} \frac{\partial p}{\partial z}
      = \frac{p - y}{p(1 - p)} \cdot p(1 - p) = p - y
    $$

    The sigmoid's derivative cancels the cross-entropy's denominator exactly. With the
    batch mean, $\partial L/\partial z = (\hat y - y)/N$ where $\hat y = σ(z)$. No
    division by a number that can round to zero, so it is exact where the unfused pair
    is not.

    Forward:

    $$L = \frac{1}{N} \sum_n \sum_j \left[\operatorname{softplus}(z_{nj}) - y_{nj} z_{nj}\right]$$

    Backward:

    $$\frac{\partial L}{\partial z} = \frac{σ(z) - y}{N}$$

    ``forward`` computes both (they share $e^{-|z|}$) and keeps the gradient
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
