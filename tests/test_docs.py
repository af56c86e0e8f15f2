"""The book (docs/) and the "Coming from Keras" scripts (examples/keras/).

The book itself is built by ``make -C docs html`` (CI does it after the tests): that build
renders every lesson's stored full run and fails on any warning (tests/test_stored_runs.py
checks the stored runs). These tests check, without Sphinx, what
the build is made of: the page generators in ``docs/_ext/tinyae_book.py`` (every public
name in the API reference, every lesson in the syllabus, exercises without solutions),
the lesson reader, figures that show inline in a notebook, the docstring examples (run
as doctests here), and the Keras-guide scripts in fast mode.
"""

import ast
import doctest
import importlib
import os
import pkgutil
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import tinyae
from tinyae import plots

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs" / "_ext"))
import tinyae_book as book  # noqa: E402  (docs/_ext is not a package)

LESSONS = book.lesson_files()
EXERCISES = book.exercise_files()
KERAS_SCRIPTS = sorted(p for p in (REPO / "examples" / "keras").glob("*.py")
                       if p.name not in ("keras_common.py", "make_results.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ----- API reference and doctests -------------------------------------------------------
def test_api_reference_documents_every_public_name():
    pages = book.api_pages()
    text = "\n".join(pages.values())
    directives = set(re.findall(r"^\.\. auto(?:class|function|module):: (tinyae[\w.]*)$", text,
                                flags=re.MULTILINE))
    exported = book.exported_modules()
    documented = {name.removeprefix("tinyae.") for name in directives} | {
        exported[name] for name in directives if name in exported}
    missing = [name for name in tinyae.__all__ if name not in documented]
    assert not missing, f"public names missing from the API reference: {missing}"
    assert len(tinyae.__all__) == len(set(tinyae.__all__))


def test_api_reference_is_one_page_per_module_where_each_name_is_defined():
    import inspect

    groups = book.api_groups()
    pages = book.api_pages()
    grouped = {name for _, names in groups for name in names} | set(
        book.exported_modules().values())
    assert grouped == set(tinyae.__all__)
    for module, names in groups:
        page = pages[f"{module}.rst"]
        for name in names:
            assert getattr(tinyae, name).__module__ == module
            if module not in book.exported_modules():
                kind = "autoclass" if inspect.isclass(getattr(tinyae, name)) else "autofunction"
                assert f".. {kind}:: tinyae.{name}\n" in page
        assert f"{{doc}}`{module} <{module}>`" in pages["api.md"]  # linked from the index


OPTIONAL = {"numba", "torch", "safetensors", "IPython"}  # extras a module may need


def package_modules():
    """Every module of the package but ``__main__``, which runs the command line on import."""
    return sorted(info.name for info in pkgutil.walk_packages(tinyae.__path__, "tinyae.")
                  if not info.name.endswith("__main__"))


@pytest.mark.parametrize("name", package_modules())
def test_docstring_examples_run(name):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name in OPTIONAL:  # the module needs an optional extra that is absent
            pytest.skip(f"{name} needs {error.name}, not installed")
        raise
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) in {name} failed"


def test_doctests_find_the_examples_there_are():
    finder = doctest.DocTestFinder(exclude_empty=True)
    module = importlib.import_module("tinyae.diagnose")
    assert sum(len(t.examples) for t in finder.find(module)) >= 1


def test_section_notes_become_sections_napoleon_knows():
    lines = ["Dense layer.", "", "Backward (given ``dy`` of shape (N, n_out))", "--------",
             "``dW = xᵀ @ dy``"]
    book.split_section_notes(None, "class", "x", None, None, lines)
    assert lines[2:6] == ["Backward", "--------", "Given ``dy`` of shape (N, n_out):", ""]
    lines = ["A model.", "", "Parameters", "----------", "x : int", "    Input.", "",
             "Shapes: ``x`` is ``(N, D)``."]
    book.split_section_notes(None, "class", "x", None, None, lines)
    assert lines[7:10] == ["Notes", "-----", ""] and lines[10].startswith("Shapes:")


# ----- lessons ------------------------------------------------------------------------------
def code_cells(source):
    """The code cells of a percent-format script: (index, text) pairs."""
    cells, current, is_code = [], None, False
    for line in source.splitlines() + ["# %% [markdown]"]:
        if line.startswith("# %%"):
            if current is not None and is_code:
                cells.append("\n".join(current))
            current, is_code = [], "[markdown]" not in line
        elif current is not None:
            current.append(line)
    return list(enumerate(cells))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_lesson_cell_ends_with_a_figure(path):
    """tinyae.plots shows a figure as it makes it; one left at a cell's end shows twice."""
    for index, cell in code_cells(path.read_text(encoding="utf-8")):
        body = ast.parse(cell).body
        if not body or not isinstance(body[-1], ast.Expr):
            continue
        value = body[-1].value
        bare_figure = isinstance(value, ast.Name) and value.id == "fig"
        plot_call = (isinstance(value, ast.Call)
                     and ast.unparse(value.func).startswith("plots.plot_"))
        assert not (bare_figure or plot_call), \
            f"{path.name}, code cell {index} ends with {ast.unparse(value)[:60]!r}: assign it"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_save_figures_through_plots(path):
    """``fig.savefig`` writes the file but shows nothing in a notebook, so nothing in the book."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert ".savefig(" not in line, (
            f"{path.name}:{number}: {line.strip()!r}; use plots.save_figure(fig, path), which "
            "saves the PNG and shows the figure in a notebook and in the book")


def test_lesson_reader_adds_one_hidden_cell():
    pytest.importorskip("jupytext", reason="the lesson reader needs the docs extra")
    assert LESSONS, "no lessons found"
    for path in LESSONS:
        text = path.read_text(encoding="utf-8")
        notebook = book.lesson_notebook(text)
        setup, first = notebook.cells[0], notebook.cells[1]
        assert setup.cell_type == "code" and "remove-cell" in setup.metadata["tags"]
        assert setup.source == book.setup_cell_source()  # the same on every machine
        assert first.cell_type == "markdown" and book.lesson_title(path) in first.source
        markers = sum(line.startswith("# %%") for line in text.splitlines())
        assert len(notebook.cells) == markers + 1, path.name
        assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_a_lesson_that_exits_stops_there_in_the_book():
    """The setup cell's transformer: sys.exit(0) ends the lesson, later cells run nothing."""
    namespace = {}
    exec(book.STOP_AT_EXIT, namespace)
    assert book.REGISTER_STOP_AT_EXIT in book.setup_cell_source("# a lesson")
    stop = namespace["_StopAtExit"]()

    def run(code):
        tree = stop.visit(ast.parse(code))
        exec(compile(tree, "<cell>", "exec"), namespace)

    run("import sys\nseen = ['first']")
    run("print('skipped: no torch')\nsys.exit(0)\nseen.append('after exit')")
    run("seen.append('next cell')")
    assert namespace["seen"] == ["first"]
    namespace["_StopAtExit"].stopped = False
    with pytest.raises(SystemExit):
        run("import sys\nsys.exit(1)")  # a failure still fails


def test_syllabus_lists_every_lesson_in_order():
    table = book.syllabus()
    positions = [table.index(f"(lessons/{path.stem})") for path in LESSONS]
    assert positions == sorted(positions)
    for path in LESSONS:
        assert book.lesson_title(path).partition(": ")[2] in table


def test_home_page_describes_each_lesson_in_its_own_words():
    """One hand-written line a lesson, not the lesson's opening sentence; none left over."""
    table = book.syllabus()
    assert set(book.HOME_PAGE_DESCRIPTIONS) == {path.name[:2] for path in LESSONS}
    for path in LESSONS:
        line = book.HOME_PAGE_DESCRIPTIONS[path.name[:2]]
        assert f"| {line} |" in table and len(line) <= 110, path.name
        prose = " ".join(text[2:] for text in path.read_text(encoding="utf-8").splitlines()
                         if text.startswith("# "))
        assert line[:30] not in prose, f"{path.name}: the home page copies the lesson"


# ----- exercises ------------------------------------------------------------------------------
def solution_lines(exercise):
    """The statements of the reference solution's function bodies (the answer itself)."""
    solution = REPO / "lessons" / "solutions" / exercise.name
    source = solution.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            for statement in body:
                found += [line.strip() for line in
                          lines[statement.lineno - 1:statement.end_lineno]
                          if len(line.strip()) > 8 and not line.strip().startswith("#")]
    return found


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_page_states_the_task_and_never_the_solution(path):
    page = book.exercise_page(path)
    title = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))).split("\n")[0]
    assert page.splitlines()[1] == f"# {title.strip().rstrip('.')}"
    assert f"tinyae check lessons/exercises/{path.name}" in page
    from tinyae.exercises import EXERCISES as KNOWN  # the notebook snippet's name= is valid
    snippet_name = re.search(r'check_exercise\((\w+), name="(\w+)"\)', page).group(2)
    assert snippet_name in KNOWN
    source = path.read_text(encoding="utf-8")
    code = "\n".join(source.splitlines()[ast.parse(source).body[0].end_lineno:])
    assert book.without_pragmas(code) in page  # the file's code, as the reader gets it
    shown = page + source  # the page and the file it shows
    answer = solution_lines(path)
    assert answer, f"no solution lines found for {path.name}: the check would check nothing"
    leaked = [line for line in answer if line in shown]
    assert not leaked, f"{path.name}: the page shows solution lines {leaked[:3]}"


