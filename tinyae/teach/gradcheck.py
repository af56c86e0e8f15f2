r"""Gradient checking: compare a hand-written backward pass with finite differences.

The centred difference $\big(f(x + h) - f(x - h)\big)/2h$ has error $O(h^2)$ from
truncation plus $O(ε|f|/h)$ from rounding ($ε$ the machine epsilon), so ``h = 1e-5`` in
float64 ($ε \approx 10^{-16}$) leaves about $10^{-10}$ of each: a correct backward agrees
to ~1e-9. A wrong one (a flipped sign, a missing $1/N$) is off by order 1. The
threshold :data:`THRESHOLD` = 1e-7 separates the two with room on both sides.

Errors are relative to the scale of the whole gradient (the largest entry of
any parameter's gradient), as in the norm-wise check of the UFLDL tutorial: a
parameter whose gradient is tiny everywhere is not failed for rounding noise
of $ε|f|/h$, while any entry wrong by a visible fraction is caught. Each
report row shows the largest error within one parameter and where it is.

Kinks: ReLU is not differentiable at 0. If a perturbation of $\pm h$ pushes a
pre-activation across 0, the centred difference averages two slopes and
disagrees with the (correct) one-sided derivative. On a smooth stretch the
one-sided slopes $\big(f(x+h) - f(x)\big)/h$ and $\big(f(x) - f(x-h)\big)/h$ agree to
$O(h f'')$; across a kink they differ by the jump in slope, which does not
shrink with ``h``. An entry is listed in the report as a *kink crossed* and
left out of the error when its miss is no larger than that jump, or when the
jump itself is far too large for a smooth stretch (more than
:data:`KINK_JUMP` of the gradient's scale). The second case is the point that
sits exactly on a kink: with every hidden ReLU dead and zero biases, a
pre-activation is exactly 0, the backward pass uses the convention
$\mathrm{relu}'(0) = 0$, and the two one-sided slopes can both differ from it. A
wrong gradient on a smooth stretch misses by far more than $h f''$ while its
slopes agree, so it is never excused. The threshold itself is never loosened.
"""

import warnings

import numpy as np

from ..nn.module import as_rng
from .gradcheck_report import GradCheckReport, GradCheckRow, find_row

__all__ = ["THRESHOLD", "THRESHOLD_FLOAT32", "KINK_JUMP", "GradcheckPrecisionWarning",
           "GradCheckReport", "GradCheckRow", "check_loss", "check_model", "check_module",
           "find_row", "module_dtype", "numerical_gradient", "relative_error"]

THRESHOLD = 1e-7
KINK_JUMP = 1e-2  # a slope jump this large (relative to the scale) is no smooth stretch
THRESHOLD_FLOAT32 = 1e-2


class GradcheckPrecisionWarning(UserWarning):
    """Gradient checking in float32 cannot reach the float64 threshold."""


#: The step of the finite differences (``numerical_gradient``'s default, the checker's).
FD_STEP = 1e-5


def numerical_gradient(f, x, h=FD_STEP):
    r"""Centred finite-difference gradient of the scalar function ``f`` at ``x``.

    Entry $i$ of the result, with $e_i$ the $i$-th unit vector:

    $$\frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}$$

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; it may also ignore its argument and read ``x``
        through a closure (e.g. a layer's weight matrix).
    x : ndarray
        Perturbed **in place**, one entry at a time, and restored exactly
        (the saved value is written back, not ``x + h − h``).
    h : float
        Step size.

    Returns
    -------
    ndarray, same shape as ``x``.
    """
    grad, _ = _numerical_gradient(f, x, h)
    return grad


