"""Exercise 10: BatchNorm's forward pass (train and eval mode) and its backward."""

import numpy as np

from .spec import (
    Exercise,
    Mistake,
    batch_size,
    register,
)


# Train mode normalizes with the batch's own statistics (biased variance) and updates the
# running ones (unbiased variance, PyTorch's convention, as tinyae.normalization.BatchNorm1d);
# eval mode normalizes with the running statistics and leaves them alone.
def _bn_arrays(N, F, rng):
    """x with its own mean and spread per feature, γ away from 1, and running statistics
    unlike the batch's: every mistake below then changes the numbers."""
    x = rng.standard_normal(F) + rng.uniform(1.0, 3.0, F) * rng.standard_normal((N, F))
    gamma = rng.choice([-1.0, 1.0], F) * rng.uniform(0.5, 2.0, F)
    beta = rng.standard_normal(F)
    return x, gamma, beta, 0.5 * rng.standard_normal(F), rng.uniform(0.5, 2.0, F)


#: ε large enough that leaving it out changes the numbers visibly (PyTorch's default is 1e-5).
_BN_EPS = 1e-3


def _bn_forward_inputs(shape, rng):
    N, F, training = shape
    return (*_bn_arrays(N, F, rng), float(rng.uniform(0.05, 0.3)), _BN_EPS, training)


def _bn_backward_inputs(shape, rng):
    N, F = shape
    return (*_bn_arrays(N, F, rng), _BN_EPS, rng.standard_normal((N, F)))


def _bn_y(x, gamma, beta, mean, var, eps):
    """y = γ·(x − μ)/√(σ² + ε) + β, per feature."""
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _bn_update(running, batch, momentum):
    """PyTorch's convention: the new batch's statistic gets the weight ``momentum``."""
    return (1 - momentum) * running + momentum * batch


def _batch_estimates(x):
    """What the running statistics move towards: the batch mean, the *unbiased* variance."""
    return x.mean(axis=0), x.var(axis=0, ddof=1)                       # ddof=1: divide by N − 1


def _batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    if not training:
        return (_bn_y(x, gamma, beta, running_mean, running_var, eps), running_mean.copy(),
                running_var.copy())
    mean, unbiased_var = _batch_estimates(x)
    y = _bn_y(x, gamma, beta, mean, x.var(axis=0), eps)                # biased: divide by N
    new_mean = _bn_update(running_mean, mean, momentum)
    return y, new_mean, _bn_update(running_var, unbiased_var, momentum)


def _bn_forward_mistake(label, explanation, output, train, evaluate=None):
    """A mistake on one output; ``train(*args)`` (``evaluate(*args)``) gives what the mistaken
    code returns in train (eval) mode. In the other mode the reference's answer is used, which
    the checker skips as no mistake."""
    k = ("y", "new_running_mean", "new_running_var").index(output)

    def compute(*args):
        wrong = train if args[-1] else evaluate
        return wrong(*args) if wrong else _batchnorm_forward(*args)[k]
    return Mistake(label, explanation, compute, output)


def _running_mistakes(label, explanation, train=None, evaluate=None):
    """The same mistake on both running statistics: ``train(running, batch, momentum)``
    (``evaluate``) gives the mistaken new value in train (eval) mode, from the old running
    statistic and the batch's estimate of it."""
    def on(k, update):
        if update is None:
            return None
        return lambda x, g, b, rm, rv, m, eps, t: update((rm, rv)[k], _batch_estimates(x)[k], m)
    return tuple(_bn_forward_mistake(label, explanation, output, on(k, train), on(k, evaluate))
                 for k, output in enumerate(("new_running_mean", "new_running_var")))


_SWAPPED = "swapped biased and unbiased variance"

register(Exercise(
    function="batchnorm_forward", points=2, file="ex10_batchnorm_backward",
    args=("x", "gamma", "beta", "running_mean", "running_var", "momentum", "eps", "training"),
    outputs=("y", "new_running_mean", "new_running_var"), wrt=(None, None, None),
    forward="train: y = γ·(x − μ)/√(σ² + ε) + β with the batch's μ, σ² (biased), and "
            "running ← (1 − m)·running + m·batch (variance unbiased); eval: the running μ, σ²",
    shape_names=("N", "F", "training"),
    shapes=((4, 3, True), (1, 4, False), (6, 5, True), (5, 2, False), (3, 6, True)),
    make_inputs=_bn_forward_inputs,
    reference=_batchnorm_forward,
    sizes=batch_size,
    mistakes=(
        _bn_forward_mistake(
            "used the running statistics in train mode",
            "normalized with running_mean and running_var; in train mode BatchNorm normalizes "
            "with the batch's own mean and variance (and updates the running ones)", "y",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, rm, rv, eps)),
        _bn_forward_mistake(
            "used the batch statistics in eval mode",
            "normalized with the batch's mean and variance; in eval mode BatchNorm uses the "
            "running statistics, so each sample's output does not depend on the others "
            "(and a batch of one works)", "y", train=None,
            evaluate=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, x.mean(0), x.var(0), eps)),
        _bn_forward_mistake(
            _SWAPPED,
            "normalized with the unbiased variance (divided by N − 1); the batch is normalized "
            "with the biased variance, Σ(x − μ)²/N, as np.var does by default", "y",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, x.mean(0),
                                                           x.var(0, ddof=1), eps)),
        _bn_forward_mistake(
            _SWAPPED,
            "updated running_var with the biased variance; the running variance estimates the "
            "population's, so it takes the unbiased one, Σ(x − μ)²/(N − 1) = np.var(x, axis=0, "
            "ddof=1)", "new_running_var",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_update(rv, x.var(0), m)),
        _bn_forward_mistake(
            "forgot ε", "divided by √σ²; the normalization divides by √(σ² + ε)", "y",
            train=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, x.mean(0), x.var(0), 0.0),
            evaluate=lambda x, g, b, rm, rv, m, eps, t: _bn_y(x, g, b, rm, rv, 0.0)),
        *_running_mistakes(
            "momentum the wrong way round",
            "gave the new batch the weight 1 − momentum (Keras's convention); in PyTorch's, "
            "used here, running ← (1 − momentum)·running + momentum·batch",
            train=lambda running, batch, m: _bn_update(running, batch, 1 - m)),
        *_running_mistakes(
            "updated the running statistics in eval mode",
            "eval mode only uses the running statistics; it must return them unchanged",
            evaluate=_bn_update),
        *_running_mistakes(
            "did not update the running statistics",
            "returned them unchanged; train mode moves them towards the batch's: "
            "running ← (1 − momentum)·running + momentum·batch",
            train=lambda running, batch, m: running),
    ),
))


