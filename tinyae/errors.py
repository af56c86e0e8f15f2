"""The errors tinyae raises, so a caller can catch exactly what went wrong.

Every error subclasses :class:`TinyAEError` *and* the built-in exception a
Python user would expect (``ValueError`` for a bad value or shape,
``TypeError`` for a bad dtype), so ``except ValueError`` still works.
Messages always name what was expected and what was given.
"""


class TinyAEError(Exception):
    """Base class of every error tinyae raises on purpose."""


class ShapeError(TinyAEError, ValueError):
    """An array has the wrong number of dimensions or the wrong size."""


class DTypeError(TinyAEError, TypeError):
    """An array has the wrong dtype (e.g. integers where floats are needed)."""


class NotFiniteError(TinyAEError, ValueError):
    """An array holds NaN or infinity where finite numbers are required."""


class ForwardNotCalledError(TinyAEError, ValueError):
    """``backward`` was called before ``forward``: there is nothing to differentiate.

    A ``ValueError`` because the module is not in a state that accepts the call.
    """


class DataFormatError(TinyAEError, ValueError):
    """A data file is missing, truncated, or not in the format it claims."""


class ModelFileError(TinyAEError, ValueError):
    """A saved model file is truncated, corrupted, foreign, or from a newer tinyae."""


class DivergenceError(TinyAEError, FloatingPointError):
    """Training produced a NaN or infinite loss; the last finite parameters are kept."""


class NotFittedError(TinyAEError, ValueError):
    """A model such as ``PCA`` was used before ``fit``."""
