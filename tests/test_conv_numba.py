"""The numba backend's convolution kernels agree with the NumPy backend.

The fused im2col gather and col2im scatter of ``tinyae/backend/numba_kernels.py`` are
checked against :func:`tinyae.conv.im2col` / :func:`tinyae.conv.col2im`, and the
layers ``Conv2D`` and ``ConvTranspose2D`` (forward, input gradient, ``dW``,
``db``) against themselves run with the NumPy backend, over random geometries:
strides, paddings (also larger than the kernel), odd and even sizes, batch 1,
float64 and float32. "Agree" means a norm-wise relative difference
``max|a − b| / max|b|`` of at most 1e-12 (float64) or 1e-5 (float32); the
gather is a copy, and the scatter adds in the NumPy twin's order: both must be exact.
Skipped when Numba is not installed.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinyae as ta
from tinyae import backend
from tinyae.conv import Conv2D, ConvTranspose2D, col2im, im2col
from tinyae.gradcheck import THRESHOLD, check_module

pytest.importorskip("numba", reason="Numba is not installed (pip install -e '.[fast]'); "
                                    "the numba backend cannot be tested without it")

TOL = {np.float64: 1e-12, np.float32: 1e-5}

DTYPES = st.sampled_from([np.float64, np.float32])


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b), initial=0.0),
                                                           1e-300))


def assert_agree(got, ref, dtype, what=""):
    assert got.shape == ref.shape, what
    assert got.dtype == ref.dtype == dtype, what
    assert rel_diff(got, ref) <= TOL[dtype], f"{what}: relative difference {rel_diff(got, ref):.2e}"


@pytest.fixture(autouse=True)
def restore_backend(monkeypatch):
    # the kernels from the first call (in use, the NumPy twins run until LOAD_AFTER
    # numbers have gone through them, and these tests would compare NumPy with itself)
    monkeypatch.setattr("tinyae.backend.numba_ops.LOAD_AFTER", 0)
    before = backend.get_backend()
    yield
    backend.set_backend(before)


def on(name, f, *args, **kwargs):
    backend.set_backend(name)
    try:
        return f(*args, **kwargs)
    finally:
        backend.set_backend("numpy")


@st.composite
def geometries(draw, max_size=9):
    """Images and a geometry that fits; kernel, stride and padding differ between H and W."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))   # 3 > k - 1 for small k
    H, W = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    assume(H + 2 * p[0] >= k[0] and W + 2 * p[1] >= k[1])
    return {"N": draw(st.sampled_from([1, 2, 5])), "C": draw(st.integers(1, 3)),
            "Cout": draw(st.integers(1, 3)), "H": H, "W": W, "k": k, "s": s, "p": p,
            "seed": draw(st.integers(0, 2**31))}


def images(g, dtype, rng):
    return rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(dtype)


def randomize(layer, rng):
    for p in layer.params.values():
        p[...] = rng.standard_normal(p.shape)
    return layer


# ----- the kernels against the NumPy functions ------------------------------------------------

@given(g=geometries(), dtype=DTYPES)
def test_im2col_gather_is_exactly_the_numpy_im2col(g, dtype):
    x = images(g, dtype, np.random.default_rng(g["seed"]))
    ref = im2col(x, g["k"], g["s"], g["p"])
    got = on("numba", backend.im2col, x, g["k"], g["s"], g["p"])
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref)        # a copy: every number exactly


@given(g=geometries(), dtype=DTYPES, with_bias=st.booleans())
def test_col2im_scatter_agrees_with_the_numpy_col2im(g, dtype, with_bias):
    rng = np.random.default_rng(g["seed"])
    x_shape = (g["N"], g["C"], g["H"], g["W"])
    c = rng.standard_normal(im2col(np.zeros(x_shape), g["k"], g["s"], g["p"]).shape)
    c = c.astype(dtype)
    bias = rng.standard_normal(g["C"]).astype(dtype) if with_bias else None
    ref = col2im(c, x_shape, g["k"], g["s"], g["p"])
    if with_bias:
        ref = ref + bias[:, None, None]
    got = on("numba", backend.col2im, c, x_shape, g["k"], g["s"], g["p"], bias=bias)
    assert got.dtype == dtype and got.flags.c_contiguous
    # each pixel sums its terms in the order of the kernel offsets, then the bias, in
    # both backends: the same bits
    np.testing.assert_array_equal(got, ref)


def test_kernels_handle_padding_wider_than_the_kernel(rng):
    # with p > k every row of some patches is padding: the kernel must write zeros there
    x = rng.standard_normal((1, 2, 3, 4))
    ref = im2col(x, 2, 3, 3)
    np.testing.assert_array_equal(on("numba", backend.im2col, x, (2, 2), (3, 3), (3, 3)), ref)
    c = rng.standard_normal(ref.shape)
    np.testing.assert_array_equal(on("numba", backend.col2im, c, x.shape, (2, 2), (3, 3), (3, 3)),
                                  col2im(c, x.shape, 2, 3, 3))


