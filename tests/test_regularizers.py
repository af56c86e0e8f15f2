"""Sparsity (KL, L1) and weight decay: values by hand, gradients term by term, in a model, saved."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.gradcheck import THRESHOLD, check_model, numerical_gradient, relative_error
from tinyae.regularizers import KLSparsity, L1Activity, WeightDecay

sizes = st.integers(1, 6)


def kl_by_hand(h, rho, beta):
    rho_hat = h.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    return beta * np.sum(kl)


def test_kl_value_by_hand():
    h = np.array([[0.1, 0.5], [0.3, 0.5]])  # ρ̂ = (0.2, 0.5)
    rho, beta = 0.2, 2.0
    expected = beta * (0 + rho * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.5))
    assert KLSparsity(rho, beta)(h) == pytest.approx(expected, rel=1e-12)
    assert KLSparsity(0.3, 5.0)(np.full((4, 3), 0.3)) == pytest.approx(0.0, abs=1e-15)


@given(N=sizes, K=sizes, seed=st.integers(0, 10**6), rho=st.floats(0.02, 0.5),
       beta=st.floats(0.1, 5.0))
def test_kl_gradient_matches_finite_differences(N, K, seed, rho, beta):
    h = np.random.default_rng(seed).uniform(0.05, 0.95, (N, K))
    penalty = KLSparsity(rho, beta)
    penalty.forward(h)
    analytic = penalty.backward()
    numeric = numerical_gradient(lambda v: KLSparsity(rho, beta).forward(v), h)
    assert analytic.shape == h.shape
    assert relative_error(analytic, numeric) < THRESHOLD
    assert penalty.forward(h) == pytest.approx(kl_by_hand(h, rho, beta), rel=1e-12)


@given(N=sizes, K=sizes, seed=st.integers(0, 10**6), lam=st.floats(1e-3, 1.0))
def test_l1_gradient_matches_finite_differences(N, K, seed, lam):
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 2.0, (N, K)) * rng.choice([-1, 1], (N, K))  # away from the kink
    penalty = L1Activity(lam)
    assert penalty.forward(h) == pytest.approx(lam * np.abs(h).sum() / N, rel=1e-12)
    numeric = numerical_gradient(lambda v: L1Activity(lam).forward(v), h)
    assert relative_error(penalty.backward(), numeric) < THRESHOLD


@given(shapes=st.lists(st.tuples(sizes, sizes), min_size=1, max_size=3),
       seed=st.integers(0, 10**6), lam=st.floats(1e-4, 1.0))
def test_weight_decay_gradient_matches_finite_differences(shapes, seed, lam):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s) for s in shapes]
    penalty = WeightDecay(lam)
    value = penalty.forward(weights)
    assert value == pytest.approx(0.5 * lam * sum((W**2).sum() for W in weights), rel=1e-12)
    for W, dW in zip(weights, penalty.backward()):
        numeric = numerical_gradient(lambda _: WeightDecay(lam).forward(weights), W)
        assert relative_error(dW, numeric) < THRESHOLD


@pytest.mark.parametrize("kwargs", [
    dict(sparsity=(0.1, 3.0)),               # term by term, as UFLDL checks them
    dict(weight_decay=0.1),
    dict(l1=0.05),
    dict(sparsity=(0.05, 2.0), l1=0.01, weight_decay=0.03),
])
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_sparse_model_gradients(kwargs, loss, rng):
    model = ta.Autoencoder.shallow(9, 4, hidden="sigmoid", seed=1, **kwargs)
    report = check_model(model, rng.random((5, 9)), loss)
    assert report.passed, str(report)
    assert report.max_error < THRESHOLD


@given(D=st.integers(2, 8), H=st.integers(1, 5), K=st.integers(1, 4), N=st.integers(1, 6),
       seed=st.integers(0, 10**6))
def test_deep_sparse_model_gradients_over_shapes(D, H, K, N, seed):
    model = ta.Autoencoder.deep([D, H, K], hidden="tanh", code="sigmoid", seed=seed,
                                sparsity=(0.1, 1.5), l1=0.02, weight_decay=0.05)
    X = np.random.default_rng(seed).random((N, D))
    assert check_model(model, X, "bce").max_error < THRESHOLD


def test_l1_on_a_linear_code(rng):
    model = ta.Autoencoder.deep([8, 5, 3], hidden="tanh", code="identity", seed=2, l1=0.1)
    assert check_model(model, rng.random((6, 8)), "mse").passed


class KLForgotBatchMean(KLSparsity):
    """A planted bug: the gradient forgets that ρ̂ is a mean (no 1/N)."""

    def backward(self):
        return super().backward() * self.cache[1]


def test_the_check_catches_a_planted_bug_in_the_penalty(rng):
    model = ta.Autoencoder.shallow(6, 3, hidden="sigmoid", seed=0)
    model.penalties = [KLForgotBatchMean(0.1, 3.0)]
    report = check_model(model, rng.random((4, 6)), "mse")
    assert not report.passed
    assert report["decoder.0.W"].passed  # the penalty acts on the code, upstream of the decoder


def test_penalty_value_is_added_and_reported(rng):
    X = rng.random((7, 6))
    plain = ta.Autoencoder.shallow(6, 3, hidden="sigmoid", seed=0)
    sparse = ta.Autoencoder.shallow(6, 3, hidden="sigmoid", seed=0, sparsity=(0.1, 2.0),
                                    weight_decay=0.01)
    L = plain.loss_and_backward(X, X, "mse", backward=False)
    J = sparse.loss_and_backward(X, X, "mse", backward=False)
    h = plain.encode(X)
    weights = [p for name, p, _ in plain.named_parameters() if name.endswith("W")]
    expected = L + kl_by_hand(h, 0.1, 2.0) + 0.005 * sum((W**2).sum() for W in weights)
    assert J == pytest.approx(expected, rel=1e-12)
    assert set(sparse.terms) == {"reconstruction", "KLSparsity", "WeightDecay"}
    assert sum(sparse.terms.values()) == pytest.approx(J)
    assert plain.terms is None
    # evaluate is the objective; reconstruction_error leaves the penalties out
    assert sparse.evaluate(X, "mse") == pytest.approx(J)
    assert sparse.reconstruction_error(X) == pytest.approx(L)


def test_kl_needs_a_sigmoid_code():
    with pytest.raises(ValueError, match="sigmoid code"):
        ta.Autoencoder.shallow(6, 3, hidden="relu", sparsity=(0.05, 3))
    with pytest.raises(ValueError, match="sigmoid code"):
        ta.Autoencoder.deep([6, 4, 2], sparsity=(0.05, 3))  # linear code by default
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        KLSparsity(0.05, 3)(np.array([[-1.0, 0.5], [-2.0, 0.5]]))


@pytest.mark.parametrize("bad,error", [
    (dict(rho=0.0), ValueError), (dict(rho=1.5), ValueError), (dict(beta=-1.0), ValueError),
    (dict(rho="0.1"), TypeError),
])
def test_bad_penalty_arguments(bad, error):
    with pytest.raises(error):
        KLSparsity(**bad)


def test_bad_sparsity_shortcut():
    with pytest.raises(ValueError, match="pair"):
        ta.Autoencoder.shallow(6, 3, hidden="sigmoid", sparsity=0.05)
    with pytest.raises(ValueError, match=">= 0"):
        WeightDecay(-1e-3)


def test_penalties_are_saved_and_loaded(tmp_path, rng):
    X = rng.random((5, 6))
    model = ta.Autoencoder.shallow(6, 3, hidden="sigmoid", seed=3, sparsity=(0.05, 3.0),
                                   l1=1e-3, weight_decay=1e-4)
    model.save(tmp_path / "m.npz")
    loaded = ta.load(tmp_path / "m.npz")
    assert [repr(p) for p in loaded.penalties] == [repr(p) for p in model.penalties]
    assert loaded.evaluate(X) == model.evaluate(X)


def test_sparse_model_mean_activation_is_near_rho():
    X, _ = ta.load_digits()
    X_train, X_test = ta.train_test_split(X, seed=0)
    rho = 0.05
    model = ta.Autoencoder.shallow(64, 36, hidden="sigmoid", seed=0, sparsity=(rho, 3.0))
    history = model.fit(X_train, "bce", optimizer=ta.Adam(3e-3), epochs=60, batch_size=32,
                        verbose=0)
    dense = ta.Autoencoder.shallow(64, 36, hidden="sigmoid", seed=0)
    dense.fit(X_train, "bce", optimizer=ta.Adam(3e-3), epochs=60, batch_size=32, verbose=0)
    mean = model.encode(X_test).mean()
    assert abs(mean - rho) < 0.4 * rho, mean
    assert dense.encode(X_test).mean() > 5 * rho
    assert history.terms["KLSparsity"][-1] < history.terms["KLSparsity"][0]


def test_two_penalties_of_one_kind_both_count(rng):
    X = rng.random((4, 6))
    one = ta.Autoencoder.shallow(6, 3, seed=0, l1=0.2)
    two = ta.Autoencoder(one.encoder, one.decoder, [L1Activity(0.1), L1Activity(0.1)])
    assert two.loss_and_backward(X, X, "mse") == pytest.approx(
        one.loss_and_backward(X, X, "mse"), rel=1e-12)
    assert len(two.terms) == 3
