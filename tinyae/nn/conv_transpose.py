r"""The transposed convolution ("deconvolution"): a convolution's backward pass used as a layer.

It maps a small image to a larger one, the decoder's half of a convolutional
autoencoder (lesson 19). Output size on one axis, with stride $s$, padding $p$, kernel
height $k_h$ and ``output_padding`` $o_p$: $H_\text{out} = (H - 1)s - 2p + k_h + o_p$.
"""

import numpy as np

from .. import backend
from ..errors import ShapeError
from .conv import (
    Conv2D,
    _check_grad,
    _check_images,
    _pair,
    _plain,
    _text,
    conv_transpose_output_size,
    init_kernel,
)


class ConvTranspose2D(Conv2D):
    r"""Transposed convolution: the backward pass of :class:`Conv2D` (for its input), run forward.

    Where a convolution maps each *patch* of the input to one output pixel, a
    transposed convolution maps each *input pixel* to a patch: it paints its
    kernel, scaled by the pixel's value, onto the output, ``s`` pixels further
    for each step, summing where the patches overlap. With ``s = 2`` it doubles
    the height and width: the decoder's way back up.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, init, seed, dtype
        As for :class:`Conv2D`. ``padding`` here *crops* ``p`` pixels from each
        side of the painted output. For ``init``:
        $\text{fan}_\text{in} = C k_h k_w/(s_h s_w)$, the number of products each output
        pixel sums on average, and $\text{fan}_\text{out} = C_\text{out} k_h k_w$.
    output_padding : int or pair, default 0
        Extra rows (columns) at the bottom (right) of the output, less than
        ``stride``. A stride-``s`` convolution maps ``s`` different input sizes to
        the same output size; ``output_padding`` picks which one to go back to.

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, Cout, Ho, Wo) with
    $H_o = (H - 1)s_h - 2p_h + k_h + o_{p,h}$ and $W_o = (W - 1)s_w - 2p_w + k_w + o_{p,w}$
    (PyTorch's formula); W : (C, Cout, kh, kw) and b : (Cout,), PyTorch's layout.

    Forward (``yp`` is the output before cropping ``p`` from each side)
    -------
    For every input pixel $(i, j)$ and kernel offset $(u, v)$, summing where patches
    overlap:

    $$y^p_{n,\,o,\,i s_h + u,\,j s_w + v} \mathrel{+}= \sum_c x_{n,c,i,j}\, W_{c,o,u,v}$$

    then $y$ is $y^p$ (``yp``) cropped, plus $b_o$. As matrices: ``X`` (C, N·H·W), one
    column per input pixel, and ``W2 = W.reshape(C, Cout·kh·kw)`` give every pixel's
    painted patch, ``cols = W2.T @ X`` (Cout·kh·kw, N·H·W), and ``y = col2im(cols) + b``.

    Compare :meth:`Conv2D.backward`: ``dx = col2im(W2.T @ dY)`` with
    ``W2 = W.reshape(Cout_conv, C_conv·kh·kw)``. Line for line the same computation:
    ``ConvTranspose2D(a -> b).forward(g)`` with kernel ``W`` equals
    ``Conv2D(b -> a).backward(g)`` with the same ``W`` (shape ``(a, b, kh, kw)`` in both
    layouts), when $o_p = (H + 2p - k_h) \bmod s$ gives back the size
    $H$ of the convolution's input. Hence the name: a convolution is a matrix
    $A$ acting on the flattened image, its backward multiplies by $A^\top$.

    Backward (given ``dy`` of shape (N, Cout, Ho, Wo))
    --------
    The adjoint of the forward, which is a plain convolution: ``dcols = im2col(dy)``
    (Cout·kh·kw, N·H·W) collects, for every input pixel, the output gradients
    under its painted patch; then ``dX = W2 @ dcols``, ``dW2 = X @ dcols.T`` and
    $db_o = \sum_{n,i,j} dy_{n,o,i,j}$.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, init="he", seed=0, dtype=np.float64):
        self.output_padding = _pair(output_padding, "output_padding", 0)
        stride_pair = _pair(stride, "stride", 1)
        if any(op >= s for op, s in zip(self.output_padding, stride_pair)):
            raise ValueError(f"ConvTranspose2D output_padding must be smaller than stride, "
                             f"got output_padding={output_padding!r} with stride={stride!r} "
                             "(it picks one of the input sizes a stride-s convolution maps "
                             "to the same output size: 0, 1, ..., s − 1 extra rows)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, init, seed,
                         dtype)

    def _init_params(self, rng):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        C, Cout = self.in_channels, self.out_channels
        W = init_kernel((C, Cout, kh, kw), C * kh * kw / (sh * sw), Cout * kh * kw,
                        self.init, rng, self.dtype)
        self.params = {"W": W, "b": np.zeros(Cout, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def output_shape(self, input_shape):
        """``(C, H, W)`` of one input image -> ``(Cout, Ho, Wo)``, or a clear error."""
        C, H, W = input_shape
        if C != self.in_channels:
            raise ShapeError(f"{self!r} expected {self.in_channels} input channels, got {C}")
        sizes = [conv_transpose_output_size(n, k, s, p, op) for n, k, s, p, op in
                 zip((H, W), self.kernel_size, self.stride, self.padding, self.output_padding)]
        if min(sizes) < 1:
            raise ShapeError(f"{self!r}: a {H}x{W} input gives a {sizes[0]}x{sizes[1]} output "
                             f"((H − 1)·s − 2p + k + output_padding): the padding "
                             f"{_text(self.padding)} crops more than the kernel paints")
        return (self.out_channels, *sizes)

    def forward(self, x):
        x = _check_images(x, repr(self), self.in_channels, self.dtype)
        N = x.shape[0]
        y_shape = (N, *self.output_shape(x.shape[1:]))
        X = backend.channels_first(x)                                   # (C, N·H·W)
        W2 = self.params["W"].reshape(self.in_channels, -1)             # (C, Cout·kh·kw)
        cols = backend.matmul(W2.T, X)                                  # (Cout·kh·kw, N·H·W)
        y = backend.col2im(cols, y_shape, self.kernel_size, self.stride, self.padding,
                           bias=self.params["b"])                      # col2im(cols) + b
        self.cache = (X, x.shape, y_shape)
        return y

    def backward(self, grad_out, input_grad=True):
        """``dW``, ``db`` into ``grads``; returns ``dx``, or None with ``input_grad=False``."""
        X, x_shape, y_shape = self._cached()
        dy = _check_grad(self, grad_out, y_shape, self.dtype)
        # (Cout·kh·kw, N·H·W)
        dcols = backend.im2col(dy, self.kernel_size, self.stride, self.padding)
        W2 = self.params["W"].reshape(self.in_channels, -1)
        backend.matmul_by_transpose(X, dcols, out=self.grads["W"].reshape(W2.shape))  # X @ dcols.T
        np.sum(dy, axis=(0, 2, 3), out=self.grads["b"])
        if not input_grad:
            return None
        N, _, H, W = x_shape
        return backend.images_from_product(W2, dcols, N, H, W)          # dX = W2 @ dcols

    def config(self):
        return {**super().config(), "output_padding": _plain(self.output_padding)}

    def _geometry(self):
        text = super()._geometry()
        if self.output_padding != (0, 0):
            text += f", op={_text(self.output_padding)}"
        return text