def _numerical_gradient(f, x, h, entries=None):
    """Centred differences, plus the right and left one-sided slopes (to spot kinks)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    right, left = np.zeros_like(grad), np.zeros_like(grad)
    f0 = f(x)
    for idx in (entries if entries is not None else np.ndindex(x.shape)):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
        right[idx], left[idx] = (f_plus - f0) / h, (f0 - f_minus) / h
    return grad, (right, left)


def fd_noise(loss, h=FD_STEP):
    r"""How far a centred difference can be off from rounding alone, as an absolute number.

    Each loss value carries a rounding error of about $\epsilon |L|$ ($\epsilon$ the float64
    machine epsilon), so $(L(x + h) - L(x - h)) / 2h$ can be off by about $\epsilon |L| / h$
    whatever the true slope. A slope far smaller than that (the tanh of a large input:
    $\tanh'(-8.8) \approx 10^{-7}$) is measured with a large *relative* error by the
    differences, while the student's answer is right; a miss below this bound (with a
    safety factor of 10) is not counted against the answer. The comparison with the
    reference, which has no such noise, still has to pass.
    """
    return 10 * np.finfo(np.float64).eps * max(abs(float(loss)), 1.0) / h


def relative_error(a, b):
    r"""$\max|a - b| / \max(\max|a|, \max|b|)$: the error relative to the arrays' scale.

    0 when both arrays are zero. Works for scalars and arrays of any shape.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    if scale == 0:
        return 0.0
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


def _compare(name, analytic, numeric, slopes, scale, threshold):
    """One report row: the error of ``analytic`` against ``numeric``, relative to ``scale``."""
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        return GradCheckRow(name, numeric.shape, np.inf, (), np.nan, np.nan, False)
    miss = np.abs(analytic - numeric)
    right, left = slopes
    # Excuse an entry only when ±h crossed a kink (see the module docstring): the
    # one-sided slopes differ by at least as much as the analytic value misses, or
    # by far more than a smooth stretch allows (the point sits on the kink).
    jump = np.abs(right - left)
    kinks = (miss > threshold * scale) & ((jump >= miss) | (jump > KINK_JUMP * scale))
    miss = np.where(kinks, -1.0, miss)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(miss), miss.shape))
    err = float(max(miss[worst], 0.0) / scale) if scale > 0 else 0.0
    return GradCheckRow(name, analytic.shape, err, worst, float(analytic[worst]),
                        float(numeric[worst]), bool(err < threshold),
                        [tuple(int(i) for i in idx) for idx in np.argwhere(kinks)])


def _settings(dtype, h):
    if np.dtype(dtype) == np.float32:
        warnings.warn("gradient checking in float32: rounding error is ~1e-7 relative, so "
                      f"the check uses h=1e-3 and threshold {THRESHOLD_FLOAT32:g}; "
                      "build the model with dtype=np.float64 for a real check",
                      GradcheckPrecisionWarning, stacklevel=3)
        return (1e-3 if h is None else h), THRESHOLD_FLOAT32
    return (1e-5 if h is None else h), THRESHOLD


def _entries(shape, n_entries, rng):
    """All indices, or ``n_entries`` of them drawn at random (for big arrays)."""
    total = int(np.prod(shape))
    if n_entries is None or n_entries >= total:
        return None
    flat = rng.choice(total, size=n_entries, replace=False)
    return [np.unravel_index(i, shape) for i in np.sort(flat)]


class _NoiseHeld:
    """Within ``with _NoiseHeld(module):`` every random module reuses its last draw."""

    def __init__(self, module):
        self.random = [m for m in module.modules() if hasattr(m, "hold_noise")]

    def __enter__(self):
        self.saved = [m.hold_noise for m in self.random]
        for m in self.random:
            m.hold_noise = True

    def __exit__(self, *exc):
        for m, held in zip(self.random, self.saved):
            m.hold_noise = held


def _check_arrays(what, f, arrays, analytic, h, threshold, n_entries, rng):
    """Compare ``analytic[name]`` with the numerical gradient of ``f`` w.r.t. ``arrays[name]``.

    Every row's error is measured against one scale, the largest gradient entry
    in the whole check: together the rows give the relative error of the full
    gradient vector, split by parameter so a learner sees where it goes wrong.
    """
    results = {}
    for name, array in arrays.items():
        entries = _entries(array.shape, n_entries, rng)
        numeric, slopes = _numerical_gradient(f, array, h, entries)
        a = np.asarray(analytic[name], dtype=np.float64)
        if entries is not None and a.shape == array.shape:
            sampled = np.zeros(array.shape, dtype=bool)
            sampled[tuple(np.array(entries).T)] = True
            a = np.where(sampled, a, 0.0)
        results[name] = (a, numeric, slopes)
    scale = max(max(np.max(np.abs(n), initial=0.0), np.max(np.abs(a), initial=0.0)
                    if a.shape == n.shape else 0.0) for a, n, _ in results.values())
    rows = [_compare(name, a, n, slopes, scale, threshold)
            for name, (a, n, slopes) in results.items()]
    return GradCheckReport(what, threshold, rows)


