"""The dense training step's multi-tensor kernels (issue 23): Adam on every parameter in one
call, and the one-pass check that the gradients are finite.

* ``backend.adam_update_multi`` gives, with either backend, the bits of
  ``backend.adam_update`` called parameter by parameter (the step before issue 23);
* ``backend.all_finite`` finds a NaN or an infinity wherever it is, and only then;
* ``Adam.step`` keeps its moments in flat buffers whose pieces are the slots of
  ``state``, and its checkpoints, a model that grows, ``load_state_dict`` and
  ``step(pairs)`` called directly still give the bits of the per-parameter step;
* ``fit`` raises :class:`DivergenceError` for a non-finite loss or gradient before any
  weight moves.

Numba's tests run at 1 and 2 threads (the kernels are serial: the result must not
depend on it) and are skipped when Numba is not installed.
"""

import importlib.util

import numpy as np
import pytest

import tinyae as ta
from tinyae import backend
from tinyae.backend.numpy_ops import NumpyOps
from tinyae.errors import DivergenceError

HAVE_NUMBA = importlib.util.find_spec("numba") is not None

needs_numba = pytest.mark.skipif(
    not HAVE_NUMBA, reason="Numba is not installed (pip install -e '.[fast]')")

DTYPES = [np.float64, np.float32]
BACKENDS = ["numpy", pytest.param("numba", marks=needs_numba)]
# odd sizes around SIMD widths and chunks, a single number, non-square matrices
SHAPE_SETS = [[(1,)], [(7,), (1, 1)], [(1023,), (33, 31), (65537,)], [(5, 3), (3,), (3, 5)]]


@pytest.fixture(autouse=True)
def restore_backend():
    before = backend.get_backend()
    yield
    backend.set_backend(before)



def adam_problem(shapes, dtype, rng):
    """Parameters, gradients and (flat) moments, as after a few steps of training."""
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [rng.standard_normal(s).astype(dtype) * 0.1 for s in shapes]
    total = sum(p.size for p in params)
    m = (rng.standard_normal(total) * 0.01).astype(dtype)
    v = (rng.random(total) * 1e-4).astype(dtype)
    return params, grads, m, v


HYPER = dict(beta1=0.9, beta2=0.999, eps=1e-8, step_size=1e-3 / (1 - 0.9 ** 3),
             sqrt_c2=float(np.sqrt(1 - 0.999 ** 3)))


def per_parameter(params, grads, m, v, weight_decay, decays):
    """The reference: NumpyOps.adam_update on each parameter with its piece of m and v."""
    params, m, v = [p.copy() for p in params], m.copy(), v.copy()
    start = 0
    for p, g, decay in zip(params, grads, decays):
        piece = slice(start, start + p.size)
        NumpyOps.adam_update(p, g, m[piece].reshape(p.shape), v[piece].reshape(p.shape),
                             np.empty_like(p), weight_decay=weight_decay, decay=decay, **HYPER)
        start += p.size
    return params, m, v


def multi(name, params, grads, m, v, weight_decay, decays):
    backend.set_backend(name)
    params, m, v = [p.copy() for p in params], m.copy(), v.copy()
    backend.adam_update_multi(params, grads, m, v, np.empty_like(m), weight_decay=weight_decay,
                              decays=decays, **HYPER)
    return params, m, v


