"""Your backward pass trains the model: ex01's sigmoid and ex04's dense layer, in place of tinyae's.

Once ``sigmoid_backward`` (ex01) and ``dense_backward`` (ex04) pass their checks,
:func:`train_with_student` trains the shallow autoencoder of exercise 7,
``x̂ = σ(σ(x @ W1 + b1) @ W2 + b2)`` with squared error, on the built-in digits twice
from the same initial weights and the same shuffling: once with tinyae's own
backward passes, once with the student's functions doing every backward step of
every Dense and Sigmoid layer. The two runs give the same numbers (to rounding,
float64), and the picture shows both loss curves and both reconstructions.
A function that does not pass its check is refused before training, with its
diagnosis: a wrong gradient would only train a worse model, silently.

From the shell: ``tinyae check --train ex01_sigmoid_backward.py ex04_dense_backward.py``.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import plots
from ..data.datasets import load_digits, train_test_split
from ..models.autoencoder import Autoencoder
from ..nn.activations import Sigmoid
from ..nn.dense import Dense
from ..optim.optimizers import Adam
from .exercises.runner import check_exercise
from .exercises.spec import ExerciseError


class StudentDense(Dense):
    """A Dense layer whose backward pass is the student's ``dense_backward``."""

    def __init__(self, layer, dense_backward):
        super().__init__(layer.n_in, layer.n_out, layer.init, 0, layer.dtype)
        for name, value in layer.params.items():   # the same initial weights as ``layer``
            self.params[name][...] = value
        self.dense_backward = dense_backward

    def backward(self, grad_out, input_grad=True):
        x = self._cached()
        self._check_grad_out(grad_out, (x.shape[0], self.n_out))
        W, b = self.params["W"], self.params["b"]
        dx, dW, db = self.dense_backward(x.copy(), W.copy(), b.copy(), grad_out.copy())
        self.grads["W"][...] = dW
        self.grads["b"][...] = db
        return np.asarray(dx, dtype=self.dtype) if input_grad else None


class StudentSigmoid(Sigmoid):
    """A sigmoid whose backward pass is the student's ``sigmoid_backward(z, grad_out)``.

    It keeps the pre-activation ``z`` as well as ``a``: the student's function takes ``z``.
    """

    def __init__(self, sigmoid_backward):
        super().__init__()
        self.sigmoid_backward = sigmoid_backward
        self.z = None

    def forward(self, z):
        self.z = self._input(z).copy()
        return super().forward(z)

    def backward(self, grad_out):
        self._grad(grad_out)
        return np.asarray(self.sigmoid_backward(self.z.copy(), grad_out.copy()),
                          dtype=grad_out.dtype)


def _refuse_if_wrong(fn, name):
    report = check_exercise(fn, name=name, verbose=False)
    if not report.passed:
        why = "; ".join(f"{r.name}: {r.diagnosis}" for r in report.rows if not r.passed)
        why = why or next(r.message for r in report.results if not r.passed)
        raise ExerciseError(f"refused: your {name} does not pass its check ({report.status}), "
                            f"so it would train a wrong model. {why}")


def student_model(sigmoid_backward, dense_backward, n_hidden=16, seed=0):
    """tinyae's shallow sigmoid autoencoder and its twin running the student's backward passes.

    Returns ``(tinyae_model, student_model)``, float64, with equal initial weights.
    """
    mine = Autoencoder.shallow(64, n_hidden, hidden="sigmoid", output="sigmoid", seed=seed,
                               dtype=np.float64)

    def swap(layers):
        return [StudentDense(m, dense_backward) if isinstance(m, Dense)
                else StudentSigmoid(sigmoid_backward) for m in layers]
    yours = Autoencoder(swap(mine.encoder.layers), swap(mine.decoder.layers))
    return mine, yours


