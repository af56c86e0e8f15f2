"""Where the heavy arithmetic happens: the layers call these functions, never NumPy's BLAS directly.

The modules learners read (layers, activations, losses, optimizers) call
``backend.matmul(x, W)``, ``backend.relu(z)``, ``backend.adam_update(...)`` and
never care how each is computed. Two backends compute them:

``"numpy"`` (the default)
    The class :class:`NumpyOps` below: each function is the plain NumPy formula,
    a few lines long, with ``out=`` and in-place updates where they save a pass
    over memory. It is the reference: every other backend must agree with it.
``"numba"``
    :class:`NumbaOps`: the same functions, where it pays, from compiled loops in
    ``tinyae/_numba_kernels.py``. Matrix products still go to BLAS (nothing
    beats it); the win is element-wise work that NumPy does in several passes
    with a temporary array each (the sigmoid, a loss and its gradient, Adam's
    update), done in one pass. Needs the optional extra: ``pip install -e ".[fast]"``.

Choose with ``tinyae.set_backend("numba")``, the environment variable
``TINYAE_BACKEND=numba``, or ``tinyae train --backend numba``. Switching is
allowed at any time, even between two training steps: both backends read and
write the same NumPy arrays. Importing tinyae never imports Numba unless that
backend is chosen.
"""

import os

import numpy as np

from .errors import TinyAEError

_BACKENDS = ("numpy", "numba")


class BackendUnavailableError(TinyAEError, ImportError):
    """A backend was chosen whose optional dependency is not installed."""


# ----- the plain NumPy twins: the reference every backend must agree with ---------------

class NumpyOps:
    """The operations in plain NumPy. Shapes: as the arrays given; dtype preserved."""

    name = "numpy"

    @staticmethod
    def matmul(a, b, out=None):
        """``a @ b`` (m, k)·(k, n) -> (m, n), by BLAS, written into ``out`` when given."""
        return np.matmul(a, b, out=out)

    @staticmethod
    def relu(z):
        """``max(0, z)``."""
        return np.maximum(z, 0)

    @staticmethod
    def relu_backward(grad_out, z):
        """``grad_out · [z > 0]``."""
        return grad_out * (z > 0)

    @staticmethod
    def leaky_relu(z, alpha):
        """``z if z > 0 else α·z``."""
        return np.where(z > 0, z, alpha * z)

    @staticmethod
    def leaky_relu_backward(grad_out, z, alpha):
        """``grad_out · (1 if z > 0 else α)``."""
        return grad_out * np.where(z > 0, 1.0, alpha).astype(z.dtype, copy=False)

    @staticmethod
    def sigmoid(z):
        """Stable ``σ(z)``: only ``−|z|`` is exponentiated (see :func:`tinyae.activations.sigmoid`).

        With ``e = e^{−|z|}`` and ``s = 1/(1 + e)``: ``σ(z) = s`` for ``z ≥ 0`` and
        ``e·s`` for ``z < 0``. ``max(e, [z ≥ 0])`` is 1 or ``e`` exactly (as ``e ≤ 1``),
        so one multiply picks the branch; ``np.where`` gives the same bits but, on
        random signs, is several times slower (it branches per entry).
        """
        e = np.exp(-np.abs(z))
        s = 1.0 / (1.0 + e)
        return s * np.maximum(e, z >= 0)

    @staticmethod
    def sigmoid_backward(grad_out, a):
        """``grad_out · a · (1 − a)``, from the sigmoid's output ``a``."""
        return grad_out * a * (1 - a)

    @staticmethod
    def tanh(z):
        """``tanh(z)``."""
        return np.tanh(z)

    @staticmethod
    def tanh_backward(grad_out, a):
        """``grad_out · (1 − a²)``, from the output ``a = tanh(z)``."""
        return grad_out * (1 - a * a)

    @staticmethod
    def mse(y_pred, y_true):
        """Squared error summed over features, averaged over the batch.

        Returns ``(L, ŷ − y)`` with ``L = Σ (ŷ − y)² / N`` (``N = y_pred.shape[0]``);
        the difference is what the gradient ``2 (ŷ − y) / N`` is made of.
        """
        diff = y_pred - y_true
        return float(np.vdot(diff, diff)) / diff.shape[0], diff

    @staticmethod
    def bce_with_logits(z, y):
        """Cross-entropy of ``σ(z)`` against ``y``, from the logits ``z``, and its gradient.

        Returns ``(L, dL/dz)`` with ``L = Σ [softplus(z) − y·z] / N`` and
        ``dL/dz = (σ(z) − y) / N`` (see :class:`tinyae.losses.BinaryCrossEntropyWithLogits`).
        """
        n = z.shape[0]
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        value = float(np.sum(softplus - y * z)) / n
        grad = NumpyOps.sigmoid(z)
        grad -= y
        grad /= n
        return value, grad

    @staticmethod
    def adam_update(param, grad, m, v, tmp, beta1, beta2, eps, weight_decay, step_size,
                    sqrt_c2):
        """One Adam step for one parameter, in place (``tmp`` is scratch of ``param``'s shape).

        With ``g = grad + weight_decay·θ``: ``m ← β1·m + (1 − β1)·g``,
        ``v ← β2·v + (1 − β2)·g²``, ``θ ← θ − step_size · m / (√v / sqrt_c2 + ε)``,
        where ``step_size = lr / (1 − β1ᵗ)`` and ``sqrt_c2 = √(1 − β2ᵗ)`` are the bias
        corrections (see :class:`tinyae.optim.Adam`). Every line updates an array in
        place or writes into ``tmp``: no temporary array is allocated.
        """
        g = grad + weight_decay * param if weight_decay else grad
        m *= beta1
        np.multiply(g, 1 - beta1, out=tmp)
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        np.sqrt(v, out=tmp)          # tmp <- √v̂ + ε, then the step  m / tmp · step_size
        tmp *= 1 / sqrt_c2
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        param -= tmp