def _bn_loss(x, gamma, beta, running_mean, running_var, eps, grad_out):
    """Σ y·grad_out with y in train mode: its gradients are dx, dγ, dβ."""
    return float(np.sum(_bn_y(x, gamma, beta, x.mean(axis=0), x.var(axis=0), eps) * grad_out))


def _bn_grads(x, gamma, beta, running_mean, running_var, eps, grad_out, through_mean=True,
              through_var=True, axis=0, ddof=0, running=False, use_gamma=True):
    """``(dx, dγ, dβ)`` of train-mode batch norm; the keywords plant mistakes.

    ``through_mean``, ``through_var``: keep the paths through the batch mean and variance;
    ``axis``: the axis of the sums; ``ddof=1``: the unbiased variance; ``running``: the
    running statistics in place of the batch's; ``use_gamma=False``: forget γ.
    """
    N = x.shape[0]
    mean, var = ((running_mean, running_var) if running
                 else (x.mean(axis=0), x.var(axis=0, ddof=ddof)))
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    dx_hat = grad_out * gamma if use_gamma else grad_out
    dx = N * dx_hat
    if through_mean:   # every x_n moved μ, so every x_n gets a share of dL/dμ
        dx = dx - dx_hat.sum(axis=axis, keepdims=True)
    if through_var:    # and of dL/dσ²
        dx = dx - x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True)
    return dx / (N * std), (grad_out * x_hat).sum(axis=axis), grad_out.sum(axis=axis)


def _bn_mistake(label, explanation, **mistake):
    return Mistake(label, explanation, lambda *args: _bn_grads(*args, **mistake))


register(Exercise(
    function="batchnorm_backward", points=3, file="ex10_batchnorm_backward",
    args=("x", "gamma", "beta", "running_mean", "running_var", "eps", "grad_out"),
    outputs=("dx", "dgamma", "dbeta"), wrt=("x", "gamma", "beta"),
    forward="train mode: μ = mean(x, axis=0), σ² = var(x, axis=0) (biased), "
            "x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β",
    shape_names=("N", "F"), shapes=((3, 4), (6, 3), (4, 1), (8, 5)),
    make_inputs=_bn_backward_inputs,
    reference=_bn_grads,
    loss=_bn_loss,
    sizes=batch_size,
    mistakes=(
        _bn_mistake("treated the batch mean as a constant",
                    "μ depends on every x_n: dx lacks the term −Σ_n dx̂_n/(N·σ) that flows "
                    "back through the mean", through_mean=False),
        _bn_mistake("treated the batch variance as a constant",
                    "σ² depends on every x_n: dx lacks the term −x̂·Σ_n(dx̂_n·x̂_n)/(N·σ) that "
                    "flows back through the variance", through_var=False),
        _bn_mistake("treated the batch mean and variance as constants",
                    "dx = γ·dy/σ is the gradient when μ and σ² are fixed numbers (eval mode); in "
                    "train mode they are computed from the batch, and both paths add a term",
                    through_mean=False, through_var=False),
        _bn_mistake("summed over the wrong axis",
                    "summed over the features (axis=1); the statistics, dγ and dβ belong to "
                    "each feature and sum over the batch, axis=0", axis=1),
        _bn_mistake("used the running statistics in train mode",
                    "normalized with running_mean and running_var; the forward pass in train "
                    "mode used the batch's own mean and variance, and so does its backward",
                    running=True),
        _bn_mistake("used the running statistics in train mode",
                    "dx = γ·dy/√(running_var + ε) is the eval-mode backward; in train mode the "
                    "batch's mean and variance were used, and both depend on x",
                    running=True, through_mean=False, through_var=False),
        _bn_mistake(_SWAPPED,
                    "used the unbiased variance (divided by N − 1); the batch is normalized with "
                    "the biased variance, Σ(x − μ)²/N, as np.var does by default", ddof=1),
        _bn_mistake("forgot γ", "y = γ·x̂ + β, so dL/dx̂ = γ·dy before going back to x",
                    use_gamma=False),
        Mistake("forgot ε", "divided by √σ²; the normalization divides by √(σ² + ε)",
                lambda x, g, b, rm, rv, eps, dy: _bn_grads(x, g, b, rm, rv, 0.0, dy)),
    ),
))

