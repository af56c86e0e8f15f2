"""Loading a student's file and checking it: ``load_functions``, ``check_exercise``."""

import importlib.util
import time
from pathlib import Path

from ..checker import check_function
from ..crash import crash_location
from ..report import ExerciseReport
from .spec import EXERCISES, ExerciseError


def load_functions(path):
    """``{name: function}`` for every exercise function defined in the Python file ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ExerciseError(f"no such file: {path}" if not path.exists()
                            else f"{path} is not a file; give a .py exercise file")
    spec = importlib.util.spec_from_file_location(f"_tinyae_exercise_{path.stem}", path)
    if spec is None or path.suffix != ".py":
        raise ExerciseError(f"{path} is not a Python file; give a .py exercise file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ExerciseError(f"cannot import {path}: {type(exc).__name__}: {exc.msg} "
                            f"(line {exc.lineno})") from None
    except (Exception, SystemExit) as exc:
        raise ExerciseError(f"cannot import {path}: {type(exc).__name__}: {exc} "
                            f"({crash_location(exc, str(path))})") from None
    found = {name: vars(module)[name] for name in EXERCISES if name in vars(module)}
    if not found:
        raise ExerciseError(f"{path} defines no exercise function; expected one of "
                            f"{', '.join(EXERCISES)} (keep the name from the exercise file)")
    return found


def check_exercise(path_or_function, name=None, verbose=True, shapes=None, seed=0):
    """Check a student's gradient function: from a file, or a function object (notebooks).

    Parameters
    ----------
    path_or_function : str, Path or callable
        An exercise file such as ``lessons/exercises/ex04_dense_backward.py`` (every
        exercise function it defines is checked), or the function itself.
    name : str, optional
        Which exercise: needed when a function's ``__name__`` is not the exercise's
        (``check_exercise(my_attempt, name="dense_backward")``); for a file, check
        only this function.
    verbose : bool
        Print the report.
    shapes : list of tuple, optional
        The cases' shapes (default: the exercise's own, with batch size 1 and
        non-square shapes); case ``i`` uses seed ``seed + i``.

    Returns
    -------
    ExerciseReport

    Raises
    ------
    ExerciseError
        When there is nothing to check: no such file, no exercise function, or
        the file cannot be imported.
    """
    if callable(path_or_function):
        fn = path_or_function
        name = name or getattr(fn, "__name__", None)
        if name not in EXERCISES:
            raise ExerciseError(f"no exercise named {name!r}; pass name=... with one of "
                                f"{', '.join(EXERCISES)}")
        code = getattr(fn, "__code__", None)
        functions, source = {name: fn}, code.co_filename if code else repr(fn)
    else:
        source = str(path_or_function)
        functions = load_functions(path_or_function)
        if name is not None:
            if name not in functions:
                raise ExerciseError(f"{source} does not define {name}; it defines "
                                    f"{', '.join(functions)}")
            functions = {name: functions[name]}
    results = []
    for n, f in functions.items():
        start = time.perf_counter()
        results.append(check_function(EXERCISES[n], f, source, shapes, seed))
        results[-1].seconds = time.perf_counter() - start
    report = ExerciseReport(source, results)
    if verbose:
        print(report)
    return report
