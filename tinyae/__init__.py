"""tinyae: autoencoders written by hand in NumPy, for learning.

Every forward and backward pass is written out in NumPy and checked
against finite differences (:mod:`tinyae.gradcheck`).

Five lines to train on the built-in digits::

    import tinyae as ta
    X, y = ta.load_digits()
    X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
    model = ta.Autoencoder.shallow(64, 16, seed=0)
    history = model.fit(X_train, loss="bce", epochs=50, validation_data=X_test)
"""

from . import augment, backend, compression, errors, gradcheck, plots, regularizers, schedules
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .backend import BackendUnavailableError, get_backend, set_backend
from .classifier import Softmax, SoftmaxClassifier, SoftmaxCrossEntropy
from .conv import Conv2D, ConvTranspose2D, Flatten, MaxPool2D, Reshape, Upsample2D
from .datasets import add_noise, load_array, load_digits, load_mnist, train_test_split
from .errors import DivergenceError, TinyAEError
from .images import load_cifar10, load_images
from .interop import from_torch, import_safetensors, to_torch
from .io import load
from .layers import Dense
from .losses import MSE, BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from .model import Autoencoder
from .module import Module, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm
from .optim import SGD, Adam, AdamW
from .pca import PCA
from .regularizers import KLSparsity, L1Activity, WeightDecay
from .schedules import CosineDecay, ReduceLROnPlateau, StepDecay
from .supervised import SupervisedAutoencoder, hide_labels
from .train import Callback, EarlyStopping, History
from .vae import GaussianKL, VariationalAutoencoder

__version__ = "0.1.0"

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
