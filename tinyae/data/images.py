"""Images beyond the digits: CIFAR-10 from its binary files, and your own folder of pictures.

Both loaders return pixels scaled to ``[0, 1]`` as floats, in the layout of
the convolutional layers (:mod:`tinyae.nn.conv`), NCHW:
``(n_images, channels, height, width)``. Files are read as raw bytes
(``np.frombuffer``) or decoded by Pillow, the imaging library matplotlib
already depends on: nothing here unpickles, so a data file can never run code.
"""

import tarfile
from pathlib import Path

import numpy as np

from .._validate import as_float_dtype
from ..errors import DataFormatError
from .datasets import path_or_env

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CIFAR10_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST = ("test_batch.bin",)
_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1,024 red, 1,024 green, 1,024 blue bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


# ----- CIFAR-10 ---------------------------------------------------------------------------

def read_cifar10_batch(data, name):
    """Decode the bytes of one CIFAR-10 binary batch file.

    Layout (from the data set's page): records of 3,073 bytes, one per image;
    byte 0 is the label 0..9, then 1,024 bytes of the red channel, 1,024 of
    green and 1,024 of blue, each channel row by row (32 rows of 32 pixels).

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        The file's name, for error messages.

    Returns
    -------
    images : ndarray, shape (n, 3, 32, 32), uint8
    labels : ndarray, shape (n,), uint8
    """
    if len(data) == 0:
        raise DataFormatError(f"CIFAR-10 file {name} is empty")
    if data[:1] == b"\x80":
        raise DataFormatError(
            f"{name} looks like a Python pickle (it starts with byte 0x80), i.e. the "
            "'python version' of CIFAR-10. tinyae never unpickles data, because unpickling "
            f"can run any code; download the 'binary version' (cifar-10-binary.tar.gz) from "
            f"{CIFAR10_URL}")
    if len(data) % _RECORD:
        raise DataFormatError(
            f"CIFAR-10 file {name} is truncated or not a CIFAR-10 binary batch: its "
            f"{len(data):,} bytes are not a whole number of {_RECORD:,}-byte records (one "
            f"label byte and 3,072 pixel bytes per image); {len(data) // _RECORD:,} whole "
            f"records and {len(data) % _RECORD:,} bytes left over")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0]
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        i = int(bad[0])
        raise DataFormatError(
            f"CIFAR-10 file {name}: record {i} (byte offset {i * _RECORD:,}) has label byte "
            f"{labels[i]}, expected 0..9; {bad.size:,} records have bad labels. Is this the "
            f"CIFAR-100 binary version (2 label bytes per record) or another file?")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def _cifar_sources(path, names):
    """``(name, bytes)`` of each batch file in ``names``, from a folder or a ``.tar.gz``."""
    path = Path(path)
    if path.is_dir():
        found = []
        for name in names:
            candidates = [path / name, path / "cifar-10-batches-bin" / name]
            file = next((c for c in candidates if c.is_file()), None)
            if file is None:
                pickled = path / name.removesuffix(".bin")
                hint = (f" ({pickled.name} without .bin is there: that is the pickled "
                        "'python version', which tinyae refuses to read because unpickling "
                        "can run code)") if pickled.is_file() else ""
                raise DataFormatError(
                    f"CIFAR-10 file {name} missing in {path}{hint}; expected the files "
                    f"{', '.join(CIFAR10_TRAIN + CIFAR10_TEST)} of the binary version "
                    f"(cifar-10-binary.tar.gz, from {CIFAR10_URL})")
            found.append((str(file), file.read_bytes()))
        return found
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar")):
        try:
            with tarfile.open(path) as archive:  # members are read, never extracted
                members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
                missing = [n for n in names if n not in members]
                if missing:
                    raise DataFormatError(
                        f"{path} does not hold {', '.join(missing)}; is it "
                        f"cifar-10-binary.tar.gz (the binary version) from {CIFAR10_URL}?")
                return [(f"{path}:{members[n].name}", archive.extractfile(members[n]).read())
                        for n in names]
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise DataFormatError(f"{path} is not a readable tar archive ({exc}); download "
                                  f"cifar-10-binary.tar.gz again from {CIFAR10_URL}") from exc
    if path.is_file() and path.suffix == ".bin":
        return [(str(path), path.read_bytes())]
    raise DataFormatError(f"CIFAR-10 path {path} is not a folder, a .bin batch file or the "
                          f"cifar-10-binary.tar.gz archive (from {CIFAR10_URL})")


