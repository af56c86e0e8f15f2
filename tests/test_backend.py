"""Backends: the numba kernels agree with their NumPy twins, and choosing a backend works.

"Agree" means a norm-wise relative difference, ``max|a − b| / max|b|``, below
1e-12 in float64 and 1e-5 in float32 (the kernels may add in another order).
Tests that need Numba are skipped when it is not installed; CI installs the
``fast`` extra, so there they run.
"""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae import backend
from tinyae.gradcheck import THRESHOLD, check_loss, check_model, check_module

try:
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False

needs_numba = pytest.mark.skipif(
    not HAVE_NUMBA, reason="Numba is not installed (pip install -e '.[fast]')")

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}
# shape classes: batch 1, odd sizes, a single number, the training shape, a wide odd one
SHAPES = [(1, 7), (3, 5), (1, 1), (128, 256), (129, 785)]


def rel_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(b), initial=0.0), 1e-300)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


def assert_agree(a, b, dtype):
    assert np.shape(a) == np.shape(b)
    assert rel_diff(a, b) <= TOL[dtype], f"relative difference {rel_diff(a, b):.2e}"


@pytest.fixture(autouse=True)
def restore_backend(monkeypatch):
    # the kernels from the first call (in use, the NumPy twins run until LOAD_AFTER
    # numbers have gone through them, and these tests would compare NumPy with itself)
    monkeypatch.setattr("tinyae.backend.numba_ops.LOAD_AFTER", 0)
    before = backend.get_backend()
    yield
    backend.set_backend(before)


def on(name, f, *args):
    """``f(*args)`` computed with backend ``name``."""
    backend.set_backend(name)
    try:
        return f(*args)
    finally:
        backend.set_backend("numpy")


# ----- choosing a backend (no Numba needed) ----------------------------------------------

def test_import_does_not_import_numba():
    code = "import sys, tinyae; assert 'numba' not in sys.modules, 'numba was imported'"
    env = {k: v for k, v in __import__("os").environ.items() if k != "TINYAE_BACKEND"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_default_and_unknown_backend():
    assert backend.get_backend() == "numpy"
    assert backend.available_backends() == ["numpy", "numba"]
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        ta.set_backend("cuda")
    assert backend.get_backend() == "numpy"


def test_missing_numba_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)          # `import numba` now fails
    monkeypatch.delitem(sys.modules, "tinyae.backend.numba_kernels", raising=False)
    monkeypatch.delattr(ta.backend, "numba_kernels", raising=False)  # left by an earlier import
    with pytest.raises(ImportError, match=r"pip install -e '\.\[fast\]'") as info:
        ta.set_backend("numba")
    assert isinstance(info.value, backend.BackendUnavailableError)
    assert isinstance(info.value, ta.errors.TinyAEError)
    assert "pip install numba" in str(info.value)
    assert backend.get_backend() == "numpy"                  # unchanged after the failure


def test_environment_variable_chooses_the_backend():
    import os

    code = "import tinyae; print(tinyae.get_backend())"
    env = dict(os.environ, TINYAE_BACKEND="numpy")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "numpy"
    env["TINYAE_BACKEND"] = "fortran"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "TINYAE_BACKEND=fortran" in out.stderr


@pytest.mark.parametrize("value, hide_numba", [("cuda", False), ("numba", True)])
def test_a_bad_environment_backend_never_breaks_import_and_fails_in_one_line_at_use(
        value, hide_numba):
    """Issue 21 item 4: import works; the first use says what is wrong, in one line."""
    import os

    hide = "import sys; sys.modules['numba'] = None; " if hide_numba else ""
    env = dict(os.environ, TINYAE_BACKEND=value)
    imported = subprocess.run([sys.executable, "-c", hide + "import tinyae; print('imported')"],
                              env=env, capture_output=True, text=True)
    assert imported.returncode == 0 and imported.stdout.strip() == "imported", imported.stderr
    use = (hide + "import numpy as np, tinyae as ta\n"
           "try:\n    ta.Dense(3, 2).forward(np.ones((1, 3)))\n"
           "except ta.TinyAEError as exc:\n    print(exc)\n")
    used = subprocess.run([sys.executable, "-c", use], env=env, capture_output=True, text=True)
    message = used.stdout.strip()
    assert f"TINYAE_BACKEND={value}" in message and "\n" not in message, used.stderr
    if not hide_numba:      # the command line: exit code 2 and one line on stderr
        cli = subprocess.run([sys.executable, "-m", "tinyae", "train", "--epochs", "1"],
                             env=env, capture_output=True, text=True)
        lines = cli.stderr.strip().splitlines()
        assert cli.returncode == 2 and len(lines) == 1 and "TINYAE_BACKEND=cuda" in lines[0]


