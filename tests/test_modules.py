"""Layers and activations: known values, gradient checks, dtypes and bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.activations import sigmoid
from tinyae.errors import DTypeError, ForwardNotCalledError, NotFiniteError, ShapeError
from tinyae.gradcheck import THRESHOLD, check_module

ACTIVATIONS = [ta.ReLU(), ta.Sigmoid(), ta.Tanh(), ta.LeakyReLU(0.1), ta.Identity()]


def away_from_zero(x, margin=1e-2):
    """Push entries out of (-margin, margin) so ±h never crosses a ReLU kink."""
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


# ----- known values worked by hand -------------------------------------------------
def test_dense_known_values():
    # 2 inputs -> 1 output, W = [[2], [-1]], b = [0.5]
    layer = ta.Dense(2, 1)
    layer.params["W"][:] = [[2.0], [-1.0]]
    layer.params["b"][:] = [0.5]
    x = np.array([[1.0, 3.0], [0.0, -2.0]])
    y = layer.forward(x)
    # 1*2 + 3*(-1) + 0.5 = -0.5 ;  0*2 + (-2)*(-1) + 0.5 = 2.5
    np.testing.assert_allclose(y, [[-0.5], [2.5]])
    dx = layer.backward(np.array([[1.0], [2.0]]))
    # dW = x.T @ dy = [[1*1 + 0*2], [3*1 + (-2)*2]] = [[1], [-1]]; db = 1 + 2 = 3
    np.testing.assert_allclose(layer.grads["W"], [[1.0], [-1.0]])
    np.testing.assert_allclose(layer.grads["b"], [3.0])
    # dx = dy @ W.T = [[2, -1], [4, -2]]
    np.testing.assert_allclose(dx, [[2.0, -1.0], [4.0, -2.0]])


def test_activation_known_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(ta.ReLU().forward(z), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(ta.LeakyReLU(0.1).forward(z), [[-0.2, 0.0, 3.0]])
    np.testing.assert_allclose(ta.Sigmoid().forward(z)[0, 1], 0.5)
    np.testing.assert_allclose(ta.Tanh().forward(z), np.tanh(z))
    s = ta.Sigmoid()
    a = s.forward(z)
    np.testing.assert_allclose(s.backward(np.ones_like(z)), a * (1 - a))
    np.testing.assert_allclose(a, 1 / (1 + np.exp(-z)))


def test_backward_overwrites_grads_instead_of_accumulating(rng):
    layer = ta.Dense(3, 2, seed=1)
    x, g = rng.random((4, 3)), rng.random((4, 2))
    layer.forward(x)
    layer.backward(g)
    first = layer.grads["W"].copy()
    layer.forward(x)
    layer.backward(g)
    np.testing.assert_array_equal(layer.grads["W"], first)


# ----- gradient checks ---------------------------------------------------------------
@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_activation_gradients(act, rng):
    report = check_module(act, away_from_zero(rng.standard_normal((5, 7))))
    assert report.passed, str(report)
    assert report.max_error < THRESHOLD


def test_dense_and_sequential_gradients(rng):
    net = ta.Sequential([ta.Dense(6, 5, seed=0), ta.Tanh(), ta.Dense(5, 3, seed=1),
                         ta.Sigmoid()])
    report = check_module(net, rng.standard_normal((4, 6)))
    assert report.passed, str(report)
    assert [r.name for r in report.rows] == ["input", "0.W", "0.b", "2.W", "2.b"]


@given(batch=st.integers(1, 6), n_in=st.integers(1, 8), n_out=st.integers(1, 8),
       seed=st.integers(0, 2**31), init=st.sampled_from(["he", "glorot", "lecun"]))
def test_dense_gradients_property(batch, n_in, n_out, seed, init):
    layer = ta.Dense(n_in, n_out, init=init, seed=seed)
    x = np.random.default_rng(seed).standard_normal((batch, n_in))
    report = check_module(layer, x, seed=seed)
    assert report.passed, str(report)


@given(shape=st.tuples(st.integers(1, 5), st.integers(1, 6)), seed=st.integers(0, 2**31),
       index=st.integers(0, len(ACTIVATIONS) - 1))
def test_activation_gradients_property(shape, seed, index):
    x = away_from_zero(np.random.default_rng(seed).standard_normal(shape) * 3)
    report = check_module(ACTIVATIONS[index], x, seed=seed)
    assert report.passed, str(report)


# ----- stability ---------------------------------------------------------------------
def test_sigmoid_is_stable_at_extremes():
    z = np.array([[-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            a = sigmoid(z)
            layer = ta.Sigmoid()
            out = layer.forward(z)
            grad = layer.backward(np.ones_like(z))
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(grad))
    assert a[0, 0] == 0.0 and a[0, -1] == 1.0 and a[0, 3] == 0.5
    np.testing.assert_array_equal(out, a)
    # in the tail the stable form keeps full relative precision: σ(-40) = e^-40 / (1 + e^-40)
    np.testing.assert_allclose(a[0, 2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-14)


# ----- dtypes and reproducibility -----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_forward_and_backward(dtype):
    net = ta.Sequential([ta.Dense(4, 3, dtype=dtype), ta.Sigmoid(), ta.Dense(3, 4, dtype=dtype),
                         ta.ReLU()])
    x = np.random.default_rng(0).random((2, 4)).astype(dtype)
    y = net.forward(x)
    dx = net.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype
    for _, p, g in net.named_parameters():
        assert p.dtype == dtype and g.dtype == dtype


def test_same_seed_same_bits_different_seed_different_bits():
    a, b, c = ta.Dense(10, 7, seed=3), ta.Dense(10, 7, seed=3), ta.Dense(10, 7, seed=4)
    assert a.params["W"].tobytes() == b.params["W"].tobytes()
    assert a.params["W"].tobytes() != c.params["W"].tobytes()


def test_he_init_has_the_documented_variance():
    W = ta.Dense(400, 300, init="he", seed=0).params["W"]
    assert abs(W.var() / (2 / 400) - 1) < 0.05
    W = ta.Dense(400, 300, init="glorot", seed=0).params["W"]
    limit = np.sqrt(6 / 700)
    assert W.max() <= limit and W.min() >= -limit and abs(W.var() / (limit**2 / 3) - 1) < 0.05


# ----- bad input -----------------------------------------------------------------------
def test_wrong_number_of_features_names_both():
    with pytest.raises(ShapeError, match="expected 64 input features, got 63"):
        ta.Dense(64, 16).forward(np.zeros((2, 63)))


def test_one_dimensional_input_is_refused_with_a_hint():
    with pytest.raises(ShapeError, match=r"2-D array .* got shape \(64,\).*reshape"):
        ta.Dense(64, 16).forward(np.zeros(64))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_refused(bad):
    x = np.zeros((3, 4))
    x[1, 2] = bad
    with pytest.raises(NotFiniteError, match=r"index \(1, 2\)"):
        ta.Dense(4, 2).forward(x)
    with pytest.raises(NotFiniteError):
        ta.ReLU().forward(x)


def test_integer_input_is_refused():
    with pytest.raises(DTypeError, match="float array .* got dtype int64"):
        ta.Dense(4, 2).forward(np.ones((2, 4), dtype=np.int64))
    with pytest.raises(DTypeError, match="NumPy array"):
        ta.Sigmoid().forward("not an array")


@pytest.mark.parametrize("module", [ta.Dense(3, 2), ta.ReLU(), ta.Sigmoid(), ta.Tanh(),
                                    ta.LeakyReLU(), ta.Identity()], ids=repr)
def test_backward_before_forward(module):
    with pytest.raises(ForwardNotCalledError, match="before forward"):
        module.backward(np.ones((1, 2)))


def test_grad_out_of_the_wrong_shape():
    layer = ta.Dense(3, 2)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ShapeError, match=r"grad_out of shape \(4, 2\).*got \(2, 4\)"):
        layer.backward(np.ones((2, 4)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        ta.Dense(0, 3)
    with pytest.raises(ValueError, match="unknown init"):
        ta.Dense(3, 3, init="uniformish")
    with pytest.raises(DTypeError, match="float32 or float64"):
        ta.Dense(3, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="alpha"):
        ta.LeakyReLU(-1)
    with pytest.raises(TypeError, match="Module instances"):
        ta.Sequential([ta.ReLU(), "relu"])
