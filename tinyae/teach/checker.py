"""The checker's engine: run a student's function on every case, compare, name the mistake.

For each case (a shape and a seed) :func:`check_function` calls the student's
function on copies of the inputs and compares every gradient it returns with the
exercise's reference and with finite differences. An exercise may also ask for a
forward pass (BatchNorm's, Dropout's): its outputs are not gradients of anything, so
they are compared with the reference only. A wrong answer is named by
:mod:`tinyae.teach.diagnose`; a crash is explained by :mod:`tinyae.teach.crash`.
"""

import inspect
import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from .crash import explain_crash
from .diagnose import (
    FD_THRESHOLD,
    PASS_THRESHOLD,
    UNRECOGNISED,
    describe_shape,
    diagnose,
    matches,
    recognise,
    worst_entry,
)
from .gradcheck import fd_noise, numerical_gradient, relative_error
from .report import FunctionResult, GradientRow


class _Stop(Exception):
    """The function cannot be compared: not implemented, crashed, or returned the wrong thing."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class _Case:
    label: str
    args: tuple
    expected: tuple
    numeric: tuple  # finite-difference gradients; None for a forward output
    sizes: dict
    fd_noise: float = 0.0  # rounding error the finite differences themselves may carry


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _make_case(ex, shape, seed):
    """Draw the inputs; compute the reference and the finite-difference gradients."""
    args = ex.make_inputs(shape, np.random.default_rng(seed))
    expected = tuple(np.asarray(e, dtype=np.float64) for e in _as_tuple(ex.reference(*args)))
    numeric = []
    for name in ex.wrt:
        if name is None:  # a forward output: nothing to differentiate
            numeric.append(None)
            continue
        work = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        numeric.append(numerical_gradient(lambda _, w=work: ex.loss(*w), work[ex.args.index(name)]))
    label = ", ".join(f"{n}={s}" for n, s in zip(ex.shape_names, shape, strict=True))
    noise = fd_noise(ex.loss(*args)) if any(n is not None for n in ex.wrt) else 0.0
    return _Case(f"{label}, seed {seed}", args, expected, tuple(numeric), ex.sizes(*args),
                 noise)


def _describe_args(ex, args):
    return ", ".join(f"{n} of shape {a.shape}" if isinstance(a, np.ndarray)
                     else f"{n} = {a}" if isinstance(a, bool) else f"{n} = {a:.3g}"
                     for n, a in zip(ex.args, args, strict=True))


def _unpack(ex, out):
    """The returned gradients as a tuple of float64 arrays, or a _Stop saying what is wrong."""
    n, names = len(ex.outputs), ", ".join(ex.outputs)
    want = ex.outputs[0] if n == 1 else f"a tuple of {n} arrays ({names}) in that order"
    if out is None:
        raise _Stop("wrong return", f"{ex.function} returned None: a missing return "
                    f"statement? It should return {want}")
    if n == 1 and isinstance(out, tuple):
        raise _Stop("wrong return", f"{ex.function} returned a tuple of {len(out)} values; "
                    f"it should return one array, {names}")
    if n > 1 and not isinstance(out, (tuple, list)):
        raise _Stop("wrong return", f"{ex.function} returned a single {type(out).__name__}; "
                    f"it should return {want}")
    if n > 1 and len(out) != n:
        raise _Stop("wrong return", f"{ex.function} returned {len(out)} values; it should "
                    f"return {want}")
    arrays = []
    for name, value in zip(ex.outputs, _as_tuple(out) if n > 1 else (out,), strict=True):
        ok = isinstance(value, (np.ndarray, np.generic, int, float))
        if not ok or np.asarray(value).dtype.kind not in "fiub":
            kind = type(value).__name__ if not ok else f"array of dtype {value.dtype}"
            raise _Stop("wrong return", f"{ex.function} returned {name} as a {kind}; it should "
                        "be a NumPy array of floats" + (" (wrap it: np.array(...))"
                                                       if isinstance(value, list) else ""))
        arrays.append(np.asarray(value, dtype=np.float64))
    return tuple(arrays)


def _call(ex, fn, case, source, filename):
    """Run the student's function on copies of the case's inputs; return (gradients, notes)."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in case.args]
    try:
        with np.errstate(all="ignore"):
            out = fn(*copies)
    except NotImplementedError:
        raise _Stop("not implemented", f"not implemented yet: {ex.function} in {source}\n"
                    "replace `raise NotImplementedError` with your code, then check again") \
            from None
    except Exception as exc:
        raise _Stop("crashed", f"{ex.function} crashed on {case.label}\n"
                    + explain_crash(exc, filename, _describe_args(ex, case.args))) from None
    notes = [f"{ex.function} changed its argument {name} in place; a backward pass must leave "
             f"its inputs alone (write g = {name} * ..., not {name} *= ...)"
             if all(ex.wrt) else
             f"{ex.function} changed its argument {name} in place; return new arrays and leave "
             f"the inputs alone (write new = {name} * ..., not {name} *= ...)"
             for name, a, c in zip(ex.args, case.args, copies, strict=True)
             if isinstance(a, np.ndarray) and not np.array_equal(a, c)]
    return _unpack(ex, out), notes


