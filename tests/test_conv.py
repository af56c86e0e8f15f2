"""Convolutional layers: values by hand, loops == im2col, gradient checks, protocol, bad input."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.conv import (
    Conv2D,
    ConvTranspose2D,
    Flatten,
    MaxPool2D,
    Reshape,
    Upsample2D,
    col2im,
    conv_output_size,
    conv_transpose_output_size,
    im2col,
)
from tinyae.conv_reference import (
    conv2d_backward_loops,
    conv2d_loops,
    conv_transpose2d_backward_loops,
    conv_transpose2d_loops,
    max_pool2d_backward_loops,
    max_pool2d_loops,
)
from tinyae.errors import DTypeError, ForwardNotCalledError, NotFiniteError, ShapeError
from tinyae.gradcheck import THRESHOLD, check_module, numerical_gradient, relative_error
from tinyae.module import Sequential, module_from_config, module_to_config

X3 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)          # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
K2 = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])               # one 2x2 kernel


def randomize(layer, rng):
    """Random weights *and* biases, so a wrong bias gradient cannot hide behind b = 0."""
    for p in layer.params.values():
        p[...] = rng.standard_normal(p.shape)
    return layer


def distinct(shape, rng):
    """Values with no ties (a max pool has a kink at a tie): a shuffled grid of step 0.1."""
    return rng.permutation(np.arange(np.prod(shape))).reshape(shape) * 0.1 - 1.0


# ----- values worked out by hand -----------------------------------------------------------
def test_conv2d_known_values_3x3_input_2x2_kernel():
    conv = Conv2D(1, 1, 2)
    conv.params["W"][...] = K2
    conv.params["b"][...] = 0.5
    y = conv.forward(X3)
    # y[0,0] = 1·1 + 2·2 + 4·3 + 5·4 = 37; y[0,1] = 2 + 6 + 15 + 24 = 47;
    # y[1,0] = 4 + 10 + 21 + 32 = 67;      y[1,1] = 5 + 12 + 24 + 36 = 77; plus b = 0.5
    np.testing.assert_array_equal(y, [[[[37.5, 47.5], [67.5, 77.5]]]])
    dx = conv.backward(np.ones((1, 1, 2, 2)))
    # each pixel collects the kernel entries of every window covering it
    np.testing.assert_array_equal(dx, [[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]])
    # dW[u, v] = Σ of the pixels under kernel entry (u, v) over the 4 windows
    np.testing.assert_array_equal(conv.grads["W"], [[[[12, 16], [24, 28]]]])
    np.testing.assert_array_equal(conv.grads["b"], [4.0])


def test_conv2d_known_values_with_stride_and_padding():
    conv = Conv2D(1, 1, 2, stride=2, padding=1)
    conv.params["W"][...] = K2
    # padded 5x5 input, 2x2 windows at rows/columns 0 and 2: output 2x2
    # y[0,0] sees only x[0,0] under W[1,1]: 1·4; y[0,1] = 2·3 + 3·4; y[1,0] = 4·2 + 7·4;
    # y[1,1] = 5·1 + 6·2 + 8·3 + 9·4
    np.testing.assert_array_equal(conv.forward(X3), [[[[4, 18], [36, 77]]]])


def test_conv_transpose_known_values():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    up = ConvTranspose2D(1, 1, 2, stride=2)
    up.params["W"][...] = 1.0
    # stride 2 = kernel: each pixel paints its own 2x2 block
    np.testing.assert_array_equal(up.forward(x), [[[[1, 1, 2, 2], [1, 1, 2, 2],
                                                    [3, 3, 4, 4], [3, 3, 4, 4]]]])
    # stride 1: the blocks overlap and add up, the transpose of the 3x3 conv above
    ones = ConvTranspose2D(1, 1, 2)
    ones.params["W"][...] = K2
    np.testing.assert_array_equal(ones.forward(np.ones((1, 1, 2, 2))),
                                  [[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]])


def test_pool_upsample_flatten_reshape_known_values():
    x = np.array([[[[1.0, 5.0, 2.0, 0.0],
                    [3.0, 4.0, 8.0, 6.0],
                    [0.0, 1.0, 2.0, 3.0],
                    [9.0, 0.0, 4.0, 1.0]]]])
    pool = MaxPool2D(2)
    np.testing.assert_array_equal(pool.forward(x), [[[[5, 8], [9, 4]]]])
    dx = pool.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 0, 1], expected[0, 0, 1, 2], expected[0, 0, 3, 0] = 10, 20, 30
    expected[0, 0, 3, 2] = 40
    np.testing.assert_array_equal(dx, expected)

    up = Upsample2D(2)
    small = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(up.forward(small), [[[[1, 1, 2, 2], [1, 1, 2, 2],
                                                        [3, 3, 4, 4], [3, 3, 4, 4]]]])
    np.testing.assert_array_equal(up.backward(np.ones((1, 1, 4, 4))), [[[[4, 4], [4, 4]]]])

    flat = Flatten().forward(np.arange(24.0).reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(flat[1], np.arange(12.0, 24.0))
    folded = Reshape((3, 2, 2)).forward(flat)
    np.testing.assert_array_equal(folded, np.arange(24.0).reshape(2, 3, 2, 2))


def test_output_size_formulas():
    assert conv_output_size(28, 3, 2, 1) == 14        # ⌊(28 + 2 − 3)/2⌋ + 1
    assert conv_output_size(7, 3, 2, 1) == 4
    assert conv_output_size(5, 5) == 1
    assert conv_transpose_output_size(7, 3, 2, 1, 1) == 14   # (7 − 1)·2 − 2 + 3 + 1
    assert conv_transpose_output_size(4, 3, 2, 1, 1) == 8


# ----- loops == im2col ---------------------------------------------------------------------
@st.composite
def geometries(draw, max_size=7):
    """A batch of images and a conv geometry that fits: int kernel, stride, padding."""
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    p = draw(st.integers(0, 2))
    H = draw(st.integers(1, max_size))
    W = draw(st.integers(1, max_size))
    assume(H + 2 * p >= k and W + 2 * p >= k)
    return {"N": draw(st.integers(1, 3)), "C": draw(st.integers(1, 3)),
            "Cout": draw(st.integers(1, 3)), "H": H, "W": W, "k": k, "s": s, "p": p,
            "seed": draw(st.integers(0, 2**31))}


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@given(g=geometries())
def test_conv2d_im2col_equals_loops(g):
    rng = np.random.default_rng(g["seed"])
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"]))
    conv = randomize(Conv2D(g["C"], g["Cout"], g["k"], g["s"], g["p"]), rng)
    W, b = conv.params["W"], conv.params["b"]
    y = conv.forward(x)
    close(y, conv2d_loops(x, W, b, g["s"], g["p"]))
    dy = rng.standard_normal(y.shape)
    dx = conv.backward(dy)
    dx_loop, dW_loop, db_loop = conv2d_backward_loops(x, W, dy, g["s"], g["p"])
    close(dx, dx_loop)
    close(conv.grads["W"], dW_loop)
    close(conv.grads["b"], db_loop)


@given(g=geometries(max_size=5), op=st.integers(0, 2))
def test_conv_transpose_im2col_equals_loops(g, op):
    op = min(op, g["s"] - 1)
    assume((g["H"] - 1) * g["s"] - 2 * g["p"] + g["k"] + op >= 1)
    assume((g["W"] - 1) * g["s"] - 2 * g["p"] + g["k"] + op >= 1)
    rng = np.random.default_rng(g["seed"])
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"]))
    up = randomize(ConvTranspose2D(g["C"], g["Cout"], g["k"], g["s"], g["p"], op), rng)
    W, b = up.params["W"], up.params["b"]
    y = up.forward(x)
    close(y, conv_transpose2d_loops(x, W, b, g["s"], g["p"], op))
    dy = rng.standard_normal(y.shape)
    dx = up.backward(dy)
    dx_loop, dW_loop, db_loop = conv_transpose2d_backward_loops(x, W, dy, g["s"], g["p"])
    close(dx, dx_loop)
    close(up.grads["W"], dW_loop)
    close(up.grads["b"], db_loop)


@given(g=geometries())
def test_max_pool_equals_loops(g):
    assume(g["H"] >= g["k"] and g["W"] >= g["k"])
    rng = np.random.default_rng(g["seed"])
    x = distinct((g["N"], g["C"], g["H"], g["W"]), rng)
    pool = MaxPool2D(g["k"], g["s"])
    y = pool.forward(x)
    close(y, max_pool2d_loops(x, g["k"], g["s"]))
    dy = rng.standard_normal(y.shape)
    close(pool.backward(dy), max_pool2d_backward_loops(x, dy, g["k"], g["s"]))


@given(g=geometries(), kw=st.integers(1, 4), sw=st.integers(1, 3), pw=st.integers(0, 2))
def test_conv_transpose_forward_is_conv_backward(g, kw, sw, pw):
    """Same W, same numbers: ConvTranspose2D(b -> a).forward == Conv2D(a -> b).backward."""
    k, s, p = (g["k"], kw), (g["s"], sw), (g["p"], pw)
    assume(g["W"] + 2 * pw >= kw)
    rng = np.random.default_rng(g["seed"])
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"]))
    conv = randomize(Conv2D(g["C"], g["Cout"], k, s, p), rng)
    dy = rng.standard_normal(conv.forward(x).shape)
    op = ((g["H"] + 2 * p[0] - k[0]) % s[0], (g["W"] + 2 * p[1] - k[1]) % s[1])
    up = ConvTranspose2D(g["Cout"], g["C"], k, s, p, op)
    up.params["W"][...] = conv.params["W"]
    close(up.forward(dy), conv.backward(dy))


def test_col2im_is_the_adjoint_of_im2col(rng):
    # <im2col(x), c> = <x, col2im(c)> for every x and c: the definition of the transpose
    x = rng.standard_normal((2, 3, 6, 5))
    cols = im2col(x, (3, 2), (2, 1), (1, 0))
    c = rng.standard_normal(cols.shape)
    lhs = np.vdot(cols, c)
    rhs = np.vdot(x, col2im(c, x.shape, (3, 2), (2, 1), (1, 0)))
    assert abs(lhs - rhs) < 1e-10 * abs(lhs)


@pytest.mark.parametrize("N, C, k, s, p", [(1, 1, 1, 1, 0), (3, 3, 3, 1, 1), (1, 5, 3, 2, 2),
                                           (3, 5, 4, 2, 1), (3, 1, 4, 1, 2)])
def test_im2col_lays_out_the_columns_as_documented(N, C, k, s, p, rng):
    """``cols[(c, u, v), (n, i, j)] = xp[n, c, i·s + u, j·s + v]``, entry by entry.

    The layers would agree with the loops under any order of the columns that im2col
    and col2im share; this pins the order the docstrings and lesson 19 describe.
    """
    H, W = 5, 7
    x = rng.standard_normal((N, C, H, W))
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    cols = im2col(x, k, s, p)
    assert cols.shape == (C * k * k, N * Ho * Wo)
    for c, u, v, n, i, j in np.ndindex(C, k, k, N, Ho, Wo):
        assert cols[(c * k + u) * k + v, (n * Ho + i) * Wo + j] == xp[n, c, i * s + u, j * s + v]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_col2im_sums_each_pixel_in_kernel_order_then_adds_the_bias(dtype, rng):
    """The NumPy col2im: every pixel is (((0 + t_00) + t_01) + ...) + b, to the bit.

    Each term ``t_uv`` is added in the order of the kernel offsets, as the
    definition reads, and the bias last; the result is a new C-contiguous array.
    """
    from tinyae.backend import NumpyOps

    N, C, H, W, (kh, kw), (sh, sw), (ph, pw) = 3, 2, 5, 7, (3, 2), (2, 1), (1, 2)
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    cols = rng.standard_normal((C * kh * kw, N * Ho * Wo)).astype(dtype)
    bias = rng.standard_normal(C).astype(dtype)
    patches = cols.reshape(C, kh, kw, N, Ho, Wo)
    ref = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype)
    for u in range(kh):
        for v in range(kw):
            for i in range(Ho):
                for j in range(Wo):
                    ref[:, :, i * sh + u, j * sw + v] += patches[:, u, v, :, i, j].T
    ref = ref[:, :, ph:ph + H, pw:pw + W] + bias[:, None, None]
    got = NumpyOps.col2im(cols, (N, C, H, W), (kh, kw), (sh, sw), (ph, pw), bias)
    assert got.flags.c_contiguous and got.dtype == dtype
    np.testing.assert_array_equal(got, ref)

# ----- gradient checks (float64, relative error < 1e-7) -------------------------------------
def assert_passes(report):
    assert report.passed and report.max_error < THRESHOLD, str(report)


@given(g=geometries(), kw=st.integers(1, 4), pair=st.booleans())
def test_conv2d_gradients(g, kw, pair):
    k = (g["k"], kw) if pair else g["k"]
    assume(not pair or g["W"] + 2 * g["p"] >= kw)
    rng = np.random.default_rng(g["seed"])
    conv = randomize(Conv2D(g["C"], g["Cout"], k, g["s"], g["p"], seed=rng), rng)
    assert_passes(check_module(conv, rng.standard_normal((g["N"], g["C"], g["H"], g["W"])),
                               seed=g["seed"]))


@given(g=geometries(max_size=5), op=st.integers(0, 2))
def test_conv_transpose_gradients(g, op):
    op = min(op, g["s"] - 1)
    assume((min(g["H"], g["W"]) - 1) * g["s"] - 2 * g["p"] + g["k"] + op >= 1)
    rng = np.random.default_rng(g["seed"])
    up = randomize(ConvTranspose2D(g["C"], g["Cout"], g["k"], g["s"], g["p"], op), rng)
    assert_passes(check_module(up, rng.standard_normal((g["N"], g["C"], g["H"], g["W"])),
                               seed=g["seed"]))


@given(g=geometries())
def test_max_pool_gradients_without_ties(g):
    assume(g["H"] >= g["k"] and g["W"] >= g["k"])
    rng = np.random.default_rng(g["seed"])
    x = distinct((g["N"], g["C"], g["H"], g["W"]), rng)
    report = check_module(MaxPool2D(g["k"], g["s"]), x, seed=g["seed"])
    assert_passes(report)
    assert not any(row.kinks for row in report.rows)  # no tie, so no kink was excused


@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 5), w=st.integers(1, 5),
       sh=st.integers(1, 3), sw=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_upsample_flatten_reshape_gradients(n, c, h, w, sh, sw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    assert_passes(check_module(Upsample2D((sh, sw)), x, seed=seed))
    assert_passes(check_module(Flatten(), x, seed=seed))
    assert_passes(check_module(Reshape((h, c * w)), x.reshape(n, -1), seed=seed))


def conv_autoencoder(seed, code=3, pool=False):
    """8x8 images -> conv encoder -> Flatten -> Dense -> code -> Dense -> Reshape -> decoder."""
    rng = np.random.default_rng(seed)
    if pool:   # the other way down and up: stride 1, max pooling, nearest upsampling
        down = [Conv2D(1, 2, 3, padding=1, seed=rng), ta.Tanh(), MaxPool2D(2),
                Conv2D(2, 3, 3, padding=1, seed=rng), ta.Tanh(), MaxPool2D(2)]
        up = [Upsample2D(2), Conv2D(3, 2, 3, padding=1, seed=rng), ta.Tanh(), Upsample2D(2),
              Conv2D(2, 1, 3, padding=1, seed=rng)]
    else:
        down = [Conv2D(1, 2, 3, 2, 1, seed=rng), ta.Tanh(),      # 8x8 -> 4x4
                Conv2D(2, 3, 3, 2, 1, seed=rng), ta.Tanh()]      # 4x4 -> 2x2
        up = [ConvTranspose2D(3, 2, 3, 2, 1, 1, seed=rng), ta.Tanh(),   # 2x2 -> 4x4
              ConvTranspose2D(2, 1, 3, 2, 1, 1, seed=rng)]               # 4x4 -> 8x8
    net = Sequential(down + [Flatten(), ta.Dense(12, code, "glorot", rng),
                             ta.Dense(code, 12, "glorot", rng), ta.Tanh(), Reshape((3, 2, 2))]
                     + up + [ta.Sigmoid()])
    for _, p, _ in net.named_parameters():
        if p.ndim == 1:
            p[...] = rng.normal(0, 0.5, p.shape)  # non-zero biases: their gradients count
    return net


@pytest.mark.parametrize("pool", [False, True], ids=["strided", "pool+upsample"])
@pytest.mark.parametrize("batch", [1, 3])
def test_conv_autoencoder_gradients(pool, batch):
    """The whole model: every parameter's gradient of the MSE reconstruction loss."""
    rng = np.random.default_rng(batch)
    x = rng.uniform(0, 1, (batch, 1, 8, 8))
    net, loss = conv_autoencoder(seed=batch, pool=pool), ta.MSE()

    def objective(_):
        return loss.forward(net.forward(x).reshape(batch, -1), x.reshape(batch, -1))

    objective(None)
    net.backward(loss.backward().reshape(x.shape))
    for name, p, g in net.named_parameters():
        analytic = g.copy()
        numeric = numerical_gradient(objective, p)
        assert relative_error(analytic, numeric) < THRESHOLD, name
    assert_passes(check_module(net, x, seed=batch))   # and Σ y·R, input gradient included


