"""``tinyae train --labels``: a supervised or semi-supervised model from the command line."""

import json
import re

import matplotlib.image as mpimg
import numpy as np
import pytest

import tinyae as ta
from tinyae.cli import main


def train(tmp_path, *options):
    out = tmp_path / "run"
    assert main(["train", "--labels", "--epochs", "4", "--code", "8", "--hidden-sizes", "32",
                 "--out", str(out), "--quiet", *options]) == 0
    return out, json.loads((out / "metrics.json").read_text())


def test_semi_supervised_run_writes_accuracy_and_codes(tmp_path):
    out, metrics = train(tmp_path, "--alpha", "2", "--labeled-fraction", "0.1")
    model = ta.load(out / "model.npz")
    assert isinstance(model, ta.SupervisedAutoencoder) and model.alpha == 2.0
    assert metrics["n_labeled"] == round(0.1 * metrics["n_train"])
    assert metrics["labeled_fraction"] == 0.1 and metrics["labeled_share_per_epoch"] == 0.5
    X, y = ta.load_digits(dtype=np.float32)
    _, X_test, _, y_test = ta.train_test_split(X, y, test_size=0.2, seed=0)
    assert metrics["test_accuracy"] == pytest.approx(model.score(X_test, y_test))
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    assert set(metrics["history"]["terms"]) == {"reconstruction", "classification"}
    for name in ("codes.png", "reconstructions.png", "loss.png"):
        image = mpimg.imread(out / name)
        assert image.ndim == 3 and image.std() > 0.01  # a real picture, not a blank


def test_all_labels_and_the_recipe(tmp_path):
    out, metrics = train(tmp_path, "--noise", "gaussian:0.2", "--consistency", "1")
    model = ta.load(out / "model.npz")
    assert model.noise == ("gaussian", 0.2) and model.consistency == 1.0
    assert metrics["n_labeled"] == metrics["n_train"]
    assert metrics["labeled_share_per_epoch"] is None
    assert "consistency" in metrics["history"]["terms"]


@pytest.mark.parametrize("options, message", [
    (["--labels", "--alpha", "0"], "--alpha: expected a positive number, got '0'"),
    (["--labels", "--alpha", "-1"], "--alpha: expected a positive number"),
    (["--labels", "--labeled-fraction", "0"], r"--labeled-fraction: expected a fraction in "
                                              r"\(0, 1\], got '0'"),
    (["--labels", "--labeled-fraction", "1.5"], r"expected a fraction in \(0, 1\], got '1.5'"),
    (["--labels", "--labeled-fraction", "half"], "expected a fraction"),
    (["--alpha", "2"], "--alpha only apply with --labels"),
    (["--labeled-fraction", "0.5"], "--labeled-fraction only apply with --labels"),
    (["--labels", "--variational"], "does not combine with --variational"),
    (["--labels", "--consistency", "1"], "add --noise"),
])
def test_bad_values_are_one_line_and_exit_2(tmp_path, capsys, options, message):
    out = tmp_path / "bad"
    try:
        code = main(["train", "--out", str(out), "--quiet", *options])
    except SystemExit as exc:  # argparse rejects a bad value itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(message, err), err
    assert not (out / "model.npz").exists()


def test_data_without_labels_is_refused(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).random((40, 16)))
    assert main(["train", "--labels", "--data", str(path), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "has no labels" in err and len(err.strip().splitlines()) == 1
