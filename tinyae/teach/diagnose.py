"""The checker's engine: run a student's function, compare, name the mistake, report.

Used by :mod:`tinyae.teach.exercises`, which holds the exercises themselves (the
reference answers, the inputs, the known mistakes) and the ``tinyae check``
command. For each case (a shape and a seed) :func:`check_function` calls the
student's function on copies of the inputs and compares every gradient it
returns with the reference and with finite differences. An exercise may also
ask for a forward pass (BatchNorm's, Dropout's): its outputs are not gradients
of anything, so they are compared with the reference only.

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

import inspect
import os
import textwrap
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from .gradcheck import THRESHOLD, find_row, numerical_gradient, relative_error

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


def _same(a, b):
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
        if not _same(value, expected) and _same(got, value):
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
    if _same(got, expected) and relative_error(got, expected) < THRESHOLD:
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


# ----- crashes ---------------------------------------------------------------------------
_HINTS = {
    NameError: "a name is not defined: a typo, or a missing import "
               "(import numpy as np; from tinyae.activations import sigmoid)",
    AttributeError: "an attribute does not exist: check the spelling (arrays have .T, .shape, "
                    ".sum(axis=...); NumPy has no np.sigmoid, use tinyae.activations.sigmoid)",
    IndexError: "an index is out of range: with batch size N = 1 an axis has length 1, so "
                "avoid hard-coded indices and loops over fixed sizes",
    ZeroDivisionError: "a division by zero: divide by an array size only when it is not 0",
    RecursionError: "the function calls itself without end",
    TypeError: "an operation got the wrong kind of value (e.g. None, a list, or a function "
               "that was not called)",
}


def crash_hint(exc, shapes=""):
    """One sentence of advice for an exception raised inside a student's function."""
    text = str(exc)
    if isinstance(exc, ValueError) and any(w in text for w in ("matmul", "broadcast", "align",
                                                               "shape")):
        hint = ("the shapes do not line up: write each array's shape next to the line; "
                "a @ b needs a.shape[-1] == b.shape[0], so transpose (.T) where the math "
                "has a transpose")
    else:
        hint = next((h for kind, h in _HINTS.items() if isinstance(exc, kind)),
                    "read the message and the line above")
    return hint + (f". The arguments were: {shapes}" if shapes else "")


def crash_location(exc, filename):
    """``"line 12: dW = x @ grad_out"``: the last frame of the traceback inside ``filename``."""
    target = os.path.realpath(filename) if filename else None
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if target and os.path.realpath(f.filename) == target]
    if not frames:
        return "not in your file (inside a function it called)"
    frame = frames[-1]
    return f"line {frame.lineno}" + (f": {frame.line.strip()}" if frame.line else "")


def explain_crash(exc, filename, shapes=""):
    """Exception type and message, the line in the student's file, and a hint; no traceback."""
    return (f"{type(exc).__name__}: {exc}\n"
            f"  at {crash_location(exc, filename)}\n"
            f"  hint: {crash_hint(exc, shapes)}")


# ----- the report -------------------------------------------------------------------------
@dataclass
class GradientRow:
    """The verdict on one returned gradient (``"dW"``), or forward output, over all cases.

    ``error`` and ``fd_error`` are the largest relative errors against the reference
    and against finite differences (``inf`` for a wrong shape; ``fd_error`` is NaN
    for a forward output, ``is_gradient=False``, which has no finite differences);
    ``case`` (numbered from 1), ``index``, ``expected`` and ``got`` locate the worst
    entry (``index`` is None when that case's shape is wrong: compare ``shape`` and
    ``got_shape``).
    """

    name: str
    passed: bool
    error: float
    fd_error: float
    case: int
    index: tuple
    expected: float
    got: float
    shape: tuple
    got_shape: tuple
    diagnosis: str = None
    is_gradient: bool = True