def test_gradient_check_catches_a_col2im_that_forgets_overlaps(rng):
    """A planted bug: writing each patch's gradient with = instead of += (patches overlap)."""

    def col2im_overwrites(cols, x_shape, k, s, p):
        N, C, H, W = x_shape
        Ho, Wo = conv_output_size(H, k, s, p), conv_output_size(W, k, s, p)
        patches = cols.reshape(C, k, k, N, Ho, Wo)
        xp = np.zeros((N, C, H + 2 * p, W + 2 * p))
        for u in range(k):
            for v in range(k):
                xp[:, :, u:u + s * Ho:s, v:v + s * Wo:s] = patches[:, u, v].transpose(1, 0, 2, 3)
        return xp[:, :, p:p + H, p:p + W]

    class BuggyConv2D(Conv2D):
        def backward(self, grad_out):
            super().backward(grad_out)
            W2 = self.params["W"].reshape(self.out_channels, -1)
            dY = grad_out.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
            return col2im_overwrites(W2.T @ dY, self.cache[1], 3, 1, 1)

    x = rng.standard_normal((2, 2, 5, 5))
    good = check_module(randomize(Conv2D(2, 3, 3, padding=1), rng), x)
    bad = check_module(randomize(BuggyConv2D(2, 3, 3, padding=1), rng), x)
    assert good.passed
    assert not bad.passed and bad["input"].max_rel_error > 0.1
    assert bad["W"].passed and bad["b"].passed   # the report points at the input gradient


