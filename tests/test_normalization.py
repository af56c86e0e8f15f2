"""BatchNorm, LayerNorm and Dropout: gradients, PyTorch's conventions, modes, saving, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.errors import ShapeError
from tinyae.gradcheck import check_model, check_module
from tinyae.normalization import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm


def randomize(layer, rng):
    for p in layer.params.values():
        p[...] = rng.normal(size=p.shape)
    return layer


def test_batchnorm_forward_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 16.0]])
    bn = BatchNorm1d(2, eps=0.0 + 1e-12)
    y = bn.forward(x)
    # feature 0: mean 3, biased var 8/3 ; feature 1: mean 12, biased var 8
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 3) / np.sqrt(8 / 3), rtol=1e-9)
    np.testing.assert_allclose(y[:, 1], (x[:, 1] - 12) / np.sqrt(8), rtol=1e-9)
    # running stats: momentum 0.1, the *unbiased* variance (N/(N-1) = 3/2)
    np.testing.assert_allclose(bn.buffers["running_mean"], [0.3, 1.2])
    np.testing.assert_allclose(bn.buffers["running_var"], [0.9 + 0.1 * 4.0, 0.9 + 0.1 * 12.0])


def test_batchnorm_eval_mode_is_the_affine_map_of_the_running_statistics(rng):
    bn = randomize(BatchNorm1d(3), rng)
    bn.buffers["running_mean"][:] = [1.0, -2.0, 0.5]
    bn.buffers["running_var"][:] = [4.0, 0.25, 1.0]
    x = rng.normal(size=(5, 3))
    y = bn.eval().forward(x)
    expected = (x - bn.buffers["running_mean"]) / np.sqrt(bn.buffers["running_var"] + bn.eps)
    np.testing.assert_allclose(y, expected * bn.params["gamma"] + bn.params["beta"])
    before = bn.buffers["running_mean"].copy()
    bn.forward(x)
    np.testing.assert_array_equal(bn.buffers["running_mean"], before)  # eval never updates


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm1d_gradients(mode, rng):
    bn = randomize(BatchNorm1d(4), rng)
    bn.buffers["running_var"][:] = rng.uniform(0.5, 2, 4)
    bn.train(mode == "train")
    report = check_module(bn, rng.normal(size=(6, 4)) * 3 + 1)
    assert report.passed, str(report)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm2d_gradients(mode, rng):
    bn = randomize(BatchNorm2d(3), rng)
    bn.train(mode == "train")
    report = check_module(bn, rng.normal(size=(2, 3, 4, 5)))
    assert report.passed, str(report)


def test_batchnorm2d_is_batchnorm1d_over_positions(rng):
    x = rng.normal(size=(3, 2, 4, 4))
    y2 = BatchNorm2d(2).forward(x)
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 2)
    y1 = BatchNorm1d(2).forward(rows).reshape(3, 4, 4, 2).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y2, y1)


@given(n=st.integers(2, 8), f=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_batchnorm_gradients_property(n, f, seed):
    rng = np.random.default_rng(seed)
    bn = randomize(BatchNorm1d(f), rng)
    report = check_module(bn, rng.normal(size=(n, f)) * rng.uniform(0.5, 3), seed=seed)
    assert report.passed, str(report)


@given(n=st.integers(1, 5), shape=st.sampled_from([(3,), (5,), (2, 3)]),
       seed=st.integers(0, 2**31))
def test_layernorm_gradients_property(n, shape, seed):
    rng = np.random.default_rng(seed)
    ln = randomize(LayerNorm(shape), rng)
    report = check_module(ln, rng.normal(size=(n, *shape)) * 2, seed=seed)
    assert report.passed, str(report)


def test_layernorm_normalizes_each_sample(rng):
    x = rng.normal(size=(4, 7)) * 5 + 3
    y = LayerNorm(7).forward(x)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-4)


def test_dropout_train_and_eval(rng):
    drop = Dropout(0.25, seed=1)
    x = np.ones((200, 50))
    y = drop.forward(x)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75)         # inverted scaling
    dx = drop.backward(np.full_like(x, 2.0))
    np.testing.assert_array_equal(dx != 0, kept)           # same mask in backward
    np.testing.assert_array_equal(drop.eval().forward(x), x)


def test_dropout_gradient_with_the_mask_held(rng):
    drop = Dropout(0.5, seed=3)
    report = check_module(drop, rng.normal(size=(4, 6)))  # the checker holds the mask
    assert report.passed, str(report)
    assert drop.hold_noise is False                        # ... and lets go afterwards
    x = rng.normal(size=(4, 6))
    assert drop.forward(x).tobytes() != drop.forward(x).tobytes()  # fresh masks again


def test_same_seed_same_masks():
    a, b = Dropout(0.3, seed=5), Dropout(0.3, seed=5)
    x = np.ones((10, 10))
    assert a.forward(x).tobytes() == b.forward(x).tobytes()


def test_deep_autoencoder_with_all_of_them_passes_the_gradient_check(rng):
    drop = Dropout(0.2, seed=0)
    encoder = [ta.Dense(10, 8, seed=1), BatchNorm1d(8), ta.ReLU(), drop,
               ta.Dense(8, 3, seed=2), LayerNorm(3)]
    decoder = [ta.Dense(3, 8, seed=3), BatchNorm1d(8), ta.Tanh(), ta.Dense(8, 10, seed=4),
               ta.Sigmoid()]
    model = ta.Autoencoder(encoder, decoder)
    X = rng.random((6, 10))
    model.train()
    report = check_model(model, X, "bce")
    assert report.passed, str(report)
    assert "encoder.1.gamma" in [r.name for r in report.rows]


def test_running_statistics_are_saved_and_restored(tmp_path, rng):
    model = ta.Autoencoder([ta.Dense(6, 4), BatchNorm1d(4), ta.ReLU()],
                           [ta.Dense(4, 6), ta.Sigmoid()])
    model.fit(rng.random((40, 6)), epochs=3, verbose=0)
    loaded = ta.load(model.save(tmp_path / "bn.npz"))
    np.testing.assert_array_equal(loaded.encoder[1].buffers["running_var"],
                                  model.encoder[1].buffers["running_var"])
    assert not loaded.training
    X = rng.random((5, 6))
    assert loaded.reconstruct(X).tobytes() == model.reconstruct(X).tobytes()


def test_bad_input():
    with pytest.raises(ShapeError, match="at least 2 values per feature"):
        BatchNorm1d(3).forward(np.ones((1, 3)))
    with pytest.raises(ShapeError, match="at least 2 values"):
        BatchNorm2d(3).forward(np.ones((1, 3, 1, 1)))
    BatchNorm1d(3).eval().forward(np.ones((1, 3)))  # fine in eval mode
    with pytest.raises(ShapeError, match="expected 3 input features, got 4"):
        BatchNorm1d(3).forward(np.ones((2, 4)))
    with pytest.raises(ShapeError, match="expected 3 channels, got 2"):
        BatchNorm2d(3).forward(np.ones((2, 2, 4, 4)))
    with pytest.raises(ShapeError, match="expected input of shape"):
        LayerNorm(5).forward(np.ones((2, 4)))
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"probability in \[0, 1\)"):
            Dropout(p)