def test_exercises_index_links_every_exercise():
    index = book.exercises_index()
    for path in EXERCISES:
        assert f"({path.stem})" in index


# ----- home page -------------------------------------------------------------------------------
def quick_start_commands(markdown):
    section = markdown.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def test_home_page_quick_start_is_the_readme_one():
    home = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(quick_start_commands(readme)) == 2
    assert quick_start_commands(home) == quick_start_commands(readme)


def test_home_page_pictures_exist():
    home = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", home)
    assert pictures
    for picture in pictures:
        assert (REPO / "docs" / picture).read_bytes().startswith(PNG_SIGNATURE), picture


# ----- offline math ------------------------------------------------------------------------------
def test_cdn_references_are_found(tmp_path):
    (tmp_path / "ok.html").write_text('<script src="_static/mathjax/tex-chtml.js"></script>')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.html").write_text(
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>')
    found = book.cdn_references(tmp_path)
    assert [page for page, _ in found] == ["sub/bad.html"]


# ----- figures shown inline in a notebook ------------------------------------------------------
@pytest.fixture
def fake_kernel(monkeypatch):
    """An IPython whose get_ipython() has a kernel, and a display() that records."""
    shown = []
    ipython = types.ModuleType("IPython")
    ipython.version_info = (8, 30, 0, "")  # matplotlib's savefig reads it
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    display_module = types.ModuleType("IPython.display")

    class Image:
        def __init__(self, data, format):
            self.data, self.format = data, format

    display_module.Image = Image
    display_module.display = shown.append
    ipython.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    return shown


