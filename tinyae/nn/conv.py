r"""Layers for images: convolution, transposed convolution, pooling, upsampling, reshaping.

Layout NCHW, as in PyTorch: a batch of images ``x`` has shape
``(N, C, H, W)`` = (batch, channels, height, width). ``kernel_size``,
``stride``, ``padding`` take an int (the same for both axes) or a pair
``(for the height, for the width)``.

A convolution is a Dense layer applied to every patch. :func:`im2col` cuts
the padded input into its $N H_o W_o$ patches of $C k_h k_w$ pixels, one patch
per column; the kernel ``W`` (``Cout, C, kh, kw``), read as a ``(Cout, C·kh·kw)``
matrix ``W2``, has one kernel per row; the output is one matrix product,
``W2 @ cols + b``: Dense's $Wx + b$ (column convention) with patches for
samples. Its backward is Dense's backward on the same matrices, followed by
:func:`col2im`, which adds each patch's gradient back onto the pixels it was
cut from (patches overlap, so a pixel collects several contributions). The
plain nested-loop versions, which read like the definitions, are in
:mod:`tinyae.nn.conv_loops`; the tests check that both agree.

The layers reach :func:`im2col`, :func:`col2im` and the matrix products through
:mod:`tinyae.backend` (``backend.im2col``, ``backend.col2im``, ...): with the
default NumPy backend they are the functions below; the numba backend replaces
the gather and the scatter by one-pass compiled loops
(``tinyae/backend/numba_kernels.py``), tested equal in ``tests/test_conv_numba.py``.

Output sizes (one axis; $\lfloor\cdot\rfloor$ rounds down; $p$ the padding, $s$ the stride,
$k_h$ the kernel's height, $o_p$ the ``output_padding``):

* convolution and pooling: $H_\text{out} = \lfloor (H + 2p - k_h)/s \rfloor + 1$;
* transposed convolution: $H_\text{out} = (H - 1)s - 2p + k_h + o_p$.
"""

import numpy as np

from .. import backend
from .._validate import as_float_dtype, check_array
from ..backend import numpy_ops
from ..errors import ShapeError
from .dense import draw_weights
from .module import Module, as_rng

# ----- sizes and arguments ---------------------------------------------------------------

def _pair(value, name, minimum):
    """``value`` as a pair of ints ``(for H, for W)``, each at least ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in pair):
        raise ValueError(f"{name} must be an int or a pair of ints (height, width), "
                         f"got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _plain(pair):
    """A pair for configs: one int when both axes agree, else a list (JSON has no tuples)."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def _text(pair):
    """A pair for messages: ``3`` or ``(3, 5)``."""
    return str(pair[0]) if pair[0] == pair[1] else str(tuple(pair))


def conv_output_size(size, kernel, stride=1, padding=0):
    r"""Output size of a convolution (or pooling) along one axis: $\lfloor(n+2p-k)/s\rfloor + 1$.

    With $n$ the ``size``. The kernel starts at the top of the padded input and steps by
    $s$ while it still fits; $(n + 2p - k)/s$ counts the steps, plus one for the start.
    Returns 0 or less when the kernel does not fit at all.
    """
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0):
    r"""Output size of a transposed convolution along one axis: $(n - 1)s - 2p + k + o_p$.

    With $n$ the ``size``. The last of the $n$ input pixels paints its kernel $(n - 1)s$
    pixels down, $k$ pixels tall, so $(n - 1)s + k$ pixels are painted; $p$ is
    cropped from each side and $o_p$ (``op``, the ``output_padding``, less than $s$) rows
    added at the end. Why ``op``: :func:`conv_output_size` rounds down, so ``s``
    different input sizes give the same output size; ``op`` picks the one to return to.
    """
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def init_kernel(shape, fan_in, fan_out, init, rng, dtype):
    """A kernel of ``shape``, drawn as :func:`tinyae.nn.dense.draw_weights` draws weights."""
    return draw_weights(shape, fan_in, fan_out, init, rng, dtype)