@dataclass
class FunctionResult:
    """The check of one function: ``status`` is ``"passed"``, ``"failed"``, ``"not
    implemented"``, ``"crashed"``, ``"wrong return"`` or ``"wrong signature"``."""

    function: str
    signature: str
    source: str
    forward: str = ""
    status: str = "passed"
    message: str = ""
    rows: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return self.status == "passed"

    def __str__(self):
        lines = [f"{self.signature}   [{self.source}]"]
        if self.forward:
            lines.append(textwrap.fill(self.forward, width=100, initial_indent="  forward: ",
                                       subsequent_indent="           "))
        if self.message:
            lines += ["  " + line for line in self.message.splitlines()]
            lines.append(f"  {self.status.upper()}")
            return "\n".join(lines)
        line = "  cases:"
        for i, case in enumerate(self.cases, 1):
            if len(line) + len(case) > 96:
                lines.append(line)
                line = "        "
            line += f"  {i}) {case}"
        lines.append(line)
        lines.append(f"  max relative error vs the reference (pass < {PASS_THRESHOLD:g}) and vs "
                     f"finite differences (pass < {FD_THRESHOLD:g})")
        forward = not all(r.is_gradient for r in self.rows)
        if forward:
            lines.append("  (a forward output is no gradient: it is compared with the "
                         "reference only)")
        width = max([9] + [len(r.name) for r in self.rows])
        head = (f"  {'output' if forward else 'gradient':<{width}} {'vs reference':>12} "
                f"{'vs finite diff':>14}  {'worst entry':<16} {'expected':>11} {'got':>11}  "
                "result")
        lines += [head, "  " + "-" * (len(head) - 2)]
        for r in self.rows:
            verdict = "ok" if r.passed else "FAIL"
            if r.index is None:
                lines.append(f"  {r.name:<{width}} {'wrong shape':>12} {'':>14}  "
                             f"{f'case {r.case}':<16} {str(r.shape):>11} "
                             f"{str(r.got_shape):>11}  {verdict}")
            else:
                fd = f"{r.fd_error:>14.2e}" if r.is_gradient else f"{'(forward)':>14}"
                lines.append(f"  {r.name:<{width}} {r.error:>12.2e} {fd}  "
                             f"{f'case {r.case}, {r.index}':<16} {r.expected:>11.5g} "
                             f"{r.got:>11.5g}  {verdict}")
            if r.diagnosis:
                lines.append(textwrap.fill(r.diagnosis, width=100, initial_indent="      why: ",
                                           subsequent_indent="           "))
        lines += [f"  note: {note}" for note in self.notes]
        wrong = sum(not r.passed for r in self.rows)
        n, what = len(self.rows), "output" if forward else "gradient"
        if self.passed:
            lines.append("  PASSED: " + (f"the {what} is right" if n == 1
                                         else f"all {n} {what}s are right"))
        else:
            lines.append(f"  FAILED: {wrong} of {n} {what}{'s' if n > 1 else ''} wrong")
        return "\n".join(lines)


@dataclass
class ExerciseReport:
    """Everything checked in one file (or one function): ``passed``, ``rows``, ``str()``."""

    source: str
    results: list

    @property
    def passed(self):
        return all(result.passed for result in self.results)

    @property
    def status(self):
        """``"passed"``, or the status of the first function that did not pass."""
        return next((r.status for r in self.results if not r.passed), "passed")

    @property
    def rows(self):
        return [row for result in self.results for row in result.rows]

    def __getitem__(self, name):
        return find_row(self.rows, name)

    def __str__(self):
        return "\n\n".join(str(result) for result in self.results)


# ----- checking one function --------------------------------------------------------------
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
    return _Case(f"{label}, seed {seed}", args, expected, tuple(numeric), ex.sizes(*args))


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

    def passed(self):
        """Right against the reference, and against finite differences (when it is a gradient)."""
        return self.error < PASS_THRESHOLD and (np.isnan(self.fd_error)
                                                or self.fd_error < FD_THRESHOLD)


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
                       worst.got.shape, diagnosis, is_gradient)


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
    result.status = "passed" if all(row.passed for row in result.rows) else "failed"
    return result
