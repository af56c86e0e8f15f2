"""The old path of the PyTorch bridge (now :mod:`tinyae.bridge`), kept for old code.

``tinyae.interop.to_torch``, ``state_dict``, ``export``... are the functions of
:mod:`tinyae.bridge.pytorch`, :mod:`tinyae.bridge.from_torch` and
:mod:`tinyae.bridge.files`. Importing this module imports the bridge (not torch).
"""

from .bridge.files import export, import_safetensors
from .bridge.from_torch import from_torch
from .bridge.pytorch import (
    FORMAT,
    FORMAT_VERSION,
    INSTALL,
    MissingDependencyError,
    NoTwinError,
    load_state_dict,
    pytorch_source,
    state_dict,
    to_torch,
)

__all__ = ["FORMAT", "FORMAT_VERSION", "INSTALL", "MissingDependencyError", "NoTwinError",
           "export", "from_torch", "import_safetensors", "load_state_dict", "pytorch_source",
           "state_dict", "to_torch"]
