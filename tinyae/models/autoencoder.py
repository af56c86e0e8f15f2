r"""The autoencoder: an encoder that compresses, a decoder that reconstructs.

$\hat x = \text{decoder}(\text{encoder}(x))$, trained so that $\hat x \approx x$. The
shallow model is exactly $\hat x = σ(W_2 σ(W_1 x + b_1) + b_2)$ in the column convention
of the texts; in tinyae's row convention (one sample per row) it reads
$\hat x = σ(σ(x W_1 + b_1) W_2 + b_2)$ (``sigmoid(sigmoid(x @ W1 + b1) @ W2 + b2)``)
with ``W1`` of shape ``(D, H)``.
"""

import numpy as np

from .._validate import as_float_dtype, check_array
from ..errors import ShapeError
from ..nn.activations import Sigmoid, get_activation
from ..nn.conv import Conv2D
from ..nn.conv_transpose import ConvTranspose2D
from ..nn.dense import Dense
from ..nn.module import Module, Sequential, as_rng, module_to_config
from ..nn.normalization import BatchNorm1d, Dropout
from ..nn.penalties import (
    KLSparsity,
    make_penalties,
    penalty_from_config,
    penalty_to_config,
    weight_matrices,
)
from ..nn.reshape import Flatten, Reshape
from ..optim.loop import evaluate, fit
from .common import (  # noqa: F401 (fuse_output: lesson 4 reads it here)
    ModelFiles,
    _init_for,
    fuse_output,
    interpolate,
    reconstruction_error,
    run_in_eval,
)


