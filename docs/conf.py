"""Sphinx configuration for the tinyae book.

The stack is the one the NumPy tutorials and Jupyter Book 1 use, all from pip:
Sphinx, MyST-NB (Markdown pages, and notebooks executed at build time),
sphinx-book-theme, jupytext (the lessons stay percent-format scripts), autodoc +
napoleon (NumPy-style docstrings), and the MathJax that sphinx-mathjax-offline ships
(bundled, so the math typesets without a network).

Build:  pip install -e ".[docs]"  then  make -C docs html  ->  docs/_build/html/index.html
The pages under lessons/, exercises/ and reference/ are generated from the sources
by _ext/tinyae_book.py at the start of every build; they are not kept in git.
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "tinyae"
author = "tinyae developers"
copyright = "tinyae developers"
html_title = "tinyae: autoencoders by hand"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_togglebutton",      # admonitions with :class: dropdown (hints, solutions)
    "tinyae_book",
    "tinyae_docmath",           # $...$ and $$...$$ in docstrings -> math
    "tinyae_checks",            # fails the build on what a page must not show
]

# ----- math, offline --------------------------------------------------------------------
# MathJax 3 comes from the sphinx-mathjax-offline package; its files are copied into
# _static/ as static files, and the pages load them from there, never from a CDN. (The
# package's own extension is not loaded: it does not declare itself safe for parallel
# reading, and -j 2 halves the build.)
_MATHJAX = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static"
html_static_path = [str(_MATHJAX), "_static"]
mathjax_path = "mathjax/tex-chtml.js"

exclude_patterns = ["_build", "_ext", "_runs", "_static", "README.md", "conf.py",
                    "screenshots.py", "check_pages.py",
                    "**/syllabus.inc", "Thumbs.db", ".DS_Store"]

# ----- MyST and the lessons ----------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
numfig = True                        # "Fig. 16": the lessons refer to figures by number
myst_heading_anchors = 3
# Lessons are read from their percent-format scripts; tinyae_book.read_lesson adds a
# hidden first cell (a sys.exit guard that prints nothing). The book shows each lesson's
# stored full run: MyST-NB finds it in the jupyter-cache committed under _runs/ (read from
# a copy in the build folder) and executes nothing; tinyae_book stops the build first if a
# lesson changed since its run. Refresh: make -C docs run LESSON=05, or make -C docs run-all.
nb_custom_formats = {".py": "tinyae_book.read_lesson"}
nb_execution_mode = "cache"
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")  # a copy of _runs/jupyter_cache
nb_execution_raise_on_error = True   # (a run that raised is never stored)
nb_execution_show_tb = True
nb_execution_timeout = 1800          # seconds per cell, were a lesson ever executed here
nb_merge_streams = True

# ----- API reference --------------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"           # the docstrings state types and shapes
autodoc_preserve_defaults = True     # dtype=np.float64 as written, not <class 'numpy.float64'>
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_custom_sections = ["Shapes", "Forward", "Backward", "Noise"]  # tinyae's own sections

# ----- HTML -----------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
}
html_last_updated_fmt = None
# Light by default: the figures are drawn on white. An empty default makes the theme log
# an error in the console on every page.
html_context = {"default_mode": "light"}
# Layout (docs/_static/tinyae.css): an 880 px text column at a 1280 px window, 88
# characters of code without a scrollbar, output that wraps, equations that never clip.
html_css_files = ["tinyae.css"]
html_js_files = ["tinyae.js"]         # a display equation slightly too wide is set smaller
