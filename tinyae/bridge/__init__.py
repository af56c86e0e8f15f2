"""Going on to PyTorch: the same model in ``torch.nn``, and safetensors files both ways.

Nothing else in tinyae imports this package at import time: ``import tinyae`` loads no
torch and no safetensors, and this package imports them only inside the functions that
need them. ``pytorch`` holds ``to_torch`` and the table of twins, ``from_torch`` the way
back, ``files`` the safetensors files (``model.export``, ``tinyae.load``); lesson 21.
"""
