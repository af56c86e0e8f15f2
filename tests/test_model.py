"""The Autoencoder: construction, gradient checks of whole models, modes and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.errors import DTypeError, NotFiniteError, ShapeError
from tinyae.gradcheck import check_model

HIDDEN = ["relu", "sigmoid", "tanh", "leaky_relu", "identity"]


def test_shallow_is_exactly_the_textbook_formula(rng):
    model = ta.Autoencoder.shallow(6, 3, hidden="sigmoid", output="sigmoid", seed=0)
    W1, b1 = model.encoder[0].params["W"], model.encoder[0].params["b"]
    W2, b2 = model.decoder[0].params["W"], model.decoder[0].params["b"]
    b1[:] = rng.normal(size=3)
    b2[:] = rng.normal(size=6)
    x = rng.random((4, 6))

    def s(z):
        return 1 / (1 + np.exp(-z))

    # column convention x̂ = σ(W2ᵀ·σ(W1ᵀ·x + b1) + b2), one sample at a time
    expected = np.stack([s(W2.T @ s(W1.T @ xi + b1) + b2) for xi in x])
    np.testing.assert_allclose(model.forward(x), expected, rtol=1e-12)


def test_deep_mirrors_the_sizes():
    model = ta.Autoencoder.deep([784, 256, 64])
    shapes = [p.shape for name, p, _ in model.named_parameters() if name.endswith("W")]
    assert shapes == [(784, 256), (256, 64), (64, 256), (256, 784)]
    assert model.code_size == 64
    assert model.n_parameters() == 2 * (784 * 256 + 256 * 64) + 256 + 64 + 256 + 784


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", [("sigmoid", "mse"), ("sigmoid", "bce"),
                                         ("identity", "mse")])
@pytest.mark.parametrize("kind", ["shallow", "deep"])
def test_every_combination_passes_the_gradient_check(hidden, output, loss, kind, rng):
    if kind == "shallow":
        model = ta.Autoencoder.shallow(12, 5, hidden=hidden, output=output, seed=1)
    else:
        model = ta.Autoencoder.deep([12, 7, 3], hidden=hidden, output=output, seed=1)
    report = check_model(model, rng.random((6, 12)), loss)
    assert report.passed, str(report)
    assert report.max_error < 1e-7


@given(batch=st.integers(1, 7), d=st.integers(1, 16), k=st.integers(1, 6),
       hidden=st.sampled_from(HIDDEN), output=st.sampled_from(["sigmoid", "identity"]),
       loss=st.sampled_from(["mse", "bce"]), deep=st.booleans(), seed=st.integers(0, 2**31))
def test_gradient_check_property(batch, d, k, hidden, output, loss, deep, seed):
    if output == "identity":
        loss = "mse"
    if deep:
        model = ta.Autoencoder.deep([d, k + 2, k], hidden=hidden, output=output, seed=seed)
    else:
        model = ta.Autoencoder.shallow(d, k, hidden=hidden, output=output, seed=seed)
    X = np.random.default_rng(seed).random((batch, d))
    report = check_model(model, X, loss)
    assert report.passed, str(report)


def test_the_documented_example_passes():
    model = ta.Autoencoder.shallow(64, 16, seed=0)
    X = np.random.default_rng(0).random((8, 64))
    report = ta.gradcheck.check_model(model, X, ta.MSE())
    assert report.passed and report.max_error < 1e-7
    assert "PASSED" in str(report) and "encoder.0.W" in str(report)


def test_fused_bce_gives_the_same_value_as_plain_bce(rng):
    model = ta.Autoencoder.shallow(10, 4, seed=0)
    X = rng.random((5, 10))
    fused = model.loss_and_backward(X, X, "bce", backward=False)
    plain = ta.BinaryCrossEntropy().forward(model.forward(X), X)
    assert fused == pytest.approx(plain, rel=1e-10)


def test_encode_decode_reconstruct_shapes_and_consistency(rng):
    model = ta.Autoencoder.deep([20, 8, 3], seed=0)
    X = rng.random((9, 20))
    Z = model.encode(X, batch_size=4)
    assert Z.shape == (9, 3)
    np.testing.assert_allclose(model.decode(Z), model.reconstruct(X))
    np.testing.assert_allclose(model.reconstruct(X), model.forward(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_keeps_its_dtype(dtype, rng):
    model = ta.Autoencoder.deep([10, 6, 2], dtype=dtype)
    X = rng.random((4, 10))  # float64 input is converted to the model's dtype
    assert model.forward(X).dtype == dtype
    model.loss_and_backward(X, X.astype(dtype), "bce")
    assert all(g.dtype == dtype for _, g in model.parameters())


def test_same_seed_bit_identical_models():
    a = ta.Autoencoder.deep([30, 10, 4], seed=7)
    b = ta.Autoencoder.deep([30, 10, 4], seed=7)
    c = ta.Autoencoder.deep([30, 10, 4], seed=8)
    pa, pb, pc = ([p.tobytes() for p, _ in m.parameters()] for m in (a, b, c))
    assert pa == pb and pa != pc


def test_train_and_eval_modes_propagate():
    model = ta.Autoencoder.deep([6, 4, 2])
    assert model.eval() is model
    assert all(not m.training for m in model.encoder.layers + model.decoder.layers)
    model.train()
    assert all(m.training for m in model.encoder.layers + model.decoder.layers)


def test_bad_input_to_the_model():
    model = ta.Autoencoder.shallow(64, 16)
    with pytest.raises(ShapeError, match="expected 64 input features, got 63"):
        model.forward(np.zeros((2, 63)))
    with pytest.raises(ShapeError, match="2-D"):
        model.encode(np.zeros(64))
    with pytest.raises(DTypeError):
        model.reconstruct(np.zeros((2, 64), dtype=np.uint8))
    X = np.zeros((2, 64))
    X[0, 5] = np.nan
    with pytest.raises(NotFiniteError, match="1 NaN"):
        model.fit(X, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="sizes"):
        ta.Autoencoder.deep([64])
    with pytest.raises(ValueError, match="unknown activation"):
        ta.Autoencoder.shallow(4, 2, hidden="swish")


def test_deep_with_batchnorm_and_dropout_only_on_hidden_layers(rng):
    model = ta.Autoencoder.deep([10, 8, 3], hidden="relu", code="relu", batchnorm=True,
                                dropout=0.2)
    kinds = [type(m).__name__ for m in model.encoder.layers]
    assert kinds == ["Dense", "BatchNorm1d", "ReLU", "Dropout", "Dense", "ReLU"]
    report = check_model(model.train(), rng.random((6, 10)), "bce")
    assert report.passed, str(report)


@pytest.mark.parametrize("shape,strides", [((1, 28, 28), None), ((1, 8, 8), (1, 2)),
                                           ((3, 7, 9), (2,))])
def test_conv_autoencoder_restores_the_image_shape(shape, strides, rng):
    channels = (3, 4)[:len(strides)] if strides else (3, 4)
    model = ta.Autoencoder.conv(shape, channels=channels, code=5, strides=strides)
    X = rng.random((2, *shape))
    assert model.forward(X).shape == (2, *shape)
    flat = model.reconstruct(X.reshape(2, -1))   # flat rows are accepted, and returned flat
    assert flat.shape == (2, int(np.prod(shape)))
    assert model.reconstruct(X).shape == (2, *shape)


def test_conv_autoencoder_gradient_check_and_training(rng, tmp_path):
    model = ta.Autoencoder.conv((1, 8, 8), channels=(3, 4), code=4, strides=(1, 2))
    report = check_model(model, rng.random((3, 64)), "bce")
    assert report.passed, str(report)
    X = ta.load_digits()[0][:300]
    before = model.evaluate(X)
    model.fit(X, loss="bce", epochs=3, batch_size=32, verbose=0, optimizer=ta.Adam(3e-3))
    assert model.evaluate(X) < before
    loaded = ta.load(model.save(tmp_path / "conv.npz"))
    assert loaded.reconstruct(X[:5]).tobytes() == model.reconstruct(X[:5]).tobytes()
    with pytest.raises(ShapeError, match=r"\(N, 1, 8, 8\) or flat rows \(N, 64\)"):
        model.forward(np.zeros((2, 63)))
