"""From ``torch.nn`` to tinyae: the twin of a PyTorch module, with its weights copied bit for bit.

The reverse of :func:`tinyae.bridge.pytorch.to_torch`; the table of twins is in
:mod:`tinyae.bridge.pytorch`. A module with no tinyae twin is refused by name.
"""

import numpy as np

from ..nn.module import Sequential
from .pytorch import NoTwinError, _covered, _require, load_state_dict


def _refuse(module, where, why=""):
    raise NoTwinError(f"torch.nn.{type(module).__name__} (at {where or 'the model itself'}) "
                      f"has no tinyae twin{why}; tinyae reads {_covered()}")


def _from_torch_layer(m, nn, dtype, where):
    """The tinyae twin of one ``torch.nn`` layer (fresh weights, filled in later)."""
    from ..nn import (
        activations,
        conv,
        conv_transpose,
        dense,
        normalization,
        pooling,
        reshape,
    )
    from ..nn.softmax import Softmax

    kind = type(m)

    def pair(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)

    def need(condition, why):
        if not condition:
            _refuse(m, where, f" with {why}")

    simple = {nn.ReLU: activations.ReLU, nn.Sigmoid: activations.Sigmoid,
              nn.Tanh: activations.Tanh, nn.Identity: activations.Identity}
    if kind in simple:
        return simple[kind]()
    if kind is nn.LeakyReLU:
        need(0 <= m.negative_slope < 1, f"negative_slope={m.negative_slope} (tinyae: [0, 1))")
        return activations.LeakyReLU(m.negative_slope)
    if kind is nn.Softmax:
        need(m.dim in (1, -1), f"dim={m.dim} (tinyae: over the features, dim=1)")
        return Softmax()
    if kind is nn.Linear:
        need(m.bias is not None, "bias=False (tinyae's Dense always has a bias)")
        return dense.Dense(m.in_features, m.out_features, dtype=dtype)
    if kind in (nn.BatchNorm1d, nn.BatchNorm2d):
        need(m.affine and m.track_running_stats, "affine=False or track_running_stats=False")
        need(m.momentum is not None, "momentum=None (a cumulative average)")
        cls = normalization.BatchNorm1d if kind is nn.BatchNorm1d else normalization.BatchNorm2d
        return cls(m.num_features, eps=m.eps, momentum=m.momentum, dtype=dtype)
    if kind is nn.LayerNorm:
        need(m.elementwise_affine and m.bias is not None,
             "elementwise_affine=False or bias=False")
        return normalization.LayerNorm(tuple(m.normalized_shape), eps=m.eps, dtype=dtype)
    if kind is nn.Dropout:
        return normalization.Dropout(m.p)
    if kind in (nn.Conv2d, nn.ConvTranspose2d):
        need(m.groups == 1 and pair(m.dilation) == (1, 1), "groups or dilation")
        need(m.padding_mode == "zeros" and not isinstance(m.padding, str),
             f"padding={m.padding!r}, padding_mode={m.padding_mode!r}")
        need(m.bias is not None, "bias=False")
        args = (m.in_channels, m.out_channels, pair(m.kernel_size), pair(m.stride),
                pair(m.padding))
        if kind is nn.Conv2d:
            return conv.Conv2D(*args, dtype=dtype)
        return conv_transpose.ConvTranspose2D(*args, output_padding=pair(m.output_padding),
                                              dtype=dtype)
    if kind is nn.MaxPool2d:
        need(pair(m.padding) == (0, 0) and pair(m.dilation) == (1, 1) and not m.ceil_mode
             and not m.return_indices, "padding, dilation, ceil_mode or return_indices")
        return pooling.MaxPool2D(pair(m.kernel_size), pair(m.stride))
    if kind is nn.Upsample:
        scale = pair(m.scale_factor) if m.scale_factor is not None else None
        need(m.mode == "nearest" and m.size is None and scale is not None
             and all(float(s).is_integer() and s >= 1 for s in scale),
             f"mode={m.mode!r}, size={m.size}, scale_factor={m.scale_factor} (tinyae: "
             "nearest, a whole scale factor)")
        return pooling.Upsample2D(tuple(int(s) for s in scale))
    if kind is nn.Flatten:
        need(m.start_dim == 1 and m.end_dim == -1, f"start_dim={m.start_dim}, "
             f"end_dim={m.end_dim} (tinyae: start_dim=1, end_dim=-1)")
        return reshape.Flatten()
    if kind is nn.Unflatten:
        need(m.dim == 1, f"dim={m.dim} (tinyae's Reshape: dim=1)")
        return reshape.Reshape(tuple(m.unflattened_size))
    _refuse(m, where)


