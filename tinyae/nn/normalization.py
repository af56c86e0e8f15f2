r"""Normalization and Dropout: layers whose behaviour depends on train/eval mode.

* :class:`BatchNorm1d` / :class:`BatchNorm2d` normalize each feature (channel)
  over the batch, so the samples of a batch are coupled in the backward pass.
* :class:`LayerNorm` normalizes each sample over its own features: the same in
  both modes.
* :class:`Dropout` zeroes random entries while training and is the identity in
  eval mode.

The conventions are PyTorch's, so a learner can compare: the batch is
normalized with the *biased* variance, the running variance is updated with
the *unbiased* one, and, with $m$ the ``momentum``,
$\text{running} \leftarrow (1 - m)\,\text{running} + m\,\text{batch}$.
The learnable scale and shift are ``gamma`` ($γ$) and ``beta`` ($β$), named as in
the papers (PyTorch calls them ``weight`` and ``bias``).
"""

import numpy as np

from .. import backend
from .._validate import as_float_dtype, check_array
from ..errors import ShapeError
from .module import Module, as_rng


def _normalize_backward(dxhat, xhat, inv_std, axis):
    r"""$\partial L/\partial x$ for $\hat x = (x - \bar x)/s$ over ``axis``, given $d\hat x$.

    Here ``inv_std`` is $1/s$, ``xhat`` is $\hat x$ and ``dxhat`` is
    $d\hat x = \partial L/\partial \hat x$. With $M$ values per mean, the sums running over them:

    $$dx = \frac{1}{Ms} \Big(M\, d\hat x - \sum d\hat x - \hat x \sum d\hat x\, \hat x\Big)$$

    The two sums are what the mean and the variance pass back: every value of
    ``x`` moved them, so every value receives a share of their gradient.
    """
    M = xhat.shape[axis]
    sum_d = dxhat.sum(axis=axis, keepdims=True)
    sum_dx = (dxhat * xhat).sum(axis=axis, keepdims=True)
    return (inv_std / M) * (M * dxhat - sum_d - xhat * sum_dx)


