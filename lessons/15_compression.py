# %% [markdown]
# # Lesson 15: Compression in real bytes
#
# "The code is smaller than the image" is the autoencoder's first promise. Smaller in
# what unit? A code of 16 float32 numbers is 64 bytes, exactly as large as an 8×8 image
# stored one byte per pixel. To compress, the numbers of the code must themselves be
# stored in few bits. This lesson quantizes codes to 8 bits (and fewer), writes them to
# a file, counts the bytes actually written, and compares the picture quality with PCA
# at the same number of bytes.
#
# ## Objectives
#
# - Quantize a code to `bits` bits per number and undo it (`tinyae.compression`).
# - Count real bytes: header, per-unit ranges and packed codes, and check the count
#   against the size of the file written.
# - Measure quality by PSNR and draw the rate–distortion curve (PSNR against bytes per
#   image) for the autoencoder and for PCA.
# - Account honestly for what the bytes do not include: the decoder, and what a generic
#   lossless compressor achieves.
#
# ## Prerequisites
#
# Lesson 8 (code size and the compression ratio $64/k$ of the codes alone), lesson 1
# (PCA).

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import tempfile
import zlib

import numpy as np
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.compression import (
    compress,
    compression_report,
    decompress,
    model_size_bytes,
    psnr,
    read_codes,
    write_codes,
)
from tinyae.pca import PCA

X, y = ta.load_digits()
X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
EPOCHS = 30 if FAST else 150
CODE_SIZES = [4, 16] if FAST else [4, 8, 16, 32]
BITS = [8, 4, 2]
print(f"{len(X_train)} training and {len(X_test)} test digits; codes of {CODE_SIZES} "
      f"numbers, {EPOCHS} epochs")

# %% [markdown]
# ## 1. Quantizing a code
#
# For each code unit $k$ we take its range $[lo_k, hi_k]$ over the images being
# compressed and map it linearly onto the integers $0 \dots 2^{b}-1$:
#
# $$q_{nk} = \mathrm{round}\Big(\frac{z_{nk} - lo_k}{s_k}\Big), \quad
#   s_k = \frac{hi_k - lo_k}{2^b - 1}, \qquad \hat z_{nk} = lo_k + q_{nk}\, s_k .$$
#
# The error is at most half a step, $|\hat z - z| \le s_k/2$. The decoder then draws the
# image from $\hat z$.
#
# **What "bytes" means.** One file holds a 16-byte header (a tag, the version, $b$, $N$,
# $K$), the $2K$ float32 range ends ($8K$ bytes), and the $N \cdot K$ levels packed bit
# after bit ($\lceil N K b / 8 \rceil$ bytes). So
#
# $$\text{bytes per image} = \frac{K b}{8} + \frac{16 + 8K}{N}.$$
#
# The raw image is 64 bytes (one byte per pixel), and the **compression ratio** is
# raw bytes / compressed bytes. The decoder's weights are shared once by sender and
# receiver, like a codebook, and are not counted here; section 4 counts them.
#
# The models are `Autoencoder.deep([64, 128, K])` (lesson 8): ReLU hidden layers of 128
# units and a linear code of K numbers, trained with cross-entropy.

# %%
ae = {k: ta.Autoencoder.deep([64, 128, k], seed=0) for k in CODE_SIZES}
for model in ae.values():
    model.fit(X_train, loss="bce", optimizer=ta.Adam(3e-3), epochs=EPOCHS,
              batch_size=32,
              seed=0, verbose=0)
pca = {k: PCA(k).fit(X_train) for k in CODE_SIZES}

codes = compress(ae[16], X_test, bits=8)
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "digits.taec"
    written = write_codes(path, codes)
    on_disk = path.stat().st_size
    X_back = decompress(ae[16], read_codes(path))
print(f"{codes.n_images} test digits, K = 16, 8 bits: reported {codes.nbytes} bytes, "
      f"written {written}, file size {on_disk}")
print(f"  = {codes.nbytes / codes.n_images:.2f} bytes per image "
      f"(16 code bytes + {(16 + 8 * 16) / codes.n_images:.2f} of header and ranges),\n"
      f"  ratio {64 * codes.n_images / codes.nbytes:.2f}x, "
      f"PSNR {psnr(X_test, X_back):.2f} dB")
assert codes.nbytes == written == on_disk

# %% [markdown]
# **PSNR**, the peak signal-to-noise ratio, is $10\log_{10}(1/\mathrm{MSE})$ in decibels
# for pixels in [0, 1], with MSE the mean squared error *per pixel*. Higher is better;
# every 6 dB halves the typical pixel error.
#
# How much does quantization itself cost? The same code unquantized, as float32, takes
# $4K$ bytes per image.