@given(g=geometries(), dtype=DTYPES)
def test_layout_changes_agree(g, dtype):
    """Images <-> one column per pixel, with the bias added and the per-channel sums."""
    rng = np.random.default_rng(g["seed"])
    x = images(g, dtype, rng)
    sums = {name: np.empty(g["C"], dtype) for name in ("numpy", "numba")}
    cols = {name: on(name, backend.channels_first, x, sums=sums[name]) for name in sums}
    np.testing.assert_array_equal(cols["numba"], cols["numpy"])
    np.testing.assert_array_equal(cols["numba"][:, 0], x[0, :, 0, 0])   # pixel (0, 0, 0)
    scale = np.abs(x.astype(np.float64)).sum(axis=(0, 2, 3)).max()   # terms, not their sum
    assert np.max(np.abs(sums["numba"] - sums["numpy"].astype(np.float64))) <= TOL[dtype] * scale
    np.testing.assert_allclose(sums["numba"], x.astype(np.float64).sum(axis=(0, 2, 3)),
                               rtol=0, atol=TOL[dtype] * scale)
    bias = rng.standard_normal(g["C"]).astype(dtype)
    back = {name: on(name, backend.to_images, cols[name].copy(), g["N"], g["H"], g["W"],
                     bias=bias) for name in sums}
    assert back["numba"].flags.c_contiguous
    assert_agree(back["numba"], back["numpy"], dtype, "to_images")
    assert_agree(back["numba"], x + bias[:, None, None], dtype, "round trip")


def test_non_contiguous_input_falls_back_to_numpy(rng):
    x = rng.standard_normal((3, 5, 6, 2)).transpose(0, 3, 2, 1)   # (3, 2, 6, 5), a view
    assert not x.flags.c_contiguous
    np.testing.assert_array_equal(on("numba", backend.im2col, x, (3, 3), (2, 2), (1, 1)),
                                  im2col(x, 3, 2, 1))



@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("N, C, H, W", [(1, 1, 1, 1), (3, 5, 5, 7), (2, 3, 4, 1)])
def test_pixel_rows_to_images_moves_every_number_and_adds_the_bias(dtype, N, C, H, W, rng, threads):
    from tinyae.backend import numba_kernels

    rows = rng.standard_normal((N, H * W, C)).astype(dtype)
    bias = rng.standard_normal(C).astype(dtype)
    out = np.full((N, C, H * W), np.nan, dtype)
    numba_kernels.pixel_rows_to_images(rows, bias, out)
    # one addition per number: exactly NumPy's
    np.testing.assert_array_equal(out, rows.transpose(0, 2, 1) + bias[:, None])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shared", [1, 9, 63, 64, 150])    # ROWS_MIN_SHARED is 64
@pytest.mark.parametrize("with_bias", [False, True])
def test_images_from_product_agrees_with_the_product_then_to_images(dtype, shared, with_bias,
                                                                    rng, threads):
    N, C, H, W = 3, 5, 5, 7
    A = rng.standard_normal((C, shared)).astype(dtype)
    B = rng.standard_normal((shared, N * H * W)).astype(dtype)
    bias = rng.standard_normal(C).astype(dtype) if with_bias else None
    ref = on("numpy", backend.images_from_product, A, B, N, H, W, bias=bias)
    np.testing.assert_array_equal(ref, backend.to_images(A @ B, N, H, W, bias=bias))
    got = on("numba", backend.images_from_product, A, B, N, H, W, bias=bias)
    assert got.flags.c_contiguous
    terms = np.abs(A).astype(np.float64) @ np.abs(B)           # the sum of |terms| per pixel
    scale = terms + (0 if bias is None else np.abs(bias)[:, None])
    diff = np.abs(got.astype(np.float64) - ref).max()
    assert diff <= TOL[dtype] * scale.max(), f"{diff:.2e}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_images_from_product_falls_back_for_a_transposed_view(dtype, rng, threads):
    A = rng.standard_normal((70, 4)).astype(dtype).T               # (4, 70), not contiguous
    B = rng.standard_normal((70, 2 * 3 * 5)).astype(dtype)
    np.testing.assert_array_equal(on("numba", backend.images_from_product, A, B, 2, 3, 5),
                                  backend.to_images(A @ B, 2, 3, 5))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, k, n", [(1, 7, 3), (4, 100, 9), (32, 600, 144)])
def test_matmul_by_transpose_agrees(dtype, m, k, n, rng, threads):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype)
    ref = on("numpy", backend.matmul_by_transpose, a, b)
    np.testing.assert_array_equal(ref, a @ b.T)
    out = np.full((m, n), np.nan, dtype)
    got = on("numba", backend.matmul_by_transpose, a, b, out=out)
    assert got is out
    assert_agree(out, ref, dtype, "a @ b.T")
    assert_agree(on("numba", backend.matmul_by_transpose, a, b), ref, dtype, "a @ b.T")

# ----- the layers: numba backend == numpy backend ---------------------------------------------

def run_layer(layer, x, dy):
    """Forward, backward and the parameter gradients of ``layer`` at ``x``."""
    y = layer.forward(x)
    dx = layer.backward(dy)
    return y, dx, layer.grads["W"].copy(), layer.grads["b"].copy()


