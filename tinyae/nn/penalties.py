r"""Penalties added to the reconstruction loss: sparsity (KL and L1) on the code, L2 on the weights.

A penalty is a term $Ω$ added to the training objective, $J = L + Ω$, with
its own hand-written gradient. It follows the same contract as a loss:
``forward(a) -> float`` keeps in ``self.cache`` what ``backward`` needs, and
``backward()`` returns $\partial Ω/\partial a$ with the shape of ``a``.

Two kinds, told apart by the attribute ``on``:

* ``on = "code"``: an *activity* penalty on the code ``h = encoder(x)``, shape
  (N, K). Its gradient $\partial Ω/\partial h$ is added to the gradient flowing back from the
  decoder, before the encoder's backward pass (:class:`KLSparsity`, :class:`L1Activity`).
* ``on = "weights"``: a penalty on the weight matrices $W$ of the model (never
  the biases). ``forward`` takes the list of matrices, ``backward`` returns the
  list of gradients, which are added to the model's ``grads`` after its backward
  pass (:class:`WeightDecay`).

Scale. tinyae's losses sum over features and average over the batch, so $L$
is "error per image". The activity penalties follow the same convention (a sum
over code units, a mean over the batch), and the weight decay is added once
per batch, as in the UFLDL sparse autoencoder's objective

$$
J = \frac{1}{N} \sum_n \tfrac12 \lVert \hat x_n - x_n \rVert^2 + \frac{λ}{2} \sum W^2
    + β \sum_j \mathrm{KL}(ρ \,\Vert\, \hat ρ_j)
$$

So $β$ and $λ$ weigh a penalty against the error *of one image*: with 784 pixels the
error is in the tens, and $β = 3$ is a moderate push; with 64 pixels it is a
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
    r"""The KL-divergence sparsity penalty: keep each code unit's mean activation near $ρ$.

    Parameters
    ----------
    rho : float in (0, 1)
        Target mean activation $ρ$ of every code unit (e.g. 0.05: each unit is
        "on" for about 5% of the images).
    beta : float >= 0
        Weight $β$ of the penalty.

    Needs code activations in (0, 1), i.e. a sigmoid code: $\hat ρ_j$ is read as
    the probability that unit ``j`` fires. :class:`~tinyae.models.autoencoder.Autoencoder`
    refuses the penalty on an encoder that does not end in a Sigmoid, and
    ``forward`` refuses a mean activation outside (0, 1).

    Forward, for a code $h$ of shape (N, K), with $\hat ρ$ of shape (K,):

    $$
    \hat ρ_j = \frac{1}{N} \sum_n h_{nj}, \qquad
    Ω = β \sum_j \Big[ρ \log\frac{ρ}{\hat ρ_j} + (1 - ρ) \log\frac{1 - ρ}{1 - \hat ρ_j}\Big]
    $$

    i.e. $β \sum_j \mathrm{KL}(ρ \,\Vert\, \hat ρ_j)$, the divergence between two Bernoulli
    distributions; it is 0 when $\hat ρ_j = ρ$ and grows without bound as $\hat ρ_j$
    nears 0 or 1. $\hat ρ$ is already a mean over the batch, so $Ω$ is not
    divided by $N$ again: it sits beside the per-image reconstruction error.

    Backward: $\partial Ω/\partial \hat ρ_j = β\big(-ρ/\hat ρ_j + (1 - ρ)/(1 - \hat ρ_j)\big)$
    and $\partial \hat ρ_j/\partial h_{nj} = 1/N$, so, equal on every row of the (N, K)
    gradient,

    $$
    \frac{\partial Ω}{\partial h_{nj}}
      = \frac{β}{N} \Big(-\frac{ρ}{\hat ρ_j} + \frac{1 - ρ}{1 - \hat ρ_j}\Big)
    $$
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
    r"""An L1 penalty on the code: many code entries pushed to exactly zero.

    Parameters
    ----------
    lam : float >= 0
        Weight $λ$.

    Forward (a sum over code units, a mean over the batch):

    $$Ω = \frac{λ}{N} \sum_n \sum_j |h_{nj}|$$

    Backward: $\partial Ω/\partial h = (λ/N)\, \mathrm{sign}(h)$. $|h|$ has a kink at 0,
    where we take $\mathrm{sign}(0) = 0$ (a valid subgradient): a ReLU code that is
    exactly 0 gets no push.
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
    r"""L2 weight decay on every weight matrix $W$ (biases are not decayed).

    Parameters
    ----------
    lam : float >= 0
        Weight $λ$.

    Forward, over the list of weight matrices:

    $$Ω = \frac{λ}{2} \sum_W \sum_{ij} W_{ij}^2$$

    Backward: $\partial Ω/\partial W = λW$ for each matrix (the ½ cancels the 2 of the square).

    Added once per batch, not per sample, so $λ$ is weighed against the error
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