def _check_images(x, who, channels=None, dtype=None):
    """``x`` as a finite float ``(N, C, H, W)`` array (of ``dtype``), or a clear error."""
    x = check_array(x, who, dtype=dtype)
    if x.ndim != 4:
        if x.ndim == 2:
            hint = (" (a batch of flat rows? fold them into images with "
                    "x.reshape(N, C, H, W), e.g. x.reshape(-1, 1, 8, 8) for the built-in "
                    "digits)")
        elif x.ndim == 3:
            hint = " (one image (C, H, W)? use x[None]; gray images (N, H, W)? use x[:, None])"
        else:
            hint = ""
        raise ShapeError(f"{who} expected a 4-D array of images (batch, channels, height, "
                         f"width), got shape {x.shape}{hint}")
    if channels is not None and x.shape[1] != channels:
        hint = (" (channels last? use x.transpose(0, 3, 1, 2))"
                if x.shape[3] == channels else "")
        raise ShapeError(f"{who} expected {channels} input channels, got {x.shape[1]} "
                         f"(input shape {x.shape}, read as (batch, channels, height, "
                         f"width)){hint}")
    return x


def _check_fits(who, size, kernel, padding):
    """Raise unless a ``kernel`` fits in an image of ``size`` (height, width) once padded."""
    (H, W), (kh, kw), (ph, pw) = size, kernel, padding
    if H + 2 * ph < kh or W + 2 * pw < kw:
        padded = (f" padded to {H + 2 * ph}x{W + 2 * pw} (padding {_text(padding)})"
                  if ph or pw else "")
        raise ShapeError(f"{who}: a {kh}x{kw} kernel does not fit in a {H}x{W} image "
                         f"(height x width){padded}; use larger images, more padding or a "
                         "smaller kernel")


def _check_grad(module, grad_out, shape, dtype):
    module._check_grad_out(grad_out, shape)
    return np.asarray(grad_out, dtype=dtype)


# ----- im2col and col2im: the data movement ------------------------------------------------