# ----- the numba backend: compiled kernels where they pay, NumPy's twins elsewhere -------

def _flat(*arrays):
    """The arrays as 1-D views when every one is C-contiguous float32/64 of one dtype, else None.

    The kernels take flat contiguous arrays; anything else (a transposed view, a
    mixed dtype) is left to the NumPy twin, which handles every case.
    """
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype != dtype or dtype.kind != "f" or dtype.itemsize not in (4, 8) \
                or not a.flags.c_contiguous:
            return None
    return [a.reshape(-1) for a in arrays]


class NumbaOps(NumpyOps):
    """The operations from ``tinyae/_numba_kernels.py``; inherited NumPy twins for the rest.

    ``matmul`` is inherited: BLAS does the big products. Each wrapper allocates the
    result, hands flat views to the kernel, and falls back to the twin for inputs
    the kernel was not written for (non-contiguous or mixed dtypes).
    """

    name = "numba"

    def __init__(self, kernels):
        self.k = kernels

    def _unary(self, kernel, twin, x, *args):
        flat = _flat(x)
        if flat is None:
            return twin(x, *args)
        out = np.empty_like(x)
        kernel(flat[0], *args, out.reshape(-1))
        return out

    def _binary(self, kernel, twin, grad_out, saved, *args):
        flat = _flat(grad_out, saved)
        if flat is None or grad_out.shape != saved.shape:
            return twin(grad_out, saved, *args)
        out = np.empty_like(saved)
        kernel(flat[0], flat[1], *args, out.reshape(-1))
        return out

    def relu(self, z):
        return self._unary(self.k.relu, NumpyOps.relu, z)

    def relu_backward(self, grad_out, z):
        return self._binary(self.k.relu_backward, NumpyOps.relu_backward, grad_out, z)

    def leaky_relu(self, z, alpha):
        return self._unary(self.k.leaky_relu, NumpyOps.leaky_relu, z, alpha)

    def leaky_relu_backward(self, grad_out, z, alpha):
        return self._binary(self.k.leaky_relu_backward, NumpyOps.leaky_relu_backward,
                            grad_out, z, alpha)

    def sigmoid(self, z):
        flat = _flat(z)
        if flat is None:
            return NumpyOps.sigmoid(z)
        e = np.exp(-np.abs(z))              # NumPy's exp is vectorized, Numba's is not
        self.k.sigmoid_from_exp(flat[0], e.reshape(-1), e.reshape(-1))
        return e

    def sigmoid_backward(self, grad_out, a):
        return self._binary(self.k.sigmoid_backward, NumpyOps.sigmoid_backward, grad_out, a)

    def tanh_backward(self, grad_out, a):
        return self._binary(self.k.tanh_backward, NumpyOps.tanh_backward, grad_out, a)

    def mse(self, y_pred, y_true):
        flat = _flat(y_pred, y_true)
        if flat is None or y_pred.shape != y_true.shape:
            return NumpyOps.mse(y_pred, y_true)
        diff = np.empty_like(y_pred)
        value = self.k.mse(flat[0], flat[1], y_pred.shape[0], diff.reshape(-1))
        return float(value), diff

    def bce_with_logits(self, z, y):
        flat = _flat(z, y)
        if flat is None or z.shape != y.shape:
            return NumpyOps.bce_with_logits(z, y)
        e = np.exp(-np.abs(z))              # the vectorized exp and log1p of NumPy
        log1p_e = np.log1p(e)
        value = self.k.bce_with_logits_from_exp(flat[0], flat[1], e.reshape(-1),
                                                log1p_e.reshape(-1), z.shape[0], e.reshape(-1))
        return float(value), e

    def adam_update(self, param, grad, m, v, tmp, beta1, beta2, eps, weight_decay, step_size,
                    sqrt_c2):
        flat = _flat(param, grad, m, v)
        if flat is None:
            return NumpyOps.adam_update(param, grad, m, v, tmp, beta1, beta2, eps,
                                        weight_decay, step_size, sqrt_c2)
        self.k.adam_update(*flat, beta1, beta2, eps, weight_decay, step_size, sqrt_c2)


