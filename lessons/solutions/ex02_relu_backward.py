"""Solution to exercise 2 (instructors): the ReLU's backward pass.

f'(z) = 1 for z > 0 and 0 for z < 0 (and 0 at the kink, by convention), so the
gradient passes where the input was positive and is stopped elsewhere:

    dz = grad_out · 1[z > 0]
"""


def relu_backward(z, grad_out):
    return grad_out * (z > 0)
