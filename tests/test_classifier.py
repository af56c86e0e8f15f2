"""Softmax, the fused softmax cross-entropy, and the classifier built on them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.classifier import log_softmax, softmax
from tinyae.errors import DTypeError, ShapeError
from tinyae.gradcheck import THRESHOLD, check_loss, check_module, numerical_gradient
from tinyae.gradcheck import relative_error as rel


def test_softmax_is_stable_and_sums_to_one():
    z = np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]])
    p = softmax(z)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1)
    assert p[0, 0] == 1.0 and np.allclose(p[1], 1 / 3)
    assert np.all(np.isfinite(log_softmax(z)))


def test_cross_entropy_by_hand():
    loss = ta.SoftmaxCrossEntropy()
    assert loss(np.zeros((4, 5)), np.array([0, 1, 2, 4])) == pytest.approx(np.log(5))
    z = np.array([[2.0, 0.0], [0.0, 1.0]])
    expected = -(np.log(np.exp(2) / (np.exp(2) + 1)) + np.log(np.e / (1 + np.e))) / 2
    assert loss(z, np.array([0, 1])) == pytest.approx(expected, rel=1e-12)
    assert loss(z, np.eye(2)) == pytest.approx(expected, rel=1e-12)  # one-hot targets


@given(N=st.integers(1, 6), C=st.integers(2, 6), seed=st.integers(0, 10**6))
def test_cross_entropy_gradient(N, C, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.normal(size=(N, C)) * 3, rng.integers(0, C, N)
    assert check_loss(ta.SoftmaxCrossEntropy(), z, np.eye(C)[y]).max_error < THRESHOLD
    loss = ta.SoftmaxCrossEntropy()
    loss.forward(z, y)
    numeric = numerical_gradient(lambda v: ta.SoftmaxCrossEntropy().forward(v, y), z.copy())
    assert rel(loss.backward(), numeric) < THRESHOLD
    np.testing.assert_allclose(loss.backward(), (softmax(z) - np.eye(C)[y]) / N, atol=1e-15)


@given(N=st.integers(1, 5), C=st.integers(2, 6), seed=st.integers(0, 10**6))
def test_softmax_module_gradient(N, C, seed):
    z = np.random.default_rng(seed).normal(size=(N, C))
    assert check_module(ta.Softmax(), z).max_error < THRESHOLD


@given(N=st.integers(1, 6), D=st.integers(1, 6), C=st.integers(2, 5), seed=st.integers(0, 10**6),
       wd=st.sampled_from([0.0, 0.1]))
def test_classifier_parameter_gradients(N, D, C, seed, wd):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, D)), rng.integers(0, C, N)
    model = ta.SoftmaxClassifier(D, C, seed=seed, weight_decay=wd)
    model.loss_and_backward(X, y)
    for name, param, grad in model.named_parameters():
        analytic = grad.copy()
        numeric = numerical_gradient(
            lambda _: model.loss_and_backward(X, y, backward=False), param)
        assert rel(analytic, numeric) < THRESHOLD, name


@pytest.mark.parametrize("y,error,message", [
    (np.array([0.0, 1.0, 2.0]), DTypeError, "astype"),
    (np.array([0, 1, 10]), ValueError, "0..9"),
    (np.array([0, -1, 2]), ValueError, "0..9"),
    (np.array([0, 1]), ShapeError, "expected 3 labels"),
    (np.array([[0], [1], [2]]), ShapeError, "1-D"),
])
def test_labels_are_validated(y, error, message):
    model = ta.SoftmaxClassifier(4, 10)
    with pytest.raises(error, match=message):
        model.fit(np.zeros((3, 4)), y, epochs=1)


def test_n_classes_must_be_at_least_two():
    with pytest.raises(ValueError, match="n_classes"):
        ta.SoftmaxClassifier(4, 1)


def test_classifier_on_codes_beats_chance_by_far():
    X, y = ta.load_digits()
    X_train, X_test, y_train, y_test = ta.train_test_split(X, y, seed=0)
    ae = ta.Autoencoder.shallow(64, 16, seed=0)
    ae.fit(X_train, "bce", optimizer=ta.Adam(3e-3), epochs=30, batch_size=32, verbose=0)
    clf = ta.SoftmaxClassifier(16, 10, seed=0)
    assert clf.fit(ae.encode(X_train), y_train, epochs=30, optimizer=ta.Adam(1e-2)) is clf
    accuracy = clf.score(ae.encode(X_test), y_test)
    assert accuracy > 0.8  # chance is 0.1
    proba = clf.predict_proba(ae.encode(X_test))
    assert proba.shape == (len(X_test), 10) and np.allclose(proba.sum(axis=1), 1)
    assert accuracy == np.mean(proba.argmax(axis=1) == y_test)
    assert clf.history_.epochs == 30 and clf.history_.train_loss[-1] < clf.history_.train_loss[0]


def test_validation_pairs_and_evaluate():
    X, y = ta.load_digits()
    clf = ta.SoftmaxClassifier(64, 10, seed=0)
    clf.fit(X[:300], y[:300], epochs=3, validation_data=(X[300:400], y[300:400]))
    assert len(clf.history_.val_loss) == 3
    assert clf.history_.val_loss[-1] == pytest.approx(clf.evaluate(X[300:400], y[300:400]))
