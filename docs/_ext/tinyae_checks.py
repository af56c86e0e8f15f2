"""What a reader must never see on a page of the book, checked over the built HTML.

At the end of every HTML build (Sphinx's ``build-finished``) each page's main text is
searched for

* a **fast-mode marker**: ``fast mode``, ``TINYAE_FAST`` (the book shows full runs;
  fast mode is for the test suite);
* a **machine path**: ``/tmp/``, ``/work/``, ``/root/``, ``ipykernel_``,
  ``tinyae-book-figures`` (the build machine's folders mean nothing to a reader);
* a **linter pragma**: ``noqa``, ``ruff:``, ``type: ignore``, ``pylint:``, ``fmt: off``;
* a **traceback**: ``Traceback (most recent call last)``, or an error output;
* a **long output**: a cell whose output is longer than :data:`MAX_OUTPUT_LINES` lines,
  unless the cell carries the tag :data:`LONG_OUTPUT_TAG` (in a lesson:
  ``# %% tags=["long-output"]``).

Every finding names the page and what was found, and the build fails. While the
lessons are being fixed, ``TINYAE_BOOK_CHECKS=warn make -C docs html`` lists the
findings without failing (and without Sphinx warnings, so ``-W`` does not fail either).

The functions take HTML text or a folder, so the tests use them without Sphinx; they
need BeautifulSoup, which the book theme (pydata-sphinx-theme) depends on.
"""

import os
import re
from pathlib import Path

MAX_OUTPUT_LINES = 40
LONG_OUTPUT_TAG = "long-output"
MODES = ("error", "warn")

# (kind, pattern): searched in the text a reader sees, case-insensitively.
PATTERNS = (
    ("fast-mode marker", re.compile(r"\bfast[ _-]mode\b|\bTINYAE_FAST\b", re.IGNORECASE)),
    ("machine path", re.compile(r"/tmp/|/work/|/root/|ipykernel_|tinyae-book-figures")),
    ("linter pragma", re.compile(r"\bnoqa\b|\bruff:|\btype:\s*ignore\b|\bpylint:|\bfmt:\s*off\b",
                                 re.IGNORECASE)),
    ("traceback", re.compile(r"Traceback \(most recent call last\)")),
)
KINDS = tuple(kind for kind, _ in PATTERNS) + ("long output",)


def _soup(html):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def main_text_element(soup):
    """The page's own content: the theme's article, or Sphinx's ``role=main`` body."""
    return (soup.select_one("article.bd-article") or soup.select_one('[role="main"]')
            or soup.body or soup)


def _excerpt(text, start, end, width=40):
    before = text[max(0, start - width):start]
    after = text[end:end + width]
    return " ".join(f"{before}{text[start:end]}{after}".split())


def output_length(cell):
    """Lines of output a notebook cell shows (all its output blocks together)."""
    lines = 0
    for block in cell.select("div.cell_output pre"):
        text = block.get_text().rstrip("\n")
        lines += len(text.split("\n")) if text else 0
    return lines


def page_problems(html):
    """``[(kind, what was found)]`` for one page's HTML text; ``[]`` when it is clean."""
    main = main_text_element(_soup(html))
    for hidden in main.select("script, style"):
        hidden.decompose()
    problems = []
    text = main.get_text()
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            problems.append((kind, f"{match.group(0)!r} in \u00ab"
                                   f"{_excerpt(text, match.start(), match.end())}\u00bb"))
    if main.select_one("div.output.traceback, div.output.error") and not any(
            kind == "traceback" for kind, _ in problems):
        problems.append(("traceback", "an error output (a cell raised)"))
    for number, cell in enumerate(main.select("div.cell"), 1):
        if f"tag_{LONG_OUTPUT_TAG}" in (cell.get("class") or []):
            continue
        lines = output_length(cell)
        if lines > MAX_OUTPUT_LINES:
            first = cell.select_one("div.cell_output pre").get_text().strip().split("\n")[0]
            problems.append(("long output", (
                f"code cell {number} prints {lines} lines (over {MAX_OUTPUT_LINES}; tag it "
                f"{LONG_OUTPUT_TAG!r} if that is meant), starting \u00ab{first[:60]}\u00bb")))
    return problems


def site_problems(html_dir):
    """``[(page, kind, what was found)]`` over every page of a built site."""
    html_dir = Path(html_dir)
    found = []
    for page in sorted(html_dir.rglob("*.html")):
        relative = page.relative_to(html_dir).as_posix()
        if relative.startswith(("_static/", "_sources/", "_modules/")) or relative in (
                "search.html", "genindex.html", "py-modindex.html"):
            continue
        for kind, detail in page_problems(page.read_text(encoding="utf-8", errors="replace")):
            found.append((relative, kind, detail))
    return found


def check_mode():
    """``error`` (the default) or ``warn``, from ``TINYAE_BOOK_CHECKS``."""
    mode = os.environ.get("TINYAE_BOOK_CHECKS", "error").strip().lower() or "error"
    if mode not in MODES:
        raise ValueError(f"TINYAE_BOOK_CHECKS must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def summary(found):
    """One line: how many findings of each kind, on how many pages."""
    counts = {kind: sum(1 for _, k, _ in found if k == kind) for kind in KINDS}
    pages = len({page for page, _, _ in found})
    listed = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    return f"{len(found)} problems on {pages} pages ({listed})" if found else "no problems"


def check_built_pages(app, exception):
    """``build-finished``: fail the build (or, in warn mode, list) what pages must not show."""
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    mode = check_mode()
    found = site_problems(app.outdir)
    for page, kind, detail in found:
        message = f"{page}: {kind}: {detail}"
        if mode == "error":
            logger.warning(message, type="tinyae", subtype="pages")
        else:
            logger.info(f"page check (TINYAE_BOOK_CHECKS=warn): {message}")
    if found and mode == "error":
        logger.error(f"page check: {summary(found)}, listed above. Fix the pages (or tag a "
                     f"long output {LONG_OUTPUT_TAG!r}); TINYAE_BOOK_CHECKS=warn builds anyway.")
        app.statuscode = 1  # the build fails, with or without -W
    else:
        logger.info(f"page check: {summary(found)}")


def setup(app):
    check_mode()  # a misspelt mode fails at once, not after the build
    app.connect("build-finished", check_built_pages, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
