"""What the book's pages must never show (docs/_ext/tinyae_checks.py), shown on planted pages,
and the math the book renders: ``$`` formulas in docstrings (docs/_ext/tinyae_docmath.py)
and the exercise statements (docs/_ext/tinyae_book.py).
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("bs4", reason="the page check reads HTML with BeautifulSoup (docs extra)")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs" / "_ext"))
import tinyae_book as book  # noqa: E402  (docs/_ext is not a package)
import tinyae_checks as checks  # noqa: E402
import tinyae_docmath as docmath  # noqa: E402


def page(body):
    """A built page as the book theme writes it: the content inside article.bd-article."""
    return (f"<html><body><nav>/tmp/ in the sidebar is not the page</nav>"
            f"<article class='bd-article'>{body}</article></body></html>")


def cell(output_lines, tags=()):
    classes = " ".join(["cell", "docutils", "container"] + [f"tag_{t}" for t in tags])
    text = "\n".join(f"line {i}" for i in range(output_lines))
    return (f"<div class='{classes}'><div class='cell_input'><pre>print(x)</pre></div>"
            f"<div class='cell_output docutils container'><div class='output stream'>"
            f"<pre>{text}\n</pre></div></div></div>")


CLEAN = page("<p>The autoencoder's error is 10% lower than PCA's.</p>" + cell(12))
PLANTED = {
    "fast-mode marker": page("<pre>fast mode: True</pre>"),
    "machine path": page("<pre>saved /tmp/tinyae-book-figures-x/01_digits.png</pre>"),
    "linter pragma": page("<pre># ruff: noqa: I001, B018</pre>"),
    "traceback": page("<pre>Traceback (most recent call last):\n  File ...</pre>"),
    "long output": page(cell(checks.MAX_OUTPUT_LINES + 1)),
}


def test_a_clean_page_passes():
    assert checks.page_problems(CLEAN) == []


@pytest.mark.parametrize("kind", list(PLANTED))
def test_each_planted_problem_is_found_and_named(kind):
    found = checks.page_problems(PLANTED[kind])
    assert found and {k for k, _ in found} == {kind}
    assert all(detail for _, detail in found)


@pytest.mark.parametrize("text, kind", [
    ("TINYAE_FAST=1 makes it quick", "fast-mode marker"),
    ("the kernel /root/.local/share/x", "machine path"),
    ("a file in /work/main/runs", "machine path"),
    ("/tmp/ipykernel_123/456.py:3: UserWarning", "machine path"),
    ("import numpy as np  # noqa: F401", "linter pragma"),
])
def test_other_spellings_are_found(text, kind):
    assert kind in {k for k, _ in checks.page_problems(page(f"<p>{text}</p>"))}


def test_an_error_output_counts_as_a_traceback():
    html = page("<div class='cell'><div class='cell_output'><div class='output traceback'>"
                "<pre>ValueError: bad</pre></div></div></div>")
    assert [k for k, _ in checks.page_problems(html)] == ["traceback"]


def test_output_length_counts_lines_and_the_tag_allows_a_long_one():
    assert [k for k, _ in checks.page_problems(page(cell(checks.MAX_OUTPUT_LINES)))] == []
    tagged = page(cell(checks.MAX_OUTPUT_LINES + 50, tags=[checks.LONG_OUTPUT_TAG]))
    assert checks.page_problems(tagged) == []


def test_the_site_check_names_the_page(tmp_path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "01.html").write_text(PLANTED["machine path"])
    (tmp_path / "index.html").write_text(CLEAN)
    (tmp_path / "search.html").write_text(PLANTED["fast-mode marker"])  # not a page
    found = checks.site_problems(tmp_path)
    assert [(p, k) for p, k, _ in found] == [("lessons/01.html", "machine path")] * 2
    assert checks.summary(found) == "2 problems on 1 pages (2 machine path)"


def test_the_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("TINYAE_BOOK_CHECKS", raising=False)
    assert checks.check_mode() == "error"
    monkeypatch.setenv("TINYAE_BOOK_CHECKS", "warn")
    assert checks.check_mode() == "warn"
    monkeypatch.setenv("TINYAE_BOOK_CHECKS", "later")
    with pytest.raises(ValueError, match="TINYAE_BOOK_CHECKS must be one of error, warn"):
        checks.check_mode()


def test_a_sphinx_build_fails_on_a_planted_page_unless_told_to_warn(tmp_path):
    pytest.importorskip("sphinx", reason="the build check needs Sphinx (docs extra)")
    (tmp_path / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO / 'docs' / '_ext')!r})
        extensions = ["tinyae_checks"]
        exclude_patterns = ["_build"]
        """))
    (tmp_path / "index.rst").write_text("Home\n====\n\nSaved /tmp/figures/01.png here.\n")
    command = [sys.executable, "-m", "sphinx", "-E", "-b", "html", str(tmp_path),
               str(tmp_path / "_build")]
    env = {k: v for k, v in os.environ.items() if k != "TINYAE_BOOK_CHECKS"}
    failed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert failed.returncode != 0
    assert "index.html: machine path: '/tmp/'" in failed.stderr
    warned = subprocess.run(command + ["-W"], capture_output=True, text=True, timeout=300,
                            env={**env, "TINYAE_BOOK_CHECKS": "warn"})
    assert warned.returncode == 0, warned.stderr
    assert "index.html: machine path" in warned.stdout + warned.stderr


