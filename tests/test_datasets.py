"""tinyae.datasets: loaders read back exactly what was written, errors teach, noise obeys."""

import gzip
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyae.datasets import (
    add_noise,
    load_array,
    load_digits,
    load_mnist,
    read_idx,
    train_test_split,
)
from tinyae.errors import DataFormatError, DTypeError, NotFiniteError, ShapeError

# ---------------------------------------------------------------- helpers


def idx_bytes(array, code=0x08):
    """The IDX encoding of ``array``, written by hand from the format description."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = struct.pack(">HBB", 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big).tobytes()


def write(path, data, gz=False):
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def fake_mnist(folder, n_train=7, n_test=3, gz=False, seed=0):
    """Write the four MNIST files with random content; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), gz)
        write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), gz)
        arrays[prefix] = (images, labels)
    return arrays


# ---------------------------------------------------------------- digits


def test_load_digits_known_facts():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # Pixels were integers 0..16 divided by 16: multiplying back gives integers.
    assert np.array_equal(X * 16, np.round(X * 16))


def test_load_digits_float32_and_bad_dtype():
    X64, _ = load_digits()
    X32, _ = load_digits(dtype=np.float32)
    assert X32.dtype == np.float32
    np.testing.assert_array_equal(X32, X64.astype(np.float32))
    with pytest.raises(DTypeError, match="float32 or float64"):
        load_digits(dtype=np.int32)


# ---------------------------------------------------------------- read_idx


@pytest.mark.parametrize(
    "code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                    (0x0D, np.float32), (0x0E, np.float64)],
)
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_every_type_code(tmp_path, code, dtype, gz):
    rng = np.random.default_rng(1)
    array = (rng.standard_normal((4, 3, 2)) * 100).astype(dtype)
    path = write(tmp_path / ("a.idx.gz" if gz else "a.idx"), idx_bytes(array, code), gz)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)
    back[0] = 0  # a writable array, not a read-only view of the file's bytes


def test_read_idx_bad_magic(tmp_path):
    path = write(tmp_path / "bad", b"\x01\x00" + idx_bytes(np.zeros(3, np.uint8))[2:])
    with pytest.raises(DataFormatError, match="magic") as info:
        read_idx(path)
    assert "bad" in str(info.value)


def test_read_idx_unknown_type_code(tmp_path):
    path = write(tmp_path / "code", struct.pack(">HBBI", 0, 0x0A, 1, 2) + b"\x00\x00")
    with pytest.raises(DataFormatError, match="0x0A") as info:
        read_idx(path)
    assert "code" in str(info.value)


def test_read_idx_truncated_and_too_long(tmp_path):
    full = idx_bytes(np.arange(20, dtype=np.uint8).reshape(4, 5))
    with pytest.raises(DataFormatError, match="truncated"):
        read_idx(write(tmp_path / "short", full[:-1]))
    with pytest.raises(DataFormatError, match="truncated"):
        read_idx(write(tmp_path / "header", full[:6]))
    with pytest.raises(DataFormatError, match="longer"):
        read_idx(write(tmp_path / "long", full + b"\x00"))


def test_read_idx_corrupt_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))
    for name, data in (("junk.gz", b"this is not gzip"), ("cut.gz", good[: len(good) // 2])):
        with pytest.raises(DataFormatError, match="gzip") as info:
            read_idx(write(tmp_path / name, data))
        assert name in str(info.value)


# ---------------------------------------------------------------- load_mnist


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_reads_back_what_was_written(tmp_path, gz):
    written = fake_mnist(tmp_path, gz=gz)
    X, y = load_mnist(tmp_path)
    images, labels = written["train"]
    assert X.shape == (7, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, images.reshape(7, -1).astype(np.float32) / 255)
    np.testing.assert_array_equal(y, labels)
    X, y = load_mnist(tmp_path, split="test", dtype=np.float64, flatten=False)
    images, labels = written["t10k"]
    assert X.shape == (3, 28, 28) and X.dtype == np.float64
    np.testing.assert_array_equal(X, images / 255.0)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_both_and_env_variable(tmp_path, monkeypatch):
    written = fake_mnist(tmp_path)
    monkeypatch.setenv("TINYAE_MNIST", str(tmp_path))
    (X_train, y_train), (X_test, y_test) = load_mnist(split="both")
    assert len(X_train) == len(y_train) == 7 and len(X_test) == len(y_test) == 3
    np.testing.assert_array_equal(y_test, written["t10k"][1])


def test_load_mnist_no_path_no_env(monkeypatch):
    monkeypatch.delenv("TINYAE_MNIST", raising=False)
    with pytest.raises(DataFormatError, match="TINYAE_MNIST") as info:
        load_mnist()
    assert "yann.lecun.com" in str(info.value)


def test_load_mnist_missing_folder_and_files(tmp_path):
    with pytest.raises(DataFormatError, match="nowhere"):
        load_mnist(tmp_path / "nowhere")
    fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    load_mnist(tmp_path, split="train")  # the training files are all still there
    with pytest.raises(DataFormatError) as info:
        load_mnist(tmp_path, split="test")
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte" in message and "t10k-labels-idx1-ubyte.gz" in message


def test_load_mnist_count_mismatch(tmp_path):
    fake_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataFormatError, match="7 images but .* 5 labels"):
        load_mnist(tmp_path)


def test_load_mnist_labels_out_of_range(tmp_path):
    fake_mnist(tmp_path)
    labels = np.array([0, 1, 2, 3, 4, 5, 12], np.uint8)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels))
    with pytest.raises(DataFormatError, match="0..9.*12"):
        load_mnist(tmp_path)