def check_module(module, x, h=None, seed=0, n_entries=None):
    r"""Check ``module.backward`` against finite differences at input ``x``.

    The scalar checked is $f = \sum y \odot R$, $y$ = ``module.forward(x)``, for a fixed
    random $R$ (so $\partial f/\partial y = R$): this tests every output's gradient at once.

    Parameters
    ----------
    module : Module
    x : ndarray, the module's input shape (copied, never modified)
    h : float, optional
        Step (default 1e-5 in float64, 1e-3 in float32).
    seed : int
        Seeds ``R`` and the entries sampled when ``n_entries`` is set.
    n_entries : int, optional
        Check only this many random entries of each array (large layers).

    Returns
    -------
    GradCheckReport with a row ``"input"`` and one per parameter.
    """
    x = np.array(x, dtype=module_dtype(module, x))
    h, threshold = _settings(x.dtype, h)
    rng = as_rng(seed)
    with _NoiseHeld(module):  # random modules draw once, then hold that draw
        y = module.forward(x)
    R = rng.standard_normal(y.shape).astype(x.dtype)
    grad_in = module.backward(R.copy())
    analytic = {"input": np.array(grad_in)}
    analytic.update({name: np.array(g) for name, _, g in module.named_parameters()})

    def f(_):
        return float(np.sum(module.forward(x).astype(np.float64) * R))

    arrays = {"input": x, **{name: p for name, p, _ in module.named_parameters()}}
    with _NoiseHeld(module):
        return _check_arrays(repr(module), f, arrays, analytic, h, threshold, n_entries, rng)


def check_loss(loss, y_pred, y_true, h=None):
    r"""Check ``loss.backward()`` ($\partial L/\partial \hat y$) against finite differences."""
    y_pred = np.array(y_pred, dtype=np.result_type(y_pred, np.float32))
    y_true = np.array(y_true, dtype=y_pred.dtype)
    h, threshold = _settings(y_pred.dtype, h)
    loss.forward(y_pred, y_true)
    analytic = {"y_pred": np.array(loss.backward())}
    return _check_arrays(repr(loss), lambda _: loss.forward(y_pred, y_true),
                         {"y_pred": y_pred}, analytic, h, threshold, None, None)


def check_model(model, X, loss, h=None, seed=0, n_entries=None):
    """Check every parameter gradient of ``model`` for ``loss(model(X), X)``.

    Uses ``model.loss_and_backward``, the same function training uses, so the
    fused sigmoid + cross-entropy path is what gets checked.

    Returns
    -------
    GradCheckReport with one row per parameter (``"encoder.0.W"``, ...).
    """
    X = model.check_input(X).copy()
    target = X.copy()
    h, threshold = _settings(X.dtype, h)
    with _NoiseHeld(model):  # random modules draw once, then hold that draw
        model.loss_and_backward(X, target, loss)
    analytic = {name: np.array(g) for name, _, g in model.named_parameters()}
    params = {name: p for name, p, _ in model.named_parameters()}

    def f(_):
        return model.loss_and_backward(X, target, loss, backward=False)

    with _NoiseHeld(model):
        return _check_arrays(type(model).__name__, f, params, analytic, h, threshold,
                             n_entries, as_rng(seed))


def module_dtype(module, x):
    """The dtype a module computes in: that of its parameters, else that of ``x``."""
    for _, p, _ in module.named_parameters():
        return p.dtype
    return np.result_type(np.asarray(x).dtype, np.float32)
