"""The variational autoencoder: the KL term, the gradients with the noise held fixed, training."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.errors import ShapeError
from tinyae.gradcheck import THRESHOLD, check_model, check_module, numerical_gradient
from tinyae.gradcheck import relative_error as rel
from tinyae.vae import GaussianKL, VariationalAutoencoder


def test_kl_value_by_hand():
    kl = GaussianKL()
    assert kl.forward(np.zeros((3, 2)), np.zeros((3, 2))) == 0.0  # q is the prior
    mu, logvar = np.array([[1.0, 0.0]]), np.array([[0.0, np.log(2.0)]])
    # ½(1 + 1 − 1 − 0) + ½(0 + 2 − 1 − log 2)
    assert kl.forward(mu, logvar) == pytest.approx(0.5 + 0.5 * (1 - np.log(2.0)), rel=1e-12)


@given(N=st.integers(1, 6), K=st.integers(1, 5), seed=st.integers(0, 10**6))
def test_kl_gradient_matches_finite_differences(N, K, seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=(N, K)), rng.normal(size=(N, K))
    kl = GaussianKL()
    kl.forward(mu, logvar)
    dmu, dlogvar = kl.backward()
    assert rel(dmu, numerical_gradient(lambda m: GaussianKL().forward(m, logvar), mu)) < THRESHOLD
    assert rel(dlogvar, numerical_gradient(lambda v: GaussianKL().forward(mu, v), logvar)) \
        < THRESHOLD


@given(D=st.integers(2, 8), H=st.integers(1, 6), K=st.integers(1, 4), N=st.integers(1, 5),
       seed=st.integers(0, 10**6), loss=st.sampled_from(["bce", "mse"]),
       beta=st.floats(0.1, 4.0))
def test_vae_gradients_with_fixed_noise(D, H, K, N, seed, loss, beta):
    rng = np.random.default_rng(seed)
    model = VariationalAutoencoder.deep([D, H, K], hidden="tanh", beta=beta, seed=seed)
    model.fixed_eps = rng.standard_normal((N, K))
    report = check_model(model, rng.random((N, D)), loss)
    assert report.max_error < THRESHOLD, str(report)
    names = {row.name for row in report.rows}
    assert {"encoder.0.W", "mu.W", "logvar.W", "decoder.0.W", "decoder.2.b"} <= names


@pytest.mark.parametrize("sizes", [[7, 3], [7, 5, 4, 2]])
def test_vae_gradients_without_hidden_layer_and_deeper(sizes, rng):
    model = VariationalAutoencoder.deep(sizes, hidden="sigmoid", seed=0)
    model.fixed_eps = rng.standard_normal((4, sizes[-1]))
    assert check_model(model, rng.random((4, 7)), "bce").passed


def test_forward_backward_pass_the_module_check(rng):
    """``backward`` alone (reconstruction only, through z = μ + σε) is right too, input included."""
    model = VariationalAutoencoder.deep([6, 5, 2], hidden="tanh", seed=0)
    model.fixed_eps = rng.standard_normal((3, 2))
    report = check_module(model, rng.random((3, 6)))
    assert report.passed and report["input"].max_rel_error < THRESHOLD


class ForgotHalf(VariationalAutoencoder):
    """A planted bug: dz/d log σ² taken as ε σ instead of ε σ / 2."""

    def _backward_code(self, dz, dmu_extra=0.0, dlogvar_extra=0.0):
        _, _, eps, sigma = self.cache
        return super()._backward_code(dz, dmu_extra, dlogvar_extra + dz * eps * sigma * 0.5)


def test_the_check_catches_a_planted_bug(rng):
    good = VariationalAutoencoder.deep([6, 4, 2], seed=0)
    bad = ForgotHalf(good.encoder, good.mu, good.logvar, good.decoder)
    bad.fixed_eps = rng.standard_normal((5, 2))
    report = check_model(bad, rng.random((5, 6)), "bce")
    assert not report.passed
    assert report["mu.W"].passed and not report["logvar.W"].passed


def test_fixed_eps_must_fit_the_batch(rng):
    model = VariationalAutoencoder.deep([6, 4, 2], seed=0)
    model.fixed_eps = np.zeros((3, 2))
    with pytest.raises(ShapeError, match="fixed_eps"):
        model.loss_and_backward(rng.random((4, 6)), rng.random((4, 6)), "bce")


def test_same_seed_same_bits_and_evaluate_is_reproducible():
    X, _ = ta.load_digits()
    models = [VariationalAutoencoder.deep([64, 16, 2], seed=s) for s in (5, 5, 6)]
    for m in models:
        m.fit(X[:200], epochs=2, batch_size=50, verbose=0)
    a, b, c = ([p.copy() for p, _ in m.parameters()] for m in models)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    state = models[0].rng.bit_generator.state
    assert models[0].evaluate(X[:50]) == models[0].evaluate(X[:50])
    assert models[0].rng.bit_generator.state == state  # eval noise leaves training noise alone


def test_elbo_improves_and_samples_are_images():
    X, _ = ta.load_digits()
    X_train, X_test = ta.train_test_split(X, seed=0)
    model = VariationalAutoencoder.deep([64, 32, 2], seed=0)
    elbo_before = model.elbo(X_test)
    history = model.fit(X_train, epochs=15, batch_size=32, optimizer=ta.Adam(3e-3),
                        validation_data=X_test, verbose=0)
    assert history.train_loss[-1] < history.train_loss[0]
    assert model.elbo(X_test) > elbo_before + 5
    parts = history.terms["reconstruction"][-1] + history.terms["kl"][-1]
    assert parts == pytest.approx(history.train_loss[-1], rel=1e-9)
    samples = model.sample(12, seed=3)
    assert samples.shape == (12, 64) and samples.min() >= 0 and samples.max() <= 1
    assert np.array_equal(samples, model.sample(12, seed=3))
    path = model.interpolate(X_test[0], X_test[1], steps=5)
    assert path.shape == (5, 64)
    np.testing.assert_allclose(path[[0, -1]], model.reconstruct(X_test[:2]), atol=1e-12)


def test_encode_is_the_posterior_mean(rng):
    model = VariationalAutoencoder.deep([6, 4, 3], seed=0)
    X = rng.random((5, 6))
    mu, logvar = model.posterior(X)
    np.testing.assert_array_equal(model.encode(X), mu)
    assert logvar.shape == (5, 3) and model.decode(mu).shape == (5, 6)


def test_save_and_load(tmp_path, rng):
    model = VariationalAutoencoder.deep([6, 4, 2], beta=0.5, seed=7, dtype=np.float32)
    X = rng.random((5, 6)).astype(np.float32)
    model.save(tmp_path / "vae.npz")
    loaded = ta.load(tmp_path / "vae.npz")
    assert isinstance(loaded, VariationalAutoencoder)
    assert loaded.beta == 0.5 and loaded.seed == 7 and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded.encode(X), model.encode(X))
    assert loaded.evaluate(X) == model.evaluate(X)


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive number"):
        VariationalAutoencoder.deep([6, 2]).sample(0)
    with pytest.raises(TypeError, match="seed"):
        VariationalAutoencoder.deep([6, 2], seed=np.random.default_rng(0))
    with pytest.raises(ValueError, match="beta"):
        VariationalAutoencoder.deep([6, 2], beta=0)
    with pytest.raises(ShapeError, match="2 input features"):
        VariationalAutoencoder.deep([6, 2]).decode(np.zeros((1, 3)))
