r"""Pictures of what an autoencoder learned: reconstructions, losses, codes, filters.

Every function builds a ``matplotlib.figure.Figure`` on an Agg canvas, never
through ``pyplot``, so it works headless (CI, servers) and in notebooks, and
leaves no global state behind: a figure is freed like any other object once
you drop it. Each returns the Figure and, given ``path``, also saves a PNG there
(creating the folder). Inside a Jupyter kernel (a notebook, or the book's build)
each also shows its figure inline, once, as it is made; :func:`save_figure` does
the same for a figure drawn by hand.

Figures are made for the page they are shown on, at their natural size: a PNG has
``DPI`` (100) pixels per inch, is at most ``MAX_WIDTH`` (8.8 in, 880 px: the text
column of the book at a 1280-px window) wide, and no text in it is smaller than
``MIN_FONT`` (9 pt). Saving enforces the last two for every figure, drawn by hand or
not: a wider figure is narrowed, its proportions kept (texts keep their point size),
and a smaller text is raised to ``MIN_FONT``.

Images come as flat rows, shape (N, D), one image per row, with pixels in
[0, 1]. ``image_shape`` says how to fold a row: ``(H, W)`` for gray or
``(3, H, W)`` for colour; by default $(\sqrt{D}, \sqrt{D})$, e.g. (8, 8) for the
built-in digits and (28, 28) for MNIST. Gray images are drawn dark on white.
"""

import io
import math
import sys
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from ._validate import check_array
from .errors import ShapeError
from .uses.pca import PCA

GRAY = "gray_r"  # 0 is white paper, 1 is black ink: digits look written
DIVERGING = "RdBu_r"  # filters: red positive, white zero, blue negative
TILE = 0.9  # inches per image tile
DPI = 100  # pixels per inch: a PNG shown at its natural size has the size it was drawn at
MAX_WIDTH = 8.8  # inches: 880 px, the width of the book's text column
MIN_FONT = 9  # points: the smallest text a figure may show at its natural size
PAD = 0.1  # inches of white around the tight box of a saved figure (savefig's default)


# ----- helpers ------------------------------------------------------------------------
def _figure(width, height):
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _notebook_kernel():
    """The IPython kernel running this code (Jupyter, the book's build), or None.

    IPython is never imported here: if it is not loaded already, this is a script.
    A terminal IPython has no kernel and cannot show images, so it counts as None.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def _raise_small_fonts(fig):
    """Raise every text below MIN_FONT to it; True if one was raised."""
    raised = False
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < MIN_FONT:
            text.set_fontsize(MIN_FONT)
            raised = True
    return raised


def _render(fig, dpi):
    """The figure as PNG bytes, cut to the tight box around what is drawn, plus PAD."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, bbox_inches="tight", pad_inches=PAD, format="png")
    return buffer.getvalue()


def _png_width(png):
    """Width in pixels, read from the PNG's header (the IHDR chunk)."""
    return int.from_bytes(png[16:20], "big")


def _fit_the_page(fig, dpi):
    """The figure as PNG bytes at most MAX_WIDTH wide, with no text below MIN_FONT.

    A figure wider than MAX_WIDTH is narrowed first (to MAX_WIDTH less the PAD on
    either side of the PNG), its proportions kept; texts keep
    their point size, and titles longer than the figure wrap. The width that counts is
    the PNG's (a legend or a label may stick out of the figure): if it is still too
    wide, the figure is narrowed by the excess and drawn again, a few times at most.
    Tick labels exist only once drawn, so small fonts are checked again after drawing.
    """
    _raise_small_fonts(fig)
    for title in [fig._suptitle] + [ax.title for ax in fig.axes]:
        if title is not None:
            title.set_wrap(True)  # a title longer than the figure breaks into lines
    width, height = fig.get_size_inches()
    fits = MAX_WIDTH - 2 * PAD  # the PNG adds PAD on each side of the tight box
    if width > fits:
        fig.set_size_inches(fits, height * fits / width)
    png = _render(fig, dpi)
    for _ in range(4):
        too_wide = _png_width(png) > MAX_WIDTH * dpi + 0.5
        if not (_raise_small_fonts(fig) or too_wide):
            break
        if too_wide:
            scale = 0.995 * MAX_WIDTH * dpi / _png_width(png)
            fig.set_size_inches(fig.get_size_inches() * scale)
        png = _render(fig, dpi)
    return png


