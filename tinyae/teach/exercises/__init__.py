"""Gradient exercises and the checker behind ``tinyae check``.

A student writes one backward pass in ``lessons/exercises/exNN_*.py`` (for BatchNorm
and Dropout, the forward pass too: in train and eval mode). The checker
loads the function, runs it on several random cases (batch size 1, non-square
shapes, different seeds) and compares each gradient it returns with

* the hand-derived reference in :data:`EXERCISES` (relative error below
  :data:`tinyae.teach.gradcheck.THRESHOLD`), and
* finite differences of the scalar the gradient belongs to
  (:func:`tinyae.teach.gradcheck.numerical_gradient`), so no answer rests on the
  reference alone. (A forward pass's outputs are not gradients: they are
  compared with the reference only.)

A wrong gradient goes to :func:`tinyae.teach.diagnose.diagnose`, which names the
mistake when it recognises it: a flipped sign, a missing 1/N, a transpose, the
activation's value where its derivative belongs, ...

Usage::

    tinyae check lessons/exercises/ex04_dense_backward.py      # shell; exit code 0 = all pass
    from tinyae.exercises import check_exercise                # notebook
    report = check_exercise(my_dense_backward, name="dense_backward")

The package: ``spec`` (what an exercise is, the registry :data:`EXERCISES`), one module per
topic with its exercises and the mistakes each recognises (``activations``: ex01-03,
``dense``: ex04, ``losses``: ex05-06, ``autoencoder``: ex07, ``penalties``: ex08-09,
``batchnorm``: ex10, ``dropout``: ex11), ``runner`` (loading a file, :func:`check_exercise`)
and ``command`` (``tinyae check`` and its formats, :func:`main_check`).

Conventions, the package's own: row convention ``y = x @ W + b`` with ``x`` of
shape ``(N, features)``; a loss sums over the features and averages over the
batch, so a loss gradient carries exactly one factor ``1/N``.
"""

# Importing a topic module registers its exercises in EXERCISES (kept in the files' order).
from ..checker import check_function
from ..diagnose import PASS_THRESHOLD
from ..report import ExerciseReport, FunctionResult, GradientRow
from . import activations, autoencoder, batchnorm, dense, dropout, losses, penalties  # noqa: F401
from .command import main_check
from .runner import check_exercise, load_functions
from .spec import EXERCISES, Exercise, ExerciseError, Mistake

__all__ = ["EXERCISES", "PASS_THRESHOLD", "Exercise", "ExerciseError", "ExerciseReport",
           "FunctionResult", "GradientRow", "Mistake", "check_exercise", "check_function",
           "load_functions", "main_check"]
