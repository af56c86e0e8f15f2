"""Naming a mistake: how a wrong gradient differs from the right one.

The generic half of the diagnoses; each exercise's own mistakes sit beside its spec
in :mod:`tinyae.teach.exercises`, and :mod:`tinyae.teach.checker` runs a student's
function and hands every wrong gradient to :func:`recognise` and :func:`diagnose`.

A wrong gradient ``got`` is compared with *candidate mistakes*: arrays computed
the way a common mistake computes them. If ``got`` equals one of them (relative
error below :data:`MATCH_TOLERANCE`, far below any honest mistake's distance) in
every failing case, that mistake is named. Two kinds of candidates:

* generic ones, built here from the expected gradient alone: ``−expected``
  (flipped sign); ``c·expected`` for ``c`` in {N, 1/N, D, 1/D, 2, 1/2}, with or
  without a flipped sign (a missing or extra factor); ``expectedᵀ``
  (transposed); the same numbers with an axis of length 1 added or dropped
  (wrong shape);
* exercise-specific ones, computed from the inputs by the exercise's registry
  entry and passed in ``context["candidates"]`` (for example ``grad_out·σ(z)``,
  the activation's value where its derivative belongs). A mistake with no one
  definite answer (a dropout mask drawn from a random generator of the
  student's own) is passed as a *test* instead of an array: a function
  ``got -> bool`` that recognises every answer the mistake can give.

Each candidate has a short *label* (``"flipped sign"``), the name a test or a
student searches for, and an *explanation* that says how to fix it. A crash is
reported as its exception, the line of the student's file, and a hint; never
as a traceback.
"""

import numpy as np

from .gradcheck import THRESHOLD, relative_error

#: A gradient passes when its relative error to the reference is below
#: PASS_THRESHOLD (a correct answer is ~1e-15 away: rounding only) and its error to
#: finite differences below FD_THRESHOLD (~1e-10 to 1e-8 away: the differences'
#: own truncation and rounding). A wrong answer is off by order 1 against both.
PASS_THRESHOLD = THRESHOLD
FD_THRESHOLD = 1e-6

#: ``got`` "is" a candidate when their relative error is below this.
MATCH_TOLERANCE = 1e-6

UNRECOGNISED = "not a mistake tinyae recognises; compare the numbers:"


def scale_candidates(expected, N=None, D=None):
    """The generic candidates ``c·expected``: ``[(label, explanation, array), ...]``.

    ``N`` is the batch size and ``D`` the number of features, where the exercise
    has them; factors equal to 1 (e.g. ``N = 1``) are left out, since they are no mistake.
    """
    factors = [(-1.0, "flipped sign",
                "every entry has the opposite sign: check the order in a difference such "
                "as (ŷ − y), or a minus sign lost in the chain rule")]
    if N is not None and N > 1:
        factors += [
            (N, "forgot to divide by the batch size N",
             f"every entry is N = {N} times too large: the loss averages over the batch, "
             "so its gradient carries one factor 1/N"),
            (1 / N, "divided by the batch size N once too often",
             f"every entry is N = {N} times too small: the loss's 1/N belongs in the gradient "
             "once; a layer's backward sums over the batch and adds no 1/N of its own"),
        ]
    if D is not None and D > 1:
        factors += [
            (D, "multiplied by the number of features D",
             f"every entry is D = {D} times too large"),
            (1 / D, "divided by the number of features D as well",
             f"every entry is D = {D} times too small: tinyae's losses sum over the features "
             "and average over the batch only (np.mean over all entries divides by N·D)"),
        ]
    factors += [
        (2.0, "off by a factor of 2 (too large)", "every entry is twice the expected value"),
        (0.5, "off by a factor of 2 (too small)",
         "every entry is half the expected value: differentiating a square brings a factor 2"),
    ]
    out = []
    for c, label, explanation in factors:
        out.append((label, explanation, c * expected))
        if c != -1.0:
            out.append((f"flipped sign, and {label}",
                        f"every entry has the opposite sign, and {explanation}", -c * expected))
    return out