@needs_numba
def test_environment_variable_numba():
    import os

    code = "import tinyae; print(tinyae.get_backend())"
    env = dict(os.environ, TINYAE_BACKEND="numba")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "numba", out.stderr


# ----- the NumPy twins against the formulas written out ----------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_sigmoid_is_the_stable_formula_bit_for_bit(dtype, rng):
    z = (rng.standard_normal((50, 40)) * 30).astype(dtype)
    z[0, :4] = [0.0, -0.0, 1e4, -1e4]
    e = np.exp(-np.abs(z))
    s = 1 / (1 + e)
    expected = np.where(z >= 0, s, e * s)
    np.testing.assert_array_equal(backend.NumpyOps.sigmoid(z), expected)
    np.testing.assert_array_equal(ta.activations.sigmoid(z), expected)
    assert backend.NumpyOps.sigmoid(z).dtype == dtype


def test_numpy_adam_update_matches_the_textbook_formula(rng):
    p, g = rng.standard_normal(6), rng.standard_normal(6)
    m, v = rng.standard_normal(6), rng.random(6)
    p0, m0, v0 = p.copy(), m.copy(), v.copy()
    t, lr, b1, b2, eps = 3, 0.01, 0.9, 0.999, 1e-8
    backend.NumpyOps.adam_update(p, g, m, v, np.empty(6), b1, b2, eps, 0.0,
                                 lr / (1 - b1**t), np.sqrt(1 - b2**t))
    m1, v1 = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g**2
    np.testing.assert_allclose(m, m1, rtol=1e-15)
    np.testing.assert_allclose(v, v1, rtol=1e-15)
    m_hat, v_hat = m1 / (1 - b1**t), v1 / (1 - b2**t)
    np.testing.assert_allclose(p, p0 - lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-13)


# ----- numba against numpy, op by op -----------------------------------------------------

def _ops_cases(rng, shape, dtype):
    z = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = rng.random(shape).astype(dtype)
    a = backend.NumpyOps.sigmoid(z)
    t = np.tanh(z)
    return [
        ("relu", (z,)), ("relu_backward", (g, z)),
        ("leaky_relu", (z, 0.01)), ("leaky_relu_backward", (g, z, 0.01)),
        ("sigmoid", (z,)), ("sigmoid_backward", (g, a)),
        ("tanh", (z,)), ("tanh_backward", (g, t)),
        ("mse", (a, y)), ("bce_with_logits", (z, y)),
    ]


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_op_agrees(shape, dtype, rng):
    for name, args in _ops_cases(rng, shape, dtype):
        ref = on("numpy", getattr(backend, name), *args)
        got = on("numba", getattr(backend, name), *args)
        if isinstance(ref, tuple):                   # a loss: (value, array)
            assert got[0] == pytest.approx(ref[0], rel=TOL[dtype]), name
            ref, got = ref[1], got[1]
        assert got.dtype == ref.dtype == dtype, name
        assert_agree(got, ref, dtype)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_ops_fall_back_on_views_and_mixed_dtypes(dtype, rng):
    z = rng.standard_normal((6, 9)).astype(dtype)
    g = rng.standard_normal((9, 6)).astype(dtype).T          # a transposed view
    assert_agree(on("numba", backend.relu_backward, g, z), g * (z > 0), dtype)
    assert_agree(on("numba", backend.sigmoid, z.T), backend.NumpyOps.sigmoid(z.T), dtype)
    value, diff = on("numba", backend.mse, z, z.astype(np.float64) + 1)   # mixed dtypes
    assert value == pytest.approx(9.0) and np.allclose(diff, -1)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_agrees_over_many_steps(dtype, weight_decay, rng):
    shape = (33, 17)
    params = {n: rng.standard_normal(shape).astype(dtype) for n in ("numpy", "numba")}
    params["numba"][...] = params["numpy"]
    opts = {n: ta.Adam(lr=0.01, weight_decay=weight_decay) for n in params}
    for _ in range(20):
        g = rng.standard_normal(shape).astype(dtype)
        for name in params:
            on(name, opts[name].step, [(params[name], g)])
    assert_agree(params["numba"], params["numpy"], dtype)
    assert params["numba"].dtype == dtype


