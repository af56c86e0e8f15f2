"""safetensors files both ways: tinyae's weights for PyTorch, and PyTorch's for tinyae.

:func:`export` (``model.export(path)``, ``tinyae export``) writes the weights under the
names ``to_torch(model).state_dict()`` uses, with the tinyae architecture as JSON in the
file's metadata; :func:`import_safetensors` (and ``tinyae.load``) reads such a file back,
or one written by PyTorch with ``safetensors.torch.save_file(module.state_dict(), path)``.
Nothing here unpickles: a safetensors file is a JSON header and raw arrays. Needs
safetensors (imported on first use), not PyTorch.
"""

import json
import os
import tempfile
from pathlib import Path

from ..data.modelfile import publish
from ..errors import ModelFileError
from ..nn.module import REGISTRY, module_from_config
from .pytorch import FORMAT, FORMAT_VERSION, _require, load_state_dict, pytorch_source, state_dict


def export(model, path):
    """Write ``model``'s weights to a ``.safetensors`` file that PyTorch loads as they are.

    The tensors are :func:`state_dict` (``to_torch(model).state_dict()``'s names,
    shapes and dtypes), written with ``safetensors.numpy``; the metadata holds
    ``"format": "tinyae-safetensors"``, the tinyae class and architecture as JSON
    (``"config"``), and ``"pytorch"``: :func:`pytorch_source`, the line that builds the
    network in PyTorch. A PyTorch user needs neither tinyae nor this module::

        net.load_state_dict(safetensors.torch.load_file(path), strict=True)

    The write is atomic (a temporary file renamed over ``path``). Needs safetensors,
    not PyTorch. Returns the Path.
    """
    from .._version import __version__

    state = state_dict(model)            # refuses a layer without a twin, by name
    source = pytorch_source(model)
    safetensors = _require("safetensors")
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"export writes a .safetensors file, got {path}")
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                "tinyae_version": __version__, "class": type(model).__name__,
                "config": json.dumps(model.config()), "pytorch": source}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        safetensors.numpy.save_file(state, tmp, metadata=metadata)
        publish(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _read_safetensors(path):
    """``(metadata dict, {name: ndarray})`` from a safetensors file, or a clear error."""
    safetensors = _require("safetensors")
    with open(path, "rb") as f:
        head = f.read(9)
        size = os.fstat(f.fileno()).st_size
    if head[:1] == b"\x80":
        raise ModelFileError(f"{path} is a pickled Python object, which tinyae never loads "
                             "(unpickling can run arbitrary code)")
    if head[:2] == b"PK":
        raise ModelFileError(
            f"{path} is a zip archive, not a safetensors file: a tinyae .npz (read it with "
            "tinyae.load on a .npz path) or a torch.save file, which holds a pickle that "
            "tinyae never loads; in PyTorch save with "
            "safetensors.torch.save_file(module.state_dict(), path)")
    header_len = int.from_bytes(head[:8], "little") if len(head) >= 8 else -1
    if header_len < 2 or header_len > size - 8 or head[8:9] != b"{":
        raise ModelFileError(f"{path} is not a safetensors file (it should start with the "
                             f"8-byte length of a JSON header; got {head[:9]!r}, file of "
                             f"{size} bytes)")
    try:
        with safetensors.safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except Exception as exc:   # SafetensorError, or a dtype NumPy cannot hold (bfloat16)
        raise ModelFileError(f"{path} is truncated, corrupted or holds a dtype tinyae cannot "
                             f"read: {type(exc).__name__}: {exc}") from exc
    return metadata, tensors


def import_safetensors(path, into=None):
    """Read a ``.safetensors`` file: one written by :func:`export`, or by PyTorch.

    Parameters
    ----------
    path : str or Path
    into : tinyae Module, optional
        The model to load the weights into (in place). Needed for a file written by
        ``safetensors.torch.save_file(module.state_dict(), path)``, which holds no
        architecture; ``from_torch(module)`` or a tinyae model built the same way gives
        one. Without it the file's own architecture is built, in eval mode (as
        :func:`tinyae.load` does).

    Returns
    -------
    tinyae Module

    Raises
    ------
    FileNotFoundError, ModelFileError
        No file; a foreign (pickled, zip, not safetensors), truncated or corrupted
        file; an architecture from a newer tinyae; names, shapes or dtypes that do not
        match the architecture. Nothing is loaded half-way.
    MissingDependencyError
        safetensors is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no safetensors file at {path}")
    metadata, tensors = _read_safetensors(path)
    model = into
    if into is None:
        if metadata.get("format") != FORMAT:
            raise ModelFileError(
                f"{path} holds no tinyae architecture in its metadata (written by "
                "safetensors.torch.save_file?); pass the tinyae model to load it into: "
                "import_safetensors(path, into=model), e.g. into=from_torch(net)")
        version = metadata.get("format_version", "")
        if not version.isdigit() or int(version) > FORMAT_VERSION:
            raise ModelFileError(f"{path} was written by a newer tinyae (format {version!r}, "
                                 f"tinyae {metadata.get('tinyae_version', '?')}); this "
                                 f"tinyae reads format {FORMAT_VERSION}: pip install -U tinyae")
        kind = metadata.get("class")
        if kind not in REGISTRY:
            raise ModelFileError(f"{path} holds a model of unknown class {kind!r}")
        try:
            model = module_from_config({"type": kind, **json.loads(metadata["config"])})
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: the architecture in the metadata is invalid "
                                 f"({type(exc).__name__}: {exc})") from exc
    load_state_dict(model, tensors, str(path))
    return model.eval() if into is None else model
