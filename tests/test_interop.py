"""tinyae and PyTorch: the twins give the same numbers, and weights cross in safetensors files.

Agreement, for every layer and whole model: the PyTorch twin's output, input gradient and
parameter gradients equal tinyae's within ``1e-12·max(1, largest |value|)`` in float64 and
``1e-5·largest |value|`` in float32, in train and eval mode wherever both are deterministic
(Dropout's masks are random: in train mode only the rule they follow is compared).
Round trips tinyae -> PyTorch -> tinyae give bit-identical parameters and running
statistics. The tests that need PyTorch or safetensors skip, saying so, when those are
not installed; the ones that check tinyae works without them always run.
"""

import json
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae import interop
from tinyae.cli import main
from tinyae.errors import ModelFileError
from tinyae.interop import MissingDependencyError, NoTwinError

REPO = Path(__file__).resolve().parents[1]
WHY = "needs {} (the CPU build of torch==2.13.0 and safetensors: pip install -e '.[torch]')"


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason=WHY.format("PyTorch"))


@pytest.fixture(scope="module")
def st_numpy():
    pytest.importorskip("safetensors", reason=WHY.format("safetensors"))
    import safetensors.numpy
    return safetensors.numpy


@pytest.fixture(scope="module")
def st_torch(torch, st_numpy):
    import safetensors.torch
    return safetensors.torch


def assert_agree(got, want, dtype, what="", scale=None):
    """``got`` (PyTorch) equals ``want`` (tinyae) within the float64 or float32 tolerance.

    The tolerance is relative to ``scale``, by default the largest ``|want|``; gradients
    pass the largest entry of the whole gradient, as :mod:`tinyae.gradcheck` does, because
    a gradient that is zero in exact arithmetic (a bias before BatchNorm) is rounding noise.
    """
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shapes {got.shape} and {want.shape}"
    if scale is None:
        scale = float(np.max(np.abs(want), initial=0.0))
    diff = float(np.max(np.abs(got - want), initial=0.0))
    tol = 1e-12 * max(1.0, scale) if np.dtype(dtype) == np.float64 else 1e-5 * scale
    assert diff <= tol, f"{what}: largest difference {diff:.3g} > {tol:.3g}"


def bit_identical(a, b):
    a, b = interop.state_dict(a), interop.state_dict(b)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].tobytes() == b[name].tobytes(), f"{name} differs"


# ----- the layers, one by one --------------------------------------------------------------

def _layer_cases():
    """(id, factory(dtype, rng), input shape, deterministic in train mode)."""
    return [
        ("Dense", lambda d, r: ta.Dense(5, 3, seed=r, dtype=d), (4, 5), True),
        ("ReLU", lambda d, r: ta.ReLU(), (4, 6), True),
        ("LeakyReLU", lambda d, r: ta.LeakyReLU(0.2), (4, 6), True),
        ("Sigmoid", lambda d, r: ta.Sigmoid(), (4, 6), True),
        ("Tanh", lambda d, r: ta.Tanh(), (4, 6), True),
        ("Identity", lambda d, r: ta.Identity(), (4, 6), True),
        ("Softmax", lambda d, r: ta.Softmax(), (4, 6), True),
        ("BatchNorm1d", lambda d, r: bn(ta.BatchNorm1d(6, momentum=0.3, dtype=d), r), (7, 6),
         True),
        ("BatchNorm2d", lambda d, r: bn(ta.BatchNorm2d(3, eps=1e-3, dtype=d), r), (4, 3, 5, 5),
         True),
        ("LayerNorm", lambda d, r: affine(ta.LayerNorm(6, dtype=d), r), (4, 6), True),
        ("LayerNorm2", lambda d, r: affine(ta.LayerNorm((3, 4), dtype=d), r), (4, 3, 4), True),
        ("Dropout", lambda d, r: ta.Dropout(0.3, seed=1), (50, 40), False),
        ("Conv2D", lambda d, r: ta.Conv2D(2, 3, 3, stride=2, padding=1, seed=r, dtype=d),
         (2, 2, 7, 6), True),
        ("Conv2D_rect", lambda d, r: ta.Conv2D(2, 3, (3, 2), stride=(1, 2), padding=(0, 1),
                                               seed=r, dtype=d), (2, 2, 6, 7), True),
        ("ConvTranspose2D", lambda d, r: ta.ConvTranspose2D(3, 2, 3, stride=2, padding=1,
                                                            output_padding=1, seed=r, dtype=d),
         (2, 3, 4, 5), True),
        ("MaxPool2D", lambda d, r: ta.MaxPool2D(2), (2, 3, 6, 6), True),
        ("MaxPool2D_overlap", lambda d, r: ta.MaxPool2D(3, stride=2), (2, 2, 7, 7), True),
        ("Upsample2D", lambda d, r: ta.Upsample2D((2, 3)), (2, 3, 3, 4), True),
        ("Flatten", lambda d, r: ta.Flatten(), (3, 2, 4, 4), True),
        ("Reshape", lambda d, r: ta.Reshape((2, 3, 4)), (3, 24), True),
    ]


