"""BatchNorm's and Dropout's numba kernels (``tinyae/backend/numba_norm.py``) give NumPy's bits.

The kernels round where the NumPy twin rounds and add the rows of each column in
NumPy's order, so the comparison is exact (``assert_array_equal``), not a tolerance:
forward in train and eval mode, the running statistics, the backward's ``dx``, ``dγ``
and ``dβ``, at 1 and 2 Numba threads, float32 and float64, odd shapes; inputs the
kernels were not written for (one feature, a strided view) go to the twin, and the
layer's gradient still passes the finite-difference check with the kernels in use.
"""

import numpy as np
import pytest

from tinyae import backend
from tinyae.backend import NumbaOps, NumpyOps
from tinyae.gradcheck import check_module
from tinyae.normalization import BatchNorm1d, BatchNorm2d, Dropout

numba = pytest.importorskip("numba", reason="Numba is not installed (pip install -e '.[fast]')")

DTYPES = [np.float64, np.float32]
BATCHES = [2, 7, 129]
FEATURES = [1, 3, 1000]
KERNELS = ["column_means", "center", "statistics", "scale_shift", "normalize_affine",
           "grad_sums", "grad_input", "dropout"]



@pytest.fixture
def ops(monkeypatch):
    """The numba backend's operations, kernels from the first call, counting kernel calls."""
    from tinyae.backend import numba_norm

    monkeypatch.setattr("tinyae.backend.numba_ops.LOAD_AFTER", 0)
    calls = {}
    for name in KERNELS:
        kernel = getattr(numba_norm, name)

        def counted(*args, _kernel=kernel, _name=name):
            calls[_name] = calls.get(_name, 0) + 1
            return _kernel(*args)

        monkeypatch.setattr(numba_norm, name, counted)
    numba_ops = NumbaOps(backend._import_kernels)
    numba_ops.calls = calls
    return numba_ops


def layer_state(F, dtype, rng):
    """γ, β, running mean and running variance of F features, not the defaults."""
    gamma = rng.normal(1.0, 0.5, F).astype(dtype)
    beta = rng.normal(0.0, 0.5, F).astype(dtype)
    running_mean = rng.normal(0.0, 1.0, F).astype(dtype)
    running_var = rng.uniform(0.5, 2.0, F).astype(dtype)
    return gamma, beta, running_mean, running_var


def both(f_numpy, f_numba, arrays):
    """Run each on its own copy of ``arrays`` (the running statistics change in place)."""
    a, b = [x.copy() for x in arrays], [x.copy() for x in arrays]
    return f_numpy(a), f_numba(b), a, b


def assert_same(got, want):
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M", BATCHES)
@pytest.mark.parametrize("F", FEATURES)
def test_train_forward_and_backward_are_numpys_bits(ops, threads, dtype, M, F, rng):
    x = (rng.normal(size=(M, F)) * 3 + 1).astype(dtype)
    dy = rng.normal(size=(M, F)).astype(dtype)
    state = layer_state(F, dtype, rng)
    run = {}
    for name, o in (("numpy", NumpyOps), ("numba", ops)):
        g, b, rm, rv = (s.copy() for s in state)
        y, x_hat, inv_std = o.batchnorm_forward(x, g, b, rm, rv, 1e-5, 0.1, True)
        dgamma, dbeta = np.full(F, np.nan, dtype), np.full(F, np.nan, dtype)
        dx = o.batchnorm_backward(dy, x_hat, g, inv_std, dgamma, dbeta, True)
        run[name] = (y, x_hat, inv_std, rm, rv, dx, dgamma, dbeta)
    assert_same(run["numba"], run["numpy"])
    assert not np.array_equal(run["numba"][3], state[2])          # the running mean moved
    assert not np.array_equal(run["numba"][4], state[3])          # and the variance
    expected = {} if F == 1 else {"column_means": 1, "center": 1, "statistics": 1,
                                  "scale_shift": 1, "grad_sums": 1, "grad_input": 1}
    assert ops.calls == expected                                   # F = 1: NumPy's pairwise sum


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M", [1, *BATCHES])
@pytest.mark.parametrize("F", FEATURES)
def test_eval_forward_and_backward_are_numpys_bits(ops, threads, dtype, M, F, rng):
    x = rng.normal(size=(M, F)).astype(dtype)
    dy = rng.normal(size=(M, F)).astype(dtype)
    state = layer_state(F, dtype, rng)
    run = {}
    for name, o in (("numpy", NumpyOps), ("numba", ops)):
        g, b, rm, rv = (s.copy() for s in state)
        y, x_hat, inv_std = o.batchnorm_forward(x, g, b, rm, rv, 1e-5, 0.1, False)
        dgamma, dbeta = np.full(F, np.nan, dtype), np.full(F, np.nan, dtype)
        dx = o.batchnorm_backward(dy, x_hat, g, inv_std, dgamma, dbeta, False)
        run[name] = (y, x_hat, inv_std, rm, rv, dx, dgamma, dbeta)
    assert_same(run["numba"], run["numpy"])
    np.testing.assert_array_equal(run["numba"][3], state[2])      # eval: statistics kept
    assert ops.calls == ({} if F == 1 else {"normalize_affine": 1, "grad_sums": 1})


