"""784 → 128 → 784, ReLU then sigmoid, Adam on MSE: the first Keras autoencoder, in tinyae.

    python examples/keras/shallow.py                   # built-in 8×8 digits: 64 → 128 → 64
    python examples/keras/shallow.py --mnist FOLDER    # MNIST: 784 → 128 → 784
    python examples/keras/shallow.py --mnist FOLDER --keras    # the same in Keras
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
        inputs = keras.Input(shape=(D,))
        code = layers.Dense(128, activation="relu")(inputs)
        outputs = layers.Dense(D, activation="sigmoid")(code)
        autoencoder = keras.Model(inputs, outputs)
        autoencoder.compile(optimizer="adam", loss="mse")
        autoencoder.fit(X_train, X_train, epochs=args.epochs, batch_size=256, shuffle=True,
                        validation_data=(X_test, X_test), verbose=2)
        # (end of the Keras snippet)
    X_hat = autoencoder.predict(X_test, verbose=0)
    report("shallow 128, Keras", squared_error(X_hat, X_test), X_test)
else:
    # tinyae, as on the page
    # Keras: Dense(128, activation="relu") then Dense(784, activation="sigmoid")
    model = ta.Autoencoder.shallow(D, 128, hidden="relu", output="sigmoid", seed=0,
                                   dtype=np.float32)
    train(model, X_train, X_test, args, batch_size=256, loss="mse")  # compile(Adam, "mse") + fit
    X_hat = model.reconstruct(X_test)                                # Keras: predict
    # (end of the tinyae code)
    report("shallow 128", model.evaluate(X_test, "mse"), X_test)
save_rows(args.figure, [X_test, X_hat], ["test image", "784→128→784"], side,
          "Shallow autoencoder, code of 128")