@needs_numba
def test_adam_is_bit_for_bit_in_float64(rng):
    p = {n: rng.standard_normal(50) for n in ("numpy", "numba")}
    p["numba"][...] = p["numpy"]
    opts = {n: ta.Adam(lr=0.003) for n in p}
    for _ in range(5):
        g = rng.standard_normal(50)
        for name in p:
            on(name, opts[name].step, [(p[name], g)])
    np.testing.assert_array_equal(p["numba"], p["numpy"])


# ----- every layer, forward and backward -------------------------------------------------

def _layers(dtype, n_in, n_out):
    return [ta.Dense(n_in, n_out, seed=1, dtype=dtype), ta.ReLU(), ta.LeakyReLU(0.1),
            ta.Sigmoid(), ta.Tanh(), ta.Identity()]


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 5), (7, 3), (128, 64)])
def test_every_layer_agrees(shape, dtype, rng):
    n, d = shape
    x = rng.standard_normal(shape).astype(dtype)
    for layer in _layers(dtype, d, 2 * d + 1):
        results = {}
        for name in ("numpy", "numba"):
            y = on(name, layer.forward, x)
            grad_out = np.ones_like(y) * np.linspace(-1, 1, y.size, dtype=dtype).reshape(y.shape)
            dx = on(name, layer.backward, grad_out)
            results[name] = (y, dx, {k: g.copy() for k, g in layer.grads.items()})
        (y0, dx0, g0), (y1, dx1, g1) = results["numpy"], results["numba"]
        assert_agree(y1, y0, dtype)
        assert_agree(dx1, dx0, dtype)
        for k in g0:
            assert_agree(g1[k], g0[k], dtype)


def value_and_grad(loss, pred, y):
    return loss.forward(pred, y), loss.backward().copy()


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_losses_agree(dtype, rng):
    z = (rng.standard_normal((5, 11)) * 4).astype(dtype)
    y = rng.random((5, 11)).astype(dtype)
    p = backend.NumpyOps.sigmoid(z)
    for loss, pred in [(ta.MSE(), p), (ta.BinaryCrossEntropy(), p),
                       (ta.BinaryCrossEntropyWithLogits(), z)]:
        v0, g0 = on("numpy", value_and_grad, loss, pred, y)
        v1, g1 = on("numba", value_and_grad, loss, pred, y)
        assert v1 == pytest.approx(v0, rel=TOL[dtype])
        assert_agree(g1, g0, dtype)


# ----- gradient checks on the numba backend ----------------------------------------------

@needs_numba
@pytest.mark.parametrize("module", [ta.Dense(5, 4, seed=0), ta.ReLU(), ta.LeakyReLU(0.2),
                                    ta.Sigmoid(), ta.Tanh()], ids=repr)
def test_gradcheck_modules_on_numba(module, rng):
    backend.set_backend("numba")
    assert check_module(module, rng.standard_normal((3, 5))).max_error < THRESHOLD


@needs_numba
def test_gradcheck_losses_on_numba(rng):
    backend.set_backend("numba")
    z, y = rng.standard_normal((4, 6)) * 3, rng.random((4, 6))
    for loss, pred in [(ta.MSE(), z), (ta.BinaryCrossEntropy(), 1 / (1 + np.exp(-z))),
                       (ta.BinaryCrossEntropyWithLogits(), z)]:
        assert check_loss(loss, pred, y).max_error < THRESHOLD, repr(loss)


@needs_numba
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_gradcheck_models_on_numba(loss, rng):
    backend.set_backend("numba")
    X = rng.random((5, 9))
    shallow = ta.Autoencoder.shallow(9, 4, hidden="sigmoid", seed=0)
    deep = ta.Autoencoder.deep([9, 7, 3], hidden="tanh", seed=1)
    deep_relu = ta.Autoencoder.deep([9, 6, 3], hidden="relu", code="relu", seed=2)
    for model in (shallow, deep, deep_relu):
        assert check_model(model, X, loss).max_error < THRESHOLD