def im2col(x, kernel_size, stride=1, padding=0):
    """Cut ``x`` into patches, one per column: ``(N, C, H, W)`` -> ``(C·kh·kw, N·Ho·Wo)``.

    The plain NumPy version, :func:`tinyae.backend.numpy_ops.im2col` (read it there),
    taking an int or a pair for each argument. The layers call ``backend.im2col``,
    which the numba backend replaces by a one-pass kernel.
    """
    return numpy_ops.im2col(x, _pair(kernel_size, "kernel_size", 1), _pair(stride, "stride", 1),
                            _pair(padding, "padding", 0))


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The adjoint of :func:`im2col`: add every patch back onto the pixels it came from.

    The plain NumPy version, :func:`tinyae.backend.numpy_ops.col2im`; ``x_shape`` is
    the ``(N, C, H, W)`` shape :func:`im2col` was applied to.
    """
    return numpy_ops.col2im(cols, x_shape, _pair(kernel_size, "kernel_size", 1),
                            _pair(stride, "stride", 1), _pair(padding, "padding", 0))


# ----- the layers ------------------------------------------------------------------------

class Conv2D(Module):
    r"""2-D convolution (strictly, cross-correlation, as in every deep learning library).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), default 1
        Step between two patches.
    padding : int or (ph, pw), default 0
        Zeros added on each side of each image before cutting patches.
    init : {"he", "glorot", "lecun", "normal", "zeros"}
        How ``W`` is drawn (see :func:`init_kernel`), with $\text{fan}_\text{in} = C k_h k_w$,
        the number of products each output sums, and
        $\text{fan}_\text{out} = C_\text{out} k_h k_w/(s_h s_w)$,
        the number of outputs each input pixel reaches on average; ``b`` starts at 0.
    seed : int or numpy.random.Generator
    dtype : float32 or float64
        Kept through forward and backward.

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, Cout, Ho, Wo), with $H_o = \lfloor (H + 2p_h - k_h)/s_h \rfloor + 1$
    and $W_o = \lfloor (W + 2p_w - k_w)/s_w \rfloor + 1$;
    W : (Cout, C, kh, kw) and b : (Cout,), PyTorch's layout.

    Forward (``xp`` is ``x`` padded with zeros)
    -------
    $$y_{n,o,i,j} = b_o + \sum_c \sum_u \sum_v W_{o,c,u,v}\, x^p_{n,\,c,\,i s_h + u,\,j s_w + v}$$

    Computed as one matrix product: with the patches as columns, ``cols = im2col(x)``
    (C·kh·kw, N·Ho·Wo), and the kernels as rows, ``W2 = W.reshape(Cout, C·kh·kw)``,
    ``Y = W2 @ cols + b`` (Cout, N·Ho·Wo) holds output pixel ``(n, i, j)`` in column
    ``(n, i, j)``. It is a Dense layer applied to every patch, in the column
    convention $Wx + b$ (Dense's row form $xW^\top$ is the transpose).

    Backward (given ``dy`` of shape (N, Cout, Ho, Wo), as a matrix ``dY`` like ``Y``)
    --------
    Dense's backward on the patches: ``dW2 = dY @ cols.T``, i.e.

    $$dW_{o,c,u,v} = \sum_{n,i,j} dy_{n,o,i,j}\, x^p_{n,\,c,\,i s_h + u,\,j s_w + v}$$

    and $db_o = \sum_{n,i,j} dy_{n,o,i,j}$; ``dcols = W2.T @ dY``, then
    ``dx = col2im(dcols)``: each pixel sums the gradients of every patch that contains
    it (the terms with whole indices inside the output),

    $$dx_{n,c,h,w} = \sum_{o,u,v} W_{o,c,u,v}\, dy_{n,\,o,\,(h + p_h - u)/s_h,\,(w + p_w - v)/s_w}$$

    That is a *transposed* convolution of ``dy`` with the same ``W``: exactly what
    :class:`ConvTranspose2D` computes forward.
    """

    can_skip_input_grad = True  # backward(grad_out, input_grad=False)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 init="he", seed=0, dtype=np.float64):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{type(self).__name__} {name} must be a positive integer, "
                                 f"got {value!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.init, self.dtype = init, as_float_dtype(dtype)
        self._init_params(as_rng(seed))

    def _init_params(self, rng):
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        C, Cout = self.in_channels, self.out_channels
        W = init_kernel((Cout, C, kh, kw), C * kh * kw, Cout * kh * kw / (sh * sw),
                        self.init, rng, self.dtype)
        self.params = {"W": W, "b": np.zeros(Cout, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def output_shape(self, input_shape):
        """``(C, H, W)`` of one input image -> ``(Cout, Ho, Wo)``, or a clear error."""
        C, H, W = input_shape
        if C != self.in_channels:
            raise ShapeError(f"{self!r} expected {self.in_channels} input channels, got {C}")
        _check_fits(repr(self), (H, W), self.kernel_size, self.padding)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (self.out_channels, conv_output_size(H, kh, sh, ph),
                conv_output_size(W, kw, sw, pw))

    def forward(self, x):
        x = _check_images(x, repr(self), self.in_channels, self.dtype)
        N = x.shape[0]
        _, Ho, Wo = self.output_shape(x.shape[1:])
        # (C·kh·kw, N·Ho·Wo)
        cols = backend.im2col(x, self.kernel_size, self.stride, self.padding)
        W2 = self.params["W"].reshape(self.out_channels, -1)            # (Cout, C·kh·kw)
        self.cache = (cols, x.shape)
        # Y = W2 @ cols (Cout, N·Ho·Wo), one column per output pixel, as images, + b
        return backend.images_from_product(W2, cols, N, Ho, Wo, bias=self.params["b"])

    def backward(self, grad_out, input_grad=True):
        """``dW``, ``db`` into ``grads``; returns ``dx``, or None with ``input_grad=False``.

        The first layer of a network needs no ``dx``: skipping it saves a product and
        the col2im scatter onto the largest images of the network.
        """
        cols, x_shape = self._cached()
        N, (_, Ho, Wo) = x_shape[0], self.output_shape(x_shape[1:])
        dy = _check_grad(self, grad_out, (N, self.out_channels, Ho, Wo), self.dtype)
        dY = backend.channels_first(dy, sums=self.grads["b"])           # (Cout, N·Ho·Wo)
        W2 = self.params["W"].reshape(self.out_channels, -1)
        backend.matmul_by_transpose(dY, cols, out=self.grads["W"].reshape(W2.shape))  # dY @ cols.T
        if not input_grad:
            return None
        dcols = backend.matmul(W2.T, dY)                                # (C·kh·kw, N·Ho·Wo)
        return backend.col2im(dcols, x_shape, self.kernel_size, self.stride, self.padding)

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride),
                "padding": _plain(self.padding), "init": self.init, "dtype": self.dtype.name}

    def _geometry(self):
        text = f"k={_text(self.kernel_size)}"
        if self.stride != (1, 1):
            text += f", s={_text(self.stride)}"
        if self.padding != (0, 0):
            text += f", p={_text(self.padding)}"
        return text

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels} -> {self.out_channels}, "
                f"{self._geometry()})")
