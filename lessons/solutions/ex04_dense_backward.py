"""Solution to exercise 4 (instructors): the dense layer's backward pass.

With y_nj = Σ_i x_ni W_ij + b_j:

    dL/dW_ij = Σ_n x_ni · dL/dy_nj     ->  dW = xᵀ @ grad_out        (n_in, n_out)
    dL/db_j  = Σ_n dL/dy_nj            ->  db = grad_out.sum(axis=0)  (n_out,)
    dL/dx_ni = Σ_j dL/dy_nj · W_ij     ->  dx = grad_out @ Wᵀ         (N, n_in)
"""


def dense_backward(x, W, b, grad_out):
    dx = grad_out @ W.T
    dW = x.T @ grad_out
    db = grad_out.sum(axis=0)
    return dx, dW, db
