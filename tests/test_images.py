"""CIFAR-10 binary batches and folders of pictures: values, layout, and every malformed file.

The tests write their own small files: CIFAR-10 records with known bytes, and
PNG/JPEG pictures drawn with Pillow (which matplotlib installs).
"""

import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from tinyae.errors import DataFormatError, DTypeError
from tinyae.images import CIFAR10_CLASSES, load_cifar10, load_images, read_cifar10_batch

RECORD = 3073


def records(labels, rng):
    """CIFAR-10 bytes for images with these labels, and the pixels as (n, 3, 32, 32) uint8."""
    pixels = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    rows = np.concatenate([np.asarray(labels, np.uint8)[:, None],
                           pixels.reshape(len(labels), -1)], axis=1)
    return rows.tobytes(), pixels


def write_cifar(folder, rng, per_batch=2):
    """The six batch files, ``per_batch`` images each; returns the pixels and labels written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        labels = [(k + j) % 10 for j in range(per_batch)]
        data, pixels = records(labels, rng)
        (folder / name).write_bytes(data)
        written[name] = (pixels, np.array(labels))
    return written


# ----- CIFAR-10 -----------------------------------------------------------------------------
def test_cifar10_record_layout_by_hand():
    # one record: label 7, red channel all 255, green 0..255 repeated, blue all 0
    red, green, blue = np.full(1024, 255), np.arange(1024) % 256, np.zeros(1024)
    data = bytes([7]) + np.concatenate([red, green, blue]).astype(np.uint8).tobytes()
    images, labels = read_cifar10_batch(data, "one.bin")
    assert images.shape == (1, 3, 32, 32) and labels.tolist() == [7]
    assert np.all(images[0, 0] == 255) and np.all(images[0, 2] == 0)
    assert images[0, 1, 0, :3].tolist() == [0, 1, 2]            # row by row
    assert images[0, 1, 1, 0] == 32                              # second row starts at byte 32
    assert CIFAR10_CLASSES[7] == "horse"


def test_load_cifar10_splits_values_and_layout(tmp_path, rng):
    written = write_cifar(tmp_path / "cifar-10-batches-bin", rng)
    (X, y), (X_test, y_test) = load_cifar10(tmp_path, split="both")   # finds the subfolder
    assert X.shape == (10, 3072) and X.dtype == np.float32 and y.dtype == np.int64
    assert X_test.shape == (2, 3072)
    pixels = np.concatenate([written[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    labels = np.concatenate([written[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    np.testing.assert_allclose(X, pixels.reshape(10, -1) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_array_equal(y_test, written["test_batch.bin"][1])
    images, _ = load_cifar10(tmp_path / "cifar-10-batches-bin", split="test", flatten=False,
                             dtype=np.float64)
    assert images.shape == (2, 3, 32, 32) and images.dtype == np.float64
    np.testing.assert_array_equal(images, written["test_batch.bin"][0] / 255)


def test_load_cifar10_from_the_archive_a_single_file_and_the_environment(tmp_path, rng,
                                                                        monkeypatch):
    written = write_cifar(tmp_path / "cifar-10-batches-bin", rng)
    archive = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "cifar-10-batches-bin", arcname="cifar-10-batches-bin")
    X, y = load_cifar10(archive, split="test", flatten=False)
    np.testing.assert_allclose(X, written["test_batch.bin"][0] / 255, rtol=1e-6)
    X1, _ = load_cifar10(tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin")
    np.testing.assert_allclose(X1, written["data_batch_3.bin"][0].reshape(2, -1) / 255,
                               rtol=1e-6)
    monkeypatch.setenv("TINYAE_CIFAR10", str(tmp_path / "cifar-10-batches-bin"))
    assert load_cifar10()[0].shape == (10, 3072)


def test_truncated_cifar_file_names_the_file_and_the_sizes(tmp_path, rng):
    write_cifar(tmp_path, rng)
    data = (tmp_path / "data_batch_2.bin").read_bytes()
    (tmp_path / "data_batch_2.bin").write_bytes(data[:-100])
    with pytest.raises(DataFormatError, match=r"data_batch_2.bin is truncated.*6,046 bytes are "
                                              r"not a whole number of 3,073-byte records"):
        load_cifar10(tmp_path)


def test_bad_label_byte_names_the_record(tmp_path, rng):
    write_cifar(tmp_path, rng)
    data = bytearray((tmp_path / "test_batch.bin").read_bytes())
    data[RECORD] = 12                                # the label byte of record 1
    (tmp_path / "test_batch.bin").write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match=r"test_batch.bin: record 1 \(byte offset 3,073\) "
                                              r"has label byte 12, expected 0..9"):
        load_cifar10(tmp_path, split="test")


def test_pickled_cifar_is_refused_and_never_loaded(tmp_path):
    # the "python version": a pickle, named like the binary batch or under its own name
    payload = pickle.dumps({"data": [1, 2, 3]}, protocol=2)
    (tmp_path / "data_batch_1").write_bytes(payload)
    with pytest.raises(DataFormatError, match=r"data_batch_1 without .bin is there: that is "
                                              r"the pickled 'python version'"):
        load_cifar10(tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(payload)
    with pytest.raises(DataFormatError, match=r"looks like a Python pickle.*never unpickles"):
        load_cifar10(tmp_path, split="test")


@pytest.mark.parametrize("setup, call, message", [
    (None, lambda p: load_cifar10(p / "nowhere"), r"nowhere does not exist"),
    ("empty folder", lambda p: load_cifar10(p), r"data_batch_1.bin missing in .*binary version"),
    ("empty file", lambda p: load_cifar10(p / "x.bin"), r"x.bin is empty"),
    ("bad archive", lambda p: load_cifar10(p / "c.tar.gz"), r"c.tar.gz is not a readable tar"),
    ("text file", lambda p: load_cifar10(p / "notes.txt"), r"notes.txt is not a folder, a .bin"),
])
def test_missing_and_malformed_cifar_paths(tmp_path, setup, call, message):
    if setup == "empty file":
        (tmp_path / "x.bin").write_bytes(b"")
    elif setup == "bad archive":
        (tmp_path / "c.tar.gz").write_bytes(b"not gzip at all")
    elif setup == "text file":
        (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match=message):
        call(tmp_path)


def test_archive_without_the_batches(tmp_path):
    (tmp_path / "readme.txt").write_text("not cifar")
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "readme.txt", arcname="readme.txt")
    with pytest.raises(DataFormatError, match=r"does not hold test_batch.bin"):
        load_cifar10(tmp_path / "other.tar.gz", split="test")


def test_cifar_arguments(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYAE_CIFAR10", raising=False)
    with pytest.raises(DataFormatError, match="TINYAE_CIFAR10 is not set"):
        load_cifar10()
    with pytest.raises(ValueError, match="split must be one of"):
        load_cifar10(tmp_path, split="validation")
    with pytest.raises(DTypeError, match="float32 or float64"):
        load_cifar10(tmp_path, dtype=np.int32)


# ----- a folder of pictures -----------------------------------------------------------------
def save(folder, name, array):
    """Write ``array`` (uint8 (H, W), (H, W, 3), (H, W, 4) or uint16 (H, W)) as a picture."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(folder / name)
    return folder / name


