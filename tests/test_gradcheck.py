"""The gradient checker itself: validated on known gradients, and shown able to fail."""

import numpy as np
import pytest

import tinyae as ta
from tinyae.gradcheck import (
    GradcheckPrecisionWarning,
    check_model,
    check_module,
    numerical_gradient,
    relative_error,
)


def test_numerical_gradient_of_a_known_function():
    # f(x) = Σ x³ + 2·x0·x1  ->  ∂f/∂x = 3x² + 2·(x1, x0)
    x = np.array([0.5, -1.5, 2.0])
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(v**3) + 2 * v[0] * v[1], x)
    expected = 3 * before**2 + 2 * np.array([before[1], before[0], 0.0])
    assert relative_error(grad, expected) < 1e-9
    assert x.tobytes() == before.tobytes()  # perturbed in place, restored exactly


def test_relative_error_definition():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([2.0, 0.0]), np.array([1.0, 0.0])) == pytest.approx(0.5)


class FlippedSigmoid(ta.Sigmoid):
    """A planted bug: the backward pass returns minus the right gradient."""

    def backward(self, grad_out):
        return -super().backward(grad_out)


class ForgotBatchMeanMSE(ta.MSE):
    """A planted bug: the gradient forgets the 1/N of the batch mean."""

    def backward(self):
        return 2.0 * self.cache


def test_checker_catches_a_flipped_sign(rng):
    good = check_module(ta.Sigmoid(), rng.normal(size=(3, 4)))
    bad = check_module(FlippedSigmoid(), rng.normal(size=(3, 4)))
    assert good.passed
    assert not bad.passed and bad["input"].max_rel_error > 0.5
    assert "FAIL" in str(bad)


def test_checker_catches_a_planted_bug_inside_a_model(rng):
    model = ta.Autoencoder.shallow(8, 3, hidden="sigmoid", seed=0)
    model.encoder.layers[1] = FlippedSigmoid()
    report = check_model(model, rng.random((4, 8)), "mse")
    assert not report.passed
    # the decoder is upstream of the bug in backward: its gradients stay right
    assert report["decoder.0.W"].passed and not report["encoder.0.W"].passed


def test_checker_catches_a_missing_batch_mean(rng):
    report = ta.gradcheck.check_loss(ForgotBatchMeanMSE(), rng.random((5, 3)), rng.random((5, 3)))
    assert not report.passed
    assert report.max_error == pytest.approx(1 - 1 / 5, rel=1e-6)  # off by a factor N = 5


def test_kinks_are_reported_not_hidden():
    # two inputs within h = 1e-5 of ReLU's kink at 0
    x = np.array([[-1e-6, 0.5, -0.3, 2e-6]])
    report = check_module(ta.ReLU(), x)
    assert report.passed
    assert sorted(report["input"].kinks) == [(0, 0), (0, 3)]
    assert "kink" in str(report)


def test_a_point_exactly_on_kinks_is_reported_not_failed():
    # Found by hypothesis: every hidden ReLU dead and zero biases put the decoder's
    # pre-activations exactly at 0. The backward uses relu'(0) = 0, and the two
    # one-sided slopes (-0.169, -0.141) both differ from it: a kink, not a bug.
    model = ta.Autoencoder.deep([11, 3, 1], hidden="relu", output="sigmoid", seed=0)
    X = np.random.default_rng(0).random((1, 11))
    assert np.all(model.encoder.layers[0].forward(X) < 0)      # the premise: all dead
    report = check_model(model, X, "mse")
    assert report.passed, str(report)
    assert report["encoder.2.b"].kinks == [(0,)]


def test_a_wrong_gradient_at_a_kink_free_point_is_not_excused(rng):
    class HalfReLU(ta.ReLU):
        def backward(self, grad_out):
            return 0.5 * super().backward(grad_out)

    report = check_module(HalfReLU(), np.array([[-1.0, 0.5, 2.0, -0.3]]))
    assert not report.passed and report["input"].kinks == []


def test_float32_check_warns():
    with pytest.warns(GradcheckPrecisionWarning, match="float32"):
        report = check_module(ta.Dense(3, 2, dtype=np.float32), np.ones((2, 3), np.float32))
    assert report.threshold > 1e-7


def test_sampled_entries_for_big_layers(rng):
    report = check_module(ta.Dense(50, 40, seed=0), rng.normal(size=(3, 50)), n_entries=20)
    assert report.passed
