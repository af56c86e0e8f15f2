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
    ``tinyae/backend/numba_kernels.py``. Matrix products still go to BLAS (nothing
    beats it); the win is element-wise work that NumPy does in several passes
    with a temporary array each (the sigmoid, a loss and its gradient, Adam's
    update), done in one pass; and, for the convolutions, the data movement: the
    im2col gather, the col2im scatter and the changes of layout between images
    ``(N, C, H, W)`` and one column per pixel, each one pass over the data instead
    of NumPy's several. Needs the optional extra: ``pip install -e ".[fast]"``.

Choose with ``tinyae.set_backend("numba")``, the environment variable
``TINYAE_BACKEND=numba``, or ``tinyae train --backend numba``. Switching is
allowed at any time, even between two training steps: both backends read and
write the same NumPy arrays. Importing tinyae never imports Numba, and choosing
the numba backend imports it at the first operation that uses a kernel.
"""

import importlib.util
import os

from ..errors import TinyAEError
from .numba_ops import NumbaOps
from .numpy_ops import NumpyOps

_BACKENDS = ("numpy", "numba")


class BackendUnavailableError(TinyAEError, ImportError):
    """A backend was chosen whose optional dependency is not installed."""


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
    r"""$a = \max(0, z)$, a new array of ``z``'s shape and dtype."""
    return _ops.relu(z)


def relu_backward(grad_out, z):
    r"""$dz = g \odot [z > 0]$, with $g$ the ``grad_out``."""
    return _ops.relu_backward(grad_out, z)


def leaky_relu(z, alpha):
    r"""$a = z$ if $z > 0$, else $\alpha z$."""
    return _ops.leaky_relu(z, alpha)


def leaky_relu_backward(grad_out, z, alpha):
    r"""$dz = g$ if $z > 0$, else $\alpha g$, with $g$ the ``grad_out``."""
    return _ops.leaky_relu_backward(grad_out, z, alpha)


def sigmoid(z):
    """Stable $σ(z) = 1/(1 + e^{-z})$."""
    return _ops.sigmoid(z)


def sigmoid_backward(grad_out, a):
    r"""$dz = g \odot a \odot (1 - a)$ from the output $a = σ(z)$, with $g$ the ``grad_out``."""
    return _ops.sigmoid_backward(grad_out, a)


def tanh(z):
    r"""$a = \tanh(z)$."""
    return _ops.tanh(z)


def tanh_backward(grad_out, a):
    r"""$dz = g \odot (1 - a^2)$ from the output $a = \tanh(z)$, with $g$ the ``grad_out``."""
    return _ops.tanh_backward(grad_out, a)


def mse(y_pred, y_true):
    r"""$(L, \hat y - y)$ with $L = \sum (\hat y - y)^2 / N$, in one go."""
    return _ops.mse(y_pred, y_true)


def bce_with_logits(z, y):
    r"""$(L, \partial L/\partial z)$, in one go.

    $L = \sum [\mathrm{softplus}(z) - yz]/N$ and $\partial L/\partial z = (σ(z) - y)/N$.
    """
    return _ops.bce_with_logits(z, y)


def adam_update(param, grad, m, v, tmp, beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                decay=1.0):
    """One Adam step on ``param``, ``m`` and ``v`` in place; see :meth:`NumpyOps.adam_update`.

    ``decay`` (AdamW's ``1 − lr·λ``) multiplies ``param`` in the same pass as the step.
    """
    return _ops.adam_update(param, grad, m, v, tmp, beta1, beta2, eps, weight_decay,
                            step_size, sqrt_c2, decay)


def adam_update_multi(params, grads, m, v, tmp, beta1, beta2, eps, weight_decay, step_size,
                      sqrt_c2, decays):
    """:func:`adam_update` on every parameter in one call; see :meth:`NumpyOps.adam_update_multi`.

    Parameters
    ----------
    params, grads : lists of ndarrays
        ``grads[i]`` has the shape and dtype of ``params[i]``.
    m, v, tmp : ndarrays, shape (Σ params[i].size,)
        Every parameter's moments (and scratch) end to end, in the order of ``params``.
    decays : list of float
        AdamW's ``1 − lr·λ`` per parameter (1.0: no decay).
    """
    return _ops.adam_update_multi(params, grads, m, v, tmp, beta1, beta2, eps, weight_decay,
                                  step_size, sqrt_c2, decays)


def all_finite(arrays):
    """True when no array of the list ``arrays`` holds a NaN or an infinity.

    What the training loop asks of the gradients before every optimizer step.
    """
    return _ops.all_finite(arrays)


def im2col(x, kernel_size, stride, padding):
    """The patches of ``x`` (N, C, H, W) as columns, ``(C·kh·kw, N·Ho·Wo)``.

    What :func:`tinyae.nn.conv.im2col` computes; the numba backend does it in one
    pass (``_numba_kernels.im2col``) instead of pad, view and copy. The
    arguments are pairs ``(for H, for W)``.
    """
    return _ops.im2col(x, kernel_size, stride, padding)


def col2im(cols, x_shape, kernel_size, stride, padding, bias=None):
    """The adjoint of :func:`im2col`, onto images of ``x_shape``, plus ``bias`` per channel.

    What :func:`tinyae.nn.conv.col2im` computes (then ``+ bias[c]``, if given, on
    every pixel of channel ``c``); the numba backend adds all the patches of one
    image in one pass, starting from the bias (``_numba_kernels.col2im``).
    """
    return _ops.col2im(cols, x_shape, kernel_size, stride, padding, bias)