def _candidates(ex, args, k):
    """The exercise's mistakes for output ``k``: ``[(label, explanation, array), ...]``."""
    out = []
    for m in ex.mistakes:
        if m.output is not None and m.output != ex.outputs[k]:
            continue
        try:  # quietly: a mistake may divide by N − 1 = 0 where the right answer does not
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                value = m.compute(*args)
        except Exception:  # e.g. "W instead of W.T" only runs on square shapes
            continue
        out.append((m.label, m.explanation, value if m.output else _as_tuple(value)[k]))
    return out


@dataclass
class _Comparison:
    case: int
    got: np.ndarray
    expected: np.ndarray
    error: float
    fd_error: float
    index: tuple
    found: dict
    fd_within_noise: bool = False  # misses the differences by less than their rounding noise

    def passed(self):
        """Right against the reference, and against finite differences (when it is a gradient)."""
        return self.error < PASS_THRESHOLD and (np.isnan(self.fd_error)
                                                or self.fd_error < FD_THRESHOLD
                                                or self.fd_within_noise)


def _compare(ex, k, i, case, got):
    expected, numeric = case.expected[k], case.numeric[k]
    if got.shape != expected.shape:
        error = fd_error = np.inf
        index = None
    else:
        with np.errstate(all="ignore"):  # inf or NaN in got: the error is inf, no warning
            error = relative_error(got, expected)
            fd_error = np.nan if numeric is None else relative_error(got, numeric)
        error = np.inf if np.isnan(error) else error
        if numeric is not None and np.isnan(fd_error):
            fd_error = np.inf
        index = worst_entry(got, expected)
    comparison = _Comparison(i, got, expected, error, fd_error, index, {})
    if numeric is not None and np.isfinite(fd_error):
        comparison.fd_within_noise = bool(np.max(np.abs(got - numeric), initial=0.0)
                                          <= case.fd_noise)
    if not comparison.passed():
        context = {**case.sizes, "candidates": _candidates(ex, case.args, k)}
        comparison.found = dict(recognise(got, expected, context))
    return comparison


def _named_mistakes(failing):
    """The diagnosis from the mistakes recognised in the failing cases, or None.

    A mistake is named when it explains every failing case. Failing that, when every
    case is explained by some mistake (one in train mode, another in eval mode), each is
    named with its cases. A case whose answer is not finite (a division by N − 1 = 0)
    cannot match a mistake: the finite cases are named, and that case is added.
    """
    finite = [c for c in failing if np.all(np.isfinite(c.got))]
    if not finite:
        return None
    common = [label for label in finite[0].found if all(label in c.found for c in finite)]
    if common:
        text = "; or ".join(f"{label}: {finite[0].found[label]}" for label in common)
    elif all(c.found for c in finite):
        groups = {}
        for c in finite:
            label = next(iter(c.found))
            groups.setdefault(label, (c.found[label], []))[1].append(str(c.case))
        text = "; and ".join(f"{label} (case{'s' if len(cases) > 1 else ''} "
                             f"{', '.join(cases)}): {why}"
                             for label, (why, cases) in groups.items())
    else:
        return None
    bad = next((c for c in failing if not np.all(np.isfinite(c.got))), None)
    if bad is not None:
        text += f"; and in case {bad.case}, " + diagnose(bad.got, bad.expected)
    return text


