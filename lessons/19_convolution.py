# %% [markdown]
# # Lesson 19: Convolution
#
# A Dense layer connects every pixel to every unit with its own weight. It does not know
# that pixels have neighbours, or that a stroke in the top-left corner is the same
# stroke one pixel to the right. A **convolution** slides one small kernel over the
# image: each output pixel looks only at a small patch (locality), and every patch is
# weighed with the same kernel (weight sharing). This lesson builds the convolution from
# its definition, makes it fast, derives its backward pass, checks every gradient, and
# then puts it in an autoencoder to compare with the dense one.
#
# ## Objectives
#
# - Compute a 2-D convolution by hand from its definition, with stride and padding, and
#   predict the output size $n_H^{out} = \lfloor (n_H + 2p - k)/s \rfloor + 1$.
# - Rewrite it as one matrix product on patches (**im2col**) and check that both give
#   the same numbers.
# - Derive the backward pass: $\partial L/\partial W$, $\partial L/\partial b$, and the
#   input gradient, and see why the input gradient is a **transposed convolution**.
# - Check the gradients of `Conv2D`, `ConvTranspose2D`, `MaxPool2D` and `Upsample2D`
#   against finite differences.
# - Train a convolutional autoencoder and a dense one with the same code size on the
#   digits, and compare their parameters, test error, filters, reconstructions,
#   arithmetic and time per epoch.
#
# ## Prerequisites
#
# Lesson 2 (the Dense layer and its initialisation), lesson 5 (backpropagation), lesson
# 6 (gradient checking with `check_module`), lesson 7 (training with Adam) and lesson 8
# (`Autoencoder.deep` and reading filters). The layers of this lesson live in
# `tinyae/nn/conv.py`; their loop versions in `tinyae/nn/conv_loops.py`.

# %%
import os
from pathlib import Path
FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import time

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import tinyae as ta
from tinyae import plots
from tinyae.conv import (
    Conv2D,
    ConvTranspose2D,
    Flatten,
    MaxPool2D,
    Reshape,
    Upsample2D,
    col2im,
    im2col,
)
from tinyae.conv_reference import conv2d_backward_loops, conv2d_loops
from tinyae.errors import DataFormatError
from tinyae.gradcheck import check_module
from tinyae.module import Sequential

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The definition
#
# Images come in batches of shape $(N, C, n_H, n_W)$: batch, channels, height, width
# (NCHW, PyTorch's layout; we write the sizes $n_H$ and $n_W$ because the letter $W$ is
# taken by the weights). A convolution from $C$ to $C_{out}$ channels has a kernel $W$
# of shape $(C_{out}, C, k_h, k_w)$ and a bias $b$ of shape $(C_{out},)$. Pad each image
# with $p$ zeros on every side (call the result $x_p$), then step the kernel by the
# stride $s$:
#
# $$y[n, o, i, j] = b[o] + \sum_{c}\sum_{u}\sum_{v}\; W[o, c, u, v]\;
#   x_p[n, c,\; i s + u,\; j s + v].$$
#
# Output pixel $(i, j)$ sees the patch whose top-left corner is at $(is, js)$. The
# kernel fits $\lfloor (n_H + 2p - k_h)/s \rfloor$ more times after the first, so
# $n_H^{out} = \lfloor (n_H + 2p - k_h)/s \rfloor + 1$ (and the same for the width).
# (Strictly this is a *cross-correlation*: a mathematician's convolution flips the
# kernel. Every deep learning library computes this one and calls it convolution.)
#
# `conv2d_loops` is that formula as four nested loops, over $n, o, i, j$, with the
# triple sum as `np.sum(W[o] * patch)`. A 3×3 image and a 2×2 kernel, by hand:
#
# $$x = \begin{pmatrix}1&2&3\\4&5&6\\7&8&9\end{pmatrix},\qquad
#   W = \begin{pmatrix}1&2\\3&4\end{pmatrix}:$$
#
# $$\begin{aligned}
# y_{00} &= 1\cdot1 + 2\cdot2 + 4\cdot3 + 5\cdot4 = 37,\\
# y_{01} &= 2\cdot1 + 3\cdot2 + 5\cdot3 + 6\cdot4 = 47,
# \end{aligned}$$
#
# and likewise $y_{10} = 67$, $y_{11} = 77$.

# %%
x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
W = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
b = np.zeros(1)
y = conv2d_loops(x, W, b)
print("y =\n", y[0, 0])
assert np.array_equal(y[0, 0], [[37, 47], [67, 77]])

# stride 2, padding 1: the padded image is 5x5, the output floor((3 + 2 - 2)/2) + 1 = 2
y_sp = conv2d_loops(x, W, b, stride=2, padding=1)
print("stride 2, padding 1:\n", y_sp[0, 0])
assert np.array_equal(y_sp[0, 0], [[1 * 4, 2 * 3 + 3 * 4],
                                   [4 * 2 + 7 * 4, 5 + 12 + 24 + 36]])

# %% [markdown]
# The layer `Conv2D(in_channels, out_channels, kernel_size, stride=1, padding=0)`
# computes the same thing; its weights `params["W"]` have exactly the shape above.
# Because every patch is weighed with the same kernel, a shifted image gives a shifted
# output: the convolution is **translation equivariant** (away from the borders, where
# the padding differs). A Dense layer has no such property: a digit moved by one pixel
# is, to it, a new pattern.

# %%
conv = Conv2D(1, 4, 3, padding=1, seed=0)
image = rng.uniform(0, 1, (1, 1, 12, 12))
image[..., -1:] = 0                                   # room to shift right without loss
shifted = np.roll(image, 1, axis=3)                   # one pixel to the right
out, out_shifted = conv.forward(image), conv.forward(shifted)
gap = np.abs(np.roll(out, 1, axis=3)[..., 2:-2] - out_shifted[..., 2:-2]).max()
print(f"{conv!r}: shift then convolve vs convolve then shift,\n"
      f"largest difference {gap:.1e}")
assert gap < 1e-12

# %% [markdown]
# ## 2. im2col: the convolution as one matrix product
#
# Four Python loops are slow. Look again at the formula: for a fixed output pixel, the
# triple sum is a dot product between the kernel $W[o]$, flattened to $C k_h k_w$
# numbers, and the patch under it, flattened the same way. So cut every patch out of the
# padded images and stand it up as a **column** of a matrix:
#
# $$\text{cols}[(c, u, v),\, (n, i, j)] = x_p[n, c,\, is + u,\, js + v],\qquad
#   \text{cols} \in \mathbb{R}^{C k_h k_w \times N n_H^{out} n_W^{out}}.$$
#
# With the kernels as the rows of $W_2 = $ `W.reshape(C_out, C·kh·kw)`, all outputs of
# all images come from one matrix product,
#
# $$Y = W_2\, \text{cols} + b \qquad (C_{out} \times N n_H^{out} n_W^{out}),$$
#
# which is a Dense layer (in the column convention $W x + b$) applied to every patch at
# once. `im2col` builds `cols` without any Python loop: NumPy's `sliding_window_view` is
# a view of every window, slicing with step $s$ keeps every $s$-th, and one copy lays
# them out. The matrix product then runs in BLAS.

