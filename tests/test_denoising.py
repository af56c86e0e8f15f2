"""The denoising autoencoder: fresh noise per batch, reproducible, and it removes noise."""

import numpy as np
import pytest

import tinyae as ta
from tinyae.pca import PCA


@pytest.fixture(scope="module")
def digits():
    X, _ = ta.load_digits()
    return ta.train_test_split(X, seed=0)


def test_denoising_beats_the_plain_model_and_pca_on_noisy_held_out_digits(digits):
    X_train, X_test = digits
    X_noisy = ta.add_noise(X_test, "gaussian", 0.3, seed=1)
    kwargs = dict(loss="bce", optimizer=ta.Adam(3e-3), epochs=40, batch_size=32, verbose=0)
    plain = ta.Autoencoder.shallow(64, 32, seed=0)
    plain.fit(X_train, **kwargs)
    denoising = ta.Autoencoder.shallow(64, 32, seed=0)
    denoising.fit(X_train, noise=("gaussian", 0.3), **kwargs)
    err_plain = plain.reconstruction_error(X_noisy, X_test)
    err_den = denoising.reconstruction_error(X_noisy, X_test)
    pca = PCA(32).fit(X_train)
    err_pca = float(np.sum((pca.reconstruct(X_noisy) - X_test) ** 2) / len(X_test))
    err_input = float(np.sum((X_noisy - X_test) ** 2) / len(X_test))
    assert err_den < 0.8 * err_plain and err_den < err_pca and err_den < 0.5 * err_input


@pytest.mark.parametrize("kind,level", [("gaussian", 0.3), ("masking", 0.3),
                                        ("salt_pepper", 0.2)])
def test_noise_is_reproducible_and_fresh(digits, kind, level):
    X_train, _ = digits

    def train(seed):
        model = ta.Autoencoder.shallow(64, 8, seed=0)
        model.fit(X_train[:256], epochs=2, batch_size=64, seed=seed, verbose=0,
                  noise=(kind, level))
        return [p.copy() for p, _ in model.parameters()]

    a, b, c = train(1), train(1), train(2)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))        # same seed, same bits
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))    # other seed, other noise


def test_noise_is_drawn_fresh_for_each_batch(digits, monkeypatch):
    X_train, _ = digits
    seen = []
    original = ta.train.add_noise

    def spy(x, kind, level, seed):
        noisy = original(x, kind, level, seed=seed)
        seen.append(noisy - x)
        return noisy

    monkeypatch.setattr(ta.train, "add_noise", spy)
    model = ta.Autoencoder.shallow(64, 4, seed=0)
    model.fit(X_train[:64], epochs=2, batch_size=64, shuffle=False, verbose=0,
              noise=("gaussian", 0.2))
    assert len(seen) == 2 and not np.array_equal(seen[0], seen[1])  # same batch, new noise
