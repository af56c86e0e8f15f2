r"""Learning-rate schedules, as callbacks for ``fit``.

Each sets ``optimizer.lr`` before an epoch (or after one, for the plateau rule);
``fit`` records the rate of every epoch in ``History.lr`` and the progress bar
shows it. $\text{lr}_0$ below is the optimizer's learning rate when training starts.
Each keeps its state across epochs ($\text{lr}_0$, the plateau's best loss and count) in
``state_dict()``, so a checkpointed run resumes with it (:mod:`tinyae.optim.checkpoint`).
"""

import math

from .loop import Callback


class StepDecay(Callback):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs.

    For epoch $e = 0, 1, \dots$, with $γ$ the ``gamma`` and $k$ the ``step_size``:
    $\text{lr}(e) = \text{lr}_0 \cdot γ^{\lfloor e/k \rfloor}$.
    """

    def __init__(self, step_size, gamma=0.1):
        if step_size < 1 or not 0 < gamma <= 1:
            raise ValueError(f"StepDecay needs step_size >= 1 and 0 < gamma <= 1, got "
                             f"{step_size!r} and {gamma!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def on_train_begin(self, state):
        self.lr0 = state.optimizer.lr

    def on_epoch_begin(self, epoch, state):
        state.optimizer.lr = self.lr0 * self.gamma ** (epoch // self.step_size)

    def config(self):
        return {"step_size": self.step_size, "gamma": self.gamma}

    def state_dict(self):
        return {"lr0": self.lr0}

    def load_state_dict(self, state):
        self.lr0 = state["lr0"]


class CosineDecay(Callback):
    r"""Cosine annealing from $\text{lr}_0$ down to ``lr_min`` over ``epochs`` epochs.

    With $E$ the ``epochs`` (Loshchilov & Hutter, 2017, without restarts):

    $$
    \text{lr}(e) = \text{lr}_\text{min} + (\text{lr}_0 - \text{lr}_\text{min})\,
    \frac{1 + \cos(π e/E)}{2}
    $$

    Epochs past the end stay at ``lr_min``.
    """

    def __init__(self, epochs, lr_min=0.0):
        if epochs < 1 or lr_min < 0:
            raise ValueError(f"CosineDecay needs epochs >= 1 and lr_min >= 0, got {epochs!r} "
                             f"and {lr_min!r}")
        self.epochs, self.lr_min = int(epochs), float(lr_min)

    def on_train_begin(self, state):
        self.lr0 = state.optimizer.lr

    def on_epoch_begin(self, epoch, state):
        t = min(epoch, self.epochs) / self.epochs
        cosine = (1 + math.cos(math.pi * t)) / 2
        state.optimizer.lr = self.lr_min + (self.lr0 - self.lr_min) * cosine

    def config(self):
        return {"epochs": self.epochs, "lr_min": self.lr_min}

    def state_dict(self):
        return {"lr0": self.lr0}

    def load_state_dict(self, state):
        self.lr0 = state["lr0"]


class ReduceLROnPlateau(Callback):
    r"""Multiply the rate by ``factor`` when the monitored loss stops improving.

    After each epoch: if the loss (validation loss when there is validation data,
    otherwise training loss) is not below $\text{best} \cdot (1 - \text{threshold})$ for
    more than ``patience`` epochs in a row,
    $\text{lr} \leftarrow \max(\text{lr} \cdot \text{factor}, \mathtt{min\_lr})$ and the count
    restarts.
    """

    def __init__(self, factor=0.1, patience=5, threshold=1e-4, min_lr=0.0):
        if not 0 < factor < 1 or patience < 0:
            raise ValueError(f"ReduceLROnPlateau needs 0 < factor < 1 and patience >= 0, got "
                             f"{factor!r} and {patience!r}")
        self.factor, self.patience = float(factor), int(patience)
        self.threshold, self.min_lr = float(threshold), float(min_lr)

    def on_train_begin(self, state):
        self.best, self.bad_epochs = math.inf, 0

    def on_epoch_end(self, epoch, state):
        h = state.history
        current = h.val_loss[-1] if h.val_loss else h.train_loss[-1]
        if current < self.best * (1 - self.threshold):
            self.best, self.bad_epochs = current, 0
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            state.optimizer.lr = max(state.optimizer.lr * self.factor, self.min_lr)
            self.bad_epochs = 0

    def config(self):
        return {"factor": self.factor, "patience": self.patience,
                "threshold": self.threshold, "min_lr": self.min_lr}

    def state_dict(self):
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state):
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]
