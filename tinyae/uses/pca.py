r"""PCA: the linear baseline every autoencoder is compared with.

Centre the data by its mean $μ$ and take the thin SVD $X - μ = U S V^\top$.
The first $K$ rows of $V^\top$ ($V_K$, shape (K, D)) are the principal
directions. In tinyae's row convention (one sample per row), the codes, (N, D) -> (N, K),
and the reconstruction, (N, K) -> (N, D), are

$$Z = (X - μ) V_K^\top, \qquad \hat X = μ + Z V_K$$

By the Eckart–Young theorem (Eckart & Young, 1936), $\hat X$ is the best rank-$K$
reconstruction of the centred data in squared error: no linear encoder and
decoder with a $K$-unit code can do better. A linear autoencoder trained with
squared error learns the same subspace (Baldi & Hornik, 1989), so an
autoencoder is worth its nonlinearities only when it beats this error.

The error left over is the energy of the discarded directions:

$$\sum_n \lVert x_n - \hat x_n \rVert^2 = \sum_{k > K} s_k^2$$

How it is computed: $V$ and $S$ need not come from the SVD of the (N, D) data itself.
$(X - μ)^\top (X - μ) = V S^2 V^\top$, so the eigenvectors of that (D, D) scatter
matrix are $V$ and its eigenvalues are $s_k^2$. :meth:`PCA.fit` builds the scatter
matrix a few thousand rows at a time (in float64) and takes its eigendecomposition:
for MNIST (60,000 × 784) that is a 784 × 784 problem, with no centred copy of the
data and no $U$ (the full SVD of $X - μ$ held both, 1.5 GB for MNIST).
``tests/test_pca.py`` checks it against ``np.linalg.svd``.
"""

import numpy as np

from .._validate import check_array
from ..errors import NotFittedError, ShapeError

_CHUNK = 4096  # rows centred at a time while the scatter matrix is built


class PCA:
    r"""Principal component analysis, from the eigendecomposition of the (D, D) scatter matrix.

    Parameters
    ----------
    n_components : int
        Size $K$ of the code, between 1 and ``min(N, D)`` of the data given to ``fit``.

    Attributes (after ``fit``)
    --------------------------
    mean_ : ndarray, shape (D,)
        Training mean $μ$.
    components_ : ndarray, shape (K, D)
        $V_K$: orthonormal rows, the directions of largest variance first.
    singular_values_ : ndarray, shape (K,)
        $s_1 \ge \dots \ge s_K$ of the centred training data.
    explained_variance_ : ndarray, shape (K,)
        $s_k^2/(N - 1)$: the variance along each component, i.e. the largest
        eigenvalues of the sample covariance ``np.cov(X, rowvar=False)``.
    explained_variance_ratio_ : ndarray, shape (K,)
        The fraction of the total variance each component keeps.

    Every array has the dtype of the training data (float32 stays float32).
    """

    def __init__(self, n_components):
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
            raise TypeError(f"n_components must be an int, got {n_components!r}")
        if n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}")
        self.n_components = int(n_components)
        self.mean_ = None

    def fit(self, X):
        """Learn $μ$ and $V_K$ from ``X`` of shape (N, D); returns ``self``.

        Raises
        ------
        DTypeError, ShapeError, NotFiniteError
            ``X`` is not a finite 2-D float array, or ``K > min(N, D)``.
        """
        X = check_array(X, "PCA.fit", ndim=2)
        N, D = X.shape
        K = self.n_components
        if K > min(N, D):
            raise ShapeError(
                f"PCA.fit: n_components={K} must be at most min(N, D) = {min(N, D)} "
                f"for X of shape {X.shape}"
            )
        mean = X.mean(axis=0, dtype=np.float64)
        scatter = np.zeros((D, D))                 # Σ_n (x_n − μ)ᵀ(x_n − μ), float64
        for start in range(0, N, _CHUNK):
            centred = X[start:start + _CHUNK] - mean
            scatter += centred.T @ centred
        eigenvalues, V = np.linalg.eigh(scatter)   # ascending; scatter = V·diag(s²)·Vᵀ
        S = np.sqrt(np.maximum(eigenvalues[::-1], 0))[:min(N, D)]
        Vt = V[:, ::-1].T[:min(N, D)]
        # The sign of a singular vector is arbitrary; make each row's largest entry
        # positive so the same data always give the same components.
        signs = np.sign(Vt[np.arange(len(Vt)), np.abs(Vt).argmax(axis=1)])
        Vt *= np.where(signs == 0, 1, signs)[:, None]
        variance = S**2 / max(N - 1, 1)
        total = variance.sum()
        ratio = variance / total if total > 0 else np.zeros_like(variance)
        self.mean_ = mean.astype(X.dtype)
        self.components_ = Vt[:K].astype(X.dtype)
        self.singular_values_ = S[:K].astype(X.dtype)
        self.explained_variance_ = variance[:K].astype(X.dtype)
        self.explained_variance_ratio_ = ratio[:K].astype(X.dtype)
        return self

    def _check_fitted(self, who):
        if self.mean_ is None:
            raise NotFittedError(f"{who}: this PCA is not fitted yet; call fit(X_train) first")

    def transform(self, X):
        r"""Codes $Z = (X - μ) V_K^\top$: (N, D) -> (N, K)."""
        self._check_fitted("PCA.transform")
        X = check_array(X, "PCA.transform", ndim=2, n_features=len(self.mean_))
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z):
        r"""Reconstructions $\hat X = μ + Z V_K$: (N, K) -> (N, D)."""
        self._check_fitted("PCA.inverse_transform")
        Z = check_array(Z, "PCA.inverse_transform", ndim=2, n_features=self.n_components)
        return self.mean_ + Z @ self.components_

    def reconstruct(self, X):
        r"""Projection on the subspace: $\hat X = μ + (X - μ) V_K^\top V_K$, (N, D) -> (N, D)."""
        return self.inverse_transform(self.transform(X))

    def reconstruction_error(self, X):
        r"""Squared error per sample: $\frac{1}{N} \sum_n \sum_d (x_{nd} - \hat x_{nd})^2$, a float.

        On the training data this equals $\frac{1}{N} \sum_{k > K} s_k^2$, which is
        $(N - 1)/N$ times the sum of the discarded covariance eigenvalues.
        """
        X = check_array(X, "PCA.reconstruction_error", ndim=2)
        total = 0.0
        for start in range(0, len(X), _CHUNK):     # a few thousand rows at a time: no
            x = X[start:start + _CHUNK]            # (N, D) temporaries for a big data set
            residual = x - self.reconstruct(x)
            total += float(np.einsum("nd,nd->", residual, residual))
        return total / len(X)

    def __repr__(self):
        fitted = f", D={len(self.mean_)}" if self.mean_ is not None else ", not fitted"
        return f"PCA(n_components={self.n_components}{fitted})"


def pca_error(X_train, X_test, n_components):
    """Fit a PCA on ``X_train`` and return its squared error per sample on ``X_test``.

    The number to beat: an autoencoder with a ``n_components``-unit code should
    reach a lower ``model.evaluate(X_test, "mse")`` than this (same convention:
    squared error summed over features, averaged over samples).
    """
    return PCA(n_components).fit(X_train).reconstruction_error(X_test)
