r"""Compression with an autoencoder, in real bytes: quantize the code, write it, read it back.

An image of $D$ pixels is sent as its code of $K$ numbers. Storing each
number in 32 bits would waste most of them, so the code is *quantized*: each
code unit $k$ is mapped linearly from its range $[\mathrm{lo}_k, \mathrm{hi}_k]$ over the
images being compressed onto the integers $0, \dots, 2^b - 1$ ($b$ the ``bits``); $q_{nk}$
is an integer of $b$ bits, and $|\hat z - z| \le \mathrm{step}/2$:

$$
\mathrm{step}_k = \frac{\mathrm{hi}_k - \mathrm{lo}_k}{2^b - 1}, \qquad
q_{nk} = \mathrm{round}\Big(\frac{z_{nk} - \mathrm{lo}_k}{\mathrm{step}_k}\Big), \qquad
\hat z_{nk} = \mathrm{lo}_k + q_{nk}\, \mathrm{step}_k
$$

The decoder turns $\hat z$ into the image. The receiver needs the decoder's
weights, which are shared once, like a codebook, and are *not* counted here
(:func:`model_size_bytes` tells how many bytes they are).

What one compressed file holds, and so what "bytes" means everywhere in this module
(all little-endian)::

    header   16 bytes   b"TAEC", version (uint8), bits (uint8), 2 zero bytes,
                        N (uint32), K (uint32)
    ranges   8·K bytes  lo and hi of each code unit (float32)
    codes    ⌈N·K·bits / 8⌉ bytes, the q_nk packed bit after bit, row after row

so the bytes per image are $Kb/8 + (16 + 8K)/N$: the code itself plus the
header and ranges shared by the $N$ images of the file. The compression ratio
compares with the raw images at one byte (uint8) per pixel: $ND$ / total bytes.
PCA at the same ``K`` and ``bits`` writes exactly the same number of bytes,
which makes it the baseline at an equal budget.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validate import check_array
from ..errors import DataFormatError, ShapeError

MAGIC = b"TAEC"
VERSION = 1
HEADER = struct.Struct("<4sBBxxII")  # 16 bytes: magic, version, bits, pad, N, K


@dataclass
class CompressedCodes:
    r"""Quantized codes and what it takes to undo the quantization.

    Attributes
    ----------
    q : ndarray (N, K) uint8
        The integer levels $0, \dots, 2^b - 1$, $b$ the ``bits`` (one byte each in
        memory; packed in a file).
    lo, hi : ndarray (K,) float32
        The range of each code unit.
    bits : int in 1..8
    """

    q: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    bits: int

    @property
    def n_images(self):
        return self.q.shape[0]

    @property
    def code_size(self):
        return self.q.shape[1]

    @property
    def nbytes(self):
        """Bytes of the file :func:`write_codes` writes: header + ranges + packed codes."""
        N, K = self.q.shape
        return HEADER.size + 8 * K + -(-N * K * self.bits // 8)


def _check_bits(bits):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 8:
        raise ValueError(f"bits must be an integer from 1 to 8, got {bits!r}")
    return int(bits)


def _steps(lo, hi, bits):
    # a unit that never varies has hi == lo: any step works, 1 avoids dividing by 0
    span = hi.astype(np.float64) - lo
    return np.where(span > 0, span / (2**bits - 1), 1.0)


def quantize(Z, bits=8):
    """Quantize codes ``Z`` (N, K) to ``bits`` bits per number; see the module docstring."""
    bits = _check_bits(bits)
    Z = check_array(Z, "quantize", ndim=2)
    lo, hi = Z.min(axis=0).astype(np.float32), Z.max(axis=0).astype(np.float32)
    q = np.rint((Z - lo.astype(np.float64)) / _steps(lo, hi, bits))
    q = np.clip(q, 0, 2**bits - 1).astype(np.uint8)  # clip: float32 rounding of lo and hi
    return CompressedCodes(q, lo, hi, bits)


def dequantize(codes):
    r"""The codes back: $\hat z = \mathrm{lo} + q\, \mathrm{step}$, (N, K) float64."""
    return codes.lo.astype(np.float64) + codes.q * _steps(codes.lo, codes.hi, codes.bits)


def _codec(model):
    """``(encode, decode)`` of an autoencoder (``encode``/``decode``) or a PCA (``transform``)."""
    if hasattr(model, "encode") and hasattr(model, "decode"):
        return model.encode, model.decode
    if hasattr(model, "transform") and hasattr(model, "inverse_transform"):
        return model.transform, model.inverse_transform
    raise TypeError(f"compress needs a model with encode/decode (an autoencoder) or "
                    f"transform/inverse_transform (a PCA), got {type(model).__name__}")


def compress(model, X, bits=8):
    """Encode ``X`` (N, D) and quantize the codes: a :class:`CompressedCodes`."""
    encode, _ = _codec(model)
    return quantize(encode(X), bits)


def decompress(model, codes):
    """Images from compressed codes: dequantize, then decode, (N, D)."""
    _, decode = _codec(model)
    dtype = getattr(model, "dtype", np.float64)
    return decode(dequantize(codes).astype(dtype))


def compressed_size_bytes(codes):
    """Total bytes of the compressed file (= :attr:`CompressedCodes.nbytes`)."""
    return codes.nbytes


def _pack(q, bits):
    """The low ``bits`` bits of every entry of ``q``, one after the other, packed into bytes."""
    all_bits = np.unpackbits(q.reshape(-1, 1), axis=1)  # (N·K, 8), most significant first
    return np.packbits(all_bits[:, 8 - bits:]).tobytes()


def _unpack(payload, n, bits):
    flat = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))[:n * bits]
    padded = np.zeros((n, 8), dtype=np.uint8)
    padded[:, 8 - bits:] = flat.reshape(n, bits)
    return np.packbits(padded, axis=1).reshape(n)


def write_codes(path, codes):
    """Write ``codes`` to ``path`` (format: the module docstring); returns the bytes written."""
    N, K = codes.q.shape
    data = (HEADER.pack(MAGIC, VERSION, codes.bits, N, K)
            + codes.lo.astype("<f4").tobytes() + codes.hi.astype("<f4").tobytes()
            + _pack(codes.q, codes.bits))
    Path(path).write_bytes(data)
    return len(data)


def read_codes(path):
    """Read a file written by :func:`write_codes`: a :class:`CompressedCodes`."""
    data = Path(path).read_bytes()
    if len(data) < HEADER.size or data[:4] != MAGIC:
        raise DataFormatError(f"{path} is not a tinyae code file (no {MAGIC!r} header)")
    _, version, bits, N, K = HEADER.unpack_from(data)
    if version > VERSION:
        raise DataFormatError(f"{path}: code file version {version} is newer than {VERSION}")
    expected = HEADER.size + 8 * K + -(-N * K * bits // 8)
    if len(data) != expected:
        raise DataFormatError(f"{path} should hold {expected} bytes for N={N}, K={K}, "
                              f"bits={bits}, but holds {len(data)}")
    ranges = np.frombuffer(data, dtype="<f4", count=2 * K, offset=HEADER.size)
    q = _unpack(data[HEADER.size + 8 * K:], N * K, bits).reshape(N, K)
    return CompressedCodes(q, ranges[:K].astype(np.float32), ranges[K:].astype(np.float32),
                           bits)


def psnr(X, X_hat, peak=1.0):
    r"""Peak signal-to-noise ratio in decibels: $10 \log_{10}(\mathrm{peak}^2/\mathrm{MSE})$.

    ``MSE`` here is the mean squared error *per pixel* over all images (the
    image-processing convention, unlike tinyae's losses, which sum over pixels).
    Higher is better; +6 dB is half the RMS error. Infinite for a perfect copy.
    """
    X = check_array(X, "psnr", ndim=2)
    X_hat = check_array(X_hat, "psnr", ndim=2)
    if X.shape != X_hat.shape:
        raise ShapeError(f"psnr expected two arrays of the same shape, got {X.shape} and "
                         f"{X_hat.shape}")
    mse = float(np.mean((X.astype(np.float64) - X_hat) ** 2))
    return np.inf if mse == 0 else float(10 * np.log10(peak**2 / mse))


def compression_report(model, X, bits=8):
    """Compress ``X`` with ``model`` and measure it: a dict of real bytes, ratio and quality.

    Keys: ``bits``, ``code_size``, ``n_images``, ``bytes`` (the file's total),
    ``bytes_per_image``, ``raw_bytes_per_image`` (D, one byte per pixel),
    ``ratio`` (raw / compressed), ``psnr`` (dB), ``error`` (squared error per
    image, tinyae's convention).
    """
    X = check_array(X, "compression_report", ndim=2)
    codes = compress(model, X, bits)
    X_hat = decompress(model, codes)
    N, D = X.shape
    return {"bits": codes.bits, "code_size": codes.code_size, "n_images": N,
            "bytes": codes.nbytes, "bytes_per_image": codes.nbytes / N,
            "raw_bytes_per_image": D, "ratio": N * D / codes.nbytes,
            "psnr": psnr(X, X_hat), "error": float(np.sum((X - X_hat) ** 2) / N)}


def model_size_bytes(model, part="decoder"):
    """Bytes of the weights the receiver must hold once: ``part`` of the model (or ``"all"``)."""
    prefix = "" if part == "all" else part + "."
    return sum(p.nbytes for name, p, _ in model.named_parameters() if name.startswith(prefix))
