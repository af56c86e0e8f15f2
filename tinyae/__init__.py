"""tinyae: autoencoders written by hand in NumPy, for learning.

Every forward and backward pass is written out in NumPy and checked
against finite differences (:mod:`tinyae.teach.gradcheck`).

Five lines to train on the built-in digits::

    import tinyae as ta
    X, y = ta.load_digits()
    X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
    model = ta.Autoencoder.shallow(64, 16, seed=0)
    history = model.fit(X_train, loss="bce", epochs=50, validation_data=X_test)

The package is in layers, each folder one idea, imports pointing down only
(``lint-imports`` checks it; CONTRIBUTING.md has the map)::

    cli/      the tinyae command
    bridge/   PyTorch and safetensors (imported only when used)
    teach/    gradient checker, exercises, diagnoses
    plots.py  the pictures
    uses/     PCA, compression, augmentation
    models/   Autoencoder, VariationalAutoencoder, SupervisedAutoencoder, SoftmaxClassifier
    optim/    optimizers, schedules, the training loop
    data/     datasets, images, the model file
    nn/       the math: modules, dense, activations, losses, normalization, convolution
    backend/  numpy and numba operations
"""

from pathlib import Path as _Path

from . import _old_paths, backend, errors, plots
from ._version import __version__  # noqa: F401
from .backend import BackendUnavailableError, get_backend, set_backend
from .data import (
    add_noise,
    hide_labels,
    load_array,
    load_cifar10,
    load_digits,
    load_images,
    load_mnist,
    modelfile,
    train_test_split,
)
from .errors import DivergenceError, TinyAEError
from .models import Autoencoder, SoftmaxClassifier, SupervisedAutoencoder, VariationalAutoencoder
from .nn import (
    MSE,
    BatchNorm1d,
    BatchNorm2d,
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    Conv2D,
    ConvTranspose2D,
    Dense,
    Dropout,
    Flatten,
    GaussianKL,
    Identity,
    KLSparsity,
    L1Activity,
    LayerNorm,
    LeakyReLU,
    MaxPool2D,
    Module,
    ReLU,
    Reshape,
    Sequential,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    Tanh,
    Upsample2D,
    WeightDecay,
)
from .optim import (
    SGD,
    Adam,
    AdamW,
    Callback,
    CosineDecay,
    EarlyStopping,
    History,
    ReduceLROnPlateau,
    StepDecay,
)
from .uses import PCA

_old_paths.register(__import__(__name__))   # tinyae.pca, tinyae.gradcheck, ... (old paths)

# The PyTorch bridge is imported the first time one of these names is used, never by
# ``import tinyae`` (and it imports torch or safetensors only inside its functions).
_BRIDGE = {"to_torch": "pytorch", "from_torch": "from_torch", "import_safetensors": "files"}


def __getattr__(name):
    from importlib import import_module

    if name in _BRIDGE:
        return getattr(import_module(f"{__name__}.bridge.{_BRIDGE[name]}"), name)
    if name == "interop":
        return import_module(f"{__name__}.interop")
    raise AttributeError(f"module 'tinyae' has no attribute {name!r}")


def load(path):
    """A saved model: tinyae's ``.npz`` file, or a ``.safetensors`` file; it starts in eval mode.

    A ``.npz`` file written by ``model.save`` (or ``tinyae train``) is read by
    :func:`tinyae.data.modelfile.load`; a ``.safetensors`` file (``model.export``, or
    PyTorch's ``save_file(module.state_dict())``) by the PyTorch bridge,
    :func:`tinyae.bridge.files.import_safetensors`, which needs safetensors.
    """
    if _Path(path).suffix == ".safetensors":
        from .bridge.files import import_safetensors

        return import_safetensors(path)
    return modelfile.load(path)


__all__ = [
    "SGD", "Adam", "Autoencoder", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits",
    "Callback", "Dense", "EarlyStopping", "History", "Identity", "LeakyReLU", "MSE", "Module",
    "ReLU", "Sequential", "Sigmoid", "Tanh", "add_noise", "backend", "get_backend", "gradcheck",
    "load", "load_array", "load_digits", "load_mnist", "set_backend", "train_test_split",
    # variants and uses (issue 7)
    "GaussianKL", "KLSparsity", "L1Activity", "Softmax", "SoftmaxClassifier",
    "SoftmaxCrossEntropy", "VariationalAutoencoder", "WeightDecay", "augment", "compression",
    "regularizers",
    # normalization, convolution, schedules, PCA, images, errors, plots
    "AdamW", "BackendUnavailableError", "BatchNorm1d", "BatchNorm2d", "Conv2D",
    "ConvTranspose2D", "CosineDecay",
    "DivergenceError", "Dropout", "Flatten", "LayerNorm", "MaxPool2D", "PCA",
    "ReduceLROnPlateau", "Reshape", "StepDecay", "TinyAEError", "Upsample2D", "errors",
    "load_cifar10", "load_images", "plots", "schedules",
    # going on to PyTorch (issue 16): torch and safetensors are imported only when used
    "from_torch", "import_safetensors", "interop", "to_torch",
    # supervised and semi-supervised autoencoders (issue 15)
    "SupervisedAutoencoder", "hide_labels",
]