class Autoencoder(ModelFiles, Module):
    r"""An encoder and a decoder, each a :class:`Sequential`.

    Parameters
    ----------
    encoder, decoder : Sequential or list of Module
    penalties : list of Penalty, optional
        Terms added to the loss (see :mod:`tinyae.nn.penalties`): activity
        penalties on the code (:class:`~tinyae.nn.penalties.KLSparsity`,
        :class:`~tinyae.nn.penalties.L1Activity`) and
        :class:`~tinyae.nn.penalties.WeightDecay` on the weight matrices.
        Saved with the model.

    Shapes: ``x`` is ``(N, D)``, the code $z = \text{encoder}(x)$ is ``(N, K)`` and the
    reconstruction $\hat x = \text{decoder}(z)$ is ``(N, D)`` again.

    Backward: ``decoder.backward`` turns $\partial L/\partial \hat x$ into
    $\partial L/\partial z$ (plus $\partial Ω/\partial z$ of each code penalty), then
    ``encoder.backward`` turns that into $\partial L/\partial x$; every layer's ``grads``
    are filled on the way, and weight decay adds $λW$ to each $dW$ at the end.
    Parameter names are ``"encoder.0.W"``, ``"decoder.2.b"``, ...
    """

    def __init__(self, encoder, decoder, penalties=None, input_shape=None):
        super().__init__()
        self.encoder = encoder if isinstance(encoder, Sequential) else Sequential(encoder)
        self.decoder = decoder if isinstance(decoder, Sequential) else Sequential(decoder)
        first = next((m for m in self.encoder.layers if m.params), None)
        if first is None:
            raise ValueError("Autoencoder needs an encoder that starts with a Dense or "
                             "Conv2D layer")
        self.dtype = first.dtype
        if input_shape is None:
            if not hasattr(first, "n_in"):
                raise ValueError(f"an encoder starting with {first!r} works on images: give "
                                 "input_shape=(channels, height, width)")
            self.input_shape, self.n_inputs = None, first.n_in
        else:
            self.input_shape = tuple(int(s) for s in input_shape)
            if len(self.input_shape) != 3 or min(self.input_shape) < 1:
                raise ValueError(f"input_shape must be (channels, height, width), got "
                                 f"{input_shape!r}")
            self.n_inputs = int(np.prod(self.input_shape))
        self.penalties = list(penalties or [])
        self.terms = None  # the parts of the last objective, when there are penalties
        for p in self.penalties:
            if not hasattr(p, "on") or p.on not in ("code", "weights"):
                raise TypeError(f"Autoencoder penalties must be Penalty objects from "
                                f"tinyae.regularizers, got {p!r}")
        last = self.encoder.layers[-1]
        if any(isinstance(p, KLSparsity) for p in self.penalties) and not isinstance(last,
                                                                                      Sigmoid):
            raise ValueError(
                f"KLSparsity needs a sigmoid code (activations in (0, 1)), but the encoder "
                f"ends in {last!r}: use Autoencoder.shallow(..., hidden='sigmoid') or "
                "Autoencoder.deep(..., code='sigmoid')")

    # ----- constructors -----------------------------------------------------------
    @classmethod
    def shallow(cls, n_inputs, n_hidden, hidden="relu", output="sigmoid", seed=0,
                dtype=np.float64, sparsity=None, l1=None, weight_decay=None):
        r"""One hidden layer: $\hat x = f_\text{out}(f_\text{hid}(x W_1 + b_1) W_2 + b_2)$.

        With the defaults ``hidden="relu"``, ``output="sigmoid"``; with
        ``hidden="sigmoid"`` it is the textbook $\hat x = σ(W_2 σ(W_1 x + b_1) + b_2)$.
        The code is the hidden activation $h = f_\text{hid}(x W_1 + b_1)$, shape
        (N, n_hidden).
        Weights use He init before ReLU-like units and Glorot init otherwise.
        ``sparsity``, ``l1`` and ``weight_decay`` add penalties, as in :meth:`deep`
        (``sparsity`` needs ``hidden="sigmoid"``): the sparse autoencoder.
        """
        return cls.deep([n_inputs, n_hidden], hidden=hidden, output=output, code=hidden,
                        seed=seed, dtype=dtype, sparsity=sparsity, l1=l1,
                        weight_decay=weight_decay)

    @classmethod
    def deep(cls, sizes, hidden="relu", output="sigmoid", code="identity", seed=0,
             dtype=np.float64, sparsity=None, l1=None, weight_decay=None, batchnorm=False,
             dropout=0.0):
        """A mirrored stack: ``sizes=[784, 256, 64]`` builds 784→256→64→256→784.

        Parameters
        ----------
        sizes : list of int
            Input size first, code size last (at least two entries).
        hidden : str
            Activation of every hidden layer (``"relu"``, ``"sigmoid"``, ``"tanh"``, ...).
        output : str
            Activation of the reconstruction: ``"sigmoid"`` for data in [0, 1],
            ``"identity"`` for unbounded data.
        code : str
            Activation of the code layer; linear by default, as in Hinton &
            Salakhutdinov (2006), so the code is not clipped at zero.
        seed : int or numpy.random.Generator
        dtype : float32 or float64
        sparsity : (rho, beta), optional
            :class:`~tinyae.nn.penalties.KLSparsity` on the code (needs ``code="sigmoid"``).
        l1 : float, optional
            :class:`~tinyae.nn.penalties.L1Activity` weight on the code.
        weight_decay : float, optional
            :class:`~tinyae.nn.penalties.WeightDecay` weight on every ``W``.
        batchnorm : bool
            Put a :class:`~tinyae.nn.normalization.BatchNorm1d` between each hidden
            Dense layer and its activation (not on the code or the output).
        dropout : float
            Put a :class:`~tinyae.nn.normalization.Dropout` with this ``p`` after each
            hidden activation (0: none).
        """
        penalties = make_penalties(sparsity, l1, weight_decay)
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive sizes, got {sizes}")
        dtype = as_float_dtype(dtype)
        rng = as_rng(seed)

        def stack(widths, last):
            layers = []
            for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
                is_hidden = i < len(widths) - 2
                act = hidden if is_hidden else last
                layers.append(Dense(n_in, n_out, _init_for(act), rng, dtype))
                if is_hidden and batchnorm:
                    layers.append(BatchNorm1d(n_out, dtype=dtype))
                layers.append(get_activation(act))
                if is_hidden and dropout:
                    layers.append(Dropout(dropout, seed=rng))
            return layers

        return cls(stack(sizes, code), stack(sizes[::-1], output), penalties)

    @classmethod
    def conv(cls, input_shape, channels=(16, 32), code=32, kernel_size=3, strides=None,
             hidden="relu", output="sigmoid", seed=0, dtype=np.float64):
        """A convolutional autoencoder for images ``(C, H, W)``.

        Encoder: for each entry ``c`` of ``channels``, ``Conv2D(·→c, kernel_size,
        stride s, padding kernel_size//2)`` and the hidden activation, then
        ``Flatten`` and a linear ``Dense`` to the code. Decoder, mirrored: ``Dense``
        from the code, activation, ``Reshape`` to the last feature maps, then one
        ``ConvTranspose2D`` per convolution (its ``output_padding`` chosen so each
        layer restores the exact size the matching convolution received), the last
        followed by the output activation.

        Parameters
        ----------
        input_shape : (C, H, W)
        channels : sequence of int
        code : int
        kernel_size : int
        strides : sequence of int, optional
            One stride per convolution (default 2 each: every layer halves the
            image). For 8×8 digits ``strides=(1, 2)`` keeps 4×4 maps.
        """
        C, H, W = (int(s) for s in input_shape)
        channels = [int(c) for c in channels]
        strides = [2] * len(channels) if strides is None else [int(s) for s in strides]
        if len(strides) != len(channels) or not channels:
            raise ValueError(f"conv needs one stride per entry of channels, got channels "
                             f"{channels} and strides {strides}")
        dtype, rng, k = as_float_dtype(dtype), as_rng(seed), int(kernel_size)
        p = k // 2
        encoder, shapes, shape = [], [], (C, H, W)
        for c, s in zip(channels, strides):
            layer = Conv2D(shape[0], c, k, stride=s, padding=p, seed=rng, dtype=dtype)
            shapes.append(shape)
            shape = layer.output_shape(shape)
            encoder += [layer, get_activation(hidden)]
        flat = int(np.prod(shape))
        encoder += [Flatten(), Dense(flat, code, "glorot", rng, dtype)]
        decoder = [Dense(code, flat, _init_for(hidden), rng, dtype), get_activation(hidden),
                   Reshape(shape)]
        for i in reversed(range(len(channels))):
            (c_in, h_in, w_in), s = shapes[i], strides[i]
            pad_out = ((h_in + 2 * p - k) % s, (w_in + 2 * p - k) % s)
            act = hidden if i else output
            decoder += [ConvTranspose2D(channels[i], c_in, k, stride=s, padding=p,
                                        output_padding=pad_out, init=_init_for(act),
                                        seed=rng, dtype=dtype), get_activation(act)]
        return cls(encoder, decoder, input_shape=(C, H, W))

    # ----- the module protocol ----------------------------------------------------
    def check_input(self, X):
        """``X`` as an ``(N, D)`` array of the model's dtype, or a clear error.

        A convolutional model (built with ``input_shape=(C, H, W)``) takes images
        ``(N, C, H, W)`` or flat rows ``(N, C·H·W)`` and works on ``(N, C, H, W)``.
        """
        if self.input_shape is None:
            return check_array(X, "Autoencoder", ndim=2, n_features=self.n_inputs,
                               dtype=self.dtype)
        X = check_array(X, "Autoencoder", dtype=self.dtype)
        if X.ndim == 2 and X.shape[1] == self.n_inputs:
            return X.reshape(len(X), *self.input_shape)
        if X.shape[1:] != self.input_shape:
            C, H, W = self.input_shape
            raise ShapeError(f"Autoencoder expected images of shape (N, {C}, {H}, {W}) or "
                             f"flat rows (N, {self.n_inputs}), got {X.shape}")
        return X

    def forward(self, x):
        r"""$\hat x = \text{decoder}(\text{encoder}(x))$; ``x`` (N, D) -> ``x_hat`` (N, D)."""
        return self.decoder.forward(self.encoder.forward(self.check_input(x)))

    def backward(self, grad_out):
        r"""$\partial L/\partial \hat x$ (N, D) -> $\partial L/\partial x$ (N, D).

        Every layer's ``grads`` are filled on the way.
        """
        return self.encoder.backward(self.decoder.backward(grad_out))

    def loss_and_backward(self, x, target, loss, backward=True):
        r"""One forward pass, the objective, and (unless ``backward=False``) the backward pass.

        The objective is the reconstruction loss plus every penalty:
        $J = L(\hat x, \text{target}) + \sum Ω$. When the decoder ends in a
        :class:`Sigmoid` and the loss is binary cross-entropy, the sigmoid and the loss
        are fused (:func:`fuse_output`): the gradient entering the decoder is
        $(\hat x - x)/N$.

        Backward, term by term: the decoder's backward gives $\partial L/\partial h$ on
        the code $h$; each code penalty adds its $\partial Ω/\partial h$; the encoder's
        backward takes the sum; weight decay then adds $λW$ to each $dW$.

        Returns
        -------
        float : the objective ``J`` (just the loss when there are no penalties).
        """
        layers, loss = fuse_output(self.decoder, loss)
        h = self.encoder.forward(self.check_input(x))
        a = h
        for layer in layers:
            a = layer.forward(a)
        value = loss.forward(a, target)
        on_code = [p for p in self.penalties if p.on == "code"]
        on_weights = [p for p in self.penalties if p.on == "weights"]
        weights = weight_matrices(self) if on_weights else []
        terms = {"reconstruction": value}
        for i, p in enumerate(on_code + on_weights):
            name = type(p).__name__
            name = f"{name}_{i}" if name in terms else name  # two penalties of one kind
            terms[name] = p.forward(h if p.on == "code" else [W for _, W, _ in weights])
        value = sum(terms.values())
        self.terms = terms if self.penalties else None
        if backward:
            g = loss.backward()
            for layer in reversed(layers):
                g = layer.backward(g)
            for p in on_code:
                g = g + p.backward()
            self.encoder.backward(g, input_grad=False)  # x is data: no dL/dx to compute
            for p in on_weights:  # after backward, which overwrote every dW
                for (_, _, dW), dOmega in zip(weights, p.backward()):
                    dW += dOmega
        return value

    def _parts(self):
        return (("encoder.", self.encoder), ("decoder.", self.decoder))

    # ----- training ---------------------------------------------------------------
    def fit(self, X, loss="mse", optimizer=None, epochs=10, batch_size=64,
            validation_data=None, shuffle=True, seed=0, verbose=1, callbacks=None,
            early_stopping=None, noise=None, checkpoint=None):
        """Train the model to reconstruct ``X``; returns a :class:`~tinyae.optim.loop.History`.

        Parameters
        ----------
        X : ndarray, shape (N, D)
            Training data (converted once to the model's dtype; never copied per epoch).
        loss : {"mse", "bce"} or Loss
            ``"bce"`` with a sigmoid output uses the fused, stable form.
        optimizer : Optimizer or {"adam", "sgd"}, default ``Adam(lr=1e-3)``
        epochs, batch_size : int
        validation_data : ndarray (M, D), optional
            Its loss is computed in eval mode after each epoch.
        shuffle : bool
            Visit the samples in a new random order each epoch.
        seed : int or numpy.random.Generator
            Seeds the shuffling and the noise: same seed, same bits.
        verbose : int
            0: silent. 1: one line per epoch, and a progress bar on a terminal.
        callbacks : list of Callback, optional
        early_stopping : int or EarlyStopping, optional
            Patience in epochs (on validation loss when given, else training loss).
        noise : (kind, level), optional
            Denoising: each batch is corrupted with fresh noise
            (``"gaussian"``, ``"masking"`` or ``"salt_pepper"``) and the model learns
            to reconstruct the clean batch.
        checkpoint : str or Path, optional
            A file to which the run's whole state is written after each epoch; started
            again with the same settings, ``fit`` continues from it, bit for bit
            (:mod:`tinyae.optim.checkpoint`).

        Raises
        ------
        DivergenceError
            The loss or a gradient became NaN or infinite; names the epoch and the
            batch, and the model keeps its last finite parameters.
        """
        return fit(self, X, loss=loss, optimizer=optimizer, epochs=epochs,
                   batch_size=batch_size, validation_data=validation_data, shuffle=shuffle,
                   seed=seed, verbose=verbose, callbacks=callbacks,
                   early_stopping=early_stopping, noise=noise, checkpoint=checkpoint)

    def evaluate(self, X, loss="mse", batch_size=1024):
        """Mean objective per sample on ``X`` in eval mode (e.g. squared error per image).

        The same number training minimizes, so penalties are included; for the
        reconstruction error alone use :meth:`reconstruction_error`.
        """
        return evaluate(self, X, loss, batch_size)

    def reconstruction_error(self, X, target=None, loss="mse"):
        """Reconstruction loss per sample of ``reconstruct(X)`` against ``target`` (default ``X``).

        No penalty is added. Denoising: ``reconstruction_error(X_noisy, X_clean)``.
        """
        X = self.check_input(X)
        target = X if target is None else self.check_input(target)
        return reconstruction_error(self, X, target, loss)  # by chunks of 4096 rows

    # ----- using a model ----------------------------------------------------------
    def _in_eval(self, net, X, batch_size):
        return run_in_eval(self, net, X, batch_size)

    def encode(self, X, batch_size=4096):
        """Codes ``z = encoder(X)``: (N, D) -> (N, K), in eval mode."""
        return self._in_eval(self.encoder, self.check_input(X), batch_size)

    def decode(self, Z, batch_size=4096):
        """Reconstructions from codes: (N, K) -> (N, D), in eval mode."""
        Z = check_array(Z, "Autoencoder.decode", ndim=2, dtype=self.dtype)
        return self._in_eval(self.decoder, Z, batch_size)

    def reconstruct(self, X, batch_size=4096):
        """``x̂ = decoder(encoder(X))`` in eval mode, in the shape of ``X``.

        (N, D) -> (N, D); a convolutional model given flat rows (N, C·H·W) also returns
        flat rows, and given images (N, C, H, W) returns images.
        """
        shape = np.shape(X)
        x_hat = self.decode(self.encode(X, batch_size), batch_size)
        return x_hat.reshape(shape) if x_hat.size == np.prod(shape) else x_hat

    def interpolate(self, x_a, x_b, steps=10):
        """Decode $(1 - t) z_a + t z_b$ for ``steps`` values of $t$ from 0 to 1: (steps, D).

        ``z_a``, ``z_b`` are the codes of the images ``x_a`` and ``x_b`` (each (D,) or (1, D)).
        """
        return interpolate(self, x_a, x_b, steps)

    @property
    def code_size(self):
        """Number of code units K (the width of the encoder's last Dense layer)."""
        return [m for m in self.encoder.layers if hasattr(m, "n_out")][-1].n_out

    def n_parameters(self):
        """Total number of trainable numbers."""
        return sum(p.size for p, _ in self.parameters())

    def config(self):
        config = {"encoder": [module_to_config(m) for m in self.encoder.layers],
                  "decoder": [module_to_config(m) for m in self.decoder.layers]}
        if self.penalties:
            config["penalties"] = [penalty_to_config(p) for p in self.penalties]
        if self.input_shape is not None:
            config["input_shape"] = list(self.input_shape)
        return config

    @classmethod
    def from_config(cls, encoder, decoder, penalties=(), input_shape=None):
        return cls(Sequential.from_config(encoder), Sequential.from_config(decoder),
                   [penalty_from_config(p) for p in penalties], input_shape)

    def __repr__(self):
        enc = " -> ".join(repr(m) for m in self.encoder.layers)
        dec = " -> ".join(repr(m) for m in self.decoder.layers)
        pens = f"  penalties: {self.penalties}\n" if self.penalties else ""
        return (f"Autoencoder(\n  encoder: {enc}\n  decoder: {dec}\n{pens}"
                f"  {self.n_parameters():,} parameters, code size {self.code_size}, "
                f"{self.dtype.name}\n)")
