"""Solution to exercise 8 (instructors): L2 weight decay.

∂/∂W_ij (λ/2) Σ W² = (λ/2) · 2 W_ij, so dW = λ W: the 1/2 cancels the 2.
"""


def weight_decay_grad(W, lam):
    return lam * W
