"""``tinyae exercises grade SUBMISSIONS --out grades.csv``: a whole class, one CSV.

``SUBMISSIONS`` holds one folder per student (any name: spaces and accents are
fine), each with the student's exercise files (``ex04_dense_backward.py``, found
at any depth by their ``exNN`` prefix). Every file is checked in a subprocess of
its own, ``python -m tinyae.teach.exercises FILE --format json``, with a time limit
and a cap on what it may print: the grader never imports a student's code, so a
file that raises, loops forever, prints megabytes or does not import gets its own
row, and the class run goes on. It is a grader, not a sandbox: run it on code you
would run yourself (in a container for strangers' code).

The CSV has one row per student and function: ``student, file, exercise, points,
max_points, status, diagnosis``; a student folder with no exercise file gets one row
saying so. The exercises graded are those given with ``only`` (numbers), or else every
exercise that some student handed in; one not handed in scores zero ("not submitted").
"""

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .exercises.spec import EXERCISES, ExerciseError

COLUMNS = ("student", "file", "exercise", "points", "max_points", "status", "diagnosis")
#: The tinyae being run: the child processes import this one, not another installed copy.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FileOutcome:
    """What checking one file in a subprocess gave: its JSON items, or why there are none."""

    items: list = None
    problem: str = None
    status: str = None


def exercise_files(folder):
    """``{"ex04": path}``: the student's exercise files, by number (the first of each, sorted)."""
    found = {}
    for path in sorted(Path(folder).rglob("ex[0-9][0-9]*.py")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p == "__pycache__" for p in parts) or not path.is_file():
            continue
        found.setdefault(path.name[:4], path)
    return found


def _kill(proc):
    """Stop the check and, on POSIX, every process the student's code started too."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
            return
    except (ProcessLookupError, PermissionError):
        pass
    proc.kill()


def check_in_subprocess(path, timeout=60.0, max_output=1_000_000):
    """Check one file in its own Python process; a :class:`FileOutcome`."""
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="tinyae-grade-") as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                   [str(_PACKAGE_ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tinyae.teach.exercises", str(path), "--format", "json",
             "--out", str(out)], cwd=path.parent, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=hasattr(os, "killpg"))
        printed, flooded = bytearray(), threading.Event()

        def read():   # never more than max_output bytes: then the process is stopped
            total = 0
            while chunk := proc.stdout.read1(65536):
                total += len(chunk)
                if len(printed) < 4096:
                    printed.extend(chunk[:4096 - len(printed)])
                if total > max_output:
                    flooded.set()
                    _kill(proc)
                    break
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()
            reader.join(5)
            return FileOutcome(status="timed out", problem=(
                f"timed out: no result after {timeout:g} s, so the check was stopped (an "
                "infinite loop, input() waiting, or a very slow loop?)"))
        reader.join(5)
        if flooded.is_set():
            return FileOutcome(status="too much output", problem=(
                f"printed more than {max_output / 1e6:g} MB, so the check was stopped (a "
                "print inside a loop?)"))
        try:
            result = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = bytes(printed).decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return FileOutcome(status="no result", problem=(
                f"the check ended without a result (exit code {code}): {tail[0][:200]}"))
        return FileOutcome(items=result["exercises"])


def _one_line(text):
    return " ".join(str(text).split())


def grade_class(submissions, out, only=None, timeout=60.0, max_output=1_000_000, jobs=1,
                echo=print):
    """Grade every student folder in ``submissions`` into the CSV ``out``; return the rows."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise ExerciseError(f"no such folder: {submissions} (give the folder that holds one "
                            "folder per student)")
    students = sorted((p for p in submissions.iterdir()
                       if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    if not students:
        raise ExerciseError(f"{submissions} holds no student folders (one folder per student, "
                            "each with the student's exNN_*.py files)")
    files = {s.name: exercise_files(s) for s in students}
    if only:
        numbers = [f"ex{int(n):02d}" for n in only]
        unknown = sorted(set(numbers) - {ex.file[:4] for ex in EXERCISES.values()})
        if unknown:
            raise ExerciseError(f"no exercise {', '.join(unknown)}; the exercises are ex01 to "
                                f"ex{max(int(ex.file[2:4]) for ex in EXERCISES.values()):02d}")
    else:
        numbers = sorted({n for found in files.values() for n in found})
    assigned = [ex for ex in EXERCISES.values() if ex.file[:4] in numbers]
    work = [(s.name, n, files[s.name][n]) for s in students for n in numbers
            if n in files[s.name]]
    with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        outcomes = dict(zip([(s, n) for s, n, _ in work],
                            pool.map(lambda w: check_in_subprocess(w[2], timeout, max_output),
                                     work), strict=True))
    rows = []
    for s in students:
        name, found = s.name, files[s.name]
        if not found:
            others = sorted(p.name for p in s.rglob("*") if p.is_file())[:5]
            rows.append({"student": name, "file": "", "exercise": "", "points": 0,
                         "max_points": sum(ex.points for ex in assigned), "status": "no files",
                         "diagnosis": "no exercise files found (expected files named like "
                         "ex04_dense_backward.py); the folder holds "
                         + (", ".join(others) if others else "nothing")})
            continue
        for ex in assigned:
            path = found.get(ex.file[:4])
            row = {"student": name, "file": path.relative_to(s).as_posix() if path else "",
                   "exercise": ex.function, "points": 0, "max_points": ex.points}
            outcome = outcomes.get((name, ex.file[:4]))
            item = next((i for i in outcome.items if i["name"] == ex.function), None) \
                if outcome and outcome.items is not None else None
            if path is None:
                row |= {"status": "not submitted", "diagnosis": f"no {ex.file[:4]}_*.py file"}
            elif outcome.items is None:
                row |= {"status": outcome.status, "diagnosis": outcome.problem}
            elif item is None:
                row |= {"status": "missing", "diagnosis": f"{path.name} does not define "
                        f"{ex.function} (keep the name from the exercise file)"}
            else:
                row |= {"points": item["points"], "status": item["status"],
                        "diagnosis": _one_line(item["why"] or "")}
            rows.append(row)
    _write_csv(Path(out), rows)
    for s in students:
        mine = [r for r in rows if r["student"] == s.name]
        echo(f"{s.name}: {sum(r['points'] for r in mine)} of "
             f"{sum(r['max_points'] for r in mine)} points")
    return rows


def _write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