# ----- training, and switching mid-session -----------------------------------------------

def _train(schedule, dtype=np.float64, seed=0):
    """Train a small model one epoch per entry of ``schedule`` (a backend name each)."""
    X = np.random.default_rng(seed).random((40, 12)).astype(dtype)
    model = ta.Autoencoder.deep([12, 8, 3], hidden="relu", code="relu", seed=seed, dtype=dtype)
    opt = ta.Adam(lr=0.01)
    losses = []
    for epoch, name in enumerate(schedule):
        backend.set_backend(name)
        history = model.fit(X, loss="mse", optimizer=opt, epochs=1, batch_size=16,
                            verbose=0, seed=epoch)
        losses.append(history.train_loss[-1])
    backend.set_backend("numpy")
    return model, losses


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_switching_backends_mid_training(dtype):
    ref, ref_losses = _train(["numpy"] * 4, dtype)
    mixed, mixed_losses = _train(["numpy", "numba", "numpy", "numba"], dtype)
    np.testing.assert_allclose(mixed_losses, ref_losses, rtol=100 * TOL[dtype])
    for (p0, _), (p1, _) in zip(ref.parameters(), mixed.parameters()):
        assert p1.dtype == dtype
        assert rel_diff(p1, p0) < 100 * TOL[dtype]


@needs_numba
def test_bce_training_agrees():
    X = np.random.default_rng(3).random((30, 10))
    runs = {}
    for name in ("numpy", "numba"):
        backend.set_backend(name)
        model = ta.Autoencoder.shallow(10, 4, seed=0)
        runs[name] = model.fit(X, loss="bce", epochs=3, batch_size=8, verbose=0).train_loss
    np.testing.assert_allclose(runs["numba"], runs["numpy"], rtol=1e-12)


# ----- the matmul ladder ------------------------------------------------------------------

LADDER = ["matmul_naive", "matmul_ikj", "matmul_ikj_parallel", "matmul_blocked"]


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel", LADDER)
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (1, 7, 5), (4, 4, 4), (5, 3, 9), (37, 70, 21)])
def test_ladder_matches_blas(kernel, m, k, n, dtype, rng):
    from tinyae.backend import numba_kernels as K

    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.full((m, n), np.nan, dtype=dtype)
    getattr(K, kernel)(a, b, out)
    assert_agree(out, a @ b, dtype)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_blocked_matmul_takes_transposed_views(dtype, rng):
    from tinyae.backend import numba_kernels as K

    a = rng.standard_normal((30, 13)).astype(dtype)
    b = rng.standard_normal((30, 9)).astype(dtype)
    out = np.empty((13, 9), dtype=dtype)
    K.matmul_blocked(a.T, b, out)               # the dW = xᵀ·dy product of a Dense layer
    assert_agree(out, a.T @ b, dtype)


@needs_numba
@given(m=st.integers(1, 20), k=st.integers(1, 20), n=st.integers(1, 20),
       seed=st.integers(0, 2**16))
def test_blocked_matmul_any_shape(m, k, n, seed):
    from tinyae.backend import numba_kernels as K

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    assert_agree(K.matmul_blocked(a, b, np.empty((m, n))), a @ b, np.float64)


def test_dense_can_skip_the_input_gradient(rng):
    layer = ta.Dense(6, 4, seed=0)
    x, dy = rng.standard_normal((5, 6)), rng.standard_normal((5, 4))
    layer.forward(x)
    dx = layer.backward(dy)
    dW, db = layer.grads["W"].copy(), layer.grads["b"].copy()
    layer.grads["W"][...] = 0
    assert layer.backward(dy, input_grad=False) is None
    np.testing.assert_array_equal(layer.grads["W"], dW)       # dW, db as before
    np.testing.assert_array_equal(layer.grads["b"], db)
    np.testing.assert_allclose(dx, dy @ layer.params["W"].T, rtol=1e-12)


