"""The lessons' stored full runs: make them, keep them, check them.

The book shows every lesson as it ran in its **normal mode** (MNIST given, PyTorch
installed, no ``TINYAE_FAST``), and ``make -C docs html`` executes nothing: it renders the
outputs stored in the repository. The store is MyST-NB's own cache, a ``jupyter-cache``
folder (``docs/_runs/jupyter_cache/``: a small SQLite index and one executed notebook per
lesson), committed with the code. Beside it ``docs/_runs/runs.json`` records, for each
lesson, what its run was made from and where: the sha256 of the lesson's source, the
tinyae version, the machine (CPU model, cores), the date and the wall time.

    make -C docs run LESSON=05      # run lesson 5 in full and store the run
    make -C docs run-all            # every lesson, one after another
    python docs/_ext/stored_runs.py check    # what the build checks first

The build fails before reading any page when a lesson's source no longer matches its
stored run (:func:`stale_runs`), naming the command that refreshes it. MyST-NB reads the
lessons with ``nb_execution_mode = "cache"``, so a notebook that matched no stored run would
be executed; the check makes sure none reaches it.

A run is made here, not by Sphinx: the notebook :func:`tinyae_book.lesson_notebook` makes
of the lesson (its cells and a hidden first cell that prints nothing) is executed by
jupyter-cache's own executor in a fresh kernel, from the repository root, with the MNIST
folder, ``MPLBACKEND=Agg`` and a temporary figure folder in the kernel's environment. The
figures are in the stored outputs as PNG data (``tinyae.plots`` shows each figure it saves),
so the run is refused when the lesson wrote more PNG files than its outputs show.
"""

import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from hashlib import sha256
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
RUNS = DOCS / "_runs"
CACHE = RUNS / "jupyter_cache"
METADATA = RUNS / "runs.json"
CELL_TIMEOUT = 1800  # seconds a cell may take in a full run (lesson 21's DDP part: minutes)


def refresh_command(name):
    """The one command that refreshes the stored run of lesson ``NN_name``."""
    return f"make -C docs run LESSON={name[:2]}"


def source_sha256(text):
    return sha256(text.encode("utf-8")).hexdigest()


def lesson_files():
    return sorted((REPO / "lessons").glob("[0-9][0-9]_*.py"))


def load_metadata(path=None):
    """``{lesson stem: entry}`` from ``runs.json`` (empty when there is none yet)."""
    path = Path(path or METADATA)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["lessons"]


def save_metadata(lessons, path=None):
    path = Path(path or METADATA)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"lessons": dict(sorted(lessons.items()))}, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def entry_for_text(text, metadata):
    """The stored-run entry whose source is exactly ``text``, or None."""
    digest = source_sha256(text)
    return next((entry for entry in metadata.values() if entry["source_sha256"] == digest),
                None)


def stale_runs(lessons, metadata, cache_path=None):
    """One message per lesson whose stored run is missing or no longer matches it.

    ``lessons`` are paths of percent-format scripts, ``metadata`` what
    :func:`load_metadata` returns. Two checks: the source's sha256 is the one recorded
    for the run, and the notebook the book makes of the source has its executed copy in
    the jupyter-cache at ``cache_path`` (a run made by an older reader or jupytext would
    not match, and MyST-NB would then execute the lesson).
    """
    import tinyae_book
    from jupyter_cache import get_cache

    cache_path = Path(cache_path or CACHE)
    cache = get_cache(str(cache_path)) if cache_path.is_dir() else None
    problems = []
    for path in lessons:
        path = Path(path)
        name, text = path.stem, path.read_text(encoding="utf-8")
        entry = metadata.get(name)
        if entry is None:
            why = "has no stored run"
        elif entry["source_sha256"] != source_sha256(text):
            why = (f"changed since its stored run of {entry['date'][:10]} (sha256 "
                   f"{source_sha256(text)[:12]}..., stored {entry['source_sha256'][:12]}...)")
        else:
            try:
                if cache is None:
                    raise KeyError(name)
                cache.match_cache_notebook(tinyae_book.lesson_notebook(text))
                continue
            except KeyError:
                why = (f"has no executed notebook in {Path(cache_path).name}/ that matches "
                       "the notebook the book makes of it")
        problems.append(f"lessons/{path.name} {why}: refresh it with "
                        f"{refresh_command(name)}")
    return problems


def stale_message(problems):
    return ("\n".join(problems) + "\n(make -C docs run-all refreshes every lesson; the book "
            "renders stored full runs and executes nothing)")


