"""Solution to exercise 7 (instructors): the shallow autoencoder's backward pass.

Forward, then the same steps in reverse, each a piece from exercises 1, 4 and 5:

    dL/dx̂ = 2(x̂ − x)/N;  dz2 = dL/dx̂ · x̂(1 − x̂);  dW2 = hᵀ dz2;  db2 = Σ_n dz2
    dh = dz2 W2ᵀ;         dz1 = dh · h(1 − h);     dW1 = xᵀ dz1;  db1 = Σ_n dz1
"""

from tinyae.activations import sigmoid


def autoencoder_backward(x, W1, b1, W2, b2):
    N = x.shape[0]
    h = sigmoid(x @ W1 + b1)             # (N, H)
    x_hat = sigmoid(h @ W2 + b2)         # (N, D)

    dx_hat = 2 * (x_hat - x) / N         # (N, D)
    dz2 = dx_hat * x_hat * (1 - x_hat)   # (N, D)
    dW2 = h.T @ dz2                      # (H, D)
    db2 = dz2.sum(axis=0)                # (D,)
    dh = dz2 @ W2.T                      # (N, H)
    dz1 = dh * h * (1 - h)               # (N, H)
    dW1 = x.T @ dz1                      # (D, H)
    db1 = dz1.sum(axis=0)                # (H,)
    return dW1, db1, dW2, db2
