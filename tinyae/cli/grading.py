"""The exercises on the command line: ``tinyae check`` and ``tinyae exercises release|grade``.

``tinyae check FILE ...`` checks a student's exercise files (``--format json|junit``,
``--gradescope``, ``--train``: see :mod:`tinyae.teach.exercises.command`);
``tinyae exercises release DIR`` writes the students' handout
(:mod:`tinyae.teach.handout`); ``tinyae exercises grade SUBMISSIONS --out grades.csv``
grades a class, each file in its own subprocess (:mod:`tinyae.teach.classgrade`).
"""

import argparse
from pathlib import Path

from ..teach.exercises.command import DESCRIPTION, add_check_arguments, run_check
from .args import _positive_float, _positive_int


def _numbers(text):
    """``"1,4"`` or ``"ex01,ex04"`` -> ``[1, 4]``."""
    try:
        return [int(part.strip().removeprefix("ex")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected exercise numbers such as 1,4 or ex01,ex04, "
                                         f"got {text!r}") from None


def cmd_release(args):
    from ..teach.handout import release

    written = release(args.dir, source=args.source, only=args.only, overwrite=args.overwrite)
    print(f"wrote the handout to {args.dir}: {len(written) - 1} statement files and "
          "README.md (no solutions)")
    return 0


def cmd_grade(args):
    from ..teach.classgrade import grade_class

    rows = grade_class(args.submissions, args.out, only=args.only, timeout=args.timeout,
                       max_output=int(args.max_output * 1e6), jobs=args.jobs)
    print(f"wrote {args.out}: {len(rows)} rows")
    return 0


def register(sub):
    """Add ``check`` and ``exercises`` to the ``tinyae`` command's sub-parsers ``sub``."""
    c = sub.add_parser("check", help="grade a gradient exercise: tinyae check FILE.py",
                       description=DESCRIPTION + " Exit code 0 only when everything passes.")
    add_check_arguments(c)
    c.set_defaults(func=run_check)

    e = sub.add_parser("exercises", help="for instructors: hand out the exercises, grade a "
                       "class", description="For instructors: write the students' handout, "
                       "or grade a folder of submissions into a CSV.")
    what = e.add_subparsers(dest="action", metavar="ACTION", parser_class=type(e))
    what.required = True
    r = what.add_parser("release", help="write the handout: statements without solutions, "
                        "and a README with the check command")
    r.add_argument("dir", type=Path, metavar="DIR", help="the handout folder")
    r.add_argument("--only", type=_numbers, default=None, metavar="N,N",
                   help="hand out only these exercises, e.g. 1,4,7 (default: all)")
    r.add_argument("--from", dest="source", type=Path, default=None, metavar="FOLDER",
                   help="where the statements are (default: the repository's "
                   "lessons/exercises)")
    r.add_argument("--overwrite", action="store_true", help="replace files already in DIR")
    r.set_defaults(func=cmd_release)

    g = what.add_parser("grade", help="grade a folder of student folders into a CSV")
    g.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                   help="a folder holding one folder per student")
    g.add_argument("--out", type=Path, default=Path("grades.csv"),
                   help="the CSV to write (default grades.csv)")
    g.add_argument("--only", type=_numbers, default=None, metavar="N,N",
                   help="the exercises assigned, e.g. 1,4 (default: every exercise someone "
                   "handed in)")
    g.add_argument("--timeout", type=_positive_float, default=60.0, metavar="SECONDS",
                   help="time limit per file (default 60)")
    g.add_argument("--max-output", type=_positive_float, default=1.0, metavar="MB",
                   help="stop a file that prints more than this many megabytes (default 1)")
    g.add_argument("--jobs", type=_positive_int, default=1,
                   help="files checked at the same time (default 1)")
    g.set_defaults(func=cmd_grade)
