"""Where the heavy arithmetic happens: one ``matmul`` used by every layer.

The modules learners read call ``backend.matmul(a, b, out=...)`` and never
care how it is computed. Today there is one backend, ``"numpy"``, which hands
the product to NumPy's BLAS; a faster backend plugs in here without touching
any layer.
"""

import os

import numpy as np

_BACKENDS = ("numpy",)
_current = "numpy"


def matmul(a, b, out=None):
    """Matrix product ``a @ b``, written into ``out`` when given.

    Parameters
    ----------
    a : ndarray, shape (m, k)
    b : ndarray, shape (k, n)
    out : ndarray, shape (m, n), optional
        Preallocated result (same dtype as ``a`` and ``b``); saves an allocation
        in the training step.
    """
    return np.matmul(a, b, out=out)


def set_backend(name):
    """Choose the backend used by every layer: one of ``available_backends()``."""
    global _current
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {list(_BACKENDS)}")
    _current = name


def get_backend():
    """Name of the backend in use."""
    return _current


def available_backends():
    """Names that :func:`set_backend` accepts."""
    return list(_BACKENDS)


if os.environ.get("TINYAE_BACKEND"):
    set_backend(os.environ["TINYAE_BACKEND"])
