"""The numba backend: compiled kernels (:mod:`tinyae.backend.numba_kernels`) where they pay.

Every method falls back to its NumPy twin (:class:`~tinyae.backend.numpy_ops.NumpyOps`)
for inputs a kernel was not written for, and until the kernels are loaded.

When they pay: a kernel saves NumPy's extra passes, about a nanosecond per number, and
loading the kernels costs about half a second per process (importing Numba; then its
first cached kernel initializes the compiler's registries, which import SciPy's BLAS;
the cached machine code itself loads in milliseconds). The kernels load at the first
operation that needs one, not when the backend is chosen. :data:`LOAD_AFTER` can delay
that until so many numbers have gone through the NumPy twins; it is 0, because the
backend the user chose should be the one that runs, from the first batch (and a run
that switches kernels halfway would give other bits after a resume). A short run on
the 8×8 digits therefore pays Numba's start-up, which ``benchmarks/bench.py`` measures.
"""

import os

import numpy as np

from .numpy_ops import NumpyOps, _inv_std

#: Use the ``prange`` twins of Adam, im2col and col2im (``TINYAE_NUMBA_PARALLEL=1``).
#: Off by default: Numba's threads and OpenBLAS's both keep spinning after their work,
#: and on 2 cores a BLAS call right after a parallel kernel once ran 30 times slower;
#: ``benchmarks/bench.py`` times both ways ("tinyae numba parallel" rows), and the
#: default changes only on its numbers from a quiet machine.
PARALLEL = os.environ.get("TINYAE_NUMBA_PARALLEL", "") == "1"
#: Smaller parameters keep the serial Adam even then: waking the threads costs more.
PARALLEL_MIN_SIZE = 65_536

#: :meth:`NumbaOps.images_from_product` asks BLAS for the product transposed (one row per
#: pixel) when the shared axis is at least this long; below, the plain product is faster.
ROWS_MIN_SHARED = 64

#: Numbers the NumPy twins process before the kernels are loaded (see above): none.
LOAD_AFTER = 0

_work = 0           # numbers done by the twins so far, in this process
_kernels = None     # the module tinyae.backend.numba_kernels, once loaded
_views = {}         # flat views of the arrays of a step, by their ids: see _flat_views


def _flat(*arrays):
    """The arrays as 1-D views when every one is C-contiguous float32/64 of one dtype, else None.

    The kernels take flat contiguous arrays; anything else (a transposed view, a
    mixed dtype) is left to the NumPy twin, which handles every case; so is
    everything until the kernels are loaded (:data:`LOAD_AFTER`).
    """
    global _work
    if _kernels is None:
        _work += arrays[0].size
        if _work < LOAD_AFTER:
            return None
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype != dtype or dtype.kind != "f" or dtype.itemsize not in (4, 8) \
                or not a.flags.c_contiguous:
            return None
    return [a.reshape(-1) for a in arrays]


