"""The numpy backend: every operation in plain NumPy, the reference every backend must agree with.

Each function is the formula, a few lines long, with ``out=`` and in-place updates
where they save a pass over memory. :func:`im2col` and :func:`col2im`, the data
movement of a convolution (lesson 19), live here too: the convolution layers in
:mod:`tinyae.nn.conv` call them through :mod:`tinyae.backend`.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# ----- im2col and col2im: the data movement of a convolution -------------------------------

def im2col(x, kernel_size, stride, padding):
    """Cut ``x`` into patches, one patch per column: ``(N, C, H, W)`` -> ``(C·kh·kw, N·Ho·Wo)``.

    ``cols[(c, u, v), (n, i, j)] = xp[n, c, i·sh + u, j·sw + v]``, where ``xp`` is
    ``x`` with ``p`` zeros around each image: column ``(n, i, j)`` is the patch
    under the kernel at output pixel ``(i, j)`` of image ``n``, and the rows are
    ordered ``(c, u, v)`` like ``W.reshape(Cout, C·kh·kw)``'s columns.

    The gather costs no Python loop: ``sliding_window_view`` is a view of every
    ``kh × kw`` window, ``[::sh, ::sw]`` keeps every ``s``-th, and one copy lays
    them out. Each pixel is copied about ``kh·kw/(sh·sw)`` times: data movement,
    not arithmetic. (Patches as columns rather than rows: the copy then moves
    runs of ``Wo`` neighbouring pixels instead of runs of ``kw``, several times
    faster in NumPy. Columns ordered ``(i, j, n)``, batch last, would move runs of
    ``N``, faster still for this copy, but every change of layout around the
    products becomes a transpose: measured on the benchmark's conv autoencoder,
    the epoch gained 5% in NumPy and lost 5 to 10% with numba, so the batch stays
    first.)
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    N, C, H, W = x.shape
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    xp = x
    if ph or pw:      # zeros around each image: a zeroed array, one slice copy (np.pad: slower)
        xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
        xp[:, :, ph:ph + H, pw:pw + W] = x
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))   # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    windows = windows[:, :, :(Ho - 1) * sh + 1:sh, :(Wo - 1) * sw + 1:sw]  # (N, C, Ho, Wo, ...)
    cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    np.copyto(cols, windows.transpose(1, 4, 5, 0, 2, 3))
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im(cols, x_shape, kernel_size, stride, padding, bias=None):
    """The adjoint of :func:`im2col`: add every patch back onto the pixels it came from.

    ``dx[n, c, i·sh + u − ph, j·sw + v − pw] += cols[(c, u, v), (n, i, j)]``; what
    falls on the padding is dropped; then ``+ bias[c]`` on every pixel of channel
    ``c``, if given. The loop runs over the ``kh·kw`` kernel offsets ``(u, v)``
    only: for one offset, the patches of all samples and all positions land on one
    strided slice of the images, added in one NumPy call.

    The sums are made channel first, in a padded ``(C, N, Hp, Wp)`` array, the
    layout of ``cols``'s rows: each slice is then added as it lies, without a
    transposed read. One last pass crops the padding, moves the channel axis back
    to ``(N, C, H, W)`` and adds the bias (the transposed read is paid once, not
    ``kh·kw`` times). Each pixel sums its terms in the order ``(u, v)``, then the bias.

    Parameters
    ----------
    cols : ndarray, shape (C·kh·kw, N·Ho·Wo)
    x_shape : tuple (N, C, H, W)
        Shape of the array :func:`im2col` was (or would be) applied to.
    bias : ndarray, shape (C,), optional

    Returns
    -------
    ndarray, shape ``x_shape``, C-contiguous, dtype of ``cols``
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    N, C, H, W = x_shape
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    patches = cols.reshape(C, kh, kw, N, Ho, Wo)
    xp = np.zeros((C, N, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for u in range(kh):
        for v in range(kw):
            xp[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += patches[:, u, v]
    dx = xp[:, :, ph:ph + H, pw:pw + W].transpose(1, 0, 2, 3)
    out = np.empty(x_shape, dtype=cols.dtype)
    if bias is None:
        np.copyto(out, dx)
    else:
        np.add(dx, bias[:, None, None], out=out)
    return out


# ----- BatchNorm's per-feature arithmetic, shared by both backends -----------------------

def _update_running(running_mean, running_var, mean, var, M, momentum):
    """``running ← (1 − m)·running + m·batch`` in place; the variance unbiased, ``·M/(M − 1)``."""
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += momentum * var * (M / (M - 1))


def _inv_std(var, eps, dtype):
    """``1/√(σ² + ε)`` per feature, in ``dtype``."""
    return (1.0 / np.sqrt(var + eps)).astype(dtype, copy=False)


# ----- the plain NumPy twins: the reference every backend must agree with ---------------

#: Bytes per array in a piece of :meth:`NumpyOps.adam_update_multi`: five such arrays
#: (θ, g, m, v and the scratch) fit in a core's 2 MB L2 cache together.
ADAM_PIECE_BYTES = 256 * 1024


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
        """``grad_out · [z > 0]``.

        The mask is made numbers (0 and 1 of ``grad_out``'s dtype) before the
        product: the same bits, and NumPy multiplies two float arrays faster than a
        float array by a boolean one, which it converts piece by piece on the way
        (25 µs against 35 on a 128 × 784 float32 batch).
        """
        return grad_out * (z > 0).astype(grad_out.dtype)

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
        """Stable ``σ(z)``: only ``−|z|`` is exponentiated (:func:`tinyae.nn.activations.sigmoid`).

        With ``e = e^{−|z|}`` and ``s = 1/(1 + e)``: ``σ(z) = s`` for ``z ≥ 0`` and
        ``e·s`` for ``z < 0``. ``max(e, [z ≥ 0])`` is 1 or ``e`` exactly (as ``e ≤ 1``),
        so one multiply picks the branch; ``np.where`` gives the same bits but, on
        random signs, is several times slower (it branches per entry). The lines
        write into ``e`` and ``s`` where they can: two arrays instead of seven.
        """
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)                  # e = exp(−|z|)
        s = np.add(e, 1.0)
        np.divide(1.0, s, out=s)          # s = 1/(1 + e)
        np.maximum(e, z >= 0, out=e)      # 1 where z ≥ 0, else e
        s *= e
        return s

    @staticmethod
    def sigmoid_backward(grad_out, a):
        """``grad_out · a · (1 − a)``, from the sigmoid's output ``a``."""
        dz = grad_out * a
        dz *= 1 - a
        return dz

    @staticmethod
    def tanh(z):
        """``tanh(z)``."""
        return np.tanh(z)

    @staticmethod
    def tanh_backward(grad_out, a):
        """``grad_out · (1 − a²)``, from the output ``a = tanh(z)``."""
        dz = a * a
        np.subtract(1, dz, out=dz)
        dz *= grad_out
        return dz

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
        ``dL/dz = (σ(z) − y) / N`` (see :class:`tinyae.nn.losses.BinaryCrossEntropyWithLogits`).
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
                    sqrt_c2, decay=1.0):
        """One Adam step for one parameter, in place (``tmp`` is scratch of ``param``'s shape).

        With ``g = grad + weight_decay·θ``: ``m ← β1·m + (1 − β1)·g``,
        ``v ← β2·v + (1 − β2)·g²``, ``θ ← decay·θ − step_size · m / (√v / sqrt_c2 + ε)``,
        where ``step_size = lr / (1 − β1ᵗ)`` and ``sqrt_c2 = √(1 − β2ᵗ)`` are the bias
        corrections (see :class:`tinyae.optim.optimizers.Adam`) and ``decay`` is AdamW's
        ``1 − lr·λ`` (1: none). The step is computed as ``(step_size·sqrt_c2) · m /
        (√v + ε·sqrt_c2)``, the same number with one pass fewer. Every line updates
        an array in place or writes into ``tmp``: no temporary array is allocated.
        """
        g = grad + weight_decay * param if weight_decay else grad
        m *= beta1
        np.multiply(g, 1 - beta1, out=tmp)
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        np.sqrt(v, out=tmp)          # tmp <- √v + ε·sqrt_c2, then the step
        tmp += eps * sqrt_c2
        np.divide(m, tmp, out=tmp)
        tmp *= step_size * sqrt_c2
        if decay != 1.0:
            param *= decay
        param -= tmp

    @staticmethod
    def adam_update_multi(params, grads, m, v, tmp, beta1, beta2, eps, weight_decay,
                          step_size, sqrt_c2, decays):
        """One Adam step for every parameter, each with its piece of the flat buffers.

        ``m``, ``v`` and ``tmp`` are flat (1-D) buffers holding every parameter's
        moments end to end, in the order of ``params``: parameter ``i`` owns the
        ``params[i].size`` entries after those of parameters ``0 … i−1``. ``decays[i]``
        is parameter ``i``'s AdamW factor. Here, :meth:`adam_update` on pieces of
        :data:`ADAM_PIECE_BYTES` per array, in turn: its twelve lines then sweep five
        arrays of 256 KB, which stay in the core's cache from one line to the next,
        rather than a 784 × 256 matrix's 800 KB each. Per entry the same operations,
        so the same bits. (A step of the benchmark's model: 0.80 ms in pieces, 0.84
        parameter by parameter, 1.1 with each line run once over the flat buffers.)
        """
        start = 0
        for param, grad, decay in zip(params, grads, decays):
            n = param.size
            mi, vi, ti = m[start:start + n], v[start:start + n], tmp[start:start + n]
            start += n
            if not (param.flags.c_contiguous and grad.flags.c_contiguous):
                NumpyOps.adam_update(param, grad, mi.reshape(param.shape),
                                     vi.reshape(param.shape), ti.reshape(param.shape),
                                     beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                                     decay)
                continue
            theta, g = param.reshape(-1), grad.reshape(-1)    # views of the same numbers
            size = ADAM_PIECE_BYTES // param.itemsize
            for lo in range(0, n, size):
                piece = slice(lo, lo + size)
                NumpyOps.adam_update(theta[piece], g[piece], mi[piece], vi[piece],
                                     ti[piece], beta1, beta2, eps, weight_decay, step_size,
                                     sqrt_c2, decay)

    @staticmethod
    def all_finite(arrays):
        """True when no array holds a NaN or an infinity.

        ``max`` and ``min`` are each one pass with no temporary array, and a NaN
        wins both (NumPy's reductions propagate it), +inf the first, −inf the second.
        """
        return all(np.isfinite(a.max()) and np.isfinite(a.min()) for a in arrays if a.size)

    @staticmethod
    def im2col(x, kernel_size, stride, padding):
        """Patches as columns, ``(N, C, H, W)`` -> ``(C·kh·kw, N·Ho·Wo)``: :func:`im2col`."""
        return im2col(x, kernel_size, stride, padding)

    @staticmethod
    def col2im(cols, x_shape, kernel_size, stride, padding, bias=None):
        """:func:`col2im`, plus ``bias[c]`` on every pixel of channel ``c`` if given."""
        return col2im(cols, x_shape, kernel_size, stride, padding, bias)

    @staticmethod
    def images_from_product(A, B, N, H, W, bias=None):
        """``A @ B`` (C, N·H·W) as images ``(N, C, H, W)`` plus ``bias``: the product, then
        :meth:`to_images`."""
        return NumpyOps.to_images(np.matmul(A, B), N, H, W, bias)

    @staticmethod
    def matmul_by_transpose(a, b, out=None):
        """``a @ b.T`` (m, k)·(n, k)ᵀ -> (m, n), by BLAS, written into ``out`` when given."""
        return np.matmul(a, b.T, out=out)

    @staticmethod
    def channels_first(x, sums=None):
        """``(N, C, H, W)`` -> ``(C, N·H·W)``; each channel's sum into ``sums`` if given."""
        m = x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)
        if sums is not None:
            np.sum(m, axis=1, out=sums)
        return m

    @staticmethod
    def to_images(m, N, H, W, bias=None):
        """``(C, N·H·W)`` -> ``(N, C, H, W)`` C-contiguous, ``+ bias[c]``: one pass.

        The bias is added during the transposing copy, not before it in place.
        """
        images = m.reshape(-1, N, H, W).transpose(1, 0, 2, 3)
        out = np.empty(images.shape, dtype=m.dtype)
        if bias is None:
            np.copyto(out, images)
        else:
            np.add(images, bias[:, None, None], out=out)
        return out

    # ----- BatchNorm over (M, F): one mean and variance per column ----------------------

    @staticmethod
    def batchnorm_forward(x, gamma, beta, running_mean, running_var, eps, momentum, training):
        r"""BatchNorm's forward over the rows of ``x`` (M, F); returns ``(y, x_hat, inv_std)``.

        Train mode: $μ = \sum_m x_m / M$, $σ^2 = \sum_m (x_m − μ)^2 / M$ (biased),
        $\hat x = (x − μ)/\sqrt{σ^2 + ε}$, $y = γ\hat x + β$, and the running statistics
        move by ``momentum`` $m$ in place: ``running_mean`` ← $(1 − m)$·``running_mean`` +
        $mμ$, ``running_var`` ← $(1 − m)$·``running_var`` + $mσ^2 M/(M − 1)$ (unbiased).
        Eval mode (``training`` false): the same with $μ, σ^2$ = the running statistics,
        which stay as they are. ``inv_std`` (F,) is $1/\sqrt{σ^2 + ε}$ in ``x``'s dtype;
        ``x_hat`` is a new (M, F) array, ``y`` another. See
        :class:`tinyae.nn.normalization.BatchNorm1d` for the math.
        """
        M = x.shape[0]
        if training:
            mean = x.mean(axis=0)
            x_hat = x - mean                           # centred; scaled in place below
            var = np.einsum("mf,mf->f", x_hat, x_hat) / M    # Σ(x − μ)²/M, no temporary
            _update_running(running_mean, running_var, mean, var, M, momentum)
        else:
            mean, var = running_mean, running_var
            x_hat = x - mean
        inv_std = _inv_std(var, eps, x_hat.dtype)
        x_hat *= inv_std
        y = x_hat * gamma
        y += beta
        return y, x_hat, inv_std

    @staticmethod
    def batchnorm_backward(grad_out, x_hat, gamma, inv_std, dgamma, dbeta, training):
        r"""BatchNorm's backward over (M, F): $dγ$, $dβ$ into ``dgamma``, ``dbeta``; returns $dx$.

        $dγ = \sum_m dy_m \hat x_m$ and $dβ = \sum_m dy_m$ (``dy`` = ``grad_out``). Train
        mode, with these two sums: $dx = γ s^{-1} (dy − dβ/M − \hat x\, dγ/M)$, with
        $s^{-1}$ = ``inv_std``; eval mode (an affine map): $dx = dy\, γ s^{-1}$.
        """
        dgamma[...] = np.einsum("mf,mf->f", grad_out, x_hat)     # Σ dy·x̂, no temporary
        np.sum(grad_out, axis=0, out=dbeta)
        if not training:
            return grad_out * (gamma * inv_std)
        M = grad_out.shape[0]
        dx = x_hat * (dgamma / M)              # three passes over the batch
        dx += dbeta / M
        np.subtract(grad_out, dx, out=dx)
        dx *= gamma * inv_std
        return dx

    # ----- Dropout ------------------------------------------------------------------------

    @staticmethod
    def dropout(x, u, p):
        r"""Inverted dropout from uniform draws ``u`` (``x``'s shape): returns ``(y, mask)``.

        $\text{mask} = [u \ge p]/(1 − p)$ (0 or $1/(1 − p)$) and $y = x \odot \text{mask}$.
        The mask is written into ``u``: a new array of that size, while ``u`` is still
        held, made the layer 10% slower (memory the allocator had to find afresh).
        """
        mask = u
        mask[...] = u >= p                  # 1 or 0
        mask /= 1 - p
        return x * mask, mask
