"""Training: optimizers that update parameters, schedules that set the rate, and the loop.

=================  =====================================================  =======
module             what                                                   lessons
=================  =====================================================  =======
``optimizers``     SGD (momentum, Nesterov), Adam, AdamW                  7, 18
``schedules``      StepDecay, CosineDecay, ReduceLROnPlateau              18
``loop``           ``fit`` and ``evaluate``: batches, noise, validation,  7, 12
                   History, callbacks, EarlyStopping, divergence checks
``checkpoint``     the whole state of a run in one file after each epoch,
                   so ``fit(checkpoint=PATH)`` resumes bit for bit
=================  =====================================================  =======

Imports point down only: ``optim`` uses :mod:`tinyae.nn`, :mod:`tinyae.data` (noise
for denoising) and :mod:`tinyae.backend`; the models call ``fit``, never the reverse.
"""

from .loop import Callback, EarlyStopping, History, evaluate, fit
from .optimizers import SGD, Adam, AdamW, Optimizer, get_optimizer
from .schedules import CosineDecay, ReduceLROnPlateau, StepDecay

__all__ = ["SGD", "Adam", "AdamW", "Callback", "CosineDecay", "EarlyStopping", "History",
           "Optimizer", "ReduceLROnPlateau", "StepDecay", "evaluate", "fit", "get_optimizer"]
