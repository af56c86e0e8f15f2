"""Penalties added to the reconstruction loss: sparsity (KL and L1) on the code, L2 on the weights.

A penalty is a term ``Ω`` added to the training objective, ``J = L + Ω``, with
its own hand-written gradient. It follows the same contract as a loss:
``forward(a) -> float`` keeps in ``self.cache`` what ``backward`` needs, and
``backward()`` returns ``dΩ/da`` with the shape of ``a``.

Two kinds, told apart by the attribute ``on``:

* ``on = "code"``: an *activity* penalty on the code ``h = encoder(x)``, shape
  (N, K). Its gradient ``dΩ/dh`` is added to the gradient flowing back from the
  decoder, before the encoder's backward pass (:class:`KLSparsity`, :class:`L1Activity`).
* ``on = "weights"``: a penalty on the weight matrices ``W`` of the model (never
  the biases). ``forward`` takes the list of matrices, ``backward`` returns the
  list of gradients, which are added to the model's ``grads`` after its backward
  pass (:class:`WeightDecay`).

Scale. tinyae's losses sum over features and average over the batch, so ``L``
is "error per image". The activity penalties follow the same convention (a sum
over code units, a mean over the batch), and the weight decay is added once
per batch, as in the UFLDL sparse autoencoder's objective
``J = (1/N) Σ_n ½‖x̂_n − x_n‖² + (λ/2) Σ W² + β Σ_j KL(ρ ‖ ρ̂_j)``. So ``β``
and ``λ`` weigh a penalty against the error *of one image*: with 784 pixels the
error is in the tens, and β = 3 is a moderate push; with 64 pixels it is a
stronger one.

Reference: A. Ng, "Sparse autoencoder", CS294A lecture notes (2011), and the
UFLDL tutorial.
"""

import numpy as np

from ..errors import ForwardNotCalledError, ShapeError

#: Every penalty class by name, so a saved model can rebuild its penalties.
PENALTIES = {}


