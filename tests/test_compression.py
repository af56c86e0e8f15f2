"""Compression in real bytes: quantization, the file format, sizes, PSNR, and PCA at equal bytes."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyae as ta
from tinyae.compression import (
    compress,
    compressed_size_bytes,
    compression_report,
    decompress,
    dequantize,
    psnr,
    quantize,
    read_codes,
    write_codes,
)
from tinyae.errors import DataFormatError
from tinyae.pca import PCA


@given(N=st.integers(1, 40), K=st.integers(1, 12), bits=st.integers(1, 8),
       seed=st.integers(0, 10**6))
def test_written_bytes_match_the_reported_size(N, K, bits, seed, tmp_path_factory):
    Z = np.random.default_rng(seed).normal(size=(N, K)) * 3
    codes = quantize(Z, bits)
    path = tmp_path_factory.mktemp("codes") / "codes.bin"
    written = write_codes(path, codes)
    assert path.stat().st_size == written == compressed_size_bytes(codes)
    assert compressed_size_bytes(codes) == 16 + 8 * K + math.ceil(N * K * bits / 8)
    back = read_codes(path)
    assert back.bits == bits
    np.testing.assert_array_equal(back.q, codes.q)
    np.testing.assert_array_equal(back.lo, codes.lo)
    np.testing.assert_array_equal(back.hi, codes.hi)
    # the quantization error is at most half a step (plus float32 rounding of the range)
    step = (codes.hi.astype(np.float64) - codes.lo) / (2**bits - 1)
    assert np.all(np.abs(dequantize(back) - Z) <= step / 2 + 1e-5 * (1 + np.abs(Z)))
    assert codes.q.max() <= 2**bits - 1


def test_a_constant_code_unit_is_exact():
    Z = np.column_stack([np.full(5, 0.7), np.linspace(0, 1, 5)])
    np.testing.assert_allclose(dequantize(quantize(Z))[:, 0], 0.7, atol=1e-7)  # float32 range


def test_psnr_by_hand():
    X = np.full((4, 10), 0.5)
    assert psnr(X, X + 0.1) == pytest.approx(20.0)   # 10 log10(1 / 0.01)
    assert psnr(X, X) == np.inf


def test_autoencoder_and_pca_at_the_same_bytes(tmp_path):
    X, _ = ta.load_digits()
    X_train, X_test = ta.train_test_split(X, seed=0)
    ae = ta.Autoencoder.shallow(64, 16, seed=0)
    ae.fit(X_train, "bce", optimizer=ta.Adam(3e-3), epochs=30, batch_size=32, verbose=0)
    pca = PCA(16).fit(X_train)
    ours, theirs = compression_report(ae, X_test, 8), compression_report(pca, X_test, 8)
    assert ours["bytes"] == theirs["bytes"]
    assert ours["bytes_per_image"] == pytest.approx(16 + (16 + 8 * 16) / len(X_test))
    assert ours["ratio"] == pytest.approx(64 * len(X_test) / ours["bytes"])
    codes = compress(ae, X_test, 8)
    assert write_codes(tmp_path / "c.bin", codes) == ours["bytes"]
    X_hat = decompress(ae, read_codes(tmp_path / "c.bin"))
    assert psnr(X_test, X_hat) == pytest.approx(ours["psnr"])
    assert ours["psnr"] > 15 and theirs["psnr"] > 15


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="bits"):
        quantize(np.zeros((2, 2)), 9)
    (tmp_path / "x.bin").write_bytes(b"not codes")
    with pytest.raises(DataFormatError, match="not a tinyae code file"):
        read_codes(tmp_path / "x.bin")
    write_codes(tmp_path / "c.bin", quantize(np.ones((3, 2))))
    (tmp_path / "c.bin").write_bytes((tmp_path / "c.bin").read_bytes()[:-1])
    with pytest.raises(DataFormatError, match="should hold"):
        read_codes(tmp_path / "c.bin")
    with pytest.raises(TypeError, match="encode/decode"):
        compress(object(), np.zeros((2, 2)))