def test_load_mnist_images_of_wrong_type(tmp_path):
    fake_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((7, 28, 28), np.float32), 0x0D))
    with pytest.raises(DataFormatError, match="uint8"):
        load_mnist(tmp_path)


def test_load_mnist_bad_split(tmp_path):
    with pytest.raises(ValueError, match="'validation'"):
        load_mnist(tmp_path, split="validation")


# ---------------------------------------------------------------- load_array


def test_load_array_npy_float_unchanged(tmp_path):
    X = np.random.default_rng(2).standard_normal((5, 3)) * 7
    np.save(tmp_path / "x.npy", X)
    np.testing.assert_array_equal(load_array(tmp_path / "x.npy"), X)
    back = load_array(tmp_path / "x.npy", dtype=np.float32)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, X.astype(np.float32))


def test_load_array_integer_scaling(tmp_path):
    u8 = np.array([[0, 51], [255, 102]], dtype=np.uint8)
    np.save(tmp_path / "u8.npy", u8)
    np.testing.assert_allclose(load_array(tmp_path / "u8.npy"), u8 / 255.0)
    i32 = np.array([[0, 3], [6, 12]], dtype=np.int32)
    np.save(tmp_path / "i32.npy", i32)
    np.testing.assert_allclose(load_array(tmp_path / "i32.npy"), i32 / 12.0)


def test_load_array_images_are_flattened(tmp_path):
    images = np.random.default_rng(3).random((4, 5, 6))
    np.save(tmp_path / "im.npy", images)
    np.testing.assert_array_equal(load_array(tmp_path / "im.npy"), images.reshape(4, 30))


def test_load_array_npz(tmp_path):
    X = np.random.default_rng(4).random((3, 2))
    np.savez(tmp_path / "one.npz", data=X)
    np.testing.assert_array_equal(load_array(tmp_path / "one.npz"), X)
    np.savez(tmp_path / "named.npz", X=X, y=np.arange(3))
    np.testing.assert_array_equal(load_array(tmp_path / "named.npz"), X)
    np.savez(tmp_path / "many.npz", a=X, b=X)
    with pytest.raises(DataFormatError, match=r"\['a', 'b'\]"):
        load_array(tmp_path / "many.npz")


def test_load_array_csv_with_and_without_header(tmp_path):
    X = np.array([[0.5, 0.25, 1.0], [0.0, 0.75, 0.125]])
    rows = "\n".join(",".join(str(v) for v in row) for row in X)
    (tmp_path / "plain.csv").write_text(rows + "\n")
    (tmp_path / "header.csv").write_text("a,b,c\n" + rows + "\n")
    np.testing.assert_array_equal(load_array(tmp_path / "plain.csv"), X)
    np.testing.assert_array_equal(load_array(tmp_path / "header.csv"), X)
    (tmp_path / "text.csv").write_text("a,b\nc,d\n")
    with pytest.raises(DataFormatError, match="text.csv"):
        load_array(tmp_path / "text.csv")


def test_load_array_refuses_pickles(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataFormatError, match="pickled"):
        load_array(tmp_path / "obj.npy")
    (tmp_path / "raw.npy").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DataFormatError, match="refused for safety"):
        load_array(tmp_path / "raw.npy")


def test_load_array_errors(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        load_array(tmp_path / "missing.npy")
    with pytest.raises(DataFormatError, match=r"'\.txt'"):
        load_array(tmp_path / "data.txt")
    np.save(tmp_path / "flat.npy", np.arange(5.0))
    with pytest.raises(ShapeError, match=r"\(5,\)"):
        load_array(tmp_path / "flat.npy")
    np.save(tmp_path / "deep.npy", np.zeros((2, 2, 2, 2, 2)))
    with pytest.raises(ShapeError, match=r"\(2, 2, 2, 2, 2\)"):
        load_array(tmp_path / "deep.npy")
    np.save(tmp_path / "nan.npy", np.array([[0.0, np.nan], [np.inf, 1.0]]))
    with pytest.raises(NotFiniteError, match="2 NaN or inf"):
        load_array(tmp_path / "nan.npy")


# ---------------------------------------------------------------- train_test_split


def test_split_sizes_disjoint_covering():
    X = np.arange(50).reshape(25, 2)
    X_train, X_test = train_test_split(X, test_size=0.2)
    assert len(X_train) == 20 and len(X_test) == 5
    rows = np.concatenate([X_train[:, 0], X_test[:, 0]])
    assert sorted(rows.tolist()) == X[:, 0].tolist()  # every row once: disjoint and covering
    X_train, X_test = train_test_split(X, test_size=7)
    assert len(X_test) == 7 and len(X_train) == 18
    X_train, X_test = train_test_split(X, test_size=0.1)  # 2.5 test rows round up to 3
    assert len(X_test) == 3 and len(X_train) == 22


def test_split_seeds_and_alignment():
    X = np.arange(200).reshape(100, 2)
    y = X[:, 0] * 10
    a = train_test_split(X, y, seed=5)
    b = train_test_split(X, y, seed=np.random.default_rng(5))
    c = train_test_split(X, y, seed=6)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    X_train, X_test, y_train, y_test = a
    np.testing.assert_array_equal(y_train, X_train[:, 0] * 10)
    np.testing.assert_array_equal(y_test, X_test[:, 0] * 10)


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.5, 0, 10, 11])
def test_split_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros((10, 2)), test_size=test_size)