class Penalty:
    """Base class: the cache, the ``on`` attribute and ``config()`` for saving."""

    on = "code"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        PENALTIES[cls.__name__] = cls

    def __init__(self):
        self.cache = None

    def __call__(self, a):
        return self.forward(a)

    def _cached(self):
        if self.cache is None:
            raise ForwardNotCalledError(f"{self!r}.backward was called before forward")
        return self.cache

    def config(self):
        """Constructor arguments as a JSON-friendly dict."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


def _check_code(h, who):
    if not isinstance(h, np.ndarray) or h.ndim != 2:
        raise ShapeError(f"{who} expected a code of shape (N, K), got "
                         f"{getattr(h, 'shape', type(h).__name__)}")
    return h


def _nonnegative(value, name, who):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who} {name} must be a number, got {value!r}")
    if not 0 <= value < np.inf:
        raise ValueError(f"{who} {name} must be >= 0, got {value!r}")
    return float(value)


class KLSparsity(Penalty):
    """The KL-divergence sparsity penalty: keep each code unit's mean activation near ``ρ``.

    Parameters
    ----------
    rho : float in (0, 1)
        Target mean activation ``ρ`` of every code unit (e.g. 0.05: each unit is
        "on" for about 5% of the images).
    beta : float >= 0
        Weight ``β`` of the penalty.

    Needs code activations in (0, 1), i.e. a sigmoid code: ``ρ̂_j`` is read as
    the probability that unit ``j`` fires. :class:`~tinyae.models.autoencoder.Autoencoder`
    refuses the penalty on an encoder that does not end in a Sigmoid, and
    ``forward`` refuses a mean activation outside (0, 1).

    Forward, for a code ``h`` of shape (N, K)::

        ρ̂_j = (1/N) Σ_n h_nj                                          (K,)
        Ω   = β Σ_j [ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j))]

    i.e. ``β Σ_j KL(ρ ‖ ρ̂_j)``, the divergence between two Bernoulli
    distributions; it is 0 when ``ρ̂_j = ρ`` and grows without bound as ``ρ̂_j``
    nears 0 or 1. ``ρ̂`` is already a mean over the batch, so ``Ω`` is not
    divided by ``N`` again: it sits beside the per-image reconstruction error.

    Backward: ``dΩ/dρ̂_j = β(−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j))`` and ``∂ρ̂_j/∂h_nj = 1/N``, so::

        dΩ/dh_nj = (β/N) (−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j))          (N, K), equal on every row
    """

    def __init__(self, rho=0.05, beta=3.0):
        super().__init__()
        if isinstance(rho, bool) or not isinstance(rho, (int, float, np.integer, np.floating)):
            raise TypeError(f"KLSparsity rho must be a number, got {rho!r}")
        if not 0 < rho < 1:
            raise ValueError(f"KLSparsity rho is a target mean activation in (0, 1), got {rho!r}")
        self.rho = float(rho)
        self.beta = _nonnegative(beta, "beta", "KLSparsity")

    def forward(self, h):
        h = _check_code(h, "KLSparsity")
        rho_hat = h.mean(axis=0)
        lo, hi = float(rho_hat.min()), float(rho_hat.max())
        if not (0 < lo and hi < 1):
            raise ValueError(
                f"KLSparsity needs code activations in (0, 1) (a sigmoid code); the mean "
                f"activations lie in [{lo:g}, {hi:g}]")
        rho = self.rho
        self.cache = (rho_hat, h.shape[0])
        kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
        return self.beta * float(np.sum(kl))

    def backward(self):
        rho_hat, N = self._cached()
        rho = self.rho
        d_rho_hat = self.beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))  # (K,)
        # every sample moves ρ̂_j by 1/N, so each row gets the same dΩ/dρ̂ / N
        return np.broadcast_to(d_rho_hat / N, (N, len(rho_hat))).copy()

    def config(self):
        return {"rho": self.rho, "beta": self.beta}


class L1Activity(Penalty):
    """An L1 penalty on the code: many code entries pushed to exactly zero.

    Parameters
    ----------
    lam : float >= 0
        Weight ``λ``.

    Forward: ``Ω = (λ/N) Σ_n Σ_j |h_nj|``  (a sum over code units, a mean over the batch).

    Backward: ``dΩ/dh = (λ/N) sign(h)``. ``|h|`` has a kink at 0, where we take
    ``sign(0) = 0`` (a valid subgradient): a ReLU code that is exactly 0 gets no push.
    Works with any code activation; with a ReLU code it gives truly sparse codes.
    """

    def __init__(self, lam=1e-3):
        super().__init__()
        self.lam = _nonnegative(lam, "lam", "L1Activity")

    def forward(self, h):
        h = _check_code(h, "L1Activity")
        self.cache = h
        return self.lam * float(np.sum(np.abs(h))) / h.shape[0]

    def backward(self):
        h = self._cached()
        return np.sign(h) * (self.lam / h.shape[0])

    def config(self):
        return {"lam": self.lam}


class WeightDecay(Penalty):
    """L2 weight decay on every weight matrix ``W`` (biases are not decayed).

    Parameters
    ----------
    lam : float >= 0
        Weight ``λ``.

    Forward: ``Ω = (λ/2) Σ_W Σ_ij W_ij²`` over the list of weight matrices.
    Backward: ``dΩ/dW = λ W`` for each matrix (the ½ cancels the 2 of the square).

    Added once per batch, not per sample, so ``λ`` is weighed against the error
    of one image (see the module docstring). Biases are left out, as in the
    UFLDL objective: shrinking a bias does not make the model any smoother.
    """

    on = "weights"

    def __init__(self, lam=1e-4):
        super().__init__()
        self.lam = _nonnegative(lam, "lam", "WeightDecay")

    def forward(self, weights):
        weights = list(weights)
        self.cache = weights
        return 0.5 * self.lam * float(sum(np.vdot(W, W) for W in weights))

    def backward(self):
        return [self.lam * W for W in self._cached()]

    def config(self):
        return {"lam": self.lam}


def weight_matrices(model):
    """``(name, W, dW)`` for every weight matrix of ``model``: parameters named ``...W``."""
    return [(name, p, g) for name, p, g in model.named_parameters()
            if name.rsplit(".", 1)[-1] == "W"]


def penalty_to_config(penalty):
    """``{"type": class name, **constructor args}``."""
    return {"type": type(penalty).__name__, **penalty.config()}


def penalty_from_config(config):
    """Rebuild a penalty from :func:`penalty_to_config`'s dict."""
    config = dict(config)
    kind = config.pop("type", None)
    if kind not in PENALTIES:
        raise ValueError(f"unknown penalty type {kind!r}; known: {sorted(PENALTIES)}")
    return PENALTIES[kind](**config)


def make_penalties(sparsity=None, l1=None, weight_decay=None):
    """The penalty list for the ``sparsity=(ρ, β)``, ``l1=λ``, ``weight_decay=λ`` shortcuts."""
    penalties = []
    if sparsity is not None:
        if not (isinstance(sparsity, (tuple, list)) and len(sparsity) == 2):
            raise ValueError(f"sparsity must be a (rho, beta) pair such as (0.05, 3.0), "
                             f"got {sparsity!r}")
        penalties.append(KLSparsity(*sparsity))
    if l1 is not None:
        penalties.append(L1Activity(l1))
    if weight_decay is not None:
        penalties.append(WeightDecay(weight_decay))
    return penalties