# %%
float_psnr = psnr(X_test, ae[16].reconstruct(X_test))
print(f"K = 16 as float32 (64 bytes per image, no compression at all): "
      f"PSNR {float_psnr:.2f} dB;\n8-bit codes: {psnr(X_test, X_back):.2f} dB")
assert float_psnr - psnr(X_test, X_back) < 0.5  # 8 bits lose almost nothing

# %% [markdown]
# ## 2. The autoencoder against PCA at the same bytes
#
# PCA compresses the same way: its $K$ coefficients $Z = (X - \mu)V_K^\top$ are
# quantized and written exactly like the autoencoder's code, so at equal $K$ and bits
# the two files have exactly the same size. Only the quality differs.

# %%
rows = []
print(f"{'K':>3} {'bits':>4} {'bytes/image':>11} {'ratio':>6}  {'PSNR AE':>8} "
      f"{'PSNR PCA':>8}")
for k in CODE_SIZES:
    for bits in BITS:
        ours = compression_report(ae[k], X_test, bits)
        theirs = compression_report(pca[k], X_test, bits)
        assert ours["bytes"] == theirs["bytes"]
        rows.append((k, bits, ours, theirs))
        print(f"{k:>3} {bits:>4} {ours['bytes_per_image']:>11.2f} "
              f"{ours['ratio']:>6.1f}  {ours['psnr']:>8.2f} {theirs['psnr']:>8.2f}")

# %% [markdown]
# {numref}`fig-15-rate-distortion` draws the table: quality against bytes.

# %% mystnb={"figure": {"caption": "Rate–distortion: the PSNR of the test digits after compression against the bytes per image, for the autoencoder (solid) and PCA (dashed) at each code size, with 8, 4 or 2 bits per number.", "name": "fig-15-rate-distortion"}}
fig = Figure(figsize=(7, 4.4), layout="constrained")
ax = fig.subplots()
for bits, marker in zip(BITS, "os^"):
    pts = [(o["bytes_per_image"], o["psnr"], t["psnr"])
           for k, b, o, t in rows if b == bits]
    bpi, ae_db, pca_db = np.array(pts).T
    ax.plot(bpi, ae_db, marker=marker, color="tab:red",
            label=f"autoencoder, {bits} bits")
    ax.plot(bpi, pca_db, marker=marker, color="tab:blue", ls="--",
            label=f"PCA, {bits} bits")
ax.set_xscale("log", base=2)
ax.set_xlabel("bytes per image (log scale; raw image = 64)")
ax.set_ylabel("PSNR on test digits (dB)")
ax.set_title("rate–distortion: quality against real bytes")
ax.grid(alpha=0.3)
ax.legend(fontsize=9)
plots.save_figure(fig, FIGURES / "15_rate_distortion.png", dpi=100)

# %%
wins = [(k, b) for k, b, o, t in rows if o["psnr"] > t["psnr"]]
print(f"The autoencoder has the higher PSNR in {len(wins)} of {len(rows)} settings "
      "(K, bits):\n" + ", ".join(f"({k}, {b})" for k, b in wins))
for k, b, o, t in rows:
    if k <= 16 and b >= 4:
        # small codes, 4 or 8 bits: a clear win
        assert o["psnr"] > t["psnr"] + 1.0, (k, b)
    if k == 32 and b >= 4:
        # 32 numbers: PCA catches up (within 0.5 dB) or passes it
        assert t["psnr"] > o["psnr"] - 0.5, (k, b)
if 32 in CODE_SIZES:   # all four code sizes: at 2 bits neither method is always ahead
    assert len({o["psnr"] > t["psnr"] for k, b, o, t in rows if b == 2}) == 2
by_bits = {(k, b): o["psnr"] for k, b, o, t in rows}
for k in CODE_SIZES:
    assert by_bits[k, 8] - by_bits[k, 4] < 1.0   # 4 bits per number lose under 1 dB
    assert by_bits[k, 8] - by_bits[k, 2] > 1.0   # 2 bits lose more
# the same bytes spent two ways: 2K numbers at 4 bits, or K numbers at 8 bits
for k in CODE_SIZES:
    if 2 * k in CODE_SIZES:
        print(f"{k} bytes of code: {2 * k} numbers at 4 bits {by_bits[2 * k, 4]:.2f} "
              f"dB, {k} numbers at 8 bits {by_bits[k, 8]:.2f} dB")
        assert by_bits[2 * k, 4] > by_bits[k, 8]

