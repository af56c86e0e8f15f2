r"""New images from a trained autoencoder, for data augmentation.

Three ways to make an image the training set does not hold, all in code space:

* :func:`perturb_codes`: take a real image's code and move it a little, then decode.
  The new image keeps the real one's label.
* :func:`mix_codes`: decode a point on the segment between the codes of two real
  images *of the same class*; the label is that class.
* ``VariationalAutoencoder.sample(n)``: decode codes drawn from the prior
  $\mathcal{N}(0, I)$; these come with no label.

Whether such images help a classifier is an empirical question: they are only
as varied as the decoder can draw, and a blurry or ambiguous sample with a
confident label can hurt. Lesson 16 measures it.
"""

import numpy as np

from .._validate import check_array
from ..models.classifier import check_labels


def _labels(y, n, who):
    if y is None:
        return None
    y = np.asarray(y)
    return check_labels(y, int(y.max()) + 1 if y.size else 1, n, who)


def perturb_codes(model, X, y=None, copies=1, scale=0.5, seed=0):
    r"""Decode noisy copies of the codes of ``X``: ``copies`` new images per real image.

    With $c$ the ``scale``: for an :class:`~tinyae.models.autoencoder.Autoencoder` the code
    $z = \mathrm{encode}(x)$ gets $c\, s_k ε$ added to unit $k$, where $s_k$ is the standard
    deviation of unit $k$ over the codes of ``X`` and $ε \sim \mathcal{N}(0, 1)$. For a
    :class:`~tinyae.models.vae.VariationalAutoencoder` the noise follows the image's own
    posterior: $z = μ + c\, σ \odot ε$ (``scale=1`` draws from $q(z \mid x)$).

    Parameters
    ----------
    model : Autoencoder or VariationalAutoencoder
    X : ndarray (N, D)
    y : ndarray (N,) of int, optional
        Labels, repeated for the new images.
    copies : int
    scale : float >= 0
    seed : int or numpy.random.Generator

    Returns
    -------
    X_new : ndarray (copies·N, D), and ``y_new`` (copies·N,) when ``y`` is given.
    """
    X = check_array(X, "perturb_codes", ndim=2)
    y = _labels(y, len(X), "perturb_codes labels")
    if not scale >= 0:
        raise ValueError(f"scale must be >= 0, got {scale!r}")
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    if hasattr(model, "posterior"):
        mu, logvar = model.posterior(X)
        spread = np.exp(0.5 * logvar)                   # (N, K): each image's own σ
    else:
        mu = model.encode(X)
        spread = np.broadcast_to(mu.std(axis=0), mu.shape)  # (K,) over the data set
    Z = np.concatenate([mu + scale * spread * rng.standard_normal(mu.shape, dtype=mu.dtype)
                        for _ in range(int(copies))])
    X_new = model.decode(Z)
    return X_new if y is None else (X_new, np.tile(y, int(copies)))


def mix_codes(model, X, y, n, seed=0, t_range=(0.0, 1.0)):
    """``n`` images decoded from $(1 - t) z_a + t z_b$, with $a$, $b$ two images of one class.

    Each new image picks a real image at random (so a class comes up in
    proportion to its frequency in ``y``), a second image of the same class drawn
    independently (rarely the same one: then it is a reconstruction), and $t$
    uniform in ``t_range``; its label is that class.

    Returns
    -------
    X_new : ndarray (n, D), y_new : ndarray (n,) int64
    """
    X = check_array(X, "mix_codes", ndim=2)
    y = _labels(y, len(X), "mix_codes labels")
    rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
    Z = model.encode(X)
    idx = rng.integers(0, len(X), size=int(n))  # a random image fixes the class
    y_new = y[idx]
    partner = np.empty_like(idx)
    for c in np.unique(y_new):
        same = np.flatnonzero(y == c)
        mask = y_new == c
        partner[mask] = rng.choice(same, size=int(mask.sum()))
    t = rng.uniform(*t_range, size=(int(n), 1)).astype(Z.dtype)
    return model.decode((1 - t) * Z[idx] + t * Z[partner]), y_new
