"""The Hinton & Salakhutdinov reproduction script, in its fast mode on IDX files written here."""

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "reproduce_hinton2006.py"


def write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                   *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def fake_mnist(folder, n_train=300, n_test=100):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = (rng.random((n, 28, 28)) < 0.2) * rng.integers(100, 256, (n, 28, 28))
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))


def test_fast_mode_runs_end_to_end(tmp_path):
    fake_mnist(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(SCRIPT), "--fast", "--mnist", str(tmp_path),
                             "--out", str(out), "--batchnorm", "--weight-decay", "0.1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "PCA-8 test error per image" in result.stdout
    assert "autoencoder (tinyae)" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert len(results["epochs"]) == 2 and results["data"].startswith("MNIST")
    # the PCA figure printed is the one computed here, from the files written above
    assert f"{results['pca_test_error']:.2f}" in result.stdout
    assert (out / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model.npz").exists()


def test_no_data_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert result.returncode != 0 and "--mnist" in result.stderr


def test_squared_error_recipe_trains_on_squared_error(tmp_path):
    fake_mnist(tmp_path)
    runs = {}
    for loss in ("bce", "mse"):
        out = tmp_path / loss
        result = subprocess.run([sys.executable, str(SCRIPT), "--fast", "--mnist", str(tmp_path),
                                 "--out", str(out), "--loss", loss],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        runs[loss] = json.loads((out / "results.json").read_text())
    assert "squared error" in runs["mse"]["recipe"]
    assert "cross-entropy" in runs["bce"]["recipe"]
    # same data, seed and initial weights: only the loss differs, so the curves must too
    assert runs["mse"]["epochs"][0]["test_error"] != runs["bce"]["epochs"][0]["test_error"]


def test_unknown_loss_is_refused(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--fast", "--loss", "l1",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--loss" in result.stderr


def test_stop_after_ends_training_at_that_epoch(tmp_path):
    fake_mnist(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(SCRIPT), "--fast", "--mnist", str(tmp_path),
                             "--out", str(out), "--stop-after", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads((out / "results.json").read_text())["epochs"]
    assert [r["epoch"] for r in rows] == [1]
    assert rows[0]["cpu_seconds"] > 0
