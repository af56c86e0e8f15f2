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
#    NumPy builds the patch matrix in three passes (copy the images, padded and batch
#    last, into a new array; take a strided view of every window; copy it out) and
#    adds it back in kh·kw strided passes over a zeroed, padded array that is then
#    cropped. The kernels below work one channel (or a band of its rows) at a time,
#    in a padded buffer ``(Hp, Wp, N)`` that holds the channel of all N images batch
#    last: copy the images in, then gather (or scatter) every patch as runs of N
#    contiguous numbers. The ``cols`` layout is that of
#    :func:`tinyae.backend.numpy_ops.im2col`, ``(C, kh, kw, Ho, Wo, N)``: row
#    ``(c, u, v)``, column ``(i, j, n)``, pixels then batch.
#
#    Why batch last: the innermost copy then runs over the N images of one pixel (128
#    in a training batch) instead of over a patch row of Wo output pixels (7 in the
#    benchmark's second layer), where the loop bookkeeping cost more than the copy.
# ======================================================================================


#: Images moved at a time by the transposing copies: the reads and writes stay in a few
#: cache lines. Writing one number per row of N (a stride of 512 bytes in float32 at
#: N = 128) made the copies several times slower: every write fell on the same cache set.
TILE = 16


@njit(**_FUSED)
def _to_batch_last(src, dst):
    """``dst[p, n] = src[n, p]``: ``src`` (N, P) to ``dst`` (P, N), TILE images at a time."""
    N, P = src.shape
    for n0 in range(0, N, TILE):
        n1 = min(n0 + TILE, N)
        for p in range(P):
            row = dst[p]
            for n in range(n0, n1):
                row[n] = src[n, p]


@njit(**_FUSED)
def im2col(x, kh, kw, sh, sw, ph, pw, cols):
    """``cols[c, u, v, i, j, n] = xp[n, c, i·sh + u, j·sw + v]``, ``xp`` = ``x`` padded with 0.

    ``x`` (N, C, H, W) C-contiguous; ``cols`` (C, kh, kw, Ho, Wo, N), written whole.
    For each channel: copy it, for all N images, into a zeroed buffer ``(Hp, Wp, N)``
    (the border is never written, so it stays 0 for every channel), then fill its
    ``kh·kw`` rows of ``cols``, ``Ho·Wo`` runs of N numbers each.
    """
    N, C, H, W = x.shape
    xp = np.zeros((H + 2 * ph, W + 2 * pw, N), dtype=x.dtype)
    for c in range(C):
        _im2col_band(x, kh, kw, sh, sw, ph, pw, cols, c, 0, cols.shape[3], xp)
    return cols


@njit(**_FUSED)
def _im2col_band(x, kh, kw, sh, sw, ph, pw, cols, c, i0, i1, xp):
    """:func:`im2col` for channel ``c`` and the output rows ``i0 <= i < i1``, through the
    buffer ``xp`` (Hp, Wp, N), whose border is 0: only the image rows these outputs
    read are copied into it."""
    N, C, H, W = x.shape
    Wo = cols.shape[4]
    h0, h1 = max(i0 * sh - ph, 0), min((i1 - 1) * sh + kh - ph, H)
    for h in range(h0, h1):
        _to_batch_last(x[:, c, h], xp[h + ph, pw:pw + W])
    for u in range(kh):
        for v in range(kw):
            for i in range(i0, i1):
                for j in range(Wo):
                    dst, src = cols[c, u, v, i, j], xp[i * sh + u, j * sw + v]
                    for n in range(N):
                        dst[n] = src[n]