@dataclass
class StudentRun:
    """The two runs: loss per epoch, test error, the largest differences, the picture."""

    tinyae_loss: list
    your_loss: list
    tinyae_test_error: float
    your_test_error: float
    max_loss_difference: float
    max_weight_difference: float
    path: Path

    @property
    def same(self):
        """The student's run gave tinyae's numbers, to 1e-10."""
        return self.max_loss_difference < 1e-10 and self.max_weight_difference < 1e-10

    def __str__(self):
        return "\n".join([
            f"trained the shallow sigmoid autoencoder (64 -> 16 -> 64, squared error) on the "
            f"digits for {len(self.your_loss)} epochs, twice from the same weights:",
            f"  {'epoch':>5} {'tinyae loss':>14} {'your loss':>14}",
            *(f"  {i:>5} {a:>14.10f} {b:>14.10f}"
              for i, (a, b) in enumerate(zip(self.tinyae_loss, self.your_loss, strict=True), 1)
              if i in (1, 2, 5, len(self.your_loss)) or i % 10 == 0),
            f"  test error (squared, per image): tinyae {self.tinyae_test_error:.10f}, "
            f"yours {self.your_test_error:.10f}",
            f"  largest difference: {self.max_loss_difference:.1e} in a loss, "
            f"{self.max_weight_difference:.1e} in a weight",
            "  SAME NUMBERS: your backward passes train the model exactly as tinyae's do"
            if self.same else "  DIFFERENT NUMBERS: your functions passed their checks, but "
            "the runs drift apart",
            f"  picture: {self.path}"])


def train_with_student(sigmoid_backward, dense_backward, epochs=20, seed=0, n_hidden=16,
                       lr=1e-2, batch_size=32, path="your_backward.png"):
    """Train with the student's backward passes and with tinyae's; compare; draw both.

    Parameters
    ----------
    sigmoid_backward, dense_backward : callable
        The student's answers to ex01 and ex04; each is checked first.
    epochs, seed, n_hidden, lr, batch_size
        The run: Adam, squared error, the digits split 80/20 with ``seed``.
    path : str or Path
        Where to save the picture (PNG).

    Returns
    -------
    StudentRun

    Raises
    ------
    ExerciseError
        When a function does not pass its check: before any training, with its diagnosis.
    """
    _refuse_if_wrong(sigmoid_backward, "sigmoid_backward")
    _refuse_if_wrong(dense_backward, "dense_backward")
    X, _ = load_digits(np.float64)
    X_train, X_test = train_test_split(X, test_size=0.2, seed=seed)
    mine, yours = student_model(sigmoid_backward, dense_backward, n_hidden, seed)
    runs = [model.fit(X_train, loss="mse", optimizer=Adam(lr=lr), epochs=epochs,
                      batch_size=batch_size, seed=seed, verbose=0) for model in (mine, yours)]
    weights = [[p for _, p, _ in model.named_parameters()] for model in (mine, yours)]
    run = StudentRun(
        list(runs[0].train_loss), list(runs[1].train_loss),
        mine.reconstruction_error(X_test), yours.reconstruction_error(X_test),
        float(np.max(np.abs(np.subtract(runs[0].train_loss, runs[1].train_loss)))),
        max(float(np.max(np.abs(a - b))) for a, b in zip(*weights, strict=True)), Path(path))
    _draw(run, X_test[:10], mine.reconstruct(X_test[:10]), yours.reconstruct(X_test[:10]))
    return run


def _draw(run, x, x_mine, x_yours):
    fig = Figure(figsize=(9.0, 2.8), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.25])
    ax = left.subplots()
    epochs = np.arange(1, len(run.your_loss) + 1)
    ax.plot(epochs, run.tinyae_loss, color="0.6", lw=5, label="tinyae's backward")
    ax.plot(epochs, run.your_loss, color="C3", lw=1.5, marker="o", ms=3,
            label="your backward (ex01, ex04)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (squared error)")
    ax.legend(frameon=False)
    ax.set_title(f"{'the same curve' if run.same else 'the curves differ'}: largest "
                 f"difference {run.max_loss_difference:.0e}", fontsize=9)
    axes = right.subplots(3, len(x))
    for row, (images, label) in enumerate(((x, "test images"), (x_mine, "tinyae"),
                                           (x_yours, "yours"))):
        for col in range(len(x)):
            axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    right.suptitle("reconstructions after training", fontsize=9)
    plots.save_figure(fig, run.path)
