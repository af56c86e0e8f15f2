"""Saving and loading: exact round trips, atomic writes, and every kind of bad file."""

import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import tinyae as ta
import tinyae.io as tio
from tinyae.errors import ModelFileError


@pytest.fixture
def trained(rng):
    model = ta.Autoencoder.deep([20, 8, 3], hidden="tanh", seed=0, dtype=np.float32)
    model.fit(rng.random((50, 20)), epochs=2, verbose=0)
    return model


def test_round_trip_is_bit_identical(trained, tmp_path, rng):
    path = trained.save(tmp_path / "model.npz")
    loaded = ta.load(path)
    X = rng.random((7, 20))
    assert loaded.reconstruct(X).tobytes() == trained.reconstruct(X).tobytes()
    assert [p.tobytes() for p, _ in loaded.parameters()] == \
           [p.tobytes() for p, _ in trained.parameters()]
    assert loaded.dtype == np.float32 and not loaded.training
    assert repr(loaded) == repr(trained)


def test_loading_never_unpickles(tmp_path):
    # a pickle that would run code if loaded with allow_pickle=True
    evil = tmp_path / "evil.npz"
    with open(evil, "wb") as f:
        pickle.dump({"x": 1}, f)
    with pytest.raises(ModelFileError, match="pickled"):
        ta.load(evil)
    obj = tmp_path / "obj.npz"
    np.savez(obj, __tinyae__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError, match="pickled"):
        ta.load(obj)


def test_truncated_file(trained, tmp_path):
    path = trained.save(tmp_path / "m.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        ta.load(path)


def test_corrupted_bytes(trained, tmp_path):
    path = trained.save(tmp_path / "m.npz")
    data = bytearray(path.read_bytes())
    # flip bytes inside the stored arrays (past the first local header): CRC or parse fails
    for i in range(200, 260):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        ta.load(path)


def test_foreign_npz_and_foreign_file(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a tinyae model"):
        ta.load(foreign)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ModelFileError):
        ta.load(text)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ModelFileError, match="single array"):
        ta.load(single)
    with pytest.raises(FileNotFoundError, match="no model file"):
        ta.load(tmp_path / "missing.npz")


def _rewrite_header(path, change):
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    header = json.loads(arrays["__tinyae__"].tobytes())
    change(header, arrays)
    arrays["__tinyae__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(path, **arrays)


def test_newer_format_version(trained, tmp_path):
    path = trained.save(tmp_path / "m.npz")
    _rewrite_header(path, lambda h, a: h.update(format_version=tio.FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match="newer tinyae"):
        ta.load(path)


def test_arrays_that_do_not_fit_the_architecture(trained, tmp_path):
    path = trained.save(tmp_path / "m.npz")

    def shrink(header, arrays):
        arrays["param/encoder.0.W"] = arrays["param/encoder.0.W"][:5]
    _rewrite_header(path, shrink)
    with pytest.raises(ModelFileError, match=r"encoder\.0\.W should be float32 of shape \(20, 8\)"):
        ta.load(path)

    path2 = trained.save(tmp_path / "m2.npz")
    _rewrite_header(path2, lambda h, a: a.pop("param/decoder.0.b"))
    with pytest.raises(ModelFileError, match=r"missing \['param/decoder.0.b'\]"):
        ta.load(path2)


def test_a_crash_mid_save_keeps_the_previous_file(trained, tmp_path, monkeypatch):
    path = trained.save(tmp_path / "m.npz")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        trained.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]   # no temporary file left behind
    assert zipfile.is_zipfile(path)
