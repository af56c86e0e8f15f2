r"""The kernels of :mod:`tinyae.nn.normalization` for the ``"numba"`` backend: BatchNorm, Dropout.

BatchNorm's work on a batch ``(M, F)`` is a few passes over it, one number per
feature coming out of each sum. NumPy takes a pass per operation, most writing a
temporary: six for the forward in train mode (mean, centre, square-and-sum, scale,
times $γ$, plus $β$), six for the backward (two sums, then four for $dx$). These
kernels take the fewest the math allows, and do the per-feature arithmetic too (F
numbers each, but a dozen NumPy calls of a microsecond or two; called from
:class:`~tinyae.backend.numba_ops.NumbaOps`):

=====================  ==========================================================
forward, train mode    :func:`column_means` ($μ$), :func:`center` ($x - μ$ and
                       $\sum_m (x - μ)^2$), :func:`statistics` (per feature: $σ^2$,
                       the running statistics, $1/\sqrt{σ^2 + ε}$),
                       :func:`scale_shift` ($\hat x$ and $y = γ\hat x + β$): three
                       passes over the batch (the two-pass variance, then the output)
forward, eval mode     :func:`normalize_affine`: one pass
backward               :func:`grad_sums` ($dγ = \sum_m dy\,\hat x$, $dβ = \sum_m dy$),
                       :func:`grad_input` ($dx$): two passes
=====================  ==========================================================

**Same bits as NumPy.** Every element-wise line rounds where NumPy's does (no
fast-math: no fused multiply-add, no reordering), and each sum runs over the rows
in order, ``sums[f] += x[m, f]`` for ``m = 0, 1, …``: the order in which NumPy
reduces the first axis of a C-contiguous ``(M, F)`` array with ``F ≥ 2``
(``x.sum(axis=0)``, ``x.mean(axis=0)`` and ``einsum("mf,mf->f")``), so the results
are NumPy's to the bit; ``tests/test_batchnorm_numba.py`` checks it. (With ``F = 1``
NumPy sums the single column pairwise; the backend leaves that case to NumPy.)

:func:`dropout` turns the uniform draws into the mask and applies it in one pass
(NumPy: compare, convert, divide, multiply); the draws stay the layer's Generator's.

One thread each (``cache=True``, ``error_model="numpy"``, as in
:mod:`tinyae.backend.numba_kernels`): the inner loops run along a row, over the
features, and are vectorized; these passes sit between BLAS calls whose threads are
still spinning. Where a pass has two things to do per value, it does them in two
loops over the row (the second reads it back from L1): for a (128, 1000) batch
in float32 that took ``center`` from 24 to 14 µs and the forward's last pass
from 35 to 23 µs, the single loop's two streams of stores vectorizing worse.
"""

import numpy as np
from numba import njit

_FUSED = {"cache": True, "error_model": "numpy"}


@njit(**_FUSED)
def column_means(x, n, mean):
    """``mean[f] = (Σ_m x[m, f]) / n``, the rows added in order; ``n`` = M in ``x``'s dtype."""
    M, F = x.shape
    for f in range(F):
        mean[f] = 0
    for m in range(M):
        for f in range(F):
            mean[f] += x[m, f]
    for f in range(F):
        mean[f] /= n


@njit(**_FUSED)
def center(x, mean, x_hat, sumsq):
    """``x_hat = x − mean`` (the rows centred) and ``sumsq[f] = Σ_m x_hat[m, f]²``."""
    M, F = x.shape
    for f in range(F):
        sumsq[f] = 0
    for m in range(M):
        for f in range(F):
            x_hat[m, f] = x[m, f] - mean[f]
        for f in range(F):                  # the row again, from L1: faster than one loop
            sumsq[f] += x_hat[m, f] * x_hat[m, f]


