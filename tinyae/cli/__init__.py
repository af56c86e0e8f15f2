"""The ``tinyae`` command: ``train``, ``reconstruct``, ``encode``, ``sample``, ``export``,
``check``.

The top of the layers: it may use everything below it, and nothing imports it.
``main`` parses the arguments (``main.py``, argument types in ``args.py``); each
command is in its own module.
"""

from .main import main

__all__ = ["main"]
