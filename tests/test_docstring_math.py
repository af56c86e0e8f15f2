"""The formulas in tinyae's docstrings reach the API reference as math.

The docstrings write formulas as ``$...$`` and ``$$...$$`` (docs/_ext/tinyae_docmath.py turns
them into Sphinx math). Two mistakes would show on the page as broken text, and neither needs
Sphinx to find: a backslash in a normal string (``"\\frac"`` is a form feed and ``rac``), and a
``$`` that opens a formula nobody closes.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "docs" / "_ext"))
from tinyae_docmath import LITERAL, convert  # noqa: E402  (docs/_ext is not a package)

SOURCES = sorted((REPO / "tinyae").rglob("*.py"))


def docstrings(path):
    """``[(name, source text of the literal, docstring)]`` of a module, its classes, functions."""
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                found.append((getattr(node, "name", "<module>"),
                              ast.get_source_segment(source, body[0].value),
                              ast.get_docstring(node)))
    return found


def leftover_dollars(docstring):
    """Lines that still hold a ``$`` once the formulas are converted (outside ``literals``)."""
    lines, _ = convert(docstring.splitlines())
    left = []
    for line in lines:
        if line.lstrip().startswith((">>>", "...")):
            continue
        text = re.sub(r":math:`[^`]*`", "", LITERAL.sub("", line))
        if "$" in text:
            left.append(line.strip())
    return left


def test_the_checks_can_fail():
    assert leftover_dollars("Forward: $y = xW + b.") == ["Forward: $y = xW + b."]
    assert leftover_dollars("Forward: $y = xW + b$, ``cost = $5``.") == []
    path = REPO / "tests" / "_planted_docstring.py"
    try:
        path.write_text('def f():\n    """$\\frac{1}{N}$"""\n', encoding="utf-8")
        [(_, literal, doc)] = [d for d in docstrings(path) if d[0] == "f"]
        assert "\x0c" in doc and not literal.startswith("r")
    finally:
        path.unlink()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO / "tinyae")))
def test_docstring_formulas_are_closed_and_keep_their_backslashes(path):
    for name, literal, docstring in docstrings(path):
        assert "\\" not in literal or literal[:1] in "rR", (
            f"{path.name}: {name}: a docstring with a backslash must be r\"\"\"...\"\"\" "
            "(in a normal string \\f, \\b, \\t, \\n eat the TeX command's first letter)")
        assert not leftover_dollars(docstring), (
            f"{path.name}: {name}: a $ that opens no formula: {leftover_dollars(docstring)}")
