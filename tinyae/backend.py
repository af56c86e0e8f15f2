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
    update), done in one pass; and, for the convolutions, the data movement: the
    im2col gather, the col2im scatter and the changes of layout between images
    ``(N, C, H, W)`` and one column per pixel, each one pass over the data instead
    of NumPy's several. Needs the optional extra: ``pip install -e ".[fast]"``.

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

    @staticmethod
    def im2col(x, kernel_size, stride, padding):
        """Patches as columns, ``(N, C, H, W)`` -> ``(C·kh·kw, N·Ho·Wo)``.

        :func:`tinyae.conv.im2col`, the readable version, which lives beside the
        layers; ``kernel_size``, ``stride``, ``padding`` are pairs ``(for H, for W)``.
        """
        from .conv import im2col
        return im2col(x, kernel_size, stride, padding)

    @staticmethod
    def col2im(cols, x_shape, kernel_size, stride, padding, bias=None):
        """:func:`tinyae.conv.col2im`, plus ``bias[c]`` on every pixel of channel ``c`` if given."""
        from .conv import col2im
        out = col2im(cols, x_shape, kernel_size, stride, padding)
        if bias is not None:
            out += bias[:, None, None]
        return out

    @staticmethod
    def channels_first(x, sums=None):
        """``(N, C, H, W)`` -> ``(C, N·H·W)``; each channel's sum into ``sums`` if given."""
        m = x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)
        if sums is not None:
            np.sum(m, axis=1, out=sums)
        return m

    @staticmethod
    def to_images(m, N, H, W, bias=None):
        """``(C, N·H·W)`` -> ``(N, C, H, W)`` C-contiguous, ``+ bias[c]`` (overwrites ``m``)."""
        if bias is not None:
            m += bias[:, None]
        return np.ascontiguousarray(m.reshape(-1, N, H, W).transpose(1, 0, 2, 3))


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

    def im2col(self, x, kernel_size, stride, padding):
        if _flat(x) is None:
            return NumpyOps.im2col(x, kernel_size, stride, padding)
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        N, C, H, W = x.shape
        Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
        cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
        self.k.im2col(x, kh, kw, sh, sw, ph, pw, cols)
        return cols.reshape(C * kh * kw, N * Ho * Wo)

    def col2im(self, cols, x_shape, kernel_size, stride, padding, bias=None):
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        N, C, H, W = x_shape
        if _flat(cols) is None or (bias is not None and bias.dtype != cols.dtype):
            return NumpyOps.col2im(cols, x_shape, kernel_size, stride, padding, bias)
        Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
        out = np.empty(x_shape, dtype=cols.dtype)
        bias = np.zeros(C, dtype=cols.dtype) if bias is None else bias
        self.k.col2im(cols.reshape(C, kh, kw, N, Ho, Wo), sh, sw, ph, pw, bias, out)
        return out

    def channels_first(self, x, sums=None):
        if _flat(x) is None or (sums is not None and sums.dtype != x.dtype):
            return NumpyOps.channels_first(x, sums)
        N, C, H, W = x.shape
        out = np.empty((C, N * H * W), dtype=x.dtype)
        sums = np.empty(C, dtype=x.dtype) if sums is None else sums
        self.k.channels_first(x.reshape(N, C, H * W), out.reshape(C, N, H * W), sums)
        return out

    def to_images(self, m, N, H, W, bias=None):
        C = m.shape[0]
        if _flat(m) is None or (bias is not None and bias.dtype != m.dtype):
            return NumpyOps.to_images(m, N, H, W, bias)
        out = np.empty((N, C, H, W), dtype=m.dtype)
        bias = np.zeros(C, dtype=m.dtype) if bias is None else bias
        self.k.to_images(m.reshape(C, N, H * W), bias, out.reshape(N, C, H * W))
        return out


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


def im2col(x, kernel_size, stride, padding):
    """The patches of ``x`` (N, C, H, W) as columns, ``(C·kh·kw, N·Ho·Wo)``.

    What :func:`tinyae.conv.im2col` computes; the numba backend does it in one
    pass (``_numba_kernels.im2col``) instead of pad, view and copy. The
    arguments are pairs ``(for H, for W)``.
    """
    return _ops.im2col(x, kernel_size, stride, padding)


def col2im(cols, x_shape, kernel_size, stride, padding, bias=None):
    """The adjoint of :func:`im2col`, onto images of ``x_shape``, plus ``bias`` per channel.

    What :func:`tinyae.conv.col2im` computes (then ``+ bias[c]``, if given, on
    every pixel of channel ``c``); the numba backend adds all the patches of one
    image in one pass, starting from the bias (``_numba_kernels.col2im``).
    """
    return _ops.col2im(cols, x_shape, kernel_size, stride, padding, bias)


def channels_first(x, sums=None):
    """Images ``(N, C, H, W)`` as ``(C, N·H·W)``: one column per pixel, its channels down it.

    With ``sums`` (an array of shape ``(C,)``), also writes each channel's sum
    over the batch and the pixels into it (a convolution's bias gradient): the
    numba backend does the copy and the sums in one pass.
    """
    return _ops.channels_first(x, sums)


def to_images(m, N, H, W, bias=None):
    """``(C, N·H·W)``, one column per pixel, back to C-contiguous images ``(N, C, H, W)``.

    Plus ``bias[c]`` on every pixel of channel ``c`` when given (``m`` may then be
    overwritten); the numba backend adds and transposes in one pass.
    """
    return _ops.to_images(m, N, H, W, bias)


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
