"""Labels for semi-supervised training: ``-1`` marks a row whose class is unknown."""

import numpy as np

from .._validate import check_labels

#: The label of a row whose class is unknown.
UNLABELED = -1


def check_semi_labels(y, n_classes, n_samples=None, who="labels"):
    """``y`` as int64 class indices in ``0..C−1`` or ``-1`` (unlabeled), or a clear error.

    The error names the classes found and the classes expected.
    """
    return check_labels(y, n_classes, n_samples, who, unlabeled=UNLABELED)


def hide_labels(y, fraction=None, per_class=None, seed=0):
    """A copy of labels ``y`` with all but some rows set to ``-1`` (unlabeled).

    Give either ``fraction`` in (0, 1] (that share of the rows keeps its label,
    at least one) or ``per_class`` (that many rows of each class keep theirs).
    The rows kept are drawn with a Generator seeded by ``seed``.
    """
    y = check_semi_labels(y, np.iinfo(np.int64).max, who="hide_labels labels")
    if (fraction is None) == (per_class is None):
        raise ValueError("hide_labels needs exactly one of fraction= or per_class=")
    rng = np.random.default_rng(seed)
    labeled = np.flatnonzero(y != UNLABELED)
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)) \
                or not 0 < fraction <= 1:
            raise ValueError(f"the labeled fraction must lie in (0, 1], got {fraction!r}")
        keep = rng.choice(labeled, max(1, int(round(fraction * len(labeled)))), replace=False)
    else:
        if isinstance(per_class, bool) or not isinstance(per_class, (int, np.integer)) \
                or per_class < 1:
            raise ValueError(f"per_class must be a positive integer, got {per_class!r}")
        keep = []
        for c in np.unique(y[labeled]):
            rows = labeled[y[labeled] == c]
            if len(rows) < per_class:
                raise ValueError(f"class {c} has only {len(rows)} labeled rows, fewer than "
                                 f"per_class={per_class}")
            keep.append(rng.choice(rows, per_class, replace=False))
        keep = np.concatenate(keep)
    out = np.full_like(y, UNLABELED)
    out[keep] = y[keep]
    return out
