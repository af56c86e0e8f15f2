"""Data in and models out: the built-in digits, MNIST, CIFAR-10, image folders, and model files.

=============  ==========================================================  =======
module         what                                                        lessons
=============  ==========================================================  =======
``datasets``   built-in digits, MNIST (IDX), arrays (.npy/.npz/.csv),      1, 10
               ``train_test_split``, ``add_noise``
``images``     CIFAR-10 (binary version) and folders of PNG/JPEG images    19
``labels``     hiding labels for semi-supervised training                  20
``modelfile``  tinyae's ``.npz`` model file: no pickle, atomic writes      7
=============  ==========================================================  =======

The built-in digits (``optdigits_8x8.npz``) live here too; ``README.md`` gives their
source and licence.
"""

from .datasets import add_noise, load_array, load_digits, load_mnist, train_test_split
from .images import load_cifar10, load_images
from .labels import hide_labels
from .modelfile import load, save

__all__ = ["add_noise", "hide_labels", "load", "load_array", "load_cifar10", "load_digits",
           "load_images", "load_mnist", "save", "train_test_split"]
