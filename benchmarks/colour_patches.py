"""Colour images for ``tinyae train --data cifar10:FOLDER`` when CIFAR-10 cannot be downloaded.

Cuts real photographs that ship inside two Python packages into 32×32 colour
patches and writes them in the format of CIFAR-10's binary version: records of one
label byte and 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, row by row),
``data_batch_1.bin`` ... ``data_batch_5.bin`` for training and ``test_batch.bin``
for testing. Training and test patches come from *different* photographs, so the
test error measures images the model has never seen any part of. The label byte is
the photograph's number (``PHOTOS`` lists them), so ``codes.png`` is coloured by
photograph: five training photographs, two test photographs.

The photographs: scikit-learn's ``load_sample_images`` (china.jpg, flower.jpg) and
scikit-image's ``skimage.data`` (astronaut, rocket, the left view of
stereo_motorcycle; chelsea and coffee for testing). Neither
package is a tinyae dependency; install them for this script only::

    pip install scikit-learn scikit-image
    python benchmarks/colour_patches.py data/photo-patches
    OPENBLAS_NUM_THREADS=1 tinyae train --data cifar10:data/photo-patches --conv \\
        --code 64 --loss mse --epochs 20 --schedule plateau:1:0.5 --out runs/photo-patches

Each photograph is shrunk (bilinear, Pillow) so that its shorter side is 96, 160 and
256 pixels, and each version is cut into patches with a stride of ``--stride``
pixels: small versions give whole objects in a patch as CIFAR-10 does, large ones
textures and edges. Patches are shuffled with a seeded generator.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

# (name, where it ships); the first four are the training photographs, the last two the test.
PHOTOS = (("china", "sklearn"), ("flower", "sklearn"), ("astronaut", "skimage"),
          ("rocket", "skimage"), ("motorcycle", "skimage"), ("chelsea", "skimage"),
          ("coffee", "skimage"))
TRAIN, TEST = PHOTOS[:5], PHOTOS[5:]
SIDES = (96, 160, 256)  # shorter side of each shrunk copy, in pixels
PATCH = 32


def photograph(name, source):
    """One photograph as an (H, W, 3) uint8 array."""
    if source == "sklearn":
        from sklearn.datasets import load_sample_images

        images = load_sample_images()
        names = [Path(f).stem for f in images.filenames]
        return np.asarray(images.images[names.index(name)], dtype=np.uint8)
    import skimage.data

    if name == "motorcycle":  # the left view of a stereo pair
        return np.asarray(skimage.data.stereo_motorcycle()[0], dtype=np.uint8)
    return np.asarray(getattr(skimage.data, name)(), dtype=np.uint8)[..., :3]


def patches(image, sides=SIDES, stride=8, size=PATCH):
    """32×32 patches of ``image`` shrunk to each shorter side in ``sides``: (n, 3, 32, 32) uint8."""
    out = []
    for side in sides:
        h, w = image.shape[:2]
        scale = side / min(h, w)
        small = Image.fromarray(image).resize((round(w * scale), round(h * scale)),
                                              Image.Resampling.BILINEAR)
        pixels = np.asarray(small)                                   # (H, W, 3)
        for top in range(0, pixels.shape[0] - size + 1, stride):
            for left in range(0, pixels.shape[1] - size + 1, stride):
                out.append(pixels[top:top + size, left:left + size].transpose(2, 0, 1))
    return np.stack(out)


def cifar_records(images, labels):
    """The bytes of CIFAR-10 binary records: label byte, then the R, G, B planes."""
    rows = np.concatenate([np.asarray(labels, np.uint8)[:, None],
                           images.reshape(len(images), -1)], axis=1)
    return rows.astype(np.uint8).tobytes()


def build(photos, stride, rng, first_label):
    images, labels = [], []
    for k, (name, source) in enumerate(photos):
        cut = patches(photograph(name, source), stride=stride)
        images.append(cut)
        labels.append(np.full(len(cut), first_label + k))
    images, labels = np.concatenate(images), np.concatenate(labels)
    order = rng.permutation(len(images))
    return images[order], labels[order]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the six CIFAR-format .bin files")
    parser.add_argument("--stride", type=int, default=8, help="pixels between patches")
    parser.add_argument("--max-test", type=int, default=2000,
                        help="keep at most this many test patches (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    X_train, y_train = build(TRAIN, args.stride, rng, first_label=0)
    X_test, y_test = build(TEST, args.stride, rng, first_label=len(TRAIN))
    X_test, y_test = X_test[:args.max_test], y_test[:args.max_test]
    args.out.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(X_train)), 5), start=1):
        (args.out / f"data_batch_{i}.bin").write_bytes(cifar_records(X_train[part],
                                                                     y_train[part]))
    (args.out / "test_batch.bin").write_bytes(cifar_records(X_test, y_test))
    names = ", ".join(f"{k} {name}" for k, (name, _) in enumerate(PHOTOS))
    print(f"wrote {args.out}/: {len(X_train):,} training patches from "
          f"{', '.join(n for n, _ in TRAIN)}; {len(X_test):,} test patches from "
          f"{', '.join(n for n, _ in TEST)}; labels = photograph ({names})")


if __name__ == "__main__":
    main()