# ----- math in docstrings ---------------------------------------------------------------------
def test_inline_dollars_become_math_roles_and_money_stays_text():
    lines, formulas = docmath.convert(["Computes $y = xW + b$ for $5 or $10."])
    assert lines == ["Computes :math:`y = xW + b` for $5 or $10."]
    assert formulas == ["y = xW + b"]


def test_literals_doctests_and_literal_blocks_are_left_alone():
    source = ["Shown as ``$x$``.", ">>> cost = '$a$'", "Example::", "", "    $b$", "", "$c$"]
    lines, _ = docmath.convert(source)
    assert lines[:5] == source[:5]
    assert lines[6] == ":math:`c`"


def test_display_math_one_line_and_fenced_keeps_its_indentation():
    lines, formulas = docmath.convert([
        "Forward", "-------", "    $$ y = \\sigma(z) $$", "", "  $$", "  a &= b \\\\",
        "  c &= d", "  $$"])
    assert lines[2:6] == ["    .. math::", "", "       y = \\sigma(z)", ""]
    assert lines[7:11] == ["  .. math::", "", "     a &= b \\\\", "     c &= d"]
    assert formulas[0] == "y = \\sigma(z)"


def test_a_backslash_lost_to_a_normal_string_is_reported(monkeypatch):
    warnings = []

    class Logger:
        def warning(self, message, **kwargs):
            warnings.append(message)

    import sphinx.util.logging

    monkeypatch.setattr(sphinx.util.logging, "getLogger", lambda name: Logger())
    lines = ["Forward: $\frac{1}{N}$."]  # "\f" is a form feed here, as in a normal docstring
    docmath.render_math(None, "function", "tinyae.f", None, None, lines)
    assert len(warnings) == 1 and "tinyae.f" in warnings[0] and 'r"""' in warnings[0]


# ----- exercise statements ---------------------------------------------------------------------
def test_pragmas_are_removed_from_the_code_shown_and_the_explanation_kept():
    code = ("import numpy as np  # noqa: F401  (you will need it)\n"
            "from x import y  # noqa: F401, E402\nz = 1  # a comment\n")
    assert book.without_pragmas(code) == ("import numpy as np  # you will need it\n"
                                          "from x import y\nz = 1  # a comment\n")


def test_display_math_loses_the_indentation_that_would_make_it_code():
    text = "Text:\n\n    $$ a = b $$\n\n    $$\n    c = d\n        + e\n    $$\n\n1. x\n   $$ f $$"
    assert book.display_math_for_markdown(text) == (
        "Text:\n\n$$ a = b $$\n\n$$\nc = d\n    + e\n$$\n\n1. x\n   $$ f $$")


@pytest.mark.parametrize("path", book.exercise_files(), ids=lambda p: p.name)
def test_exercise_statements_are_math_not_pseudo_math(path):
    """Formulas are in $...$; no indented (code-block) line is left in the statement."""
    _, statement = book.exercise_statement(path)
    assert "$" in statement
    assert statement.count("$") % 2 == 0, "an unclosed $"
    code_lines = [line for line in statement.splitlines() if line.startswith("    ")
                  and not line.strip().startswith(("$$", "+", "\\", "-", "="))]
    assert not code_lines, f"{path.name}: lines that Markdown would show as code: {code_lines}"
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert not any(c in docstring for c in "\x07\x08\x0b\x0c"), \
        f"{path.name}: a TeX backslash was eaten; the docstring must be r\"\"\"...\"\"\""
    page_text = book.exercise_page(path)
    assert "noqa" not in page_text and "Check your answer" not in page_text


def test_ex10_derivation_is_three_display_equations():
    path = next(p for p in book.exercise_files() if p.name.startswith("ex10"))
    _, statement = book.exercise_statement(path)
    derive = statement.split("Derive\n------", 1)[1]
    assert derive.count("$$") == 6  # three displays, each opened and closed


def test_docstring_math_reaches_the_page_through_autodoc_and_napoleon(tmp_path):
    """A NumPy-style docstring with $...$ and $$...$$, built with the book's hooks."""
    pytest.importorskip("sphinx", reason="the build check needs Sphinx (docs extra)")
    (tmp_path / "planted_module.py").write_text(textwrap.dedent('''
        def dense(x, W, b):
            r"""A dense layer, $y = xW + b$.

            Parameters
            ----------
            x : ndarray
                The batch, $N$ rows.

            Forward
            -------
            $$ y_{nj} = \\sum_i x_{ni} W_{ij} + b_j $$
            """
        '''))
    (tmp_path / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{str(tmp_path)!r}, {str(REPO / 'docs' / '_ext')!r}]
        extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax",
                      "tinyae_docmath"]
        napoleon_custom_sections = ["Forward"]
        exclude_patterns = ["_build"]
        """))
    (tmp_path / "index.rst").write_text("API\n===\n\n.. autofunction:: planted_module.dense\n")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-E", "-W", "-b", "html",
                             str(tmp_path), str(tmp_path / "_build")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "_build" / "index.html").read_text(encoding="utf-8")
    assert r"\(y = xW + b\)" in html and r"\(N\)" in html
    assert r'<div class="math notranslate nohighlight">' in html
    assert r"y_{nj} = \sum_i x_{ni} W_{ij} + b_j" in html
    assert "$" not in html.split("<body", 1)[1]
