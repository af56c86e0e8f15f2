"""Data for autoencoders: the built-in digits, MNIST from IDX files, your own arrays, and noise.

Every loader returns pixels scaled to ``[0, 1]`` as floats, rows are samples:
``X`` has shape ``(n_samples, n_features)``. Files are read with
``allow_pickle=False`` and ``np.frombuffer``: a data file can never run code.
Randomness (splits, noise) comes only from a seed or a ``numpy.random.Generator``
the caller passes in.
"""

import gzip
import os
import struct
import warnings
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import DataFormatError, DTypeError, NotFiniteError, ShapeError

MNIST_URLS = "http://yann.lecun.com/exdb/mnist/ or https://github.com/zalandoresearch/fashion-mnist"
NOISE_KINDS = ("gaussian", "masking", "salt_pepper")

# IDX type codes (http://yann.lecun.com/exdb/mnist/, bottom of the page); all big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def path_or_env(path, variable, who, what, url):
    """``path``, or when it is None the folder named by the environment ``variable``.

    Raises DataFormatError saying what to pass and where the data can be downloaded.
    """
    if path is None:
        path = os.environ.get(variable)
        if not path:
            raise DataFormatError(f"{who} got no path and the environment variable {variable} "
                                  f"is not set; pass the folder holding the {what}, which you "
                                  f"can download from {url}")
    return path


def _float_dtype(dtype):
    """``np.dtype(dtype)`` if it is float32 or float64, else DTypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in (np.float32, np.float64):
        raise DTypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _as_generator(seed):
    """A Generator from an int seed, or the Generator itself (so a training loop can share one)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int or a numpy.random.Generator, got {seed!r}")


def load_digits(dtype=np.float64):
    """The built-in 8x8 handwritten digits, 1,797 images, scaled to [0, 1].

    Source: the UCI "Optical Recognition of Handwritten Digits" data set
    (E. Alpaydin and C. Kaynak, 1998), licence CC BY 4.0, in the copy that
    scikit-learn ships (BSD-3-Clause). See ``tinyae/data/README.md``.

    Parameters
    ----------
    dtype : float32 or float64, default float64

    Returns
    -------
    X : ndarray, shape (1797, 64), ``dtype``
        Each row is one image read row by row; raw intensities 0..16 divided by 16.
    y : ndarray, shape (1797,), int64
        The digit 0..9 each image shows.
    """
    dtype = _float_dtype(dtype)
    with (resources.files("tinyae.data") / "optdigits_8x8.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as data:
            X, y = data["X"], data["y"]
    return X.astype(dtype) / 16, y.astype(np.int64)


def _read_bytes(path):
    """All bytes of ``path``, decompressed when its name ends in ``.gz``."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"IDX file {path} does not exist")
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DataFormatError(f"{path} is not a valid gzip file ({exc}); download it again "
                              f"from {MNIST_URLS}") from exc


def read_idx(path):
    """Read one IDX file (the format MNIST is distributed in), plain or ``.gz``.

    Layout: two zero bytes, one type byte (0x08 uint8, 0x09 int8, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64), one byte ``ndim``, then ``ndim``
    big-endian uint32 sizes, then the data, big-endian, row-major.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ndarray
        Shape given by the header, in native byte order (e.g. uint8 (60000, 28, 28)).
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataFormatError(f"IDX file {path} is only {len(data)} bytes, shorter than a header")
    zeros, code, ndim = struct.unpack(">HBB", data[:4])
    if zeros != 0:
        raise DataFormatError(f"{path} is not an IDX file: expected magic bytes 00 00, "
                              f"got {data[:2].hex(' ')}; MNIST is at {MNIST_URLS}")
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise DataFormatError(f"{path}: unknown IDX type code 0x{code:02X}, expected {known}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{path} is truncated: header needs {header} bytes, file has "
                              f"{len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise DataFormatError(f"{path} is {problem}: header shape {shape} of {dtype.name} needs "
                              f"{expected} bytes, file has {len(data)}")
    # astype makes a writable copy in native byte order (frombuffer alone is read-only).
    array = np.frombuffer(data, dtype=dtype, offset=header).astype(dtype.newbyteorder("="))
    return array.reshape(shape)


def _find_idx(folder, name):
    """``folder/name`` or ``folder/name.gz``, whichever exists."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataFormatError(f"MNIST file missing in {folder}: looked for {name} and {name}.gz; "
                          f"download the four IDX files from {MNIST_URLS}")


def _load_mnist_split(folder, prefix, dtype, flatten):
    images_path = _find_idx(folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _find_idx(folder, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataFormatError(f"{images_path}: expected uint8 images of shape (n, rows, cols), "
                              f"got {images.dtype} of shape {images.shape}")
    if labels.ndim != 1:
        raise DataFormatError(f"{labels_path}: expected labels of shape (n,), got {labels.shape}")
    if len(images) != len(labels):
        raise DataFormatError(f"{images_path} holds {len(images)} images but {labels_path} "
                              f"holds {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{labels_path}: expected labels 0..9, got values from "
                              f"{labels.min()} to {labels.max()}")
    X = images.astype(dtype)
    X /= 255
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.int64)


def load_mnist(path=None, split="train", dtype=np.float32, flatten=True):
    """MNIST (or Fashion-MNIST) from its four standard IDX files, scaled to [0, 1].

    The files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each plain or
    ``.gz``) are read from the folder ``path``, or when ``path`` is None from the
    folder named by the environment variable ``TINYAE_MNIST``. They are too
    large to ship; get them from http://yann.lecun.com/exdb/mnist/ (MNIST) or
    https://github.com/zalandoresearch/fashion-mnist (same file names).

    Parameters
    ----------
    path : str or os.PathLike, optional
    split : {"train", "test", "both"}
        "train" is the 60,000 training images, "test" the 10,000 test images.
    dtype : float32 or float64, default float32
    flatten : bool, default True
        Images of shape (784,) when True, (28, 28) when False.

    Returns
    -------
    X, y : ndarray (n, 784) or (n, 28, 28) of ``dtype`` (uint8 pixels / 255), ndarray (n,) int64
        For ``split="both"``: ``((X_train, y_train), (X_test, y_test))``.
    """
    splits = {"train": ("train",), "test": ("t10k",), "both": ("train", "t10k")}
    if split not in splits:
        raise ValueError(f"split must be one of {list(splits)}, got {split!r}")
    dtype = _float_dtype(dtype)
    path = path_or_env(path, "TINYAE_MNIST", "load_mnist", "IDX files", MNIST_URLS)
    folder = Path(path)
    if not folder.is_dir():
        raise DataFormatError(f"MNIST folder {folder} does not exist or is not a folder; "
                              f"download the IDX files from {MNIST_URLS}")
    parts = [_load_mnist_split(folder, prefix, dtype, flatten) for prefix in splits[split]]
    return tuple(parts) if split == "both" else parts[0]


def _read_csv(path):
    """A numeric CSV as float64, skipping one header row if the first row is not numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # loadtxt warns on an empty file
        try:
            return np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError:
            pass
        try:
            return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
        except ValueError as exc:
            raise DataFormatError(f"{path} is not a numeric CSV: {_csv_problem(path, exc)}") \
                from None


