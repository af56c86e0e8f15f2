"""Colour images from the command line: ``--data cifar10:`` and ``images:``, ``--conv`` on
(3, H, W), ``--schedule``, the colour pictures, and a one-line error for each bad input.

The tests write their own small CIFAR-10 binary batches and folders of pictures.
"""

import json
import math

import matplotlib.image as mpimg
import numpy as np
import pytest
from PIL import Image

import tinyae as ta
from tinyae import plots
from tinyae.cli import main

BATCHES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]


def colourful(n, rng, size=32):
    """n images (n, 3, size, size) uint8, each a strong colour with a little texture."""
    base = rng.integers(0, 256, size=(n, 3, 1, 1))
    texture = rng.integers(-20, 21, size=(n, 3, size, size))
    return np.clip(base + texture, 0, 255).astype(np.uint8)


def write_cifar(folder, rng, per_batch=4):
    """Six CIFAR-10 binary batch files; returns the test images written, (n, 3, 32, 32)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in BATCHES:
        pixels = colourful(per_batch, rng)
        labels = rng.integers(0, 10, per_batch).astype(np.uint8)
        rows = np.concatenate([labels[:, None], pixels.reshape(per_batch, -1)], axis=1)
        (folder / name).write_bytes(rows.tobytes())
    return pixels


def write_pictures(folder, rng, sizes):
    """One colour picture per (height, width) in ``sizes``, PNG and JPEG alternately."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        hwc = colourful(1, rng, size=max(h, w))[0, :, :h, :w].transpose(1, 2, 0)
        Image.fromarray(hwc).save(folder / f"p{i:02d}.{'png' if i % 2 else 'jpg'}")


def saturation(png):
    """The largest max(R, G, B) − min(R, G, B) of any pixel of a PNG: 0 for a gray picture."""
    rgb = mpimg.imread(png)[..., :3]
    return float((rgb.max(axis=-1) - rgb.min(axis=-1)).max())


def train(*options):
    return main(["train", "--quiet", "--epochs", "1", *map(str, options)])


# ----- data ------------------------------------------------------------------------------
def test_cifar10_folder_trains_a_dense_model_and_draws_in_colour(tmp_path, rng):
    test_images = write_cifar(tmp_path / "cifar", rng)
    out = tmp_path / "run"
    assert train("--data", f"cifar10:{tmp_path / 'cifar'}", "--code", "4", "--out", out) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["n_train"], metrics["n_test"]) == (20, 4)
    assert metrics["image_shape"] == [3, 32, 32] and metrics["data"] == "cifar10"
    model = ta.load(out / "model.npz")
    X_test = test_images.reshape(4, -1).astype(np.float32) / 255
    assert model.reconstruct(X_test).shape == (4, 3072)
    # the PCA baseline ran on the colour rows: its error is that of a 4-component PCA
    X_train, _ = ta.load_cifar10(tmp_path / "cifar", split="train")
    expected = ta.PCA(4).fit(X_train).reconstruction_error(X_test)
    assert metrics["pca_test_error"] == pytest.approx(expected, rel=1e-4)
    for name in ("reconstructions", "filters", "interpolation"):
        assert saturation(out / f"{name}.png") > 0.3, name     # drawn in colour, not gray


def test_image_folder_resized_to_one_size(tmp_path, rng):
    write_pictures(tmp_path / "pics", rng, [(16, 16), (20, 24), (24, 20), (30, 18)] * 3)
    out = tmp_path / "run"
    assert train("--data", f"images:{tmp_path / 'pics'}", "--image-size", "12x16",
                 "--code", "3", "--out", out) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["image_shape"] == [3, 12, 16]
    assert metrics["n_train"] + metrics["n_test"] == 12 and metrics["data"] == "pics"
    assert saturation(out / "reconstructions.png") > 0.3


def test_image_folder_of_one_size_needs_no_image_size(tmp_path, rng):
    write_pictures(tmp_path / "pics", rng, [(8, 10)] * 12)
    out = tmp_path / "run"
    assert train("--data", f"images:{tmp_path / 'pics'}", "--code", "2", "--out", out) == 0
    assert json.loads((out / "metrics.json").read_text())["image_shape"] == [3, 8, 10]


def test_conv_on_colour_images_has_rgb_kernels_drawn_as_colour_patches(tmp_path, rng):
    write_cifar(tmp_path / "cifar", rng)
    out = tmp_path / "run"
    assert train("--data", f"cifar10:{tmp_path / 'cifar'}", "--conv", "--channels", "4,6",
                 "--code", "5", "--out", out) == 0
    model = ta.load(out / "model.npz")
    assert model.input_shape == (3, 32, 32)
    first = model.encoder.layers[0]
    assert first.params["W"].shape == (4, 3, 3, 3)                  # 3 input channels
    assert first.output_shape((3, 32, 32)) == (4, 16, 16)           # stride 2 on 32x32
    # RGB patches: some pixel is mostly green, which the red-white-blue map of gray
    # kernels never draws
    rgb = mpimg.imread(out / "filters.png")[..., :3]
    assert (rgb[..., 1] - np.maximum(rgb[..., 0], rgb[..., 2])).max() > 0.1
    assert saturation(out / "reconstructions.png") > 0.3


