"""Learning-rate schedules follow their formulas, and fit records the rate per epoch."""

import math

import numpy as np
import pytest

import tinyae as ta
from tinyae.schedules import CosineDecay, ReduceLROnPlateau, StepDecay


@pytest.fixture(scope="module")
def X():
    return ta.load_digits()[0][:200]


def test_step_decay(X):
    h = ta.Autoencoder.shallow(64, 4).fit(X, optimizer=ta.Adam(0.01), epochs=7, verbose=0,
                                           callbacks=[StepDecay(3, gamma=0.5)])
    np.testing.assert_allclose(h.lr, [0.01] * 3 + [0.005] * 3 + [0.0025])


def test_cosine_decay(X):
    h = ta.Autoencoder.shallow(64, 4).fit(X, optimizer=ta.SGD(0.1), epochs=5, verbose=0,
                                           callbacks=[CosineDecay(4, lr_min=0.02)])
    expected = [0.02 + 0.08 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)] + [0.02]
    np.testing.assert_allclose(h.lr, expected)
    assert h.lr[0] == 0.1 and h.lr[2] == pytest.approx(0.06)


class FakeHistory:
    def __init__(self):
        self.val_loss, self.train_loss = [], []


def test_reduce_on_plateau_by_hand():
    class State:
        optimizer = ta.SGD(1.0)
        history = FakeHistory()

    state, rule = State(), ReduceLROnPlateau(factor=0.5, patience=2)
    rule.on_train_begin(state)
    rates = []
    for epoch, loss in enumerate([5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0]):
        state.history.val_loss.append(loss)
        rule.on_epoch_end(epoch, state)
        rates.append(state.optimizer.lr)
    # 3 epochs without improvement (more than patience=2) halve the rate, then count again
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_bad_schedule_arguments():
    with pytest.raises(ValueError):
        StepDecay(0)
    with pytest.raises(ValueError):
        CosineDecay(0)
    with pytest.raises(ValueError):
        ReduceLROnPlateau(factor=2)