@needs_numba
def test_numba_loads_only_once_the_work_would_pay_for_it():
    code = """
import sys
import numpy as np
import tinyae as ta
from tinyae.backend import numba_ops

numba_ops.LOAD_AFTER = 300_000
ta.set_backend("numba")
X, _ = ta.load_digits()
model = ta.Autoencoder.shallow(64, 16, seed=0)
model.fit(X[:256], epochs=1, batch_size=64, verbose=0)   # about 40,000 numbers
assert "numba" not in sys.modules, "a small run imported numba"
z = np.linspace(-1, 1, 300_000)
np.testing.assert_array_equal(ta.backend.relu(z), np.maximum(z, 0))
assert "numba" in sys.modules, "the kernels were not loaded once the work passed LOAD_AFTER"
"""
    env = {k: v for k, v in __import__("os").environ.items() if k != "TINYAE_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_numpy_twins_run_until_the_kernels_pay(dtype, monkeypatch, rng):
    from tinyae.backend import numba_ops

    monkeypatch.setattr(numba_ops, "LOAD_AFTER", 1000)
    monkeypatch.setattr(numba_ops, "_work", 0)
    monkeypatch.setattr(numba_ops, "_kernels", None)
    ops = numba_ops.NumbaOps(lambda: pytest.fail("the kernels were loaded too early"))
    z = rng.standard_normal((9, 11)).astype(dtype)                     # 99 entries
    for _ in range(5):
        np.testing.assert_array_equal(ops.relu(z), np.maximum(z, 0))
        np.testing.assert_array_equal(ops.sigmoid(z), backend.NumpyOps.sigmoid(z))
    assert numba_ops._work == 990


def test_sequential_skips_the_first_layers_input_gradient(rng):
    x = rng.standard_normal((5, 6))
    for first in (ta.Dense(6, 4, seed=0), ta.Dropout(0.5, seed=0)):
        layers = [first, ta.Dense(6 if first.params == {} else 4, 3, seed=1), ta.ReLU()]
        net = ta.Sequential(layers)
        dy = rng.standard_normal(net.forward(x).shape)
        dx = net.backward(dy)
        grads = [g.copy() for _, _, g in net.named_parameters()]
        for _, _, g in net.named_parameters():
            g[...] = 0
        assert net.backward(dy, input_grad=False) is None
        for (_, _, g), before in zip(net.named_parameters(), grads):
            np.testing.assert_array_equal(g, before)
        assert dx.shape == x.shape


def test_training_skips_checks_after_the_first_batch_only(rng):
    from tinyae import _validate

    seen = []

    class Spy(ta.ReLU):
        def forward(self, z):
            seen.append(_validate._trusted)
            return super().forward(z)

    model = ta.Autoencoder([ta.Dense(6, 3, seed=0), Spy()], [ta.Dense(3, 6, seed=1)])
    model.fit(rng.random((40, 6)), epochs=2, batch_size=10, verbose=0)
    assert seen == [False] + [True] * 7          # 4 batches an epoch; evaluate: none here
    assert _validate._trusted is False
    with pytest.raises(ta.errors.ShapeError, match="expected 3 input features"):
        ta.Autoencoder([ta.Dense(6, 4, seed=0)], [ta.Dense(3, 6, seed=1)]).fit(
            rng.random((40, 6)), epochs=1, batch_size=10, verbose=0)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay", ["weights", "all"])
def test_adamw_agrees_over_many_steps(dtype, decay, rng):
    # a matrix (always decayed) and an odd-sized vector (decayed only with decay="all")
    shapes = [(33, 17), (7,)]
    params = {n: [rng.standard_normal(s).astype(dtype) for s in shapes]
              for n in ("numpy", "numba")}
    for a, b in zip(params["numba"], params["numpy"]):
        a[...] = b
    opts = {n: ta.optim.AdamW(lr=0.01, weight_decay=0.3, decay=decay) for n in params}
    for _ in range(20):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        for name in params:
            on(name, opts[name].step, list(zip(params[name], grads)))
    for a, b in zip(params["numba"], params["numpy"]):
        if dtype == np.float64:
            np.testing.assert_array_equal(a, b)       # the same operations in the same order
        assert_agree(a, b, dtype)


def test_adamw_decay_is_the_textbook_formula(rng):
    # θ ← (1 − lr·λ)·θ, then Adam's step on the plain gradient (first step: m̂ = g, v̂ = g²)
    p, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    expected = (1 - 0.01 * 0.5) * p - 0.01 * g / (np.abs(g) + 1e-8)
    ta.optim.AdamW(lr=0.01, weight_decay=0.5).step([(p, g)])
    np.testing.assert_allclose(p, expected, rtol=1e-12)
