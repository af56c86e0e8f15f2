r"""The softmax and the fused softmax + cross-entropy loss: the math of a classifier's output.

The softmax turns a row of logits ``z`` (N, C) into probabilities, $p_{nc}$ being the
probability that sample $n$ is in class $c$:

$$p_{nc} = \frac{e^{z_{nc}}}{\sum_{c'} e^{z_{nc'}}}$$

and the cross-entropy $-\log p_{n, y_n}$, averaged over the batch, scores them. As with
the sigmoid and binary cross-entropy, the two are fused (:class:`SoftmaxCrossEntropy`),
which makes the gradient $(p - \text{onehot})/N$. The model that uses them is
:class:`tinyae.models.classifier.SoftmaxClassifier`.
"""

import numpy as np

from .._validate import check_array, check_labels
from ..errors import ShapeError
from .activations import Activation
from .losses import Loss


def softmax(z):
    r"""Row-wise softmax $e^{z_c} / \sum_{c'} e^{z_{c'}}$ of logits (N, C), without overflow.

    Subtracting each row's maximum leaves the result unchanged (it cancels
    between top and bottom) and makes every exponent $\le 0$, so ``e`` never overflows.
    """
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    r"""$\log \operatorname{softmax}(z) = z - \operatorname{logsumexp}(z)$, row-wise, stable.

    Stable because the log-sum-exp is taken with each row's maximum out.
    """
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


class Softmax(Activation):
    r"""Softmax over the last axis: $a_c = e^{z_c} / \sum_{c'} e^{z_{c'}}$, for inputs (N, C).

    The Jacobian of one row is $\partial a_c/\partial z_k = a_c (δ_{ck} - a_k)$, so the
    backward pass is

    $$dz_k = \sum_c da_c\, a_c (δ_{ck} - a_k) = a_k \Big(da_k - \sum_c da_c\, a_c\Big)$$

    (one dot product per row instead of a $C \times C$ matrix). Prefer
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

class SoftmaxCrossEntropy(Loss):
    r"""Softmax followed by cross-entropy, fused and computed from the logits ``z``.

    ``y_true`` is either integer labels of shape (N,) or target probabilities of
    shape (N, C) (rows of a one-hot matrix, say). With $Y$ the one-hot matrix
    and $p = \operatorname{softmax}(z)$:

    Forward:

    $$
    L = -\frac{1}{N} \sum_n \sum_c Y_{nc} \log p_{nc}
      = \frac{1}{N} \sum_n \Big[\operatorname{logsumexp}(z_n) - \sum_c Y_{nc} z_{nc}\Big]
    $$

    Backward:

    $$\frac{\partial L}{\partial z} = \frac{p - Y}{N}$$

    The log-sum-exp form never takes $\log 0$; and, as with the sigmoid and
    binary cross-entropy, the softmax's Jacobian cancels the $1/p$ of the
    logarithm, leaving $p - Y$. The value follows the tinyae convention: summed
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