# %% [markdown]
# Read the table with the byte budget in mind. With small codes (4 to 16 numbers) at 8
# or 4 bits per number, the autoencoder draws clearly better digits than PCA in the same
# bytes: a nonlinear decoder gets more out of few numbers. With the largest code, 32
# numbers, PCA catches up or passes it (lesson 8: with a large code, the exact linear
# optimum is hard to beat), and at 2 bits per number the coarse levels throw away much
# of what the decoder would use, so neither method is reliably ahead. Dropping from 8 to
# 4 bits per number costs less than 1 dB everywhere; 2 bits cost much more. The curves
# also say how to spend a budget: in the same bytes, twice as many numbers at 4 bits
# beat half as many at 8 bits (checked above when both code sizes were trained).
# {numref}`fig-15-reconstructions` shows what the bytes buy.

# %% mystnb={"figure": {"caption": "Ten test digits and their reconstructions after compression with a 16-number code: the autoencoder at 8 bits per number, PCA at 8 bits, and the autoencoder at 2 bits (bytes per image in the table above).", "name": "fig-15-reconstructions"}}
k_show = 16
X_show = X_test[:10]
recon = [decompress(ae[k_show], compress(ae[k_show], X_test, b))[:10] for b in (8, 2)]
recon_pca = decompress(pca[k_show], compress(pca[k_show], X_test, 8))[:10]
fig = plots.plot_reconstructions(
    X_show, [recon[0], recon_pca, recon[1]], image_shape=(8, 8),
    row_labels=["original (64 B)", f"AE K={k_show} 8 bit", f"PCA K={k_show} 8 bit",
                f"AE K={k_show} 2 bit"],
    path=FIGURES / "15_reconstructions.png",
    title="test digits after compression (bytes per image: see the table)")

# %% [markdown]
# ## 3. What a generic lossless compressor does
#
# The digits' raw intensities are integers 0…16: 17 levels, $\log_2 17 \approx 4.1$ bits
# per pixel, so "64 bytes" is generous. A general-purpose lossless compressor (zlib, as
# in PNG and ZIP) on the raw bytes sets the bar for exact copies.

# %%
raw = np.rint(X_test * 16).astype(np.uint8)
zipped = len(zlib.compress(raw.tobytes(), 9))
print(f"zlib on the raw test digits: {zipped / len(X_test):.1f} bytes per image, "
      f"lossless (ratio {raw.nbytes / zipped:.2f}x)")
print(f"autoencoder K=16, 8 bits: {codes.nbytes / len(X_test):.1f} bytes per image at "
      f"{psnr(X_test, X_back):.1f} dB")
assert zipped / len(X_test) > codes.nbytes / len(X_test)

# %% [markdown]
# zlib keeps every pixel exactly but needs more bytes than the 8-bit 16-number code
# (both sizes are printed above). Lossy coding wins bytes by giving up exactness;
# whether the PSNR printed above is acceptable depends on the use.
#
# ## 4. The decoder is not free
#
# The receiver must hold the decoder. Counting its float32 weights once, the ratio for
# $N$ images is $64N / (\text{code bytes} + \text{decoder bytes})$.

# %%
n_decoder = model_size_bytes(ae[16], "decoder") // 8   # float64: 8 bytes per number
decoder_bytes = 4 * n_decoder               # sent as float32
print(f"decoder of the K=16 model (16 -> 128 -> 64): {n_decoder:,} numbers, "
      f"{decoder_bytes:,} bytes as float32")
per_image = 16  # code bytes per image at 8 bits, K = 16
for N in (360, 10_000, 1_000_000):
    total = N * per_image + 16 + 8 * 16 + decoder_bytes
    print(f"N = {N:>9,}: ratio {64 * N / total:5.2f}x with the decoder counted "
          f"(codes alone: {64 / per_image:.0f}x)")
assert decoder_bytes > 64 * len(X_test)   # more than the raw test digits themselves

# %% [markdown]
# For the few hundred test digits the decoder alone takes more bytes than the raw digits
# it decodes; for many images its cost vanishes. Autoencoder compression pays off when
# one model serves a great many images.
#
# ## Summary
#
# - Compression needs bytes, not just numbers: quantize each code unit to `bits` bits
#   over its range, and store ranges plus packed levels. `compress`, `write_codes`,
#   `read_codes`, `decompress` in `tinyae.compression`; the reported size equals the
#   file's.
# - At equal bytes the autoencoder beats PCA in PSNR, clearly for small codes; 8-bit and
#   4-bit codes lose little against float32.
# - Honest accounting adds the decoder (amortised over many images) and compares with a
#   lossless compressor.
#
# ## Exercises
#
# 1. Store the ranges `lo`, `hi` as float16 instead of float32. How many bytes per image
#    do you save for N = 360, and does the PSNR change?
# 2. Quantize with one shared range for all code units instead of one per unit. What
#    does it do to the PSNR of the autoencoder and of PCA (whose coefficients have very
#    different spreads)?
# 3. Compress the 2-bit codes further with `zlib.compress`. Are the packed codes still
#    compressible, and what does that say about how the levels are used?
