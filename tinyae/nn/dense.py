r"""The dense (fully connected) layer: $y = xW + b$.

Row convention: a batch ``x`` has shape ``(N, n_in)``, one sample per row, so
the layer computes $y = xW + b$ (``x @ W + b``) with ``W`` of shape ``(n_in, n_out)``.
A textbook that writes the column convention $y = W'x + b$ for one sample
``x`` of shape ``(n_in,)`` uses $W' = W^\top$ (``W.T``): the two are the same layer.
"""

import numpy as np

from .. import backend
from .._validate import as_float_dtype, check_array
from .module import Module, as_rng

INITS = ("he", "glorot", "lecun", "normal", "zeros")


def init_weights(n_in, n_out, init, rng, dtype):
    r"""Draw a ``(n_in, n_out)`` weight matrix.

    ``"he"``: $\mathcal{N}(0, 2/n_\text{in})$, keeps the variance of ReLU activations
    constant through depth (He et al., 2015). ``"glorot"``: $\mathcal{U}(-l, l)$ with
    $l = \sqrt{6/(n_\text{in} + n_\text{out})}$, for sigmoid/tanh/linear (Glorot & Bengio,
    2010). ``"lecun"``: $\mathcal{N}(0, 1/n_\text{in})$. ``"normal"``: $\mathcal{N}(0, 0.01^2)$.
    ``"zeros"``: all zero (breaks symmetry never: for demos).
    """
    return draw_weights((n_in, n_out), n_in, n_out, init, rng, dtype)


def draw_weights(shape, fan_in, fan_out, init, rng, dtype):
    """Draw weights of any ``shape`` by the scheme ``init``, scaled by the fans.

    The schemes of :func:`init_weights`, with ``fan_in`` (terms each output sums) and
    ``fan_out`` in place of ``n_in`` and ``n_out``; a convolution passes its own fans.
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


class Dense(Module):
    r"""Fully connected layer $y = xW + b$ (``x @ W + b``).

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.
    init : {"he", "glorot", "lecun", "normal", "zeros"}
        How ``W`` is drawn (see :func:`init_weights`); ``b`` starts at zero.
    seed : int or numpy.random.Generator
        Source of the random weights. Same seed, same bits.
    dtype : float32 or float64
        Kept through forward and backward.

    Shapes
    ------
    x : (N, n_in) -> y : (N, n_out); W : (n_in, n_out); b : (n_out,)

    Forward
    -------
    $y = xW + b$ (``y = x @ W + b``), i.e.

    $$y_{nj} = \sum_i x_{ni} W_{ij} + b_j$$

    Backward (given ``dy`` $= \partial L/\partial y$ of shape (N, n_out))
    --------
    - $dW = x^\top dy$, shape (n_in, n_out): each weight sums its effect over the batch;
    - $db = \sum_n dy_n$, shape (n_out,);
    - $dx = dy\, W^\top$, shape (N, n_in).
    """

    can_skip_input_grad = True  # backward(grad_out, input_grad=False)

    def __init__(self, n_in, n_out, init="he", seed=0, dtype=np.float64):
        super().__init__()
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Dense {name} must be a positive integer, got {value!r}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.dtype = as_float_dtype(dtype)
        self.init = init
        W = init_weights(self.n_in, self.n_out, init, as_rng(seed), self.dtype)
        self.params = {"W": W, "b": np.zeros(self.n_out, dtype=self.dtype)}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(self.params["b"])}

    def forward(self, x):
        x = check_array(x, repr(self), ndim=2, n_features=self.n_in, dtype=self.dtype)
        W, b = self.params["W"], self.params["b"]
        y = backend.matmul(x, W)
        y += b
        self.cache = x
        return y

    def backward(self, grad_out, input_grad=True):
        """``dW``, ``db`` into ``grads``; returns ``dx``, or None with ``input_grad=False``.

        The first layer of a network needs no ``dx`` (nothing is trained before
        it), and skipping that product saves a sixth of a training step's arithmetic.
        """
        x = self._cached()
        self._check_grad_out(grad_out, (x.shape[0], self.n_out))
        backend.matmul(x.T, grad_out, out=self.grads["W"])
        np.sum(grad_out, axis=0, out=self.grads["b"])
        if not input_grad:
            return None
        return backend.matmul(grad_out, self.params["W"].T)

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init,
                "dtype": self.dtype.name}

    def __repr__(self):
        return f"Dense({self.n_in} -> {self.n_out})"
