"""The types of the command line's arguments: each a clear one-line error for a bad value."""

import argparse

import numpy as np

ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "identity"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _fraction(text):
    value = _positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def _labeled_fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}") \
            from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], got {text!r}")
    return value


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 32 or 256,64, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer sizes, got {text!r}")
    return sizes


def _noise(text):
    kind, _, level = text.partition(":")
    kinds = ("gaussian", "masking", "salt_pepper")
    if kind not in kinds:
        raise argparse.ArgumentTypeError(f"expected KIND:LEVEL with KIND one of {kinds}, "
                                         f"e.g. gaussian:0.3, got {text!r}")
    try:
        return kind, float(level or 0.2)
    except ValueError:
        raise argparse.ArgumentTypeError(f"noise level must be a number, got {level!r}") from None


def _nonnegative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value < np.inf:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _sparsity(text):
    rho, sep, beta = text.partition(":")
    try:
        rho, beta = float(rho), float(beta) if sep else 3.0
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected RHO:BETA such as 0.05:3, got {text!r}") from None
    if not 0 < rho < 1 or not 0 <= beta < np.inf:
        raise argparse.ArgumentTypeError(
            f"expected RHO:BETA with RHO in (0, 1) and BETA >= 0, such as 0.05:3, got {text!r}")
    return rho, beta


def _dropout(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}") \
            from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def _schedule(text):
    """``--schedule``: ``cosine``, ``step[:STEP[:GAMMA]]`` or ``plateau[:PATIENCE[:FACTOR]]``."""
    kind, *numbers = text.split(":")
    usage = ("expected cosine, step[:STEP[:GAMMA]] or plateau[:PATIENCE[:FACTOR]], e.g. "
             f"plateau:3:0.5, got {text!r}")
    limits = {"cosine": 0, "step": 2, "plateau": 2}
    if kind not in limits or len(numbers) > limits[kind]:
        raise argparse.ArgumentTypeError(usage)
    try:
        values = [float(v) for v in numbers]
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    whole = values[:1]  # STEP and PATIENCE count epochs; GAMMA and FACTOR are fractions
    fraction = values[1:]
    if kind == "step" and any(v < 1 or v != int(v) for v in whole):
        raise argparse.ArgumentTypeError(f"STEP must be a whole number of epochs >= 1, "
                                         f"got {text!r}")
    if kind == "plateau" and any(v < 0 or v != int(v) for v in whole):
        raise argparse.ArgumentTypeError(f"PATIENCE must be a whole number of epochs >= 0, "
                                         f"got {text!r}")
    if any(not 0 < v < 1 for v in fraction):
        raise argparse.ArgumentTypeError(f"the factor must be between 0 and 1, got {text!r}")
    return (kind, *values)
