"""``tinyae train`` for each variant (denoising, sparse, variational) and ``tinyae sample``."""

import json

import matplotlib.image as mpimg
import numpy as np
import pytest

import tinyae as ta
from tinyae.cli import main


def train(tmp_path, name, *options):
    out = tmp_path / name
    assert main(["train", "--epochs", "3", "--out", str(out), "--quiet", *options]) == 0
    return out, json.loads((out / "metrics.json").read_text())


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("vae"), "vae", "--variational", "--code", "2")


def test_denoising_reports_the_error_on_noisy_test_images(tmp_path, capsys):
    out, metrics = train(tmp_path, "den", "--noise", "masking:0.3")
    d = metrics["denoising"]
    assert d["noise"] == ["masking", 0.3]
    for key in ("noisy_input_error", "model_error", "pca_error"):
        assert np.isfinite(d[key]) and d[key] > 0
    assert (out / "denoising.png").exists()
    assert "noisy test images" in capsys.readouterr().out


def test_sparse_model_from_the_command_line(tmp_path):
    out, metrics = train(tmp_path, "sparse", "--sparsity", "0.05:3", "--l1", "1e-4",
                         "--weight-decay", "1e-4", "--code", "24")
    model = ta.load(out / "model.npz")
    assert [type(p).__name__ for p in model.penalties] == ["KLSparsity", "L1Activity",
                                                         "WeightDecay"]
    assert type(model.encoder.layers[-1]).__name__ == "Sigmoid"  # switched to a sigmoid code
    act = metrics["code_activation"]
    assert act["rho"] == 0.05 and 0 < act["mean"] < 1
    assert set(metrics["history"]["terms"]) == {"reconstruction", "KLSparsity", "L1Activity",
                                                "WeightDecay"}


def test_deep_sparse_model_gets_a_sigmoid_code(tmp_path):
    out, _ = train(tmp_path, "deep", "--sparsity", "0.1:1", "--hidden-sizes", "32")
    model = ta.load(out / "model.npz")
    assert type(model.encoder.layers[-1]).__name__ == "Sigmoid"
    assert type(model.encoder.layers[1]).__name__ == "ReLU"


def test_variational_model_and_its_elbo(vae_run):
    out, metrics = vae_run
    model = ta.load(out / "model.npz")
    assert isinstance(model, ta.VariationalAutoencoder) and model.code_size == 2
    assert metrics["model"] == "VariationalAutoencoder"
    assert metrics["elbo"]["test"] < 0 and len(metrics["history"]["terms"]["kl"]) == 3
    assert metrics["history"]["train_loss"][-1] < metrics["history"]["train_loss"][0]
    for name in ("samples", "interpolation", "codes", "loss", "filters"):
        image = mpimg.imread(out / f"{name}.png")
        assert image.std() > 0.01


def test_sample_writes_a_png_and_a_npy(vae_run, tmp_path, capsys):
    out, _ = vae_run
    assert main(["sample", str(out / "model.npz"), "12", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sample", str(out / "model.npz"), "7", str(tmp_path / "s.npy"),
                 "--seed", "3"]) == 0
    images = np.load(tmp_path / "s.npy")
    assert images.shape == (7, 64) and images.min() >= 0 and images.max() <= 1
    model = ta.load(out / "model.npz")
    np.testing.assert_array_equal(images, model.sample(7, seed=3))
    assert "wrote" in capsys.readouterr().out


def test_sample_refuses_a_plain_model(tmp_path, capsys):
    out, _ = train(tmp_path, "plain")
    assert main(["sample", str(out / "model.npz"), "5", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert "not a variational one" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv,message", [
    (["train", "--sparsity", "2:3"], "RHO:BETA"),
    (["train", "--sparsity", "x"], "RHO:BETA"),
    (["train", "--sparsity", "0.05:-1"], "RHO:BETA"),
    (["train", "--l1", "-1"], ">= 0"),
    (["train", "--weight-decay", "abc"], ">= 0"),
    (["sample", "m.npz", "0", "s.png"], "positive integer"),
    (["sample", "m.npz"], "required"),
])
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv,message", [
    (["--sparsity", "0.05:3", "--activation", "relu"], "sigmoid code"),
    (["--variational", "--sparsity", "0.05:3"], "not to --variational"),
])
def test_contradictory_options_exit_2(argv, message, tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "x"), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()  # refused before any folder is made


def test_sample_errors(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "none.npz"), "3", str(tmp_path / "s.png")]) == 2
    assert "no model file" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "none.npz"), "3", str(tmp_path / "s.jpg")]) == 2
    assert ".png or .npy" in capsys.readouterr().err
