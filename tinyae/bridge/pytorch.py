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
VariationalAutoencoder  VAE (``bridge/_torch_vae.py``)   forward returns ``(x̂, μ, log σ²)``
======================  ===============================  ================================

A module with no twin (a layer of your own, ``SoftmaxClassifier``) is refused by name,
never dropped.
"""


import numpy as np

from ..errors import ModelFileError, TinyAEError
from ..nn.module import Sequential

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

    kind = type(layer)   # exact types: a subclass may compute something else
    if kind is dense.Dense:
        return "Linear", (layer.n_in, layer.n_out), {}
    if kind in (activations.ReLU, activations.Sigmoid, activations.Tanh,
                activations.Identity, reshape.Flatten):
        return kind.__name__, (), {}
    if kind is activations.LeakyReLU:
        return "LeakyReLU", (layer.alpha,), {}
    if kind is Softmax:
        return "Softmax", (), {"dim": 1}
    if kind in (normalization.BatchNorm1d, normalization.BatchNorm2d):
        return (kind.__name__, (layer.num_features,),
                {"eps": layer.eps, "momentum": float(layer.momentum)})
    if kind is normalization.LayerNorm:
        return "LayerNorm", (layer.normalized_shape,), {"eps": layer.eps}
    if kind is normalization.Dropout:
        return "Dropout", (layer.p,), {}
    if kind in (conv.Conv2D, conv_transpose.ConvTranspose2D):
        kwargs = {"stride": _pair(layer.stride), "padding": _pair(layer.padding)}
        if kind is conv_transpose.ConvTranspose2D:
            kwargs["output_padding"] = _pair(layer.output_padding)
        name = "Conv2d" if kind is conv.Conv2D else "ConvTranspose2d"
        return name, (layer.in_channels, layer.out_channels, _pair(layer.kernel_size)), kwargs
    if kind is pooling.MaxPool2D:
        return "MaxPool2d", (_pair(layer.kernel_size),), {"stride": _pair(layer.stride)}
    if kind is pooling.Upsample2D:
        scale = tuple(float(s) for s in layer.scale)
        return "Upsample", (), {"scale_factor": _pair(scale), "mode": "nearest"}
    if kind is reshape.Reshape:
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
    from ..nn.dense import Dense

    return type(layer) is Dense and key == "W"


# ----- walking a tinyae model: every layer with its torch name prefix ----------------------

def _parts(model):
    """The named containers of a whole model, or None for a layer or a Sequential."""
    from ..models.autoencoder import Autoencoder
    from ..models.vae import VariationalAutoencoder

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
                from ..nn.penalties import penalty_to_config
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
    variational model also needs the ``VAE`` class of ``tinyae/bridge/_torch_vae.py`` (printed
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