# %%
cols = im2col(x, kernel_size=2)
print("cols (one patch per column):\n", cols)
W2 = W.reshape(1, -1)
print("W2 @ cols =", W2 @ cols)
assert np.array_equal((W2 @ cols).reshape(2, 2), y[0, 0])


def draw_im2col(path):
    """The 3x3 image with two of its 2x2 patches, and the patches as columns of cols."""
    fig = Figure(figsize=(8.6, 3.6), layout="constrained")
    ax_img, ax_cols, ax_y = fig.subplots(1, 3, width_ratios=[3, 4, 4])
    colours = {0: "tab:red", 3: "tab:blue"}
    ax_img.imshow(x[0, 0], cmap="Greys", vmin=0, vmax=25)
    for (r, c), v in np.ndenumerate(x[0, 0]):
        ax_img.text(c, r, f"{v:g}", ha="center", va="center", fontsize=12)
    for col, colour in colours.items():
        i, j = divmod(col, 2)
        ax_img.add_patch(Rectangle((j - 0.45, i - 0.45), 1.9, 1.9, fill=False, lw=3,
                                   ec=colour))
    ax_img.set_title("image x (3×3),\ntwo of its 2×2 patches", fontsize=10)
    ax_cols.imshow(cols, cmap="Greys", vmin=0, vmax=25)
    for (r, c), v in np.ndenumerate(cols):
        ax_cols.text(c, r, f"{v:g}", ha="center", va="center", fontsize=12)
    for col, colour in colours.items():
        ax_cols.add_patch(Rectangle((col - 0.45, -0.45), 0.9, 3.9, fill=False, lw=3,
                                    ec=colour))
    ax_cols.set_title("cols = im2col(x, 2):\npatch (i, j) is column 2i + j",
                      fontsize=10)
    ax_cols.set_yticks(range(4), ["(0,0)", "(0,1)", "(1,0)", "(1,1)"])
    ax_cols.set_ylabel("kernel entry (u, v)")
    ax_cols.set_xticks(range(4), ["(0,0)", "(0,1)", "(1,0)", "(1,1)"])
    ax_cols.set_xlabel("output pixel (i, j)")
    Y = W2 @ cols
    ax_y.imshow(Y, cmap="Greys", vmin=0, vmax=150)
    for (r, c), v in np.ndenumerate(Y):
        ax_y.text(c, r, f"{v:g}", ha="center", va="center", fontsize=12)
    ax_y.set_title("W2 @ cols, with W2 = [1 2 3 4]:\nthe output, one pixel per column",
                   fontsize=10)
    ax_y.set_yticks([])
    ax_y.set_xticks(range(4), ["(0,0)", "(0,1)", "(1,0)", "(1,1)"])
    for ax in (ax_img,):
        ax.set_xticks([])
        ax.set_yticks([])
    plots.save_figure(fig, path, dpi=100)
    return fig


# %% [markdown]
# {numref}`fig-19-im2col` draws it.

# %% mystnb={"figure": {"caption": "im2col on the 3×3 image: two of its 2×2 patches (left) become columns of the matrix cols (middle), and the kernel as a row, W2, times cols gives every output pixel at once (right).", "name": "fig-19-im2col"}}
fig = draw_im2col(FIGURES / "19_im2col.png")

# %% [markdown]
# The layer `Conv2D` is `im2col`, one matrix product and a reshape to
# $(N, C_{out}, n_H^{out}, n_W^{out})$. Both versions must give the same numbers for any
# batch, channels, kernel, stride and padding; we draw a few random configurations and
# compare (the test suite draws many more). Then we time both on the same batch.

# %%
worst = 0.0
for trial in range(8):
    N, C, C_out = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 5)
    k, s, p = rng.integers(1, 4), rng.integers(1, 3), rng.integers(0, 2)
    H, Wd = rng.integers(k, 9), rng.integers(k, 9)
    layer = Conv2D(C, C_out, k, s, p, seed=trial)
    layer.params["b"][:] = rng.standard_normal(C_out)
    xb = rng.standard_normal((N, C, H, Wd))
    by_loops = conv2d_loops(xb, layer.params["W"], layer.params["b"], s, p)
    diff = np.abs(layer.forward(xb) - by_loops).max()
    worst = max(worst, diff)
print(f"loops vs im2col on 8 random configurations: largest difference {worst:.1e}")
assert worst < 1e-12

xb = rng.standard_normal((4, 8, 14, 14) if FAST else (16, 8, 14, 14))
layer = Conv2D(8, 16, 3, padding=1, seed=0)
start = time.perf_counter()
y_loops = conv2d_loops(xb, layer.params["W"], layer.params["b"], 1, 1)
t_loops = time.perf_counter() - start
start = time.perf_counter()
for _ in range(10):
    y_fast = layer.forward(xb)
t_fast = (time.perf_counter() - start) / 10
print(f"batch {xb.shape}: loops {t_loops * 1e3:.0f} ms, im2col {t_fast * 1e3:.2f} ms "
      f"({t_loops / t_fast:.0f}x faster),\n"
      f"same numbers: {np.allclose(y_loops, y_fast)}")
assert np.allclose(y_loops, y_fast) and t_loops > 10 * t_fast

