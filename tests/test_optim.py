"""Optimizers: one step against the written formula, and convergence on a quadratic."""

import numpy as np
import pytest

import tinyae as ta


def test_sgd_plain_step():
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    ta.SGD(lr=0.1).step([(p, g)])
    np.testing.assert_allclose(p, [1.0 - 0.05, -2.0 - 0.025])


def test_sgd_momentum_and_weight_decay_two_steps():
    p, g = np.array([1.0]), np.array([2.0])
    opt = ta.SGD(lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step([(p, g)])
    # g' = 2 + 0.5·1 = 2.5 ; v = 2.5 ; p = 1 - 0.25 = 0.75
    np.testing.assert_allclose(p, [0.75])
    opt.step([(p, g)])
    # g' = 2 + 0.375 = 2.375 ; v = 0.9·2.5 + 2.375 = 4.625 ; p = 0.75 - 0.4625
    np.testing.assert_allclose(p, [0.2875])


def test_sgd_nesterov_step():
    p, g = np.array([0.0]), np.array([1.0])
    opt = ta.SGD(lr=1.0, momentum=0.5, nesterov=True)
    opt.step([(p, g)])      # v = 1 ; step g + μv = 1.5
    opt.step([(p, g)])      # v = 1.5 ; step 1 + 0.75 = 1.75
    np.testing.assert_allclose(p, [-3.25])


def test_adam_first_two_steps_by_hand():
    p, g = np.array([1.0, 1.0]), np.array([0.1, -3.0])
    opt = ta.Adam(lr=0.01)
    opt.step([(p, g)])
    # step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr·sign(g)
    np.testing.assert_allclose(p, 1 - 0.01 * g / (np.abs(g) + 1e-8))
    g2 = np.array([0.3, 1.0])
    p_before = p.copy()
    opt.step([(p, g2)])
    m = 0.9 * 0.1 * g + 0.1 * g2
    v = 0.999 * 0.001 * g**2 + 0.001 * g2**2
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    np.testing.assert_allclose(p, p_before - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-12)


def test_adam_converges_on_a_convex_quadratic():
    # f(θ) = ½ (θ - c)ᵀ A (θ - c) with A positive definite; minimum at c
    rng = np.random.default_rng(0)
    M = rng.normal(size=(5, 5))
    A, c = M @ M.T + np.eye(5), rng.normal(size=5)
    theta, grad = np.zeros(5), np.zeros(5)
    opt = ta.Adam(lr=0.05)
    for _ in range(3000):
        grad[:] = A @ (theta - c)
        opt.step([(theta, grad)])
    np.testing.assert_allclose(theta, c, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_updates_are_in_place_and_keep_dtype(dtype):
    p = np.ones(3, dtype=dtype)
    g = np.full(3, 0.5, dtype=dtype)
    ref = p
    for opt in (ta.SGD(0.1, momentum=0.9), ta.Adam(0.1, weight_decay=0.1)):
        opt.step([(p, g)])
    assert ref is p and p.dtype == dtype and np.all(p < 1)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="learning rate must be positive"):
        ta.Adam(lr=0)
    with pytest.raises(ValueError, match="momentum"):
        ta.SGD(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov"):
        ta.SGD(lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta1"):
        ta.Adam(beta1=1.0)


def test_adamw_decays_weights_directly_then_takes_the_adam_step():
    W, gW = np.array([[2.0, -1.0]]), np.array([[0.5, 0.5]])
    b, gb = np.array([3.0]), np.array([0.5])
    opt = ta.optim.AdamW(lr=0.1, weight_decay=0.2)
    opt.step([(W, gW), (b, gb)])
    adam_step = 0.1 * 0.5 / (0.5 + 1e-8)
    # W (2-D) shrinks by 1 - lr·λ = 0.98 first; b (1-D) is not decayed by default
    np.testing.assert_allclose(W, [[2.0 * 0.98 - adam_step, -1.0 * 0.98 - adam_step]])
    np.testing.assert_allclose(b, [3.0 - adam_step])
    b2 = np.array([3.0])
    ta.optim.AdamW(lr=0.1, weight_decay=0.2, decay="all").step([(b2, gb)])
    np.testing.assert_allclose(b2, [3.0 * 0.98 - adam_step])


def test_adamw_differs_from_adam_with_l2():
    # L2 inside Adam is divided by sqrt(v): a weight with a big gradient is barely decayed
    p1, p2 = np.array([[1.0, 1.0]]), np.array([[1.0, 1.0]])
    g = np.array([[100.0, 0.0]])
    ta.Adam(lr=0.01, weight_decay=0.1).step([(p1, g)])
    ta.optim.AdamW(lr=0.01, weight_decay=0.1).step([(p2, g)])
    # AdamW: the weight with zero gradient only shrinks by lr·λ = 0.001 ...
    np.testing.assert_allclose(1 - p2[0, 1], 0.01 * 0.1)
    # ... while under Adam + L2 its gradient is λθ = 0.1, normalized by √v̂ to a full step
    np.testing.assert_allclose(1 - p1[0, 1], 0.01, rtol=1e-6)
