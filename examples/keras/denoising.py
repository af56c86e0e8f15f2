"""Denoising: 784 → 128 → 784 trained to map x + 0.5·N(0, 1) (clipped to [0, 1]) back to x.

    python examples/keras/denoising.py                   # built-in 8×8 digits
    python examples/keras/denoising.py --mnist FOLDER    # MNIST
    python examples/keras/denoising.py --mnist FOLDER --keras    # the same in Keras

Both score on the same noisy test images (``ta.add_noise`` with seed 1).
"""

import numpy as np
from keras_common import keras_backend, load, parse, report, save_rows, timed, train

import tinyae as ta

args = parse(__doc__, fast_epochs=20, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]
X_noisy = ta.add_noise(X_test, "gaussian", 0.5, seed=1)   # the test images both are scored on

if args.keras:
    keras = keras_backend()
    from keras import layers

    with timed(args):
        # Keras, as on the page
        noise, rng = 0.5, np.random.default_rng(0)
        x_train_noisy = np.clip(X_train + noise * rng.normal(size=X_train.shape), 0, 1)
        x_test_noisy = np.clip(X_test + noise * rng.normal(size=X_test.shape), 0, 1)
        inputs = keras.Input(shape=(D,))
        code = layers.Dense(128, activation="relu")(inputs)
        autoencoder = keras.Model(inputs, layers.Dense(D, activation="sigmoid")(code))
        autoencoder.compile(optimizer="adam", loss="mse")
        autoencoder.fit(x_train_noisy.astype("float32"), X_train, epochs=args.epochs,
                        batch_size=256, shuffle=True, verbose=2,
                        validation_data=(x_test_noisy.astype("float32"), X_test))
        # (end of the Keras snippet)
    X_denoised = autoencoder.predict(X_noisy, verbose=0)
    name = "denoising, Keras"
else:
    # tinyae, as on the page
    model = ta.Autoencoder.shallow(D, 128, hidden="relu", output="sigmoid", seed=0,
                                   dtype=np.float32)
    # Keras: fit(x_train_noisy, x_train, ...) with one noisy copy made beforehand; tinyae
    # draws fresh noise for every batch (noise=...): the model never sees the same corruption.
    train(model, X_train, X_test, args, batch_size=256, loss="mse", noise=("gaussian", 0.5))
    X_denoised = model.reconstruct(X_noisy)
    # (end of the tinyae code)
    name = "denoising"
noisy_error = float(np.mean(np.sum((X_noisy - X_test) ** 2, axis=1)))
print(f"the noisy test images themselves are {noisy_error:.3f} away from the clean ones")
error = float(np.mean(np.sum((X_denoised - X_test) ** 2, axis=1)))
report(name, error, X_test)
assert error < noisy_error, f"denoising made things worse: {error:.3f} >= {noisy_error:.3f}"
save_rows(args.figure, [X_test, X_noisy, X_denoised], ["clean", "noisy (σ=0.5)", "denoised"],
          side, "Denoising autoencoder")
