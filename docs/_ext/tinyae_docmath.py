"""Formulas in tinyae's docstrings, typeset by MathJax in the API reference.

A docstring is read in a terminal (``help(ta.Dense)``) as often as in the book, so its
formulas are written the way Markdown and MyST write them, and this hook (Sphinx's
``autodoc-process-docstring``, after napoleon) turns them into Sphinx math:

* inline ``$y = xW + b$`` -> ``:math:`y = xW + b```. The dollars follow Pandoc's rule:
  the opening ``$`` is followed by a non-space, the closing one preceded by a non-space
  and not followed by a digit, both on one line; so ``$5 or $10`` stays text.
* display, one line: ``$$ \\frac{\\partial L}{\\partial W} = x^\\top \\delta $$`` alone on
  its line -> a ``.. math::`` block at that indentation.
* display, several lines: a line ``$$``, the formula's lines, a line ``$$``.
* Sphinx's own ``:math:`...``` and ``.. math::`` pass through unchanged.

Nothing inside a ``literal`` in double backticks, after ``>>>`` or in a ``::`` literal
block is touched. TeX needs backslashes, and ``"\\frac"`` in a normal string is a form
feed followed by ``rac`` (likewise ``\\beta``, ``\\rho``, ``\\vec``; ``\\theta`` and
``\\nabla`` lose their letter to a tab and a newline): a docstring with TeX is written
``r\"\"\"...\"\"\"``. A docstring holding a control character is reported as a
warning naming the object. Unicode letters (σ, μ, Σ) work inside TeX too; MathJax
typesets them.
"""

import re

INLINE = re.compile(r"(?<![\\$])\$(?=\S)([^$\n]*?\S)\$(?!\d)(?!\$)")
LITERAL = re.compile(r"``.+?``")
DISPLAY_LINE = re.compile(r"^(\s*)\$\$(.+)\$\$\s*$")
FENCE = re.compile(r"^(\s*)\$\$\s*$")
CONTROL = re.compile(r"[\x07\x08\x0b\x0c\x0d]")  # a tab is expanded before the hook sees it


def _inline(line):
    """``$...$`` spans of one line -> ``:math:`...```, leaving ``literals`` alone."""
    if "$" not in line or line.lstrip().startswith((">>>", "...")):
        return line
    out, last = [], 0
    for literal in LITERAL.finditer(line):
        out.append(INLINE.sub(r":math:`\1`", line[last:literal.start()]))
        out.append(literal.group(0))
        last = literal.end()
    out.append(INLINE.sub(r":math:`\1`", line[last:]))
    return "".join(out)


def convert(lines):
    """A docstring's reST lines with ``$``/``$$`` math -> Sphinx math (a new list).

    Returns ``(lines, formulas)``: the converted lines and the text of every formula
    found, so that the caller can check them.
    """
    out, formulas, i = [], [], 0
    literal_indent = None  # inside a "::" literal block: the indentation that opened it
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if line.strip() and indent <= literal_indent:
                literal_indent = None
            else:
                out.append(line)
                i += 1
                continue
        fence, single = FENCE.match(line), DISPLAY_LINE.match(line)
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if FENCE.match(lines[j])), None)
            if end is not None:
                lead = fence.group(1)
                body = [text.strip() for text in lines[i + 1:end]]
                formulas.append("\n".join(body))
                out += [f"{lead}.. math::", ""] + [f"{lead}   {text}" if text else ""
                                                    for text in body] + [""]
                i = end + 1
                continue
        if single:
            lead, formula = single.group(1), single.group(2).strip()
            formulas.append(formula)
            out += [f"{lead}.. math::", "", f"{lead}   {formula}", ""]
            i += 1
            continue
        converted = _inline(line)
        formulas += re.findall(r":math:`([^`]*)`", converted)
        out.append(converted)
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            literal_indent = indent
        i += 1
    return out, formulas


def render_math(app, what, name, obj, options, lines):
    """``autodoc-process-docstring``: rewrite the lines in place; warn on a lost backslash."""
    lost = [line for line in lines if CONTROL.search(line)]
    lines[:] = convert(lines)[0]
    if lost:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            f"{name}: the docstring holds a control character ({lost[0].strip()!r}): a "
            "backslash in a normal string (\\f, \\b, \\r, \\v, \\a) is not TeX; write "
            "the docstring as r\"\"\"...\"\"\"", type="tinyae", subtype="docmath")


def setup(app):
    app.setup_extension("sphinx.ext.napoleon")
    app.connect("autodoc-process-docstring", render_math, priority=600)  # after napoleon
    return {"parallel_read_safe": True, "parallel_write_safe": True}
