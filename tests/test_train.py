"""Training on the built-in digits: loss goes down, seeds reproduce, the classic results hold."""

import numpy as np
import pytest

import tinyae as ta
from tinyae.errors import DivergenceError
from tinyae.pca import pca_error


@pytest.fixture(scope="module")
def digits():
    X, _ = ta.load_digits()
    return ta.train_test_split(X, test_size=0.25, seed=0)


@pytest.mark.parametrize("make_optimizer", [lambda: ta.SGD(lr=0.05, momentum=0.9),
                                            lambda: ta.Adam(lr=3e-3)], ids=["sgd", "adam"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_training_lowers_the_loss(digits, make_optimizer, loss):
    X_train, X_test = digits
    model = ta.Autoencoder.shallow(64, 16, seed=0)
    before = model.evaluate(X_test, loss)
    history = model.fit(X_train, loss=loss, optimizer=make_optimizer(), epochs=5, batch_size=32,
                        validation_data=X_test, verbose=0)
    assert history.epochs == 5 and len(history.val_loss) == 5 and len(history.epoch_time) == 5
    assert history.val_loss[-1] < 0.6 * before
    assert history.train_loss[-1] < history.train_loss[0]


def test_seeded_runs_are_bit_identical(digits):
    X_train, _ = digits
    runs = []
    for _ in range(2):
        model = ta.Autoencoder.shallow(64, 8, seed=3)
        model.fit(X_train, epochs=2, seed=11, verbose=0, noise=("masking", 0.2))
        runs.append([p.tobytes() for p, _ in model.parameters()])
    assert runs[0] == runs[1]
    other = ta.Autoencoder.shallow(64, 8, seed=3)
    other.fit(X_train, epochs=2, seed=12, verbose=0, noise=("masking", 0.2))
    assert runs[0] != [p.tobytes() for p, _ in other.parameters()]


def test_verbose_zero_prints_nothing(digits, capsys):
    ta.Autoencoder.shallow(64, 4).fit(digits[0], epochs=2, verbose=0, validation_data=digits[1])
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_verbose_one_prints_a_line_per_epoch(digits, capsys):
    ta.Autoencoder.shallow(64, 4).fit(digits[0], epochs=3, verbose=1)
    err = capsys.readouterr().err  # not a terminal: no progress bar, only epoch lines
    assert err.count("epoch ") == 3 and "\r" not in err


def test_linear_autoencoder_reaches_the_pca_error(digits):
    X_train, X_test = digits
    k = 8
    model = ta.Autoencoder.shallow(64, k, hidden="identity", output="identity", seed=0)
    model.fit(X_train, loss="mse", optimizer=ta.Adam(3e-3), epochs=150, batch_size=64, verbose=0)
    ae, pca = model.evaluate(X_test), pca_error(X_train, X_test, k)
    assert ae == pytest.approx(pca, rel=0.03)


def test_deep_beats_pca_and_shallow_is_about_level(digits):
    X_train, X_test = digits
    pca = pca_error(X_train, X_test, 4)
    deep = ta.Autoencoder.deep([64, 32, 4], seed=0)
    deep.fit(X_train, optimizer=ta.Adam(3e-3), epochs=100, batch_size=32, verbose=0)
    shallow = ta.Autoencoder.shallow(64, 4, seed=0)
    shallow.fit(X_train, optimizer=ta.Adam(3e-3), epochs=100, batch_size=32, verbose=0)
    assert deep.evaluate(X_test) < 0.8 * pca           # a clear margin
    assert 0.85 * pca < shallow.evaluate(X_test) < 1.25 * pca


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_divergence_is_caught_and_parameters_stay_finite(digits):
    model = ta.Autoencoder.shallow(64, 16, hidden="identity", output="identity", seed=0)
    with pytest.raises(DivergenceError, match=r"epoch \d+, batch \d+.*lower learning rate"):
        model.fit(digits[0], optimizer=ta.SGD(lr=1e3), epochs=5, verbose=0)
    assert all(np.all(np.isfinite(p)) for p, _ in model.parameters())


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(digits):
    X_train, X_test = digits
    model = ta.Autoencoder.shallow(64, 16, seed=0)
    # min_delta so large that no epoch after the first counts as an improvement
    stopper = ta.EarlyStopping(patience=3, min_delta=1e9)
    history = model.fit(X_train, epochs=50, validation_data=X_test, early_stopping=stopper,
                        verbose=0)
    assert history.stopped_early and history.epochs == 4
    assert history.val_loss[-1] < history.val_loss[0]        # training did improve...
    assert model.evaluate(X_test) == pytest.approx(history.val_loss[0], rel=1e-12)  # ...restored


def test_early_stopping_on_an_overfitting_run(digits):
    X_train, X_test = digits
    model = ta.Autoencoder.shallow(64, 64, seed=0)
    history = model.fit(X_train[:20], epochs=1000, optimizer=ta.Adam(1e-2), batch_size=20,
                        validation_data=X_test, early_stopping=5, verbose=0)
    assert history.stopped_early and history.epochs < 1000
    assert model.evaluate(X_test) == pytest.approx(min(history.val_loss), rel=1e-9)


def test_callbacks_are_called_and_can_stop(digits):
    calls = []

    class Spy(ta.Callback):
        def on_epoch_end(self, epoch, state):
            calls.append(epoch)
            state.stop = epoch == 1

    ta.Autoencoder.shallow(64, 4).fit(digits[0], epochs=10, callbacks=[Spy()], verbose=0)
    assert calls == [0, 1]


def test_bad_fit_arguments(digits):
    model = ta.Autoencoder.shallow(64, 4)
    with pytest.raises(ValueError, match="epochs"):
        model.fit(digits[0], epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(digits[0], batch_size=-1)
    with pytest.raises(ValueError, match="unknown loss"):
        model.fit(digits[0], loss="hinge")
    with pytest.raises(ValueError, match="noise"):
        model.fit(digits[0], noise="gaussian")
    with pytest.raises(ValueError, match="expected 64 input features"):
        model.fit(digits[0], validation_data=np.zeros((3, 10)))


def test_a_diverging_run_says_so_once_without_numpy_warnings(digits):
    """The overflow of a diverging run is reported by the DivergenceError alone: NumPy's
    "overflow encountered in matmul" warnings before it only add noise to what the user reads."""
    import warnings

    model = ta.Autoencoder.shallow(64, 16, hidden="identity", output="identity", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # any warning fails the test
        with pytest.raises(DivergenceError):
            model.fit(digits[0], optimizer=ta.SGD(lr=1e3), epochs=5, verbose=0)
