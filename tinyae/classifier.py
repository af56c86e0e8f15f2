"""Softmax (multinomial logistic) regression, written with the same modules as the autoencoder.

A classifier on top of an autoencoder's codes is how the texts measure whether
the features it learned are useful: train it on the codes ``z = encode(x)``
and on the raw pixels ``x`` with few labels, and compare test accuracy.

The model is one :class:`~tinyae.layers.Dense` layer, ``logits = x @ W + b``
with ``W`` of shape (n_features, C), followed by the softmax

    ``p_nc = e^{z_nc} / Σ_c' e^{z_nc'}``   (the probability that sample n is in class c),

trained with the cross-entropy ``−log p_{n, y_n}``, averaged over the batch.
As with the sigmoid and binary cross-entropy, the softmax and the loss are
fused (:class:`SoftmaxCrossEntropy`), which makes the gradient ``(p − onehot)/N``.
"""

import numpy as np

from ._validate import as_float_dtype, check_array
from .activations import Activation
from .errors import DTypeError, ShapeError
from .layers import Dense
from .losses import Loss
from .module import Module
from .regularizers import WeightDecay
from .train import evaluate, fit


def softmax(z):
    """Row-wise softmax ``e^{z_c} / Σ e^{z_c'}`` of logits (N, C), computed without overflow.

    Subtracting each row's maximum leaves the result unchanged (it cancels
    between top and bottom) and makes every exponent ``<= 0``, so ``e`` never overflows.
    """
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    """``log softmax(z) = z − logsumexp(z)``, row-wise, stable (log-sum-exp with the max out)."""
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


class Softmax(Activation):
    """Softmax over the last axis: ``a_c = e^{z_c} / Σ_c' e^{z_c'}``, for inputs (N, C).

    The Jacobian of one row is ``∂a_c/∂z_k = a_c (δ_ck − a_k)``, so the backward pass is::

        dz_k = Σ_c da_c a_c (δ_ck − a_k) = a_k (da_k − Σ_c da_c a_c)

    (one dot product per row instead of a C×C matrix). Prefer
    :class:`SoftmaxCrossEntropy` on logits for training: it is simpler and exact.
    """

    def forward(self, z):
        z = check_array(z, "Softmax", ndim=2)
        a = softmax(z)
        self.cache = a
        return a

    def backward(self, grad_out):
        a = self._grad(grad_out)
        return a * (grad_out - np.sum(grad_out * a, axis=1, keepdims=True))