def _csv_problem(path, exc):
    """What is wrong with a CSV, in words a command-line user can act on.

    NumPy's own message suggests ``usecols``, an argument a ``tinyae`` user cannot
    pass; a ragged file is named by its first short or long row instead.
    """
    rows = [line.split(",") for line in Path(path).read_text(errors="replace").splitlines()
            if line.strip()]
    widths = [len(r) for r in rows]
    if len(set(widths[1:] or widths)) > 1:
        expected = max(set(widths[1:]), key=widths[1:].count)
        bad = next(i for i, w in enumerate(widths) if w != expected and i > 0)
        return (f"every row needs the same number of values; most rows have {expected}, "
                f"but line {bad + 1} has {widths[bad]}")
    return str(exc).split(" To ")[0].split("; use")[0].rstrip(".")


def _read_npy_or_npz(path):
    """The array in a ``.npy`` file, or the single (or ``X``) array in a ``.npz`` archive."""
    try:
        loaded = np.load(path, allow_pickle=False)  # an ndarray for .npy, an archive for .npz
        if isinstance(loaded, np.ndarray):
            return loaded
        with loaded:
            names = loaded.files
            if len(names) == 1:
                return loaded[names[0]]
            if "X" in names:
                return loaded["X"]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataFormatError(f"{path} holds pickled data (or is not a NumPy file); "
                                  "pickled files are refused for safety: they can run any code"
                                  ) from exc
        raise DataFormatError(f"{path} is not a valid {path.suffix} file: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise DataFormatError(f"{path} is not a valid {path.suffix} file: {exc}") from exc
    raise DataFormatError(f"{path} holds {len(names)} arrays {names}; expected one array "
                          "or one named 'X'")


def load_array(path, dtype=np.float64):
    """Load your own data set, shape (n_samples, n_features), from .npy, .npz or .csv.

    Scaling: uint8 arrays are divided by 255; other integer (and bool) arrays by
    their largest absolute value, so non-negative integers land in [0, 1]. Float
    arrays, and every CSV (read as floats), are only converted to ``dtype``.
    A 3-D array (n, h, w) or 4-D (n, h, w, c) of images is flattened to (n, h*w*c).
    A ``.npz`` must hold a single array or one named ``X``. Pickled files are refused.

    Parameters
    ----------
    path : str or os.PathLike
    dtype : float32 or float64, default float64

    Returns
    -------
    X : ndarray, shape (n_samples, n_features), ``dtype``
    """
    dtype = _float_dtype(dtype)
    path = Path(path)
    if path.suffix.lower() not in (".npy", ".npz", ".csv"):
        raise DataFormatError(f"{path}: unknown extension {path.suffix!r}, expected .npy, .npz "
                              "or .csv")
    if not path.is_file():
        raise DataFormatError(f"data file {path} does not exist")
    raw = _read_csv(path) if path.suffix.lower() == ".csv" else _read_npy_or_npz(path)
    if raw.dtype.kind not in "buif":
        raise DTypeError(f"{path}: expected numbers, got an array of dtype {raw.dtype}")
    if raw.ndim in (3, 4):
        raw = raw.reshape(len(raw), -1)
    if raw.ndim != 2:
        raise ShapeError(f"{path}: expected a 2-D array (n_samples, n_features) or 3-D/4-D "
                         f"images, got shape {raw.shape} (one sample? reshape it to (1, -1))")
    if raw.size == 0:
        raise ShapeError(f"{path}: expected a non-empty array, got shape {raw.shape}")
    X = raw.astype(dtype)
    if raw.dtype == np.uint8:
        X /= 255
    elif raw.dtype.kind in "bui":
        largest = np.abs(X).max()
        if largest > 0:
            X /= largest
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))
        raise NotFiniteError(f"{path}: expected finite numbers, got {len(bad)} NaN or inf "
                             f"values (first at row {bad[0][0]}, column {bad[0][1]}) in {dtype}")
    return X


