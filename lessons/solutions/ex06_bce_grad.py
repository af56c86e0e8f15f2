"""Solution to exercise 6 (instructors): binary cross-entropy, from p and from logits.

(a)  dL/dp = −(1/N) [y/p − (1 − y)/(1 − p)] = (p − y) / (p(1 − p)) / N

(b)  dL/dz = dL/dp · σ'(z) = (p − y) / (p(1 − p)) / N · p(1 − p) = (σ(z) − y) / N:
     the sigmoid's derivative cancels the denominator exactly.
"""

from tinyae.activations import sigmoid


def bce_grad(p, y):
    N = p.shape[0]
    return (p - y) / (p * (1 - p)) / N


def bce_logits_grad(z, y):
    N = z.shape[0]
    return (sigmoid(z) - y) / N
