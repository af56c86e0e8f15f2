"""Layers for images: convolution, transposed convolution, pooling, upsampling, reshaping.

Layout NCHW, as in PyTorch: a batch of images ``x`` has shape
``(N, C, H, W)`` = (batch, channels, height, width). ``kernel_size``,
``stride``, ``padding`` take an int (the same for both axes) or a pair
``(for the height, for the width)``.

A convolution is a Dense layer applied to every patch. :func:`im2col` cuts
the padded input into its ``N·Ho·Wo`` patches of ``C·kh·kw`` pixels, one patch
per column; the kernel ``W`` (``Cout, C, kh, kw``), read as a ``(Cout, C·kh·kw)``
matrix ``W2``, has one kernel per row; the output is one matrix product,
``W2 @ cols + b``: Dense's ``W·x + b`` (column convention) with patches for
samples. Its backward is Dense's backward on the same matrices, followed by
:func:`col2im`, which adds each patch's gradient back onto the pixels it was
cut from (patches overlap, so a pixel collects several contributions). The
plain nested-loop versions, which read like the definitions, are in
:mod:`tinyae.conv_reference`; the tests check that both agree.

The layers reach :func:`im2col`, :func:`col2im` and the matrix products through
:mod:`tinyae.backend` (``backend.im2col``, ``backend.col2im``, ...): with the
default NumPy backend they are the functions below; the numba backend replaces
the gather and the scatter by one-pass compiled loops
(``tinyae/_numba_kernels.py``), tested equal in ``tests/test_conv_numba.py``.

Output sizes (one axis; ``⌊·⌋`` rounds down):

* convolution and pooling: ``H_out = ⌊(H + 2p − kh) / s⌋ + 1``;
* transposed convolution: ``H_out = (H − 1)·s − 2p + kh + output_padding``.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import backend
from ._validate import as_float_dtype, check_array
from .errors import ShapeError
from .module import Module, as_rng

INITS = ("he", "glorot", "lecun", "normal", "zeros")


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
    """Output size of a convolution (or pooling) along one axis: ``⌊(size + 2p − k)/s⌋ + 1``.

    The kernel starts at the top of the padded input and steps by ``s`` while it
    still fits; ``(size + 2p − k)/s`` counts the steps, plus one for the start.
    Returns 0 or less when the kernel does not fit at all.
    """
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0):
    """Output size of a transposed convolution along one axis: ``(size − 1)·s − 2p + k + op``.

    The last of the ``size`` input pixels paints its kernel ``(size − 1)·s`` pixels
    down, ``k`` pixels tall, so ``(size − 1)·s + k`` pixels are painted; ``p`` is
    cropped from each side and ``op`` (``output_padding``, less than ``s``) rows
    added at the end. Why ``op``: :func:`conv_output_size` rounds down, so ``s``
    different input sizes give the same output size; ``op`` picks the one to return to.
    """
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def init_kernel(shape, fan_in, fan_out, init, rng, dtype):
    """Draw a kernel of ``shape``, scaled by the number of terms each output sums.

    The same schemes as :func:`tinyae.layers.init_weights`, with the fans of a
    convolution: ``"he"`` N(0, 2/fan_in); ``"glorot"`` U(−l, l) with
    ``l = √(6/(fan_in + fan_out))``; ``"lecun"`` N(0, 1/fan_in); ``"normal"``
    N(0, 0.01²); ``"zeros"``.
    """
    if init == "he":
        W = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    elif init == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-limit, limit, size=shape)
    elif init == "lecun":
        W = rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)
    elif init == "normal":
        W = rng.standard_normal(shape) * 0.01
    elif init == "zeros":
        W = np.zeros(shape)
    else:
        raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)}")
    return W.astype(dtype)


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
    """Cut ``x`` into patches, one patch per column: ``(N, C, H, W)`` -> ``(C·kh·kw, N·Ho·Wo)``.

    ``cols[(c, u, v), (n, i, j)] = xp[n, c, i·sh + u, j·sw + v]``, where ``xp`` is
    ``x`` with ``p`` zeros around each image: column ``(n, i, j)`` is the patch
    under the kernel at output pixel ``(i, j)`` of image ``n``, and the rows are
    ordered ``(c, u, v)`` like ``W.reshape(Cout, C·kh·kw)``'s columns.

    The gather costs no Python loop: ``sliding_window_view`` is a view of every
    ``kh × kw`` window, ``[::sh, ::sw]`` keeps every ``s``-th, and one copy lays
    them out. Each pixel is copied about ``kh·kw/(sh·sw)`` times: data movement,
    not arithmetic. (Patches as columns rather than rows: the copy then moves
    runs of ``Wo`` neighbouring pixels instead of runs of ``kw``, several times
    faster in NumPy.)
    """
    (kh, kw), (sh, sw), (ph, pw) = (_pair(kernel_size, "kernel_size", 1),
                                    _pair(stride, "stride", 1), _pair(padding, "padding", 0))
    N, C, H, W = x.shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))   # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    windows = windows[:, :, :(Ho - 1) * sh + 1:sh, :(Wo - 1) * sw + 1:sw]  # (N, C, Ho, Wo, ...)
    cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    np.copyto(cols, windows.transpose(1, 4, 5, 0, 2, 3))
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The adjoint of :func:`im2col`: add every patch back onto the pixels it came from.

    ``dx[n, c, i·sh + u − ph, j·sw + v − pw] += cols[(c, u, v), (n, i, j)]``; what
    falls on the padding is dropped. The loop runs over the ``kh·kw`` kernel
    offsets ``(u, v)`` only: for one offset, the patches of all samples and all
    positions land on one strided slice of the images, added in one NumPy call.

    Parameters
    ----------
    cols : ndarray, shape (C·kh·kw, N·Ho·Wo)
    x_shape : tuple (N, C, H, W)
        Shape of the array :func:`im2col` was (or would be) applied to.

    Returns
    -------
    ndarray, shape ``x_shape``, dtype of ``cols``
    """
    (kh, kw), (sh, sw), (ph, pw) = (_pair(kernel_size, "kernel_size", 1),
                                    _pair(stride, "stride", 1), _pair(padding, "padding", 0))
    N, C, H, W = x_shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    patches = cols.reshape(C, kh, kw, N, Ho, Wo)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for u in range(kh):
        for v in range(kw):
            xp[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += patches[:, u, v].transpose(1, 0, 2, 3)
    return xp[:, :, ph:ph + H, pw:pw + W] if ph or pw else xp


# ----- the layers ------------------------------------------------------------------------

class Conv2D(Module):
    """2-D convolution (strictly, cross-correlation, as in every deep learning library).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), default 1
        Step between two patches.
    padding : int or (ph, pw), default 0
        Zeros added on each side of each image before cutting patches.
    init : {"he", "glorot", "lecun", "normal", "zeros"}
        How ``W`` is drawn (see :func:`init_kernel`), with ``fan_in = C·kh·kw``, the
        number of products each output sums, and ``fan_out = Cout·kh·kw/(sh·sw)``,
        the number of outputs each input pixel reaches on average; ``b`` starts at 0.
    seed : int or numpy.random.Generator
    dtype : float32 or float64
        Kept through forward and backward.

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, Cout, Ho, Wo), with ``Ho = ⌊(H + 2ph − kh)/sh⌋ + 1``
    and ``Wo = ⌊(W + 2pw − kw)/sw⌋ + 1``;
    W : (Cout, C, kh, kw) and b : (Cout,), PyTorch's layout.

    Forward (``xp`` is ``x`` padded with zeros)
    -------
    ``y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v W[o, c, u, v] · xp[n, c, i·sh + u, j·sw + v]``.
    Computed as one matrix product: with the patches as columns, ``cols = im2col(x)``
    (C·kh·kw, N·Ho·Wo), and the kernels as rows, ``W2 = W.reshape(Cout, C·kh·kw)``,
    ``Y = W2 @ cols + b`` (Cout, N·Ho·Wo) holds output pixel ``(n, i, j)`` in column
    ``(n, i, j)``. It is a Dense layer applied to every patch, in the column
    convention ``W·x + b`` (Dense's row form ``x @ Wᵀ`` is the transpose).

    Backward (given ``dy`` of shape (N, Cout, Ho, Wo), as a matrix ``dY`` like ``Y``)
    --------
    Dense's backward on the patches:
    ``dW2 = dY @ colsᵀ``, i.e.
    ``dW[o, c, u, v] = Σ_{n,i,j} dy[n, o, i, j]·xp[n, c, i·sh + u, j·sw + v]``;
    ``db[o] = Σ_{n,i,j} dy[n, o, i, j]``;
    ``dcols = W2ᵀ @ dY``, then ``dx = col2im(dcols)``: each pixel sums the
    gradients of every patch that contains it, ``dx[n, c, h, w] = Σ_{o,u,v}
    W[o, c, u, v]·dy[n, o, (h + ph − u)/sh, (w + pw − v)/sw]`` (the terms with whole
    indices inside the output). That is a *transposed* convolution of ``dy`` with
    the same ``W``: exactly what :class:`ConvTranspose2D` computes forward.
    """

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
        Y = backend.matmul(W2, cols)                                    # (Cout, N·Ho·Wo)
        self.cache = (cols, x.shape)
        return backend.to_images(Y, N, Ho, Wo, bias=self.params["b"])  # (N, Cout, Ho, Wo)

    def backward(self, grad_out):
        cols, x_shape = self._cached()
        N, (_, Ho, Wo) = x_shape[0], self.output_shape(x_shape[1:])
        dy = _check_grad(self, grad_out, (N, self.out_channels, Ho, Wo), self.dtype)
        dY = backend.channels_first(dy, sums=self.grads["b"])           # (Cout, N·Ho·Wo)
        W2 = self.params["W"].reshape(self.out_channels, -1)
        backend.matmul(dY, cols.T, out=self.grads["W"].reshape(W2.shape))
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


class ConvTranspose2D(Conv2D):
    """Transposed convolution: the backward pass of :class:`Conv2D` (w.r.t. its input), run forward.

    Where a convolution maps each *patch* of the input to one output pixel, a
    transposed convolution maps each *input pixel* to a patch: it paints its
    kernel, scaled by the pixel's value, onto the output, ``s`` pixels further
    for each step, summing where the patches overlap. With ``s = 2`` it doubles
    the height and width: the decoder's way back up.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, init, seed, dtype
        As for :class:`Conv2D`. ``padding`` here *crops* ``p`` pixels from each
        side of the painted output. For ``init``: ``fan_in = C·kh·kw/(sh·sw)``,
        the number of products each output pixel sums on average, and
        ``fan_out = Cout·kh·kw``.
    output_padding : int or pair, default 0
        Extra rows (columns) at the bottom (right) of the output, less than
        ``stride``. A stride-``s`` convolution maps ``s`` different input sizes to
        the same output size; ``output_padding`` picks which one to go back to.

    Shapes
    ------
    x : (N, C, H, W) -> y : (N, Cout, Ho, Wo) with
    ``Ho = (H − 1)·sh − 2ph + kh + oph`` and ``Wo = (W − 1)·sw − 2pw + kw + opw``
    (PyTorch's formula); W : (C, Cout, kh, kw) and b : (Cout,), PyTorch's layout.

    Forward (``yp`` is the output before cropping ``p`` from each side)
    -------
    ``yp[n, o, i·sh + u, j·sw + v] += Σ_c x[n, c, i, j] · W[c, o, u, v]``, then
    ``y = yp`` cropped, ``+ b[o]``. As matrices: ``X`` (C, N·H·W), one column per
    input pixel, and ``W2 = W.reshape(C, Cout·kh·kw)`` give every pixel's painted
    patch, ``cols = W2ᵀ @ X`` (Cout·kh·kw, N·H·W), and ``y = col2im(cols) + b``.

    Compare :meth:`Conv2D.backward`: ``dx = col2im(W2ᵀ @ dY)`` with
    ``W2 = W.reshape(Cout_conv, C_conv·kh·kw)``. Line for line the same computation:
    ``ConvTranspose2D(a -> b).forward(g)`` with kernel ``W`` equals
    ``Conv2D(b -> a).backward(g)`` with the same ``W`` (shape ``(a, b, kh, kw)`` in both
    layouts), when ``output_padding = (H + 2p − kh) mod s`` gives back the size
    ``H`` of the convolution's input. Hence the name: a convolution is a matrix
    ``A`` acting on the flattened image, its backward multiplies by ``Aᵀ``.

    Backward (given ``dy`` of shape (N, Cout, Ho, Wo))
    --------
    The adjoint of the forward, which is a plain convolution: ``dcols = im2col(dy)``
    (Cout·kh·kw, N·H·W) collects, for every input pixel, the output gradients
    under its painted patch; then ``dX = W2 @ dcols``, ``dW2 = X @ dcolsᵀ`` and
    ``db[o] = Σ_{n,i,j} dy[n, o, i, j]``.
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

    def backward(self, grad_out):
        X, x_shape, y_shape = self._cached()
        dy = _check_grad(self, grad_out, y_shape, self.dtype)
        # (Cout·kh·kw, N·H·W)
        dcols = backend.im2col(dy, self.kernel_size, self.stride, self.padding)
        W2 = self.params["W"].reshape(self.in_channels, -1)
        backend.matmul(X, dcols.T, out=self.grads["W"].reshape(W2.shape))
        np.sum(dy, axis=(0, 2, 3), out=self.grads["b"])
        dX = backend.matmul(W2, dcols)                                  # (C, N·H·W)
        N, _, H, W = x_shape
        return backend.to_images(dX, N, H, W)

    def config(self):
        return {**super().config(), "output_padding": _plain(self.output_padding)}

    def _geometry(self):
        text = super()._geometry()
        if self.output_padding != (0, 0):
            text += f", op={_text(self.output_padding)}"
        return text


class MaxPool2D(Module):
    """Max pooling: each output pixel is the largest value of its window, per channel.

    Parameters
    ----------
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), default ``kernel_size`` (windows side by side)

    Shapes: ``(N, C, H, W) -> (N, C, Ho, Wo)``, ``Ho = ⌊(H − kh)/sh⌋ + 1`` (no
    padding; rows and columns that no window reaches are ignored).

    Forward: ``y[n, c, i, j] = max_{u, v} x[n, c, i·sh + u, j·sw + v]``.
    Backward: the max passes its gradient to the one input that won and zero to
    the others: ``dx[n, c, i·sh + u*, j·sw + v*] += dy[n, c, i, j]`` with ``(u*, v*)``
    the position of the maximum (the first one on a tie), summed where windows
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
    """Nearest-neighbour upsampling: each pixel becomes an ``sh × sw`` block of copies.

    Parameters
    ----------
    scale : int or (sh, sw)

    Shapes: ``(N, C, H, W) -> (N, C, H·sh, W·sw)``.
    Forward: ``y[n, c, h, w] = x[n, c, ⌊h/sh⌋, ⌊w/sw⌋]``.
    Backward: each input pixel was copied into ``sh·sw`` outputs, so it receives
    the sum of their gradients: ``dx[n, c, i, j] = Σ_{a<sh, b<sw} dy[n, c, i·sh + a, j·sw + b]``.
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
