"""The book's stored full runs (docs/_ext/stored_runs.py): a stale lesson stops the build.

The book renders each lesson's stored run and executes nothing, so a lesson edited after
its run must fail the build, naming the one command that refreshes it. These tests store
a run of a small lesson in a temporary jupyter-cache (outputs written by hand, not
executed), then change the lesson and call the check the build calls first.
"""

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("jupytext", reason="the stored runs need the docs extra (jupytext)")
pytest.importorskip("jupyter_cache", reason="the stored runs need the docs extra (myst-nb)")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs" / "_ext"))
import stored_runs  # noqa: E402  (docs/_ext is not a package)
import tinyae_book as book  # noqa: E402

LESSON = """# %% [markdown]
# # Lesson 5: A small lesson
#
# Its first paragraph.

# %%
x = 6 * 7
print(f"the answer is {x}")
"""


def store_run(tmp_path, text, name="05_small"):
    """A lesson file, its entry in runs.json and its 'executed' notebook in a cache."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    lesson = tmp_path / "lessons" / f"{name}.py"
    lesson.parent.mkdir(parents=True, exist_ok=True)
    lesson.write_text(text, encoding="utf-8")
    notebook = book.lesson_notebook(text)
    for count, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), 1):
        cell.execution_count = count
    notebook.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                         text="the answer is 42\n")]
    cache = get_cache(str(tmp_path / "cache"))
    cache.cache_notebook_bundle(CacheBundleIn(notebook, f"lessons/{name}.py"))
    entry = {"source_sha256": stored_runs.source_sha256(text), "tinyae_version": "0.1.0",
             "machine": {"cpu": "Test CPU", "cores": 2}, "date": "2026-12-05T12:00:00+00:00",
             "wall_seconds": 3.2, "python": "3.11", "mode": "full"}
    stored_runs.save_metadata({name: entry}, tmp_path / "runs.json")
    return lesson


def check(tmp_path, lesson):
    return stored_runs.stale_runs([lesson], stored_runs.load_metadata(tmp_path / "runs.json"),
                                  tmp_path / "cache")


def test_a_lesson_that_matches_its_stored_run_passes(tmp_path):
    lesson = store_run(tmp_path, LESSON)
    assert check(tmp_path, lesson) == []


def test_a_changed_lesson_is_stale_and_the_message_names_the_command(tmp_path):
    lesson = store_run(tmp_path, LESSON)
    lesson.write_text(LESSON.replace("6 * 7", "6 * 9"), encoding="utf-8")
    problems = check(tmp_path, lesson)
    assert len(problems) == 1
    assert problems[0].startswith("lessons/05_small.py changed since its stored run of "
                                  "2026-12-05")
    assert problems[0].endswith("refresh it with make -C docs run LESSON=05")


def test_a_prose_edit_is_stale_too(tmp_path):
    """The recorded sha256 covers the whole source: the prose is shown beside the run."""
    lesson = store_run(tmp_path, LESSON)
    lesson.write_text(LESSON.replace("Its first", "The first"), encoding="utf-8")
    assert "changed since its stored run" in check(tmp_path, lesson)[0]


def test_a_lesson_without_a_run_is_stale(tmp_path):
    store_run(tmp_path, LESSON)
    other = tmp_path / "lessons" / "06_new.py"
    other.write_text(LESSON, encoding="utf-8")
    assert check(tmp_path, other) == [
        "lessons/06_new.py has no stored run: refresh it with make -C docs run LESSON=06"]


def test_a_run_missing_from_the_cache_is_stale(tmp_path):
    """runs.json agrees but jupyter-cache would miss: MyST-NB would execute the lesson."""
    lesson = store_run(tmp_path, LESSON)
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    problems = stored_runs.stale_runs([lesson], stored_runs.load_metadata(
        tmp_path / "runs.json"), empty)
    assert "has no executed notebook in empty-cache/" in problems[0]
    assert problems[0].endswith("make -C docs run LESSON=05")


def test_the_build_stops_on_a_stale_lesson_with_the_message(tmp_path, monkeypatch, capsys):
    """What the Sphinx build calls at config-inited, before it reads any page."""
    lesson = store_run(tmp_path, LESSON)
    docs = tmp_path / "docs"
    (docs / "lessons").mkdir(parents=True)
    (docs / "lessons" / lesson.name).symlink_to(lesson)
    monkeypatch.setattr(book, "DOCS", docs)
    monkeypatch.setattr(stored_runs, "METADATA", tmp_path / "runs.json")
    monkeypatch.setattr(stored_runs, "CACHE", tmp_path / "cache")
    config = type("Config", (), {"nb_execution_cache_path": str(tmp_path / "build-cache")})

    book.use_stored_runs(None, config)  # up to date: MyST-NB gets its copy of the store
    assert (tmp_path / "build-cache" / "global.db").exists()
    assert capsys.readouterr().err == ""

    lesson.write_text(LESSON + "\nprint('one more line')\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        book.use_stored_runs(None, config)
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "Stale stored run:\nlessons/05_small.py changed since its stored run" in message
    assert "refresh it with make -C docs run LESSON=05\n" in message
    assert "make -C docs run-all refreshes every lesson" in message


def test_the_page_shows_the_run_time_and_the_download_under_the_title(tmp_path, monkeypatch):
    store_run(tmp_path, LESSON)
    monkeypatch.setattr(stored_runs, "METADATA", tmp_path / "runs.json")
    first = book.read_lesson(LESSON).cells[1].source.split("\n")
    assert first[0] == "# Lesson 5: A small lesson"
    assert first[2].startswith("*Time to run: **3 s** for the full run shown here "
                               "(5 December 2026; Test CPU, 2 cores; tinyae 0.1.0).* ")
    assert '<a href="../_sources/lessons/05_small.ipynb" download>' in first[2]
    assert first[3:5] == ["", "Its first paragraph."]
    changed = book.read_lesson(LESSON.replace("6 * 7", "6 * 9")).cells[1].source
    assert "Time to run" not in changed  # no stored run of this text: no time claimed


def test_the_hidden_cell_prints_nothing_and_names_no_path():
    source = book.setup_cell_source()
    assert "print" not in source and str(REPO) not in source and "/tmp" not in source
    assert "TINYAE_FAST" not in source  # the stored runs are full runs


def test_the_download_is_a_real_notebook():
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.reads(book.lesson_as_ipynb(LESSON), as_version=4)
    nbformat.validate(notebook)
    assert [cell.cell_type for cell in notebook.cells] == ["markdown", "code"]
    assert "x = 6 * 7" in notebook.cells[1].source
    assert json.loads(book.lesson_as_ipynb(LESSON))["nbformat"] == 4


def test_run_a_lesson_number_that_does_not_exist():
    with pytest.raises(SystemExit, match="no lesson 99: lessons/ holds 01"):
        stored_runs.find_lessons(["99"])
    with pytest.raises(SystemExit, match="LESSON must be a lesson number such as 05"):
        stored_runs.find_lessons(["five"])