def bn(layer, rng):
    """A BatchNorm whose γ, β and running statistics are not the defaults."""
    affine(layer, rng)
    layer.buffers["running_mean"][...] = rng.standard_normal(layer.num_features)
    layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, layer.num_features)
    return layer


def affine(layer, rng):
    for array in layer.params.values():
        array[...] = rng.standard_normal(array.shape)
    return layer


CASES = _layer_cases()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_layer_agrees_forward_and_backward(torch, case, mode, dtype):
    name, factory, shape, deterministic = case
    rng = np.random.default_rng(0)
    layer = factory(dtype, rng).train(mode == "train")
    net = interop.to_torch(layer)
    assert net.training == layer.training
    # distinct values, so max pooling has no ties (where its derivative is undefined)
    x = rng.permutation(np.linspace(-2, 2, int(np.prod(shape)))).reshape(shape).astype(dtype)
    y = layer.forward(x)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = net(x_t)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(g)
    (y_t * torch.from_numpy(g)).sum().backward()
    if not deterministic and mode == "train":
        # Dropout: other random masks, the same rule: each value is 0 or x / (1 − p)
        for out in (y, y_t.detach().numpy()):
            kept = out != 0
            assert_agree(out[kept], x[kept] / (1 - layer.p), dtype, "kept values")
            assert 0.15 < 1 - kept.mean() < 0.45
        return
    assert_agree(y_t.detach().numpy(), y, dtype, f"{name} output")
    assert_agree(x_t.grad.numpy(), dx, dtype, f"{name} input gradient")
    grads = interop.state_dict(layer, grads=True)
    for pname, p in net.named_parameters():
        assert_agree(p.grad.numpy(), grads[pname], dtype, f"{name} d{pname}")
    assert set(grads) == {n for n, _ in net.named_parameters()}
    state, state_t = interop.state_dict(layer), net.state_dict()
    for key in state:   # running statistics after one train-mode step
        if key.endswith("num_batches_tracked"):
            continue
        assert_agree(state_t[key].numpy(), state[key], dtype, f"{name} {key}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_layer_round_trips_bit_for_bit(torch, case):
    name, factory, _, _ = case
    for dtype in (np.float64, np.float32):
        layer = factory(dtype, np.random.default_rng(1))
        net = interop.to_torch(layer)
        assert set(net.state_dict()) == set(interop.state_dict(layer))
        back = interop.from_torch(net)
        assert type(back) is type(layer) and back.config() == {
            **layer.config(), **({"seed": 0} if name == "Dropout" else {})}
        bit_identical(back, layer)


@given(n_in=st.integers(1, 9), n_out=st.integers(1, 9), batch=st.integers(1, 6),
       activation=st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh", "identity"]),
       dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 2**16))
