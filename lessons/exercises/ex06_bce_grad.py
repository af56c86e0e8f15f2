r"""Exercise 6: the gradient of binary cross-entropy, from probabilities and from logits.

For targets $y ∈ [0, 1]$ and predicted probabilities $p ∈ (0, 1)$, both of
shape (N, D), summed over features and averaged over the batch as in all of
tinyae:

    $$
    L = -\frac{1}{N} \sum_n \sum_j \big[ y_{nj} \log p_{nj}
                                         + (1 - y_{nj}) \log(1 - p_{nj}) \big]
    $$

Task (two functions)
--------------------
a) bce_grad(p, y): return $∂L/∂p$, shape (N, D).

b) bce_logits_grad(z, y): the probabilities come from a sigmoid, $p = σ(z)$,
   and z (the logits) is what the network computes. Return
   $∂L/∂z$, shape (N, D), for the same L written as a function of z.

Derive
------
1. For (a): differentiate both terms; put the result over one denominator,
   $p(1 - p)$.
2. For (b): the chain rule, $∂L/∂z = ∂L/∂p · σ'(z)$,
   with $σ'(z) = p(1 - p)$. Watch what cancels. This is why tinyae fuses the
   sigmoid and the cross-entropy (BinaryCrossEntropyWithLogits): the fused
   gradient never divides by a number that can round to zero.

Check your answer
-----------------
    tinyae check lessons/exercises/ex06_bce_grad.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you will need it)

from tinyae.activations import sigmoid  # noqa: F401  (a numerically stable σ)


def bce_grad(p, y):
    """dL/dp for L = −(1/N) Σ [y log p + (1 − y) log(1 − p)].

    Parameters
    ----------
    p : ndarray, shape (N, D), entries in (0, 1)
    y : ndarray, shape (N, D), entries in [0, 1]

    Returns
    -------
    dp : ndarray, shape (N, D)
    """
    raise NotImplementedError("differentiate both terms of the cross-entropy")


def bce_logits_grad(z, y):
    """dL/dz for the same loss with p = σ(z).

    Parameters
    ----------
    z : ndarray, shape (N, D)
        The logits.
    y : ndarray, shape (N, D), entries in [0, 1]

    Returns
    -------
    dz : ndarray, shape (N, D)
    """
    raise NotImplementedError("chain rule through the sigmoid: what cancels?")
