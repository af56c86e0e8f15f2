"""The lessons run, in fast mode, and keep the lesson format.

Every ``lessons/NN_name.py`` is run as a script from the repository root, as a reader
would run it, with ``TINYAE_FAST=1`` (fewer epochs, less data) and its figures sent to a
temporary folder. A lesson fails if it raises, including any of the ``assert`` checks it
makes on its own numbers. New lessons are picked up by their file name.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.py"))
HEADINGS = ("## Objectives", "## Prerequisites", "## Summary", "## Exercises")


def makes_figures(source):
    """A lesson that saves a figure (``plots.save_figure``, ``savefig`` or a plot's ``path=``)."""
    return "save_figure(" in source or "savefig(" in source or "path=" in source


def cells(source):
    """The percent-format cells of a lesson: a list of (header line, body lines)."""
    found = []
    for line in source.splitlines():
        if line.startswith("# %%"):
            found.append((line, []))
        elif found:
            found[-1][1].append(line)
    return found


def lesson_id(path):
    return path.name


def test_lessons_are_found():
    assert LESSONS, f"no lessons matching NN_*.py in {REPO / 'lessons'}"
    numbers = [p.name[:2] for p in LESSONS]
    assert len(numbers) == len(set(numbers)), f"two lessons share a number: {numbers}"


@pytest.mark.parametrize("path", LESSONS, ids=lesson_id)
def test_lesson_format(path):
    source = path.read_text(encoding="utf-8")
    assert source.startswith("# %% [markdown]\n"), \
        f"{path.name} must open with a '# %% [markdown]' cell (title and objectives)"
    assert re.search(r"^# # ", source, flags=re.MULTILINE), f"{path.name} has no '# # Title'"
    positions = []
    for heading in HEADINGS:
        match = re.search(rf"^# {re.escape(heading)}\s*$", source, flags=re.MULTILINE)
        assert match, f"{path.name} has no '{heading}' heading in a markdown cell"
        positions.append(match.start())
    assert positions == sorted(positions), \
        f"{path.name}: the headings must come in the order {HEADINGS}"
    all_cells = cells(source)
    assert any(header == "# %%" for header, _ in all_cells), f"{path.name} has no code cell"
    for header, body in all_cells:
        if header.startswith("# %% [markdown]"):
            prose = [line for line in body if line.strip() and not line.startswith("#")]
            assert not prose, f"{path.name}: code inside a markdown cell: {prose[:3]}"
    if makes_figures(source):
        assert "TINYAE_FIGURES" in source, \
            f"{path.name} saves figures but ignores the TINYAE_FIGURES folder"


@pytest.mark.parametrize("path", LESSONS, ids=lesson_id)
def test_lesson_runs_in_fast_mode(path, tmp_path):
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    # One BLAS thread: the fast-mode matrices are small, and threads that spin while
    # waiting only slow the run down on a busy 2-core machine.
    env = {**os.environ, "TINYAE_FAST": "1", "TINYAE_FIGURES": str(tmp_path),
           "MPLBACKEND": "Agg", "PYTHONPATH": pythonpath, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(path)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n"
        f"--- end of stdout ---\n{result.stdout[-2000:]}\n"
        f"--- end of stderr ---\n{result.stderr[-4000:]}")
    if makes_figures(path.read_text(encoding="utf-8")):
        pngs = sorted(p.name for p in tmp_path.rglob("*.png"))
        assert pngs, f"{path.name} saves figures but wrote no PNG into TINYAE_FIGURES"
        prefix = path.name[:3]  # "01_"
        unprefixed = [name for name in pngs if not name.startswith(prefix)]
        assert not unprefixed, f"{path.name}: figure names must start with {prefix!r}: " \
                               f"{unprefixed}"
