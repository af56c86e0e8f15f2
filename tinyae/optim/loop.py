"""The training loop: minibatches, forward, loss, backward, optimizer step.

The heart of it is :func:`fit`'s inner loop, five lines that every lesson shows::

    for batch, idx in enumerate(batches):          # a shuffled index permutation
        x = X[idx]                                  # copies one batch, never the data set
        loss = model.loss_and_backward(x, x, loss_fn)   # forward, loss, backward
        optimizer.step(model.parameters())          # update in place

Everything else here is bookkeeping: validation, a progress bar, catching
divergence, early stopping, callbacks and checkpoints.
"""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import backend
from .._validate import trusted_inputs
from ..data.datasets import add_noise
from ..errors import DivergenceError, NotFiniteError
from ..nn.losses import get_loss
from ..nn.module import as_rng
from . import checkpoint as ckpt
from .optimizers import get_optimizer


@dataclass
class History:
    """What happened during ``fit``, one entry per epoch.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss over the epoch's batches (as seen while training).
    val_loss : list of float
        Loss on the validation data in eval mode (empty without validation data).
    epoch_time : list of float
        Seconds per epoch.
    lr : list of float
        Learning rate in use during each epoch.
    terms : dict of str -> list of float
        The parts of the training objective, averaged over each epoch, for a
        model that reports them in ``model.terms`` (a dict of floats set by
        ``loss_and_backward``): e.g. ``"reconstruction"`` and ``"kl"`` for a
        variational autoencoder, whose ``train_loss`` is −ELBO = reconstruction + kl.
    stopped_early : bool
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    epoch_time: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    terms: dict = field(default_factory=dict)
    stopped_early: bool = False

    @property
    def epochs(self):
        return len(self.train_loss)

    def to_dict(self):
        return {"train_loss": self.train_loss, "val_loss": self.val_loss,
                "epoch_time": self.epoch_time, "lr": self.lr, "terms": self.terms,
                "stopped_early": self.stopped_early}


class Callback:
    """Hooks called by :func:`fit`; override the ones you need.

    Each receives the :class:`TrainingState` (model, optimizer, history), and may
    set ``state.stop = True`` to end training after the current epoch.
    """

    def on_train_begin(self, state):
        pass

    def on_epoch_begin(self, epoch, state):
        pass

    def on_epoch_end(self, epoch, state):
        pass

    def on_train_end(self, state):
        pass

    # For checkpoints (``fit(checkpoint=...)``): the settings a resumed run must match, and
    # the state carried from epoch to epoch (arrays and JSON values), restored after
    # ``on_train_begin``. A callback with state across epochs overrides both.
    def config(self):
        return {}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


@dataclass
class TrainingState:
    """What callbacks can see and change while ``fit`` runs."""

    model: object
    optimizer: object
    history: History
    stop: bool = False


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved for ``patience`` epochs.

    Monitors the validation loss when there is validation data, otherwise the
    training loss. With ``restore_best=True`` the parameters of the best epoch
    are copied back at the end.
    """

    def __init__(self, patience=5, min_delta=0.0, restore_best=True):
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience!r}")
        self.patience, self.min_delta, self.restore_best = patience, min_delta, restore_best

    def on_train_begin(self, state):
        self.best, self.best_epoch, self.wait, self.best_params = np.inf, -1, 0, None

    def on_epoch_end(self, epoch, state):
        h = state.history
        current = h.val_loss[-1] if h.val_loss else h.train_loss[-1]
        if current < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best:
                self.best_params = [p.copy() for p, _ in state.model.parameters()]
        else:
            self.wait += 1
            if self.wait >= self.patience:
                state.stop = True
                state.history.stopped_early = True

    def on_train_end(self, state):
        if self.restore_best and self.best_params is not None:
            for (p, _), best in zip(state.model.parameters(), self.best_params):
                p[...] = best

    def config(self):
        return {"patience": self.patience, "min_delta": self.min_delta,
                "restore_best": self.restore_best}

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_params": self.best_params}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_params = state["best_params"]


