"""Solution to exercise 1 (instructors): the sigmoid's backward pass.

σ'(z) = e^(−z) / (1 + e^(−z))² = σ(z) · (1 − σ(z)), so with a = σ(z):

    dz = grad_out · a(1 − a)        (element-wise)
"""

from tinyae.activations import sigmoid


def sigmoid_backward(z, grad_out):
    a = sigmoid(z)
    return grad_out * a * (1 - a)
