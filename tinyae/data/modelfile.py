"""Saving and loading models: one ``.npz`` file, no pickle, atomic writes.

File layout (a NumPy ``.npz``, i.e. a zip of ``.npy`` arrays):

* ``__tinyae__``: the header, JSON encoded as a uint8 array::

      {"format": "tinyae-model", "format_version": 1, "tinyae_version": "0.1.0",
       "class": "Autoencoder", "config": {...architecture...}, "arrays": [...names...]}

* one array per parameter (``param/encoder.0.W``) and per buffer
  (``buffer/encoder.1.running_mean``), stored exactly, so a loaded model gives
  bit-identical outputs.

Safety: files are read with ``allow_pickle=False``, so a file from an untrusted
source cannot run code. Writes go to a temporary file in the same folder that
is renamed over the target only once complete (``os.replace`` is atomic), so a
crash mid-save leaves any previous file intact.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..nn.module import REGISTRY, module_from_config

FORMAT = "tinyae-model"
FORMAT_VERSION = 1


def save(model, path):
    """Write ``model`` (architecture and every array) to ``path``; returns the Path."""
    from .._version import __version__

    path = Path(path)
    arrays = {f"param/{name}": p for name, p, _ in model.named_parameters()}
    arrays.update({f"buffer/{name}": b for name, b in model.named_buffers()})
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "tinyae_version": __version__, "class": type(model).__name__,
              "config": model.config(), "arrays": sorted(arrays)}
    arrays["__tinyae__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    write_atomic(path, arrays)
    return path


def write_atomic(path, arrays):
    """``np.savez`` to a temporary file beside ``path``, fsync, then rename it over ``path``.

    A crash before the rename leaves the old file (and a stale temporary one, which
    :func:`tinyae.optim.checkpoint.remove_stale` clears for checkpoints); after it, the
    new one: never a mix of the two. Model files and training checkpoints both use it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(tmp, path):
    """Rename the finished temporary file ``tmp`` over ``path``, with the usual permissions.

    ``tempfile.mkstemp`` creates its file readable by its owner only (0600); a model file
    is an ordinary output, so it gets what ``open()`` would have given it: 0666 less the
    umask. The rename is atomic: ``path`` holds the old file or the new one, never half.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def load(path):
    """Read a model written by :func:`save`; it starts in eval mode.

    This reads tinyae's own ``.npz`` files only; :func:`tinyae.load` also reads a
    ``.safetensors`` file (through the PyTorch bridge, :mod:`tinyae.bridge`).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFileError
        The file is truncated, corrupted, pickled, not a tinyae model, from a
        newer tinyae, or its arrays do not fit its architecture. Nothing is
        half-loaded: the model is built and checked before it is returned.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        raise ModelFileError(f"{path} is a safetensors file: read it with tinyae.load (or "
                             "tinyae.bridge.files.import_safetensors), not data.modelfile.load")
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    arrays = _read_arrays(path)
    if "__tinyae__" not in arrays:
        raise ModelFileError(f"{path} is not a tinyae model: it has no '__tinyae__' header "
                             f"(it holds {sorted(arrays)[:5]})")
    try:
        header = json.loads(arrays.pop("__tinyae__").tobytes().decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: the model header is corrupted ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a tinyae model file (format "
                             f"{header.get('format') if isinstance(header, dict) else header!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer tinyae (file format {version!r}, tinyae "
            f"{header.get('tinyae_version', '?')}); this tinyae reads format {FORMAT_VERSION} "
            "or older: upgrade with pip install -U tinyae")
    if header.get("class") not in REGISTRY:
        raise ModelFileError(f"{path} holds a model of unknown class {header.get('class')!r}")
    try:
        model = module_from_config({"type": header["class"], **header["config"]})
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: the architecture in the file is invalid ({exc})") from exc
    _assign(model, arrays, path)
    return model.eval()


def _read_arrays(path):
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic[:1] == b"\x80":  # the first byte of a pickle (protocol 2 and later)
        raise ModelFileError(f"{path} is a pickled Python object, which tinyae never loads "
                             "(unpickling can run arbitrary code)")
    if magic[:2] != b"PK" and magic != b"\x93NUMPY":
        raise ModelFileError(f"{path} is not a tinyae model file: expected a .npz (zip) file, "
                             f"got one starting with {magic!r}")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path} holds a single array, not a tinyae model (.npz)")
        with data:
            return {name: data[name] for name in data.files}
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelFileError(f"{path} contains pickled Python objects, which tinyae never "
                                 "loads (unpickling can run arbitrary code)") from exc
        raise ModelFileError(f"{path} is truncated or corrupted ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelFileError(f"{path} is truncated or corrupted: {type(exc).__name__}: "
                             f"{exc}") from exc


def _assign(model, arrays, path):
    """Copy every saved array into ``model``, after checking all of them first."""
    targets = {f"param/{n}": p for n, p, _ in model.named_parameters()}
    targets.update({f"buffer/{n}": b for n, b in model.named_buffers()})
    missing = sorted(set(targets) - set(arrays))
    extra = sorted(set(arrays) - set(targets))
    if missing or extra:
        raise ModelFileError(f"{path}: arrays do not match the architecture "
                             f"(missing {missing}, unexpected {extra})")
    for name, target in targets.items():
        got = arrays[name]
        if got.shape != target.shape or got.dtype != target.dtype:
            raise ModelFileError(f"{path}: array {name} should be {target.dtype} of shape "
                                 f"{target.shape}, the file has {got.dtype} {got.shape}")
    for name, target in targets.items():
        target[...] = arrays[name]
