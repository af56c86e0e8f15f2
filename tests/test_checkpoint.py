"""Checkpoints: a run stopped after any epoch and resumed ends with the same bits.

Each test trains a reference run without stopping, then the same run with a
checkpoint, interrupted at the start of an epoch (a callback raises, as Ctrl-C
would), and resumed by calling ``fit`` again with a freshly built model: the final
parameters and buffers must be *equal*, not close.
"""

import json
import zipfile

import numpy as np
import pytest

import tinyae as ta
from tinyae.optim import checkpoint as ckpt
from tinyae.optim.loop import Callback, EarlyStopping
from tinyae.optim.schedules import CosineDecay, ReduceLROnPlateau

X_ALL, Y_ALL = ta.load_digits(dtype=np.float32)
X, Y = X_ALL[:240], Y_ALL[:240]
X_VAL = X_ALL[240:300]


class Interrupt(Callback):
    """Raises KeyboardInterrupt when epoch ``at`` begins (the run before it is saved)."""

    def __init__(self, at=None):
        self.at = at

    def on_epoch_begin(self, epoch, state):
        if epoch == self.at:
            raise KeyboardInterrupt


def arrays(model):
    named = {f"param/{n}": p for n, p, _ in model.named_parameters()}
    named.update({f"buffer/{n}": b for n, b in model.named_buffers()})
    return {k: v.copy() for k, v in named.items()}


def assert_same_bits(a, b):
    a, b = arrays(a), arrays(b)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype
        assert np.array_equal(a[name], b[name]), f"{name} differs"


# model factories and fit settings: each kind carries state a resume must restore
KINDS = {
    "plain": (lambda: ta.Autoencoder.shallow(64, 8, seed=1, dtype=np.float32),
              dict(loss="bce")),
    "denoising": (lambda: ta.Autoencoder.shallow(64, 8, seed=1, dtype=np.float32),
                  dict(loss="bce", noise=("masking", 0.3))),
    "dropout": (lambda: ta.Autoencoder.deep([64, 32, 8], seed=1, dtype=np.float32,
                                            dropout=0.2), dict(loss="bce")),
    "batchnorm": (lambda: ta.Autoencoder.deep([64, 32, 8], seed=1, dtype=np.float32,
                                              batchnorm=True), dict(loss="bce")),
    "variational": (lambda: ta.VariationalAutoencoder.deep([64, 16, 4], seed=1,
                                                           dtype=np.float32),
                    dict(loss="bce")),
    "sgd_float64": (lambda: ta.Autoencoder.deep([64, 16, 4], seed=2, dropout=0.1),
                    dict(loss="mse", optimizer=lambda: ta.SGD(lr=0.05, momentum=0.9))),
}


def train(kind, interrupt=None, checkpoint=None, epochs=5, callbacks=()):
    make, settings = KINDS[kind]
    settings = dict(settings)
    optimizer = settings.pop("optimizer", lambda: ta.Adam(lr=3e-3))()
    model = make()
    model.fit(X, optimizer=optimizer, epochs=epochs, batch_size=32, seed=7, verbose=0,
              validation_data=X_VAL, callbacks=[Interrupt(interrupt), *callbacks()],
              checkpoint=checkpoint, **settings)
    return model


def no_callbacks():
    return []


@pytest.mark.parametrize("kind", list(KINDS))
def test_resumed_run_ends_bit_identical(kind, tmp_path):
    reference = train(kind, callbacks=no_callbacks)
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        train(kind, interrupt=2, checkpoint=path, callbacks=no_callbacks)
    assert ckpt.epochs_done(path) == 2
    resumed = train(kind, checkpoint=path, callbacks=no_callbacks)
    assert_same_bits(reference, resumed)


def test_resumed_twice_with_plateau_schedule_and_early_stopping(tmp_path):
    """Both keep counts across epochs, early stopping also the best epoch's weights."""
    def callbacks():
        return [ReduceLROnPlateau(factor=0.5, patience=1, threshold=0.05),
                EarlyStopping(patience=3, min_delta=1.5)]

    make, _ = KINDS["dropout"]

    def run(interrupt=None, checkpoint=None):
        model = make()
        history = model.fit(X, loss="bce", optimizer=ta.Adam(lr=3e-3), epochs=12,
                            batch_size=32, seed=7, verbose=0, validation_data=X_VAL,
                            callbacks=[Interrupt(interrupt), *callbacks()],
                            checkpoint=checkpoint)
        return model, history

    reference, history = run()
    # the scenario the test is about: the rate was cut, training stopped before the end
    assert history.stopped_early and history.epochs < 12 and len(set(history.lr)) > 1
    path = tmp_path / "run.npz"
    for at in (3, history.epochs - 1):
        with pytest.raises(KeyboardInterrupt):
            run(at, path)
    resumed, resumed_history = run(None, path)
    assert_same_bits(reference, resumed)
    assert resumed_history.lr == history.lr and resumed_history.stopped_early