_ops = NumpyOps()


# ----- what the layers call --------------------------------------------------------------

def matmul(a, b, out=None):
    """Matrix product ``a @ b``, written into ``out`` when given.

    Parameters
    ----------
    a : ndarray, shape (m, k)
    b : ndarray, shape (k, n)
    out : ndarray, shape (m, n), optional
        Preallocated result (same dtype as ``a`` and ``b``); saves an allocation
        in the training step.
    """
    return _ops.matmul(a, b, out)


def relu(z):
    """``a = max(0, z)``, a new array of ``z``'s shape and dtype."""
    return _ops.relu(z)


def relu_backward(grad_out, z):
    """``dz = grad_out · [z > 0]``."""
    return _ops.relu_backward(grad_out, z)


def leaky_relu(z, alpha):
    """``a = z if z > 0 else α·z``."""
    return _ops.leaky_relu(z, alpha)


def leaky_relu_backward(grad_out, z, alpha):
    """``dz = grad_out · (1 if z > 0 else α)``."""
    return _ops.leaky_relu_backward(grad_out, z, alpha)


def sigmoid(z):
    """Stable ``σ(z) = 1 / (1 + e^{−z})``."""
    return _ops.sigmoid(z)


def sigmoid_backward(grad_out, a):
    """``dz = grad_out · a · (1 − a)`` from the output ``a = σ(z)``."""
    return _ops.sigmoid_backward(grad_out, a)


def tanh(z):
    """``a = tanh(z)``."""
    return _ops.tanh(z)


def tanh_backward(grad_out, a):
    """``dz = grad_out · (1 − a²)`` from the output ``a = tanh(z)``."""
    return _ops.tanh_backward(grad_out, a)


def mse(y_pred, y_true):
    """``(L, ŷ − y)`` with ``L = Σ (ŷ − y)² / N``, in one go."""
    return _ops.mse(y_pred, y_true)


def bce_with_logits(z, y):
    """``(L, dL/dz)``: ``L = Σ [softplus(z) − y·z] / N``, ``dL/dz = (σ(z) − y) / N``."""
    return _ops.bce_with_logits(z, y)


def adam_update(param, grad, m, v, tmp, beta1, beta2, eps, weight_decay, step_size, sqrt_c2):
    """One Adam step on ``param``, ``m`` and ``v`` in place; see :meth:`NumpyOps.adam_update`."""
    return _ops.adam_update(param, grad, m, v, tmp, beta1, beta2, eps, weight_decay,
                            step_size, sqrt_c2)


# ----- choosing the backend --------------------------------------------------------------

def _load_numba():
    """Import the compiled kernels, or explain how to install Numba."""
    try:
        from . import _numba_kernels
    except ImportError as exc:
        raise BackendUnavailableError(
            "the 'numba' backend needs Numba, which is not installed "
            f"({exc}). Install it with: pip install -e '.[fast]' "
            "(from a tinyae checkout), or: pip install numba"
        ) from exc
    return NumbaOps(_numba_kernels)


def set_backend(name):
    """Choose the backend used by every layer: ``"numpy"`` (default) or ``"numba"``.

    Raises
    ------
    ValueError
        ``name`` is not a known backend.
    BackendUnavailableError
        ``"numba"`` was asked for and Numba is not installed (an ``ImportError``).
    """
    global _ops
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {list(_BACKENDS)}")
    _ops = _load_numba() if name == "numba" else NumpyOps()


def get_backend():
    """Name of the backend in use: ``"numpy"`` or ``"numba"``."""
    return _ops.name


def available_backends():
    """Names that :func:`set_backend` accepts (``"numba"`` needs Numba installed)."""
    return list(_BACKENDS)


if os.environ.get("TINYAE_BACKEND"):
    try:
        set_backend(os.environ["TINYAE_BACKEND"])
    except (ValueError, BackendUnavailableError) as exc:
        raise type(exc)(f"environment variable TINYAE_BACKEND={os.environ['TINYAE_BACKEND']}: "
                        f"{exc}") from None
