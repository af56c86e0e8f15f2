"""Convolution and pooling as nested loops: the definitions, written out.

Slow (Python loops over samples, channels and pixels) and meant to be: each
line is one term of a formula in the docstrings of :mod:`tinyae.nn.conv`. The
fast layers there compute the same numbers with im2col and one matrix
product; the tests and lesson 19 check that both agree. Shapes are NCHW and
``stride``/``padding`` are ints here, the same for both axes.
"""

import numpy as np


def _pad(x, p):
    """``x`` (N, C, H, W) with ``p`` zeros added on each side of each image."""
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def conv2d_loops(x, W, b, stride=1, padding=0):
    """``y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v W[o, c, u, v]·xp[n, c, i·s + u, j·s + v]``.

    x : (N, C, H, W); W : (Cout, C, kh, kw); b : (Cout,) -> y : (N, Cout, Ho, Wo).
    """
    N, C, H, Wd = x.shape
    Cout, _, kh, kw = W.shape
    s, p = stride, padding
    xp = _pad(x, p)
    Ho, Wo = (H + 2 * p - kh) // s + 1, (Wd + 2 * p - kw) // s + 1
    y = np.zeros((N, Cout, Ho, Wo), dtype=np.result_type(x, W))
    for n in range(N):
        for o in range(Cout):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * s:i * s + kh, j * s:j * s + kw]   # (C, kh, kw)
                    y[n, o, i, j] = b[o] + np.sum(W[o] * patch)           # Σ over c, u, v
    return y


def conv2d_backward_loops(x, W, grad_out, stride=1, padding=0):
    """Gradients of :func:`conv2d_loops`, term by term. Returns ``(dx, dW, db)``.

    Each output ``y[n, o, i, j]`` used the patch ``xp[n, :, i·s:i·s+kh, j·s:j·s+kw]``
    and the kernel ``W[o]``, so its gradient ``g = dy[n, o, i, j]`` flows back as
    ``dW[o] += g·patch``, ``dxp[patch] += g·W[o]`` and ``db[o] += g``. The ``+=`` on
    ``dxp`` matters: patches overlap, and a pixel in several patches collects
    from each.
    """
    N, C, H, Wd = x.shape
    Cout, _, kh, kw = W.shape
    s, p = stride, padding
    xp = _pad(x, p)
    _, _, Ho, Wo = grad_out.shape
    dxp, dW, db = np.zeros_like(xp), np.zeros_like(W), np.zeros(Cout, dtype=W.dtype)
    for n in range(N):
        for o in range(Cout):
            for i in range(Ho):
                for j in range(Wo):
                    g = grad_out[n, o, i, j]
                    window = (n, slice(None), slice(i * s, i * s + kh), slice(j * s, j * s + kw))
                    dW[o] += g * xp[window]
                    dxp[window] += g * W[o]
                    db[o] += g
    return dxp[:, :, p:p + H, p:p + Wd], dW, db


def conv_transpose2d_loops(x, W, b, stride=1, padding=0, output_padding=0):
    """Transposed convolution: each input pixel paints its kernel, scaled, onto the output.

    ``yp[n, :, i·s:i·s+kh, j·s:j·s+kw] += x[n, c, i, j]·W[c]`` for every ``n, c, i, j``.
    x : (N, C, H, W); W : (C, Cout, kh, kw); b : (Cout,) -> y : (N, Cout, Ho, Wo) with
    ``Ho = (H − 1)·s − 2p + kh + output_padding``: ``yp`` is cropped by ``p`` on each side.
    """
    N, C, H, Wd = x.shape
    _, Cout, kh, kw = W.shape
    s, p, op = stride, padding, output_padding
    Ho, Wo = (H - 1) * s - 2 * p + kh + op, (Wd - 1) * s - 2 * p + kw + op
    yp = np.zeros((N, Cout, Ho + 2 * p, Wo + 2 * p), dtype=np.result_type(x, W))
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(Wd):
                    yp[n, :, i * s:i * s + kh, j * s:j * s + kw] += x[n, c, i, j] * W[c]
    return yp[:, :, p:p + Ho, p:p + Wo] + b[:, None, None]


def conv_transpose2d_backward_loops(x, W, grad_out, stride=1, padding=0):
    """Gradients of :func:`conv_transpose2d_loops`. Returns ``(dx, dW, db)``.

    The input pixel ``x[n, c, i, j]`` painted ``x·W[c]`` onto the window
    ``yp[n, :, i·s:i·s+kh, j·s:j·s+kw]``, so with ``G`` = that window of the (padded)
    output gradient: ``dx[n, c, i, j] = Σ W[c]·G`` (a convolution of ``dy``) and
    ``dW[c] += x[n, c, i, j]·G``; ``db[o] = Σ_{n,h,w} dy[n, o, h, w]``.
    """
    N, C, H, Wd = x.shape
    _, _, kh, kw = W.shape
    s = stride
    gp = _pad(grad_out, padding)
    dx, dW = np.zeros_like(x), np.zeros_like(W)
    for n in range(N):
        for c in range(C):
            for i in range(H):
                for j in range(Wd):
                    G = gp[n, :, i * s:i * s + kh, j * s:j * s + kw]     # (Cout, kh, kw)
                    dx[n, c, i, j] = np.sum(W[c] * G)
                    dW[c] += x[n, c, i, j] * G
    return dx, dW, grad_out.sum(axis=(0, 2, 3))


def max_pool2d_loops(x, kernel_size, stride=None):
    """``y[n, c, i, j] = max`` of the window ``x[n, c, i·s:i·s+k, j·s:j·s+k]``."""
    k = kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    y = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    y[n, c, i, j] = x[n, c, i * s:i * s + k, j * s:j * s + k].max()
    return y


def max_pool2d_backward_loops(x, grad_out, kernel_size, stride=None):
    """``dx``: each window's gradient goes to the position of its (first) maximum."""
    k = kernel_size
    s = k if stride is None else stride
    N, C, Ho, Wo = grad_out.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + u, j * s + v] += grad_out[n, c, i, j]
    return dx
