"""The browser check of the book (docs/check_pages.py), shown to fail on planted pages.

A tiny site is built with the book's own theme, CSS and bundled MathJax: one good page
and one page per kind of failure (an overflowing equation, a missing image, a formula
MathJax cannot typeset, a console error, a request to the network). Headless Chromium
then opens each from file:// with the network blocked. The good page must pass (its text
column at least 880 px at 1280 px); each planted page must fail for its own reason.

Needs Debian's chromium and chromium-driver and the docs extra. Without the browser the
tests skip, except where TINYAE_REQUIRE_BROWSER=1 (set by .ci/run), where they fail.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs"))
import check_pages  # noqa: E402  (docs/ is not a package)

BROWSER = check_pages.find_binary("chromium", "chromium-browser") and \
    check_pages.find_binary("chromedriver")
if not BROWSER and os.environ.get("TINYAE_REQUIRE_BROWSER") != "1":
    pytest.skip("the browser check needs chromium and chromedriver "
                "(apt-get install chromium chromium-driver)", allow_module_level=True)
for module in ("sphinx_book_theme", "myst_parser", "selenium"):
    pytest.importorskip(module, reason="the book's browser check needs the docs extra")

CODE_88 = ("total = " + " + ".join(f"x{i:02d}" for i in range(20)))[:88]  # the lessons' limit
WIDE = " + ".join(rf"\frac{{a_{{{i}}}}}{{b_{{{i}}}}}" for i in range(40))
PAGES = {
    "good": f"""
        # A good page

        Inline math $\\sigma(z) = 1/(1 + e^{{-z}})$ and a display:

        $$ L = \\frac{{1}}{{N}} \\sum_n \\sum_j (\\hat x_{{nj}} - x_{{nj}})^2 $$

        ![a figure](figure.png)

        ```python
        {CODE_88}
        ```
        """,
    "wide_equation": f"""
        # An equation wider than the column

        $$ y = {WIDE} $$
        """,
    "missing_image": """
        # An image that is gone

        ![a figure](gone.png)
        """,
    "shrunk_image": """
        # A figure squeezed below its natural size

        ```{raw} html
        <p style="width: 200px"><img src="_images/figure.png" alt="squeezed"></p>
        ```
        """,
    "bad_math": """
        # A formula MathJax cannot typeset

        $\\notamacro{x} + 1$
        """,
    "console_error": """
        # A script that fails

        ```{raw} html
        <script>console.error("planted error");</script>
        ```
        """,
    "network": """
        # A picture from the web

        ```{raw} html
        <img src="https://example.com/picture.png" alt="from the web">
        ```
        """,
}
CONF = """
import importlib.util
from pathlib import Path
extensions = ["myst_parser", "sphinx.ext.mathjax"]
myst_enable_extensions = ["dollarmath", "amsmath"]
_MATHJAX = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static"
html_static_path = [str(_MATHJAX), {static!r}]
mathjax_path = "mathjax/tex-chtml.js"
html_css_files = ["tinyae.css"]
html_theme = "sphinx_book_theme"
html_context = {{"default_mode": "light"}}
exclude_patterns = ["_build"]
"""


def png(path, width, height):
    """A small RGB PNG, written with matplotlib (a test dependency already)."""
    import numpy as np
    from matplotlib import image

    rng = np.random.default_rng(0)
    image.imsave(path, rng.random((height, width, 3)))


@pytest.fixture(scope="module")
def planted_site(tmp_path_factory):
    if importlib.util.find_spec("sphinx-mathjax-offline") is None:
        pytest.skip("the book's bundled MathJax needs the docs extra (sphinx-mathjax-offline)")
    source = tmp_path_factory.mktemp("planted")
    (source / "conf.py").write_text(CONF.format(static=str(REPO / "docs" / "_static")))
    toctree = "\n".join(PAGES)
    (source / "index.md").write_text(f"# Planted\n\n```{{toctree}}\n{toctree}\n```\n")
    for name, text in PAGES.items():
        (source / f"{name}.md").write_text(textwrap.dedent(text))
    png(source / "figure.png", 400, 200)
    png(source / "gone.png", 100, 50)
    out = source / "_build"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(source),
                             str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (out / "_images" / "gone.png").unlink()  # planted: the page points at a missing file
    results = check_pages.check_site(out, pages=[f"{name}.html" for name in PAGES],
                                     screenshots=None, log=lambda line: None)
    by_name = {page.removesuffix(".html"): value for page, value in results.items()}
    by_name["_site"] = out
    return by_name


def kinds(results, page):
    return {kind for kind, _ in results[page][0]}


def test_a_good_page_passes_with_a_wide_column(planted_site):
    problems, column = planted_site["good"]
    assert problems == []
    assert column >= check_pages.MIN_COLUMN


def test_an_overflowing_equation_fails(planted_site):
    problems, _ = planted_site["wide_equation"]
    assert kinds(planted_site, "wide_equation") == {"overflow"}
    assert any("mjx-container" in detail or "math" in detail for _, detail in problems)


def test_a_missing_image_fails(planted_site):
    problems, _ = planted_site["missing_image"]
    assert "image" in kinds(planted_site, "missing_image")
    assert any("gone.png" in detail for kind, detail in problems if kind == "image")


def test_a_figure_shown_smaller_than_it_is_fails(planted_site):
    problems, _ = planted_site["shrunk_image"]
    assert kinds(planted_site, "shrunk_image") == {"image"}
    assert any("natural 400 px" in detail for _, detail in problems)


def test_a_formula_mathjax_cannot_typeset_fails(planted_site):
    assert kinds(planted_site, "bad_math") == {"math"}


def test_a_console_error_fails(planted_site):
    problems, _ = planted_site["console_error"]
    assert kinds(planted_site, "console_error") == {"console"}
    assert any("planted error" in detail for _, detail in problems)


def test_a_request_to_the_network_fails_and_is_blocked(planted_site):
    problems, _ = planted_site["network"]
    found = kinds(planted_site, "network")
    assert "network" in found
    assert "image" in found  # blocked, so the picture never loads
    assert any("example.com" in detail for kind, detail in problems if kind == "network")


def test_the_command_line_exits_1_on_a_failing_page_and_2_without_a_site(planted_site,
                                                                         tmp_path):
    site = planted_site["_site"]
    assert check_pages.main([str(site), "--page", "missing_image.html",
                             "--screenshots", ""]) == 1
    assert check_pages.main([str(site), "--page", "good.html", "--screenshots", ""]) == 0
    assert check_pages.main([str(tmp_path / "nothing"), "--screenshots", ""]) == 2
