"""Losses: hand-computed values, gradient checks, saturation and bad targets."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.errors import ForwardNotCalledError, ShapeError
from tinyae.gradcheck import check_loss


def test_mse_known_value():
    y_pred = np.array([[1.0, 2.0], [0.0, 0.0]])
    y_true = np.array([[0.0, 0.0], [0.0, 3.0]])
    loss = ta.MSE()
    # sample 1: 1 + 4 = 5 ; sample 2: 9 ; mean over the batch = 7
    assert loss.forward(y_pred, y_true) == pytest.approx(7.0)
    np.testing.assert_allclose(loss.backward(), [[1.0, 2.0], [0.0, -3.0]])  # 2(ŷ-y)/2


def test_bce_known_value():
    p = np.array([[0.5, 0.9]])
    y = np.array([[1.0, 0.0]])
    expected = -(np.log(0.5) + np.log(0.1))
    loss = ta.BinaryCrossEntropy()
    assert loss.forward(p, y) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), [[-1 / 0.5, 1 / 0.1]])


def test_bce_with_logits_matches_bce_of_sigmoid():
    z = np.array([[-3.0, -0.5, 0.0, 2.0, 7.0]])
    y = np.array([[0.0, 0.3, 1.0, 0.8, 1.0]])
    fused, plain = ta.BinaryCrossEntropyWithLogits(), ta.BinaryCrossEntropy()
    p = 1 / (1 + np.exp(-z))
    assert fused.forward(z, y) == pytest.approx(plain.forward(p, y), rel=1e-12)
    # the fused gradient is (σ(z) - y)/N: the chain rule through the sigmoid, simplified
    chain = plain.backward() * p * (1 - p)
    np.testing.assert_allclose(fused.backward(), chain, rtol=1e-10)
    np.testing.assert_allclose(fused.backward(), (p - y) / 1, rtol=1e-12)


def test_bce_stays_finite_at_saturation():
    y = np.array([[0.0, 1.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            plain = ta.BinaryCrossEntropy()
            value = plain.forward(np.array([[0.0, 1.0, 1.0, 0.0]]), y)
            grad = plain.backward()
            fused = ta.BinaryCrossEntropyWithLogits()
            value_fused = fused.forward(np.array([[-1e4, 1e4, 1e4, -1e4]]), y)
            grad_fused = fused.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert np.isfinite(value_fused) and np.all(np.isfinite(grad_fused))
    # two entries are perfectly right, two are confidently wrong by 1e4 logits each
    assert value_fused == pytest.approx(2e4)
    np.testing.assert_allclose(grad_fused, [[0.0, 0.0, 1.0, -1.0]])


@pytest.mark.parametrize("loss", [ta.MSE(), ta.BinaryCrossEntropy(),
                                  ta.BinaryCrossEntropyWithLogits()], ids=repr)
def test_loss_gradients(loss, rng):
    y_pred = rng.uniform(0.05, 0.95, (4, 6))
    y_true = rng.random((4, 6))
    report = check_loss(loss, y_pred, y_true)
    assert report.passed, str(report)


@given(n=st.integers(1, 8), d=st.integers(1, 10), seed=st.integers(0, 2**31),
       which=st.sampled_from(["mse", "bce", "logits"]))
def test_loss_gradients_property(n, d, seed, which):
    rng = np.random.default_rng(seed)
    loss = {"mse": ta.MSE(), "bce": ta.BinaryCrossEntropy(),
            "logits": ta.BinaryCrossEntropyWithLogits()}[which]
    y_pred = rng.uniform(0.05, 0.95, (n, d)) if which == "bce" else rng.normal(0, 2, (n, d))
    report = check_loss(loss, y_pred, rng.random((n, d)))
    assert report.passed, str(report)


def test_float32_is_kept():
    y = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    for loss in (ta.MSE(), ta.BinaryCrossEntropy(), ta.BinaryCrossEntropyWithLogits()):
        loss.forward(np.clip(y, 0.1, 0.9), y)
        assert loss.backward().dtype == np.float32


def test_bad_targets_and_shapes():
    with pytest.raises(ValueError, match=r"targets in \[0, 1\], got values in \[-0.5, 2\]"):
        ta.BinaryCrossEntropy().forward(np.full((1, 2), 0.5), np.array([[-0.5, 2.0]]))
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        ta.BinaryCrossEntropyWithLogits().forward(np.zeros((1, 2)), np.array([[0.0, 1.5]]))
    with pytest.raises(ShapeError, match=r"same shape, got \(2, 3\) and \(3, 2\)"):
        ta.MSE().forward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ForwardNotCalledError):
        ta.MSE().backward()
