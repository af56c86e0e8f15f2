"""Plots: every function writes a real PNG, headless, and refuses a bad image shape clearly."""

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.errors import ShapeError
from tinyae.train import History

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data():
    return np.random.default_rng(0).random((12, 64))


@pytest.fixture
def model():
    return ta.Autoencoder.shallow(64, 2, seed=0)


def read_png(path):
    """Check ``path`` is a non-empty PNG and return its pixels, (H, W, 3 or 4)."""
    raw = path.read_bytes()
    assert raw.startswith(PNG_SIGNATURE) and len(raw) > len(PNG_SIGNATURE)
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4)
    assert pixels.shape[0] > 20 and pixels.shape[1] > 20
    return pixels


def test_reconstructions(tmp_path, data, model):
    path = tmp_path / "sub" / "recon.png"  # the missing folder is created
    fig = plots.plot_reconstructions(data, model.reconstruct(data), n=5, path=path,
                                     title="reconstructions")
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 5
    read_png(path)


def test_reconstructions_with_three_rows(tmp_path, data, model):
    path = tmp_path / "three.png"
    rows = [np.clip(data + 0.1, 0, 1), model.reconstruct(data)]
    fig = plots.plot_reconstructions(data, rows, n=4, path=path,
                                     row_labels=("original", "PCA", "autoencoder"))
    assert len(fig.axes) == 3 * 4
    assert [fig.axes[4 * r].get_ylabel() for r in range(3)] == ["original", "PCA", "autoencoder"]
    read_png(path)
    with pytest.raises(ValueError, match="3 rows but 2 row_labels"):
        plots.plot_reconstructions(data, rows, row_labels=("a", "b"))


def test_no_file_without_a_path(tmp_path, data):
    fig = plots.plot_image_grid(data)
    assert isinstance(fig, Figure) and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("history", [
    History(train_loss=[3.0, 2.0, 1.5], val_loss=[3.5, 2.5, 2.0]),
    History(train_loss=[3.0, 2.0, 1.5]),
    {"train_loss": [3.0, 2.0, 1.5], "val_loss": [None, 2.5, None]},
])
@pytest.mark.parametrize("log", [False, True])
def test_loss_curves(tmp_path, history, log):
    path = tmp_path / "loss.png"
    fig = plots.plot_loss_curves(history, path=path, title="loss", log=log)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_yscale() == ("log" if log else "linear")
    assert ax.get_legend() is not None
    read_png(path)


def test_loss_curves_of_a_real_fit(tmp_path, data, model):
    history = model.fit(data, epochs=3, validation_data=data, verbose=0)
    fig = plots.plot_loss_curves(history, path=tmp_path / "fit.png")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["train", "validation"]


def test_loss_curves_need_values():
    with pytest.raises(ValueError, match="no train_loss"):
        plots.plot_loss_curves({"train_loss": []})


@pytest.mark.parametrize("K,xlabel", [(1, "code"), (2, "code 1"), (5, "PC 1 of the 5-D codes")])
def test_codes(tmp_path, K, xlabel):
    rng = np.random.default_rng(0)
    codes, labels = rng.normal(size=(40, K)), rng.integers(0, 10, 40)
    path = tmp_path / f"codes{K}.png"
    fig = plots.plot_codes(codes, labels, path=path, title="codes")
    assert fig.axes[0].get_xlabel() == xlabel
    read_png(path)


def test_codes_of_a_model_without_labels_and_with_many_classes(tmp_path, data, model):
    codes = model.encode(data)
    plots.plot_codes(codes, path=tmp_path / "none.png")
    read_png(tmp_path / "none.png")
    fig = plots.plot_codes(codes, labels=np.arange(12), path=tmp_path / "many.png")
    assert len(fig.axes) == 2  # the scatter and its colorbar
    with pytest.raises(ShapeError, match="12 codes but 3 labels"):
        plots.plot_codes(codes, labels=[0, 1, 2])