def test_dense_shapes_agree(torch, n_in, n_out, batch, activation, dtype, seed):
    rng = np.random.default_rng(seed)
    from tinyae.activations import get_activation
    model = ta.Sequential([ta.Dense(n_in, n_out, init="glorot", seed=rng, dtype=dtype),
                           get_activation(activation)])
    model.layers[0].params["b"][...] = rng.standard_normal(n_out)
    net = interop.to_torch(model)
    assert net[0].weight.shape == (n_out, n_in)       # PyTorch's (out, in) layout
    assert np.array_equal(net[0].weight.detach().numpy(), model.layers[0].params["W"].T)
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    g = rng.standard_normal((batch, n_out)).astype(dtype)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = net(x_t)
    (y_t * torch.from_numpy(g)).sum().backward()
    assert_agree(y_t.detach().numpy(), model.forward(x), dtype, "output")
    assert_agree(x_t.grad.numpy(), model.backward(g), dtype, "dx")
    assert_agree(net[0].weight.grad.numpy().T, model.layers[0].grads["W"], dtype, "dW")
    assert_agree(net[0].bias.grad.numpy(), model.layers[0].grads["b"], dtype, "db")
    bit_identical(interop.from_torch(net), model)


# ----- whole models --------------------------------------------------------------------------

def _digits(n, dtype):
    X, _ = ta.load_digits(dtype=dtype)
    return X[:n]


def _models(dtype):
    """(id, model, input batch, deterministic in train mode)."""
    X = _digits(12, dtype)
    deep_bn = ta.Autoencoder.deep([64, 24, 6], batchnorm=True, dropout=0.2, seed=3,
                                  dtype=dtype)
    deep_bn.fit(X, epochs=2, batch_size=4, verbose=0)     # running statistics not defaults
    conv = ta.Autoencoder.conv((1, 8, 8), channels=(3, 4), code=5, strides=(1, 2), seed=4,
                               dtype=dtype)
    wide = ta.Autoencoder(
        [ta.Conv2D(1, 4, 3, padding=1, seed=5, dtype=dtype), ta.BatchNorm2d(4, dtype=dtype),
         ta.LeakyReLU(0.1), ta.MaxPool2D(2), ta.Flatten(), ta.Dense(64, 6, seed=6, dtype=dtype),
         ta.LayerNorm(6, dtype=dtype), ta.Tanh()],
        [ta.Dense(6, 64, seed=7, dtype=dtype), ta.Reshape((4, 4, 4)), ta.Upsample2D(2),
         ta.Conv2D(4, 1, 3, padding=1, seed=8, dtype=dtype), ta.Sigmoid()],
        input_shape=(1, 8, 8))
    return [
        ("shallow", ta.Autoencoder.shallow(64, 16, seed=0, dtype=dtype), X, True),
        ("deep", ta.Autoencoder.deep([64, 32, 12, 4], hidden="tanh", seed=1, dtype=dtype), X,
         True),
        ("deep_batchnorm_dropout", deep_bn, X, False),
        ("conv", conv, X.reshape(-1, 1, 8, 8), True),
        ("conv_pool_norm", wide, X.reshape(-1, 1, 8, 8), True),
        ("variational", ta.VariationalAutoencoder.deep([64, 16, 3], beta=0.5, seed=2,
                                                       dtype=dtype), X, True),
    ]


MODEL_IDS = ["shallow", "deep", "deep_batchnorm_dropout", "conv", "conv_pool_norm",
             "variational"]


def torch_objective(torch, net, x, model, loss, eps=None):
    """The tinyae objective written in PyTorch: sum over features, mean over the batch."""
    N = x.shape[0]
    if isinstance(model, ta.VariationalAutoencoder):
        x_hat, mu, logvar = net(x, eps=eps)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum() / N
        return ((x_hat - x) ** 2).sum() / N + model.beta * kl
    if loss == "bce":   # the fused form: the logits, without the final Sigmoid
        logits = net.decoder[:-1](net.encoder(x))
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x, reduction="sum") / N
    return ((net(x) - x) ** 2).sum() / N