# ----- the module protocol ------------------------------------------------------------------
LAYERS = [lambda dt: Conv2D(2, 3, 3, 2, 1, dtype=dt),
          lambda dt: ConvTranspose2D(2, 3, (3, 2), (2, 1), (1, 0), (1, 0), dtype=dt),
          lambda dt: MaxPool2D(2), lambda dt: Upsample2D((2, 1)), lambda dt: Flatten()]


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(make, dtype, rng):
    layer = make(dtype)
    x = rng.standard_normal((2, 2, 6, 5)).astype(dtype)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype and dx.shape == x.shape
    assert all(p.dtype == g.dtype == dtype for _, p, g in layer.named_parameters())


def test_float64_input_is_converted_to_a_float32_layer(rng):
    conv = Conv2D(1, 2, 3, dtype=np.float32)
    assert conv.forward(rng.standard_normal((1, 1, 4, 4))).dtype == np.float32


@pytest.mark.parametrize("cls", [Conv2D, ConvTranspose2D])
def test_seed_int_or_generator_and_init_scale(cls):
    a, b = cls(4, 8, 3, seed=7), cls(4, 8, 3, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert not np.array_equal(a.params["W"], cls(4, 8, 3, seed=8).params["W"])
    assert np.all(a.params["b"] == 0)
    # He: std √(2/fan_in); fan_in = 64·5·5 for the conv, 64·5·5/(2·2) for the transpose
    big = cls(64, 64, 5, stride=2, seed=0)
    fan_in = 64 * 25 if cls is Conv2D else 64 * 25 / 4
    assert abs(big.params["W"].std() / np.sqrt(2 / fan_in) - 1) < 0.02
    glorot = cls(64, 64, 5, init="glorot", seed=0).params["W"]
    assert np.abs(glorot).max() <= np.sqrt(6 / (2 * 64 * 25)) and glorot.std() > 0


def test_shapes_of_the_parameters_follow_pytorch():
    assert Conv2D(3, 16, (3, 5)).params["W"].shape == (16, 3, 3, 5)
    assert ConvTranspose2D(16, 3, (3, 5)).params["W"].shape == (16, 3, 3, 5)
    assert Conv2D(3, 16, 3).params["b"].shape == ConvTranspose2D(3, 16, 3).params["b"].shape


def test_backward_overwrites_grads_and_never_touches_params(rng):
    conv = randomize(Conv2D(2, 3, 3, padding=1), rng)
    x, before = rng.standard_normal((2, 2, 5, 5)), conv.params["W"].copy()
    g = rng.standard_normal((2, 3, 5, 5))
    conv.forward(x)
    conv.backward(g)
    first = {k: v.copy() for k, v in conv.grads.items()}
    conv.forward(x)
    conv.backward(g)
    for k in first:
        np.testing.assert_array_equal(conv.grads[k], first[k])
    np.testing.assert_array_equal(conv.params["W"], before)


@pytest.mark.parametrize("layer", [
    Conv2D(1, 16, 3, 2, 1, init="glorot", dtype=np.float32), Conv2D(2, 4, (3, 5), (1, 2)),
    ConvTranspose2D(32, 16, 3, 2, 1, 1), MaxPool2D(3, 2), Upsample2D((2, 3)), Flatten(),
    Reshape((32, 7, 7))], ids=repr)
def test_config_rebuilds_the_layer(layer):
    rebuilt = module_from_config(module_to_config(layer))
    assert type(rebuilt) is type(layer) and rebuilt.config() == layer.config()
    assert repr(rebuilt) == repr(layer)
    for name, p, _ in layer.named_parameters():
        assert dict((n, q) for n, q, _ in rebuilt.named_parameters())[name].shape == p.shape


def test_repr_shows_the_geometry():
    assert repr(Conv2D(1, 16, 3)) == "Conv2D(1 -> 16, k=3)"
    assert repr(Conv2D(16, 32, 3, 2, 1)) == "Conv2D(16 -> 32, k=3, s=2, p=1)"
    assert repr(ConvTranspose2D(32, 16, 3, 2, 1, 1)) == \
        "ConvTranspose2D(32 -> 16, k=3, s=2, p=1, op=1)"
    assert repr(Conv2D(1, 2, (3, 5))) == "Conv2D(1 -> 2, k=(3, 5))"
    assert repr(MaxPool2D(2)) == "MaxPool2D(k=2)" and repr(MaxPool2D(3, 2)) == "MaxPool2D(k=3, s=2)"
    assert repr(Reshape((32, 7, 7))) == "Reshape((32, 7, 7))"


def test_output_shape_chains_through_a_model(rng):
    layers = [Conv2D(1, 4, 3, 2, 1), MaxPool2D(2, 1), Conv2D(4, 6, (2, 3), padding=(0, 1)),
              Upsample2D(2), ConvTranspose2D(6, 2, 3, 2, 1, 1), Flatten()]
    shape = (1, 13, 11)
    x = rng.standard_normal((2, *shape))
    for layer in layers:
        shape = layer.output_shape(shape)
        x = layer.forward(x)
        assert x.shape[1:] == tuple(shape)


def test_sequential_with_adam_lowers_the_reconstruction_loss(rng):
    X = ta.load_digits()[0][:64].reshape(-1, 1, 8, 8)
    net, loss, adam = conv_autoencoder(seed=0), ta.MSE(), ta.Adam(lr=1e-2)
    losses = []
    for _ in range(40):
        losses.append(loss.forward(net.forward(X).reshape(64, -1), X.reshape(64, -1)))
        net.backward(loss.backward().reshape(X.shape))
        adam.step(net.parameters())
    assert losses[-1] < 0.75 * losses[0]   # 0.4 to 0.65 across seeds


# ----- bad input: each a clear error --------------------------------------------------------
def test_wrong_channel_count_names_the_layer_and_both_counts():
    with pytest.raises(ShapeError, match=r"Conv2D\(1 -> 16, k=3\) expected 1 input "
                                         r"channels, got 3"):
        Conv2D(1, 16, 3).forward(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ShapeError, match=r"channels last\? use x.transpose\(0, 3, 1, 2\)"):
        Conv2D(3, 4, 3).forward(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ShapeError, match="expected 2 input channels, got 1"):
        ConvTranspose2D(2, 1, 3).forward(np.zeros((1, 1, 4, 4)))


@pytest.mark.parametrize("layer", [Conv2D(1, 2, 3), ConvTranspose2D(1, 2, 3), MaxPool2D(2),
                                   Upsample2D(2)], ids=repr)
def test_wrong_rank_says_what_the_layout_is(layer):
    with pytest.raises(ShapeError, match=r"4-D array of images \(batch, channels, height, "
                                         r"width\), got shape \(5, 64\).*reshape"):
        layer.forward(np.zeros((5, 64)))
    with pytest.raises(ShapeError, match=r"got shape \(1, 8, 8\).*x\[None\]"):
        layer.forward(np.zeros((1, 8, 8)))


def test_kernel_larger_than_the_padded_input_names_the_sizes():
    with pytest.raises(ShapeError, match=r"Conv2D\(1 -> 1, k=5\): a 5x5 kernel does not fit "
                                         r"in a 3x4 image \(height x width\)"):
        Conv2D(1, 1, 5).forward(np.zeros((1, 1, 3, 4)))
    with pytest.raises(ShapeError, match=r"5x5 kernel does not fit in a 2x2 image \(height x "
                                         r"width\) padded to 4x4 \(padding 1\)"):
        Conv2D(1, 1, 5, padding=1).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ShapeError, match=r"MaxPool2D\(k=3\): a 3x3 kernel does not fit"):
        MaxPool2D(3).forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ShapeError, match=r"a 1x1 input gives a -1x-1 output"):
        ConvTranspose2D(1, 1, 1, padding=1).forward(np.zeros((1, 1, 1, 1)))


