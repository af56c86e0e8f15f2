"""The module paths tinyae had before its sub-packages, kept so that old code still runs.

Until version 0.1 every module sat in one flat folder; lessons, exercises handed out
to students and learners' notebooks import from those paths
(``from tinyae.activations import sigmoid``, ``ta.gradcheck.check_model``). Each old
path below names the module that now holds the same code. They are registered in
``sys.modules`` by ``import tinyae``, so ``import tinyae.pca`` and
``from tinyae.pca import PCA`` find the new module; nothing is copied, and nothing
inside tinyae imports through them (import-linter checks the real paths).
``tinyae.interop`` (the PyTorch bridge) is the exception: it is a small module of its
own, so that ``import tinyae`` never imports the bridge.
"""

import sys

from . import nn
from .data import datasets, images, modelfile
from .models import autoencoder, classifier, supervised, vae
from .nn import activations, conv_loops, dense, losses, module, normalization, penalties
from .optim import loop, schedules
from .teach import diagnose, exercises, gradcheck
from .uses import augment, compression, pca

#: old name -> the module that holds its code now
OLD_PATHS = {
    "activations": activations, "augment": augment, "classifier": classifier,
    "compression": compression, "conv": nn, "conv_reference": conv_loops,
    "datasets": datasets, "diagnose": diagnose, "exercises": exercises,
    "gradcheck": gradcheck, "images": images, "io": modelfile, "layers": dense,
    "losses": losses, "model": autoencoder, "module": module,
    "normalization": normalization, "pca": pca, "regularizers": penalties,
    "schedules": schedules, "supervised": supervised, "train": loop, "vae": vae,
}


def register(package):
    """Make ``package.<old name>`` importable and an attribute of ``package``."""
    for old, new in OLD_PATHS.items():
        sys.modules.setdefault(f"{package.__name__}.{old}", new)
        setattr(package, old, new)