def hold_dropout_masks(torch, model, net, X):
    """Let both twins use the same Dropout masks: tinyae's, held, and multiplied in PyTorch.

    The two libraries draw different random masks, so a train-mode comparison of a model
    with Dropout fixes them: one tinyae forward draws the masks, ``hold_noise`` keeps them,
    and each ``nn.Dropout`` of the twin is replaced by a multiplication by the same mask.
    """
    model.forward(X)   # draws the masks (and moves the BatchNorm statistics: undone below)

    class TimesMask(torch.nn.Module):
        def __init__(self, mask):
            super().__init__()
            self.mask = torch.from_numpy(mask)

        def forward(self, x):
            return x * self.mask

    for part in ("encoder", "decoder"):
        for i, layer in enumerate(getattr(model, part).layers):
            if isinstance(layer, ta.Dropout):
                layer.hold_noise = True
                getattr(net, part)[i] = TimesMask(layer.mask)
    interop.load_state_dict(model, net.state_dict())


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("index", range(len(MODEL_IDS)), ids=MODEL_IDS)
def test_whole_models_agree_on_outputs_loss_and_gradients(torch, index, mode, dtype):
    name, model, X, deterministic = _models(dtype)[index]
    model.train(mode == "train")
    net = interop.to_torch(model)
    if mode == "train" and not deterministic:
        hold_dropout_masks(torch, model, net, X)
    x_t = torch.from_numpy(X)
    eps = None
    if isinstance(model, ta.VariationalAutoencoder):
        eps = np.random.default_rng(9).standard_normal((len(X), model.code_size)).astype(dtype)
        model.fixed_eps = eps
        eps = torch.from_numpy(eps)
    for loss in ("mse", "bce") if name in ("shallow", "conv") else ("mse",):
        J = model.loss_and_backward(X, X, loss)
        net.zero_grad()
        J_t = torch_objective(torch, net, x_t, model, loss, eps)
        J_t.backward()
        assert_agree(J_t.item(), J, dtype, f"{name} {loss} objective")
        grads = interop.state_dict(model, grads=True)
        scale = max(float(np.max(np.abs(g))) for g in grads.values())
        for pname, p in net.named_parameters():
            assert_agree(p.grad.numpy(), grads[pname], dtype, f"{name} {loss} d{pname}", scale)
    out = net(x_t, eps=eps)[0] if eps is not None else net(x_t)
    assert_agree(out.detach().numpy(), model.forward(X), dtype, f"{name} output")
    assert_agree(net.encoder(x_t).detach().numpy(), model.encoder.forward(X), dtype,
                 f"{name} encoder alone")
    state = interop.state_dict(model)
    for key, value in net.state_dict().items():   # running statistics moved the same way
        if key.endswith("num_batches_tracked"):    # PyTorch counts batches, tinyae does not
            continue
        assert_agree(value.numpy(), state[key], dtype, f"{name} {key}")


@pytest.mark.parametrize("index", range(len(MODEL_IDS)), ids=MODEL_IDS)
def test_whole_models_round_trip_bit_for_bit(torch, index):
    for dtype in (np.float64, np.float32):
        name, model, X, _ = _models(dtype)[index]
        net = interop.to_torch(model)
        back = interop.from_torch(net)
        assert type(back) is type(model) and repr(back) == repr(model)
        bit_identical(back, model)
        assert np.array_equal(back.reconstruct(X), model.reconstruct(X))
        # the copies are independent: training the twin leaves the tinyae model alone
        before = interop.state_dict(model)
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)
        after = interop.state_dict(model)
        assert all(np.array_equal(before[k], after[k]) for k in before)


def test_vae_keeps_heads_beta_and_seed(torch):
    vae = ta.VariationalAutoencoder.deep([64, 16, 3], beta=0.25, seed=7)
    net = interop.to_torch(vae)
    assert net.mu.weight.shape == (3, 16) and net.logvar.weight.shape == (3, 16)
    assert (net.beta, net.seed) == (0.25, 7)
    back = interop.from_torch(net)
    assert (back.beta, back.seed) == (0.25, 7)
    net.eval()   # eval mode without ε decodes the mean, as tinyae's reconstruct does
    X = _digits(5, np.float64)
    assert_agree(net(torch.from_numpy(X))[0].detach().numpy(), vae.reconstruct(X),
                 np.float64, "reconstruct")


