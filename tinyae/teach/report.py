"""The exercise checker's report: a row per gradient, a result per function, the table.

:class:`GradientRow` is the verdict on one returned gradient (or forward output) over
every case; :class:`FunctionResult` the check of one function; :class:`ExerciseReport`
everything checked in one file. ``str()`` of each is what ``tinyae check`` prints.
"""

import textwrap
from dataclasses import dataclass, field

from .diagnose import FD_THRESHOLD, PASS_THRESHOLD
from .gradcheck import find_row


@dataclass
class GradientRow:
    """The verdict on one returned gradient (``"dW"``), or forward output, over all cases.

    ``error`` and ``fd_error`` are the largest relative errors against the reference
    and against finite differences (``inf`` for a wrong shape; ``fd_error`` is NaN
    for a forward output, ``is_gradient=False``, which has no finite differences);
    ``case`` (numbered from 1), ``index``, ``expected`` and ``got`` locate the worst
    entry (``index`` is None when that case's shape is wrong: compare ``shape`` and
    ``got_shape``); ``failing_cases`` lists every case (from 1) it failed in.
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
    failing_cases: tuple = ()


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
    seconds: float = 0.0

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
