"""Going on to PyTorch: the same model in ``torch.nn``, and safetensors files both ways.

tinyae is for learning; PyTorch is for what comes next (a GPU, many processes). This
module carries a model across without changing a single bit of its weights:

* :func:`to_torch` builds the ``torch.nn`` twin of a tinyae model and copies every
  parameter and running statistic into it; :func:`from_torch` does the reverse.
* :func:`export` (``model.export(path)``, ``tinyae export``) writes the weights to a
  ``.safetensors`` file under the names ``to_torch(model).state_dict()`` uses, with the
  tinyae architecture as JSON in the file's metadata; :func:`import_safetensors`
  (and ``tinyae.load``) reads such a file back, or one written by PyTorch with
  ``safetensors.torch.save_file(module.state_dict(), path)``.

Neither PyTorch nor safetensors is a dependency of tinyae: each is imported the first
time it is needed, and when it is missing the call raises
:class:`MissingDependencyError` saying how to install it. Nothing here unpickles: a
safetensors file is a JSON header and raw arrays.

The twins, and where the conventions differ:

======================  ===============================  ================================
tinyae                  torch.nn                         what changes
======================  ===============================  ================================
Dense(n_in, n_out)      Linear(n_in, n_out)              ``weight = W.T``, (out, in);
                                                         ``bias = b``
ReLU, Sigmoid, Tanh,    ReLU, Sigmoid, Tanh, Identity
Identity
LeakyReLU(alpha)        LeakyReLU(alpha)
Softmax                 Softmax(dim=1)
BatchNorm1d, 2d         BatchNorm1d, 2d                  ``gamma, beta -> weight, bias``;
                                                         PyTorch adds a batch counter,
                                                         ``num_batches_tracked``
LayerNorm               LayerNorm                        ``gamma, beta -> weight, bias``
Dropout(p)              Dropout(p)                       same rule, other random masks
Conv2D                  Conv2d                           same kernel layout
ConvTranspose2D         ConvTranspose2d                  same kernel layout
MaxPool2D               MaxPool2d
Upsample2D(s)           Upsample(scale_factor=s)         ``mode="nearest"``
Flatten                 Flatten
Reshape(shape)          Unflatten(1, shape)
Sequential              Sequential                       ``"0.W" -> "0.weight"``
Autoencoder             Sequential(encoder=, decoder=)   ``net.encoder``, ``net.decoder``
VariationalAutoencoder  VAE (``tinyae/_torch_vae.py``)   forward returns ``(x̂, μ, log σ²)``
======================  ===============================  ================================

A module with no twin (a layer of your own, ``SoftmaxClassifier``) is refused by name,
never dropped.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError, TinyAEError
from .module import REGISTRY, Sequential, module_from_config

FORMAT = "tinyae-safetensors"
FORMAT_VERSION = 1
INSTALL = {"torch": 'pip install "torch==2.13.0" --index-url '
                    "https://download.pytorch.org/whl/cpu  (the CPU build; a plain pip install "
                    "torch fetches the much larger CUDA build on Linux)",
           "safetensors": "pip install safetensors  (or pip install -e '.[torch]' in a "
                          "tinyae clone)"}


class MissingDependencyError(TinyAEError, ImportError):
    """PyTorch or safetensors is needed for this call and is not installed."""


class NoTwinError(TinyAEError, TypeError):
    """A module has no twin on the other side (tinyae <-> torch.nn)."""


def _require(name):
    """Import ``torch`` or ``safetensors`` on first use, or say how to install it."""
    try:
        if name == "torch":
            import torch
            return torch
        import safetensors.numpy
        return safetensors
    except ImportError as exc:
        raise MissingDependencyError(
            f"this needs {name}, which is not installed ({exc}); install it with "
            f"{INSTALL[name]}") from None


# ----- the twin of each tinyae layer: its torch.nn class, arguments and tensor names ------

def _pair(pair):
    return pair[0] if pair[0] == pair[1] else tuple(pair)


def _twin(layer):
    """``(torch.nn class name, args, kwargs)`` of the twin of one tinyae layer."""
    from . import activations, classifier, conv, layers, normalization

    kind = type(layer)   # exact types: a subclass may compute something else
    if kind is layers.Dense:
        return "Linear", (layer.n_in, layer.n_out), {}
    if kind in (activations.ReLU, activations.Sigmoid, activations.Tanh,
                activations.Identity, conv.Flatten):
        return kind.__name__, (), {}
    if kind is activations.LeakyReLU:
        return "LeakyReLU", (layer.alpha,), {}
    if kind is classifier.Softmax:
        return "Softmax", (), {"dim": 1}
    if kind in (normalization.BatchNorm1d, normalization.BatchNorm2d):
        return (kind.__name__, (layer.num_features,),
                {"eps": layer.eps, "momentum": float(layer.momentum)})
    if kind is normalization.LayerNorm:
        return "LayerNorm", (layer.normalized_shape,), {"eps": layer.eps}
    if kind is normalization.Dropout:
        return "Dropout", (layer.p,), {}
    if kind in (conv.Conv2D, conv.ConvTranspose2D):
        kwargs = {"stride": _pair(layer.stride), "padding": _pair(layer.padding)}
        if kind is conv.ConvTranspose2D:
            kwargs["output_padding"] = _pair(layer.output_padding)
        name = "Conv2d" if kind is conv.Conv2D else "ConvTranspose2d"
        return name, (layer.in_channels, layer.out_channels, _pair(layer.kernel_size)), kwargs
    if kind is conv.MaxPool2D:
        return "MaxPool2d", (_pair(layer.kernel_size),), {"stride": _pair(layer.stride)}
    if kind is conv.Upsample2D:
        scale = tuple(float(s) for s in layer.scale)
        return "Upsample", (), {"scale_factor": _pair(scale), "mode": "nearest"}
    if kind is conv.Reshape:
        return "Unflatten", (1, layer.shape), {}
    raise NoTwinError(f"{type(layer).__name__} has no PyTorch twin")


def _tensor_names(layer):
    """``[(tinyae name, torch name, "params" or "buffers")]`` for one layer's arrays."""
    if not layer.params and not layer.buffers:
        return []
    names = {"W": "weight", "b": "bias", "gamma": "weight", "beta": "bias",
             "running_mean": "running_mean", "running_var": "running_var"}
    return ([(k, names[k], "params") for k in layer.params]
            + [(k, names[k], "buffers") for k in layer.buffers])