def assert_layer_agrees(layer, x, dtype, rng):
    """Output, dx, dW, db of both backends agree, relative to the size of their terms.

    Each is a sum of products; where the terms cancel (a bias gradient of random
    signs), the two backends' roundings are relative to the terms, not to the small
    sum. So the scale is the same computation on |x|, |dy|, |W|, |b| in float64: the
    sum of the absolute values of the terms.
    """
    y = layer.forward(x)
    dy = rng.standard_normal(y.shape).astype(dtype)
    ref = on("numpy", run_layer, layer, x, dy)
    got = on("numba", run_layer, layer, x, dy)
    twin = type(layer)(**{**layer.config(), "dtype": "float64"})
    for name, value in layer.params.items():
        twin.params[name][...] = np.abs(value)
    scales = on("numpy", run_layer, twin, np.abs(x).astype(np.float64),
                np.abs(dy).astype(np.float64))
    for what, a, b, scale in zip(("output", "dx", "dW", "db"), got, ref, scales):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype, what
        diff = np.max(np.abs(a.astype(np.float64) - b))
        assert diff <= TOL[dtype] * np.max(scale), f"{layer!r} {what}: {diff:.2e}"


@given(g=geometries(), dtype=DTYPES)
def test_conv2d_numba_equals_numpy(g, dtype):
    rng = np.random.default_rng(g["seed"])
    conv = randomize(Conv2D(g["C"], g["Cout"], g["k"], g["s"], g["p"], dtype=dtype), rng)
    assert_layer_agrees(conv, images(g, dtype, rng), dtype, rng)


@given(g=geometries(max_size=6), dtype=DTYPES, op=st.tuples(st.integers(0, 2),
                                                             st.integers(0, 2)))
def test_conv_transpose2d_numba_equals_numpy(g, dtype, op):
    op = (min(op[0], g["s"][0] - 1), min(op[1], g["s"][1] - 1))
    for n, k, s, p, o in zip((g["H"], g["W"]), g["k"], g["s"], g["p"], op):
        assume((n - 1) * s - 2 * p + k + o >= 1)
    rng = np.random.default_rng(g["seed"])
    up = randomize(ConvTranspose2D(g["C"], g["Cout"], g["k"], g["s"], g["p"], op,
                                   dtype=dtype), rng)
    assert_layer_agrees(up, images(g, dtype, rng), dtype, rng)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_benchmark_model_agrees_over_training_steps(dtype):
    """The conv autoencoder of the benchmark, trained 3 steps on each backend from one start."""
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 28, 28)).astype(dtype)
    models = {}
    for name in ("numpy", "numba"):
        backend.set_backend(name)
        models[name] = ta.Autoencoder.conv((1, 28, 28), channels=[16, 32], code=8, seed=3,
                                           dtype=dtype)
        models[name].fit(X, epochs=3, batch_size=64, verbose=0, seed=1)
        backend.set_backend("numpy")
    ref = {key: value for key, value, _ in models["numpy"].named_parameters()}
    start = ta.Autoencoder.conv((1, 28, 28), channels=[16, 32], code=8, seed=3, dtype=dtype)
    for (key, value, _), (_, first, _) in zip(models["numba"].named_parameters(),
                                               start.named_parameters()):
        assert_agree(value, ref[key], dtype, key)
        assert not np.array_equal(value, first), f"{key} did not move: nothing was compared"


@pytest.mark.parametrize("layer", [Conv2D(2, 3, 3, stride=2, padding=1),
                                   ConvTranspose2D(3, 2, 3, stride=2, padding=1,
                                                   output_padding=1)])
def test_gradient_check_with_the_numba_backend(layer, rng):
    """Finite differences, not the NumPy twin, as the judge: the kernels are right on their own."""
    randomize(layer, rng)
    x = rng.standard_normal((2, layer.in_channels, 5, 6))
    report = on("numba", check_module, layer, x)
    assert report.passed and report.max_error < THRESHOLD, str(report)


@pytest.mark.parametrize("layer", [Conv2D(8, 3, 3, stride=2, padding=1),          # C·k·k = 72
                                   ConvTranspose2D(3, 5, 4, stride=2, padding=1)])  # Cout·k·k = 80
def test_the_transposed_products_path_agrees_and_passes_the_gradient_check(layer, rng):
    """A shared axis of at least ROWS_MIN_SHARED: the numba backend computes the output
    (Conv2D) or dx (ConvTranspose2D) as ``B.T @ A.T`` and moves its rows into images."""
    from tinyae.backend import numba_ops

    assert layer.in_channels * 9 >= numba_ops.ROWS_MIN_SHARED or \
        layer.out_channels * 16 >= numba_ops.ROWS_MIN_SHARED
    randomize(layer, rng)
    x = rng.standard_normal((3, layer.in_channels, 5, 7))
    assert_layer_agrees(layer, x, np.float64, rng)
    report = on("numba", check_module, layer, x)
    assert report.passed and report.max_error < THRESHOLD, str(report)