@njit(**_FUSED)
def _bands(C, rows):
    """Into how many bands of rows to cut each channel: about 16 parallel tasks in all."""
    return max(1, min(rows, (16 + C - 1) // C))


@njit(**_PARALLEL)
def im2col_parallel(x, kh, kw, sh, sw, ph, pw, cols):
    """:func:`im2col`, its (channel, band of output rows) tasks shared among Numba's threads.

    Each task copies what it needs into its own buffer: a copy, so the same bits."""
    N, C, H, W = x.shape
    Ho = cols.shape[3]
    bands = _bands(C, Ho)
    for t in prange(C * bands):
        c, b = t // bands, t % bands
        xp = np.zeros((H + 2 * ph, W + 2 * pw, N), dtype=x.dtype)
        _im2col_band(x, kh, kw, sh, sw, ph, pw, cols, c, b * Ho // bands,
                     (b + 1) * Ho // bands, xp)
    return cols


@njit(**_FUSED)
def col2im(cols, sh, sw, ph, pw, bias, out):
    """``out[n, c, i·sh + u − ph, j·sw + v − pw] += cols[c, u, v, i, j, n]``, then ``+ bias[c]``.

    The adjoint of :func:`im2col`. ``cols`` (C, kh, kw, Ho, Wo, N) C-contiguous;
    ``out`` (N, C, H, W) is overwritten. For each channel: zero a padded buffer
    ``(Hp, Wp, N)``, add its ``kh·kw`` patch rows as runs of N numbers, then copy the
    middle out, batch first, plus ``bias[c]`` (pass zeros for a plain col2im; a
    transposed convolution passes its bias, which saves a pass over its output):
    what fell on the padding is dropped. Each pixel sums its terms in the order of
    the kernel offsets, then the bias, as the NumPy twin does: the same bits.
    """
    C, kh, kw, Ho, Wo, N = cols.shape
    H, W = out.shape[2], out.shape[3]
    xp = np.empty((H + 2 * ph, W + 2 * pw, N), dtype=out.dtype)
    for c in range(C):
        _col2im_band(cols, sh, sw, ph, pw, bias, out, c, 0, H + 2 * ph, xp)
    return out


@njit(**_FUSED)
def _col2im_band(cols, sh, sw, ph, pw, bias, out, c, r0, r1, xp):
    """:func:`col2im` for channel ``c`` and the padded rows ``r0 <= r < r1`` (buffer ``xp``).

    Only the terms that land on these rows are added, still in the order of the kernel
    offsets, so a band's pixels get the same bits as in a whole-channel pass."""
    C, kh, kw, Ho, Wo, N = cols.shape
    H, W = out.shape[2], out.shape[3]
    xp[r0:r1] = 0
    for u in range(kh):
        for v in range(kw):
            for i in range(Ho):
                r = i * sh + u
                if r < r0 or r >= r1:
                    continue
                for j in range(Wo):
                    dst, src = xp[r, j * sw + v], cols[c, u, v, i, j]
                    for n in range(N):
                        dst[n] += src[n]
    b = bias[c]
    for h in range(max(r0 - ph, 0), min(r1 - ph, H)):
        src = xp[h + ph, pw:pw + W]
        for n0 in range(0, N, TILE):             # TILE images at a time, as _to_batch_last
            for w in range(W):
                row = src[w]
                for n in range(n0, min(n0 + TILE, N)):
                    out[n, c, h, w] = row[n] + b


@njit(**_PARALLEL)
def col2im_parallel(cols, sh, sw, ph, pw, bias, out):
    """:func:`col2im`, its (channel, band of padded rows) tasks shared among Numba's threads.

    Each task sums only onto its own rows, in its own buffer: no two tasks write the
    same pixel, and every pixel adds its terms in the serial kernel's order."""
    C, kh, kw, Ho, Wo, N = cols.shape
    H, W = out.shape[2], out.shape[3]
    Hp = H + 2 * ph
    bands = _bands(C, Hp)
    for t in prange(C * bands):
        c, b = t // bands, t % bands
        xp = np.empty((Hp, W + 2 * pw, N), dtype=out.dtype)
        _col2im_band(cols, sh, sw, ph, pw, bias, out, c, b * Hp // bands,
                     (b + 1) * Hp // bands, xp)
    return out


@njit(**_FUSED)
def to_images(m, bias, out):
    """``out[n, c, p] = m[c, p, n] + bias[c]``: one column per pixel back to images, plus bias.

    ``m`` (C, P, N), pixels then batch, and ``out`` (N, C, P) with ``P = H·W``, both
    C-contiguous. NumPy needs two passes (add the bias, then a transposing copy);
    this is one, a channel's ``P × N`` block transposed at a time.
    """
    C, P, N = m.shape
    for c in range(C):
        b = bias[c]
        for n0 in range(0, N, TILE):             # TILE images at a time, as _to_batch_last
            for p in range(P):
                row = m[c, p]
                for n in range(n0, min(n0 + TILE, N)):
                    out[n, c, p] = row[n] + b
    return out


@njit(**_FUSED)
def pixel_rows_to_images(rows, bias, out):
    """``out[n, c, p] = rows[p, n, c] + bias[c]``: one row per pixel back to images, plus bias.

    ``rows`` (P, N, C), a product computed as ``B.T @ A.T`` (one row per output pixel
    of one image, pixels then batch, its C channels along it), and ``out`` (N, C, P)
    with ``P = H·W``, both C-contiguous.
    """
    P, N, C = rows.shape
    for n in range(N):                           # one image, P·C numbers, at a time
        for p in range(P):
            row = rows[p, n]
            for c in range(C):
                out[n, c, p] = row[c] + bias[c]
    return out


@njit(**_FUSED, fastmath={"reassoc"})   # reassoc: the sums may be split into SIMD lanes
def channels_first(x, out, sums):
    """``out[c, p, n] = x[n, c, p]`` and ``sums[c] = Σ_{n,p} x[n, c, p]``, in one pass.

    ``x`` (N, C, P), ``out`` (C, P, N): images to one column per pixel, pixels then
    batch. The sums (a convolution's bias gradient) are accumulated in float64
    whatever the dtype.
    """
    N, C, P = x.shape
    for c in range(C):
        _to_batch_last(x[:, c], out[c])
        s = 0.0
        for n in range(N):
            src = x[n, c]
            for p in range(P):
                s += src[p]
        sums[c] = s
    return out