def test_filters_from_weights_and_from_a_model(tmp_path, model):
    W = model.encoder.layers[0].params["W"]
    fig = plots.plot_filters(model, path=tmp_path / "filters.png", title="filters")
    tiles = [ax for ax in fig.axes if ax.images]
    assert len(tiles) == 2 and len(fig.axes) == 2 + 1  # two filters and the colorbar
    read_png(tmp_path / "filters.png")
    fig = plots.plot_filters(np.random.default_rng(0).normal(size=(64, 10)), n=7)
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(shown) == 7 and all(np.abs(a).max() == pytest.approx(1.0) for a in shown)
    np.testing.assert_allclose(tiles[0].images[0].get_array(),
                               (W[:, 0] / np.abs(W[:, 0]).max()).reshape(8, 8))


def test_interpolation(tmp_path, data, model):
    path = tmp_path / "interp.png"
    fig = plots.plot_interpolation(model, data[0], data[1:2], steps=6, path=path)
    assert len(fig.axes) == 6 + 2
    assert [ax.get_title() for ax in (fig.axes[0], fig.axes[1], fig.axes[-1])] == \
           ["x_a", "t=0.00", "x_b"]
    # The ends of the walk decode the codes of x_a and x_b: their reconstructions.
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(),
                               model.reconstruct(data[:1]).reshape(8, 8))
    read_png(path)


def test_image_grid_hides_empty_cells(tmp_path, data):
    fig = plots.plot_image_grid(data[:7], ncols=3, path=tmp_path / "grid.png", title="samples")
    assert len(fig.axes) == 9 and sum(ax.axison for ax in fig.axes) == 7
    read_png(tmp_path / "grid.png")


def test_gray_digits_are_dark_on_white_and_upright(tmp_path):
    img = np.zeros((1, 16))
    img[0, :8] = 1.0  # top half of a 4x4 image is ink
    plots.plot_image_grid(img, path=tmp_path / "g.png")
    pixels = read_png(tmp_path / "g.png")
    H, W = pixels.shape[:2]
    top, bottom = pixels[int(H * 0.3), W // 2, :3], pixels[int(H * 0.7), W // 2, :3]
    assert top.max() < 0.2 and bottom.min() > 0.8


def test_colour_images_are_channels_first(tmp_path):
    img = np.zeros((1, 3, 6, 6))
    img[0, 0] = 1.0  # the red channel only
    path = tmp_path / "red.png"
    plots.plot_image_grid(img.reshape(1, -1), image_shape=(3, 6, 6), path=path)
    pixels = read_png(path)
    r, g, b = pixels[pixels.shape[0] // 2, pixels.shape[1] // 2, :3]
    assert r > 0.9 and g < 0.1 and b < 0.1


def test_bad_image_shape_is_explained(data):
    with pytest.raises(ShapeError, match="63 is not a perfect square"):
        plots.plot_image_grid(data[:, :63])
    with pytest.raises(ShapeError, match=r"holds 63 pixels, but each image has 64"):
        plots.plot_reconstructions(data, data, image_shape=(7, 9))
    with pytest.raises(ShapeError, match=r"\(H, W\) or \(C, H, W\)"):
        plots.plot_filters(np.ones((64, 3)), image_shape=(4, 4, 4))
    with pytest.raises(ShapeError, match="X_hat must have shape"):
        plots.plot_reconstructions(data, data[:, :16])


def test_saved_figures_fit_the_book_column(tmp_path):
    """Too wide, with small text: saved at most MAX_WIDTH wide, no text under MIN_FONT."""
    from matplotlib.text import Text

    fig = Figure(figsize=(14, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_xlabel("x", fontsize=6)
    ax.set_title("a figure drawn far too wide", fontsize=7)
    ax.legend(fontsize=5)
    plots.save_figure(fig, tmp_path / "wide.png")
    assert read_png(tmp_path / "wide.png").shape[1] <= plots.MAX_WIDTH * plots.DPI
    assert min(t.get_fontsize() for t in fig.findobj(Text) if t.get_text()) >= plots.MIN_FONT
    # A plot function's figure, and a title longer than the column (it wraps).
    images = np.random.default_rng(0).random((20, 64))
    plots.plot_reconstructions(images, images, n=20, title="a long title " * 12,
                               path=tmp_path / "long.png")
    assert read_png(tmp_path / "long.png").shape[1] <= plots.MAX_WIDTH * plots.DPI
