"""The ``prange`` kernels (Adam, im2col, col2im) give the serial kernels' bits, at 1 and 2 threads.

Each parallel kernel runs the serial kernel's loop body over chunks of the work, so
its result must be identical, not just close, whatever the number of threads; and
through the backend (``TINYAE_NUMBA_PARALLEL=1``) a convolution must agree with NumPy.
"""

import numpy as np
import pytest

import tinyae as ta
from tinyae import backend

numba = pytest.importorskip("numba", reason="Numba is not installed (pip install -e '.[fast]')")

DTYPES = [np.float64, np.float32]


@pytest.fixture
def K():
    from tinyae.backend import numba_kernels

    return numba_kernels



@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 7, 32_768, 100_003])    # below, at and across chunks
@pytest.mark.parametrize("decay", [1.0, 0.999])
def test_adam_parallel_is_the_serial_kernel(K, threads, dtype, size, decay, rng):
    state = [rng.standard_normal(size).astype(dtype) for _ in range(2)]
    state += [np.abs(state[0]) * 0.1, np.abs(state[1]) * 0.01]        # param, grad, m, v
    serial = [a.copy() for a in state]
    parallel = [a.copy() for a in state]
    args = (0.9, 0.999, 1e-8, 0.01, 1e-3 / 0.1, np.sqrt(1 - 0.999), decay)
    K.adam_update(*serial, *args)
    K.adam_update_parallel(*parallel, *args)
    for a, b in zip(parallel, serial):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(serial[0], state[0])                   # it did update


GEOMETRIES = [  # N, C, H, W, kh, kw, sh, sw, ph, pw: odd sizes, stride and padding apart
    (3, 2, 7, 5, 3, 2, 2, 1, 1, 0),
    (1, 1, 4, 4, 1, 1, 1, 1, 0, 0),
    (65, 3, 9, 9, 3, 3, 2, 2, 1, 1),      # more images than the 64 tasks
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_and_col2im_parallel_are_the_serial_kernels(K, threads, dtype, geometry, rng):
    N, C, H, W, kh, kw, sh, sw, ph, pw = geometry
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    cols = [np.full((C, kh, kw, N, Ho, Wo), np.nan, dtype=dtype) for _ in range(2)]
    K.im2col(x, kh, kw, sh, sw, ph, pw, cols[0])
    K.im2col_parallel(x, kh, kw, sh, sw, ph, pw, cols[1])
    np.testing.assert_array_equal(cols[1], cols[0])
    bias = rng.standard_normal(C).astype(dtype)
    outs = [np.full((N, C, H, W), np.nan, dtype=dtype) for _ in range(2)]
    K.col2im(cols[0], sh, sw, ph, pw, bias, outs[0])
    K.col2im_parallel(cols[0], sh, sw, ph, pw, bias, outs[1])
    np.testing.assert_array_equal(outs[1], outs[0])
    assert np.isfinite(outs[0]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_conv_layer_agrees_with_numpy_on_the_parallel_kernels(dtype, monkeypatch, rng):
    from tinyae.backend import numba_ops

    monkeypatch.setattr(numba_ops, "LOAD_AFTER", 0)
    monkeypatch.setattr(numba_ops, "PARALLEL", True)
    x = rng.standard_normal((5, 2, 9, 7)).astype(dtype)
    results = {}
    for name in ("numpy", "numba"):
        backend.set_backend(name)
        try:
            layer = ta.nn.conv.Conv2D(2, 3, 3, stride=2, padding=1, seed=0, dtype=dtype)
            y = layer.forward(x)
            dx = layer.backward(np.ones_like(y))
            results[name] = (y, dx, layer.grads["W"].copy())
        finally:
            backend.set_backend("numpy")
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(results["numba"], results["numpy"]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())


ODD_GEOMETRIES = [  # N, C, H, W, kh, kw, sh, sw, ph, pw: 5x7 images, kernels 1, 3, 4
    (N, C, 5, 7, k, k, s, s, p, p)
    for (N, C), k, s, p in [((1, 1), 1, 1, 0), ((3, 3), 3, 1, 1), ((1, 5), 3, 2, 2),
                            ((3, 5), 4, 2, 1), ((3, 1), 4, 1, 2), ((1, 3), 1, 2, 1)]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geometry", ODD_GEOMETRIES)
def test_gather_and_scatter_give_the_numpy_bits(K, threads, dtype, geometry, rng):
    """im2col is a copy and col2im adds in the NumPy twin's order: exact, serial and parallel."""
    from tinyae.backend.numpy_ops import col2im, im2col

    N, C, H, W, kh, kw, sh, sw, ph, pw = geometry
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    ref = im2col(x, (kh, kw), (sh, sw), (ph, pw)).reshape(C, kh, kw, N, Ho, Wo)
    for kernel in (K.im2col, K.im2col_parallel):
        cols = np.full(ref.shape, np.nan, dtype=dtype)
        kernel(x, kh, kw, sh, sw, ph, pw, cols)
        np.testing.assert_array_equal(cols, ref)
    bias = rng.standard_normal(C).astype(dtype)
    ref = col2im(cols.reshape(C * kh * kw, -1), x.shape, (kh, kw), (sh, sw), (ph, pw), bias)
    for kernel in (K.col2im, K.col2im_parallel):
        out = np.full(x.shape, np.nan, dtype=dtype)
        kernel(cols, sh, sw, ph, pw, bias, out)
        np.testing.assert_array_equal(out, ref)