# ----- making a run --------------------------------------------------------------------------
def machine():
    """``{"cpu": model name, "cores": n}`` of this machine."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count()}


def mnist_folder():
    """``$TINYAE_MNIST``, else ``../shared/data/mnist`` beside the repository."""
    folder = Path(os.environ.get("TINYAE_MNIST") or REPO.parent / "shared" / "data" / "mnist")
    if not (folder / "train-images-idx3-ubyte.gz").exists() and \
            not (folder / "train-images-idx3-ubyte").exists():
        raise SystemExit(f"no MNIST IDX files in {folder}: a full run needs them; set "
                         "TINYAE_MNIST to their folder")
    return folder


def kernel_environment(figures):
    """The environment the kernel inherits for a full run."""
    env = {key: value for key, value in os.environ.items() if key != "TINYAE_FAST"}
    env.update(TINYAE_MNIST=str(mnist_folder()), TINYAE_FIGURES=str(figures),
               MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def png_outputs(notebook):
    return sum("image/png" in output.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", []))


def run_lesson(path, cache_path=None, metadata_path=None):
    """Execute one lesson in full, store its run, and return its metadata entry."""
    import tinyae_book
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbCacheRecord
    from jupyter_cache.executors.utils import single_nb_execution

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    notebook = tinyae_book.lesson_notebook(text)
    figures = Path(tempfile.mkdtemp(prefix="tinyae-run-figures-"))
    saved_env, run_env = dict(os.environ), kernel_environment(figures)
    os.environ.clear()
    os.environ.update(run_env)
    try:
        print(f"running lessons/{path.name} in full ...", flush=True)
        start = time.perf_counter()
        result = single_nb_execution(notebook, cwd=str(REPO), timeout=CELL_TIMEOUT,
                                     allow_errors=False, meta_override=False)
        wall = time.perf_counter() - start
        written = len(list(figures.glob("*.png")))
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        shutil.rmtree(figures, ignore_errors=True)
    if result.err is not None:
        raise RuntimeError(f"lessons/{path.name} failed after {wall:.0f} s; nothing stored:\n"
                           f"{result.exc_string}")
    shown = png_outputs(notebook)
    if shown < written:
        raise RuntimeError(f"lessons/{path.name} wrote {written} figures but its outputs show "
                           f"{shown}: save figures with tinyae.plots (save_figure or a plot_* "
                           "function), which shows them in the notebook; nothing stored")

    import tinyae  # the version of the code that ran (the kernel imports the same tree)

    cache = get_cache(str(cache_path or CACHE))
    uri = f"lessons/{path.name}"  # no machine path in the store
    for record in NbCacheRecord.records_from_uri(uri, cache.db):
        cache.remove_cache(record.pk)
    entry = {
        "source_sha256": source_sha256(text),
        "tinyae_version": tinyae.__version__,
        "machine": machine(),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1),
        "mode": "full (MNIST given, no TINYAE_FAST)",
    }
    cache.cache_notebook_bundle(CacheBundleIn(notebook, uri, data={"execution_seconds": wall}),
                                check_validity=True, overwrite=True)
    lessons = load_metadata(metadata_path)
    lessons[path.stem] = entry
    save_metadata(lessons, metadata_path)
    print(f"stored the run of lessons/{path.name}: {wall:.1f} s, {shown} figures", flush=True)
    return entry


def forget_removed_lessons(cache_path=None, metadata_path=None):
    """Drop the stored runs of lessons that no longer exist."""
    from jupyter_cache import get_cache

    names = {path.stem for path in lesson_files()}
    lessons = load_metadata(metadata_path)
    cache = get_cache(str(cache_path or CACHE))
    for record in cache.list_cache_records():
        if Path(record.uri).stem not in names:
            cache.remove_cache(record.pk)
    save_metadata({k: v for k, v in lessons.items() if k in names}, metadata_path)


def find_lessons(numbers):
    """Lesson paths for numbers like ``05`` or ``5``; a clear error for an unknown one."""
    found = []
    for number in numbers:
        if not number.isdigit():
            raise SystemExit(f"LESSON must be a lesson number such as 05, got {number!r}")
        matches = [p for p in lesson_files() if p.name[:2] == f"{int(number):02d}"]
        if not matches:
            raise SystemExit(f"no lesson {number}: lessons/ holds "
                             f"{', '.join(p.name[:2] for p in lesson_files())}")
        found += matches
    return found


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("run", "run-all", "check"):
        raise SystemExit("usage: stored_runs.py run NN [NN ...] | run-all | check")
    sys.path.insert(0, str(Path(__file__).parent))
    if argv[0] == "check":
        problems = stale_runs(lesson_files(), load_metadata())
        if problems:
            raise SystemExit(stale_message(problems))
        print(f"all {len(lesson_files())} stored runs match their lessons")
        return
    lessons = lesson_files() if argv[0] == "run-all" else find_lessons(argv[1:])
    if not lessons:
        raise SystemExit("run needs a lesson number: make -C docs run LESSON=05")
    start, failed, times = time.perf_counter(), [], []
    for path in lessons:
        try:
            times.append((path.name, run_lesson(path)["wall_seconds"]))
        except RuntimeError as error:
            print(error, file=sys.stderr, flush=True)
            failed.append(path.name)
    if argv[0] == "run-all":
        forget_removed_lessons()
    total = time.perf_counter() - start
    for name, seconds in times:
        print(f"  {name:40s} {seconds:7.1f} s")
    print(f"{len(times)} run(s) stored in {total:.0f} s ({total / 60:.1f} min) on "
          f"{machine()['cpu']}, {machine()['cores']} cores")
    if failed:
        raise SystemExit(f"failed, nothing stored for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
