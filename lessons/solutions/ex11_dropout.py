"""Solution to exercise 11 (instructors): inverted dropout, forward and backward.

The mask is m = [u ≥ p] / (1 − p): 0 where a value is dropped, 1/(1 − p) where it
is kept. Then E[m] = (1 − p)·1/(1 − p) = 1, so E[y] = x and eval mode is y = x.

Train mode: y = x·m, so dy/dx = m and dx = grad_out·m, with the *same* m: a value
that was dropped did not reach the loss, so its gradient is 0.
"""


def dropout_forward(x, p, u, training):
    if not training:
        return x.copy()
    mask = (u >= p) / (1 - p)
    return x * mask


def dropout_backward(x, p, u, grad_out):
    mask = (u >= p) / (1 - p)
    return grad_out * mask
