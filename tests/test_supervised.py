"""The supervised autoencoder: the joint gradient, labels with -1, bad input, saving, learning."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyae as ta
from tinyae.classifier import SoftmaxCrossEntropy
from tinyae.errors import DTypeError, NotFiniteError, ShapeError
from tinyae.gradcheck import THRESHOLD, numerical_gradient
from tinyae.supervised import SupervisedAutoencoder, check_semi_labels, hide_labels


def gradient_error(model, X, y, loss):
    """Largest |analytic − numeric| over every parameter, relative to the largest gradient entry.

    The same norm-wise measure as :func:`tinyae.gradcheck.check_model`, with labels
    as the target. Noise (and the consistency target) are held fixed during the check.
    """
    model.hold_noise = True
    try:
        model.loss_and_backward(X, y, loss)
        analytic = {n: g.copy() for n, _, g in model.named_parameters()}

        def f(_):
            return model.loss_and_backward(X, y, loss, backward=False)

        numeric = {n: numerical_gradient(f, p) for n, p, _ in model.named_parameters()}
    finally:
        model.hold_noise = False
    scale = max(max(np.abs(analytic[n]).max(), np.abs(numeric[n]).max()) for n in numeric)
    if scale == 0:  # e.g. β = 0 and no labeled row: nothing depends on the weights
        return 0.0, {n: 0.0 for n in numeric}
    errors = {n: float(np.abs(analytic[n] - numeric[n]).max() / scale) for n in numeric}
    return max(errors.values()), errors


@settings(max_examples=25, deadline=None)
@given(D=st.integers(2, 7), H=st.integers(1, 5), K=st.integers(1, 4), C=st.integers(2, 4),
       seed=st.integers(0, 10**6), loss=st.sampled_from(["bce", "mse"]),
       labeled=st.lists(st.booleans(), min_size=1, max_size=6),
       alpha=st.floats(0.0, 5.0), beta=st.sampled_from([0.0, 0.5, 1.0, 3.0]))
def test_joint_gradient_matches_finite_differences(D, H, K, C, seed, loss, labeled, alpha, beta):
    """Every parameter, over shapes and over which rows are labeled (none included)."""
    if alpha == 0 and beta == 0:
        beta = 1.0
    rng = np.random.default_rng(seed)
    N = len(labeled)
    model = SupervisedAutoencoder.deep([D, H, K], C, hidden="tanh", alpha=alpha, beta=beta,
                                       seed=seed % 1000)
    y = np.where(labeled, rng.integers(0, C, N), -1)
    err, errors = gradient_error(model, rng.random((N, D)), y, loss)
    assert err < THRESHOLD, errors


@settings(max_examples=15, deadline=None)
@given(N=st.integers(1, 6), seed=st.integers(0, 10**6),
       kind=st.sampled_from(["masking", "gaussian"]), gamma=st.floats(0.1, 5.0),
       labeled=st.lists(st.booleans(), min_size=6, max_size=6))
def test_gradient_with_noise_and_consistency(N, seed, kind, gamma, labeled):
    """The semi-supervised recipe: denoising input and the consistency term, noise held."""
    rng = np.random.default_rng(seed)
    model = SupervisedAutoencoder.deep([6, 5, 3], 3, hidden="tanh", noise=(kind, 0.3),
                                       consistency=gamma, seed=seed % 1000)
    y = np.where(labeled[:N], rng.integers(0, 3, N), -1)
    err, errors = gradient_error(model, rng.random((N, 6)), y, "bce")
    assert err < THRESHOLD, errors


def test_relu_model_gradient(rng):
    model = SupervisedAutoencoder.deep([8, 6, 3], 4, seed=1)  # ReLU hidden, like MNIST
    y = np.array([0, -1, 3, -1, 2])
    err, errors = gradient_error(model, rng.random((5, 8)), y, "bce")
    assert err < THRESHOLD, errors


class ForgotOneOverM(SoftmaxCrossEntropy):
    """A planted bug: the cross-entropy gradient without its 1/M."""

    def backward(self):
        return super().backward() * len(self.cache[1])


def test_the_check_catches_a_planted_bug(rng):
    model = SupervisedAutoencoder.deep([6, 4, 2], 3, hidden="tanh", seed=0)
    model.ce = ForgotOneOverM()
    err, errors = gradient_error(model, rng.random((5, 6)), np.array([0, 1, -1, 2, 2]), "bce")
    assert err > 1e-2
    assert errors["head.linear.W"] > 1e-2


def test_parts_of_the_loss_by_hand(rng):
    """J = β·BCE + α·CE over the labeled rows only, each term computed independently."""
    model = SupervisedAutoencoder.deep([5, 4, 3], 2, alpha=0.7, beta=2.0, seed=3)
    X, y = rng.random((4, 5)), np.array([1, -1, 0, -1])
    J = model.loss_and_backward(X, y, "bce", backward=False)
    x_hat = model.reconstruct(X)
    bce = -np.sum(X * np.log(x_hat) + (1 - X) * np.log(1 - x_hat)) / 4
    p = model.predict_proba(X[[0, 2]])
    ce = -np.mean(np.log(p[[0, 1], [1, 0]]))
    assert J == pytest.approx(2.0 * bce + 0.7 * ce, rel=1e-9)
    assert model.terms["classification"] == pytest.approx(ce, rel=1e-9)


def test_a_batch_with_no_labeled_row(rng):
    model = SupervisedAutoencoder.deep([5, 4, 3], 2, seed=0)
    model.loss_and_backward(rng.random((3, 5)), np.array([0, 1, 1]), "bce")  # stale grads
    J = model.loss_and_backward(rng.random((3, 5)), np.array([-1, -1, -1]), "bce")
    assert np.isfinite(J) and model.terms["classification"] == 0.0
    assert J == pytest.approx(model.terms["reconstruction"])
    assert all(np.all(g == 0) for n, _, g in model.named_parameters() if n.startswith("head."))


def test_beta_zero_is_the_classifier_alone(rng):
    """With β = 0 the decoder gets no gradient and the loss is the cross-entropy."""
    model = SupervisedAutoencoder.deep([5, 4, 3], 2, beta=0.0, seed=0)
    X, y = rng.random((4, 5)), np.array([0, 1, 1, 0])
    J = model.loss_and_backward(X, y, "bce")
    assert J == pytest.approx(model.terms["classification"])
    assert all(np.all(g == 0) for n, _, g in model.named_parameters() if n.startswith("dec"))


# ----- bad input -------------------------------------------------------------------------
@pytest.fixture
def model():
    return SupervisedAutoencoder.deep([64, 16, 4], 10, seed=0)


@pytest.fixture
def digits():
    return ta.load_digits()


def _weights(model):
    return [p.copy() for p, _ in model.parameters()]


def _unchanged(model, before):
    return all(np.array_equal(p, q) for (p, _), q in zip(model.parameters(), before))


def test_labels_of_the_wrong_length(model, digits):
    X, y = digits
    before = _weights(model)
    with pytest.raises(ShapeError, match=f"expected {len(X)} labels.*got {len(X) - 1}"):
        model.fit(X, y[:-1], epochs=1)
    assert _unchanged(model, before)


def test_labels_of_the_wrong_dtype(model, digits):
    X, y = digits
    with pytest.raises(DTypeError, match=r"integer class indices 0\.\.9.*float64.*astype\(int\)"):
        model.fit(X, y.astype(float), epochs=1)
    with pytest.raises(DTypeError, match="integer"):
        model.fit(X, np.array(["a"] * len(X)), epochs=1)


@pytest.mark.parametrize("bad", [10, 12, -2])
def test_labels_out_of_range_name_classes_found_and_expected(model, digits, bad):
    X, y = digits
    y = y.copy()
    y[[3, 5]] = bad
    before = _weights(model)
    with pytest.raises(ValueError, match=rf"expected classes 0\.\.9 \(10 classes.*found "
                                         rf"classes .*{bad}"):
        model.fit(X, y, epochs=1)
    assert _unchanged(model, before)


def test_no_labeled_row_at_all(model, digits):
    X, _ = digits
    before = _weights(model)
    with pytest.raises(ValueError, match="no labeled row"):
        model.fit(X, np.full(len(X), -1), epochs=1)
    assert _unchanged(model, before)


def test_nan_in_the_inputs(model, digits):
    X, y = digits
    X = X.copy()
    X[7, 3] = np.nan
    before = _weights(model)
    with pytest.raises(NotFiniteError, match="1 NaN"):
        model.fit(X, y, epochs=1)
    assert _unchanged(model, before)
    with pytest.raises(NotFiniteError):
        model.predict(X)


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, np.nan, True])
def test_labeled_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError, match=r"fraction must lie in \(0, 1\]"):
        hide_labels(np.arange(10) % 3, fraction=fraction)


@pytest.mark.parametrize("share", [0, 1, 1.2, -0.5])
def test_labeled_share_outside_zero_one(model, digits, share):
    X, y = digits
    with pytest.raises(ValueError, match=r"labeled_share must lie in \(0, 1\)"):
        model.fit(X, y, labeled_share=share)


def test_bad_weights_and_noise():
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        SupervisedAutoencoder.deep([4, 2], 2, alpha=-1)
    with pytest.raises(ValueError, match="both 0"):
        SupervisedAutoencoder.deep([4, 2], 2, alpha=0, beta=0)
    with pytest.raises(ValueError, match="noise must be a"):
        SupervisedAutoencoder.deep([4, 2], 2, noise=("blur", 0.1))
    with pytest.raises(ValueError, match="give noise too"):
        SupervisedAutoencoder.deep([4, 2], 2, consistency=1.0)


def test_score_needs_every_label(model, digits):
    X, y = digits
    with pytest.raises(ValueError, match="-1"):
        model.score(X[:5], np.array([0, 1, -1, 2, 3]))


def test_hide_labels_keeps_what_it_says():
    y = np.repeat(np.arange(4), 25)
    kept = hide_labels(y, per_class=3, seed=1)
    assert np.bincount(kept[kept >= 0]).tolist() == [3, 3, 3, 3]
    assert np.all((kept == -1) | (kept == y))
    assert np.sum(hide_labels(y, fraction=0.1, seed=0) >= 0) == 10
    assert np.array_equal(hide_labels(y, fraction=1.0), y)
    assert np.array_equal(check_semi_labels([0, -1, 3], 4), [0, -1, 3])


# ----- saving, using, learning ------------------------------------------------------------
def test_save_load_round_trip(tmp_path, rng):
    model = SupervisedAutoencoder.deep([6, 5, 3], 3, alpha=2.5, noise=("masking", 0.2),
                                       consistency=1.5, seed=4, dtype=np.float32)
    X = rng.random((8, 6)).astype(np.float32)
    model.fit(X, np.array([0, 1, 2, -1, -1, 0, -1, 1]), epochs=2, batch_size=4)
    model.save(tmp_path / "m.npz")
    loaded = ta.load(tmp_path / "m.npz")
    assert isinstance(loaded, SupervisedAutoencoder) and not loaded.training
    assert loaded.config() == model.config()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    assert loaded.predict_proba(X).dtype == np.float32


def test_predictions_are_consistent(model, digits):
    X, y = digits
    model.fit(X[:300], y[:300], epochs=2, verbose=0)
    p = model.predict_proba(X[:50])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.array_equal(model.predict(X[:50]), p.argmax(axis=1))
    assert model.score(X[:50], y[:50]) == np.mean(p.argmax(axis=1) == y[:50])
    Z = model.encode(X[:50])
    assert Z.shape == (50, 4)
    np.testing.assert_allclose(model.decode(Z), model.reconstruct(X[:50]))


def test_semi_supervised_learning_on_digits(digits):
    """10 labels a class: the model learns to classify and to reconstruct."""
    X, y = digits
    X_train, X_test, y_train, y_test = ta.train_test_split(X, y, test_size=0.3, seed=0)
    y_few = hide_labels(y_train, per_class=10, seed=0)
    model = SupervisedAutoencoder.deep([64, 32, 8], 10, alpha=3.0, seed=0)
    error_before = model.reconstruction_error(X_test)
    history = model.fit(X_train, y_few, epochs=15, batch_size=32, labeled_share=0.5,
                        optimizer=ta.Adam(3e-3))
    assert model.score(X_test, y_test) > 0.75   # chance is 0.10
    assert model.reconstruction_error(X_test) < 0.5 * error_before
    assert history.terms["classification"][-1] < history.terms["classification"][0]
