"""The ``tinyae`` command, end to end, as a learner would run it."""

import json
import subprocess
import sys

import matplotlib.image as mpimg
import numpy as np
import pytest

import tinyae as ta
from tinyae.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "digits"
    code = main(["train", "--epochs", "3", "--out", str(out), "--quiet"])
    return code, out


def test_train_writes_model_metrics_and_pictures(run):
    code, out = run
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("train_error", "test_error", "pca_train_error", "pca_test_error"):
        assert np.isfinite(metrics[key]) and metrics[key] > 0
    assert metrics["n_train"] + metrics["n_test"] == 1797 and metrics["epochs"] == 3
    assert len(metrics["history"]["train_loss"]) == 3
    model = ta.load(out / "model.npz")
    X, _ = ta.load_digits(dtype=np.float32)
    assert model.reconstruct(X[:5]).shape == (5, 64)
    for name in ("reconstructions", "loss", "codes", "filters", "interpolation"):
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == PNG
        image = mpimg.imread(png)
        assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
        assert image.std() > 0.01  # not a blank picture


def test_train_prints_the_errors_beside_pca(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "autoencoder" in out and "PCA" in out and "test" in out


def test_train_refuses_to_overwrite_a_saved_model(run, capsys):
    _, out = run
    before = (out / "model.npz").read_bytes()
    assert main(["train", "--epochs", "1", "--out", str(out), "--quiet"]) == 2
    assert "already holds a model" in capsys.readouterr().err
    assert (out / "model.npz").read_bytes() == before


@pytest.mark.parametrize("argv,message", [
    (["train", "--epochs", "0"], "positive integer"),
    (["train", "--epochs", "ten"], "positive integer"),
    (["train", "--lr", "-1"], "positive number"),
    (["train", "--activation", "swish"], "invalid choice"),
    (["train", "--noise", "pink:0.3"], "KIND:LEVEL"),
    (["train", "--hidden-sizes", "32,x"], "layer sizes"),
    (["train", "--test-size", "1.5"], "fraction"),
    (["fly"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_data_file_is_a_clear_error(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path / "nope.npy"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "nope.npy" in capsys.readouterr().err


def test_reconstruct_and_encode_a_npy_file(run, tmp_path):
    _, out = run
    X, _ = ta.load_digits(dtype=np.float32)
    np.save(tmp_path / "x.npy", X[:7])
    assert main(["reconstruct", str(out / "model.npz"), str(tmp_path / "x.npy"),
                 str(tmp_path / "r.npy")]) == 0
    assert main(["encode", str(out / "model.npz"), str(tmp_path / "x.npy"),
                 str(tmp_path / "z.npy")]) == 0
    model = ta.load(out / "model.npz")
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), model.reconstruct(X[:7]))
    assert np.load(tmp_path / "z.npy").shape == (7, 16)


def test_apply_errors(run, tmp_path, capsys):
    _, out = run
    np.save(tmp_path / "wide.npy", np.zeros((3, 10), np.float32))
    assert main(["encode", str(out / "model.npz"), str(tmp_path / "wide.npy"),
                 str(tmp_path / "z.npy")]) == 2
    assert "expected 64 input features, got 10" in capsys.readouterr().err
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    assert main(["encode", str(tmp_path / "bad.npz"), str(tmp_path / "wide.npy"),
                 str(tmp_path / "z.npy")]) == 2
    assert "not a tinyae model file" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tinyae", "train", "--epochs", "oops"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "positive integer" in result.stderr


def test_train_conv_writes_the_same_outputs(tmp_path):
    out = tmp_path / "conv"
    assert main(["train", "--conv", "--channels", "4,8", "--epochs", "1", "--out", str(out),
                 "--quiet"]) == 0
    model = ta.load(out / "model.npz")
    assert model.input_shape == (1, 8, 8)
    assert type(model.encoder.layers[0]).__name__ == "Conv2D"
    for name in ("model.npz", "metrics.json", "reconstructions.png", "filters.png",
                 "interpolation.png", "codes.png", "loss.png"):
        assert (out / name).exists(), name


def test_train_deep_with_batchnorm_and_dropout(tmp_path):
    out = tmp_path / "bn"
    assert main(["train", "--hidden-sizes", "32", "--batchnorm", "--dropout", "0.1",
                 "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    kinds = [type(m).__name__ for m in ta.load(out / "model.npz").encoder.layers]
    assert "BatchNorm1d" in kinds and "Dropout" in kinds


@pytest.mark.parametrize("argv,message", [
    (["train", "--batchnorm"], "--hidden-sizes"),
    (["train", "--dropout", "1.5", "--hidden-sizes", "8"], "probability"),
    (["train", "--conv", "--variational"], "--conv"),
])
def test_bad_model_options(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and message in capsys.readouterr().err
