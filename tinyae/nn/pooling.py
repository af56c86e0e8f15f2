"""Max pooling and nearest-neighbour upsampling: shrinking and growing images, no weights."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv import _check_fits, _check_grad, _check_images, _pair, _plain, _text, conv_output_size
from .module import Module


class MaxPool2D(Module):
    r"""Max pooling: each output pixel is the largest value of its window, per channel.

    Parameters
    ----------
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), default ``kernel_size`` (windows side by side)

    Shapes: ``(N, C, H, W) -> (N, C, Ho, Wo)``, $H_o = \lfloor (H - k_h)/s_h \rfloor + 1$
    (no padding; rows and columns that no window reaches are ignored).

    Forward: $y_{n,c,i,j} = \max_{u,v} x_{n,\,c,\,i s_h + u,\,j s_w + v}$.
    Backward: the max passes its gradient to the one input that won and zero to
    the others: $dx_{n,\,c,\,i s_h + u^*,\,j s_w + v^*} \mathrel{+}= dy_{n,c,i,j}$ with
    $(u^*, v^*)$ the position of the maximum (the first one on a tie), summed where windows
    overlap. The cache keeps only that position. At a tie the function has a
    kink, so gradient checks draw inputs without ties.
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)

    def output_shape(self, input_shape):
        """``(C, H, W)`` -> ``(C, Ho, Wo)``, or a clear error."""
        C, H, W = input_shape
        _check_fits(repr(self), (H, W), self.kernel_size, (0, 0))
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return C, conv_output_size(H, kh, sh), conv_output_size(W, kw, sw)

    def forward(self, x):
        x = _check_images(x, repr(self))
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        N, C = x.shape[:2]
        _, Ho, Wo = self.output_shape(x.shape[1:])
        windows = sliding_window_view(x, (kh, kw), axis=(2, 3))
        windows = windows[:, :, :(Ho - 1) * sh + 1:sh, :(Wo - 1) * sw + 1:sw]
        windows = windows.reshape(N, C, Ho, Wo, kh * kw)   # one copy; (u, v) -> u·kw + v
        winner = np.argmax(windows, axis=-1)               # (N, C, Ho, Wo)
        self.cache = (winner, x.shape)
        return np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0]

    def backward(self, grad_out):
        winner, x_shape = self._cached()
        dy = _check_grad(self, grad_out, winner.shape, np.result_type(grad_out, np.float32))
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        Ho, Wo = winner.shape[2:]
        dx = np.zeros(x_shape, dtype=dy.dtype)
        for u in range(kh):          # one strided slice per kernel offset, as in col2im
            for v in range(kw):
                dx[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += np.where(winner == u * kw + v,
                                                                         dy, 0)
        return dx

    def config(self):
        return {"kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride)}

    def __repr__(self):
        stride = "" if self.stride == self.kernel_size else f", s={_text(self.stride)}"
        return f"MaxPool2D(k={_text(self.kernel_size)}{stride})"


class Upsample2D(Module):
    r"""Nearest-neighbour upsampling: each pixel becomes an $s_h \times s_w$ block of copies.

    Parameters
    ----------
    scale : int or (sh, sw)

    Shapes: ``(N, C, H, W) -> (N, C, H·sh, W·sw)``.
    Forward: $y_{n,c,h,w} = x_{n,\,c,\,\lfloor h/s_h \rfloor,\,\lfloor w/s_w \rfloor}$.
    Backward: each input pixel was copied into $s_h s_w$ outputs, so it receives
    the sum of their gradients:

    $$dx_{n,c,i,j} = \sum_{a < s_h} \sum_{b < s_w} dy_{n,\,c,\,i s_h + a,\,j s_w + b}$$
    """

    def __init__(self, scale=2):
        super().__init__()
        self.scale = _pair(scale, "scale", 1)

    def output_shape(self, input_shape):
        C, H, W = input_shape
        return C, H * self.scale[0], W * self.scale[1]

    def forward(self, x):
        x = _check_images(x, repr(self))
        N, C, H, W = x.shape
        sh, sw = self.scale
        self.cache = x.shape
        y = np.empty((N, C, H * sh, W * sw), dtype=x.dtype)
        for a in range(sh):          # offset (a, b) in every block: one strided slice
            for b in range(sw):
                y[:, :, a::sh, b::sw] = x
        return y

    def backward(self, grad_out):
        N, C, H, W = self._cached()
        sh, sw = self.scale
        self._check_grad_out(grad_out, (N, C, H * sh, W * sw))
        dx = grad_out[:, :, ::sh, ::sw].copy()
        for a in range(sh):
            for b in range(sw):
                if a or b:
                    dx += grad_out[:, :, a::sh, b::sw]
        return dx

    def config(self):
        return {"scale": _plain(self.scale)}

    def __repr__(self):
        return f"Upsample2D(scale={_text(self.scale)})"