def _transposed(layer, key):
    """Dense keeps ``W`` as (n_in, n_out); ``torch.nn.Linear`` keeps ``weight`` as (out, in)."""
    from .layers import Dense

    return type(layer) is Dense and key == "W"


# ----- walking a tinyae model: every layer with its torch name prefix ----------------------

def _parts(model):
    """The named containers of a whole model, or None for a layer or a Sequential."""
    from .model import Autoencoder
    from .vae import VariationalAutoencoder

    if type(model) is Autoencoder:
        return [("encoder", model.encoder), ("decoder", model.decoder)]
    if type(model) is VariationalAutoencoder:
        return [("encoder", model.encoder), ("mu", model.mu), ("logvar", model.logvar),
                ("decoder", model.decoder)]
    return None


def _leaves(model, prefix=""):
    """Yield ``(torch name prefix, layer)`` for every layer, refusing one without a twin."""
    parts = _parts(model)
    if parts is not None:
        for name, part in parts:
            yield from _leaves(part, f"{prefix}{name}.")
    elif type(model) is Sequential:
        for i, layer in enumerate(model.layers):
            yield from _leaves(layer, f"{prefix}{i}.")
    else:
        where = prefix.rstrip(".") or "the model itself"
        try:
            _twin(model)
        except NoTwinError:
            raise NoTwinError(
                f"{type(model).__name__} (at {where}) has no PyTorch twin, so the model "
                f"cannot be carried over without dropping it; the twins are {_covered()}"
            ) from None
        yield prefix, model


def _covered():
    return ("Dense, ReLU, LeakyReLU, Sigmoid, Tanh, Identity, Softmax, BatchNorm1d, "
            "BatchNorm2d, LayerNorm, Dropout, Conv2D, ConvTranspose2D, MaxPool2D, "
            "Upsample2D, Flatten, Reshape, and Sequential, Autoencoder and "
            "VariationalAutoencoder built from them")