def test_cosine_schedule_and_history_continue(tmp_path):
    path = tmp_path / "run.npz"
    make, _ = KINDS["plain"]

    def run(interrupt):
        model = make()
        history = model.fit(X, epochs=6, batch_size=32, verbose=0, validation_data=X_VAL,
                            callbacks=[Interrupt(interrupt), CosineDecay(6)], checkpoint=path)
        return model, history

    reference_model = make()
    reference = reference_model.fit(X, epochs=6, batch_size=32, verbose=0,
                                    validation_data=X_VAL, callbacks=[CosineDecay(6)])
    with pytest.raises(KeyboardInterrupt):
        run(4)
    model, history = run(None)
    assert_same_bits(reference_model, model)
    assert history.lr == reference.lr and history.train_loss == reference.train_loss
    assert history.val_loss == reference.val_loss and len(history.epoch_time) == 6


def test_supervised_autoencoder_resumes_bit_identical(tmp_path):
    def run(interrupt=None, checkpoint=None):
        model = ta.SupervisedAutoencoder.deep([64, 16], 10, noise=("masking", 0.2),
                                              consistency=0.5, seed=3, dtype=np.float32)
        y = Y.copy()
        y[::3] = -1
        model.fit(X, y, epochs=4, batch_size=32, seed=1, labeled_share=0.5,
                  callbacks=[Interrupt(interrupt)], checkpoint=checkpoint)
        return model

    reference = run()
    with pytest.raises(KeyboardInterrupt):
        run(1, tmp_path / "s.npz")
    assert_same_bits(reference, run(None, tmp_path / "s.npz"))


def test_without_the_generators_a_resumed_run_differs(tmp_path, monkeypatch):
    """The bit-identity tests can fail: forget the Generators' states and the bits differ."""
    reference = train("dropout", callbacks=no_callbacks)
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        train("dropout", interrupt=2, checkpoint=path, callbacks=no_callbacks)
    monkeypatch.setattr(ckpt, "find_generators", lambda model, *extra: [])
    monkeypatch.setattr(ckpt, "restore", _restore_without_generators)
    resumed = train("dropout", checkpoint=path, callbacks=no_callbacks)
    with pytest.raises(AssertionError, match="differs"):
        assert_same_bits(reference, resumed)


_real_restore = ckpt.restore


def _restore_without_generators(path, header, arrays, **objects):
    header = dict(header, generators=[])
    return _real_restore(path, header, arrays, **objects)


def test_every_generator_of_the_run_is_found():
    model = ta.Autoencoder.deep([64, 32, 16, 8], dropout=0.2, seed=0)
    fit_rng = np.random.default_rng(0)
    found = ckpt.find_generators(model, ("fit", fit_rng))
    dropouts = [m for m in model.modules() if isinstance(m, ta.Dropout)]
    assert len(dropouts) >= 2 and found[0] == ("fit", fit_rng)
    assert {id(d.rng) for d in dropouts} <= {id(g) for _, g in found}
    assert len({id(g) for _, g in found}) == len(found)  # a shared Generator once
    vae = ta.VariationalAutoencoder.deep([64, 8, 2])
    assert any(g is vae.rng for _, g in ckpt.find_generators(vae))


def test_a_finished_run_resumed_returns_the_same_model(tmp_path):
    path = tmp_path / "run.npz"
    first = train("plain", epochs=3, checkpoint=path, callbacks=no_callbacks)
    again = train("plain", epochs=3, checkpoint=path, callbacks=no_callbacks)
    assert_same_bits(first, again)
    assert ckpt.epochs_done(path) == 3