# %% [markdown]
# The two steps cost different things. `im2col` does no arithmetic at all: it copies
# every pixel about $k_h k_w / s^2$ times (9 times for a 3×3 kernel at stride 1). The
# matrix product does all the arithmetic. On small images the copying is often the
# larger part of the time.
#
# ## 3. The backward pass, and why it is a transposed convolution
#
# Given $dY = \partial L/\partial Y$, with the same layout as $Y$, the forward
# $Y = W_2\,\text{cols} + b$ is a Dense layer, so its backward is Dense's (lesson 5):
#
# $$dW_2 = dY\, \text{cols}^\top, \qquad db = \textstyle\sum_{\text{columns}} dY,
#   \qquad d\text{cols} = W_2^\top\, dY.$$
#
# Written out,
# $dW[o, c, u, v] = \sum_{n,i,j} dy[n, o, i, j]\; x_p[n, c, is + u, js + v]$: each
# weight collects its effect on every output it touched. That is itself a correlation,
# of the input with the output gradient.
#
# The last step is new. $d\text{cols}$ is the gradient of every *patch*, but patches
# overlap: a pixel that sits in four patches influenced four outputs, so its gradient is
# the sum of the four. `col2im` adds every column of $d\text{cols}$ back onto the pixels
# it was cut from (and drops what lands on the padding):
#
# $$dx[n, c, is + u - p,\; js + v - p]
#   \mathrel{+}= d\text{cols}[(c, u, v), (n, i, j)].$$
#
# In tinyae it loops only over the $k_h k_w$ kernel offsets $(u, v)$: for one offset,
# the patches of all images and positions land on one strided slice, added in one NumPy
# call. Forgetting the `+=` (writing `=`) is the classic bug; the gradient check catches
# it.
#
# With $dy$ all ones on the 3×3 example, each pixel receives the sum of the kernel
# entries that touched it, which is the kernel "painted" at each output position:
#
# $$dx = \begin{pmatrix}1 & 1+2 & 2\\ 1+3 & 1+2+3+4 & 2+4\\ 3 & 3+4 & 4\end{pmatrix}
#      = \begin{pmatrix}1 & 3 & 2\\ 4 & 10 & 6\\ 3 & 7 & 4\end{pmatrix}.$$

