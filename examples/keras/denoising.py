"""Denoising: 784 → 128 → 784 trained to map x + 0.5·N(0, 1) (clipped to [0, 1]) back to x.

    python examples/keras/denoising.py                   # built-in 8×8 digits
    python examples/keras/denoising.py --mnist FOLDER    # MNIST
"""

import numpy as np
from keras_common import load, parse, report, save_rows, train

import tinyae as ta

args = parse(__doc__, fast_epochs=20, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]

model = ta.Autoencoder.shallow(D, 128, hidden="relu", output="sigmoid", seed=0,
                               dtype=np.float32)
# Keras: fit(x_train_noisy, x_train, ...) with one noisy copy made beforehand; tinyae
# draws fresh noise for every batch (noise=...), so the model never sees the same corruption.
train(model, X_train, X_test, args, batch_size=256, loss="mse", noise=("gaussian", 0.5))

X_noisy = ta.add_noise(X_test, "gaussian", 0.5, seed=1)            # a stream training never used
X_denoised = model.reconstruct(X_noisy)
noisy_error = float(np.mean(np.sum((X_noisy - X_test) ** 2, axis=1)))
print(f"the noisy test images themselves are {noisy_error:.3f} away from the clean ones")
error = model.reconstruction_error(X_noisy, X_test)
report("denoising", error, X_test)
assert error < noisy_error, f"denoising made things worse: {error:.3f} >= {noisy_error:.3f}"
save_rows(args.figure, [X_test, X_noisy, X_denoised], ["clean", "noisy (σ=0.5)", "denoised"],
          side, "Denoising autoencoder")