def _summarise(name, comparisons, labels, is_gradient=True):
    """One row from the comparisons of every case; the diagnosis must fit every failing case."""
    failing = [c for c in comparisons if not c.passed()]
    worst = max(failing or comparisons, key=lambda c: (c.error, np.nan_to_num(c.fd_error)))
    expected = got = np.nan
    if worst.index is not None:
        expected, got = worst.expected[worst.index], worst.got[worst.index]
    diagnosis = _named_mistakes(failing) if failing else None
    if failing and diagnosis is None:
        if worst.index is None:
            diagnosis = describe_shape(worst.got, worst.expected)
        elif not np.all(np.isfinite(worst.got)):
            diagnosis = diagnose(worst.got, worst.expected)
        else:
            diagnosis = (f"{UNRECOGNISED} in case {worst.case} ({labels[worst.case - 1]}), "
                         f"entry {worst.index} should be {expected:.6g} but is {got:.6g}")
    return GradientRow(name, not failing, float(worst.error), float(worst.fd_error), worst.case,
                       worst.index, float(expected), float(got), worst.expected.shape,
                       worst.got.shape, diagnosis, is_gradient,
                       tuple(c.case for c in failing))


def _wrong_order(ex, comparisons):
    """``{output: diagnosis}`` for the outputs returned in another one's place, else ``{}``.

    Position ``p`` of the returned tuple holds output ``order[p]`` when, in every case,
    it matches that output's right answer; the positions returned in their own place
    are not looked at (they may hold another mistake).
    """
    names, n = ex.outputs, len(ex.outputs)
    for order in itertools.permutations(range(n)):
        moved = [p for p in range(n) if order[p] != p]
        if moved and all(matches(got.got, want.expected)
                         for p in moved
                         for got, want in zip(comparisons[names[p]], comparisons[names[order[p]]],
                                              strict=True)):
            returned = ", ".join(names[q] for q in order)
            why = (f"returned in the wrong order: you returned ({returned}); the exercise asks "
                   f"for ({', '.join(names)}), in that order (the checker finds each gradient "
                   "by its place in the tuple)")
            return {names[p]: why for p in moved}
    return {}


def check_function(ex, fn, source="<function>", shapes=None, seed=0):
    """Check ``fn`` as the answer to exercise ``ex`` on every case; a :class:`FunctionResult`."""
    result = FunctionResult(ex.function, ex.signature, source, ex.forward)
    if not callable(fn):
        result.status = "wrong signature"
        result.message = f"{ex.function} in {source} is a {type(fn).__name__}, not a function"
        return result
    filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
    try:
        inspect.signature(fn).bind(*ex.args)
    except TypeError:
        result.status = "wrong signature"
        result.message = (f"{ex.function} should take {len(ex.args)} arguments "
                          f"({', '.join(ex.args)}); yours is "
                          f"{getattr(fn, '__name__', 'the function')}{inspect.signature(fn)}")
        return result
    except ValueError:  # no signature to inspect (a builtin): just call it
        pass
    cases = [_make_case(ex, shape, seed + i) for i, shape in enumerate(shapes or ex.shapes)]
    result.cases = [case.label for case in cases]
    comparisons = {name: [] for name in ex.outputs}
    for i, case in enumerate(cases, 1):
        try:
            got, notes = _call(ex, fn, case, source, filename)
        except _Stop as stop:
            result.status, result.message = stop.status, stop.message
            return result
        result.notes += [note for note in notes if note not in result.notes]
        for k, name in enumerate(ex.outputs):
            comparisons[name].append(_compare(ex, k, i, case, got[k]))
    result.rows = [_summarise(name, comparisons[name], result.cases, wrt is not None)
                   for name, wrt in zip(ex.outputs, ex.wrt, strict=True)]
    swapped = _wrong_order(ex, comparisons)   # the right arrays in another order: say so
    for row in result.rows:
        row.diagnosis = swapped.get(row.name, row.diagnosis)
    result.status = "passed" if all(row.passed for row in result.rows) else "failed"
    return result