# ----- --schedule ------------------------------------------------------------------------
@pytest.mark.parametrize("schedule, lr", [
    (None, [1e-3] * 4),
    ("cosine", [1e-3 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]),
    ("step:2:0.5", [1e-3, 1e-3, 5e-4, 5e-4]),
    ("step", [1e-3, 1e-4, 1e-5, 1e-6]),          # default: x0.1 every 4 // 3 = 1 epoch
])
def test_schedule_sets_the_rate_of_each_epoch(tmp_path, schedule, lr):
    out = tmp_path / "run"
    extra = ["--schedule", schedule] if schedule else []
    assert main(["train", "--quiet", "--epochs", "4", "--lr", "1e-3", "--code", "4",
                 "--out", str(out), *extra]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"]["lr"] == pytest.approx(lr, rel=1e-9)
    assert metrics["schedule"] == schedule


def test_plateau_schedule_cuts_the_rate_when_the_test_loss_stalls(tmp_path):
    # at lr 1e-9 nothing improves by the threshold after the first epoch: with patience 0
    # the rate is halved after epoch 2, and again after epoch 3
    out = tmp_path / "run"
    assert main(["train", "--quiet", "--epochs", "4", "--lr", "1e-9", "--code", "4",
                 "--schedule", "plateau:0:0.5", "--out", str(out)]) == 0
    lr = json.loads((out / "metrics.json").read_text())["history"]["lr"]
    assert lr == pytest.approx([1e-9, 1e-9, 5e-10, 2.5e-10], rel=1e-9)


def test_plateau_default_waits_five_epochs(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--quiet", "--epochs", "3", "--lr", "1e-9", "--code", "4",
                 "--schedule", "plateau", "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["history"]["lr"] == [1e-9] * 3


@pytest.mark.parametrize("value", ["linear", "cosine:3", "step:0", "step:1.5", "step:2:1.5",
                                   "plateau:-1", "plateau:2:0", "plateau:a", "step:1:2:3"])
def test_bad_schedule_is_one_line(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--schedule", value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--schedule" in err and err.count("\n") == 1


# ----- colour pictures -------------------------------------------------------------------
def test_rgb_kernels_are_drawn_with_their_colours(tmp_path):
    W = np.zeros((2, 3, 3, 3))
    W[0, 0] = 2.0          # kernel 0: red weights only, positive -> (1, 0.5, 0.5)
    W[1, 2] = -0.5         # kernel 1: blue weights only, negative -> (0.5, 0.5, 0)
    plots.plot_filters(W, path=tmp_path / "f.png")
    rgb = mpimg.imread(tmp_path / "f.png")[..., :3].reshape(-1, 3)
    for colour in ([1, 0.5, 0.5], [0.5, 0.5, 0]):
        assert np.min(np.abs(rgb - colour).max(axis=1)) < 0.01, colour


def test_gray_kernels_keep_the_diverging_map(tmp_path):
    W = np.zeros((2, 1, 3, 3))
    W[0, 0, 0, 0], W[1, 0, 0, 0] = 1.0, -1.0
    plots.plot_filters(W, path=tmp_path / "f.png")
    assert saturation(tmp_path / "f.png") > 0.5        # red and blue tiles, a colorbar


# ----- one clear line for each bad input --------------------------------------------------
def bad_cifar(folder, rng):
    write_cifar(folder, rng)
    (folder / "data_batch_3.bin").write_bytes(b"\x01" * 3073 * 2 + b"\x00" * 100)


def cifar_without_test_batch(folder, rng):
    write_cifar(folder, rng)
    (folder / "test_batch.bin").unlink()


def mixed_pictures(folder, rng):
    write_pictures(folder, rng, [(16, 16), (20, 24)])


@pytest.mark.parametrize("make, data, options, message", [
    (None, "cifar10:{tmp}/nowhere", [], "no such folder"),
    (None, "cifar10:", [], "no such folder"),
    (bad_cifar, "cifar10:{tmp}/made", [], "not a whole number of 3,073-byte records"),
    (cifar_without_test_batch, "cifar10:{tmp}/made", [], "test_batch.bin missing"),
    (lambda f, rng: write_cifar(f, rng), "cifar10:{tmp}/made/data_batch_1.bin", [],
     "is one batch file"),
    (None, "images:{tmp}/nowhere", [], "does not exist"),
    (lambda f, rng: (f.mkdir(), (f / "notes.txt").write_text("hi")), "images:{tmp}/made", [],
     "no .png, .jpg or .jpeg files"),
    (mixed_pictures, "images:{tmp}/made", [], "pass --image-size"),
    (lambda f, rng: write_pictures(f, rng, [(8, 8)]), "images:{tmp}/made", [],
     "at least 2"),
    (None, "digits", ["--image-size", "16"], "--image-size resizes"),
    (lambda f, rng: np.save(f.with_suffix(".npy"), rng.uniform(size=(20, 10))),
     "{tmp}/made.npy", ["--conv"], "--conv needs images"),
    (None, "digits", ["--labels", "--schedule", "cosine"], "--schedule applies"),
])
def test_bad_input_is_one_clear_line(tmp_path, rng, capsys, make, data, options, message):
    if make is not None:
        make(tmp_path / "made", rng)
    out = tmp_path / "run"
    code = main(["train", "--quiet", "--epochs", "1", "--data", data.format(tmp=tmp_path),
                 "--out", str(out), *options])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert err.count("\n") == 1 and err.startswith("tinyae train: error:")
    assert not (out / "model.npz").exists()


@pytest.mark.parametrize("value", ["0", "x", "3x", "4x5x6", "-2"])
def test_bad_image_size_is_one_line(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--image-size", value])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--image-size" in err and err.count("\n") == 1
