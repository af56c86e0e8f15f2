"""Optimizers: turn gradients into parameter updates, in place.

An optimizer is built with its hyper-parameters only (``Adam(lr=1e-3)``) and
receives the model's ``(param, grad)`` pairs at every step, so one optimizer
object can be handed to ``fit`` before the model exists. Its state (momentum,
Adam's moments) lives in dicts keyed by the parameter array's identity, and
``t`` counts the steps taken.
Updates are in place (``param -= ...``): the model's arrays are never replaced,
so layers and optimizer keep pointing at the same memory.
"""

import math
import weakref

import numpy as np

from .. import backend


class Optimizer:
    """Base class: ``step(pairs)`` updates every ``param`` from its ``grad``."""

    def __init__(self, lr):
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr!r}")
        self.lr = float(lr)
        self.t = 0          # number of steps taken
        self.state = {}     # id(param) -> dict of buffers of param's shape

    def step(self, pairs):
        """Apply one update to every ``(param, grad)`` pair (arrays changed in place)."""
        self.t += 1
        for param, grad in pairs:
            state = self.state.get(id(param))
            # ids are reused after an array is freed: check it is the same array
            if state is None or state["param"]() is not param:
                state = self.state[id(param)] = self.init_state(param)
                state["param"] = weakref.ref(param)
            self.update(param, grad, state)

    def init_state(self, param):
        return {}

    def update(self, param, grad, state):
        raise NotImplementedError

    def config(self):
        return {"lr": self.lr}

    # ----- saving and restoring the state (for checkpoints) -----------------------------
    #: names of buffers in the state that are scratch space, not state (never saved)
    scratch = ()

    def state_dict(self, pairs):
        """The state as ``{"lr", "t", "slots"}``: ``slots[i]`` holds the buffers of ``pairs[i]``.

        ``pairs`` are the model's ``(param, grad)`` pairs, as for :meth:`step`; a
        parameter not stepped yet has ``{}``. The arrays are the optimizer's own (not
        copies), as in PyTorch's ``state_dict``.
        """
        slots = []
        for param, _ in pairs:
            state = self.state.get(id(param))
            if state is None or state["param"]() is not param:
                state = {}
            slots.append({k: v for k, v in state.items()
                          if isinstance(v, np.ndarray) and k not in self.scratch})
        return {"lr": self.lr, "t": self.t, "slots": slots}

    def check_state_dict(self, state, pairs):
        """Raise ``ValueError`` unless :meth:`load_state_dict` can load ``state`` for ``pairs``."""
        slots = state.get("slots") if isinstance(state, dict) else None
        if not isinstance(slots, list) or len(slots) != len(pairs):
            raise ValueError(f"{type(self).__name__} state has "
                             f"{len(slots) if isinstance(slots, list) else 'no'} parameter "
                             f"slots, the model has {len(pairs)} parameters")
        for i, ((param, _), saved) in enumerate(zip(pairs, slots)):
            if not saved:
                continue
            fresh = self.init_state(param)
            for key, value in saved.items():
                if key not in fresh or np.shape(value) != param.shape \
                        or np.asarray(value).dtype != fresh[key].dtype:
                    raise ValueError(f"{type(self).__name__} state: buffer {key!r} of "
                                     f"parameter {i} does not fit a {param.dtype} array of "
                                     f"shape {param.shape}")

    def load_state_dict(self, state, pairs):
        """Restore a :meth:`state_dict` for the same parameters (checked first, then copied)."""
        self.check_state_dict(state, pairs)
        self.lr, self.t, self.state = float(state["lr"]), int(state["t"]), {}
        for param, saved in zip((p for p, _ in pairs), state["slots"]):
            if saved:
                buffers = self.state[id(param)] = self.init_state(param)
                for key, value in saved.items():
                    buffers[key][...] = value
                buffers["param"] = weakref.ref(param)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum and L2 weight decay.

    With $η$ the ``lr``, $μ$ the ``momentum``, $λ$ the ``weight_decay`` and
    $g = \nabla_θ L + λθ$ (the L2 penalty $\frac{λ}{2}\lVert θ \rVert^2$ folded into the
    gradient):

    * plain:     $θ \leftarrow θ - ηg$
    * momentum:  $v \leftarrow μv + g$,  $θ \leftarrow θ - ηv$
    * Nesterov:  $v \leftarrow μv + g$,  $θ \leftarrow θ - η(g + μv)$  (look-ahead form, as
      PyTorch)
    """

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.weight_decay = float(weight_decay)

    def init_state(self, param):
        return {"v": np.zeros_like(param)} if self.momentum else {}

    def update(self, param, grad, state):
        g = grad + self.weight_decay * param if self.weight_decay else grad
        if self.momentum:
            v = state["v"]
            v *= self.momentum
            v += g
            g = g + self.momentum * v if self.nesterov else v
        param -= self.lr * g

    def config(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with optional L2 weight decay folded into the gradient.

    With $η$ the ``lr``, $g = \nabla_θ L + λθ$ ($λ$ the ``weight_decay``) and step
    number $t$:

    * $m \leftarrow β_1 m + (1 - β_1) g$          (running mean of the gradient)
    * $v \leftarrow β_2 v + (1 - β_2) g^2$        (running mean of its square)
    * $\hat m = m/(1 - β_1^t)$, $\hat v = v/(1 - β_2^t)$   (bias correction: $m$, $v$
      start at 0)
    * $θ \leftarrow θ - η \hat m/(\sqrt{\hat v} + ε)$

    Computed as PyTorch does:

    $$θ \leftarrow θ - \frac{η}{1 - β_1^t} \cdot \frac{m}{\sqrt{v}/\sqrt{1 - β_2^t} + ε}$$
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.weight_decay = float(weight_decay)
        self._flat = None   # (params, m, v, tmp, slots) of the last step: see _flat_state

    def init_state(self, param):
        return {"m": np.zeros_like(param), "v": np.zeros_like(param),
                "tmp": np.empty_like(param)}

    scratch = ("tmp",)

    def step(self, pairs):
        """One Adam step on every ``(param, grad)`` pair, in one backend call.

        Every parameter's ``m`` (and ``v``, ``tmp``) is a view of one flat buffer
        (:meth:`_flat_state`), so ``backend.adam_update_multi`` updates them all at
        once, as PyTorch's *foreach* Adam does; per entry the arithmetic is that of
        :meth:`update`, the one-parameter step. A parameter listed twice, or
        parameters of two dtypes, take the one-parameter path.
        """
        pairs = list(pairs)                  # any iterable of pairs, as for Optimizer.step
        flat = self._flat_state(pairs)
        if flat is None:
            return super().step(pairs)
        self.t += 1
        params, m, v, tmp = flat
        backend.adam_update_multi(params, [g for _, g in pairs], m, v, tmp,
                                  self.beta1, self.beta2, self.eps, self.weight_decay,
                                  **self._corrections(), decays=[self._decay(p) for p in params])
        return None

    def _decay(self, param):
        """The factor θ is multiplied by before the step: 1 (AdamW overrides it)."""
        return 1.0

    def _corrections(self):
        r"""Step ``t``'s bias corrections, as keyword arguments of the backend's Adam.

        ``step_size`` $= \mathrm{lr}/(1 - \beta_1^t)$, ``sqrt_c2`` $= \sqrt{1 - \beta_2^t}$.
        """
        return {"step_size": self.lr / (1 - self.beta1 ** self.t),
                "sqrt_c2": math.sqrt(1 - self.beta2 ** self.t)}

    def _flat_state(self, pairs):
        """``(params, m, v, tmp)``: the parameters, and their buffers end to end, flat.

        ``self.state[id(param)]["m"]`` is then a view of ``m`` (its piece, reshaped).
        Made at the first step, and again whenever the parameters are not those of
        the last step or a slot was replaced (``load_state_dict``, a new layer): the
        moments already there are copied into the new buffers, a new parameter's
        start at 0. None when the pairs cannot share flat buffers (two dtypes, one
        parameter twice, none at all).
        """
        cached = self._flat
        if cached is not None and len(cached[0]) == len(pairs) and all(
                p is q and self.state.get(id(p)) is s
                for (p, _), q, s in zip(pairs, cached[0], cached[4])) \
                and cached[4][0]["m"].base is cached[1]:    # still views (not copies)
            return cached[:4]
        params = [p for p, _ in pairs]
        if not params or len({p.dtype for p in params}) != 1 \
                or len({id(p) for p in params}) != len(params):
            return None
        total = sum(p.size for p in params)
        m, v = np.zeros(total, params[0].dtype), np.zeros(total, params[0].dtype)
        tmp = np.empty(total, params[0].dtype)
        slots, start = [], 0
        for p in params:
            old = self.state.get(id(p))
            if old is not None and old["param"]() is not p:
                old = None                  # an id reused by a new array
            piece = slice(start, start + p.size)
            state = {"m": m[piece].reshape(p.shape), "v": v[piece].reshape(p.shape),
                     "tmp": tmp[piece].reshape(p.shape), "param": weakref.ref(p)}
            if old is not None:
                state["m"][...], state["v"][...] = old["m"], old["v"]
            self.state[id(p)] = state
            slots.append(state)
            start += p.size
        self._flat = (params, m, v, tmp, slots)
        return self._flat[:4]

    def update(self, param, grad, state):
        # g = grad + wd·θ;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
        # θ ← θ − step_size · m / (√v / sqrt_c2 + ε), all in place. The NumPy lines are
        # backend.NumpyOps.adam_update; the numba backend does it in one pass.
        backend.adam_update(param, grad, state["m"], state["v"], state["tmp"],
                            self.beta1, self.beta2, self.eps, self.weight_decay,
                            **self._corrections(), decay=self._decay(param))

    def config(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}


class AdamW(Adam):
    r"""Adam with *decoupled* weight decay (Loshchilov & Hutter, 2019).

    Each step first shrinks the decayed parameters directly, then takes the plain
    Adam step on the unchanged gradient ($η$ the ``lr``, $λ$ the ``weight_decay``):

    * $θ \leftarrow θ - ηλθ$                    (decay, scaled by the learning rate)
    * $θ \leftarrow θ - η \hat m/(\sqrt{\hat v} + ε)$  (Adam, with $g = \nabla_θ L$: no
      $λθ$ inside)

    Why it differs from ``Adam(weight_decay=λ)``: there the L2 term $λθ$ is added
    to the gradient and then divided by $\sqrt{\hat v}$, so weights with large gradients
    are barely decayed and weights with small gradients are decayed hard. Decoupled,
    every weight shrinks by the same factor $1 - ηλ$ per step.

    Parameters
    ----------
    weight_decay : float
        $λ$ (default 0.01).
    decay : {"weights", "all"}
        ``"weights"`` (default) decays only parameters with two or more axes (the
        weight matrices and kernels), not biases or normalization's γ and β, which
        are 1-D; ``"all"`` decays every parameter, as PyTorch's ``AdamW`` does by default.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01,
                 decay="weights"):
        super().__init__(lr, beta1, beta2, eps, weight_decay=0.0)
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        if decay not in ("weights", "all"):
            raise ValueError(f"decay must be 'weights' or 'all', got {decay!r}")
        self.decoupled_weight_decay, self.decay = float(weight_decay), decay

    def _decay(self, param):
        # θ ← (1 − lr·λ)·θ, then Adam's step on the plain gradient (self.weight_decay is 0):
        # the backend multiplies θ by this factor as it subtracts the step, one pass
        decayed = self.decay == "all" or param.ndim >= 2
        return 1 - self.lr * self.decoupled_weight_decay if decayed else 1.0

    def config(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.decoupled_weight_decay, "decay": self.decay}


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def get_optimizer(optimizer, lr=None):
    """An optimizer from a name (``"adam"``, ``"sgd"``) or the object itself."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[optimizer]() if lr is None else OPTIMIZERS[optimizer](lr=lr)