def assert_same_bits(got, want):
    for a, b in zip(got[0] + [got[1], got[2]], want[0] + [want[1], want[2]]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", SHAPE_SETS, ids=str)
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_update_multi_is_the_per_parameter_step(threads, name, dtype, shapes,
                                                     weight_decay, rng):
    params, grads, m, v = adam_problem(shapes, dtype, rng)
    decays = [0.999 if i % 2 else 1.0 for i in range(len(params))]    # AdamW on some
    want = per_parameter(params, grads, m, v, weight_decay, decays)
    got = multi(name, params, grads, m, v, weight_decay, decays)
    assert_same_bits(got, want)
    assert all(not np.array_equal(a, b) for a, b in zip(got[0], params))   # it did update


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_multi_falls_back_for_strided_or_mixed_inputs(threads, dtype, rng):
    params, grads, m, v = adam_problem([(6, 5), (5,)], dtype, rng)
    strided = [np.asfortranarray(grads[0]), grads[1]]          # not C-contiguous
    want = per_parameter(params, grads, m, v, 0.0, [1.0, 1.0])
    assert_same_bits(multi("numba", params, strided, m, v, 0.0, [1.0, 1.0]), want)
    other = [grads[0], grads[1].astype(np.float32 if dtype == np.float64 else np.float64)]
    got = multi("numba", params, other, m, v, 0.0, [1.0, 1.0])   # a gradient of another dtype
    want = per_parameter(params, other, m, v, 0.0, [1.0, 1.0])
    assert_same_bits(got, want)


# ----- all_finite ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", SHAPE_SETS, ids=str)
def test_all_finite_finds_every_nan_and_inf(threads, name, dtype, shapes, rng):
    backend.set_backend(name)
    arrays = [(rng.standard_normal(s) * 1e30).astype(dtype) for s in shapes]
    huge = np.finfo(dtype).max
    arrays[-1].reshape(-1)[-1] = huge                       # finite, however large
    assert backend.all_finite(arrays) is True
    for k, a in enumerate(arrays):
        for where in sorted({0, a.size // 2, a.size - 1}):
            for bad in (np.nan, np.inf, -np.inf):
                planted = [b.copy() for b in arrays]
                planted[k].reshape(-1)[where] = bad
                assert backend.all_finite(planted) is False, (k, where, bad)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_finite_falls_back_for_strided_or_mixed_arrays(dtype, rng):
    backend.set_backend("numba")
    a = rng.standard_normal((9, 4)).astype(dtype)
    b = rng.standard_normal(5).astype(np.float32)
    for arrays in ([a.T], [a, b], [a[::2]]):
        assert backend.all_finite(arrays) is True
        arrays[0][1, 0] = np.nan
        assert backend.all_finite(arrays) is False
        arrays[0][1, 0] = 0.0


# ----- Adam's flat state -----------------------------------------------------------------------

def per_parameter_adam(optimizer):
    """The same optimizer stepping parameter by parameter (the path before issue 23)."""
    optimizer._flat_state = lambda pairs: None
    return optimizer


def digits(n=96):
    return np.random.default_rng(3).random((n, 20)).astype(np.float32)


def model(seed=0):
    return ta.Autoencoder.deep([20, 12, 4], seed=seed, dtype=np.float32)


def params_of(m):
    return [p.copy() for p, _ in m.parameters()]


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("make", [lambda: ta.Adam(1e-2), lambda: ta.Adam(1e-2, weight_decay=0.1),
                                  lambda: ta.AdamW(1e-2, weight_decay=0.5),
                                  lambda: ta.AdamW(1e-2, decay="all")],
                         ids=["adam", "adam-l2", "adamw", "adamw-all"])
def test_adam_fit_gives_the_bits_of_the_per_parameter_step(name, make):
    backend.set_backend(name)
    fast, slow = model(), model()
    opt_fast, opt_slow = make(), per_parameter_adam(make())
    fast.fit(digits(), optimizer=opt_fast, epochs=3, batch_size=32, verbose=0)
    slow.fit(digits(), optimizer=opt_slow, epochs=3, batch_size=32, verbose=0)
    for a, b in zip(params_of(fast), params_of(slow)):
        np.testing.assert_array_equal(a, b)
    saved_fast = opt_fast.state_dict(fast.parameters())
    saved_slow = opt_slow.state_dict(slow.parameters())
    for sf, ss in zip(saved_fast["slots"], saved_slow["slots"]):
        assert sorted(sf) == sorted(ss) == ["m", "v"]
        for key in sf:
            np.testing.assert_array_equal(sf[key], ss[key])


def test_adam_slots_are_views_of_the_flat_buffers():
    net = model()
    opt = ta.Adam(1e-2)
    net.fit(digits(), optimizer=opt, epochs=1, batch_size=32, verbose=0)
    _, m, v, _ = opt._flat_state(net.parameters())
    assert m.size == net.n_parameters()
    for p, _ in net.parameters():
        slot = opt.state[id(p)]
        assert slot["m"].shape == p.shape and np.shares_memory(slot["m"], m)
        assert np.shares_memory(slot["v"], v)
        assert np.any(slot["m"] != 0)


def test_load_state_dict_then_steps_give_the_bits_of_an_unbroken_run():
    X = digits()
    whole, first = model(), model()
    opt_whole = ta.Adam(1e-2)
    whole.fit(X, optimizer=opt_whole, epochs=2, batch_size=32, verbose=0, seed=0)
    whole.fit(X, optimizer=opt_whole, epochs=1, batch_size=32, verbose=0, seed=1)
    opt_first = ta.Adam(1e-2)
    first.fit(X, optimizer=opt_first, epochs=2, batch_size=32, verbose=0, seed=0)
    saved = {"lr": opt_first.lr, "t": opt_first.t,
             "slots": [{k: a.copy() for k, a in s.items()}
                       for s in opt_first.state_dict(first.parameters())["slots"]]}
    opt_again = ta.Adam(1e-2)
    opt_again.load_state_dict(saved, first.parameters())
    first.fit(X, optimizer=opt_again, epochs=1, batch_size=32, verbose=0, seed=1)
    for a, b in zip(params_of(whole), params_of(first)):
        np.testing.assert_array_equal(a, b)


def test_a_parameter_added_later_keeps_the_others_moments(rng):
    """step(pairs) called by hand, first on two parameters, then on three."""
    a, b, c = (rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (3,), (5,)])
    ga, gb, gc = (rng.standard_normal(x.shape).astype(np.float32) for x in (a, b, c))
    fast, slow = ta.Adam(1e-2), per_parameter_adam(ta.Adam(1e-2))
    A = [x.copy() for x in (a, b, c)]
    B = [x.copy() for x in (a, b, c)]
    for step in range(4):
        k = 2 if step < 2 else 3
        fast.step(list(zip(A, (ga, gb, gc)))[:k])
        slow.step(list(zip(B, (ga, gb, gc)))[:k])
    for x, y in zip(A, B):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(A, B):
        np.testing.assert_array_equal(fast.state[id(x)]["m"], slow.state[id(y)]["m"])
        np.testing.assert_array_equal(fast.state[id(x)]["v"], slow.state[id(y)]["v"])


def test_step_takes_any_iterable_of_pairs(rng):
    a, g = rng.standard_normal(5), rng.standard_normal(5)
    A, B = a.copy(), a.copy()
    ta.Adam(1e-2).step(iter([(A, g)]))
    per_parameter_adam(ta.Adam(1e-2)).step([(B, g)])
    np.testing.assert_array_equal(A, B)
    assert not np.array_equal(A, a)


def test_a_parameter_listed_twice_takes_the_per_parameter_path(rng):
    a = rng.standard_normal(5)
    g = rng.standard_normal(5)
    fast, slow = ta.Adam(1e-2), per_parameter_adam(ta.Adam(1e-2))
    A, B = a.copy(), a.copy()
    fast.step([(A, g), (A, g)])
    slow.step([(B, g), (B, g)])
    np.testing.assert_array_equal(A, B)


def test_sgd_still_steps():
    net = model()
    before = params_of(net)
    net.fit(digits(), optimizer=ta.SGD(0.1, momentum=0.9), epochs=1, batch_size=32, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, params_of(net)))


# ----- the divergence check in fit -------------------------------------------------------------

def plant(net, at_batch, what):
    """Make batch ``at_batch`` (counted from 0) of ``net.fit`` non-finite in ``what``.

    ``what`` is ``"loss"`` or ``(k, value)``: gradient ``k`` of ``net.parameters()`` gets
    ``value`` in its last entry. Returns a dict that receives the parameters as they were
    when the bad batch began, i.e. after the last finite step.
    """
    seen = {"batch": 0}
    original = net.loss_and_backward

    def loss_and_backward(x, target, loss, backward=True):
        value = original(x, target, loss, backward)
        if backward:
            if seen["batch"] == at_batch:
                seen["before"] = params_of(net)
                if what == "loss":
                    value = np.nan
                else:
                    k, bad = what
                    net.parameters()[k][1].reshape(-1)[-1] = bad
            seen["batch"] += 1
        return value

    net.loss_and_backward = loss_and_backward
    return seen


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_divergence_is_caught_before_any_weight_moves(name, dtype, opt):
    backend.set_backend(name)
    n_params = len(ta.Autoencoder.deep([20, 12, 4]).parameters())
    cases = ["loss"] + [(k, bad) for k in range(n_params) for bad in (np.nan, np.inf, -np.inf)]
    for what in cases:
        net = ta.Autoencoder.deep([20, 12, 4], seed=0, dtype=dtype)
        seen = plant(net, at_batch=4, what=what)
        optimizer = ta.Adam(1e-2) if opt == "adam" else ta.SGD(0.1, momentum=0.9)
        with pytest.raises(DivergenceError, match="epoch 2, batch 2"):
            net.fit(digits().astype(dtype), optimizer=optimizer, epochs=3, batch_size=32,
                    verbose=0)
        assert seen["batch"] == 5, what
        for a, b in zip(params_of(net), seen["before"]):
            np.testing.assert_array_equal(a, b, err_msg=str(what))


# ----- the NumPy twins written in place keep the textbook's bits -------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_numpy_activations_give_the_formulas_bits(dtype, rng):
    """NumpyOps writes into its own results (out=); the numbers must be the formula's."""
    from tinyae.nn.activations import sigmoid

    z = (rng.standard_normal((33, 31)) * 30).astype(dtype)
    z.reshape(-1)[:8] = [0.0, -0.0, np.inf, -np.inf, 1e-40, -1e-40, 700, -700]
    g = rng.standard_normal(z.shape).astype(dtype)
    for x in (z, z[:, ::2]):                               # contiguous and strided
        a = NumpyOps.sigmoid(x)
        assert a.dtype == dtype
        assert a.tobytes() == sigmoid(x).tobytes()           # e = exp(−|z|); s·max(e, [z ≥ 0])
    a = sigmoid(z)
    assert NumpyOps.sigmoid_backward(g, a).tobytes() == (g * a * (1 - a)).tobytes()
    t = np.tanh(z)
    assert NumpyOps.tanh_backward(g, t).tobytes() == (g * (1 - t * t)).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("z_dtype", DTYPES)
def test_numpy_relu_backward_gives_the_bits_and_dtype_of_the_boolean_product(dtype, z_dtype,
                                                                              rng):
    z = rng.standard_normal((7, 9)).astype(z_dtype)
    z[0, :3] = [0.0, -0.0, np.nan]
    g = rng.standard_normal((7, 9)).astype(dtype)
    g[1, :2] = [np.inf, -np.inf]
    g[2, :2] = [-0.0, np.nan]
    for x, y in ((g, z), (g[:, ::2], z[:, ::2])):
        with np.errstate(invalid="ignore"):                 # inf · 0, in both
            want = x * (y > 0)
            got = NumpyOps.relu_backward(x, y)
        assert got.dtype == want.dtype
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("name", BACKENDS)
def test_a_gradient_of_the_wrong_shape_raises_instead_of_reading_past_it(name, rng):
    backend.set_backend(name)
    W = rng.standard_normal((4, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    short = rng.standard_normal((3, 3)).astype(np.float32)    # 9 numbers for W's 12
    with pytest.raises(ValueError):
        ta.Adam(1e-2).step([(W, short), (b, np.ones(3, np.float32))])
