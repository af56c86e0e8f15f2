"""The gradient checker's report: one row per gradient, and the table a learner reads.

Built by :mod:`tinyae.teach.gradcheck` (``check_module``, ``check_model``, ``check_loss``);
``report["encoder.0.W"]`` finds a row by name, ``str(report)`` is the table.
"""

from dataclasses import dataclass, field


@dataclass
class GradCheckRow:
    """The comparison for one gradient: a parameter such as ``"encoder.0.W"`` or ``"input"``."""

    name: str
    shape: tuple
    max_rel_error: float
    worst_index: tuple
    analytic: float
    numeric: float
    passed: bool
    kinks: list = field(default_factory=list)


def find_row(rows, name):
    """The row called ``name`` (e.g. ``"encoder.0.W"``), or a KeyError listing the names."""
    for row in rows:
        if row.name == name:
            return row
    raise KeyError(f"no gradient named {name!r}; have {[r.name for r in rows]}")


@dataclass
class GradCheckReport:
    """All rows of a gradient check; ``passed`` is True when every row passed."""

    what: str
    threshold: float
    rows: list

    @property
    def passed(self):
        return all(row.passed for row in self.rows)

    @property
    def max_error(self):
        return max((row.max_rel_error for row in self.rows), default=0.0)

    def __getitem__(self, name):
        return find_row(self.rows, name)

    def __str__(self):
        head = f"{'gradient':<16} {'shape':<12} {'max rel err':>11}  {'worst entry':<12} " \
               f"{'analytic':>13} {'numeric':>13}  result"
        lines = [f"Gradient check of {self.what} (pass: max rel err < {self.threshold:g})",
                 head, "-" * len(head)]
        for r in self.rows:
            verdict = "ok" if r.passed else "FAIL"
            if r.kinks:
                verdict += f" ({len(r.kinks)} kink(s) crossed, left out)"
            lines.append(f"{r.name:<16} {str(r.shape):<12} {r.max_rel_error:>11.2e}  "
                         f"{str(r.worst_index):<12} {r.analytic:>13.6g} {r.numeric:>13.6g}  "
                         f"{verdict}")
        lines.append(f"{'PASSED' if self.passed else 'FAILED'}: largest error "
                     f"{self.max_error:.2e}")
        return "\n".join(lines)