class _Progress:
    """A one-line progress bar on a terminal, and a line per epoch (about 20 at most)."""

    def __init__(self, verbose, epochs, n_batches, stream=None, label="loss"):
        self.label = label        # what the numbers are: "bce", "mse", "-ELBO", ...
        self.stream = stream or sys.stderr
        self.bar = verbose >= 1 and getattr(self.stream, "isatty", lambda: False)()
        self.lines = verbose >= 1
        self.epochs, self.n_batches = epochs, n_batches
        self.last = 0.0

    def batch(self, epoch, batch, loss, lr):
        if not self.bar:
            return
        now = time.perf_counter()  # redraw at most 10 times a second
        if now - self.last > 0.1 or batch == self.n_batches - 1:
            self.last = now
            done = int(20 * (batch + 1) / self.n_batches)
            self.stream.write(f"\repoch {epoch + 1}/{self.epochs} [{'#' * done:<20}] "
                              f"{batch + 1}/{self.n_batches}  loss {loss:.4f}  lr {lr:.3g}")
            self.stream.flush()

    def epoch(self, epoch, history):
        # about 20 lines at most: every epoch of a short run, every k-th of a long one
        every = max(1, self.epochs // 20)
        if not self.lines or ((epoch + 1) % every and epoch + 1 != self.epochs):
            return
        val = f"  val {self.label} {history.val_loss[-1]:.4f}" if history.val_loss else ""
        terms = "".join(f"  {k} {v[-1]:.4f}" for k, v in history.terms.items())
        end = "\r" + " " * 79 + "\r" if self.bar else ""
        print(f"{end}epoch {epoch + 1}/{self.epochs}  train {self.label} "
              f"{history.train_loss[-1]:.4f}{val}"
              f"{terms}  {history.epoch_time[-1]:.2f}s", file=self.stream, flush=True)


def _check_target(model, target):
    """Targets checked by the model: ``check_target`` (e.g. class labels) or ``check_input``."""
    return getattr(model, "check_target", model.check_input)(target)


def evaluate(model, X, loss="mse", batch_size=1024, target=None):
    """Mean loss of ``model`` on ``X`` (target ``X`` itself unless given), in eval mode.

    Returns the same number as one big batch: each chunk's mean is weighted by its size.
    """
    loss_fn = get_loss(loss)
    X = model.check_input(X)
    target = X if target is None else _check_target(model, target)
    if len(target) != len(X):
        raise ValueError(f"evaluate: {len(X)} inputs but {len(target)} targets")
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        for i in range(0, len(X), batch_size):
            x, t = X[i:i + batch_size], target[i:i + batch_size]
            total += model.loss_and_backward(x, t, loss_fn, backward=False) * len(x)
    finally:
        model.train(was_training)
    return total / len(X)


def _check_noise(noise):
    if noise is None:
        return None
    if not (isinstance(noise, (tuple, list)) and len(noise) == 2):
        raise ValueError(f"noise must be a (kind, level) pair such as ('gaussian', 0.3), "
                         f"got {noise!r}")
    return tuple(noise)


_SHORT_NAMES = {"MSE": "mse", "BinaryCrossEntropy": "bce", "BinaryCrossEntropyWithLogits": "bce",
                "SoftmaxCrossEntropy": "cross-entropy"}


def _loss_label(model, loss_fn):
    """The name printed beside each epoch's loss: ``bce``, ``mse``, ``-ELBO``, ..."""
    if getattr(model, "LOSS_LABEL", None):     # a VAE's loss is -ELBO, whatever the term
        return model.LOSS_LABEL
    return _SHORT_NAMES.get(type(loss_fn).__name__, type(loss_fn).__name__)


def fit(model, X, loss="mse", optimizer=None, epochs=10, batch_size=64, validation_data=None,
        shuffle=True, seed=0, verbose=1, callbacks=None, early_stopping=None, noise=None,
        y=None, checkpoint=None):
    """Train ``model`` to reconstruct ``X``; see :meth:`Autoencoder.fit` for the arguments.

    With targets ``y`` (one per row of ``X``, e.g. class labels checked by
    ``model.check_target``) the model learns ``X -> y`` instead, and
    ``validation_data`` is a pair ``(X_val, y_val)``: the same loop trains a classifier.

    With ``checkpoint=PATH`` the whole state of the run is written to ``PATH`` after
    every epoch (atomically: :mod:`tinyae.optim.checkpoint`), and a run started again
    with the same model, data and settings continues from the last complete epoch,
    ending with the same bits as a run never stopped. A checkpoint of another model,
    data or settings is refused (:class:`~tinyae.optim.checkpoint.CheckpointError`).
    """
    X = model.check_input(X)
    if y is not None:
        y = _check_target(model, y)
        if len(y) != len(X):
            raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)} targets")
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    loss_fn, noise = get_loss(loss), _check_noise(noise)
    optimizer = get_optimizer("adam" if optimizer is None else optimizer)
    X_val = y_val = None
    if validation_data is not None:
        if y is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError("with targets y, validation_data must be a pair (X_val, y_val)")
            X_val, y_val = validation_data
        else:
            X_val = validation_data
        X_val = model.check_input(X_val)
    callbacks = list(callbacks or [])
    if early_stopping is not None:
        callbacks.append(early_stopping if isinstance(early_stopping, Callback)
                         else EarlyStopping(patience=int(early_stopping)))
    rng = as_rng(seed)
    n_batches = -(-len(X) // batch_size)
    state = TrainingState(model, optimizer, History())
    progress = _Progress(verbose, epochs, n_batches, label=_loss_label(model, loss_fn))
    if checkpoint is not None:
        saver = _Checkpointer(checkpoint, state, callbacks, rng, (X, y, X_val, y_val), dict(
            loss=loss if isinstance(loss, str) else type(loss_fn).__name__, epochs=epochs,
            batch_size=batch_size, shuffle=shuffle, seed=seed, noise=noise))
    for cb in callbacks:
        cb.on_train_begin(state)
    first = 0 if checkpoint is None else saver.resume(progress)
    model.train()
    for epoch in range(first, first if state.stop else epochs):  # stop: a finished run
        for cb in callbacks:
            cb.on_epoch_begin(epoch, state)
        start, total, terms = time.perf_counter(), 0.0, {}
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for batch in range(n_batches):
            idx = order[batch * batch_size:(batch + 1) * batch_size]
            x = X[idx]
            target = x if y is None else y[idx]
            x_in = x if noise is None else add_noise(x, noise[0], noise[1], seed=rng)
            # X was checked above: after the first batch, the layers skip their checks. An
            # overflow is reported once, as a DivergenceError below, not as NumPy warnings.
            try:
                with trusted_inputs(epoch > first or batch > 0), \
                        np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    value = model.loss_and_backward(x_in, target, loss_fn)
            except NotFiniteError:  # X was checked, so an activation overflowed
                value = np.nan
            pairs = model.parameters()
            _stop_if_diverged(value, pairs, epoch, batch, optimizer)
            optimizer.step(pairs)
            total += value * len(x)
            for name, part in (getattr(model, "terms", None) or {}).items():
                terms[name] = terms.get(name, 0.0) + part * len(x)
            progress.batch(epoch, batch, value, optimizer.lr)
        history = state.history
        history.train_loss.append(total / len(X))
        for name, part in terms.items():
            history.terms.setdefault(name, []).append(part / len(X))
        history.lr.append(optimizer.lr)
        if X_val is not None:
            history.val_loss.append(evaluate(model, X_val, loss_fn, target=y_val))
        history.epoch_time.append(time.perf_counter() - start)
        progress.epoch(epoch, history)
        for cb in callbacks:
            cb.on_epoch_end(epoch, state)
        if checkpoint is not None:
            saver.save(epoch + 1)
        if state.stop:
            break
    for cb in callbacks:
        cb.on_train_end(state)
    model.eval()
    return state.history


class _Checkpointer:
    """``fit``'s side of :mod:`.checkpoint`: find the run's state, save it, resume it."""

    def __init__(self, path, state, callbacks, rng, data, settings):
        self.path, self.state, self.callbacks = Path(path), state, callbacks
        self.run = ckpt.describe_run(state.model, state.optimizer, callbacks, data,
                                           **settings)
        self.generators = ckpt.find_generators(state.model, ("fit", rng))
        # read (and refuse) before any callback or the model is touched
        self.saved = ckpt.read(self.path, self.run) if self.path.exists() else None

    def resume(self, progress):
        """Load the checkpoint if there is one; returns the number of epochs already done."""
        ckpt.remove_stale(self.path)
        if self.saved is None:
            return 0
        s = self.state
        epoch, s.stop = ckpt.restore(
            self.path, *self.saved, model=s.model, optimizer=s.optimizer,
            callbacks=self.callbacks, generators=self.generators, history=s.history)
        self.saved = None
        if progress.lines:
            print(f"resuming from {self.path}: {epoch} epochs done", file=progress.stream,
                  flush=True)
        return epoch

    def save(self, epochs_done):
        s = self.state
        ckpt.save(self.path, self.run, epoch=epochs_done, stop=s.stop, model=s.model,
                        optimizer=s.optimizer, callbacks=self.callbacks,
                        generators=self.generators, history=s.history)


def _stop_if_diverged(value, pairs, epoch, batch, optimizer):
    """Raise :class:`DivergenceError` before a non-finite loss or gradient reaches the weights.

    Checked before the optimizer step, so the model keeps the parameters of the
    last step that was finite. ``pairs`` are the model's ``(param, grad)`` pairs; the
    gradient check is one read pass over them all (:func:`tinyae.backend.all_finite`).
    """
    bad = not np.isfinite(value)
    if not bad:
        bad = not backend.all_finite([g for _, g in pairs])
    if bad:
        what = "loss" if not np.isfinite(value) else "gradient"
        raise DivergenceError(
            f"training diverged: the {what} became {value if what == 'loss' else 'NaN or inf'} "
            f"at epoch {epoch + 1}, batch {batch + 1} (learning rate {optimizer.lr:g}); "
            "the model keeps the parameters of the last finite step. "
            "Try a lower learning rate (e.g. 10 times smaller)."
        )
