"""benchmarks/conv_vs_dense.py in its fast mode, on synthetic IDX files written here (no MNIST)."""

import gzip
import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyae import backend

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import conv_vs_dense as cvd  # noqa: E402


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                   *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_mnist(tmp_path):
    """MNIST-format files of synthetic strokes: 600 training, 300 test images."""
    for prefix, n, seed in (("train", 600, 0), ("t10k", 300, 1)):
        images = np.round(cvd.synthetic_strokes(n, seed) * 255).reshape(n, 28, 28)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.zeros(n))
    return tmp_path


@pytest.fixture(autouse=True)
def restore_backend():
    before = backend.get_backend()
    yield
    backend.set_backend(before)


def dense_parameters(code):
    """784→256→code→256→784, weights and biases, counted layer by layer."""
    sizes = [784, 256, code, 256, 784]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def conv_parameters(code, k):
    """Conv 1→16 and 16→32 (3×3), Dense 1568→code→1568, ConvTranspose 32→16 and 16→1 (k×k)."""
    return ((1 * 16 * 9 + 16) + (16 * 32 * 9 + 32) + (1568 * code + code)
            + (code * 1568 + 1568) + (32 * 16 * k * k + 16) + (16 * 1 * k * k + 1))


def test_fast_run_trains_both_models_and_reports_them(fake_mnist, tmp_path):
    out = tmp_path / "res.json"
    res = cvd.main(["--fast", "--quiet", "--mnist", str(fake_mnist), "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["rows"] == json.loads(json.dumps(res["rows"]))
    assert saved["data"].startswith("MNIST") and "512 training, 256 test" in saved["data"]
    rows = {(r["model"], r["code"]): r for r in saved["rows"]}
    assert set(rows) == {("dense", 32), ("conv", 32), ("dense", 8), ("conv", 8)}
    X_test, _ = cvd.ta.load_mnist(str(fake_mnist), split="test")
    for (kind, code), r in rows.items():
        expected = dense_parameters(code) if kind == "dense" else conv_parameters(code, 4)
        assert r["parameters"] == expected
        assert len(r["epoch_times"]) == 2 and min(r["epoch_times"]) > 0
        untrained = cvd.build(kind, code).reconstruction_error(X_test[:256])
        assert 0 < r["test_error"] < untrained, (kind, code)   # training lowered the error
    g = saved["goal"]
    assert g["parameter_fraction"] == pytest.approx(conv_parameters(32, 4)
                                                    / dense_parameters(32))
    assert g["met"] == (rows["conv", 32]["test_error"] < rows["dense", 32]["test_error"]
                        and g["parameter_fraction"] <= 1 / 3)


def test_the_conv_model_is_the_issues_model():
    # the issue's PyTorch reference: 115k parameters at code 32, 40k at code 8
    assert conv_parameters(32, 4) == 115_217 and conv_parameters(8, 4) == 39_929
    assert cvd.conv_model(32).n_parameters() == conv_parameters(32, 4)
    assert cvd.conv_model(32).n_parameters() <= dense_parameters(32) / 3
    assert cvd.conv_model(8, decoder_kernel=3).n_parameters() == conv_parameters(8, 3)
    x = np.random.default_rng(0).random((2, 784), dtype=np.float32)
    assert cvd.conv_model(32).reconstruct(x).shape == (2, 784)   # the shape it was given
    with pytest.raises(ValueError, match="decoder_kernel 5 maps 7 -> 15"):
        cvd.conv_model(32, decoder_kernel=5)


def test_fast_mode_without_mnist_uses_synthetic_strokes(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYAE_MNIST", raising=False)
    res = cvd.main(["--fast", "--quiet", "--codes", "8", "--epochs", "1",
                    "--out", str(tmp_path / "r.json")])
    assert res["data"].startswith("synthetic")
    assert [r["model"] for r in res["rows"]] == ["dense", "conv"]
    assert res["goal"] is None                         # no code-32 pair to compare


def test_full_run_without_mnist_says_what_to_give(monkeypatch):
    monkeypatch.delenv("TINYAE_MNIST", raising=False)
    with pytest.raises(SystemExit, match="give --mnist FOLDER"):
        cvd.main(["--quiet"])


def test_synthetic_strokes_are_images_in_the_unit_interval():
    X = cvd.synthetic_strokes(50, seed=3)
    assert X.shape == (50, 784) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1 and X.max() > 0.9      # strokes reach full ink
    assert (X > 0.5).mean() < 0.5                               # mostly background
    np.testing.assert_array_equal(X, cvd.synthetic_strokes(50, seed=3))
    assert not np.array_equal(X, cvd.synthetic_strokes(50, seed=4))