class BatchNorm1d(Module):
    r"""Batch normalization over ``(batch, features)`` (Ioffe & Szegedy, 2015).

    Parameters
    ----------
    num_features : int
    eps : float
        Added to the variance before the square root.
    momentum : float
        Weight of the new batch in the running statistics.
    dtype : float32 or float64

    Shapes: ``x`` and ``y`` are ``(N, F)``; ``gamma``, ``beta``, ``running_mean``,
    ``running_var`` are ``(F,)``.

    Forward (train mode), per feature over the batch, with the variance biased and
    $s = \sqrt{σ^2 + ε}$:

    $$
    μ = \frac{1}{N} \sum_n x_n, \quad σ^2 = \frac{1}{N} \sum_n (x_n - μ)^2, \quad
    \hat x = \frac{x - μ}{s}, \quad y = γ \hat x + β
    $$

    then, with $m$ the ``momentum``, the running statistics (the variance unbiased):
    $\mathtt{running\_mean} \leftarrow (1 - m)\,\mathtt{running\_mean} + mμ$ and
    $\mathtt{running\_var} \leftarrow (1 - m)\,\mathtt{running\_var} + mσ^2 N/(N - 1)$.
    Eval mode uses the running statistics instead: an affine map.

    Backward (train mode), the sums over the batch: $dγ = \sum_n dy_n \hat x_n$,
    $dβ = \sum_n dy_n$ and

    $$dx = \frac{γ}{Ns} \Big(N dy - \sum_n dy_n - \hat x \sum_n dy_n \hat x_n\Big)$$

    Derivation: $\hat x$ depends on $x_n$ directly and through $μ$ and $σ^2$;
    $\partial L/\partial σ^2 = -\tfrac12 s^{-3} \sum_n d\hat x_n (x_n - μ)$ and
    $\partial L/\partial μ = -\sum_n d\hat x_n / s$ (the term through $σ^2$ vanishes
    because $\sum_n (x_n - μ) = 0$); adding the three paths,
    $dx_n = d\hat x_n/s + (\partial L/\partial σ^2)\, 2(x_n - μ)/N + (\partial L/\partial μ)/N$,
    which is the compact form above with $d\hat x = γ\, dy$. Backward in eval mode:
    $dx = dy\, γ/\sqrt{\mathtt{running\_var} + ε}$.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.dtype = as_float_dtype(dtype)
        F = self.num_features
        self.params = {"gamma": np.ones(F, self.dtype), "beta": np.zeros(F, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(F, self.dtype),
                        "running_var": np.ones(F, self.dtype)}

    # The 1-D and 2-D layers share the math on a (M, F) matrix of values per feature.
    def _to_rows(self, x):
        return x

    def _from_rows(self, rows, shape):
        return rows

    def _check(self, x):
        return check_array(x, repr(self), ndim=2, n_features=self.num_features,
                           dtype=self.dtype)

    def forward(self, x):
        x = self._check(x)
        rows = self._to_rows(x)
        if self.training and rows.shape[0] < 2:
            raise ShapeError(f"{self!r} in train mode needs at least 2 values per "
                             f"feature to compute a variance, got a batch of shape "
                             f"{x.shape}; use a larger batch or eval mode")
        # The backend computes the formulas of the docstring (backend.NumpyOps: in NumPy,
        # line by line) and, in train mode, moves the running statistics in place.
        y, xhat, inv_std = backend.batchnorm_forward(
            rows, self.params["gamma"], self.params["beta"], self.buffers["running_mean"],
            self.buffers["running_var"], self.eps, self.momentum, self.training)
        self.cache = (xhat, inv_std, x.shape, self.training)
        return self._from_rows(y, x.shape)

    def backward(self, grad_out):
        xhat, inv_std, shape, training = self._cached()
        self._check_grad_out(grad_out, shape)
        dy = self._to_rows(grad_out)
        # dγ and dβ go into self.grads; train mode reuses them as the two sums of dx.
        dx = backend.batchnorm_backward(dy, xhat, self.params["gamma"], inv_std,
                                        self.grads["gamma"], self.grads["beta"], training)
        return self._from_rows(dx, shape)

    def config(self):
        return {"num_features": self.num_features, "eps": self.eps,
                "momentum": self.momentum, "dtype": self.dtype.name}

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm2d(BatchNorm1d):
    """Batch normalization of images ``(N, C, H, W)``: one γ, β, mean, variance per channel.

    The statistics of channel $c$ are taken over all $N H W$ values of that
    channel, so the math is :class:`BatchNorm1d`'s on the ``(N·H·W, C)`` matrix of
    values (rows = positions, columns = channels). ``num_features`` is ``C``.
    """

    def _to_rows(self, x):
        return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])

    def _from_rows(self, rows, shape):
        N, C, H, W = shape
        return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)

    def _check(self, x):
        x = check_array(x, repr(self), ndim=4, dtype=self.dtype)
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{self!r} expected {self.num_features} channels, got "
                             f"{x.shape[1]} (input shape {x.shape})")
        return x


class LayerNorm(Module):
    r"""Layer normalization (Ba, Kiros & Hinton, 2016): each sample over its own features.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape normalized over, e.g. ``64`` for ``(N, 64)``.
    eps : float

    Forward, per sample over the last ``len(normalized_shape)`` axes, with $μ$ and
    $σ^2$ the sample's mean and variance and $s = \sqrt{σ^2 + ε}$:
    $\hat x = (x - μ)/s$, $y = γ \hat x + β$ ($γ$, $β$ of shape ``normalized_shape``).
    Backward: $dγ = \sum_n dy_n \hat x_n$, $dβ = \sum_n dy_n$, and with $d\hat x = γ\, dy$
    and $D$ values per sample (the sums over the sample's features):

    $$dx = \frac{1}{Ds} \Big(D\, d\hat x - \sum d\hat x - \hat x \sum d\hat x\, \hat x\Big)$$

    Identical in train and eval mode.
    """

    def __init__(self, normalized_shape, eps=1e-5, dtype=np.float64):
        super().__init__()
        shape = (normalized_shape,) if np.isscalar(normalized_shape) else normalized_shape
        self.normalized_shape = tuple(int(s) for s in shape)
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(f"normalized_shape must be positive sizes, got {normalized_shape!r}")
        self.eps, self.dtype = float(eps), as_float_dtype(dtype)
        self.params = {"gamma": np.ones(self.normalized_shape, self.dtype),
                       "beta": np.zeros(self.normalized_shape, self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x):
        x = check_array(x, repr(self), dtype=self.dtype)
        k = len(self.normalized_shape)
        if x.ndim <= k or x.shape[-k:] != self.normalized_shape:
            raise ShapeError(f"{self!r} expected input of shape (N, *{self.normalized_shape}), "
                             f"got {x.shape}")
        rows = x.reshape(*x.shape[:-k], -1)
        mean = rows.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(rows.var(axis=-1, keepdims=True) + self.eps)
        xhat = ((rows - mean) * inv_std).reshape(x.shape)
        self.cache = (xhat, inv_std)
        return xhat * self.params["gamma"] + self.params["beta"]

    def backward(self, grad_out):
        xhat, inv_std = self._cached()
        self._check_grad_out(grad_out, xhat.shape)
        batch_axes = tuple(range(xhat.ndim - len(self.normalized_shape)))
        np.sum(grad_out * xhat, axis=batch_axes, out=self.grads["gamma"])
        np.sum(grad_out, axis=batch_axes, out=self.grads["beta"])
        flat = xhat.reshape(*xhat.shape[:len(batch_axes)], -1)
        dxhat = (grad_out * self.params["gamma"]).reshape(flat.shape)
        return _normalize_backward(dxhat, flat, inv_std, axis=-1).reshape(xhat.shape)

    def config(self):
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "dtype": self.dtype.name}

    def __repr__(self):
        return f"LayerNorm({self.normalized_shape})"


class Dropout(Module):
    r"""Inverted dropout (Srivastava et al., 2014).

    Parameters
    ----------
    p : float in [0, 1)
        Probability of zeroing each value in train mode.
    seed : int or numpy.random.Generator
        The layer's own Generator draws the masks: same seed, same masks.

    Train mode: $\text{mask} = [u \ge p]/(1 - p)$ with $u \sim \mathcal{U}[0, 1)$ drawn
    fresh each forward; $y = x \odot \text{mask}$ (kept values are scaled by $1/(1 - p)$
    so the expected output equals the input, and eval mode needs no rescaling). Backward
    uses the *same* mask: $dx = dy \odot \text{mask}$. Eval mode: $y = x$, $dx = dy$.
    With ``hold_noise = True`` the layer reuses its last mask (for gradient checks).
    """

    def __init__(self, p=0.5, seed=0):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"Dropout p must be a probability in [0, 1), got {p!r}")
        self.p, self.seed = float(p), seed if isinstance(seed, int) else None
        self.rng = as_rng(seed)
        self.hold_noise = False
        self.mask = None

    def forward(self, x):
        x = check_array(x, repr(self))
        if not self.training or self.p == 0:
            self.cache = (x.shape, None)
            return x
        if self.hold_noise and self.mask is not None and self.mask.shape == x.shape:
            y = x * self.mask
        else:
            u = self.rng.random(x.shape, dtype=x.dtype)      # fresh draws each forward
            y, self.mask = backend.dropout(x, u, self.p)     # mask = [u ≥ p]/(1 − p)
        self.cache = (x.shape, self.mask)
        return y

    def backward(self, grad_out):
        shape, mask = self._cached()
        self._check_grad_out(grad_out, shape)
        return grad_out if mask is None else grad_out * mask

    def config(self):
        return {"p": self.p, "seed": self.seed}

    def __repr__(self):
        return f"Dropout(p={self.p})"