def test_png_pixels_are_read_exactly_in_name_order(tmp_path, rng):
    a = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)      # height 5, width 6, RGB
    b = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    save(tmp_path, "b.png", b)
    save(tmp_path, "a.png", a)
    (tmp_path / "notes.txt").write_text("ignored")
    X = load_images(tmp_path)
    assert X.shape == (2, 3, 5, 6) and X.dtype == np.float32
    np.testing.assert_allclose(X[0], a.transpose(2, 0, 1) / 255, rtol=1e-6)   # a before b
    np.testing.assert_allclose(X[1], b.transpose(2, 0, 1) / 255, rtol=1e-6)


def test_grayscale_resize_and_jpeg(tmp_path, rng):
    flat = np.zeros((16, 12, 3), dtype=np.uint8)
    flat[...] = (200, 100, 50)
    save(tmp_path, "photo.JPG", flat)                       # upper-case suffix, lossy format
    save(tmp_path, "gray.png", np.full((16, 12), 128, np.uint8))
    X = load_images(tmp_path, grayscale=True, dtype=np.float64)
    assert X.shape == (2, 1, 16, 12) and X.dtype == np.float64
    np.testing.assert_allclose(X[0], 128 / 255)
    luminance = (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255
    np.testing.assert_allclose(X[1], luminance, atol=0.02)  # JPEG is lossy
    small = load_images(tmp_path, size=(4, 3))
    assert small.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(small[0], 128 / 255, atol=1e-6)   # gray becomes 3 equal channels
    np.testing.assert_allclose(small[1, :, 2, 1], np.array([200, 100, 50]) / 255, atol=0.02)
    assert load_images(tmp_path, size=8).shape == (2, 3, 8, 8)


def test_transparent_pixels_land_on_white_and_16_bit_is_not_clipped(tmp_path):
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)                           # opaque red, the rest transparent
    save(tmp_path / "a", "rgba.png", rgba)
    X = load_images(tmp_path / "a")
    np.testing.assert_array_equal(X[0, :, 0, 0], [1, 0, 0])
    np.testing.assert_array_equal(X[0, :, 1, 1], [1, 1, 1])
    deep = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    save(tmp_path / "b", "deep.png", deep)
    G = load_images(tmp_path / "b", grayscale=True, dtype=np.float64)
    np.testing.assert_allclose(G[0, 0], deep / 65535, rtol=1e-6)


def test_unreadable_image_names_the_file(tmp_path, rng):
    save(tmp_path, "good.png", rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    with pytest.raises(DataFormatError, match=r"cannot read image .*broken.png"):
        load_images(tmp_path)
    png = (tmp_path / "good.png").read_bytes()
    (tmp_path / "broken.png").write_bytes(png[: len(png) // 2])    # truncated
    with pytest.raises(DataFormatError, match=r"broken.png"):
        load_images(tmp_path)


def test_sizes_differ_and_empty_or_missing_folders(tmp_path, rng):
    save(tmp_path, "a.png", rng.integers(0, 256, (4, 5, 3), dtype=np.uint8))
    save(tmp_path, "b.png", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    with pytest.raises(DataFormatError, match=r"a.png is 4x5 \(height x width\) but b.png is "
                                              r"6x5; pass size="):
        load_images(tmp_path)
    assert load_images(tmp_path, size=(4, 5)).shape == (2, 3, 4, 5)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match=r"no .png, .jpg or .jpeg files in .*empty"):
        load_images(tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_text("x")
    with pytest.raises(DataFormatError, match=r"it holds: a.txt"):
        load_images(tmp_path / "text")
    with pytest.raises(DataFormatError, match="does not exist"):
        load_images(tmp_path / "missing")
    with pytest.raises(ValueError, match="size must be a positive int or a pair"):
        load_images(tmp_path, size=(0, 4))
