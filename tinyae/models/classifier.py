r"""Softmax (multinomial logistic) regression, written with the same modules as the autoencoder.

A classifier on top of an autoencoder's codes is how the texts measure whether
the features it learned are useful: train it on the codes $z = \text{encode}(x)$
and on the raw pixels ``x`` with few labels, and compare test accuracy.

The model is one :class:`~tinyae.nn.dense.Dense` layer, logits $z = xW + b$
(``x @ W + b``) with ``W`` of shape (n_features, C), followed by the softmax, $p_{nc}$
being the probability that sample $n$ is in class $c$:

$$p_{nc} = \frac{e^{z_{nc}}}{\sum_{c'} e^{z_{nc'}}}$$

trained with the cross-entropy $-\log p_{n, y_n}$, averaged over the batch.
As with the sigmoid and binary cross-entropy, the softmax and the loss are
fused (:class:`SoftmaxCrossEntropy`), which makes the gradient $(p - \text{onehot})/N$.
"""

import numpy as np

from .._validate import as_float_dtype, check_array, check_labels
from ..nn.dense import Dense
from ..nn.module import Module
from ..nn.penalties import WeightDecay
from ..nn.softmax import Softmax, SoftmaxCrossEntropy, log_softmax, softmax
from ..optim.loop import evaluate, fit

__all__ = ["SoftmaxClassifier", "Softmax", "SoftmaxCrossEntropy", "check_labels", "log_softmax",
           "softmax"]


class SoftmaxClassifier(Module):
    r"""Multinomial logistic regression $p(c \mid x) = \mathrm{softmax}(xW + b)_c$, sklearn-like.

    Parameters
    ----------
    n_features : int
        Size D of each input row (pixels, or code units).
    n_classes : int
        Number of classes C.
    seed : int or numpy.random.Generator
        Seeds the initial weights (Glorot).
    weight_decay : float
        L2 penalty $\frac{λ}{2} \lVert W \rVert^2$ (see :class:`~tinyae.nn.penalties.WeightDecay`),
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
        """Logits $z = xW + b$ (``x @ W + b``): (N, D) -> (N, C)."""
        return self.linear.forward(self.check_input(x))

    def backward(self, grad_out):
        r"""$\partial L/\partial z$ (N, C) -> $\partial L/\partial x$ (N, D).

        Fills the grads of ``linear``, the Dense layer.
        """
        return self.linear.backward(grad_out)

    def loss_and_backward(self, x, y, loss=None, backward=True):
        """Cross-entropy of the logits against labels ``y`` (+ weight decay), and its gradients.

        ``loss`` is ignored unless given (the classifier's loss is always a
        :class:`SoftmaxCrossEntropy`); it is there so :func:`~tinyae.optim.loop.fit`
        and :func:`~tinyae.teach.gradcheck.check_model` can call every model alike.
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
            seed=0, verbose=0, early_stopping=None, checkpoint=None):
        """Train on ``X`` (N, D) with labels ``y`` (N,); returns ``self``.

        The same training loop as the autoencoders (:func:`~tinyae.optim.loop.fit`,
        default ``Adam(lr=1e-3)``); its :class:`~tinyae.optim.loop.History` is kept in
        ``self.history_``. ``validation_data`` is a pair ``(X_val, y_val)``; ``checkpoint``
        as for :func:`~tinyae.optim.loop.fit`.
        """
        X = self.check_input(X)
        y = check_labels(y, self.n_classes, len(X), "SoftmaxClassifier.fit labels")
        self.history_ = fit(self, X, loss=self.loss, optimizer=optimizer, epochs=epochs,
                            batch_size=batch_size, validation_data=validation_data,
                            seed=seed, verbose=verbose, early_stopping=early_stopping, y=y,
                            checkpoint=checkpoint)
        return self

    def decision_function(self, X, batch_size=4096):
        """Logits (N, C)."""
        X = self.check_input(X)
        return np.concatenate([self.linear.forward(X[i:i + batch_size])
                               for i in range(0, len(X), batch_size)])

    def predict_proba(self, X):
        r"""Class probabilities $\operatorname{softmax}(xW + b)$: (N, C), rows sum to 1."""
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