# %%
conv = Conv2D(1, 1, 2)
conv.params["W"][...] = W
conv.forward(x)
dx = conv.backward(np.ones((1, 1, 2, 2)))
print("dx =\n", dx[0, 0])
assert np.array_equal(dx[0, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
dY = np.ones((1, 4))                                   # dy as a matrix, like Y
# every patch's gradient: W2 itself
dcols = W2.T @ dY
print("dcols = W2.T @ dY (one column per patch):\n", dcols)
assert np.array_equal(col2im(dcols, x.shape, 2), dx)   # added back onto the pixels
dx_loops, dW_loops, db_loops = conv2d_backward_loops(x, W, np.ones((1, 1, 2, 2)))
assert np.array_equal(dx, dx_loops) and np.array_equal(conv.grads["W"], dW_loops)

# %% [markdown]
# **Why "transposed".** A convolution is linear in its input, so for a fixed kernel it
# is a matrix: flatten the image to a vector $\vec{x}$ and the output to $\vec{y}$, and
# $\vec{y} = A\vec{x}$ for some matrix $A$ (plus the bias). We can build $A$ column by
# column by convolving each basis image (a single 1 pixel). The chain rule for a matrix
# product says $\partial L/\partial\vec{x} = A^\top\, \partial L/\partial\vec{y}$, so
# **the input gradient of a convolution is multiplication by $A^\top$**. That map is
# useful on its own: where $A$ shrinks a 5×5 image to 3×3 (stride 2), $A^\top$ grows 3×3
# back to 5×5. `ConvTranspose2D` is exactly this map run forward, with learnable
# weights: the decoder's way back up. Its output size is
# $n_H^{out} = (n_H - 1)s - 2p + k + \text{output\_padding}$, the inverse of the
# convolution's formula; `output_padding` (less than $s$) picks which of the $s$ input
# sizes that a stride-$s$ convolution maps to the same output it should return to.

# %%
conv = Conv2D(1, 1, 3, stride=2, padding=1, seed=3)
# column j of A: the output of the image whose only nonzero pixel is pixel j
A = np.stack([conv.forward(e.reshape(1, 1, 5, 5)).ravel() for e in np.eye(25)], axis=1)
print(f"{conv!r} on 5x5 images is a {A.shape[0]}x{A.shape[1]} matrix A")
dy = rng.standard_normal((1, 1, 3, 3))
conv.forward(rng.standard_normal((1, 1, 5, 5)))
dx = conv.backward(dy)
up = ConvTranspose2D(1, 1, 3, stride=2, padding=1, output_padding=0)
up.params["W"][...] = conv.params["W"]                     # the same kernel
assert np.allclose(dx.ravel(), A.T @ dy.ravel())           # backward = A^T
assert np.allclose(up.forward(dy).ravel(), A.T @ dy.ravel())   # ConvTranspose2D = A^T
print("Conv2D.backward(dy) == A.T @ dy == ConvTranspose2D(same W).forward(dy): True")

# %% [markdown]
# {numref}`fig-19-conv-matrix` shows $A$ and $A^\top$.

# %% mystnb={"figure": {"caption": "The convolution Conv2D(1 → 1, 3×3, stride 2, padding 1) on 5×5 images as a 9 × 25 matrix A (left), and its transpose (right): the input gradient of the convolution, and the forward map of ConvTranspose2D with the same kernel.", "name": "fig-19-conv-matrix"}}
fig = Figure(figsize=(8.6, 4.2), layout="constrained")
ax_a, ax_t = fig.subplots(1, 2, width_ratios=[25, 9])
lim = np.abs(A).max()
ax_a.imshow(A, cmap="RdBu_r", vmin=-lim, vmax=lim)
ax_a.set_title(f"A: {conv!r} on 5×5 images\n(9 outputs × 25 input pixels)", fontsize=10)
ax_a.set_xlabel("input pixel (row by row)")
ax_a.set_ylabel("output pixel")
im = ax_t.imshow(A.T, cmap="RdBu_r", vmin=-lim, vmax=lim)
ax_t.set_title("Aᵀ: Conv2D.backward,\n= ConvTranspose2D forward", fontsize=10)
ax_t.set_xlabel("input pixel of Aᵀ (3×3)")
ax_t.set_ylabel("output pixel of Aᵀ (5×5)")
fig.colorbar(im, ax=[ax_a, ax_t], shrink=0.7, label="weight")
plots.save_figure(fig, FIGURES / "19_conv_matrix.png", dpi=100)

# %% [markdown]
# $A$ is mostly zeros (each output sees at most 9 of the 25 pixels, fewer at the padded
# border) and its rows repeat the same 9 weights shifted along: weight sharing, seen as
# a matrix. A Dense layer from 25 to 9 would have 225 free weights here; the convolution
# has 9. `ConvTranspose2D` follows the same strategy in reverse: its forward is
# `col2im(W2ᵀ @ X)` and its backward is `im2col` followed by matrix products, a plain
# convolution. Each layer's forward is the other's backward.
#
# ## 4. Gradient checks
#
# Every layer is checked against centred finite differences in float64 (lesson 6), on a
# batch of random images, with random weights and biases. `MaxPool2D` passes its
# gradient to the largest value of each window; at a tie the function has a kink, so its
# input is drawn without ties. Last, a whole small convolutional autoencoder, from the
# image to the reconstruction, is checked in one go.

# %%
def randomized(layer):
    for p in layer.params.values():
        p[...] = rng.standard_normal(p.shape)
    return layer


images = rng.standard_normal((2, 3, 7, 6))
no_ties = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0
tiny_ae = Sequential([
    Conv2D(1, 2, 3, 2, 1, seed=1), ta.Tanh(), Flatten(), ta.Dense(2 * 4 * 4, 3, seed=2),
    ta.Dense(3, 2 * 4 * 4, seed=3), ta.Tanh(), Reshape((2, 4, 4)),
    ConvTranspose2D(2, 1, 3, 2, 1, 1, seed=4), ta.Sigmoid()])
checks = [
    (randomized(Conv2D(3, 4, 3, stride=2, padding=1)), images),
    (randomized(Conv2D(3, 2, (2, 3), stride=(1, 2))), images),
    (randomized(ConvTranspose2D(3, 2, 3, stride=2, padding=1, output_padding=1)),
     images),
    (MaxPool2D(2), no_ties),
    (MaxPool2D(3, stride=2), no_ties),
    (Upsample2D(2), images),
    (tiny_ae, rng.uniform(0, 1, (2, 1, 8, 8))),
]
for layer, inputs in checks:
    report = check_module(layer, inputs)
    name = "conv autoencoder" if layer is tiny_ae else repr(layer)
    print(f"{name:<48} largest relative error {report.max_error:.1e}  "
          f"{'PASSED' if report.passed else 'FAILED'}")
    assert report.passed and report.max_error < 1e-7, str(report)

# %% [markdown]
# ## 5. A convolutional autoencoder on the digits
#
# Now the comparison. Both models squeeze the 8×8 digits through a code of `CODE = 8`
# numbers and are trained with the same loss (squared error per image), optimizer
# (Adam, learning rate $10^{-3}$), batch size and number of epochs, in float32.
#
# - **Dense**: `Autoencoder.deep([64, 128, 8])`, i.e. 64 → 128 → 8 → 128 → 64 (lesson
#   8).
# - **Convolutional**: two convolutions bring the image to 32 channels of 4×4, a Dense
#   layer maps those 512 numbers to the code, and the decoder mirrors it:
#   `Conv2D(1→16, k3, p1)` + ReLU → `Conv2D(16→32, k3, s2, p1)` + ReLU (8×8 → 4×4) →
#   `Flatten` → `Dense(512 → 8)`; then `Dense(8 → 512)` + ReLU → `Reshape((32, 4, 4))` →
#   `ConvTranspose2D(32→16, k3, s2, p1, op1)` + ReLU (4×4 → 8×8) →
#   `Conv2D(16→1, k3, p1)` → sigmoid.
#
# The two have about the same number of parameters. `Autoencoder` itself expects flat
# rows, so the convolutional model is a `Sequential` trained with an explicit minibatch
# loop: the same four lines `fit` runs for us (forward, loss, backward, optimizer step).

# %%
X, y = ta.load_digits(dtype=np.float32)
X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
img_train, img_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
CODE = 8
EPOCHS = 6 if FAST else 60


def conv_autoencoder(code, seed=0):
    """The convolutional autoencoder above, for 1x8x8 images."""
    g = np.random.default_rng(seed)
    f32 = np.float32
    return Sequential([
        Conv2D(1, 16, 3, padding=1, seed=g, dtype=f32), ta.ReLU(),
        Conv2D(16, 32, 3, stride=2, padding=1, seed=g, dtype=f32), ta.ReLU(),
        Flatten(), ta.Dense(32 * 4 * 4, code, "glorot", g, f32),
        ta.Dense(code, 32 * 4 * 4, "he", g, f32), ta.ReLU(), Reshape((32, 4, 4)),
        ConvTranspose2D(32, 16, 3, stride=2, padding=1, output_padding=1, seed=g,
                        dtype=f32), ta.ReLU(),
        Conv2D(16, 1, 3, padding=1, init="glorot", seed=g, dtype=f32), ta.Sigmoid()])


def error_per_image(net, images):
    """Squared error per image of the reconstructions, in eval mode."""
    net.eval()
    x_hat = net.forward(images)
    net.train()
    n = len(images)
    return ta.MSE().forward(x_hat.reshape(n, -1), images.reshape(n, -1))


def train_conv(net, images, epochs, test_images, lr=1e-3, batch_size=64, seed=0):
    """Minibatch Adam on the squared error; returns per-epoch losses and seconds."""
    order_rng, optimizer, loss = np.random.default_rng(seed), ta.Adam(lr), ta.MSE()
    history = {"train": [], "test": [], "seconds": []}
    for _ in range(epochs):
        start, total = time.perf_counter(), 0.0
        order = order_rng.permutation(len(images))
        for i in range(0, len(images), batch_size):
            x = images[order[i:i + batch_size]]
            x_hat = net.forward(x)
            n = len(x)
            total += loss.forward(x_hat.reshape(n, -1), x.reshape(n, -1)) * n
            net.backward(loss.backward().reshape(x.shape))
            optimizer.step(net.parameters())
        history["train"].append(total / len(images))
        history["test"].append(error_per_image(net, test_images))
        history["seconds"].append(time.perf_counter() - start)
    return history


conv_ae = conv_autoencoder(CODE)
conv_hist = train_conv(conv_ae, img_train, EPOCHS, img_test)
dense_ae = ta.Autoencoder.deep([64, 128, CODE], seed=0, dtype=np.float32)
dense_hist = dense_ae.fit(X_train, loss="mse", optimizer=ta.Adam(1e-3), epochs=EPOCHS,
                          batch_size=64, validation_data=X_test, seed=0, verbose=0)

# %% [markdown]
# Parameters count what is *stored*; the arithmetic counts what is *computed*. A Dense
# layer uses each weight once per image. A convolution uses each weight at every output
# position: `Conv2D(16→32)` on 8×8 images uses its 4,608 weights at 16 positions. We
# count the multiply-adds per image from the layers' shapes:
# $C_{out} n_H^{out} n_W^{out} \cdot C k_h k_w$ for a convolution,
# $C n_H n_W \cdot C_{out} k_h k_w$ for a transposed one, $n_{in} n_{out}$ for a Dense
# layer.

# %%
def multiply_adds(net, shape):
    """Multiply-adds per sample of the forward pass, layer by layer from its input."""
    total = 0
    for layer in net.layers:
        if isinstance(layer, ConvTranspose2D):
            total += int(np.prod(shape)) * int(np.prod(layer.params["W"].shape[1:]))
        elif isinstance(layer, Conv2D):
            out = layer.output_shape(shape)
            total += int(np.prod(out)) * int(np.prod(layer.params["W"].shape[1:]))
        elif isinstance(layer, ta.Dense):
            total += layer.n_in * layer.n_out
        if hasattr(layer, "output_shape"):
            shape = layer.output_shape(shape)
        elif isinstance(layer, ta.Dense):
            shape = (layer.n_out,)
    return total


results = {}
dense_layers = Sequential(dense_ae.encoder.layers + dense_ae.decoder.layers)
for name, n_params, macs, test_error, seconds in [
        ("dense [64, 128, 8]", dense_ae.n_parameters(),
         multiply_adds(dense_layers, (64,)), dense_ae.reconstruction_error(X_test),
         dense_hist.epoch_time),
        ("convolutional", sum(p.size for p, _ in conv_ae.parameters()),
         multiply_adds(conv_ae, (1, 8, 8)), conv_hist["test"][-1],
         conv_hist["seconds"])]:
    results[name] = {"params": n_params, "macs": macs, "test": test_error,
                     "epoch": float(np.median(seconds))}
baseline = float(np.mean(np.sum((X_test - X_train.mean(axis=0)) ** 2, axis=1)))
print(f"{len(X_train)} training digits, {EPOCHS} epochs, code size {CODE}")
print(f"{'model':<20} {'parameters':>10} {'mult-adds/image':>16} {'test error':>11} "
      f"{'s/epoch':>8}")
for name, r in results.items():
    print(f"{name:<20} {r['params']:>10,} {r['macs']:>16,} {r['test']:>11.3f} "
          f"{r['epoch']:>8.3f}")
print(f"(predicting the mean training digit: test error {baseline:.3f})")
dense_r, conv_r = results["dense [64, 128, 8]"], results["convolutional"]
assert conv_hist["train"][-1] < 0.6 * conv_hist["train"][0]       # the conv AE learned
assert conv_r["test"] < 0.6 * baseline and dense_r["test"] < 0.6 * baseline
assert 0.8 < conv_r["params"] / dense_r["params"] < 1.2           # a fair match
assert conv_r["macs"] > 5 * dense_r["macs"]                        # ... in storage only
ratio = conv_r["test"] / dense_r["test"]
print(f"The convolutional model's test error is {ratio:.2f} times the dense model's;\n"
      f"it does {conv_r['macs'] / dense_r['macs']:.0f} times the multiply-adds per "
      f"image and takes {conv_r['epoch'] / dense_r['epoch']:.0f} times as long per "
      "epoch.")
if not FAST:   # close, either way round: 0.85 to 1.16 across seeds and epoch counts
    assert 0.7 < ratio < 1.4
assert conv_r["epoch"] > 5 * dense_r["epoch"]                     # and slower in NumPy

# %% [markdown]
# {numref}`fig-19-loss-curves` follows both models epoch by epoch.

# %% mystnb={"figure": {"caption": "Squared error per image of the dense and the convolutional autoencoder (code size 8) on the training digits (solid) and the test digits (dashed) after each epoch, on a log scale; the dotted line is the error of always answering the mean training digit.", "name": "fig-19-loss-curves"}}
fig = Figure(figsize=(8, 4.5), layout="constrained")
ax = fig.subplots()
epochs = np.arange(1, EPOCHS + 1)
ax.plot(epochs, dense_hist.train_loss, "-", color="tab:blue", label="dense, training")
ax.plot(epochs, dense_hist.val_loss, "--", color="tab:blue", label="dense, test")
ax.plot(epochs, conv_hist["train"], "-", color="tab:orange",
        label="convolutional, training")
ax.plot(epochs, conv_hist["test"], "--", color="tab:orange",
        label="convolutional, test")
ax.axhline(baseline, color="gray", ls=":", lw=1)
ax.text(epochs[-1], baseline, "mean digit", ha="right", va="bottom", fontsize=9,
        color="gray")
ax.set_xlabel("epoch")
ax.set_ylabel("squared error per image")
ax.set_yscale("log")
ax.set_title(f"Dense vs convolutional autoencoder, code size {CODE}, 8×8 digits")
ax.grid(alpha=0.3, which="both")
ax.legend()
plots.save_figure(fig, FIGURES / "19_loss_curves.png", dpi=100)

# %% [markdown]
# On these 8×8 digits the two models end up close (the ratio of their test errors is
# printed above): with the same code size and about the same number of parameters,
# neither wins by much, and which is ahead can change with the seed and the number of
# epochs (exercise 4). The convolutional model does several times more arithmetic per
# image and, in NumPy, takes many times longer per epoch: the im2col
# copies and the many small matrix products cost more than the arithmetic. Locality and
# weight sharing pay off when images are large, which 8×8 is not: a 3×3 kernel already
# covers a seventh of the image (section 6 counts what happens at 28×28).
#
# What did each learn? A convolution's first layer is 16 kernels of 3×3, each slid over
# the whole image; the dense model's first layer is 128 whole-image filters (we show
# 16). Both models were built from a seed, so building them again gives their weights at
# initialisation, and we can see how far training moved them: we draw the 16 kernels
# before and after training, and print the relative change $\|W - W_0\| / \|W_0\|$. Then
# the reconstructions of the same test digits, and the 16 channels of the first
# convolution (after its ReLU) for one test digit.

# %%
def relative_change(W, W0):
    return float(np.linalg.norm(W - W0) / np.linalg.norm(W0))


kernels = conv_ae.layers[0].params["W"].reshape(16, 3, 3)              # (16, 1, 3, 3)
kernels_0 = conv_autoencoder(CODE).layers[0].params["W"].reshape(16, 3, 3)
dense_W = dense_ae.encoder.layers[0].params["W"]                       # (64, 128)
dense_W0 = ta.Autoencoder.deep([64, 128, CODE], seed=0,
                               dtype=np.float32).encoder.layers[0].params["W"]
change = {"conv": relative_change(kernels, kernels_0),
          "dense": relative_change(dense_W, dense_W0)}
print(f"The first layer moved by {change['conv']:.0%} (conv kernels) and "
      f"{change['dense']:.0%} (dense filters) of its initial size.")
assert change["conv"] < 0.5 and change["dense"] > change["conv"]


# %% [markdown]
# {numref}`fig-19-filters-conv` and {numref}`fig-19-filters-dense` show the first
# layers, {numref}`fig-19-reconstructions` the reconstructions and
# {numref}`fig-19-feature-maps` the feature maps.

# %% mystnb={"figure": {"caption": "The 16 first-layer kernels (3×3) of the convolutional autoencoder at initialisation (left) and after training (right), each pair on its own colour scale (red positive, blue negative).", "name": "fig-19-filters-conv"}}
fig = Figure(figsize=(8.6, 4.6), layout="constrained")
panels = fig.subfigures(1, 2, wspace=0.06)
for panel, K, when in zip(panels, (kernels_0, kernels), ("initial", "trained")):
    axes = panel.subplots(4, 4)
    for j, ax in enumerate(axes.ravel()):
        scale = max(np.abs(kernels_0[j]).max(), np.abs(kernels[j]).max())
        ax.imshow(K[j], cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"kernel {j + 1}", fontsize=9)
    panel.suptitle(f"{when}", fontsize=11)
fig.suptitle(f"The 16 first-layer kernels (3×3) of the convolutional AE, before and "
             f"after {EPOCHS} epochs:\nthey moved by {change['conv']:.0%} "
             "(red +, blue −)", fontsize=11)
plots.save_figure(fig, FIGURES / "19_filters_conv.png", dpi=100)

# %% mystnb={"figure": {"caption": "Sixteen of the 128 first-layer filters (8×8) of the dense autoencoder, after training.", "name": "fig-19-filters-dense"}}
fig = plots.plot_filters(
    dense_ae, image_shape=(8, 8), n=16,
    path=FIGURES / "19_filters_dense.png",
    title="dense AE: 16 of the 128 first-layer filters (8×8)")

# %% mystnb={"figure": {"caption": "Ten test digits (top) and their reconstructions by the dense and the convolutional autoencoder, code size 8.", "name": "fig-19-reconstructions"}}
conv_ae.eval()
X_conv = conv_ae.forward(img_test[:10]).reshape(10, -1)
conv_ae.train()
X_dense = dense_ae.reconstruct(X_test[:10])
fig = plots.plot_reconstructions(
    X_test[:10], [X_dense, X_conv], image_shape=(8, 8),
    row_labels=["original", "dense AE", "conv AE"],
    path=FIGURES / "19_reconstructions.png",
    title=f"Test digits and their reconstructions (code {CODE})")

# %% mystnb={"figure": {"caption": "A test digit (first tile) and the 16 channels of the first convolution of the trained convolutional autoencoder, after its ReLU, each scaled by the largest value over all channels.", "name": "fig-19-feature-maps"}}
# the first convolution and its ReLU, on one test digit: (16, 8, 8)
maps = conv_ae.layers[1].forward(conv_ae.layers[0].forward(img_test[:1]))[0]
tiles = np.concatenate([img_test[:1].reshape(1, 64), maps.reshape(16, 64) / maps.max()])
fig = plots.plot_image_grid(tiles, image_shape=(8, 8), ncols=9,
                            path=FIGURES / "19_feature_maps.png",
                            title="a test digit (first) and the 16 channels of the "
                                  "first convolution + ReLU")

# %% [markdown]
# The kernels barely moved: training changed them by a small fraction of their random
# start (printed above), and they look much as they did at initialisation. They did not
# have to change. Sixteen random 3×3 kernels already describe each 3×3 neighbourhood
# with 16 numbers for its 9 pixels, so little is lost, and the later layers do the work.
# The dense filters moved further but still look noisy (lesson 8 cleaned them up with
# weight decay). Do not expect the tidy edge detectors of textbook pictures from a model
# that does not need them; exercise 6 takes away the spare kernels.
#
# The feature maps show what a convolution computes: each channel is the digit seen
# through one kernel, a stroke brightened or dimmed according to how it matches, at
# every position. A channel can be blank: its kernel gives a negative response
# everywhere on this digit, and the ReLU sets it to zero.
#
# ## 6. What happens with larger images
#
# The convolution's weights do not depend on the image size: `Conv2D(16→32, k3)` has
# 4,640 parameters on 8×8, 28×28 or 1000×1000 images. A Dense layer's do: its first
# layer has (pixels × hidden units) weights. We build both encoders for three image
# sizes, with the same recipe as above except that every convolution has stride 2 (8×8 →
# 4×4 → 2×2 would be too small, so for the digits we kept the first stride at 1).

# %%
def conv_encoder(shape, code):
    C, H, Wd = shape
    layers = [Conv2D(C, 16, 3, 2, 1), ta.ReLU(), Conv2D(16, 32, 3, 2, 1), ta.ReLU(),
              Flatten()]
    out = shape
    for layer in layers:
        out = layer.output_shape(out) if hasattr(layer, "output_shape") else out
    return Sequential(layers + [ta.Dense(out[0], code)])


print(f"{'images':<12} {'conv encoder':>13} {'dense encoder':>14}  "
      "(parameters, code 32)")
for shape in [(1, 8, 8), (1, 28, 28), (3, 32, 32)]:
    n_conv = sum(p.size for p, _ in conv_encoder(shape, 32).parameters())
    n_dense = sum(p.size for p, _ in Sequential([ta.Dense(int(np.prod(shape)), 256),
                                                 ta.Dense(256, 32)]).parameters())
    print(f"{'x'.join(map(str, shape)):<12} {n_conv:>13,} {n_dense:>14,}")
    assert n_conv < n_dense

# %% [markdown]
# In the convolutional encoder, almost all parameters sit in the last Dense layer (from
# the 32 small maps to the code), and the convolutions stay at a few thousand however
# large the images get. `tinyae.load_cifar10` reads the 3×32×32 colour images of
# CIFAR-10 (the binary version) and `tinyae.load_images(folder, size=...)` your own
# pictures, both in this $(N, C, n_H, n_W)$ layout.
#
# ## 7. MNIST: 28×28 digits
#
# If you have the MNIST files (lesson 10: set `TINYAE_MNIST`), we repeat the comparison
# on 28×28 digits with a code of 32 numbers: the convolutional model with two stride-2
# convolutions (28 → 14 → 7), mirrored with two transposed convolutions, against
# `Autoencoder.deep([784, 256, 32])`. Training on a subset for a few epochs, because
# convolutions in NumPy are slow. Without the files this section is skipped.

# %%
try:
    mnist_train, _ = ta.load_mnist(split="train")
    mnist_test, _ = ta.load_mnist(split="test")
    have_mnist = True
except DataFormatError as error:
    have_mnist = False
    print(f"MNIST section skipped: {error}")

# %%
def conv_autoencoder_28(code, seed=0):
    """28x28 -> 16x14x14 -> 32x7x7 -> code -> 32x7x7 -> 16x14x14 -> 28x28."""
    g, f32 = np.random.default_rng(seed), np.float32
    return Sequential([
        Conv2D(1, 16, 3, 2, 1, seed=g, dtype=f32), ta.ReLU(),
        Conv2D(16, 32, 3, 2, 1, seed=g, dtype=f32), ta.ReLU(),
        Flatten(), ta.Dense(32 * 7 * 7, code, "glorot", g, f32),
        ta.Dense(code, 32 * 7 * 7, "he", g, f32), ta.ReLU(), Reshape((32, 7, 7)),
        ConvTranspose2D(32, 16, 3, 2, 1, 1, seed=g, dtype=f32), ta.ReLU(),
        ConvTranspose2D(16, 1, 3, 2, 1, 1, init="glorot", seed=g, dtype=f32),
        ta.Sigmoid()])


if have_mnist:
    n_train, n_test, mnist_epochs = (1_000, 500, 2) if FAST else (12_000, 2_000, 6)
    M_train, M_test = mnist_train[:n_train], mnist_test[:n_test]
    mnist_conv = conv_autoencoder_28(32)
    mnist_conv_hist = train_conv(mnist_conv, M_train.reshape(-1, 1, 28, 28),
                                 mnist_epochs, M_test.reshape(-1, 1, 28, 28))
    mnist_dense = ta.Autoencoder.deep([784, 256, 32], seed=0, dtype=np.float32)
    mnist_dense_hist = mnist_dense.fit(M_train, loss="mse", optimizer=ta.Adam(1e-3),
                                       epochs=mnist_epochs, batch_size=64, seed=0,
                                       verbose=0)
    n_conv = sum(p.size for p, _ in mnist_conv.parameters())
    print(f"MNIST, {n_train:,} training images, {mnist_epochs} epochs, code 32")
    print(f"dense [784, 256, 32]: {mnist_dense.n_parameters():>8,} parameters, "
          f"test error {mnist_dense.reconstruction_error(M_test):.2f}, "
          f"{np.median(mnist_dense_hist.epoch_time):.1f} s/epoch")
    print(f"convolutional       : {n_conv:>8,} parameters, "
          f"test error {mnist_conv_hist['test'][-1]:.2f}, "
          f"{np.median(mnist_conv_hist['seconds']):.1f} s/epoch")
    assert n_conv < mnist_dense.n_parameters()
    assert mnist_conv_hist["train"][-1] < mnist_conv_hist["train"][0]

# %% [markdown]
# The figure below shows ten MNIST test digits through both models.

# %% mystnb={"figure": {"caption": "Ten MNIST test digits (top) and their reconstructions by the dense and the convolutional autoencoder, code size 32.", "name": "fig-19-mnist"}}
if have_mnist:
    mnist_conv.eval()
    by_conv = mnist_conv.forward(M_test[:10].reshape(-1, 1, 28, 28)).reshape(10, -1)
    plots.plot_reconstructions(
        M_test[:10], [mnist_dense.reconstruct(M_test[:10]), by_conv],
        row_labels=["original", "dense AE", "conv AE"], path=FIGURES / "19_mnist.png",
        title="MNIST test digits, code size 32")

# %% [markdown]
# ## 8. Colour images
#
# A colour image is three images of the same size, one per channel: red, green and blue.
# In the $(N, C, H, W)$ layout it is $C = 3$, and nothing else changes: the first
# convolution's kernels become $3 \times k \times k$, each weighing a patch of all three
# channels at once, and the last transposed convolution gives back three channels. The
# texts this course follows train such a model on **CIFAR-10**, 60,000 colour
# photographs of 32×32 pixels, with a learning rate that drops whenever the test loss
# stops improving (`ReduceLROnPlateau`).
#
# CIFAR-10's binary version is as plain as a file can be: one record per image, a label
# byte and then 3,072 pixel bytes, the 1,024 red ones row by row, then green, then blue.
# We do not download it here; we write our own file in its format, from a colour
# photograph that ships with matplotlib (Grace Hopper's portrait), cut into 32×32
# patches. The top half of the photograph gives the training patches, the bottom half
# the test patches, so the model is tested on pixels it has never seen (but of the same
# photograph: `benchmarks/colour_patches.py` makes a harder set from seven photographs,
# training on five and testing on two others).

# %%
import itertools
import shutil
import tempfile

from matplotlib import cbook
from PIL import Image

with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as picture:
    photo = np.asarray(picture.convert("RGB"))                       # (H, W, 3) uint8


def cut_patches(image, sides, stride, size=32):
    """Patches (n, 3, size, size) uint8 of the image shrunk to each width in sides."""
    out = []
    for side in sides:
        h, w = image.shape[:2]
        small = np.asarray(Image.fromarray(image).resize((side, round(h * side / w))))
        for top in range(0, small.shape[0] - size + 1, stride):
            for left in range(0, small.shape[1] - size + 1, stride):
                out.append(small[top:top + size, left:left + size].transpose(2, 0, 1))
    return np.stack(out)


def cifar_bytes(images, labels):
    """CIFAR-10 binary records: one label byte, then the red, green and blue planes."""
    return np.concatenate([labels[:, None], images.reshape(len(images), -1)],
                          axis=1).astype(np.uint8).tobytes()


half = photo.shape[0] // 2
colour_rng = np.random.default_rng(0)
sides, stride = ((128, 256), 8) if FAST else ((128, 256, 512), 8)
train_patches = colour_rng.permutation(cut_patches(photo[:half], sides, stride))
test_patches = colour_rng.permutation(cut_patches(photo[half:], sides, stride))
test_patches = test_patches[:200 if FAST else 1000]            # enough to measure
cifar_folder = Path(tempfile.mkdtemp(prefix="cifar-format-"))
for i, part in enumerate(np.array_split(train_patches, 5), start=1):
    zeros = np.zeros(len(part), np.uint8)                          # no classes: label 0
    (cifar_folder / f"data_batch_{i}.bin").write_bytes(cifar_bytes(part, zeros))
(cifar_folder / "test_batch.bin").write_bytes(
    cifar_bytes(test_patches, np.zeros(len(test_patches), np.uint8)))

(C_train, _), (C_test, _) = ta.load_cifar10(cifar_folder, split="both")
test_file_size = os.path.getsize(cifar_folder / "test_batch.bin")
shutil.rmtree(cifar_folder)                                   # read: no longer needed
print(f"photograph {photo.shape[0]}x{photo.shape[1]}: {len(C_train):,} training and "
      f"{len(C_test):,} test patches")
print(f"rows of {C_train.shape[1]:,} pixels; the test file held {test_file_size:,} "
      "bytes")
assert np.array_equal(C_test[0].reshape(3, 32, 32), test_patches[0] / np.float32(255))

# %% [markdown]
# `tinyae.load_cifar10` read the file back, and its first test image is exactly the
# patch we wrote. Now the convolutional autoencoder of section 6 with three input
# channels, `Autoencoder.conv((3, 32, 32))`: two stride-2 convolutions
# (32 → 16 → 8), a Dense layer to the code, and the mirror image back. The learning
# rate starts at Adam's usual value and `ReduceLROnPlateau` halves it whenever the test
# loss has not improved for more than one epoch. PCA with as many components as the code
# has numbers is the baseline, as in every lesson since lesson 3.

# %%
COLOUR_CODE = 16 if FAST else 64
colour_epochs = 10
colour_ae = ta.Autoencoder.conv((3, 32, 32), channels=(16, 32), code=COLOUR_CODE,
                                seed=0, dtype=np.float32)
colour_hist = colour_ae.fit(C_train, loss="mse", optimizer=ta.Adam(3e-3),
                            epochs=colour_epochs, batch_size=32, validation_data=C_test,
                            seed=0, verbose=0,
                            callbacks=[ta.ReduceLROnPlateau(factor=0.5, patience=1)])
colour_pca = ta.PCA(COLOUR_CODE).fit(C_train)
mean_error = float(np.mean(np.sum((C_test - C_train.mean(axis=0)) ** 2, axis=1)))
colour_errors = {
    "conv autoencoder": colour_ae.reconstruction_error(C_test),
    f"PCA, {COLOUR_CODE} components": colour_pca.reconstruction_error(C_test),
    "the mean patch": mean_error}
print(f"code size {COLOUR_CODE}, {colour_epochs} epochs, "
      f"{colour_ae.n_parameters():,} parameters, "
      f"{sum(colour_hist.epoch_time):.0f} s of training")
runs = [(lr, len(list(same))) for lr, same in itertools.groupby(colour_hist.lr)]
print("learning rate:", ", ".join(f"{lr:.2g} for {n} epochs" for lr, n in runs))
print("test error per patch (squared, summed over the pixels):")
for name, value in colour_errors.items():
    print(f"  {name:<24} {value:8.2f}")
assert colour_hist.train_loss[-1] < colour_hist.train_loss[0]
assert max(colour_errors.values()) == mean_error                   # both beat the mean

# %%
shown = C_test[:10]
plots.plot_reconstructions(
    shown, [colour_pca.reconstruct(shown),
            colour_ae.reconstruct(shown).reshape(len(shown), -1)],
    image_shape=(3, 32, 32), row_labels=["original", f"PCA-{COLOUR_CODE}", "conv AE"],
    path=FIGURES / "19_colour_reconstructions.png",
    title=f"test patches (bottom half of the photograph), code size {COLOUR_CODE}")
fig = plots.plot_filters(colour_ae, path=FIGURES / "19_colour_filters.png",
                         title="first-layer kernels, 3×3×3 each, as RGB (gray is 0)")

# %% [markdown]
# The printout says which of the two reconstructs the unseen half better at this code
# size and this budget. Expect PCA to be hard to beat: the variance of photographs sits
# in a few smooth patterns (slow changes of brightness and colour), which are exactly
# PCA's first components, and a nonlinear model needs many more images and epochs than
# a lesson can spend to find something better. In the pictures, look at where the two
# differ: at sharp edges between two colours, and in colours the training half rarely
# showed. The printed learning rate shows whether `ReduceLROnPlateau` cut it, and after
# how many epochs: only once the test loss has stalled.
#
# Each first-layer kernel is drawn as a tiny colour picture: red, green and blue show
# the weights of the three channels (mid-gray is zero), so a kernel that looks for a
# colour edge shows the two colours on either side of it. Like the digit kernels of
# section 5, they move little from their random start in a short run.
#
# The same run from the command line, on any folder of CIFAR-10 files (the binary
# version, or files written as above), is
#
# ```bash
# tinyae train --data cifar10:FOLDER --conv --code 64 --loss mse \
#     --schedule plateau:1:0.5
# ```
#
# and `--data images:FOLDER --image-size 32` trains on your own PNG and JPEG pictures.
# `docs/results.md (Colour images)` reports this command on patches of seven
# photographs (five for training, two for testing), against PCA.

# %% [markdown]
# ## Summary
#
# - A convolution slides one small kernel over the image:
#   $y[n,o,i,j] = b[o] + \sum_{c,u,v} W[o,c,u,v]\, x_p[n,c,is+u,js+v]$, with output size
#   $\lfloor (n_H + 2p - k)/s \rfloor + 1$. Locality and weight sharing make it
#   translation equivariant, and its parameter count independent of the image size.
# - **im2col** cuts the patches into the columns of a matrix, so the whole layer is one
#   matrix product $W_2\,\text{cols} + b$: a Dense layer applied to every patch. It
#   gives the same numbers as the loops, hundreds of times faster.
# - The backward pass is Dense's on the patches, $dW_2 = dY\,\text{cols}^\top$,
#   $d\text{cols} = W_2^\top dY$, then **col2im** adds the overlapping patch gradients
#   back onto the pixels. As matrices, the convolution is $A$ and its input gradient is
#   $A^\top$: a transposed convolution, which `ConvTranspose2D` runs forward to upsample
#   in a decoder.
# - Every layer (`Conv2D`, `ConvTranspose2D`, `MaxPool2D`, `Upsample2D`, `Flatten`,
#   `Reshape`) and a whole convolutional autoencoder pass the float64 gradient check.
# - On 8×8 digits a convolutional autoencoder matches a dense one of the same size, at
#   several times the arithmetic and many times the time; on larger images its parameter
#   count stays small where the dense model's grows with the number of pixels.
#
# ## Exercises
#
# 1. Work out by hand the output of `Conv2D(1, 1, 2, stride=2)` with the kernel
#    $\begin{pmatrix}1&0\\0&-1\end{pmatrix}$ on the 3×3 image of section 1. Which pixels
#    are never used? Check with `conv2d_loops`.
# 2. Build the matrix $A$ of section 3 for stride 1 and padding 1 on 5×5 images. What
#    shape is it, and why does $A^\top$ now map 5×5 to 5×5?
# 3. Replace `+=` by `=` in a copy of `col2im` and run `check_module` on a `Conv2D` with
#    stride 1. Which row of the report fails, and why do the weight gradients still
#    pass?
# 4. Train both autoencoders of section 5 with three seeds and 120 epochs. Is the
#    difference in test error larger than the spread between seeds?
# 5. Replace the stride-2 convolution of the encoder by a stride-1 convolution followed
#    by `MaxPool2D(2)`, and the transposed convolution of the decoder by `Upsample2D(2)`
#    followed by a `Conv2D`. Compare the test error and the time per epoch.
# 6. Give the first layer 4 kernels instead of 16 (fewer numbers than the 9 pixels of a
#    patch). Do the kernels move further from their start? What do they look like now?
