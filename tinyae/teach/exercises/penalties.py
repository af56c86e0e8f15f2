"""Exercises 8-9: the gradients of weight decay and of the KL sparsity penalty."""

import numpy as np

from .spec import (
    Exercise,
    Mistake,
    batch_and_features,
    register,
)

register(Exercise(
    function="weight_decay_grad", file="ex08_weight_decay",
    args=("W", "lam"), outputs=("dW",), wrt=("W",),
    forward="L = (λ/2) Σ_ij W_ij²",
    shape_names=("n_in", "n_out"), shapes=((3, 4), (5, 2), (1, 6), (4, 4)),
    make_inputs=lambda shape, rng: (rng.standard_normal(shape), float(rng.uniform(0.1, 0.9))),
    reference=lambda W, lam: lam * W,
    loss=lambda W, lam: 0.5 * lam * float(np.sum(W**2)),
    mistakes=(
        Mistake("off by a factor of 2 (too large)",
                "2λW is the gradient of λ ΣW²; this penalty is (λ/2) ΣW², whose 1/2 cancels "
                "the 2 from the square", lambda W, lam: 2 * lam * W),
        Mistake("forgot λ", "returned W; the penalty is scaled by λ, so its gradient is λW",
                lambda W, lam: W),
        Mistake("L1 instead of L2", "λ·sign(W) is the gradient of the L1 penalty λ Σ|W|; the "
                "L2 penalty (λ/2) ΣW² gives λW", lambda W, lam: lam * np.sign(W)),
    ),
))


def _kl_inputs(shape, rng):
    return rng.uniform(0.05, 0.95, shape), float(rng.uniform(0.02, 0.2)), float(rng.uniform(0.5, 3))


def _kl_loss(h, rho, beta):
    rho_hat = h.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    return beta * float(np.sum(kl))


def _dkl_drho_hat(h, rho, beta):
    """dL/dρ̂_j = β(−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j)), shape (H,)."""
    rho_hat = h.mean(axis=0)
    return beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))


register(Exercise(
    function="kl_sparsity_grad", points=2, file="ex09_sparsity_kl",
    args=("h", "rho", "beta"), outputs=("dh",), wrt=("h",),
    forward="ρ̂_j = (1/N) Σ_n h_nj, L = β Σ_j [ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j))]",
    shape_names=("N", "H"), shapes=((1, 4), (5, 3), (8, 6), (3, 5)),
    make_inputs=_kl_inputs,
    reference=lambda h, rho, beta: np.broadcast_to(_dkl_drho_hat(h, rho, beta) / len(h), h.shape),
    loss=_kl_loss,
    sizes=batch_and_features,
    mistakes=(
        Mistake("returned dL/dρ̂ instead of dL/dh",
                "that is the gradient with respect to ρ̂ (shape (H,)); each h_nj moves ρ̂_j by "
                "1/N, so dL/dh_nj = dL/dρ̂_j / N, the same on every row (shape (N, H))",
                _dkl_drho_hat),
        Mistake("did not spread over the batch",
                "the numbers are dL/dρ̂_j / N, but dL/dh has one row per sample: broadcast "
                "to shape (N, H), e.g. np.broadcast_to(g, h.shape) or g * np.ones_like(h)",
                lambda h, rho, beta: _dkl_drho_hat(h, rho, beta) / len(h)),
        Mistake("KL the wrong way round",
                "differentiated KL(ρ̂ ‖ ρ); the sparsity penalty is KL(ρ ‖ ρ̂), the target ρ first",
                lambda h, rho, beta: np.broadcast_to(beta * (
                    np.log(h.mean(0) / rho) - np.log((1 - h.mean(0)) / (1 - rho))) / len(h),
                    h.shape)),
        Mistake("used h where ρ̂ belongs",
                "put each sample's h_nj in the formula; the penalty is on the batch mean "
                "ρ̂_j = (1/N) Σ_n h_nj",
                lambda h, rho, beta: beta * (-rho / h + (1 - rho) / (1 - h)) / len(h)),
        Mistake("forgot β", "the penalty is multiplied by β, so is its gradient",
                lambda h, rho, beta: np.broadcast_to(_dkl_drho_hat(h, rho, 1.0) / len(h),
                                                     h.shape)),
    ),
))