def shape_candidates(expected):
    """The generic candidates of the wrong shape: transposed, an axis of length 1 added or lost."""
    out = []
    if expected.ndim == 2:
        out.append(("transposed",
                    f"expected shape {expected.shape}, got its transpose {expected.T.shape}: "
                    "a gradient has the shape of what it differentiates; in the row "
                    "convention y = x @ W, dW = xᵀ @ grad_out and dx = grad_out @ Wᵀ",
                    expected.T))
    extra, dropped = expected.reshape((1,) + expected.shape), expected.squeeze()
    out.append(("wrong shape",
                f"expected shape {expected.shape}, got {extra.shape}: the right numbers with an "
                "extra axis of length 1; sum without keepdims=True (or reshape)", extra))
    if dropped.shape != expected.shape:
        out.append(("wrong shape",
                    f"expected shape {expected.shape}, got {dropped.shape}: the right numbers "
                    "with an axis of length 1 dropped; np.squeeze or indexing [0] loses the "
                    "batch axis when N = 1", dropped))
    return out


def matches(a, b):
    """``a`` equals ``b``: the same shape, and relative error below :data:`MATCH_TOLERANCE`."""
    with np.errstate(all="ignore"):  # inf or NaN in a student's array: no match, no warning
        return a.shape == b.shape and relative_error(a, b) < MATCH_TOLERANCE


def recognise(got, expected, context=None):
    """Every named mistake ``got`` matches: a list of ``(label, explanation)``, best first.

    Parameters
    ----------
    got, expected : ndarray
        What the student's function returned, and the right answer.
    context : dict, optional
        ``"candidates"``: exercise-specific ``[(label, explanation, array), ...]``,
        tried first (in place of the array, a test ``got -> bool``); ``"N"``,
        ``"D"``: batch size and number of features, for the scale factors.
        Candidates equal to ``expected`` (or whose test accepts ``expected``) are
        skipped: on these inputs that mistake makes no difference.
    """
    context = context or {}
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    candidates = (list(context.get("candidates", ()))
                  + shape_candidates(expected)
                  + scale_candidates(expected, context.get("N"), context.get("D")))
    found = {}
    for label, explanation, value in candidates:
        if label in found:
            continue
        if callable(value):  # a test, for a mistake with many possible answers
            if not value(expected) and value(got):
                found[label] = explanation
            continue
        value = np.asarray(value, dtype=np.float64)
        if not matches(value, expected) and matches(got, value):
            found[label] = explanation
    return list(found.items())


def describe_shape(got, expected):
    """``"wrong shape: expected shape (3, 5), got (5, 3)"``, with a hint for common cases."""
    text = f"wrong shape: expected shape {expected.shape}, got {got.shape}"
    if got.ndim == 0:
        text += " (a single number: a sum over every axis, where one axis was meant?)"
    elif got.size != expected.size:
        text += " (a sum over the wrong axis, or a product of the wrong arrays?)"
    return text


def worst_entry(got, expected):
    """Index of the largest ``|got − expected|`` (NaN counts as largest)."""
    diff = np.abs(got - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)
    return tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))


def diagnose(got, expected, context=None):
    """Say how ``got`` is wrong, or return None when it matches ``expected``.

    Returns ``"label: explanation"`` for a recognised mistake (several joined by
    ``"; or "``), ``"wrong shape: ..."`` for an unrecognised shape, and for
    anything else :data:`UNRECOGNISED` followed by the worst entry.

    Examples
    --------
    >>> e = np.array([[1.0, -2.0], [0.5, 3.0]])
    >>> diagnose(-e, e).split(":")[0]
    'flipped sign'
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if matches(got, expected) and relative_error(got, expected) < THRESHOLD:
        return None
    if not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0]) if got.ndim else ()
        return (f"not finite: got {got[bad]} at index {bad} (a log of 0, a division by "
                "zero, or an overflowing exp?)")
    found = recognise(got, expected, context)
    if found:
        return "; or ".join(f"{label}: {explanation}" for label, explanation in found)
    if got.shape != expected.shape:
        return describe_shape(got, expected)
    index = worst_entry(got, expected)
    return (f"{UNRECOGNISED} the worst entry, index {index}, should be "
            f"{expected[index]:.6g} but is {got[index]:.6g}")
