"""``tinyae train --data cifar10:FOLDER`` and ``--data images:FOLDER``: colour images as rows.

Both give flat rows ``(n, C·H·W)`` with pixels in [0, 1], channel by channel
(all red pixels, then green, then blue), and the image shape ``(C, H, W)``, so the
dense models, PCA and the pictures take them as they take the digits, and
``--conv`` folds each row back into a ``(C, H, W)`` image.
"""

from pathlib import Path

from ..data.datasets import train_test_split
from ..data.images import load_cifar10, load_images
from ..errors import DataFormatError


def image_size(text):
    """``--image-size``: ``32`` or ``32x48`` (height x width) -> ``(H, W)``."""
    import argparse

    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts, default=0) < 1:
        raise argparse.ArgumentTypeError(f"expected a size such as 32 or 32x48 (height x "
                                         f"width, in pixels), got {text!r}")
    return (parts[0], parts[-1])


def load_cifar10_rows(folder, dtype):
    """CIFAR-10's training and test batches from ``folder``: ``(X, y, X_test, y_test)``."""
    path = Path(folder)
    if not folder or not path.exists():
        raise DataFormatError(f"--data cifar10:{folder}: no such folder; give the folder "
                              "holding data_batch_1.bin ... data_batch_5.bin and "
                              "test_batch.bin (the binary version of CIFAR-10)")
    if path.is_file() and path.suffix == ".bin":
        raise DataFormatError(f"--data cifar10:{folder} is one batch file; give the folder "
                              "(or cifar-10-binary.tar.gz) holding the five training batches "
                              "and test_batch.bin")
    (X, y), (X_test, y_test) = load_cifar10(path, split="both", dtype=dtype)
    return X, y, X_test, y_test


def load_image_rows(folder, size, test_size, seed, dtype):
    """Every PNG/JPEG of ``folder`` (colour kept), split: ``(X, X_test, (3, H, W))``."""
    if not folder:
        raise DataFormatError("--data images:FOLDER needs a folder of .png/.jpg files")
    try:
        X = load_images(folder, size=size, dtype=dtype)
    except DataFormatError as exc:
        if "differ in size" not in str(exc):
            raise
        raise DataFormatError(str(exc).replace("pass size=(height, width) to resize them all",
                                               "pass --image-size HxW (e.g. --image-size 32) "
                                               "to resize them all")) from None
    if len(X) < 2:
        raise DataFormatError(f"--data images:{folder} holds {len(X)} picture; training and "
                              "testing need at least 2")
    X_train, X_test = train_test_split(X.reshape(len(X), -1), test_size=test_size, seed=seed)
    return X_train, X_test, X.shape[1:]


def load_colour(spec, test_size, seed, dtype, size=None):
    """``load_data``'s answer for ``cifar10:`` and ``images:`` specs, or None for others.

    Returns ``(X_train, y_train, X_test, y_test, (C, H, W), name)``.
    """
    kind, sep, folder = spec.partition(":")
    if size is not None and kind != "images":
        raise ValueError("--image-size resizes the pictures of --data images:FOLDER; "
                         f"--data {spec!r} has no pictures to resize")
    if not sep or kind not in ("cifar10", "images"):
        return None
    if kind == "cifar10":
        X, y, X_test, y_test = load_cifar10_rows(folder, dtype)
        return X, y, X_test, y_test, (3, 32, 32), "cifar10"
    X, X_test, shape = load_image_rows(folder, size, test_size, seed, dtype)
    return X, None, X_test, None, tuple(int(s) for s in shape), Path(folder).name or "images"