@njit(**_FUSED)
def scale_shift(x_hat, inv_std, gamma, beta, y):
    """``x_hat ← x_hat · inv_std`` in place, then ``y = x_hat · γ + β``; all (M, F) or (F,)."""
    M, F = x_hat.shape
    for m in range(M):
        for f in range(F):
            x_hat[m, f] *= inv_std[f]
        for f in range(F):
            y[m, f] = x_hat[m, f] * gamma[f] + beta[f]


@njit(**_FUSED)
def statistics(sumsq, n, momentum, keep, unbias, eps, one, mean, running_mean, running_var,
               inv_std):
    r"""The per-feature arithmetic of train mode, each step rounded where NumPy's is.

    ``sumsq`` becomes the variance $σ^2 = Σ(x − μ)^2/n$ in place; then
    ``running_mean ← running_mean·keep + momentum·μ``,
    ``running_var ← running_var·keep + (momentum·σ²)·unbias`` and
    ``inv_std = one/√(σ² + ε)``. The scalars come in the arrays' dtype (``keep`` =
    1 − momentum, ``unbias`` = M/(M − 1), ``one`` = 1), as NumPy rounds a Python float
    against an array; the square root is stored before the division, so it is rounded
    to the dtype as NumPy's is.
    """
    for f in range(sumsq.size):
        var = sumsq[f] / n
        sumsq[f] = var
        running_mean[f] *= keep
        running_mean[f] += momentum * mean[f]
        running_var[f] *= keep
        running_var[f] += momentum * var * unbias
        inv_std[f] = np.sqrt(var + eps)
        inv_std[f] = one / inv_std[f]


@njit(**_FUSED)
def normalize_affine(x, mean, inv_std, gamma, beta, x_hat, y):
    """Eval mode: ``x_hat = (x − mean) · inv_std`` and ``y = x_hat · γ + β``, one pass."""
    M, F = x.shape
    for m in range(M):
        for f in range(F):
            x_hat[m, f] = (x[m, f] - mean[f]) * inv_std[f]
        for f in range(F):
            y[m, f] = x_hat[m, f] * gamma[f] + beta[f]


@njit(**_FUSED)
def grad_sums(grad_out, x_hat, dgamma, dbeta):
    """``dgamma[f] = Σ_m dy[m, f] · x_hat[m, f]`` and ``dbeta[f] = Σ_m dy[m, f]``, one pass."""
    M, F = grad_out.shape
    for f in range(F):
        dgamma[f] = 0
        dbeta[f] = 0
    for m in range(M):
        for f in range(F):
            dgamma[f] += grad_out[m, f] * x_hat[m, f]
        for f in range(F):
            dbeta[f] += grad_out[m, f]


@njit(**_FUSED)
def grad_input(grad_out, x_hat, dgamma, dbeta, n, gamma, inv_std, dx):
    """Train mode's ``dx = (dy − (x_hat · a + b)) · c``; ``a = dγ/n``, ``b = dβ/n``, ``c = γ/s``.

    ``n`` is M in the arrays' dtype; ``a``, ``b``, ``c`` are computed first, per feature.
    """
    M, F = grad_out.shape
    a, b, c = np.empty(F, dx.dtype), np.empty(F, dx.dtype), np.empty(F, dx.dtype)
    for f in range(F):
        a[f] = dgamma[f] / n
        b[f] = dbeta[f] / n
        c[f] = gamma[f] * inv_std[f]
    for m in range(M):
        for f in range(F):
            dx[m, f] = (grad_out[m, f] - (x_hat[m, f] * a[f] + b[f])) * c[f]


@njit(**_FUSED)
def dropout(x, u, p, scale, y):
    """Dropout in one pass over flat arrays: ``mask = scale·[u ≥ p]`` into ``u``, ``y = x·mask``.

    ``p`` and ``scale`` = 1/(1 − p) come in ``x``'s dtype, so the comparison and the
    product round as NumPy's ``(u >= p).astype(...) / (1 − p)`` and ``x * mask`` do.
    """
    zero = scale * 0
    for i in range(x.size):
        m = scale if u[i] >= p else zero
        u[i] = m
        y[i] = x[i] * m