@pytest.mark.parametrize("change, message", [
    (dict(epochs=6), "epochs: 5 in the checkpoint, 6 here"),
    (dict(lr=1e-2), "optimizer.config.lr: 0.003 in the checkpoint, 0.01 here"),
    (dict(X=X[:200]), "the data differ"),
    (dict(code=4), "model.config"),
    (dict(batch_size=16), "batch_size: 32 in the checkpoint, 16 here"),
    (dict(callbacks=[CosineDecay(5)]), "callbacks"),
])
def test_a_checkpoint_of_another_run_is_refused_and_nothing_loaded(tmp_path, change, message):
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        train("plain", interrupt=2, checkpoint=path, callbacks=no_callbacks)
    before = path.read_bytes()
    model = ta.Autoencoder.shallow(64, change.get("code", 8), seed=1, dtype=np.float32)
    fresh = arrays(model)
    optimizer = ta.Adam(lr=change.get("lr", 3e-3))
    with pytest.raises(ckpt.CheckpointError, match="another run") as info:
        model.fit(change.get("X", X), loss="bce", optimizer=optimizer,
                  epochs=change.get("epochs", 5), batch_size=change.get("batch_size", 32),
                  seed=7, verbose=0, validation_data=X_VAL,
                  callbacks=[Interrupt(), *change.get("callbacks", [])], checkpoint=path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert all(np.array_equal(v, arrays(model)[k]) for k, v in fresh.items())
    assert optimizer.t == 0 and path.read_bytes() == before


def test_files_that_are_not_checkpoints_are_refused(tmp_path):
    model = ta.Autoencoder.shallow(64, 8, seed=1, dtype=np.float32)
    cases = {"model.npz": lambda p: model.save(p),
             "pickle.npz": lambda p: p.write_bytes(b"\x80\x04K\x01."),
             "truncated.npz": lambda p: p.write_bytes(_checkpoint_bytes(tmp_path)[:300]),
             "object.npz": lambda p: np.savez(p, __checkpoint__=np.array([{"a": 1}]))}
    for name, write in cases.items():
        path = tmp_path / name
        write(path)
        with pytest.raises(ckpt.CheckpointError) as info:
            model.fit(X, epochs=2, verbose=0, checkpoint=path)
        assert "\n" not in str(info.value), name


def _checkpoint_bytes(tmp_path):
    path = tmp_path / "whole.npz"
    train("plain", epochs=1, checkpoint=path, callbacks=no_callbacks)
    return path.read_bytes()


def test_the_file_holds_no_pickle_and_a_json_header(tmp_path):
    path = tmp_path / "run.npz"
    train("variational", epochs=2, checkpoint=path, callbacks=no_callbacks)
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(data["__checkpoint__"].tobytes().decode())
        assert all(data[name].dtype != object for name in data.files)
    assert header["format"] == "tinyae-checkpoint" and header["epoch"] == 2
    assert header["run"]["model"]["class"] == "VariationalAutoencoder"
    names = [name for name, _ in header["generators"]]
    assert names[0] == "fit" and any(name.endswith(".rng") for name in names[1:])
    assert header["optimizer"]["t"] == 2 * 8  # 240 rows in batches of 32, two epochs
    with zipfile.ZipFile(path) as z:
        assert any(n.startswith("state/optimizer/slots/") for n in z.namelist())


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    train("plain", epochs=2, checkpoint=path, callbacks=no_callbacks)
    before = path.read_bytes()

    def broken(f, **arrays):
        f.write(b"PK half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        train("plain", epochs=3, checkpoint=tmp_path / "other.npz", callbacks=no_callbacks)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temp file left


def test_stale_temporary_files_are_removed_on_resume(tmp_path):
    path = tmp_path / "run.npz"
    stale = tmp_path / ".run.npz.abc123.tmp"
    stale.write_bytes(b"PK left by a killed writer")
    train("plain", epochs=1, checkpoint=path, callbacks=no_callbacks)
    assert not stale.exists() and path.exists()


@pytest.mark.parametrize("optimizer", [
    lambda: ta.SGD(lr=0.1, momentum=0.9), lambda: ta.SGD(lr=0.1),
    lambda: ta.Adam(lr=0.01, weight_decay=0.1), lambda: ta.AdamW(lr=0.01)])
def test_optimizer_state_dict_round_trip(optimizer):
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    grads = [np.zeros_like(p) for p in params]

    def steps(opt, ps, n, seed):
        r = np.random.default_rng(seed)
        for _ in range(n):
            for g in grads:
                g[...] = r.normal(size=g.shape)
            opt.step(list(zip(ps, grads)))

    a = optimizer()
    steps(a, params, 3, seed=1)
    state = a.state_dict(list(zip(params, grads)))
    assert state["t"] == 3
    copies = [p.copy() for p in params]
    b = optimizer()
    b.load_state_dict(state, list(zip(copies, grads)))
    assert b.t == 3 and b.lr == a.lr
    steps(a, params, 4, seed=2)
    steps(b, copies, 4, seed=2)
    for p, q in zip(params, copies):
        assert np.array_equal(p, q)
    # saved buffers are the state (m, v, momentum), not scratch space
    assert all("tmp" not in slot for slot in a.state_dict(list(zip(params, grads)))["slots"])


def test_optimizer_state_dict_for_other_parameters_is_refused():
    p, g = np.ones((2, 3)), np.ones((2, 3))
    opt = ta.Adam()
    opt.step([(p, g)])
    state = opt.state_dict([(p, g)])
    other = ta.Adam()
    with pytest.raises(ValueError, match="does not fit"):
        other.load_state_dict(state, [(np.ones((3, 2)), g)])
    with pytest.raises(ValueError, match="1 parameter slots, the model has 2"):
        other.load_state_dict(state, [(p, g), (p, g)])
    assert other.t == 0 and other.state == {}
    fresh = ta.Adam().state_dict([(p, g)])
    assert fresh == {"lr": 1e-3, "t": 0, "slots": [{}]}