def load_cifar10(path=None, split="train", dtype=np.float32, flatten=True):
    """CIFAR-10 (60,000 colour images 32×32, 10 classes) from its *binary* version.

    Reads ``data_batch_1.bin`` ... ``data_batch_5.bin`` (training, 50,000 images)
    and ``test_batch.bin`` (10,000 images) from the folder ``path`` (or its
    subfolder ``cifar-10-batches-bin``), or straight from the downloaded archive
    ``cifar-10-binary.tar.gz``; with ``path=None``, from the environment variable
    ``TINYAE_CIFAR10``. A single ``.bin`` file is read on its own. Get the files
    from https://www.cs.toronto.edu/~kriz/cifar.html ("CIFAR-10 binary
    version"). The "python version" of the same data is a pickle, which can run
    code when loaded: tinyae refuses it.

    Parameters
    ----------
    path : str or os.PathLike, optional
    split : {"train", "test", "both"}
    dtype : float32 or float64, default float32
    flatten : bool, default True
        Rows of 3,072 pixels when True, like :func:`tinyae.load_mnist` (fold one for
        a plot with ``image_shape=(3, 32, 32)``); images ``(3, 32, 32)`` for the
        convolutional layers when False.

    Returns
    -------
    X, y : ndarray (n, 3072) or (n, 3, 32, 32) of ``dtype`` (uint8 pixels / 255),
        channels red, green, blue; ndarray (n,) int64, the class
        (:data:`CIFAR10_CLASSES` names them). For ``split="both"``:
        ``((X_train, y_train), (X_test, y_test))``. A single ``.bin`` file gives
        its own images whatever the split.
    """
    splits = {"train": (CIFAR10_TRAIN,), "test": (CIFAR10_TEST,),
              "both": (CIFAR10_TRAIN, CIFAR10_TEST)}
    if split not in splits:
        raise ValueError(f"split must be one of {list(splits)}, got {split!r}")
    dtype = as_float_dtype(dtype)
    path = path_or_env(path, "TINYAE_CIFAR10", "load_cifar10", "binary batch files",
                       CIFAR10_URL)
    if not Path(path).exists():
        raise DataFormatError(f"CIFAR-10 path {path} does not exist; download the binary "
                              f"version from {CIFAR10_URL}")
    parts = []
    for names in splits[split]:
        decoded = [read_cifar10_batch(data, name) for name, data in _cifar_sources(path, names)]
        images = np.concatenate([images for images, _ in decoded])
        labels = np.concatenate([labels for _, labels in decoded])
        X = images.astype(dtype)
        X /= 255
        parts.append((X.reshape(len(X), -1) if flatten else X, labels.astype(np.int64)))
    return tuple(parts) if split == "both" else parts[0]


# ----- your own pictures ------------------------------------------------------------------

def _size_pair(size):
    if size is None:
        return None
    pair = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(pair) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in pair):
        raise ValueError(f"size must be a positive int or a pair (height, width), got {size!r}")
    return int(pair[0]), int(pair[1])


def _read_image(file, size, grayscale):
    """One picture as floats in [0, 1], (H, W, C), resized to ``size`` = (H, W)."""
    from PIL import Image, UnidentifiedImageError  # Pillow: installed with matplotlib

    bilinear = getattr(Image, "Resampling", Image).BILINEAR  # Pillow < 9.1: no Resampling
    try:
        with Image.open(file) as img:
            img.load()  # decode now, so that a truncated file fails here
            if img.mode.startswith("I"):
                # 16-bit gray: Pillow's 8-bit conversion would clip, so go through floats.
                img, scale = img.convert("F"), 65535.0
            else:
                if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                    # Transparent pixels would turn black: put the picture on white paper.
                    rgba = img.convert("RGBA")
                    img = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    img.alpha_composite(rgba)
                img, scale = img.convert("L" if grayscale else "RGB"), 255.0
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), bilinear)
            pixels = np.asarray(img, dtype=np.float32) / scale
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataFormatError(f"cannot read image {file}: {exc} (is it a valid PNG or JPEG "
                              "file?)") from exc
    pixels = pixels.reshape(*pixels.shape[:2], -1)                  # (H, W, C)
    if pixels.shape[2] == 1 and not grayscale:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.clip(pixels, 0.0, 1.0)


def load_images(folder, size=None, grayscale=False, dtype=np.float32):
    """Your own pictures: every PNG and JPEG file in ``folder``, as one ``(n, C, H, W)`` array.

    Files are taken in the order of their names (``sorted``), so ``X[i]`` is the
    i-th name; subfolders and other files are ignored. Transparent pixels are
    put on white. Decoded by Pillow.

    Parameters
    ----------
    folder : str or os.PathLike
    size : int or (height, width), optional
        Resize every picture to this size (bilinear, which also averages when
        shrinking). Without it, every picture must already have the same size.
    grayscale : bool, default False
        One channel (Pillow's luminance, ``L = 0.299 R + 0.587 G + 0.114 B``)
        instead of three (red, green, blue).
    dtype : float32 or float64, default float32

    Returns
    -------
    X : ndarray, shape (n, C, H, W), ``dtype``, pixels / 255 in [0, 1] (16-bit gray
        PNGs: / 65535); ``C`` is 1 with ``grayscale=True``, else 3.

    Raises
    ------
    DataFormatError
        The folder does not exist or holds no PNG/JPEG file, a file cannot be
        decoded (named in the message), or the sizes differ and ``size`` is None.
    """
    dtype = as_float_dtype(dtype)
    size = _size_pair(size)
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(f"image folder {folder} does not exist or is not a folder")
    files = sorted(f for f in folder.iterdir()
                   if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        others = sorted(f.name for f in folder.iterdir())
        listing = f" (it holds: {', '.join(others[:5])}{', ...' if len(others) > 5 else ''})" \
            if others else " (it is empty)"
        raise DataFormatError(f"no .png, .jpg or .jpeg files in {folder}{listing}")
    first = _read_image(files[0], size, grayscale)
    X = np.empty((len(files), first.shape[2], *first.shape[:2]), dtype=dtype)
    for i, file in enumerate(files):
        img = first if i == 0 else _read_image(file, size, grayscale)
        if img.shape != first.shape:
            raise DataFormatError(
                f"images differ in size: {files[0].name} is {first.shape[0]}x{first.shape[1]} "
                f"(height x width) but {file.name} is {img.shape[0]}x{img.shape[1]}; pass "
                "size=(height, width) to resize them all")
        X[i] = img.transpose(2, 0, 1)                                 # HWC -> CHW
    return X
