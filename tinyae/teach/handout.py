"""``tinyae exercises release DIR``: the students' handout, statements only.

Copies each exercise statement (``lessons/exercises/exNN_*.py``) into ``DIR`` with
its check command rewritten for the handout's folder and the pointer to the
instructors' solutions removed, and writes a short ``README.md`` with the table of
exercises, their points and the check command. Before writing anything it makes
sure that every function in a statement is still a stub (its body ends in
``raise NotImplementedError``): pointing the command at the solutions folder by
mistake is refused, so no solution reaches the students.
"""

import ast
import re
from pathlib import Path

from .exercises.spec import EXERCISES, ExerciseError

#: The repository's folders, when tinyae runs from a clone (``pip install -e .``).
STATEMENTS = Path(__file__).resolve().parents[2] / "lessons" / "exercises"

_FOR_INSTRUCTORS = re.compile(r"\n?\(For instructors: [^)]*\)\n")


def _stub_problem(path, text):
    """Why ``text`` is not a statement (a function with a body beyond the stub), or None."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return f"it does not parse ({exc.msg}, line {exc.lineno})"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in EXERCISES:
            body = [s for s in node.body if not (isinstance(s, ast.Expr)
                                                 and isinstance(s.value, ast.Constant))]
            stub = (len(body) == 1 and isinstance(body[0], ast.Raise)
                    and "NotImplementedError" in ast.unparse(body[0]))
            if not stub:
                return (f"{node.name} has code beyond `raise NotImplementedError` (line "
                        f"{node.lineno}): is this a solution?")
    return None


def statement_files(source=None, only=None):
    """The statement files to hand out, ``[Path, ...]``, from ``source`` (the lessons')."""
    source = Path(source) if source is not None else STATEMENTS
    if not source.is_dir():
        raise ExerciseError(f"no exercise statements at {source}: they are in the tinyae "
                            "repository's lessons/exercises/ (run from a clone, or give "
                            "--from FOLDER)")
    files = sorted(source.glob("ex[0-9][0-9]_*.py"))
    if only:
        wanted = {f"ex{int(n):02d}" for n in only}
        files = [f for f in files if f.name[:4] in wanted]
        missing = wanted - {f.name[:4] for f in files}
        if missing:
            raise ExerciseError(f"no statement for {', '.join(sorted(missing))} in {source}")
    if not files:
        raise ExerciseError(f"no exercise statements (exNN_*.py) in {source}")
    return files


def _readme(files):
    rows = []
    for f in files:
        for ex in (e for e in EXERCISES.values() if e.file == f.stem):
            rows.append(f"| `{f.name}` | `{ex.signature}` | {ex.points} |")
    total = sum(ex.points for ex in EXERCISES.values() if ex.file in {f.stem for f in files})
    return "\n".join([
        "# Exercises: derive a gradient, then let tinyae check it", "",
        "Each file asks for one backward pass (or a forward pass and its backward). Read its "
        "docstring, derive the gradient on paper, then replace `raise NotImplementedError(...)` "
        "with your code. Keep the function's name and arguments: that is how it is graded.", "",
        "| File | Function | Points |", "|---|---|---|", *rows, f"| | total | {total} |", "",
        "## Check your answer before you hand it in", "",
        "```bash",
        "pip install -e path/to/tinyae    # once: a clone of tinyae (your course says where)",
        f"tinyae check {files[0].name}",
        "tinyae check ex*.py       # all of them; exit code 0 when everything passes",
        "```", "",
        "The checker runs your function on several random cases and compares every gradient "
        "with a hand-derived reference and with finite differences. When a gradient is wrong "
        "it says how, when it recognises the mistake: a flipped sign, a missing 1/N, a "
        "transposed matrix, a sum over the wrong axis, ...", ""])


def release(out_dir, source=None, only=None, overwrite=False):
    """Write the handout to ``out_dir``; return the paths written.

    Parameters
    ----------
    out_dir : str or Path
        The handout folder (created).
    source : str or Path, optional
        Where the statements are (default: the repository's ``lessons/exercises``).
    only : list of int, optional
        Exercise numbers to hand out (default: all).
    overwrite : bool
        Replace files of the same names already in ``out_dir``.
    """
    files = statement_files(source, only)
    texts = {}
    for f in files:
        text = f.read_text(encoding="utf-8")
        problem = _stub_problem(f, text)
        if problem:
            raise ExerciseError(f"refused to hand out {f}: {problem}")
        text = text.replace(f"tinyae check lessons/exercises/{f.name}", f"tinyae check {f.name}")
        texts[f.name] = _FOR_INSTRUCTORS.sub("\n", text)
    texts["README.md"] = _readme(files)
    out_dir = Path(out_dir)
    clash = [name for name in texts if (out_dir / name).exists()]
    if clash and not overwrite:
        raise ExerciseError(f"{out_dir} already holds {', '.join(clash)}; choose an empty "
                            "folder or pass --overwrite")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    return written