def test_bad_values_and_dtypes():
    conv = Conv2D(1, 1, 3)
    with pytest.raises(DTypeError, match="float array"):
        conv.forward(np.zeros((1, 1, 4, 4), dtype=np.uint8))
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2, 1] = np.nan
    with pytest.raises(NotFiniteError, match=r"1 NaN.*\(0, 0, 2, 1\)"):
        conv.forward(x)
    with pytest.raises(ShapeError, match="non-empty"):
        conv.forward(np.zeros((0, 1, 4, 4)))


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2D(0, 1, 3), "in_channels must be a positive integer, got 0"),
    (lambda: Conv2D(1, True, 3), "out_channels must be a positive integer"),
    (lambda: Conv2D(1, 1, 0), "kernel_size must be at least 1"),
    (lambda: Conv2D(1, 1, (3, 3, 3)), "kernel_size must be an int or a pair"),
    (lambda: Conv2D(1, 1, 3, stride=0), "stride must be at least 1"),
    (lambda: Conv2D(1, 1, 3, padding=-1), "padding must be at least 0"),
    (lambda: Conv2D(1, 1, 3, init="uniform"), "unknown init 'uniform'"),
    (lambda: ConvTranspose2D(1, 1, 3, stride=2, output_padding=2),
     "output_padding must be smaller than stride"),
    (lambda: MaxPool2D(2, stride=0), "stride must be at least 1"),
    (lambda: Upsample2D(0), "scale must be at least 1"),
    (lambda: Reshape((32, 0)), "Reshape shape must be positive ints"),
])
def test_bad_constructor_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_reshape_flatten_and_backward_errors(rng):
    with pytest.raises(ShapeError, match=r"Reshape\(\(32, 7, 7\)\) expected 1568 values per "
                                         r"sample, got 1500"):
        Reshape((32, 7, 7)).forward(np.zeros((2, 1500)))
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        Flatten().forward(np.zeros(5))
    conv = Conv2D(1, 2, 3)
    with pytest.raises(ForwardNotCalledError, match="call forward"):
        conv.backward(np.zeros((1, 2, 2, 2)))
    conv.forward(rng.standard_normal((1, 1, 4, 4)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(1, 2, 2, 2\)"):
        conv.backward(np.zeros((1, 2, 3, 3)))
    pool = MaxPool2D(2)
    pool.forward(rng.standard_normal((1, 1, 4, 4)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(1, 1, 2, 2\)"):
        pool.backward(np.zeros((1, 1, 4, 4)))
