"""The kernels of the ``"numba"`` backend, written as plain loops and compiled by Numba.

Imported only when the numba backend is chosen (``tinyae.set_backend("numba")``):
``import tinyae`` alone never imports Numba. Every kernel has a plain NumPy twin
in :mod:`tinyae.backend`, and ``tests/test_backend.py`` checks that the two agree.

Three parts:

1. **The matmul ladder**, for teaching (``benchmarks/bench.py`` times it). Four
   versions of ``out = a @ b``, each one change away from the last:
   :func:`matmul_naive` → :func:`matmul_ikj` → :func:`matmul_ikj_parallel` →
   :func:`matmul_blocked`. The training path does not use them: for the big
   products it calls the machine's BLAS, which is what the ladder climbs towards.
2. **The fused kernels** the backend does use: element-wise work that NumPy does in
   several passes, each writing a temporary array, done here in one pass over the
   data (activations forward and backward, a loss and its gradient, the whole Adam
   update). With arrays this size the passes over memory, not the arithmetic, are
   what costs: one pass instead of seven is most of the win.
3. **Data movement for the convolutions**: the im2col gather, the col2im scatter
   and the layout changes around the matrix products, each one pass over the data
   (:func:`im2col`, :func:`col2im`, :func:`to_images`, :func:`pixel_rows_to_images`,
   :func:`channels_first`);
   ``tests/test_conv_numba.py`` checks them against the NumPy versions.

Every kernel is compiled on first use for the dtypes it meets (float32 and float64,
each its own machine code) and cached on disk (``cache=True``), so the compile time,
about a second per kernel, is paid once per machine, not once per run.
"""

import math

import numpy as np
from numba import njit, prange

from .numba_matmul import matmul_blocked, matmul_ikj, matmul_ikj_parallel, matmul_naive  # noqa: F401  (the ladder, re-exported for bench.py)

# ======================================================================================
# 2. Fused kernels used by the backend. Arrays arrive flattened to 1-D and contiguous;
#    results go into ``out`` (never into an input unless the caller passes it as ``out``).
#
#    ``error_model="numpy"``: a division by zero gives inf as in NumPy instead of
#    raising; without it Numba checks every division, and the check blocks SIMD.
#    One thread each: these kernels run between BLAS calls, whose threads are still
#    spinning on the other cores for the next product; a second pool of threads
#    (``parallel=True``) fought them and made a training epoch slower, not faster.
#    Adam, im2col and col2im also have ``*_parallel`` twins (the same loop body over
#    chunks shared by ``prange``, so the same bits), used with TINYAE_NUMBA_PARALLEL=1
#    and timed by bench.py beside the serial ones.
# ======================================================================================

_FUSED = {"cache": True, "error_model": "numpy"}


@njit(**_FUSED)
def relu(z, out):
    """``a = max(0, z)``."""
    for i in range(z.size):
        out[i] = z[i] if z[i] > 0 else 0
    return out


@njit(**_FUSED)
def relu_backward(grad_out, z, out):
    """``dz = da · [z > 0]``: one pass, no boolean temporary."""
    for i in range(z.size):
        out[i] = grad_out[i] if z[i] > 0 else 0
    return out


@njit(**_FUSED)
def leaky_relu(z, alpha, out):
    """``a = z if z > 0 else α·z``."""
    alpha = z.dtype.type(alpha)
    for i in range(z.size):
        out[i] = z[i] if z[i] > 0 else alpha * z[i]
    return out


@njit(**_FUSED)
def leaky_relu_backward(grad_out, z, alpha, out):
    """``dz = da if z > 0 else α·da``."""
    alpha = z.dtype.type(alpha)
    for i in range(z.size):
        out[i] = grad_out[i] if z[i] > 0 else alpha * grad_out[i]
    return out


@njit(**_FUSED)
def sigmoid_from_exp(z, e, out):
    """Stable ``σ(z)`` given ``e = e^{−|z|}`` (see :func:`tinyae.nn.activations.sigmoid`).

    With ``s = 1/(1 + e)``: ``σ(z) = s`` for ``z ≥ 0``, ``e·s`` for ``z < 0``.
    The caller computes ``e`` with NumPy, whose ``exp`` works on 16 numbers per
    instruction; Numba's ``math.exp`` is one library call per number, and alone
    made this kernel slower than NumPy. ``out`` may be ``e`` itself.
    """
    one = z.dtype.type(1)
    for i in range(z.size):
        s = one / (one + e[i])
        out[i] = s if z[i] >= 0 else e[i] * s
    return out


@njit(**_FUSED)
def sigmoid_backward(grad_out, a, out):
    """``dz = da · a · (1 − a)``."""
    one = a.dtype.type(1)
    for i in range(a.size):
        out[i] = grad_out[i] * a[i] * (one - a[i])
    return out