def images_from_product(A, B, N, H, W, bias=None):
    """``A @ B`` (C, N·H·W), one column per pixel, as images ``(N, C, H, W)``, plus ``bias``.

    What ``to_images(matmul(A, B), N, H, W, bias)`` computes, in one call so that a
    backend may ask BLAS for the product the other way round: the numba backend,
    when the shared axis is long, computes ``B.T @ A.T`` (one row per pixel, the
    faster shape for BLAS here) and moves those rows into images in one pass.
    """
    return _ops.images_from_product(A, B, N, H, W, bias)


def matmul_by_transpose(a, b, out=None):
    """``a @ b.T``, (m, k)·(n, k)ᵀ -> (m, n), written into ``out`` when given.

    A convolution's weight gradient, ``dW2 = dY @ cols.T``: the numba backend asks
    BLAS for ``(b @ a.T).T`` instead, faster for these long, thin matrices.
    """
    return _ops.matmul_by_transpose(a, b, out)


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


def batchnorm_forward(x, gamma, beta, running_mean, running_var, eps, momentum, training):
    r"""BatchNorm over the rows of ``x`` (M, F): ``(y, x_hat, inv_std)``; see :class:`NumpyOps`.

    Train mode normalizes with the batch's mean and (biased) variance and moves
    ``running_mean`` and ``running_var`` in place by ``momentum``; eval mode uses
    them. The numba backend does the work in three passes over the batch (two sums,
    then $y = γ\hat x + β$) instead of NumPy's seven, one pass in eval mode.
    """
    return _ops.batchnorm_forward(x, gamma, beta, running_mean, running_var, eps, momentum,
                                  training)


def batchnorm_backward(grad_out, x_hat, gamma, inv_std, dgamma, dbeta, training):
    r"""BatchNorm's $dx$, with $dγ$ and $dβ$ written into ``dgamma`` and ``dbeta`` (F,).

    See :meth:`NumpyOps.batchnorm_backward`; the numba backend takes two passes over
    the batch (the two sums, then $dx$) instead of NumPy's six.
    """
    return _ops.batchnorm_backward(grad_out, x_hat, gamma, inv_std, dgamma, dbeta, training)


def dropout(x, u, p):
    r"""Inverted dropout: ``(y, mask)``, $\text{mask} = [u \ge p]/(1 − p)$, $y = x \odot$ mask.

    ``u`` holds the uniform draws (``x``'s shape) and is overwritten by the mask; the
    numba backend computes mask and ``y`` in one pass. See :meth:`NumpyOps.dropout`.
    """
    return _ops.dropout(x, u, p)


# ----- choosing the backend --------------------------------------------------------------

def _unavailable(why):
    return BackendUnavailableError(
        f"the 'numba' backend needs Numba, which is not installed ({why}). Install it "
        "with: pip install -e '.[fast]' (from a tinyae checkout), or: pip install numba")


def _import_kernels():
    """Import the compiled kernels (and Numba), or explain how to install Numba."""
    try:
        from . import numba_kernels
    except ImportError as exc:
        raise _unavailable(exc) from exc
    return numba_kernels


def _load_numba():
    """The numba backend, if Numba is installed; its kernels load at their first use.

    Only the presence of Numba is checked here: importing it, and loading the cached
    kernels, costs about half a second, paid at the first operation that uses a kernel.
    """
    try:
        found = importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise _unavailable("no module named 'numba'")
    return NumbaOps(_import_kernels)


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
    """Name of the backend in use: ``"numpy"`` or ``"numba"``.

    Raises the error of a ``TINYAE_BACKEND`` that names no usable backend.
    """
    check_usable()
    return _ops.name


def check_usable():
    """Raise now, in one line, if ``TINYAE_BACKEND`` named a backend that cannot be used.

    The command line calls this before loading data, so a bad environment variable
    fails at once rather than after the data is read.
    """
    if isinstance(_ops, _BadEnvironment):
        raise _ops.error


def available_backends():
    """Names that :func:`set_backend` accepts (``"numba"`` needs Numba installed)."""
    return list(_BACKENDS)


class _BadEnvironment:
    """Stands in for a backend that ``TINYAE_BACKEND`` named but that cannot be used.

    ``import tinyae`` must never fail because of the environment: the error is raised,
    as one clear line, the first time a layer asks the backend for an operation.
    """

    name = "numpy"

    def __init__(self, error):
        self.error = error

    def __getattr__(self, op):
        raise self.error


def _from_environment(value):
    """The operations ``TINYAE_BACKEND=value`` asks for, or a stand-in that raises at use."""
    try:
        set_backend(value)
        return _ops
    except (ValueError, BackendUnavailableError) as exc:
        kind = BackendUnavailableError if isinstance(exc, BackendUnavailableError) \
            else EnvironmentBackendError
        return _BadEnvironment(kind(f"environment variable TINYAE_BACKEND={value}: {exc} "
                                    "(unset it, or call tinyae.set_backend)"))


class EnvironmentBackendError(TinyAEError, ValueError):
    """``TINYAE_BACKEND`` names no backend tinyae knows."""


if os.environ.get("TINYAE_BACKEND"):
    _ops = _from_environment(os.environ["TINYAE_BACKEND"])