def drawn_figure():
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_save_figure_in_a_kernel_writes_and_shows_the_same_png(fake_kernel, tmp_path):
    path = tmp_path / "new" / "f.png"
    assert plots.save_figure(drawn_figure(), path) is None
    assert len(fake_kernel) == 1 and fake_kernel[0].format == "png"
    assert fake_kernel[0].data.startswith(PNG_SIGNATURE)
    assert path.read_bytes() == fake_kernel[0].data


def test_plot_functions_show_their_figure_in_a_kernel(fake_kernel):
    images = tinyae.load_digits()[0][:4]
    fig = plots.plot_image_grid(images, ncols=4)
    assert isinstance(fig, Figure)
    assert len(fake_kernel) == 1 and fake_kernel[0].data.startswith(PNG_SIGNATURE)


def test_outside_a_kernel_nothing_is_shown(monkeypatch, tmp_path):
    terminal = types.ModuleType("IPython")
    terminal.version_info = (8, 30, 0, "")
    terminal.get_ipython = lambda: types.SimpleNamespace()  # a terminal IPython: no kernel
    monkeypatch.setitem(sys.modules, "IPython", terminal)
    assert plots._notebook_kernel() is None
    monkeypatch.delitem(sys.modules, "IPython")
    assert plots._notebook_kernel() is None
    plots.save_figure(drawn_figure(), tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes().startswith(PNG_SIGNATURE)


def test_save_figure_refuses_what_is_not_a_figure():
    with pytest.raises(TypeError, match="expected a matplotlib Figure, got ndarray"):
        plots.save_figure(tinyae.load_digits()[0], None)


# ----- Coming from Keras ----------------------------------------------------------------------
def test_every_keras_script_is_on_the_page_with_its_mnist_runs():
    """Both twins of each script on the page, with the outputs of their MNIST runs."""
    page = (REPO / "docs" / "keras.md").read_text(encoding="utf-8")
    results = REPO / "examples" / "keras" / "results"
    table = (results / "table.md").read_text(encoding="utf-8")
    assert "```{include} ../examples/keras/results/table.md\n" in page
    assert len(KERAS_SCRIPTS) == 5
    for script in KERAS_SCRIPTS:
        source = script.read_text(encoding="utf-8")
        for twin, start, end in (("Keras", "# Keras, as on the page",
                                  "# (end of the Keras snippet)"),
                                 ("tinyae", "# tinyae, as on the page",
                                  "# (end of the tinyae code)")):
            include = (f"```{{literalinclude}} ../examples/keras/{script.name}\n"
                       f":language: python\n:caption: \"{twin}: examples/keras/{script.name}")
            assert include in page, f"{script.name}: the {twin} code is not on the page"
            assert source.count(start) == 1 and source.count(end) == 1, script.name
        assert f"keras_{script.stem}.png" in page
        row = next(line for line in table.splitlines() if f"`{script.name}`" in line)
        for suffix, flag in (("", ""), ("_keras", " --keras")):
            result = (results / f"{script.stem}{suffix}.txt").read_text(encoding="utf-8")
            assert f"```{{literalinclude}} ../examples/keras/results/{script.stem}{suffix}.txt\n" \
                in page
            command = result.splitlines()[0]
            assert command.startswith("$ OPENBLAS_NUM_THREADS=1 ") and \
                f"python examples/keras/{script.name} --mnist" in command
            assert command.endswith(flag) or not flag
            error = re.search(r"test squared error per image ([0-9.]+)", result).group(1)
            assert f"| {error} " in row, f"{script.name}{flag}: the table does not quote {error}"


@pytest.mark.parametrize("script", KERAS_SCRIPTS, ids=lambda p: p.name)
def test_keras_script_runs_in_fast_mode(script, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TINYAE_MNIST"}
    env.update(TINYAE_FAST="1", MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    figure = tmp_path / "figure.png"
    result = subprocess.run([sys.executable, str(script), "--figure", str(figure)], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    assert "built-in digits" in result.stdout
    match = re.search(r"test squared error per image ([0-9.]+)", result.stdout)
    assert match and float(match.group(1)) > 0
    assert figure.read_bytes().startswith(PNG_SIGNATURE)


def test_keras_scripts_refuse_mnist_in_fast_mode(tmp_path):
    env = {**os.environ, "TINYAE_FAST": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, str(KERAS_SCRIPTS[0]), "--mnist", str(tmp_path)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "contradict" in result.stderr
