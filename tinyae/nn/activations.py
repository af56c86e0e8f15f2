r"""Element-wise activations and their derivatives.

Each activation $a = f(z)$ is a parameter-free module. Its backward is the
chain rule for an element-wise function: $dz = da \odot f'(z)$, where $\odot$
(``*`` in NumPy) is the element-wise product. Where $f'$ is cheaper written with
the output $a$ (sigmoid, tanh), the cache stores ``a`` instead of ``z``.
Shapes: any; ``z``, ``a``, ``da`` and ``dz`` all have the same shape.
"""

import numpy as np

from .. import backend
from .._validate import check_array
from .module import Module


class Activation(Module):
    """Shared plumbing: input check and the ``grad_out`` shape check."""

    def _input(self, z):
        return check_array(z, type(self).__name__)

    def _grad(self, grad_out):
        saved = self._cached()
        self._check_grad_out(grad_out, saved.shape)
        return saved


class Identity(Activation):
    """$a = z$; $dz = da$. The output of a linear autoencoder."""

    def forward(self, z):
        z = self._input(z)
        self.cache = z
        return z

    def backward(self, grad_out):
        self._grad(grad_out)
        return grad_out


class ReLU(Activation):
    r"""Rectified linear unit $a = \max(0, z)$.

    Derivative $f'(z) = 1$ if $z > 0$, else $0$; at the kink $z = 0$ we take 0
    (any value in $[0, 1]$ is a valid subgradient). Backward: $dz = da \odot [z > 0]$
    (``da * (z > 0)``).
    """

    def forward(self, z):
        z = self._input(z)
        self.cache = z
        return backend.relu(z)                      # max(0, z)

    def backward(self, grad_out):
        z = self._grad(grad_out)
        return backend.relu_backward(grad_out, z)   # grad_out * (z > 0)


class LeakyReLU(Activation):
    r"""$a = z$ if $z > 0$, else $\alpha z$; $f'(z) = 1$ if $z > 0$, else $\alpha$ (``alpha``).

    Parameters
    ----------
    alpha : float
        Slope for negative inputs (default 0.01): a dead unit still gets a gradient.
    """

    def __init__(self, alpha=0.01):
        super().__init__()
        if not 0 <= alpha < 1:
            raise ValueError(f"LeakyReLU alpha must be in [0, 1), got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, z):
        z = self._input(z)
        self.cache = z
        return backend.leaky_relu(z, self.alpha)    # where(z > 0, z, alpha * z)

    def backward(self, grad_out):
        z = self._grad(grad_out)
        # grad_out * where(z > 0, 1, alpha)
        return backend.leaky_relu_backward(grad_out, z, self.alpha)

    def config(self):
        return {"alpha": self.alpha}


def sigmoid(z):
    r"""Numerically stable logistic function $σ(z) = 1/(1 + e^{-z})$.

    The naive formula computes $e^{-z}$, which overflows for $z < -709$
    (float64) and warns. Both branches below only ever exponentiate
    $-|z| \le 0$, so $e = e^{-|z|}$ lies in $(0, 1]$:
    for $z \ge 0$, $σ(z) = 1/(1 + e^{-z})$; for $z < 0$, multiply top and
    bottom by $e^{z}$: $σ(z) = e^{z}/(1 + e^{z})$. Both are $s$ or $e s$
    with the same $s = 1/(1 + e)$, so the stable form costs one exp and one division.
    Finite and warning-free for any finite input, e.g. ±1e4.

    Picking the branch: $\max(e, [z \ge 0])$ is exactly 1 where $z \ge 0$ (as $e \le 1$)
    and $e$ where $z < 0$, so $s \cdot \max(e, [z \ge 0])$ is the same number as
    ``np.where(z >= 0, s, e * s)``, without a branch per entry (which, on random
    signs, made ``np.where`` the slowest line of a training step).
    The layers call the backend's copy of these lines (:func:`tinyae.backend.sigmoid`).
    """
    e = np.exp(-np.abs(z))
    s = 1.0 / (1.0 + e)
    return s * np.maximum(e, z >= 0)


class Sigmoid(Activation):
    r"""Logistic sigmoid $a = σ(z)$, output in $(0, 1)$ (exactly 0 or 1 only by rounding).

    Derivative $σ'(z) = σ(z)(1 - σ(z)) = a(1 - a)$, so the cache keeps ``a``.
    Backward: $dz = da \odot a \odot (1 - a)$.
    """

    def forward(self, z):
        z = self._input(z)
        a = backend.sigmoid(z)                      # sigmoid(z) above
        self.cache = a
        return a

    def backward(self, grad_out):
        a = self._grad(grad_out)
        return backend.sigmoid_backward(grad_out, a)   # grad_out * a * (1 - a)


class Tanh(Activation):
    r"""Hyperbolic tangent $a = \tanh(z)$, output in $(-1, 1)$.

    Derivative $\tanh'(z) = 1 - \tanh^2(z) = 1 - a^2$. Backward: $dz = da \odot (1 - a^2)$.
    """

    def forward(self, z):
        z = self._input(z)
        a = backend.tanh(z)                         # np.tanh(z)
        self.cache = a
        return a

    def backward(self, grad_out):
        a = self._grad(grad_out)
        return backend.tanh_backward(grad_out, a)   # grad_out * (1 - a * a)


ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "identity": Identity,
    "linear": Identity,
}


def get_activation(name):
    """An activation module from its name (``"relu"``, ``"sigmoid"``, ...)."""
    if isinstance(name, Module):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
