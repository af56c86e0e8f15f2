"""Exercise 11: inverted dropout, forward and backward, with the mask given by ``u``."""

import numpy as np

from .spec import (
    Exercise,
    Mistake,
    batch_and_features,
    register,
)


# The mask comes from the uniforms u the caller drew, so the right answer is one definite array:
# keep where u ≥ p, and scale what is kept by 1/(1 − p) (inverted dropout, as PyTorch).
def _dropout_uniforms(shape, p, rng):
    u = rng.uniform(0, 1, shape)
    u.flat[:2] = rng.uniform(0, p), rng.uniform(p, 1)  # one dropped, one kept: mistakes show
    return u


def _dropout_forward_inputs(shape, rng):
    N, D, training = shape
    p = float(rng.uniform(0.2, 0.6))
    return rng.standard_normal((N, D)), p, _dropout_uniforms((N, D), p, rng), training


def _dropout_backward_inputs(shape, rng):
    x, p, u, _ = _dropout_forward_inputs((*shape, True), rng)
    return x, p, u, rng.standard_normal(shape)


def _dropout_mask(p, u):
    return (u >= p) / (1 - p)


def _dropout_forward(x, p, u, training):
    return x * _dropout_mask(p, u) if training else x.copy()


def _mask_pattern(got, base, scale):
    """The 0/1 pattern ``m`` (bool array) with ``got = base·m·scale``, or None if there is none."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != base.shape:
        return None
    kept = np.isclose(got, base * scale, rtol=1e-9, atol=0)
    return kept if np.all(kept | (got == 0)) else None


def _other_mask(base, scale, pattern):
    """A test: is ``got`` ``base`` masked by some pattern other than ``pattern``, and scaled?"""
    def test(got):
        m = _mask_pattern(got, base, scale)
        return m is not None and bool(np.any(m != pattern))
    return test


def _in_train(mistake):
    """A forward mistake made in train mode; in eval mode the right answer (skipped)."""
    return lambda x, p, u, training: mistake(x, p, u) if training else x


register(Exercise(
    function="dropout_forward", file="ex11_dropout",
    args=("x", "p", "u", "training"), outputs=("y",), wrt=(None,),
    forward="train: y = x·[u ≥ p]/(1 − p); eval: y = x",
    shape_names=("N", "D", "training"),
    shapes=((1, 6, True), (4, 5, True), (3, 4, False), (6, 3, True), (1, 5, False)),
    make_inputs=_dropout_forward_inputs,
    reference=_dropout_forward,
    sizes=batch_and_features,
    mistakes=(
        Mistake("forgot the 1/(1 − p) scale",
                "kept values must be divided by 1 − p, so that the expected output equals the "
                "input and eval mode (no dropping) sees values of the same size",
                _in_train(lambda x, p, u: x * (u >= p))),
        Mistake("multiplied by 1 − p instead of dividing",
                "inverted dropout divides the kept values by 1 − p (the keep probability) while "
                "training; multiplying by it shrinks them twice",
                _in_train(lambda x, p, u: x * (u >= p) * (1 - p))),
        Mistake("took p as the keep probability",
                "kept where u < p and divided by p; p is the probability of *dropping* a value, "
                "so keep where u ≥ p and divide by 1 − p",
                _in_train(lambda x, p, u: x * (u < p) / p)),
        Mistake("drew its own mask instead of using u",
                "the values are dropped with a pattern other than u ≥ p: build the mask from "
                "the argument u, not from np.random, so that backward can use the same mask",
                lambda x, p, u, training: _other_mask(x, 1 / (1 - p), u >= p) if training
                else x),
        *(Mistake("dropped in eval mode",
                  "eval mode uses the whole network: y = x, with no mask and no scale (the "
                  "1/(1 − p) while training already keeps the sizes the same)",
                  lambda x, p, u, training, s=s: _dropout_forward(x, p, u, True) if training
                  else _other_mask(x, s(p), np.ones(x.shape, bool)))
          for s in (lambda p: 1 / (1 - p), lambda p: 1.0)),
        Mistake("dropped nothing in train mode",
                "returned x unchanged; in train mode each value is dropped where u < p and the "
                "rest are scaled by 1/(1 − p)", lambda x, p, u, training: x),
    ),
))

register(Exercise(
    function="dropout_backward", file="ex11_dropout",
    args=("x", "p", "u", "grad_out"), outputs=("dx",), wrt=("x",),
    forward="train mode: y = x·[u ≥ p]/(1 − p)",
    shape_names=("N", "D"), shapes=((1, 6), (4, 5), (6, 3), (3, 8)),
    make_inputs=_dropout_backward_inputs,
    reference=lambda x, p, u, grad_out: grad_out * _dropout_mask(p, u),
    loss=lambda x, p, u, grad_out: float(np.sum(_dropout_forward(x, p, u, True) * grad_out)),
    sizes=batch_and_features,
    mistakes=(
        Mistake("forgot the 1/(1 − p) scale",
                "y = x·mask with mask = [u ≥ p]/(1 − p), so dx = grad_out·mask, scale included",
                lambda x, p, u, g: g * (u >= p)),
        Mistake("drew a new mask in backward",
                "the gradient flows only where the forward pass kept the value: rebuild the "
                "forward's mask from u (a layer keeps it in its cache); a fresh random mask "
                "sends gradient to values that were dropped",
                lambda x, p, u, g: _other_mask(g, 1 / (1 - p), u >= p)),
        Mistake("forgot the mask", "returned grad_out unchanged: that is the eval-mode backward; "
                "in train mode a dropped value had no effect on the loss, so its gradient is 0",
                lambda x, p, u, g: g),
    ),
))