def test_split_bad_arguments():
    with pytest.raises(TypeError, match="test_size"):
        train_test_split(np.zeros((10, 2)), test_size="half")
    with pytest.raises(ShapeError, match="10 samples"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(TypeError, match="seed"):
        train_test_split(np.zeros((10, 2)), seed=None)


# ---------------------------------------------------------------- add_noise


@pytest.fixture
def images():
    return np.random.default_rng(7).random((400, 250))


@pytest.mark.parametrize("kind", ["gaussian", "masking", "salt_pepper"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_noise_keeps_input_and_dtype(images, kind, dtype):
    X = images.astype(dtype)
    before = X.copy()
    X_noisy = add_noise(X, kind=kind, level=0.3, seed=1)
    np.testing.assert_array_equal(X, before)
    assert X_noisy.dtype == dtype and X_noisy.shape == X.shape
    assert not np.array_equal(X_noisy, X)
    np.testing.assert_array_equal(X_noisy, add_noise(X, kind=kind, level=0.3, seed=1))


def test_masking_fraction(images):
    level = 0.25
    X_noisy = add_noise(images, kind="masking", level=level, seed=2)
    masked = X_noisy != images
    assert np.all(X_noisy[masked] == 0)
    # Binomial(n, p): standard deviation of the fraction is sqrt(p(1-p)/n); allow 5 of them.
    tolerance = 5 * np.sqrt(level * (1 - level) / images.size)
    assert abs(masked.mean() - level) < tolerance


def test_salt_pepper_values(images):
    level = 0.2
    X_noisy = add_noise(images, kind="salt_pepper", level=level, seed=3)
    changed = X_noisy != images
    assert set(np.unique(X_noisy[changed]).tolist()) == {0.0, 1.0}
    tolerance = 5 * np.sqrt(level * (1 - level) / images.size)
    assert abs(changed.mean() - level) < tolerance
    salt = (X_noisy[changed] == 1).mean()
    assert abs(salt - 0.5) < 5 * np.sqrt(0.25 / changed.sum())


def test_gaussian_noise_std_and_clipping(images):
    X = np.full((300, 300), 0.5)
    X_noisy = add_noise(X, kind="gaussian", level=0.1, seed=4)
    assert abs((X_noisy - X).std() - 0.1) < 0.005  # 5 sigma of 0.5 is far outside [0, 1]
    X_noisy = add_noise(images, kind="gaussian", level=2.0, seed=4)
    assert X_noisy.min() == 0.0 and X_noisy.max() == 1.0


def test_noise_generator_advances(images):
    rng = np.random.default_rng(0)
    first = add_noise(images, kind="masking", level=0.5, seed=rng)
    second = add_noise(images, kind="masking", level=0.5, seed=rng)
    assert not np.array_equal(first, second)


def test_noise_bad_arguments(images):
    with pytest.raises(ValueError, match="'gaussian', 'masking', 'salt_pepper'"):
        add_noise(images, kind="dropout")
    with pytest.raises(ValueError, match="-0.1"):
        add_noise(images, kind="gaussian", level=-0.1)
    with pytest.raises(ValueError, match="1.5"):
        add_noise(images, kind="masking", level=1.5)
    with pytest.raises(ValueError, match="probability"):
        add_noise(images, kind="salt_pepper", level=-0.01)
    with pytest.raises(DTypeError, match="uint8"):
        add_noise(np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match="level"):
        add_noise(images, level="high")


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 20), st.integers(1, 20)),
    kind=st.sampled_from(["gaussian", "masking", "salt_pepper"]),
    level=st.floats(0.0, 1.0),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_noise_properties(shape, kind, level, dtype, seed):
    X = np.random.default_rng(seed).random(shape, dtype=dtype)
    X_noisy = add_noise(X, kind=kind, level=level, seed=seed)
    assert X_noisy.shape == X.shape and X_noisy.dtype == X.dtype
    assert np.all((X_noisy >= 0) & (X_noisy <= 1))
    changed = X_noisy != X
    if kind == "masking":
        assert np.all(X_noisy[changed] == 0)
    if kind == "salt_pepper":
        assert np.all(np.isin(X_noisy[changed], [0, 1]))
    if kind != "gaussian" and level == 0:
        assert not changed.any()
    if kind == "masking" and level == 1:
        assert not X_noisy.any()
