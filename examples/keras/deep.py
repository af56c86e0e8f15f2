"""784 → 64 → 32 → 64 → 784 with ReLU and a sigmoid output: the deeper Keras autoencoder.

    python examples/keras/deep.py                   # built-in 8×8 digits: 64 → 64 → 32 → 64 → 64
    python examples/keras/deep.py --mnist FOLDER    # MNIST
    python examples/keras/deep.py --mnist FOLDER --keras    # the same in Keras
"""

import numpy as np
from keras_common import keras_backend, load, parse, report, save_rows, squared_error, timed, train

import tinyae as ta

args = parse(__doc__, fast_epochs=20, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]

if args.keras:
    keras = keras_backend()
    from keras import layers

    with timed(args):
        # Keras, as on the page
        autoencoder = keras.Sequential([
            keras.Input(shape=(D,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(32, activation="relu"),      # the code
            layers.Dense(64, activation="relu"),
            layers.Dense(D, activation="sigmoid"),
        ])
        autoencoder.compile(optimizer="adam", loss="mse")
        autoencoder.fit(X_train, X_train, epochs=args.epochs, batch_size=256, shuffle=True,
                        validation_data=(X_test, X_test), verbose=2)
        # (end of the Keras snippet)
    X_hat = autoencoder.predict(X_test, verbose=0)
    report("deep 64-32, Keras", squared_error(X_hat, X_test), X_test)
else:
    # tinyae, as on the page
    # Keras: Dense(64, "relu"), Dense(32, "relu") | Dense(64, "relu"), Dense(784, "sigmoid").
    # Autoencoder.deep mirrors the encoder; code="relu" matches Keras's ReLU code layer
    # (tinyae's default code is linear, as in Hinton & Salakhutdinov 2006).
    model = ta.Autoencoder.deep([D, 64, 32], hidden="relu", code="relu", output="sigmoid",
                                seed=0, dtype=np.float32)
    train(model, X_train, X_test, args, batch_size=256, loss="mse")
    X_hat = model.reconstruct(X_test)
    # (end of the tinyae code)
    report("deep 64-32", model.evaluate(X_test, "mse"), X_test)
save_rows(args.figure, [X_test, X_hat], ["test image", "784→64→32→…"], side,
          "Deep autoencoder, code of 32")