def check_labels(y, n_classes, n_samples=None, who="labels", unlabeled=None):
    """``y`` as a 1-D int64 array of class indices in ``[0, n_classes)``, or a clear error.

    ``unlabeled`` (e.g. ``-1``) is a value also accepted, marking a row whose class is
    unknown (semi-supervised training). A range error names the classes found and
    the classes expected.
    """
    y = np.asarray(y)
    also = "" if unlabeled is None else f" (or {unlabeled} for an unlabeled row)"
    if y.dtype.kind not in "iu":
        hint = ""
        if y.dtype.kind == "f" and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            hint = "; convert with y.astype(int)"
        raise DTypeError(f"{who} must be integer class indices 0..{n_classes - 1}{also}, got "
                         f"dtype {y.dtype}{hint}")
    if y.ndim != 1:
        raise ShapeError(f"{who} must be a 1-D array of class indices, got shape {y.shape}")
    if n_samples is not None and len(y) != n_samples:
        raise ShapeError(f"{who}: expected {n_samples} labels (one per row of X), got {len(y)}")
    y = y.astype(np.int64)
    known = y if unlabeled is None else y[y != unlabeled]
    if known.size and (known.min() < 0 or known.max() >= n_classes):
        found = np.unique(known)
        shown = ", ".join(map(str, found[:12])) + (", ..." if len(found) > 12 else "")
        raise ValueError(f"{who}: expected classes 0..{n_classes - 1} ({n_classes} classes"
                         f"{'' if unlabeled is None else f'; {unlabeled} marks an unlabeled row'}"
                         f"), found classes {shown}")
    return y


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, fused and computed from the logits ``z``.

    ``y_true`` is either integer labels of shape (N,) or target probabilities of
    shape (N, C) (rows of a one-hot matrix, say). With ``Y`` the one-hot matrix
    and ``p = softmax(z)``:

    Forward:  ``L = −(1/N) Σ_n Σ_c Y_nc log p_nc = (1/N) Σ_n [logsumexp(z_n) − Σ_c Y_nc z_nc]``
    Backward: ``dL/dz = (p − Y) / N``

    The log-sum-exp form never takes ``log 0``; and, as with the sigmoid and
    binary cross-entropy, the softmax's Jacobian cancels the ``1/p`` of the
    logarithm, leaving ``p − Y``. The value follows the tinyae convention: summed
    over the classes of one sample (one term), averaged over the batch.
    """

    def forward(self, y_pred, y_true):
        z = check_array(y_pred, "SoftmaxCrossEntropy logits", ndim=2)
        N, C = z.shape
        if isinstance(y_true, np.ndarray) and y_true.ndim == 2:
            Y = check_array(y_true, "SoftmaxCrossEntropy targets", ndim=2, dtype=z.dtype)
            if Y.shape != z.shape:
                raise ShapeError(f"SoftmaxCrossEntropy expected targets of shape {z.shape}, "
                                 f"got {Y.shape}")
        else:
            y = check_labels(y_true, C, N, "SoftmaxCrossEntropy labels")
            Y = np.zeros_like(z)
            Y[np.arange(N), y] = 1
        log_p = log_softmax(z)
        self.cache = (log_p, Y)
        return -float(np.sum(Y * log_p)) / N

    def backward(self):
        log_p, Y = self._cached()
        return (np.exp(log_p) - Y) / len(Y)


class SoftmaxClassifier(Module):
    """Multinomial logistic regression ``p(c | x) = softmax(x @ W + b)_c``, scikit-learn style.

    Parameters
    ----------
    n_features : int
        Size D of each input row (pixels, or code units).
    n_classes : int
        Number of classes C.
    seed : int or numpy.random.Generator
        Seeds the initial weights (Glorot).
    weight_decay : float
        L2 penalty ``(λ/2) ‖W‖²`` (see :class:`~tinyae.regularizers.WeightDecay`),
        added once per batch; it helps when there are few labels.
    dtype : float32 or float64

    Shapes: ``X`` (N, D) -> logits (N, C); ``y`` (N,) integer labels in 0..C−1.
    Parameter names: ``"linear.W"`` (D, C), ``"linear.b"`` (C,).
    """

    def __init__(self, n_features, n_classes, seed=0, weight_decay=0.0, dtype=np.float64):
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
                or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        self.n_classes = int(n_classes)
        self.linear = Dense(n_features, self.n_classes, "glorot", seed, as_float_dtype(dtype))
        self.n_inputs, self.dtype = self.linear.n_in, self.linear.dtype
        self.weight_decay = float(weight_decay)
        self.penalty = WeightDecay(self.weight_decay) if self.weight_decay else None
        self.loss = SoftmaxCrossEntropy()
        self.history_ = None

    # ----- the module protocol ----------------------------------------------------
    def check_input(self, X):
        return check_array(X, "SoftmaxClassifier", ndim=2, n_features=self.n_inputs,
                           dtype=self.dtype)

    def check_target(self, y):
        return check_labels(y, self.n_classes, who="SoftmaxClassifier labels")

    def forward(self, x):
        """Logits ``z = x @ W + b``: (N, D) -> (N, C)."""
        return self.linear.forward(self.check_input(x))

    def backward(self, grad_out):
        """``dL/dz`` (N, C) -> ``dL/dx`` (N, D), filling ``linear``'s grads."""
        return self.linear.backward(grad_out)

    def loss_and_backward(self, x, y, loss=None, backward=True):
        """Cross-entropy of the logits against labels ``y`` (+ weight decay), and its gradients.

        ``loss`` is ignored unless given (the classifier's loss is always a
        :class:`SoftmaxCrossEntropy`); it is there so :func:`~tinyae.train.fit`
        and :func:`~tinyae.gradcheck.check_model` can call every model alike.
        """
        loss = self.loss if loss is None or isinstance(loss, str) else loss
        value = loss.forward(self.forward(x), y)
        if self.penalty is not None:
            value += self.penalty.forward([self.linear.params["W"]])
        if backward:
            self.backward(loss.backward())
            if self.penalty is not None:
                self.linear.grads["W"] += self.penalty.backward()[0]
        return value

    def _parts(self):
        return (("linear.", self.linear),)

    # ----- scikit-learn style -----------------------------------------------------
    def fit(self, X, y, epochs=100, batch_size=32, optimizer=None, validation_data=None,
            seed=0, verbose=0, early_stopping=None):
        """Train on ``X`` (N, D) with labels ``y`` (N,); returns ``self``.

        The same training loop as the autoencoders (:func:`~tinyae.train.fit`,
        default ``Adam(lr=1e-3)``); its :class:`~tinyae.train.History` is kept in
        ``self.history_``. ``validation_data`` is a pair ``(X_val, y_val)``.
        """
        X = self.check_input(X)
        y = check_labels(y, self.n_classes, len(X), "SoftmaxClassifier.fit labels")
        self.history_ = fit(self, X, loss=self.loss, optimizer=optimizer, epochs=epochs,
                            batch_size=batch_size, validation_data=validation_data,
                            seed=seed, verbose=verbose, early_stopping=early_stopping, y=y)
        return self

    def decision_function(self, X, batch_size=4096):
        """Logits (N, C)."""
        X = self.check_input(X)
        return np.concatenate([self.linear.forward(X[i:i + batch_size])
                               for i in range(0, len(X), batch_size)])

    def predict_proba(self, X):
        """Class probabilities ``softmax(x @ W + b)``: (N, C), rows sum to 1."""
        return softmax(self.decision_function(X))

    def predict(self, X):
        """The most probable class of each row: (N,) int64."""
        return np.argmax(self.decision_function(X), axis=1)

    def score(self, X, y):
        """Accuracy: the fraction of rows of ``X`` whose predicted class is ``y``."""
        X = self.check_input(X)
        y = check_labels(y, self.n_classes, len(X), "SoftmaxClassifier.score labels")
        return float(np.mean(self.predict(X) == y))

    def evaluate(self, X, y, batch_size=1024):
        """Mean cross-entropy per sample (plus weight decay) on ``(X, y)``."""
        return evaluate(self, X, self.loss, batch_size, target=y)

    def config(self):
        return {"n_features": self.n_inputs, "n_classes": self.n_classes,
                "weight_decay": self.weight_decay, "dtype": self.dtype.name}

    def __repr__(self):
        return (f"SoftmaxClassifier({self.n_inputs} features -> {self.n_classes} classes, "
                f"weight_decay={self.weight_decay:g})")

