"""A crash in a student's function, told in three lines: what, where in their file, a hint.

Never a traceback: :func:`explain_crash` gives the exception, the line of the student's
file it came from (:func:`crash_location`) and one sentence of advice (:func:`crash_hint`).
"""

import os
import traceback

_HINTS = {
    NameError: "a name is not defined: a typo, or a missing import "
               "(import numpy as np; from tinyae.activations import sigmoid)",
    AttributeError: "an attribute does not exist: check the spelling (arrays have .T, .shape, "
                    ".sum(axis=...); NumPy has no np.sigmoid, use tinyae.activations.sigmoid)",
    IndexError: "an index is out of range: with batch size N = 1 an axis has length 1, so "
                "avoid hard-coded indices and loops over fixed sizes",
    ZeroDivisionError: "a division by zero: divide by an array size only when it is not 0",
    RecursionError: "the function calls itself without end",
    TypeError: "an operation got the wrong kind of value (e.g. None, a list, or a function "
               "that was not called)",
}


def crash_hint(exc, shapes=""):
    """One sentence of advice for an exception raised inside a student's function."""
    text = str(exc)
    if isinstance(exc, ValueError) and any(w in text for w in ("matmul", "broadcast", "align",
                                                               "shape")):
        hint = ("the shapes do not line up: write each array's shape next to the line; "
                "a @ b needs a.shape[-1] == b.shape[0], so transpose (.T) where the math "
                "has a transpose")
    else:
        hint = next((h for kind, h in _HINTS.items() if isinstance(exc, kind)),
                    "read the message and the line above")
    return hint + (f". The arguments were: {shapes}" if shapes else "")


def crash_location(exc, filename):
    """``"line 12: dW = x @ grad_out"``: the last frame of the traceback inside ``filename``."""
    target = os.path.realpath(filename) if filename else None
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if target and os.path.realpath(f.filename) == target]
    if not frames:
        return "not in your file (inside a function it called)"
    frame = frames[-1]
    return f"line {frame.lineno}" + (f": {frame.line.strip()}" if frame.line else "")


def explain_crash(exc, filename, shapes=""):
    """Exception type and message, the line in the student's file, and a hint; no traceback."""
    return (f"{type(exc).__name__}: {exc}\n"
            f"  at {crash_location(exc, filename)}\n"
            f"  hint: {crash_hint(exc, shapes)}")