class NumbaOps(NumpyOps):
    """The operations from ``tinyae/backend/numba_kernels.py``; inherited NumPy twins for the rest.

    ``matmul`` is inherited: BLAS does the big products. Each wrapper allocates the
    result, hands flat views to the kernel, and falls back to the twin for inputs
    the kernel was not written for (non-contiguous or mixed dtypes).
    """

    name = "numba"

    def __init__(self, load_kernels):
        self._load_kernels = load_kernels    # imports Numba: called at the first kernel call

    @property
    def k(self):
        """The module :mod:`tinyae.backend.numba_kernels`, imported on first use."""
        global _kernels
        if _kernels is None:
            _kernels = self._load_kernels()
        return _kernels

    def _unary(self, kernel, twin, x, *args):
        flat = _flat(x)
        if flat is None:
            return twin(x, *args)
        out = np.empty_like(x)
        getattr(self.k, kernel)(flat[0], *args, out.reshape(-1))
        return out

    def _binary(self, kernel, twin, grad_out, saved, *args):
        flat = _flat(grad_out, saved)
        if flat is None or grad_out.shape != saved.shape:
            return twin(grad_out, saved, *args)
        out = np.empty_like(saved)
        getattr(self.k, kernel)(flat[0], flat[1], *args, out.reshape(-1))
        return out

    def relu(self, z):
        return self._unary("relu", NumpyOps.relu, z)

    def relu_backward(self, grad_out, z):
        return self._binary("relu_backward", NumpyOps.relu_backward, grad_out, z)

    def leaky_relu(self, z, alpha):
        return self._unary("leaky_relu", NumpyOps.leaky_relu, z, alpha)

    def leaky_relu_backward(self, grad_out, z, alpha):
        return self._binary("leaky_relu_backward", NumpyOps.leaky_relu_backward,
                            grad_out, z, alpha)

    def sigmoid(self, z):
        flat = _flat(z)
        if flat is None:
            return NumpyOps.sigmoid(z)
        e = np.abs(z)                       # e = exp(−|z|): NumPy's exp is vectorized,
        np.negative(e, out=e)               # Numba's is not
        np.exp(e, out=e)
        a = np.empty_like(z)                # not into e: see the kernel's docstring
        self.k.sigmoid_from_exp(flat[0], e.reshape(-1), a.reshape(-1))
        return a

    def sigmoid_backward(self, grad_out, a):
        return self._binary("sigmoid_backward", NumpyOps.sigmoid_backward, grad_out, a)

    def tanh_backward(self, grad_out, a):
        return self._binary("tanh_backward", NumpyOps.tanh_backward, grad_out, a)

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
        grad = np.empty_like(z)             # not into e: see sigmoid_from_exp's docstring
        value = self.k.bce_with_logits_from_exp(flat[0], flat[1], e.reshape(-1),
                                                log1p_e.reshape(-1), z.shape[0],
                                                grad.reshape(-1))
        return float(value), grad

    def adam_update(self, param, grad, m, v, tmp, beta1, beta2, eps, weight_decay, step_size,
                    sqrt_c2, decay=1.0):
        flat = _flat(param, grad, m, v)
        if flat is None:
            return NumpyOps.adam_update(param, grad, m, v, tmp, beta1, beta2, eps,
                                        weight_decay, step_size, sqrt_c2, decay)
        parallel = PARALLEL and param.size >= PARALLEL_MIN_SIZE
        kernel = self.k.adam_update_parallel if parallel else self.k.adam_update
        kernel(*flat, beta1, beta2, eps, weight_decay, step_size, sqrt_c2, decay)

    def adam_update_multi(self, params, grads, m, v, tmp, beta1, beta2, eps, weight_decay,
                          step_size, sqrt_c2, decays):
        views = self._flat_views(params, grads, (m, v))
        if views is None:
            return NumpyOps.adam_update_multi(params, grads, m, v, tmp, beta1, beta2, eps,
                                              weight_decay, step_size, sqrt_c2, decays)
        serial, parallel = self.k.adam_update, self.k.adam_update_parallel
        for (theta, g, mi, vi), decay in zip(views, decays):
            kernel = parallel if PARALLEL and theta.size >= PARALLEL_MIN_SIZE else serial
            kernel(theta, g, mi, vi, beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                   decay)
        return None

    def all_finite(self, arrays):
        views = self._flat_views(arrays)
        if views is None:
            return NumpyOps.all_finite(arrays)
        return all(self.k.all_finite(a) for a, in views)

    def _flat_views(self, arrays, partners=(), buffers=()):
        """Per array: ``[arrays[i], partners[i], its piece of each buffer]``, flat; or None.

        ``partners[i]`` must have the shape of ``arrays[i]`` (a parameter's gradient);
        each 1-D buffer (Adam's ``m``, ``v``) is cut into pieces of the arrays' sizes,
        in order. None when a kernel cannot take them (see :func:`_flat`): the caller
        then uses the NumPy twin. A kernel call costs about 1 µs (Numba's dispatch),
        and making the 30-odd views again at every step would cost as much again, so
        the last few sets are kept, keyed by the arrays themselves: a model's
        parameters and gradients are the same arrays at every step. The arrays are
        kept beside their key, so no ``id`` in it can be reused while it is cached.
        """
        key = (tuple(map(id, arrays)), tuple(map(id, partners)), tuple(map(id, buffers)))
        found = _views.get(key)
        if found is not None:
            return found[1]
        if not arrays or (partners and len(partners) != len(arrays)):
            return None
        views, start = [], 0
        for i, a in enumerate(arrays):
            if partners and partners[i].shape != a.shape:
                return None
            row = [a, partners[i]] if partners else [a]
            row += [buffer[start:start + a.size] for buffer in buffers]
            start += a.size
            flat = _flat(*row)
            if flat is None or any(f.size != a.size for f in flat):
                return None
            views.append(flat)
        if len(_views) >= 8:                 # forget the oldest
            del _views[next(iter(_views))]
        _views[key] = ((arrays, partners, buffers), views)
        return views

    def im2col(self, x, kernel_size, stride, padding):
        if _flat(x) is None:
            return NumpyOps.im2col(x, kernel_size, stride, padding)
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        N, C, H, W = x.shape
        Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
        cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
        kernel = self.k.im2col_parallel if PARALLEL else self.k.im2col
        kernel(x, kh, kw, sh, sw, ph, pw, cols)
        return cols.reshape(C * kh * kw, N * Ho * Wo)

    def col2im(self, cols, x_shape, kernel_size, stride, padding, bias=None):
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        N, C, H, W = x_shape
        if _flat(cols) is None or (bias is not None and bias.dtype != cols.dtype):
            return NumpyOps.col2im(cols, x_shape, kernel_size, stride, padding, bias)
        Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
        out = np.empty(x_shape, dtype=cols.dtype)
        bias = np.zeros(C, dtype=cols.dtype) if bias is None else bias
        kernel = self.k.col2im_parallel if PARALLEL else self.k.col2im
        kernel(cols.reshape(C, kh, kw, N, Ho, Wo), sh, sw, ph, pw, bias, out)
        return out

    def images_from_product(self, A, B, N, H, W, bias=None):
        """``A @ B`` as images; for a long shared axis, as ``B.T @ A.T``, one row per pixel.

        Which way round pays was measured (1 BLAS thread, float32, the benchmark's
        conv autoencoder): with a shared axis of 144 or 256, ``B.T @ A.T`` and the
        move of its rows into images took 0.59 and 1.02 ms, the product the other
        way and :meth:`to_images` 0.75 and 1.32 ms; with 9 or 16 it lost (0.29 vs
        0.24 ms). The two ways sum the same terms in BLAS's order for each shape,
        which may differ (by a rounding) between the two.
        """
        if A.shape[1] < ROWS_MIN_SHARED or _flat(A) is None or A.dtype != B.dtype \
                or (bias is not None and bias.dtype != A.dtype):
            return self.to_images(np.matmul(A, B), N, H, W, bias)
        C = A.shape[0]
        rows = np.matmul(B.T, A.T)                         # (N·H·W, C): one row per pixel
        out = np.empty((N, C, H, W), dtype=A.dtype)
        bias = np.zeros(C, dtype=A.dtype) if bias is None else bias
        self.k.pixel_rows_to_images(rows.reshape(N, H * W, C), bias, out.reshape(N, C, H * W))
        return out

    def matmul_by_transpose(self, a, b, out=None):
        """``a @ b.T`` computed as ``(b @ a.T).T``: with ``dY`` (32, 6272) and ``cols``
        (144 or 256, 6272), 0.52 and 0.88 ms instead of 0.74 and 1.29 (1 thread, float32);
        never slower in the benchmark's model. The small result is then copied."""
        result = np.matmul(b, a.T).T
        if out is None:
            return np.ascontiguousarray(result)
        np.copyto(out, result)
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

    # ----- BatchNorm over (M, F): tinyae/backend/numba_norm.py ---------------------------

    def _norm_kernels(self, x, *vectors):
        """:mod:`tinyae.backend.numba_norm` if its kernels take ``x`` (M, F ≥ 2), else None.

        ``x`` and the per-feature ``vectors`` must be C-contiguous float32/64 of one
        dtype. With one feature NumPy sums the column pairwise, not row by row, and
        from 2²⁴ rows M is not exact in float32: the twin keeps its bits.
        """
        if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] >= 2**24 or _flat(x) is None:
            return None
        for v in vectors:
            if v.dtype != x.dtype or not v.flags.c_contiguous:
                return None
        return self._numba_norm()

    def _numba_norm(self):
        """The module :mod:`tinyae.backend.numba_norm`, imported on first use."""
        kernels = self.__dict__.get("_numba_norm_module")
        if kernels is None:
            _ = self.k                      # Numba itself, or the error saying how to install it
            from . import numba_norm as kernels

            self._numba_norm_module = kernels
        return kernels

    def batchnorm_forward(self, x, gamma, beta, running_mean, running_var, eps, momentum,
                          training):
        K = self._norm_kernels(x, gamma, beta, running_mean, running_var)
        if K is None:
            return NumpyOps.batchnorm_forward(x, gamma, beta, running_mean, running_var, eps,
                                              momentum, training)
        M, F = x.shape
        x_hat, y = np.empty_like(x), np.empty_like(x)
        if not training:
            inv_std = _inv_std(running_var, eps, x.dtype)
            K.normalize_affine(x, running_mean, inv_std, gamma, beta, x_hat, y)
            return y, x_hat, inv_std
        if type(momentum) not in (float, int) or type(eps) not in (float, int):
            # a NumPy scalar makes NumPy compute in its precision: the twin has those bits
            return NumpyOps.batchnorm_forward(x, gamma, beta, running_mean, running_var, eps,
                                              momentum, training)
        mean, sumsq, inv_std = np.empty(F, x.dtype), np.empty(F, x.dtype), np.empty(F, x.dtype)
        t = x.dtype.type                    # Python numbers rounded as NumPy rounds them
        K.column_means(x, t(M), mean)
        K.center(x, mean, x_hat, sumsq)
        K.statistics(sumsq, t(M), t(momentum), t(1 - momentum), t(M / (M - 1)), t(eps), t(1),
                     mean, running_mean, running_var, inv_std)
        K.scale_shift(x_hat, inv_std, gamma, beta, y)
        return y, x_hat, inv_std

    def batchnorm_backward(self, grad_out, x_hat, gamma, inv_std, dgamma, dbeta, training):
        K = self._norm_kernels(grad_out, x_hat, gamma, inv_std, dgamma, dbeta)
        if K is None or grad_out.shape != x_hat.shape:
            return NumpyOps.batchnorm_backward(grad_out, x_hat, gamma, inv_std, dgamma, dbeta,
                                               training)
        K.grad_sums(grad_out, x_hat, dgamma, dbeta)
        if not training:
            return grad_out * (gamma * inv_std)
        dx = np.empty_like(grad_out)
        K.grad_input(grad_out, x_hat, dgamma, dbeta, grad_out.dtype.type(grad_out.shape[0]),
                     gamma, inv_std, dx)
        return dx

    # ----- Dropout ------------------------------------------------------------------------

    def dropout(self, x, u, p):
        flat = _flat(x, u)
        if flat is None or x.shape != u.shape:
            return NumpyOps.dropout(x, u, p)
        y = np.empty_like(x)
        # p and 1/(1 − p) rounded to x's dtype first, as NumPy rounds a Python float
        # against a float32 array: then the comparison and the mask are NumPy's bits.
        self._numba_norm().dropout(flat[0], flat[1], x.dtype.type(p),
                        np.divide(x.dtype.type(1), 1 - p, dtype=x.dtype), y.reshape(-1))
        return y, u
