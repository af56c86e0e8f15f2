r"""The protocol every layer follows, and ``Sequential`` to chain layers.

The contract (the same for every module in tinyae):

* ``forward(x)`` computes the output and stores in ``self.cache`` exactly
  what ``backward`` will need, nothing more.
* ``backward(grad_out)`` takes $\partial L/\partial\,\text{output}$, returns
  $\partial L/\partial\,\text{input}$, and *overwrites* ``self.grads[name]`` with
  the gradient of $L$ with respect to ``self.params[name]``.
  Gradients are never accumulated across calls: one forward, one backward.
  (A parameter used twice in one forward, as in tied weights, must sum its
  two contributions explicitly inside ``backward``.)
* ``backward`` never changes a parameter: updating is the optimizer's job.
* ``params`` and ``grads`` are dicts with the same keys, holding arrays of
  the same shapes; empty for parameter-free modules such as activations.
* ``buffers`` holds state that is saved with the model but not trained
  (e.g. running statistics of a normalization layer).
* ``training`` is True in train mode and False in eval mode; ``train()`` and
  ``eval()`` switch it (layers without mode-dependent behaviour ignore it).
* A module that draws random numbers in ``forward`` (Dropout's mask, a
  variational autoencoder's $ε$) has a ``hold_noise`` attribute: while it is
  True the module reuses its last draw, so a gradient check sees one fixed
  function. :mod:`tinyae.teach.gradcheck` sets it during a check.
"""

import numpy as np

from ..errors import ForwardNotCalledError, ShapeError

#: Every Module subclass by class name, so a saved architecture can be rebuilt.
REGISTRY = {}


class Module:
    """Base class: holds ``params``, ``grads``, ``buffers``, ``cache`` and the mode."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.__name__] = cls

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self.cache = None
        self.training = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def _cached(self):
        """Return ``self.cache``, or explain that ``forward`` has to come first."""
        if self.cache is None:
            raise ForwardNotCalledError(
                f"{self!r}.backward was called before forward: call forward(x) first, "
                "so the module can store what its backward pass needs"
            )
        return self.cache

    def _check_grad_out(self, grad_out, shape):
        if grad_out.shape != shape:
            raise ShapeError(
                f"{self!r}.backward expected grad_out of shape {shape} (the shape of the "
                f"last forward output), got {grad_out.shape}"
            )

    def _parts(self):
        """The named sub-modules of a composite, e.g. ``(("encoder.", enc), ("decoder.", dec))``.

        A layer has none. A composite (``Sequential``, the autoencoders) lists its parts
        here once, and ``train``, ``named_parameters`` and ``named_buffers`` walk them.
        """
        return ()

    def train(self, mode=True):
        """Switch to train mode (``mode=False``: eval mode), parts included; returns ``self``."""
        self.training = bool(mode)
        for _, part in self._parts():
            part.train(mode)
        return self

    def eval(self):
        """Switch to eval mode; returns ``self``."""
        return self.train(False)

    def children(self):
        """The modules held directly by this one (in attributes, or lists of them)."""
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Module))

    def modules(self):
        """This module and every module inside it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix=""):
        """Yield ``(name, param, grad)`` for every parameter, e.g. ``("W", W, dW)``."""
        for name, param in self.params.items():
            yield prefix + name, param, self.grads[name]
        for name, part in self._parts():
            yield from part.named_parameters(prefix + name)

    def named_buffers(self, prefix=""):
        """Yield ``(name, array)`` for every buffer (saved, never trained)."""
        for name, buf in self.buffers.items():
            yield prefix + name, buf
        for name, part in self._parts():
            yield from part.named_buffers(prefix + name)

    def parameters(self):
        """List of ``(param, grad)`` pairs, the form optimizers take."""
        return [(p, g) for _, p, g in self.named_parameters()]

    def config(self):
        """Constructor arguments as a JSON-friendly dict (weights not included)."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Sequential(Module):
    r"""A chain of modules: ``forward`` runs them in order, ``backward`` in reverse.

    Parameters
    ----------
    layers : list of Module

    Notes
    -----
    Forward: $a_0 = x$, $a_i = \text{layer}_i(a_{i-1})$. Backward, by the chain rule:
    $g_L$ = ``grad_out``, $g_{i-1}$ = ``layer_i.backward(g_i)``; returns
    $g_0 = \partial L/\partial x$.
    Parameter names are prefixed with the layer index: ``"0.W"``, ``"2.b"``.
    """

    def __init__(self, layers):
        super().__init__()
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential expected Module instances, got {type(layer).__name__} "
                    f"at position {i}"
                )
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out, input_grad=True):
        """``dL/dx`` from ``dL/d(output)``; every layer's ``grads`` filled on the way.

        With ``input_grad=False`` (the input is data: nothing before it is trained)
        the first layer with parameters fills its ``grads`` and, if it can (``Dense``,
        ``Conv2D``, ``ConvTranspose2D``), skips ``dL/dx``, the largest product of its
        backward pass, and None is returned (PyTorch skips the same work for an input
        that does not require a gradient).
        """
        first = next((i for i, layer in enumerate(self.layers) if layer.params), 0)
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            if i == first and not input_grad and getattr(layer, "can_skip_input_grad", False):
                return layer.backward(grad_out, input_grad=False)
            grad_out = layer.backward(grad_out)
        return grad_out

    def _parts(self):
        return tuple((f"{i}.", layer) for i, layer in enumerate(self.layers))

    def config(self):
        return {"layers": [module_to_config(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, layers):
        return cls([module_from_config(c) for c in layers])

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])"


def module_to_config(module):
    """``{"type": class name, **constructor args}``: enough to rebuild the architecture."""
    return {"type": type(module).__name__, **module.config()}


def module_from_config(config):
    """Rebuild a module (fresh weights) from :func:`module_to_config`'s dict."""
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in REGISTRY:
        raise ValueError(f"unknown module type {kind!r}; known types: {sorted(REGISTRY)}")
    cls = REGISTRY[kind]
    if hasattr(cls, "from_config"):
        return cls.from_config(**config)
    return cls(**config)


def as_rng(seed):
    """A ``numpy.random.Generator`` from an int seed, or the Generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