def _finish(fig, path, title=None, dpi=DPI):
    if title:
        fig.suptitle(title, fontsize=11)
    kernel = _notebook_kernel()
    if path is None and kernel is None:
        return fig
    png = _fit_the_page(fig, dpi)  # drawn once, for the file and for the notebook alike
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
    if kernel is not None:
        from IPython.display import Image, display
        display(Image(data=png, format="png"))
    return fig


def save_figure(fig, path=None, dpi=DPI):
    """Save a figure drawn by hand as the plot functions save theirs; show it in a notebook.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Any figure, e.g. ``Figure(figsize=(6, 4), layout="constrained")`` with axes
        drawn on it. Before saving, a text smaller than ``MIN_FONT`` is raised to it
        and a figure wider than ``MAX_WIDTH`` is narrowed to it (module docstring).
    path : str or Path, optional
        Where to write the PNG; its folder is created. None writes no file.
    dpi : int
        Resolution of the PNG, ``DPI`` (100) by default like every tinyae figure, so
        that the PNG shown at its natural size has the size the figure was drawn at.

    Returns
    -------
    None
        Nothing, so that a notebook cell may end with this call: the figure has
        been shown already, and a returned Figure would be shown again, as text.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"save_figure expected a matplotlib Figure, got {type(fig).__name__}")
    _finish(fig, path, dpi=dpi)


def _image_shape(D, image_shape, who):
    """The shape one row of D pixels folds into: (H, W) or (3, H, W)."""
    if image_shape is None:
        side = math.isqrt(D)
        if side * side != D:
            raise ShapeError(
                f"{who}: cannot guess the image shape of {D} pixels ({D} is not a perfect "
                "square); pass image_shape=(H, W), or (3, H, W) for colour images"
            )
        return (side, side)
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[0] not in (1, 3)):
        raise ShapeError(f"{who}: image_shape must be (H, W) or (C, H, W) with C = 1 or 3, "
                         f"got {image_shape}")
    if math.prod(shape) != D:
        raise ShapeError(f"{who}: image_shape {shape} holds {math.prod(shape)} pixels, "
                         f"but each image has {D}")
    return shape


def _fold(row, shape):
    """One flat row -> an (H, W) gray or (H, W, 3) colour image for imshow."""
    img = row.reshape(shape)
    if img.ndim == 3:
        img = img[0] if shape[0] == 1 else img.transpose(1, 2, 0)  # CHW -> HWC
    return img


def _show(ax, img, title=None, cmap=GRAY, vmin=0.0, vmax=1.0):
    """Draw one image tile without ticks; colour images are clipped to [vmin, vmax]."""
    if img.ndim == 3:
        im = ax.imshow(np.clip((img - vmin) / (vmax - vmin), 0, 1), interpolation="nearest")
    else:
        im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=MIN_FONT)
    return im


def _images(X, who, image_shape):
    X = check_array(X, who, ndim=2)
    return X, _image_shape(X.shape[1], image_shape, who)


def _grid(fig, n, ncols):
    """n axes in rows of ncols; the unused cells of the last row are hidden."""
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_axis_off()
    return axes[:n]


# ----- figures --------------------------------------------------------------------------
def plot_reconstructions(X, X_hat, n=10, image_shape=None, path=None, title=None,
                         row_labels=None):
    """Originals in the top row, reconstructions below, one column per image.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    X_hat : ndarray (N, D), or a list of them
        Several arrays give several rows, e.g. ``[X_pca, X_ae]`` for the
        original / PCA / autoencoder figure of Hinton & Salakhutdinov (2006).
    n : int
        Number of images (columns), at most N.
    row_labels : sequence of str, optional
        One per row; default ``("original", "reconstruction")`` or
        ``("original", "reconstruction 1", ...)``.
    """
    X, shape = _images(X, "plot_reconstructions", image_shape)
    rows = [X] + [check_array(R, "plot_reconstructions", ndim=2)
                  for R in (X_hat if isinstance(X_hat, (list, tuple)) else [X_hat])]
    for R in rows[1:]:
        if R.shape[1] != X.shape[1] or len(R) < min(n, len(X)):
            raise ShapeError(f"plot_reconstructions: each X_hat must have shape {X.shape} "
                             f"like X, got {R.shape}")
    if row_labels is None:
        row_labels = ["original"] + (["reconstruction"] if len(rows) == 2 else
                                     [f"reconstruction {i}" for i in range(1, len(rows))])
    if len(row_labels) != len(rows):
        raise ValueError(f"plot_reconstructions: {len(rows)} rows but "
                         f"{len(row_labels)} row_labels: {list(row_labels)}")
    n = max(1, min(int(n), len(X)))
    fig = _figure(TILE * n + 1.0, TILE * len(rows))
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (R, label) in enumerate(zip(rows, row_labels, strict=True)):
        for i in range(n):
            _show(axes[r, i], _fold(R[i], shape))
        axes[r, 0].set_ylabel(label, fontsize=MIN_FONT)
    return _finish(fig, path, title)


def plot_loss_curves(history, path=None, title=None, log=False):
    """Training (and validation) loss per epoch.

    ``history`` is a :class:`~tinyae.optim.loop.History` or a dict with keys
    ``"train_loss"`` and ``"val_loss"``; missing validation epochs may be ``None``.
    """
    get = history.get if isinstance(history, dict) else lambda k: getattr(history, k, None)
    train = [np.nan if v is None else float(v) for v in (get("train_loss") or [])]
    val = [np.nan if v is None else float(v) for v in (get("val_loss") or [])]
    if not train and not val:
        raise ValueError("plot_loss_curves: history has no train_loss or val_loss values")
    fig = _figure(6.0, 4.0)
    ax = fig.subplots()
    marker = "o" if max(len(train), len(val)) <= 30 else None
    for values, label in ((train, "train"), (val, "validation")):
        if values and not np.all(np.isnan(values)):
            ax.plot(np.arange(1, len(values) + 1), values, marker=marker, ms=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, path, title)


def plot_codes(codes, labels=None, path=None, title=None):
    """Scatter of the codes, coloured by label.

    Codes of shape (N, 2) are drawn as they are; (N, K > 2) are projected on
    their first two principal components (the axes say "PC 1", "PC 2"); (N, 1)
    are drawn against a small vertical jitter that carries no meaning.
    Up to 10 distinct labels get tab10 colours and a legend; more, a colorbar.
    """
    codes = check_array(codes, "plot_codes", ndim=2)
    N, K = codes.shape
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != N:
            raise ShapeError(f"plot_codes: {N} codes but {len(labels)} labels")
    if K == 1:
        xy = np.column_stack([codes[:, 0], np.random.default_rng(0).uniform(-1, 1, N)])
        xlabel, ylabel = "code", "jitter (no meaning)"
    elif K == 2:
        xy, xlabel, ylabel = codes, "code 1", "code 2"
    else:
        xy = PCA(2).fit(codes).transform(codes)
        xlabel, ylabel = f"PC 1 of the {K}-D codes", f"PC 2 of the {K}-D codes"
    fig = _figure(6.5, 5.0)
    ax = fig.subplots()
    style = dict(s=10, alpha=0.75, linewidths=0)
    classes = np.unique(labels) if labels is not None else []
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], **style)
    elif len(classes) <= 10:
        tab10 = colormaps["tab10"]
        for i, c in enumerate(classes):
            ax.scatter(*xy[labels == c].T, color=tab10(i), label=str(c), **style)
        ax.legend(title="label", loc="center left", bbox_to_anchor=(1.01, 0.5),
                  markerscale=2, fontsize=MIN_FONT, frameon=False)
    else:
        points = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="viridis", **style)
        fig.colorbar(points, ax=ax, label="label")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if K == 1:
        ax.set_yticks([])
    return _finish(fig, path, title)


def plot_filters(W, image_shape=None, n=None, path=None, title=None):
    """The encoder's weights as images: column j of W (D, H) is what hidden unit j looks for.

    ``W`` may be a model: ``plot_filters(model)`` shows the weights of the
    first layer of ``model.encoder``; for a convolutional model, its kernels
    ``(out, in, kh, kw)``, each drawn as a ``kh × kw`` tile (first input channel,
    or all three as an RGB patch when ``in`` is 3). Each tile is scaled by its own
    largest absolute weight, so white is 0, full red is +max, full blue −max;
    colour filters (``image_shape`` ``(3, H, W)`` or RGB kernels) show the three
    channels' weights as red, green and blue, mid-gray being 0.
    """
    if hasattr(W, "encoder"):
        W = next(m.params["W"] for m in W.encoder.layers if "W" in getattr(m, "params", {}))
    if np.ndim(W) == 4:  # conv kernels: one tile per output channel
        W = np.asarray(W)
        W = W if W.shape[1] == 3 else W[:, 0]  # colour kernels as RGB patches
        image_shape = W.shape[1:]
        W = W.reshape(len(W), -1).T
    W = check_array(W, "plot_filters", ndim=2)
    shape = _image_shape(W.shape[0], image_shape, "plot_filters")
    n = W.shape[1] if n is None else max(1, min(int(n), W.shape[1]))
    ncols = math.ceil(math.sqrt(n))
    fig = _figure(TILE * ncols + 0.8, TILE * math.ceil(n / ncols))
    axes = _grid(fig, n, ncols)
    for j, ax in enumerate(axes):
        w = W[:, j]
        scale = np.abs(w).max() or 1.0
        im = _show(ax, _fold(w / scale, shape), cmap=DIVERGING, vmin=-1.0, vmax=1.0)
    if len(shape) == 2:
        bar = fig.colorbar(im, ax=list(axes), shrink=0.6, ticks=[-1, 0, 1])
        bar.ax.set_yticklabels(["−max", "0", "+max"], fontsize=MIN_FONT)
    return _finish(fig, path, title)


def plot_interpolation(model, x_a, x_b, steps=10, image_shape=None, path=None, title=None):
    """Walk in code space: $x_a$, then decode $(1 - t) z_a + t z_b$ for $t$ in [0, 1], then $x_b$.

    ``steps`` values of t, evenly spaced. ``z_a`` and ``z_b`` are the codes of
    ``x_a`` and ``x_b`` (each of shape (D,) or (1, D)); the first and last
    decoded images are therefore their reconstructions.
    """
    ends = check_array(np.stack([np.ravel(x_a), np.ravel(x_b)]), "plot_interpolation", ndim=2)
    shape = _image_shape(ends.shape[1], image_shape, "plot_interpolation")
    steps = max(2, int(steps))
    z_a, z_b = model.encode(ends)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    decoded = model.decode((1 - t) * z_a + t * z_b).reshape(steps, -1)
    fig = _figure(TILE * (steps + 2), TILE + 0.4)
    axes = fig.subplots(1, steps + 2, squeeze=False)[0]
    _show(axes[0], _fold(ends[0], shape), "x_a")
    for ax, img, ti in zip(axes[1:-1], decoded, t[:, 0], strict=True):
        _show(ax, _fold(img, shape), f"t={ti:.2f}")
    _show(axes[-1], _fold(ends[1], shape), "x_b")
    return _finish(fig, path, title)


def plot_image_grid(images, image_shape=None, ncols=10, path=None, title=None):
    """Images (N, D) in a grid of ``ncols`` columns, e.g. samples decoded from random codes."""
    images, shape = _images(images, "plot_image_grid", image_shape)
    ncols = max(1, min(int(ncols), len(images)))
    fig = _figure(TILE * ncols, TILE * math.ceil(len(images) / ncols))
    for ax, row in zip(_grid(fig, len(images), ncols), images, strict=True):
        _show(ax, _fold(row, shape))
    return _finish(fig, path, title)
