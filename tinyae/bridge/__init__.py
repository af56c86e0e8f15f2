"""Bridges to other frameworks (PyTorch), imported only when used."""
