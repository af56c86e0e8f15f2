"""What an exercise is: the function to write, its cases, its reference, its mistakes.

Every topic module of this package (``activations``, ``dense``, ``losses``,
``autoencoder``, ``penalties``, ``batchnorm``, ``dropout``) declares its exercises as
:class:`Exercise` records, each with the common wrong answers it recognises
(:class:`Mistake`), and adds them to :data:`EXERCISES` with :func:`register`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import TinyAEError


class ExerciseError(TinyAEError, ValueError):
    """The exercise cannot be checked at all: no such file, no known function, no import."""


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer, computed from the exercise's inputs.

    ``compute(*args)`` returns what the mistaken code returns: a value shaped like
    the reference's, or, when ``output`` names one gradient (``"db"``), that gradient only.
    A mistake with no one definite answer (a dropout mask drawn from the student's own
    random generator) returns instead a test, a function ``got -> bool`` that
    recognises any of its answers.
    """

    label: str
    explanation: str
    compute: Callable
    output: str = None


@dataclass(frozen=True)
class Exercise:
    """One exercise: the function to write, how to test it, and the mistakes to recognise.

    ``make_inputs(shape, rng)`` draws the arguments for one case; ``reference``
    returns the right gradients (one array, or a tuple in the order of
    ``outputs``); ``loss(*args)`` is the scalar whose gradient with respect to the
    argument ``wrt[k]`` is ``outputs[k]``; ``sizes(*args)`` gives the batch size
    ``N`` (and number of features ``D``) for the scale-factor diagnoses. A forward
    pass's outputs are not gradients: their ``wrt`` is None and they have no ``loss``.
    ``points``: what the function is worth in a grade (all of them when it passes,
    none otherwise), for ``tinyae check --format json/junit/gradescope`` and
    ``tinyae exercises grade``.
    """

    function: str
    file: str
    args: tuple
    outputs: tuple
    wrt: tuple
    forward: str
    shape_names: tuple
    shapes: tuple
    make_inputs: Callable
    reference: Callable
    loss: Callable = None
    sizes: Callable = lambda *args: {}
    mistakes: tuple = ()
    points: int = 1

    @property
    def signature(self):
        outs = self.outputs[0] if len(self.outputs) == 1 else f"({', '.join(self.outputs)})"
        return f"{self.function}({', '.join(self.args)}) -> {outs}"


# ----- input generators (np.random.default_rng only) ------------------------------------
def away_from_zero(rng, shape):
    """Entries in ±[0.1, 3]: never within a finite-difference step of a ReLU kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)


def z_and_grad_out(shape, rng):
    return 2 * rng.standard_normal(shape), rng.standard_normal(shape)


def batch_size(*args):
    return {"N": args[0].shape[0]}


def batch_and_features(*args):
    return {"N": args[0].shape[0], "D": args[0].shape[1]}




def dsigmoid(a):
    """σ'(z) written with the output a = σ(z): a(1 − a)."""
    return a * (1 - a)



#: function name -> :class:`Exercise`, in the order of the exercise files
EXERCISES = {}


def register(exercise):
    """Add ``exercise`` to :data:`EXERCISES` under its function's name."""
    EXERCISES[exercise.function] = exercise
    # in the order of the files (ex01, ex02, ...) whatever order the topic modules load in;
    # sorted() is stable, so the functions of one file keep the order they were registered in
    ordered = sorted(EXERCISES.values(), key=lambda ex: ex.file)
    EXERCISES.clear()
    EXERCISES.update((ex.function, ex) for ex in ordered)


def exercises_of_file(path):
    """The exercises a file is meant to hold, from its name: ``ex04_*.py`` -> ``[dense_backward]``.

    Used to give a file that cannot be checked (missing, not importable) a zero for each
    function it should have defined; ``[]`` when the name starts with no exercise number.
    """
    number = Path(path).name[:4]
    return [ex for ex in EXERCISES.values() if ex.file[:4] == number and number.startswith("ex")]
