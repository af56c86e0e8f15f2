"""PCA checked against facts (orthonormality, Eckart–Young, covariance eigenvalues)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyae.errors import DTypeError, NotFiniteError, NotFittedError, ShapeError
from tinyae.pca import PCA, pca_error


@st.composite
def data_and_k(draw):
    """A random (N, D) float64 array and a valid n_components K."""
    N = draw(st.integers(2, 25))
    D = draw(st.integers(1, 10))
    K = draw(st.integers(1, min(N, D)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-2, 1.0, 10.0]))
    # Uneven column scales give the components a clear order.
    X = rng.normal(size=(N, D)) * scale * rng.uniform(0.2, 3.0, size=D) + rng.normal(size=D)
    return X, K


def covariance_eigh(X):
    """Eigenvalues (descending) and eigenvectors of the sample covariance, computed without SVD."""
    lam, E = np.linalg.eigh(np.cov(X, rowvar=False).reshape(X.shape[1], X.shape[1]))
    return lam[::-1], E[:, ::-1]


@given(data_and_k())
def test_all_components_reconstruct_exactly(case):
    X, _ = case
    K = min(X.shape)
    pca = PCA(K).fit(X)
    np.testing.assert_allclose(pca.reconstruct(X), X, atol=1e-10 * (1 + np.abs(X).max()))


@given(data_and_k())
def test_components_are_orthonormal(case):
    X, K = case
    V = PCA(K).fit(X).components_
    assert V.shape == (K, X.shape[1])
    np.testing.assert_allclose(V @ V.T, np.eye(K), atol=1e-10)


@given(data_and_k())
def test_error_is_the_sum_of_discarded_covariance_eigenvalues(case):
    X, K = case
    N = len(X)
    lam, _ = covariance_eigh(X)
    expected = (N - 1) / N * lam[K:].clip(min=0).sum()
    error = PCA(K).fit(X).reconstruction_error(X)
    assert error == pytest.approx(expected, rel=1e-7, abs=1e-10 * (1 + lam[0]))


@given(data_and_k())
def test_explained_variance_is_the_top_covariance_eigenvalues(case):
    X, K = case
    lam, _ = covariance_eigh(X)
    pca = PCA(K).fit(X)
    np.testing.assert_allclose(pca.explained_variance_, lam[:K], rtol=1e-7,
                               atol=1e-10 * (1 + lam[0]))
    assert 0 <= pca.explained_variance_ratio_.sum() <= 1 + 1e-12


@given(data_and_k())
def test_error_never_increases_with_more_components(case):
    X, _ = case
    errors = [PCA(k).fit(X).reconstruction_error(X) for k in range(1, min(X.shape) + 1)]
    assert np.all(np.diff(errors) <= 1e-10 * (1 + errors[0]))


@given(data_and_k(), st.integers(0, 1000))
def test_eckart_young_beats_a_random_subspace(case, seed):
    X, K = case
    # Any other K-dimensional linear code (here a random orthonormal basis) does no better.
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(X.shape[1], K)))
    mean = X.mean(axis=0)
    X_hat = mean + (X - mean) @ Q @ Q.T
    random_error = ((X - X_hat) ** 2).sum(axis=1).mean()
    assert PCA(K).fit(X).reconstruction_error(X) <= random_error + 1e-10 * (1 + random_error)


def test_points_on_a_line_are_reconstructed_exactly_with_one_component():
    # y = 2x + 1: mean (1, 3), direction (1, 2)/√5, codes −√5, 0, √5.
    X = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]])
    pca = PCA(1).fit(X)
    np.testing.assert_allclose(pca.mean_, [1.0, 3.0])
    np.testing.assert_allclose(pca.components_, [[1 / np.sqrt(5), 2 / np.sqrt(5)]])
    np.testing.assert_allclose(pca.transform(X)[:, 0], [-np.sqrt(5), 0.0, np.sqrt(5)])
    assert pca.reconstruction_error(X) == pytest.approx(0.0, abs=1e-24)


def test_a_cross_keeps_its_long_arm():
    # Arms of half-length 2 (x) and 1 (y): K=1 keeps x and loses the y-coordinates,
    # squared error (0 + 0 + 1 + 1) / 4 = 0.5 per point.
    X = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    pca = PCA(1).fit(X)
    np.testing.assert_allclose(np.abs(pca.components_), [[1.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(pca.explained_variance_, [8 / 3])  # (4 + 4) / (N − 1)
    assert pca.reconstruction_error(X) == pytest.approx(0.5)


def test_pca_error_matches_a_projection_built_from_the_covariance(rng):
    X_train, X_test = rng.normal(size=(40, 6)) * [3, 2, 1, 1, 0.5, 0.1], rng.normal(size=(15, 6))
    K = 3
    _, E = covariance_eigh(X_train)
    mean = X_train.mean(axis=0)
    X_hat = mean + (X_test - mean) @ E[:, :K] @ E[:, :K].T
    expected = ((X_test - X_hat) ** 2).sum(axis=1).mean()
    assert pca_error(X_train, X_test, K) == pytest.approx(expected, rel=1e-9)


def test_shapes_and_float32_is_kept(rng):
    X = rng.random((20, 8)).astype(np.float32)
    pca = PCA(3).fit(X)
    Z = pca.transform(X)
    assert Z.shape == (20, 3) and pca.inverse_transform(Z).shape == (20, 8)
    assert pca.mean_.shape == (8,) and pca.singular_values_.shape == (3,)
    for a in (pca.mean_, pca.components_, pca.explained_variance_, Z, pca.reconstruct(X)):
        assert a.dtype == np.float32


def test_bad_input_is_refused_with_clear_errors(rng):
    X = rng.random((10, 4))
    with pytest.raises(TypeError, match="n_components must be an int"):
        PCA(2.5)
    with pytest.raises(ValueError, match="at least 1"):
        PCA(0)
    with pytest.raises(ShapeError, match=r"at most min\(N, D\) = 4"):
        PCA(5).fit(X)
    with pytest.raises(ShapeError, match="2-D"):
        PCA(1).fit(X[0])
    with pytest.raises(DTypeError, match="float"):
        PCA(1).fit(np.arange(12).reshape(3, 4))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NotFiniteError, match="NaN"):
        PCA(1).fit(bad)
    with pytest.raises(NotFittedError, match="fit"):
        PCA(1).transform(X)
    pca = PCA(2).fit(X)
    with pytest.raises(ShapeError, match="expected 4 input features, got 3"):
        pca.transform(X[:, :3])
    with pytest.raises(ShapeError, match="expected 2 input features, got 3"):
        pca.inverse_transform(X[:, :3])


@pytest.mark.parametrize("shape", [(500, 40), (30, 12), (9, 20)])
def test_fit_agrees_with_the_full_svd(shape, rng):
    # columns of very different scales: a spread-out spectrum, as in images
    X = rng.standard_normal(shape) @ np.diag(np.geomspace(10, 0.1, shape[1])) + 3.0
    K = min(shape) - 1
    pca = PCA(K).fit(X)
    _, S, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(pca.singular_values_, S[:K], rtol=1e-9, atol=1e-9 * S[0])
    # the same directions, up to each one's sign
    overlap = np.abs(np.sum(pca.components_ * Vt[:K], axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)
    np.testing.assert_allclose(pca.reconstruction_error(X), np.sum(S[K:] ** 2) / len(X),
                               rtol=1e-8, atol=1e-10 * S[0] ** 2)