@njit(**_FUSED)
def tanh_backward(grad_out, a, out):
    """``dz = da · (1 − a²)``."""
    one = a.dtype.type(1)
    for i in range(a.size):
        out[i] = grad_out[i] * (one - a[i] * a[i])
    return out


@njit(**_FUSED, fastmath={"reassoc"})   # reassoc: the sum may be split into SIMD lanes
def mse(y_pred, y_true, n, diff):
    """Squared error in one pass: writes ``diff = ŷ − y`` and returns ``Σ diff² / N``.

    The sum is accumulated in float64 whatever the dtype, so a float32 loss over a
    million entries loses no digits to rounding.
    """
    total = 0.0
    for i in range(y_pred.size):
        d = y_pred[i] - y_true[i]
        diff[i] = d
        total += float(d) * float(d)
    return total / n


@njit(**_FUSED, fastmath={"reassoc"})
def bce_with_logits_from_exp(z, y, e, log1p_e, n, grad):
    """Cross-entropy from logits and its gradient in one pass, given ``e = e^{−|z|}``.

    Returns ``L = Σ [max(z, 0) − y·z + log(1 + e)] / N`` and writes
    ``grad = (σ(z) − y) / N`` with the stable ``σ`` of :func:`sigmoid_from_exp`:
    the one ``e`` serves both. NumPy computes ``e`` and ``log1p(e)`` (vectorized);
    ``grad`` may be ``e`` itself, as each entry is read before it is overwritten.
    """
    one = z.dtype.type(1)
    zero = z.dtype.type(0)
    inv_n = z.dtype.type(1.0 / n)
    total = 0.0
    for i in range(z.size):
        zi, yi, ei = z[i], y[i], e[i]
        total += float(max(zi, zero) - yi * zi + log1p_e[i])
        s = one / (one + ei)
        p = s if zi >= 0 else ei * s
        grad[i] = (p - yi) * inv_n
    return total / n


@njit(**_FUSED)
def adam_update(param, grad, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                decay):
    """The whole Adam (or AdamW) step in one pass over each parameter, in place.

    Per entry, with ``g = grad + weight_decay·θ``:
    ``m ← β1·m + (1 − β1)·g``, ``v ← β2·v + (1 − β2)·g²`` and
    ``θ ← decay·θ − (step_size·sqrt_c2) · m / (√v + ε·sqrt_c2)``, where the caller
    passes the bias corrections as ``step_size = lr / (1 − β1ᵗ)`` and
    ``sqrt_c2 = √(1 − β2ᵗ)``, and AdamW's decoupled decay as ``decay = 1 − lr·λ``.
    The operations are those of the NumPy twin in the same order, so the two agree
    to the last bit (but for the one difference below). NumPy needs twelve passes
    over the array for them; here each number is loaded once and stored once.

    One difference: a moment smaller than the smallest normal float is set to 0.
    A weight whose input is always 0 (a border pixel of MNIST) gets ``g = 0`` at
    every step, so its ``m`` shrinks by β1 per step until it is *subnormal*, and
    arithmetic on subnormal numbers is many times slower: after a few epochs the
    update took four times as long. Flushing them is what a CPU in flush-to-zero
    mode does; it moves θ by less than 1e-30.
    """
    _adam_range(param, grad, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                decay, 0, param.size)


@njit(**_FUSED)
def _adam_range(param, grad, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                decay, start, stop):
    """:func:`adam_update` on the entries ``start`` to ``stop − 1``."""
    dt = param.dtype.type
    b1, b2, c1, c2 = dt(beta1), dt(beta2), dt(1 - beta1), dt(1 - beta2)
    wd = dt(weight_decay)
    eps_c, step_c = dt(eps * sqrt_c2), dt(step_size * sqrt_c2)
    keep = dt(decay)
    tiny = np.finfo(param.dtype).tiny             # smallest normal number
    zero = dt(0)
    for i in range(start, stop):
        g = grad[i] + wd * param[i] if weight_decay else grad[i]
        mi = b1 * m[i] + g * c1
        vi = b2 * v[i] + g * g * c2
        m[i] = mi if abs(mi) >= tiny else zero
        v[i] = vi if vi >= tiny else zero
        step = m[i] / (math.sqrt(v[i]) + eps_c) * step_c
        param[i] = (param[i] * keep if decay != 1.0 else param[i]) - step


_PARALLEL = {**_FUSED, "parallel": True}
_CHUNK = 32_768     # entries per task of a parallel kernel: a few hundred KB


