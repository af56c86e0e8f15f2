"""Checks at the public boundary, so bad input fails early with a message that teaches.

Each helper raises a :mod:`tinyae.errors` exception naming what was expected
and what was given, instead of letting a wrong shape fail deep inside a matmul.
"""

from contextlib import contextmanager

import numpy as np

from .errors import DTypeError, NotFiniteError, ShapeError

FLOAT_DTYPES = (np.float32, np.float64)

_trusted = False  # True while fit runs batches it has already checked (see trusted_inputs)


@contextmanager
def trusted_inputs(trust=True):
    """Inside this block, :func:`check_array` passes an array of the right dtype unchecked.

    ``fit`` checks the data set once at its boundary and runs its first batch with
    every check on (a layer of the wrong size still fails with a clear message);
    the batches after it run inside this block. The checks would find nothing new
    there, yet each costs a pass over the batch (the NaN test) and some Python,
    per layer, per batch. A NaN made by training is still caught: ``fit`` tests the
    loss and the gradients before every step.
    """
    global _trusted
    before, _trusted = _trusted, bool(trust)
    try:
        yield
    finally:
        _trusted = before


def as_float_dtype(dtype):
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise DTypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise DTypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def check_array(x, who, *, ndim=None, n_features=None, dtype=None):
    """Validate ``x`` for ``who`` and return it as an array of ``dtype``.

    Parameters
    ----------
    x : array_like
        What the caller passed.
    who : str
        Name used in messages, e.g. ``"Dense(64 -> 16)"``.
    ndim : int, optional
        Required number of dimensions.
    n_features : int, optional
        Required size of the last axis.
    dtype : numpy dtype, optional
        Float dtype to convert to (float to float only: integers are refused,
        because integer pixels 0..255 fed to a network are almost always a mistake).
    """
    if _trusted and isinstance(x, np.ndarray) and (dtype is None or x.dtype == dtype):
        return x
    if not isinstance(x, np.ndarray):
        if isinstance(x, (list, tuple)):
            x = np.asarray(x)
        else:
            raise DTypeError(f"{who} expected a NumPy array, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{who} expected a float array (float32 or float64), got dtype {x.dtype}; "
            "convert integer images with X.astype(np.float64) / X.max()"
        )
    if ndim is not None and x.ndim != ndim:
        hint = " (a single sample? use x.reshape(1, -1))" if x.ndim == 1 and ndim == 2 else ""
        raise ShapeError(
            f"{who} expected a {ndim}-D array of shape (batch, features), "
            f"got shape {x.shape}{hint}"
        )
    if n_features is not None and x.shape[-1] != n_features:
        raise ShapeError(f"{who} expected {n_features} input features, got {x.shape[-1]}")
    if x.size == 0:
        raise ShapeError(f"{who} expected a non-empty array, got shape {x.shape}")
    check_finite(x, who)
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return x


def check_finite(x, who):
    """Raise NotFiniteError if ``x`` holds NaN or inf.

    The sum is one cheap pass with no temporary array; only when it is not
    finite do we pay for ``np.isfinite`` to tell a real NaN from an overflow.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = x.sum()
    if not np.isfinite(total):
        bad = ~np.isfinite(x)
        if bad.any():
            n_nan = int(np.isnan(x).sum())
            n_inf = int(bad.sum()) - n_nan
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise NotFiniteError(
                f"{who} expected finite numbers, got {n_nan} NaN and {n_inf} inf "
                f"values (first at index {first})"
            )


def check_labels(y, n_classes, n_samples=None, who="labels", unlabeled=None):
    """``y`` as a 1-D int64 array of class indices in ``[0, n_classes)``, or a clear error.

    ``unlabeled`` (e.g. ``-1``) is a value also accepted, marking a row whose class is
    unknown (semi-supervised training). A range error names the classes found and
    the classes expected.
    """
    y = np.asarray(y)
    also = "" if unlabeled is None else f" (or {unlabeled} for an unlabeled row)"
    if y.dtype.kind not in "iu":
        hint = ""
        if y.dtype.kind == "f" and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            hint = "; convert with y.astype(int)"
        raise DTypeError(f"{who} must be integer class indices 0..{n_classes - 1}{also}, got "
                         f"dtype {y.dtype}{hint}")
    if y.ndim != 1:
        raise ShapeError(f"{who} must be a 1-D array of class indices, got shape {y.shape}")
    if n_samples is not None and len(y) != n_samples:
        raise ShapeError(f"{who}: expected {n_samples} labels (one per row of X), got {len(y)}")
    y = y.astype(np.int64)
    known = y if unlabeled is None else y[y != unlabeled]
    if known.size and (known.min() < 0 or known.max() >= n_classes):
        found = np.unique(known)
        shown = ", ".join(map(str, found[:12])) + (", ..." if len(found) > 12 else "")
        raise ValueError(f"{who}: expected classes 0..{n_classes - 1} ({n_classes} classes"
                         f"{'' if unlabeled is None else f'; {unlabeled} marks an unlabeled row'}"
                         f"), found classes {shown}")
    return y