def state_dict(model, grads=False):
    """The model's arrays under PyTorch's names and layouts, as NumPy arrays (no torch needed).

    ``state_dict(model)[name]`` equals ``to_torch(model).state_dict()[name]``: Dense's
    ``W`` (n_in, n_out) appears as ``"....weight"`` of shape (n_out, n_in), BatchNorm's
    ``gamma`` as ``"....weight"``, and each BatchNorm adds PyTorch's batch counter
    ``"....num_batches_tracked"`` (0: tinyae does not count batches).
    With ``grads=True``: the gradients of the last backward pass, under the names of
    the parameters they belong to (what ``param.grad`` holds after ``loss.backward()``).

    Returns
    -------
    dict of str -> ndarray, C-contiguous copies.
    """
    out = {}
    for prefix, layer in _leaves(model):
        for key, name, where in _tensor_names(layer):
            if grads and where == "buffers":
                continue
            array = (layer.grads if grads else getattr(layer, where))[key]
            out[prefix + name] = np.ascontiguousarray(
                array.T if _transposed(layer, key) else array).copy()
        if "running_mean" in layer.buffers and not grads:
            out[prefix + "num_batches_tracked"] = np.array(0, dtype=np.int64)
    return out


def load_state_dict(model, state, source="the state dict"):
    """Copy arrays named and laid out as in PyTorch into ``model``: all checked, then all copied.

    Parameters
    ----------
    model : tinyae Module
    state : dict of str -> ndarray (or torch.Tensor)
        Exactly the names of :func:`state_dict` (PyTorch's ``strict=True``), each of the
        same shape and dtype.
    source : str
        Named in error messages (e.g. the file).

    Raises
    ------
    ModelFileError
        A name is missing or unexpected, or an array has the wrong shape or dtype. The
        model is left untouched: nothing is loaded half-way.
    """
    expected = state_dict(model)
    state = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v))
             for k, v in state.items()}
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ModelFileError(f"{source}: the names do not match the architecture "
                             f"{type(model).__name__} (missing {missing}, unexpected {extra})")
    for name, want in expected.items():
        got = state[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            hint = (" (PyTorch works in float32 unless you call .double(); build the tinyae "
                    "model with the file's dtype)" if got.shape == want.shape else "")
            raise ModelFileError(f"{source}: {name} should be {want.dtype} of shape "
                                 f"{want.shape}, got {got.dtype} {got.shape}{hint}")
    for prefix, layer in _leaves(model):
        for key, name, where in _tensor_names(layer):
            array = state[prefix + name]
            getattr(layer, where)[key][...] = array.T if _transposed(layer, key) else array
    return model


# ----- tinyae -> torch.nn --------------------------------------------------------------------

def _build_torch(model, nn):
    """The ``torch.nn`` twin of ``model`` (fresh weights, float32), each part in its mode."""
    parts = _parts(model)
    if parts is not None:
        built = {name: _build_torch(part, nn) for name, part in parts}
        if type(model).__name__ == "Autoencoder":
            from collections import OrderedDict

            net = nn.Sequential(OrderedDict(built))
            if model.input_shape is not None:
                net.input_shape = tuple(model.input_shape)
            if model.penalties:
                from .regularizers import penalty_to_config
                net.tinyae_penalties = [penalty_to_config(p) for p in model.penalties]
        else:
            from ._torch_vae import VAE
            net = VAE(**built, beta=model.beta, seed=model.seed)
    elif type(model) is Sequential:
        net = nn.Sequential(*(_build_torch(layer, nn) for layer in model.layers))
    else:
        name, args, kwargs = _twin(model)
        net = getattr(nn, name)(*args, **kwargs)
        net.train(model.training)
        return net
    net.training = model.training   # the container only: each layer keeps its own mode
    return net


def to_torch(model):
    """The ``torch.nn`` twin of a tinyae model, holding bit-identical weights.

    Parameters
    ----------
    model : tinyae Module
        A layer, a :class:`~tinyae.Sequential`, an :class:`~tinyae.Autoencoder` or a
        :class:`~tinyae.VariationalAutoencoder` built from the layers in this module's
        table.

    Returns
    -------
    torch.nn.Module
        In the model's dtype (float32 or float64) and mode (train or eval). An
        autoencoder becomes ``nn.Sequential(encoder=..., decoder=...)``, so
        ``net.encoder`` and ``net.decoder`` run alone; a convolutional one takes images
        ``(N, C, H, W)``. Every array is copied (changing one side never changes the
        other); ``net.state_dict()`` has the names of :func:`state_dict`.

    Raises
    ------
    NoTwinError
        A module has no PyTorch twin (named, with where it sits in the model).
    MissingDependencyError
        PyTorch is not installed.
    """
    list(_leaves(model))   # refuse a module without a twin before importing anything
    torch = _require("torch")
    net = _build_torch(model, torch.nn).to(_torch_dtype(torch, model))
    state = {k: torch.from_numpy(v) for k, v in state_dict(model).items()}
    net.load_state_dict(state, strict=True)
    return net


def _torch_dtype(torch, model):
    dtypes = {np.dtype(p.dtype) for p, _ in model.parameters()}
    if len(dtypes) > 1:
        raise TypeError(f"{type(model).__name__} mixes parameter dtypes {sorted(map(str, dtypes))}"
                        "; convert it to one dtype first")
    return torch.float32 if dtypes == {np.dtype(np.float32)} else torch.float64


def pytorch_source(model):
    """One Python expression that builds ``to_torch(model)`` with ``torch.nn`` alone.

    For example ``nn.Sequential(OrderedDict(encoder=nn.Sequential(nn.Linear(64, 16),
    nn.ReLU()), decoder=nn.Sequential(nn.Linear(16, 64), nn.Sigmoid()))).double()``.
    It needs ``from collections import OrderedDict`` and ``from torch import nn``; a
    variational model also needs the ``VAE`` class of ``tinyae/_torch_vae.py`` (printed
    in ``docs/pytorch.md``). :func:`export` stores it in the file's metadata, under
    ``"pytorch"``, so a PyTorch user can rebuild the network without tinyae.
    """
    def build(m):
        parts = _parts(m)
        if parts is not None:
            inner = ", ".join(f"{name}={build(part)}" for name, part in parts)
            if type(m).__name__ == "Autoencoder":
                return f"nn.Sequential(OrderedDict({inner}))"
            return f"VAE({inner}, beta={m.beta!r})"
        if type(m) is Sequential:
            return f"nn.Sequential({', '.join(build(layer) for layer in m.layers)})"
        name, args, kwargs = _twin(m)
        text = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"nn.{name}({', '.join(text)})"

    list(_leaves(model))
    source = build(model)
    dtypes = {np.dtype(p.dtype) for p, _ in model.parameters()}
    return source + (".double()" if np.dtype(np.float64) in dtypes else "")


# ----- torch.nn -> tinyae --------------------------------------------------------------------

def _refuse(module, where, why=""):
    raise NoTwinError(f"torch.nn.{type(module).__name__} (at {where or 'the model itself'}) "
                      f"has no tinyae twin{why}; tinyae reads {_covered()}")


def _from_torch_layer(m, nn, dtype, where):
    """The tinyae twin of one ``torch.nn`` layer (fresh weights, filled in later)."""
    from . import activations, classifier, conv, layers, normalization

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
        return classifier.Softmax()
    if kind is nn.Linear:
        need(m.bias is not None, "bias=False (tinyae's Dense always has a bias)")
        return layers.Dense(m.in_features, m.out_features, dtype=dtype)
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
        return conv.ConvTranspose2D(*args, output_padding=pair(m.output_padding), dtype=dtype)
    if kind is nn.MaxPool2d:
        need(pair(m.padding) == (0, 0) and pair(m.dilation) == (1, 1) and not m.ceil_mode
             and not m.return_indices, "padding, dilation, ceil_mode or return_indices")
        return conv.MaxPool2D(pair(m.kernel_size), pair(m.stride))
    if kind is nn.Upsample:
        scale = pair(m.scale_factor) if m.scale_factor is not None else None
        need(m.mode == "nearest" and m.size is None and scale is not None
             and all(float(s).is_integer() and s >= 1 for s in scale),
             f"mode={m.mode!r}, size={m.size}, scale_factor={m.scale_factor} (tinyae: "
             "nearest, a whole scale factor)")
        return conv.Upsample2D(tuple(int(s) for s in scale))
    if kind is nn.Flatten:
        need(m.start_dim == 1 and m.end_dim == -1, f"start_dim={m.start_dim}, "
             f"end_dim={m.end_dim} (tinyae: start_dim=1, end_dim=-1)")
        return conv.Flatten()
    if kind is nn.Unflatten:
        need(m.dim == 1, f"dim={m.dim} (tinyae's Reshape: dim=1)")
        return conv.Reshape(tuple(m.unflattened_size))
    _refuse(m, where)


def _from_torch(m, nn, dtype, where, input_shape):
    from .model import Autoencoder
    from .vae import VariationalAutoencoder

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
        from .regularizers import penalty_from_config

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


# ----- safetensors files -----------------------------------------------------------------

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
    from . import __version__

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
        os.replace(tmp, path)
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
