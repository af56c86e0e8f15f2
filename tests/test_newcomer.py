"""What a newcomer hit (issue 21, part 3): each item a test that failed before its fix.

Items 3 (exercise diagnoses) and 13 (lesson 21's two processes) have their tests beside
the exercises and the lessons; item 2 (the README's commands) is in test_readme.py.
"""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import tinyae as ta
from tinyae.cli import main


def train(tmp_path, *options, epochs="2"):
    """``tinyae train`` in ``tmp_path`` (so runs/ lands there); returns the exit code."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return main(["train", "--epochs", epochs, "--quiet", *options])
    finally:
        os.chdir(cwd)


def runs(tmp_path):
    return sorted(p.name for p in (tmp_path / "runs").glob("*")) \
        if (tmp_path / "runs").exists() else []


# ----- 1. an overcomplete code trains, keeps its model, and skips the PCA baseline --------

@pytest.mark.parametrize("options", [["--noise", "gaussian:0.3", "--code", "100"],
                                     ["--sparsity", "0.05:3", "--code", "100"]])
def test_an_overcomplete_code_keeps_its_model_and_skips_pca(tmp_path, capsys, options):
    assert train(tmp_path, *options) == 0
    out = tmp_path / "runs" / "digits-1"
    model = ta.load(out / "model.npz")
    assert model.code_size == 100
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["pca_test_error"] is None and np.isfinite(metrics["test_error"])
    assert "PCA baseline skipped" in capsys.readouterr().out


def test_data_of_two_features_trains_and_writes_no_image_pictures(tmp_path):
    np.save(tmp_path / "two.npy", np.random.default_rng(0).random((100, 2)))
    assert train(tmp_path, "--data", "two.npy", "--code", "2") == 0
    out = tmp_path / "runs" / "two-1"
    assert (out / "model.npz").exists() and (out / "loss.png").exists()
    assert not (out / "reconstructions.png").exists()     # 2 values are no picture


def test_the_model_is_saved_before_any_baseline_runs(tmp_path, monkeypatch):
    from tinyae.uses import pca

    def broken_fit(self, X):
        raise ValueError("the baseline broke")

    monkeypatch.setattr(pca.PCA, "fit", broken_fit)
    assert train(tmp_path) == 2
    assert (tmp_path / "runs" / "digits-1" / "model.npz").exists()


# ----- 5. a failed run leaves no empty folder and skips no number -------------------------

def test_failed_runs_leave_no_folder_and_skip_no_number(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "outside.npy", rng.normal(size=(100, 10)) * 3)
    np.save(tmp_path / "ten.npy", rng.random((100, 10)))
    assert train(tmp_path, "--data", "outside.npy", "--loss", "bce") == 2
    assert train(tmp_path, "--labels", "--data", "ten.npy") == 2
    assert runs(tmp_path) == []
    assert train(tmp_path, "--data", "ten.npy", "--code", "3") == 0
    assert runs(tmp_path) == ["ten-1"]


# ----- 6. --conv on data that is not square images says so ---------------------------------

def test_conv_on_non_square_data_names_the_real_problem(tmp_path, capsys):
    np.save(tmp_path / "ten.npy", np.random.default_rng(0).random((50, 10)))
    assert train(tmp_path, "--conv", "--data", "ten.npy") == 2
    err = capsys.readouterr().err
    assert "square" in err and "10 values" in err and "--variational" not in err


# ----- 7. a ragged CSV: no advice about `usecols` ------------------------------------------

def test_a_ragged_csv_names_the_line_and_gives_no_numpy_advice(tmp_path):
    rows = [",".join(["0.5"] * 5)] * 20
    rows[7] = "0.1,0.2,0.3"
    (tmp_path / "ragged.csv").write_text("\n".join(rows))
    with pytest.raises(ta.errors.DataFormatError) as info:
        ta.load_array(tmp_path / "ragged.csv")
    message = str(info.value)
    assert "usecols" not in message and "line 8 has 3" in message and "\n" not in message


# ----- 8. model and safetensors files get the umask's permissions, like every output --------

def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_model_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        model = ta.Autoencoder.shallow(4, 2, seed=0)
        model.save(tmp_path / "m.npz")
        (tmp_path / "other.txt").write_text("x")
        assert _mode(tmp_path / "m.npz") == _mode(tmp_path / "other.txt") == 0o644
        pytest.importorskip("safetensors", reason="export needs the torch extra")
        model.export(tmp_path / "m.safetensors")
        assert _mode(tmp_path / "m.safetensors") == 0o644
    finally:
        os.umask(old)


# ----- 9. --version, -V, and plain `tinyae` prints help ------------------------------------

@pytest.mark.parametrize("argv", [["--version"], ["-V"]])
def test_version(argv):
    out = subprocess.run([sys.executable, "-m", "tinyae", *argv], capture_output=True,
                         text=True)
    assert out.returncode == 0 and out.stdout.startswith(f"tinyae {ta.__version__}")


def test_plain_tinyae_prints_help():
    out = subprocess.run([sys.executable, "-m", "tinyae"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage: tinyae" in out.stdout and "train" in out.stdout
    assert out.stderr == ""


# ----- 10. the per-epoch lines say which loss they show --------------------------------------

def test_epoch_lines_name_their_loss(tmp_path, capsys):
    X = np.random.default_rng(0).random((40, 6))
    ta.Autoencoder.shallow(6, 2, seed=0).fit(X, loss="bce", epochs=2, validation_data=X)
    assert "train bce " in capsys.readouterr().err
    ta.VariationalAutoencoder.deep([6, 4, 2], seed=0).fit(X, epochs=1)
    assert "train -ELBO " in capsys.readouterr().err


# ----- 11. reconstruct returns the input's shape --------------------------------------------

def test_a_conv_model_reconstructs_in_the_shape_it_was_given():
    X, _ = ta.load_digits()
    model = ta.Autoencoder.conv((1, 8, 8), channels=[4], code=5, seed=0)
    assert model.reconstruct(X[:3]).shape == (3, 64)
    assert model.reconstruct(X[:3].reshape(3, 1, 8, 8)).shape == (3, 1, 8, 8)


# ----- 12. labels in a user's .npz colour the codes; AdamW from the command line -------------

def test_labels_of_an_npz_reach_the_codes_picture(tmp_path, monkeypatch):
    from tinyae import plots

    seen = {}
    real = plots.plot_codes

    def spy(codes, labels=None, **kw):
        seen["labels"] = labels
        return real(codes, labels, **kw)

    monkeypatch.setattr(plots, "plot_codes", spy)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "lab.npz", X=rng.random((120, 16)), y=rng.integers(0, 3, 120))
    assert train(tmp_path, "--data", "lab.npz", "--code", "2") == 0
    assert seen["labels"] is not None and set(np.unique(seen["labels"])) <= {0, 1, 2}


def test_adamw_from_the_command_line(tmp_path):
    assert train(tmp_path, "--optimizer", "adamw", "--decay", "0.1") == 0
    metrics = json.loads((tmp_path / "runs" / "digits-1" / "metrics.json").read_text())
    assert metrics["optimizer"].startswith("AdamW(") and "weight_decay=0.1" in metrics["optimizer"]
    assert train(tmp_path, "--decay", "0.1") == 2        # decay without adamw: refused


def test_ctrl_c_after_training_is_one_line_and_keeps_the_model(tmp_path, monkeypatch, capsys):
    """Ctrl-C while the pictures are drawn: no traceback, the model is already saved."""
    from tinyae import plots

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_loss_curves", interrupted)
    assert train(tmp_path) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tinyae train: interrupted"]
    assert (tmp_path / "runs" / "digits-1" / "model.npz").exists()