def _from_torch(m, nn, dtype, where, input_shape):
    from ..models.autoencoder import Autoencoder
    from ..models.vae import VariationalAutoencoder

    names = [name for name, _ in m.named_children()]
    prefix = f"{where}." if where else ""
    if names in (["encoder", "mu", "logvar", "decoder"], ["encoder", "decoder"]):
        for part in ("encoder", "decoder"):
            if type(getattr(m, part)) is not nn.Sequential:
                _refuse(m, where, f" whose {part} is a {type(getattr(m, part)).__name__} "
                        "(tinyae reads an nn.Sequential there)")
    if names == ["encoder", "mu", "logvar", "decoder"]:
        parts = {n: _from_torch(getattr(m, n), nn, dtype, prefix + n, None) for n in names}
        model = VariationalAutoencoder(**parts, beta=getattr(m, "beta", 1.0),
                                       seed=getattr(m, "seed", 0))
    elif type(m) is nn.Sequential and names == ["encoder", "decoder"]:
        from ..nn.penalties import penalty_from_config

        enc, dec = (_from_torch(getattr(m, n), nn, dtype, prefix + n, None) for n in names)
        shape = input_shape or getattr(m, "input_shape", None)
        first = next((layer for layer in enc.layers if layer.params), None)
        if shape is None and first is not None and not hasattr(first, "n_in"):
            raise ValueError(f"this autoencoder's encoder starts with {first!r}, which works "
                             "on images: pass from_torch(net, input_shape=(C, H, W))")
        penalties = [penalty_from_config(p) for p in getattr(m, "tinyae_penalties", [])]
        model = Autoencoder(enc, dec, penalties, input_shape=shape)
    elif type(m) is nn.Sequential:
        model = Sequential([_from_torch(child, nn, dtype, f"{prefix}{name}", None)
                            for name, child in m.named_children()])
    else:
        if names:
            _refuse(m, where, f" (a module of your own, holding {names}: rebuild it from "
                    "nn.Sequential, or convert its parts one by one)")
        model = _from_torch_layer(m, nn, dtype, where)
    model.training = m.training
    return model


def from_torch(module, input_shape=None):
    """The tinyae twin of a ``torch.nn`` model, holding bit-identical weights.

    Parameters
    ----------
    module : torch.nn.Module
        What :func:`to_torch` gives (or the same built by hand): a layer from the table
        in this module's docstring, an ``nn.Sequential`` of them, an
        ``nn.Sequential(encoder=..., decoder=...)`` (becomes an
        :class:`~tinyae.Autoencoder`), or a module whose children are exactly
        ``encoder, mu, logvar, decoder`` (a :class:`~tinyae.VariationalAutoencoder`).
        Parameters must be float32 or float64, on any device.
    input_shape : (C, H, W), optional
        For a convolutional autoencoder not made by :func:`to_torch`.

    Returns
    -------
    tinyae Module, in the module's dtype and mode. Dropout layers get seed 0 (PyTorch
    layers keep no seed); a variational model keeps ``beta`` and ``seed`` if the module
    has them.

    Raises
    ------
    NoTwinError
        A layer (or a setting of one, e.g. ``Conv2d(dilation=2)``) has no tinyae twin.
    """
    torch = _require("torch")
    nn = torch.nn
    dtypes = {p.dtype for p in module.parameters()}
    if not dtypes <= {torch.float32, torch.float64} or len(dtypes) > 1:
        raise TypeError(f"from_torch needs float32 or float64 parameters, all of one dtype, "
                        f"got {sorted(map(str, dtypes))}; convert with module.float() or "
                        "module.double()")
    dtype = np.float32 if dtypes == {torch.float32} else np.float64
    model = _from_torch(module, nn, dtype, "", input_shape)
    return load_state_dict(model, module.state_dict(), "from_torch")
