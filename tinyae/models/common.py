"""What the autoencoders share: sigmoid + BCE fused at the output, eval runs, interpolation."""

import numpy as np

from ..nn.activations import Sigmoid
from ..nn.losses import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, get_loss

_INIT_FOR = {"relu": "he", "leaky_relu": "he"}  # everything else: glorot


def _init_for(activation):
    return _INIT_FOR.get(activation, "glorot")


def fuse_output(decoder, loss):
    """The decoder layers to run and the loss to use, fusing a final sigmoid into BCE.

    When the decoder ends in a :class:`Sigmoid` and the loss is binary
    cross-entropy, returns the layers without the sigmoid and
    :class:`BinaryCrossEntropyWithLogits`: the loss is computed from the logits
    (no ``log 0``) and the gradient entering the decoder is ``(x̂ − x)/N``.
    Otherwise returns all the layers and the loss unchanged.
    """
    loss = get_loss(loss)
    layers = decoder.layers
    if isinstance(loss, BinaryCrossEntropy) and layers and isinstance(layers[-1], Sigmoid):
        return layers[:-1], BinaryCrossEntropyWithLogits()
    return layers, loss


def run_in_eval(model, net, X, batch_size):
    """Run ``net`` (a part of ``model``) on ``X`` in eval mode, ``batch_size`` rows at a time."""
    was_training = model.training
    model.eval()
    try:
        return np.concatenate([net.forward(X[i:i + batch_size])
                               for i in range(0, len(X), batch_size)])
    finally:
        model.train(was_training)


def reconstruction_error(model, X, target, loss, batch_size=4096):
    """Loss per sample of ``model.reconstruct(X)`` against ``target``, by chunks of rows.

    The mean of the chunks' means, each weighted by its rows: the number one big
    batch gives, without an (N, D) reconstruction and an (N, D) difference in memory
    (for MNIST's 60,000 images, 190 MB each in float32).
    """
    loss = get_loss(loss)
    total = 0.0
    for i in range(0, len(X), batch_size):
        x, t = X[i:i + batch_size], target[i:i + batch_size]
        total += loss.forward(model.reconstruct(x), t) * len(x)
    return total / len(X)


def interpolate(model, x_a, x_b, steps=10):
    """Decoded images along the straight line from ``encode(x_a)`` to ``encode(x_b)``.

    Returns an array (steps, D): row i decodes ``(1 − t_i)·z_a + t_i·z_b`` with
    ``t_i = i/(steps − 1)``, so the first and last rows reconstruct ``x_a`` and ``x_b``.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"interpolate needs steps >= 2, got {steps!r}")
    ends = np.stack([np.ravel(x_a), np.ravel(x_b)])
    z_a, z_b = model.encode(ends)
    t = np.linspace(0.0, 1.0, int(steps), dtype=z_a.dtype)[:, None]
    return model.decode((1 - t) * z_a + t * z_b)


class ModelFiles:
    """``save`` and ``export``, shared by the autoencoders (a mix-in of theirs).

    ``save`` writes tinyae's ``.npz`` file (:mod:`tinyae.data.modelfile`); ``export`` writes
    the ``.safetensors`` file PyTorch loads (:func:`tinyae.bridge.files.export`), which
    refuses by name a model with no PyTorch twin.
    """

    def save(self, path):
        """Save architecture and weights to one ``.npz`` file (see :mod:`tinyae.data.modelfile`)."""
        from ..data.modelfile import save

        return save(self, path)

    def export(self, path):
        """Weights to a ``.safetensors`` file PyTorch loads (:func:`tinyae.bridge.files.export`)."""
        from ..bridge.files import export  # the one declared upward import (pyproject.toml)

        return export(self, path)