def test_the_kernels_by_hand(rng):
    """Each kernel on a small batch against the formula written out in float64."""
    from tinyae.backend import numba_norm as K

    x = rng.normal(size=(5, 4))
    mean, inv_std = x.mean(axis=0), 1 / x.std(axis=0)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    means, sumsq = np.empty(4), np.empty(4)
    K.column_means(x, 5.0, means)
    np.testing.assert_allclose(means, x.sum(axis=0) / 5, rtol=1e-14)
    x_hat, y = np.empty_like(x), np.empty_like(x)
    K.center(x, mean, x_hat, sumsq)
    np.testing.assert_allclose(sumsq, ((x - mean) ** 2).sum(axis=0), rtol=1e-13)
    running_mean, running_var, got_inv_std = np.full(4, 2.0), np.full(4, 3.0), np.empty(4)
    K.statistics(sumsq, 5.0, 0.1, 0.9, 5 / 4, 1e-5, 1.0, mean, running_mean, running_var,
                 got_inv_std)
    np.testing.assert_allclose(sumsq, x.var(axis=0), rtol=1e-13)
    np.testing.assert_allclose(running_mean, 0.9 * 2 + 0.1 * mean, rtol=1e-14)
    np.testing.assert_allclose(running_var, 0.9 * 3 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(got_inv_std, 1 / np.sqrt(x.var(axis=0) + 1e-5), rtol=1e-14)
    K.scale_shift(x_hat, inv_std, gamma, beta, y)
    np.testing.assert_allclose(y, (x - mean) * inv_std * gamma + beta, rtol=1e-13, atol=1e-14)
    y2, x_hat2 = np.empty_like(x), np.empty_like(x)
    K.normalize_affine(x, mean, inv_std, gamma, beta, x_hat2, y2)
    np.testing.assert_allclose(y2, y, rtol=1e-13, atol=1e-14)
    dy, dgamma, dbeta, dx = rng.normal(size=(5, 4)), np.empty(4), np.empty(4), np.empty((5, 4))
    K.grad_sums(dy, x_hat, dgamma, dbeta)
    np.testing.assert_allclose(dgamma, (dy * x_hat).sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(dbeta, dy.sum(axis=0), rtol=1e-13)
    K.grad_input(dy, x_hat, dgamma, dbeta, 5.0, gamma, inv_std, dx)
    want = (dy - (x_hat * dgamma / 5 + dbeta / 5)) * gamma * inv_std
    np.testing.assert_allclose(dx, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("eps, momentum", [(1e-5, np.float64(0.1)), (np.float64(1e-5), 0.1)])
def test_a_numpy_scalar_goes_to_the_twin(ops, eps, momentum, rng):
    """``np.float64`` scalars with float32 arrays: NumPy computes in float64; the twin does it."""
    x = rng.normal(size=(8, 5)).astype(np.float32)
    state = layer_state(5, np.float32, rng)
    results = []
    for o in (NumpyOps, ops):
        g, b, rm, rv = (s.copy() for s in state)
        results.append((*o.batchnorm_forward(x, g, b, rm, rv, eps, momentum, True), rm, rv))
    assert_same(results[1], results[0])
    assert ops.calls == {}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_strided_and_mixed_inputs_go_to_the_twin(ops, dtype, training, rng):
    wide = rng.normal(size=(9, 14)).astype(dtype)
    x = wide[:, ::2]                                  # a strided view: not for the kernels
    F = x.shape[1]
    state = layer_state(F, dtype, rng)
    results = []
    for o in (NumpyOps, ops):
        g, b, rm, rv = (s.copy() for s in state)
        y, x_hat, inv_std = o.batchnorm_forward(x, g, b, rm, rv, 1e-5, 0.1, training)
        dgamma, dbeta = np.empty(F, dtype), np.empty(F, dtype)
        dx = o.batchnorm_backward(wide[:, 1::2], x_hat, g, inv_std, dgamma, dbeta, training)
        results.append((y, x_hat, rm, rv, dx, dgamma, dbeta))
    assert_same(results[1], results[0])
    assert ops.calls == {}
    other = np.float32 if dtype == np.float64 else np.float64   # γ of another dtype: the twin
    g, b, rm, rv = (s.copy() for s in state)
    ops.batchnorm_forward(np.ascontiguousarray(x), g.astype(other), b, rm, rv, 1e-5, 0.1,
                          training)
    assert ops.calls == {}


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_train_the_same_with_either_backend(dtype, rng, monkeypatch):
    """Steps of BatchNorm1d and BatchNorm2d, train then eval, under each backend: same bits."""
    monkeypatch.setattr("tinyae.backend.numba_ops.LOAD_AFTER", 0)
    before = backend.get_backend()
    batches = [(rng.normal(size=(16, 6)) * 2 + 1).astype(dtype) for _ in range(3)]
    images = [rng.normal(size=(4, 5, 3, 3)).astype(dtype) for _ in range(3)]
    runs = {}
    try:
        for name in ("numpy", "numba"):
            backend.set_backend(name)
            out = []
            for layer, xs in ((BatchNorm1d(6, dtype=dtype), batches),
                              (BatchNorm2d(5, dtype=dtype), images)):
                layer.params["gamma"][:] = np.linspace(0.5, 1.5, layer.num_features)
                for x in xs:
                    out += [layer.forward(x), layer.backward(np.sin(x)),
                            layer.grads["gamma"].copy(), layer.grads["beta"].copy()]
                out += [b.copy() for b in layer.buffers.values()]
                layer.eval()
                out += [layer.forward(xs[0]), layer.backward(xs[1])]
            runs[name] = out
    finally:
        backend.set_backend(before)
    assert_same(runs["numba"], runs["numpy"])


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_gradient_with_the_kernels_passes_the_finite_difference_check(training, rng,
                                                                      monkeypatch):
    monkeypatch.setattr("tinyae.backend.numba_ops.LOAD_AFTER", 0)
    before = backend.get_backend()
    backend.set_backend("numba")
    try:
        bn = BatchNorm1d(5)
        bn.params["gamma"][:] = rng.normal(1.0, 0.5, 5)
        bn.params["beta"][:] = rng.normal(size=5)
        bn.buffers["running_var"][:] = rng.uniform(0.5, 2.0, 5)
        bn.train(training)
        result = check_module(bn, rng.normal(size=(7, 5)) * 2 + 1)
    finally:
        backend.set_backend(before)
    assert result.passed, str(result)


def dropout_today(x, u, p):
    """Dropout as the layer computed it before the backend did: the reference bits."""
    mask = (u >= p).astype(x.dtype)
    mask /= 1 - p
    return x * mask, mask


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 1000), (129, 5)])
@pytest.mark.parametrize("p", [0.1, 0.5, 1 / 3, 0.7, 0.0])   # float32(0.7) < 0.7
def test_dropout_is_numpys_bits(ops, threads, dtype, shape, p, rng):
    x = rng.normal(size=shape).astype(dtype)
    u = rng.random(shape, dtype=dtype)
    # draws on and either side of p rounded to the dtype: where a comparison in
    # another precision would differ
    edge = np.array([p, np.nextafter(dtype(p), 0), np.nextafter(dtype(p), 1)], dtype)
    u.reshape(-1)[:3] = edge[:u.size]
    want = dropout_today(x, u, p)
    got_numpy = NumpyOps.dropout(x, u.copy(), p)
    got_numba = ops.dropout(x, u.copy(), p)
    assert_same(got_numpy, want)
    assert_same(got_numba, want)
    assert ops.calls == {"dropout": 1}
    strided = rng.normal(size=(shape[0], 2 * shape[1])).astype(dtype)[:, ::2]
    if not strided.flags.c_contiguous:                    # (1, 1) is contiguous anyway
        assert_same(ops.dropout(strided, u.copy(), p), dropout_today(strided, u, p))
        assert ops.calls == {"dropout": 1}                # the twin did it


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_dropout_layer_draws_what_it_drew_before(name, rng, monkeypatch):
    """Same seed, same Generator calls, same masks: today's layer under either backend."""
    monkeypatch.setattr("tinyae.backend.numba_ops.LOAD_AFTER", 0)
    before = backend.get_backend()
    backend.set_backend(name)
    try:
        layer = Dropout(0.25, seed=7)
        xs = [rng.normal(size=(9, 13)).astype(np.float32) for _ in range(3)]
        outs = [(layer.forward(x), layer.backward(x + 1)) for x in xs]
    finally:
        backend.set_backend(before)
    draws = np.random.default_rng(7)
    for x, (y, dx) in zip(xs, outs):
        y_want, mask = dropout_today(x, draws.random(x.shape, dtype=x.dtype), 0.25)
        np.testing.assert_array_equal(y, y_want)
        np.testing.assert_array_equal(dx, (x + 1) * mask)