@njit(**_PARALLEL)
def adam_update_parallel(param, grad, m, v, beta1, beta2, eps, weight_decay, step_size,
                         sqrt_c2, decay):
    """:func:`adam_update` with its entries cut into chunks shared among Numba's threads.

    Each entry's arithmetic is the serial kernel's, so the result is the same to the bit.
    """
    n_chunks = (param.size + _CHUNK - 1) // _CHUNK
    for t in prange(n_chunks):
        _adam_range(param, grad, m, v, beta1, beta2, eps, weight_decay, step_size, sqrt_c2,
                    decay, t * _CHUNK, min((t + 1) * _CHUNK, param.size))


# ======================================================================================
# 3. Data movement for the convolutions: the im2col gather and the col2im scatter.
#
#    NumPy builds the patch matrix in three passes (pad the images into a new array,
#    take a strided view of every window, copy it out) and adds it back in kh·kw
#    strided passes over a zeroed, padded array that is then cropped. The kernels
#    below work one image (one channel of one sample, a few KB) at a time, in a small
#    padded buffer that stays in the L1 cache: copy the image in, then gather (or
#    scatter) all of its patches through a table of offsets, computed once per call.
#    The ``cols`` layout is that of :func:`tinyae.nn.conv.im2col`, ``(C, kh, kw, N, Ho,
#    Wo)``: row ``(c, u, v)``, column ``(n, i, j)``.
#
#    Why a table: written as the definition, with ``i``, ``j`` loops and a test for
#    the padding, the innermost loop runs ``Wo`` times (7 for the benchmark's second
#    layer) and the loop bookkeeping costs more than the copy; a straight loop over
#    the ``Ho·Wo`` offsets of one patch row is 1.7 times faster here.
# ======================================================================================


@njit(**_FUSED)
def _patch_offsets(kh, kw, sh, sw, Ho, Wo, Wp):
    """``offsets[u, v, i·Wo + j] = (i·sh + u)·Wp + j·sw + v``: where, in a padded image
    ``Wp`` wide (flattened), the pixel ``(u, v)`` of the patch of output ``(i, j)`` sits."""
    offsets = np.empty((kh, kw, Ho * Wo), dtype=np.intp)
    for u in range(kh):
        for v in range(kw):
            for i in range(Ho):
                for j in range(Wo):
                    offsets[u, v, i * Wo + j] = (i * sh + u) * Wp + j * sw + v
    return offsets


@njit(**_FUSED)
def im2col(x, kh, kw, sh, sw, ph, pw, cols):
    """``cols[c, u, v, n, i, j] = xp[n, c, i·sh + u, j·sw + v]``, ``xp`` = ``x`` padded with 0.

    ``x`` (N, C, H, W) C-contiguous; ``cols`` (C, kh, kw, N, Ho, Wo), written whole.
    For each image ``x[n, c]``: copy it into the middle of a zeroed buffer of the
    padded size (the border is never written, so it stays 0 for every image), then
    fill its ``kh·kw`` rows of ``cols``, ``Ho·Wo`` numbers each, through the offsets.
    """
    _im2col_images(x, kh, kw, sh, sw, ph, pw, cols, 0, x.shape[0] * x.shape[1])
    return cols


@njit(**_FUSED)
def _im2col_images(x, kh, kw, sh, sw, ph, pw, cols, start, stop):
    """:func:`im2col` for the images ``k = c·N + n`` from ``start`` to ``stop − 1``.

    The loops run over 1-D rows (an image row, a patch row and its offsets), which
    Numba compiles to tighter loops than the same copy indexed in 4 or 5 dimensions.
    """
    N, C, H, W = x.shape
    Ho, Wo = cols.shape[4], cols.shape[5]
    Wp = W + 2 * pw
    xp = np.zeros((H + 2 * ph) * Wp, dtype=x.dtype)
    offsets = _patch_offsets(kh, kw, sh, sw, Ho, Wo, Wp).reshape(kh * kw, Ho * Wo)
    patches = cols.reshape(C, kh * kw, N, Ho * Wo)
    for k in range(start, stop):
        c, n = k // N, k % N
        for h in range(H):
            row, src = xp[(h + ph) * Wp + pw:(h + ph) * Wp + pw + W], x[n, c, h]
            for w in range(W):
                row[w] = src[w]
        for t in range(kh * kw):                 # t = u·kw + v
            dst, off = patches[c, t, n], offsets[t]
            for q in range(Ho * Wo):
                dst[q] = xp[off[q]]


