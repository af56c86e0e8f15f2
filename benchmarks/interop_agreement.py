"""How closely PyTorch's twin of each tinyae module agrees with it: the largest differences.

A script, not a test (the tests assert the tolerances; this prints what was measured). For
every layer case and whole model of ``tests/test_interop.py``, in float64 and float32, over
train and eval mode, it prints the largest absolute difference between tinyae and PyTorch:

* forward: the outputs;
* gradient: for a layer, the input gradient and every parameter gradient for the same
  upstream gradient; for a model, every parameter gradient of the loss (squared error,
  and the fused cross-entropy for the shallow and convolutional models; −ELBO with a
  fixed ε for the variational one);

each with, in brackets, the largest value it is measured against. Dropout in train mode
draws other masks in PyTorch, so a lone Dropout layer is measured in eval mode and a
model with Dropout in train mode with the masks held equal (as the tests do).

Run from the repository root: ``python benchmarks/interop_agreement.py`` (needs
``pip install -e ".[torch,test]"``).
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_interop as T  # noqa: E402  (the cases the tests check)

import tinyae as ta  # noqa: E402
from tinyae import interop  # noqa: E402


def largest(pairs):
    """``(largest |a − b|, largest |b|)`` over pairs of arrays."""
    diff = scale = 0.0
    for a, b in pairs:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        diff = max(diff, float(np.max(np.abs(a - b), initial=0)))
        scale = max(scale, float(np.max(np.abs(b), initial=0)))
    return diff, scale


def layer_rows(dtype):
    for name, factory, shape, deterministic in T.CASES:
        forward, backward = [], []
        for mode in ("train", "eval") if deterministic else ("eval",):
            rng = np.random.default_rng(0)
            layer = factory(dtype, rng).train(mode == "train")
            net = interop.to_torch(layer)
            x = rng.permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape)
            x = x.astype(dtype)
            y = layer.forward(x)
            x_t = torch.tensor(x, requires_grad=True)
            y_t = net(x_t)
            g = rng.standard_normal(y.shape).astype(dtype)
            dx = layer.backward(g)
            (y_t * torch.from_numpy(g)).sum().backward()
            grads = interop.state_dict(layer, grads=True)
            forward.append((y_t.detach().numpy(), y))
            backward.append((x_t.grad.numpy(), dx))
            backward += [(p.grad.numpy(), grads[n]) for n, p in net.named_parameters()]
        yield name, largest(forward), largest(backward)


def model_rows(dtype):
    for index, model_id in enumerate(T.MODEL_IDS):
        forward, backward = [], []
        for mode in ("train", "eval"):
            name, model, X, deterministic = T._models(dtype)[index]
            model.train(mode == "train")
            net = interop.to_torch(model)
            if mode == "train" and not deterministic:
                T.hold_dropout_masks(torch, model, net, X)
            x_t, eps = torch.from_numpy(X), None
            if isinstance(model, ta.VariationalAutoencoder):
                e = np.random.default_rng(9).standard_normal((len(X), model.code_size))
                model.fixed_eps = e.astype(dtype)
                eps = torch.from_numpy(model.fixed_eps)
            for loss in ("mse", "bce") if name in ("shallow", "conv") else ("mse",):
                model.loss_and_backward(X, X, loss)
                net.zero_grad()
                T.torch_objective(torch, net, x_t, model, loss, eps).backward()
                grads = interop.state_dict(model, grads=True)
                backward += [(p.grad.numpy(), grads[n]) for n, p in net.named_parameters()]
            out = net(x_t, eps=eps)[0] if eps is not None else net(x_t)
            forward.append((out.detach().numpy(), model.forward(X)))
        yield model_id, largest(forward), largest(backward)


def main():
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    print(f"{'module':24s} {'dtype':8s} {'forward (max |value|)':>26s} "
          f"{'gradient (max |value|)':>26s}")
    for rows in (layer_rows, model_rows):
        for dtype in (np.float64, np.float32):
            for name, (f, fs), (b, bs) in rows(dtype):
                print(f"{name:24s} {np.dtype(dtype).name:8s} {f:14.2e} ({fs:8.3g}) "
                      f"{b:14.2e} ({bs:8.3g})")


if __name__ == "__main__":
    main()
