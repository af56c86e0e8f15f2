"""``tinyae check``: check exercise files, print the reports, grade in a machine's format.

::

    tinyae check ex04_dense_backward.py                      # the report, for a person
    tinyae check ex*.py --format json                        # JSON on stdout (junit too)
    tinyae check ex*.py --gradescope --out results.json      # Gradescope's results.json
    tinyae check --train ex01_sigmoid_backward.py ex04_dense_backward.py

Exit codes: 0 all passed; 1 a gradient is wrong, not implemented, or crashed; 2 a
file could not be checked at all (missing, no exercise function, import error).
With a machine format on stdout, whatever the student's code prints goes to stderr,
so that stdout holds the JSON or XML alone.
"""

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from ..formats import FORMATS, CheckedFile, render
from .runner import check_exercise, load_functions
from .spec import ExerciseError


def _positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def add_check_arguments(parser):
    """The arguments of ``tinyae check``, on ``parser`` (the ``tinyae`` command's, or its own)."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="exercise file(s), e.g. "
                        "lessons/exercises/ex04_dense_backward.py")
    parser.add_argument("--function", default=None, help="check only this function")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case (default 0)")
    parser.add_argument("--format", choices=("text",) + FORMATS, default="text",
                        help="text (the report, default), json, junit (JUnit XML) or "
                        "gradescope (an autograder's results.json)")
    parser.add_argument("--gradescope", dest="format", action="store_const",
                        const="gradescope", help="the same as --format gradescope")
    parser.add_argument("--out", type=Path, default=None, metavar="PATH",
                        help="write the --format output to PATH (the report then goes to "
                        "stdout); with --train, the picture (default your_backward.png)")
    parser.add_argument("--train", action="store_true",
                        help="train the shallow autoencoder on the digits with your "
                        "sigmoid_backward (ex01) and dense_backward (ex04), beside tinyae's own")
    parser.add_argument("--epochs", type=_positive_int, default=20,
                        help="with --train: epochs (default 20)")
    return parser


DESCRIPTION = ("Check your gradient exercise against the reference and finite differences, "
               "and say what is wrong.")


def _write(path, text):
    """Write ``text`` to ``path`` atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _train(args):
    from ..train_student import train_with_student

    functions = {}
    for path in args.files:
        try:
            functions.update(load_functions(path))
        except ExerciseError as exc:
            print(f"tinyae check: error: {exc}", file=sys.stderr)
            return 2
    missing = [n for n in ("sigmoid_backward", "dense_backward") if n not in functions]
    if missing:
        print(f"tinyae check --train: error: {' and '.join(missing)} not found in "
              f"{', '.join(map(str, args.files))}; give the files of ex01 and ex04",
              file=sys.stderr)
        return 2
    out = args.out or Path("your_backward.png")
    try:
        run = train_with_student(functions["sigmoid_backward"], functions["dense_backward"],
                                 epochs=args.epochs, seed=args.seed, path=out)
    except ExerciseError as exc:
        print(f"tinyae check --train: {exc}", file=sys.stderr)
        return 1
    print(run)
    return 0


def main_check(argv=None):
    """``tinyae check FILE [FILE ...]``: print each report; 0 only when everything passes."""
    parser = add_check_arguments(argparse.ArgumentParser(prog="tinyae check",
                                                         description=DESCRIPTION))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return exc.code if isinstance(exc.code, int) else 2
    return run_check(args)


def run_check(args):
    """``tinyae check`` with its parsed arguments (see :func:`add_check_arguments`)."""
    if args.train:
        return _train(args)
    machine_on_stdout = args.format != "text" and args.out is None
    report_to = sys.stderr if machine_on_stdout else sys.stdout
    code, failed, checked = 0, [], []
    start = time.perf_counter()
    for path in args.files:
        try:
            with contextlib.redirect_stdout(report_to):   # a student's prints, too
                report = check_exercise(path, name=args.function, verbose=False,
                                        seed=args.seed)
        except ExerciseError as exc:
            print(f"tinyae check: error: {exc}", file=sys.stderr)
            code, failed = 2, failed + [path]
            checked.append(CheckedFile(str(path), error=str(exc)))
            continue
        checked.append(CheckedFile(str(path), report))
        print(report, end="\n\n" if len(args.files) > 1 else "\n", file=report_to)
        if not report.passed:
            code, failed = max(code, 1), failed + [path]
    if len(args.files) > 1:
        print(f"{len(args.files) - len(failed)} of {len(args.files)} files passed"
              + (f"; not passed: {', '.join(map(str, failed))}" if failed else ""),
              file=report_to)
    if args.format != "text":
        text = render(checked, args.format, time.perf_counter() - start)
        if args.out is None:
            print(text)
        else:
            _write(args.out, text)
    return code