def train_test_split(X, y=None, test_size=0.2, seed=0):
    """Shuffle the rows and split them into a training part and a test part.

    Parameters
    ----------
    X : ndarray, shape (n_samples, ...)
    y : ndarray, shape (n_samples, ...), optional
        Labels, split with the same permutation so they stay aligned with ``X``.
    test_size : float in (0, 1) or int
        Fraction of rows (rounded up) or number of rows for the test part.
    seed : int or numpy.random.Generator

    Returns
    -------
    X_train, X_test : ndarray
        Or ``X_train, X_test, y_train, y_test`` when ``y`` is given (scikit-learn's order).
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise ShapeError(f"train_test_split expected an array of samples, got a scalar {X!r}")
    n = len(X)
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != n:
            raise ShapeError(f"X has {n} samples but y has shape {y.shape}; expected {n} labels")
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"test_size as a fraction must lie in (0, 1), got {test_size}")
        n_test = int(np.ceil(test_size * n))
    else:
        raise TypeError(f"test_size must be a float in (0, 1) or an int, got {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size} leaves {n_test} test and {n - n_test} training "
                         f"samples out of {n}; both parts need at least one")
    order = _as_generator(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    if y is None:
        return X[train], X[test]
    return X[train], X[test], y[train], y[test]


def add_noise(X, kind="gaussian", level=0.1, seed=0):
    r"""A noisy copy of ``X`` for a denoising autoencoder; ``X`` itself is untouched.

    - ``"gaussian"``: $\mathrm{clip}(X + \ell ε, 0, 1)$ with $ε \sim \mathcal{N}(0, 1)$ and
      $\ell$ the ``level`` (the standard deviation).
    - ``"masking"``: each entry set to 0 with probability ``level``.
    - ``"salt_pepper"``: each entry, with probability ``level``, set to 0 or 1 (half each).

    Reference: P. Vincent et al., "Extracting and composing robust features with
    denoising autoencoders", ICML 2008.

    Parameters
    ----------
    X : ndarray of float32 or float64, any shape, values in [0, 1]
    kind : {"gaussian", "masking", "salt_pepper"}
    level : float
        Noise standard deviation (>= 0) for gaussian, probability in [0, 1] otherwise.
    seed : int or numpy.random.Generator
        Pass the training loop's Generator to draw fresh noise every minibatch.

    Returns
    -------
    X_noisy : ndarray, same shape and dtype as ``X``
    """
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        raise DTypeError(f"add_noise expected a float32 or float64 array, got dtype {X.dtype}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {list(NOISE_KINDS)}, got {kind!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise TypeError(f"level must be a number, got {level!r}")
    if kind == "gaussian" and not 0 <= level < np.inf:
        raise ValueError(f"gaussian noise level is a standard deviation >= 0, got {level}")
    if kind != "gaussian" and not 0 <= level <= 1:
        raise ValueError(f"{kind} noise level is a probability in [0, 1], got {level}")
    rng = _as_generator(seed)
    # Draws in X's own dtype: float32 data gets float32 noise, and no extra conversion pass.
    if kind == "gaussian":
        X_noisy = rng.standard_normal(X.shape, dtype=X.dtype)
        X_noisy *= level
        X_noisy += X
        return np.clip(X_noisy, 0, 1, out=X_noisy)
    u = rng.random(X.shape, dtype=X.dtype)  # uniform in [0, 1): P(u < level) = level
    if kind == "masking":
        np.greater_equal(u, level, out=u)  # in place: 1.0 keeps an entry, 0.0 masks it
        u *= X
        return u
    X_noisy = X.copy()
    X_noisy[u < level] = 0  # pepper ...
    X_noisy[u < level / 2] = 1  # ... and half of the changed entries become salt
    return X_noisy