def test_training_in_pytorch_then_bringing_back(torch):
    model = ta.Autoencoder.deep([64, 16, 4], batchnorm=True, seed=0)
    X = _digits(64, np.float64)
    net = interop.to_torch(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    for _ in range(5):
        opt.zero_grad()
        loss = ((net(torch.from_numpy(X)) - torch.from_numpy(X)) ** 2).sum() / len(X)
        loss.backward()
        opt.step()
    back = interop.from_torch(net.eval())
    assert not back.training
    assert not np.array_equal(back.encoder.layers[0].params["W"],
                              model.encoder.layers[0].params["W"])
    assert_agree(net(torch.from_numpy(X)).detach().numpy(), back.reconstruct(X), np.float64,
                 "after training in PyTorch")


# ----- safetensors files ---------------------------------------------------------------------

def test_export_needs_no_torch_and_loads_back_exactly(st_numpy, tmp_path):
    code = ("import sys, numpy as np, tinyae as ta\n"
            "m = ta.Autoencoder.deep([64, 8, 3], batchnorm=True, seed=1)\n"
            "m.fit(ta.load_digits()[0][:40], epochs=1, verbose=0)\n"
            f"m.export({str(tmp_path / 'm.safetensors')!r}); m.save({str(tmp_path / 'm.npz')!r})\n"
            "assert 'torch' not in sys.modules, 'export imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    model, again = ta.load(tmp_path / "m.npz"), ta.load(tmp_path / "m.safetensors")
    assert type(again) is ta.Autoencoder and not again.training
    assert again.config() == model.config()
    bit_identical(again, model)
    tensors = st_numpy.load_file(tmp_path / "m.safetensors")
    assert tensors.keys() == interop.state_dict(model).keys()
    assert tensors["encoder.0.weight"].shape == (8, 64)


@pytest.mark.parametrize("index", range(len(MODEL_IDS)), ids=MODEL_IDS)
def test_exported_files_load_in_pytorch_with_strict_names(torch, st_torch, index, tmp_path):
    from tinyae.bridge._torch_vae import VAE

    _, model, X, _ = _models(np.float32)[index]
    path = model.export(tmp_path / "model.safetensors")
    # a fresh PyTorch network (random weights) from the line in the file's metadata
    with __import__("safetensors").safe_open(path, framework="pt") as f:
        source = f.metadata()["pytorch"]
    net = eval(source, {"nn": torch.nn, "OrderedDict": OrderedDict, "VAE": VAE})
    result = net.load_state_dict(st_torch.load_file(path), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    net.eval()
    out = net(torch.from_numpy(X))
    out = out[0] if isinstance(out, tuple) else out   # the VAE decodes its means
    assert_agree(out.detach().numpy(), model.reconstruct(X), np.float32, "loaded in PyTorch")
    back = ta.import_safetensors(path)
    bit_identical(back, model)
    assert back.config() == model.config()


def test_a_pytorch_user_needs_no_tinyae(torch, st_numpy, tmp_path):
    model = ta.Autoencoder.deep([64, 16, 4], batchnorm=True, dropout=0.1, seed=2)
    model.fit(_digits(50, np.float64), epochs=1, verbose=0)
    path = model.export(tmp_path / "model.safetensors")
    X = _digits(6, np.float64)
    np.save(tmp_path / "x.npy", X)
    code = f"""
import sys
sys.modules["tinyae"] = None            # no tinyae here: only torch and safetensors
from collections import OrderedDict
import numpy as np, torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file
path = {str(path)!r}
with safe_open(path, framework="pt") as f:
    source = f.metadata()["pytorch"]
net = eval(source)                       # the line the file's metadata gives
net.load_state_dict(load_file(path), strict=True)
net.eval()
y = net(torch.from_numpy(np.load({str(tmp_path / 'x.npy')!r}))).detach().numpy()
np.save({str(tmp_path / 'y.npy')!r}, y)
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert_agree(np.load(tmp_path / "y.npy"), model.reconstruct(X), np.float64, "no tinyae")


def test_files_written_by_pytorch_load_into_tinyae(torch, st_torch, tmp_path):
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict(
        encoder=nn.Sequential(nn.Linear(64, 20), nn.BatchNorm1d(20), nn.ReLU(),
                              nn.Linear(20, 5)),
        decoder=nn.Sequential(nn.Linear(5, 20), nn.Tanh(), nn.Linear(20, 64), nn.Sigmoid())))
    X = torch.from_numpy(_digits(30, np.float32))
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(3):
        opt.zero_grad()
        ((net(X) - X) ** 2).sum().backward()
        opt.step()
    net.eval()
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(net.state_dict(), path)
    with pytest.raises(ModelFileError, match="into=model"):
        ta.import_safetensors(path)          # no architecture in the file
    model = ta.Autoencoder(
        [ta.Dense(64, 20, dtype=np.float32), ta.BatchNorm1d(20, dtype=np.float32), ta.ReLU(),
         ta.Dense(20, 5, dtype=np.float32)],
        [ta.Dense(5, 20, dtype=np.float32), ta.Tanh(), ta.Dense(20, 64, dtype=np.float32),
         ta.Sigmoid()])
    assert ta.import_safetensors(path, into=model) is model
    assert_agree(net(X).detach().numpy(), model.reconstruct(X.numpy()), np.float32, "loaded")
    bit_identical(model, interop.from_torch(net))


def test_exported_vae_and_conv_keep_their_settings(st_numpy, tmp_path):
    vae = ta.VariationalAutoencoder.deep([64, 8, 2], beta=0.3, seed=5, dtype=np.float32)
    sparse = ta.Autoencoder.shallow(64, 10, hidden="sigmoid", sparsity=(0.05, 3.0))
    conv = ta.Autoencoder.conv((1, 8, 8), channels=(2,), code=3, strides=(2,))
    for model in (vae, sparse, conv):
        back = ta.import_safetensors(model.export(tmp_path / "m.safetensors"))
        assert back.config() == model.config()
        bit_identical(back, model)


# ----- bad input -----------------------------------------------------------------------------

class Doubler(ta.Module):
    def forward(self, x):
        return 2 * x


def test_a_layer_without_a_twin_is_refused_by_name(tmp_path):
    model = ta.Autoencoder([ta.Dense(4, 2), Doubler()], [ta.Dense(2, 4)])
    for call in (interop.to_torch, interop.state_dict, interop.pytorch_source,
                 lambda m: m.export(tmp_path / "x.safetensors")):
        with pytest.raises(NoTwinError, match=r"Doubler \(at encoder.1\) has no PyTorch twin"):
            call(model)
    assert not (tmp_path / "x.safetensors").exists()
    with pytest.raises(NoTwinError, match="SoftmaxClassifier"):
        interop.to_torch(ta.SoftmaxClassifier(4, 3))
    sub = type("MyDense", (ta.Dense,), {})(3, 2)    # a subclass may compute something else
    with pytest.raises(NoTwinError, match="MyDense"):
        interop.to_torch(ta.Sequential([sub]))


def test_a_pytorch_layer_without_a_twin_is_refused_by_name(torch):
    nn = torch.nn

    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

    cases = [(nn.Sequential(nn.Linear(3, 4), nn.GELU()), r"GELU \(at 1\)"),
             (nn.Sequential(nn.Conv2d(1, 2, 3, dilation=2)), "Conv2d.*dilation"),
             (nn.Sequential(nn.Linear(3, 4, bias=False)), "bias=False"),
             (nn.Sequential(nn.BatchNorm1d(3, momentum=None)), "momentum=None"),
             (nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear")), "bilinear"),
             (nn.Sequential(OrderedDict(encoder=nn.Sequential(nn.Linear(3, 2)),
                                        decoder=nn.Sequential(Mine()))), r"Mine \(at decoder.0"),
             (nn.Sequential(OrderedDict(encoder=nn.Linear(3, 2), decoder=nn.Linear(2, 3))),
              "whose encoder is a Linear"),
             ]
    for net, message in cases:
        with pytest.raises(NoTwinError, match=message):
            interop.from_torch(net)
    with pytest.raises(TypeError, match="float32 or float64"):
        interop.from_torch(nn.Linear(3, 2).half())
    conv = nn.Sequential(OrderedDict(encoder=nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(),
                                                           nn.Linear(72, 3)),
                                     decoder=nn.Sequential(nn.Linear(3, 100))))
    with pytest.raises(ValueError, match=r"input_shape=\(C, H, W\)"):
        interop.from_torch(conv)
    assert interop.from_torch(conv, input_shape=(1, 8, 8)).input_shape == (1, 8, 8)


def test_mismatched_files_are_refused_and_nothing_is_loaded(st_numpy, tmp_path):
    deep = ta.Autoencoder.deep([64, 16, 4], seed=0)
    path = deep.export(tmp_path / "deep.safetensors")
    target = ta.Autoencoder.shallow(64, 16, seed=1)
    before = interop.state_dict(target)
    with pytest.raises(ModelFileError, match=r"missing \[\].*unexpected \['decoder.2.bias'"):
        ta.import_safetensors(path, into=target)
    state = interop.state_dict(ta.Autoencoder.shallow(64, 16, seed=2))
    state["encoder.0.weight"] = state["encoder.0.weight"].T.copy()      # (in, out): wrong
    st_numpy.save_file(state, tmp_path / "t.safetensors")
    with pytest.raises(ModelFileError, match=r"encoder.0.weight should be float64 of shape "
                                             r"\(16, 64\), got float64 \(64, 16\)"):
        ta.import_safetensors(tmp_path / "t.safetensors", into=target)
    state = {k: v.astype(np.float32) if v.dtype == np.float64 else v
             for k, v in interop.state_dict(target).items()}
    st_numpy.save_file(state, tmp_path / "f32.safetensors")
    with pytest.raises(ModelFileError, match="float32.*file's dtype"):
        ta.import_safetensors(tmp_path / "f32.safetensors", into=target)
    after = interop.state_dict(target)
    assert all(np.array_equal(before[k], after[k]) for k in before)   # untouched


def test_foreign_and_truncated_files_get_clear_errors(st_numpy, tmp_path):
    good = ta.Autoencoder.shallow(64, 8).export(tmp_path / "good.safetensors").read_bytes()
    cases = {
        "truncated": (good[:-10], "is truncated, corrupted"),
        "empty": (b"", "not a safetensors file"),
        "text": (b"hello, world, not weights", "not a safetensors file"),
        "pickle": (b"\x80\x04\x95" + b"\x00" * 20, "pickled Python object"),
        "zip": (b"PK\x03\x04" + b"\x00" * 30, "torch.save"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match=message):
            ta.load(path)
    with pytest.raises(FileNotFoundError):
        ta.import_safetensors(tmp_path / "missing.safetensors")
    model = ta.Autoencoder.shallow(64, 8)
    meta = {"format": "tinyae-safetensors", "format_version": "99", "class": "Autoencoder",
            "config": json.dumps(model.config())}
    st_numpy.save_file(interop.state_dict(model), tmp_path / "new.safetensors", metadata=meta)
    with pytest.raises(ModelFileError, match="newer tinyae"):
        ta.load(tmp_path / "new.safetensors")
    meta.update(format_version="1", config='{"encoder": "nonsense"}')
    st_numpy.save_file(interop.state_dict(model), tmp_path / "bad.safetensors", metadata=meta)
    with pytest.raises(ModelFileError, match="architecture in the metadata is invalid"):
        ta.load(tmp_path / "bad.safetensors")


def test_a_torch_save_file_is_never_unpickled(torch, tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)    # a pickle in a zip
    with pytest.raises(ModelFileError, match="never loads"):
        ta.import_safetensors(path)


def _run_without(module, code):
    """Run ``code`` in a Python where importing ``module`` fails as if it were not installed."""
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "MPLBACKEND": "Agg"})


def test_missing_torch_or_safetensors_is_a_clear_error(tmp_path):
    code = ("import tinyae as ta\n"
            "try:\n    ta.to_torch(ta.Dense(2, 3))\n"
            "except ta.interop.MissingDependencyError as e:\n    print(e); raise SystemExit(3)\n")
    result = _run_without("torch", code)
    assert result.returncode == 3, result.stderr
    assert "needs torch" in result.stdout and "pip install" in result.stdout
    assert "cpu" in result.stdout.lower()
    code = ("import tinyae as ta\n"
            f"try:\n    ta.Autoencoder.shallow(4, 2).export({str(tmp_path / 'a.safetensors')!r})\n"
            "except ImportError as e:\n    print(e); raise SystemExit(3)\n")
    result = _run_without("safetensors", code)
    assert result.returncode == 3, result.stderr
    assert "needs safetensors" in result.stdout and "pip install safetensors" in result.stdout
    assert not (tmp_path / "a.safetensors").exists()
    assert issubclass(MissingDependencyError, ImportError)


def test_import_tinyae_imports_neither_torch_nor_safetensors():
    code = ("import sys, tinyae\n"
            "tinyae.to_torch, tinyae.from_torch, tinyae.import_safetensors\n"
            "tinyae.interop.state_dict(tinyae.Autoencoder.shallow(4, 2))\n"
            "bad = [m for m in ('torch', 'safetensors') if sys.modules.get(m) is not None]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


# ----- tinyae export -------------------------------------------------------------------------

def test_cli_export_writes_a_file_pytorch_loads(st_numpy, tmp_path, capsys):
    model = ta.Autoencoder.deep([64, 12, 3], seed=4, dtype=np.float32)
    model.save(tmp_path / "model.npz")
    assert main(["export", str(tmp_path / "model.npz"), str(tmp_path / "out.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "out.safetensors" in out and "nn.Sequential(OrderedDict(" in out
    bit_identical(ta.load(tmp_path / "out.safetensors"), model)


@pytest.mark.parametrize("args,message", [
    (["model.npz", "out.pt"], "must end in .safetensors"),
    (["missing.npz", "out.safetensors"], "no model file at missing.npz"),
    (["notamodel.npz", "out.safetensors"], "not a tinyae model"),
    (["model.npz", "model.npz"], "must end in .safetensors"),
])
def test_cli_export_errors_are_one_line_with_exit_2(tmp_path, monkeypatch, capsys, args,
                                                    message):
    monkeypatch.chdir(tmp_path)
    ta.Autoencoder.shallow(64, 4).save("model.npz")
    np.savez("notamodel.npz", a=np.zeros(3))
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinyae export: error: ") and message in err, err
    assert err.count("\n") == 1, err
    assert not Path("out.safetensors").exists()


def test_cli_export_without_an_output_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["export", "model.npz"])
    err = capsys.readouterr().err
    assert raised.value.code == 2 and "required: output" in err and err.count("\n") == 1


def test_the_lesson_says_it_was_skipped_without_pytorch(tmp_path):
    code = ("import runpy; runpy.run_path('lessons/21_pytorch.py', run_name='__main__')")
    env = {**os.environ, "TINYAE_FAST": "1", "TINYAE_FIGURES": str(tmp_path),
           "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-c", "import sys; sys.modules['torch'] = None\n"
                             + code], capture_output=True, text=True, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr
    assert "Lesson 21 stops here" in result.stdout and "pip install" in result.stdout


def test_readme_four_lines_run_as_written(torch, st_torch, tmp_path, monkeypatch):
    import re
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Going on to PyTorch\n", 1)[1].split("\n## ", 1)[0]
    tinyae_part, pytorch_part, back_part = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(tinyae_part, "README.md", "exec"), ns)                   # 1. and 2.
    model = ns["model"]
    X = ta.load_digits()[0]
    np.save("x.npy", X)
    check = ("\nimport numpy as np, torch\nnet.eval()\n"
             "np.save('y.npy', net(torch.from_numpy(np.load('x.npy'))).detach().numpy())\n")
    subprocess.run([sys.executable, "-c", "import sys; sys.modules['tinyae'] = None\n"
                    + pytorch_part + check], check=True, cwd=tmp_path)    # 3., without tinyae
    diff = float(np.max(np.abs(np.load("y.npy") - model.reconstruct(X))))
    print(f"README: PyTorch's reconstructions differ from tinyae's by at most {diff:.1e}")
    assert diff < 1e-12
    exec(compile(back_part, "README.md", "exec"), ns)                     # 4.
    assert type(ns["model"]) is ta.Autoencoder and ns["model"] is not model
    bit_identical(ns["model"], model)