@njit(**_PARALLEL)
def im2col_parallel(x, kh, kw, sh, sw, ph, pw, cols):
    """:func:`im2col`, its images shared among Numba's threads (a buffer per task)."""
    n_images = x.shape[0] * x.shape[1]
    n_tasks = min(n_images, 64)
    for t in prange(n_tasks):
        _im2col_images(x, kh, kw, sh, sw, ph, pw, cols, t * n_images // n_tasks,
                       (t + 1) * n_images // n_tasks)
    return cols


@njit(**_FUSED)
def col2im(cols, sh, sw, ph, pw, bias, out):
    """``out[n, c, i·sh + u − ph, j·sw + v − pw] += cols[c, u, v, n, i, j]``, then ``+ bias[c]``.

    The adjoint of :func:`im2col`. ``cols`` (C, kh, kw, N, Ho, Wo) C-contiguous;
    ``out`` (N, C, H, W) is overwritten. For each image: zero a padded buffer, add
    its ``kh·kw`` patch rows through the offsets, then copy the middle out plus
    ``bias[c]`` (pass zeros for a plain col2im; a transposed convolution passes
    its bias, which saves a pass over its output): what fell on the padding is
    dropped. Each pixel sums its terms in the order of the kernel offsets, then
    the bias, as the NumPy twin does: the same bits.
    """
    _col2im_images(cols, sh, sw, ph, pw, bias, out, 0, cols.shape[0] * cols.shape[3])
    return out


@njit(**_FUSED)
def _col2im_images(cols, sh, sw, ph, pw, bias, out, start, stop):
    """:func:`col2im` for the images ``k = c·N + n`` from ``start`` to ``stop − 1``."""
    C, kh, kw, N, Ho, Wo = cols.shape
    H, W = out.shape[2], out.shape[3]
    Wp = W + 2 * pw
    xp = np.empty((H + 2 * ph) * Wp, dtype=out.dtype)
    offsets = _patch_offsets(kh, kw, sh, sw, Ho, Wo, Wp).reshape(kh * kw, Ho * Wo)
    patches = cols.reshape(C, kh * kw, N, Ho * Wo)
    for k in range(start, stop):
        c, n = k // N, k % N
        xp[:] = 0
        for t in range(kh * kw):                 # t = u·kw + v
            src, off = patches[c, t, n], offsets[t]
            for q in range(Ho * Wo):
                xp[off[q]] += src[q]
        b = bias[c]
        for h in range(H):
            row, dst = xp[(h + ph) * Wp + pw:(h + ph) * Wp + pw + W], out[n, c, h]
            for w in range(W):
                dst[w] = row[w] + b


@njit(**_PARALLEL)
def col2im_parallel(cols, sh, sw, ph, pw, bias, out):
    """:func:`col2im`, its images shared among Numba's threads (each image is one task's)."""
    n_images = cols.shape[0] * cols.shape[3]
    n_tasks = min(n_images, 64)
    for t in prange(n_tasks):
        _col2im_images(cols, sh, sw, ph, pw, bias, out, t * n_images // n_tasks,
                       (t + 1) * n_images // n_tasks)
    return out


@njit(**_FUSED)
def to_images(m, bias, out):
    """``out[n, c, p] = m[c, n, p] + bias[c]``: one column per pixel back to images, plus bias.

    ``m`` (C, N, P) and ``out`` (N, C, P) with ``P = H·W``, both C-contiguous. NumPy
    needs two passes (add the bias, then a transposing copy); this is one.
    """
    C, N, P = m.shape
    for n in range(N):
        for c in range(C):
            b = bias[c]
            for p in range(P):
                out[n, c, p] = m[c, n, p] + b
    return out


@njit(**_FUSED)
def pixel_rows_to_images(rows, bias, out):
    """``out[n, c, p] = rows[n, p, c] + bias[c]``: one row per pixel back to images, plus bias.

    ``rows`` (N, P, C), a product computed as ``B.T @ A.T`` (one row per output
    pixel, its C channels along it), and ``out`` (N, C, P) with ``P = H·W``, both
    C-contiguous. One image's block, ``P·C`` numbers, is transposed at a time
    (a few KB, in the L1 cache); writing ``out`` in order was the faster loop order.
    """
    N, P, C = rows.shape
    for n in range(N):
        for c in range(C):
            b = bias[c]
            for p in range(P):
                out[n, c, p] = rows[n, p, c] + b
    return out


@njit(**_FUSED, fastmath={"reassoc"})   # reassoc: the sums may be split into SIMD lanes
def channels_first(x, out, sums):
    """``out[c, n, p] = x[n, c, p]`` and ``sums[c] = Σ_{n,p} x[n, c, p]``, in one pass.

    ``x`` (N, C, P), ``out`` (C, N, P): images to one column per pixel. The sums
    (a convolution's bias gradient) are accumulated in float64 whatever the dtype.
    """
    N, C, P = x.shape
    acc = np.zeros(C)
    for n in range(N):
        for c in range(C):
            s = 0.0
            for p in range(P):
                value = x[n, c, p]
                out[c, n, p] = value
                s += value
            acc[c] += s
    for c in range(C):
        sums[c] = acc[c]
    return out
