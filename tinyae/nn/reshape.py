"""Flatten and Reshape: between images ``(N, C, H, W)`` and rows ``(N, D)``, no arithmetic."""

import numpy as np

from .._validate import check_array
from ..errors import ShapeError
from .module import Module


class Flatten(Module):
    """``(N, d1, d2, ...) -> (N, d1·d2·...)``: each sample becomes one row, batch axis kept.

    Forward: ``y = x.reshape(N, -1)`` (C order: for images the row reads channel
    by channel, each channel row by row). Backward: ``dx = dy.reshape(x.shape)``,
    the same numbers put back in their places.
    """

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x):
        x = check_array(x, "Flatten")
        if x.ndim < 2:
            raise ShapeError(f"Flatten expected a batch (N, ...) of at least 2 dimensions, "
                             f"got shape {x.shape}")
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        shape = self._cached()
        self._check_grad_out(grad_out, (shape[0], int(np.prod(shape[1:]))))
        return grad_out.reshape(shape)

    def __repr__(self):
        return "Flatten()"


class Reshape(Module):
    """``(N, D) -> (N, *shape)``: each sample takes the per-sample ``shape``; batch axis kept.

    Parameters
    ----------
    shape : tuple of int
        The shape of one sample, e.g. ``(32, 7, 7)`` to fold a Dense layer's 1,568
        outputs into 32 channels of 7×7 for a transposed convolution.

    Forward: ``y = x.reshape(N, *shape)`` (any input whose samples hold
    ``prod(shape)`` values). Backward: ``dx = dy.reshape(x.shape)``.
    """

    def __init__(self, shape):
        super().__init__()
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        if not shape or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape):
            raise ValueError(f"Reshape shape must be positive ints (the shape of one sample), "
                             f"got {shape!r}")
        self.shape = tuple(int(s) for s in shape)
        self.size = int(np.prod(self.shape))

    def output_shape(self, input_shape):
        if int(np.prod(input_shape)) != self.size:
            raise ShapeError(f"{self!r} expected {self.size} values per sample, got "
                             f"{int(np.prod(input_shape))} (sample shape {tuple(input_shape)})")
        return self.shape

    def forward(self, x):
        x = check_array(x, repr(self))
        if x.ndim < 2:
            raise ShapeError(f"{self!r} expected a batch (N, ...) of at least 2 dimensions, "
                             f"got shape {x.shape}")
        self.output_shape(x.shape[1:])
        self.cache = x.shape
        return x.reshape(x.shape[0], *self.shape)

    def backward(self, grad_out):
        shape = self._cached()
        self._check_grad_out(grad_out, (shape[0], *self.shape))
        return grad_out.reshape(shape)

    def config(self):
        return {"shape": list(self.shape)}

    def __repr__(self):
        return f"Reshape({self.shape})"
