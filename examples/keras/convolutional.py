"""Conv2D(16, 3, strides=2) → Conv2D(8, 3, strides=2), mirrored with Conv2DTranspose.

The convolutional autoencoder of TensorFlow's "Intro to Autoencoders" tutorial: the code
is the 8 feature maps of 7×7 (392 numbers) for MNIST, 2×2 for the 8×8 digits.

    python examples/keras/convolutional.py                   # built-in 8×8 digits
    python examples/keras/convolutional.py --mnist FOLDER    # MNIST
    python examples/keras/convolutional.py --mnist FOLDER --keras    # the same in Keras
"""

import numpy as np
from keras_common import keras_backend, load, parse, report, save_rows, squared_error, timed, train

import tinyae as ta

args = parse(__doc__, fast_epochs=15, mnist_epochs=2)
X_train, X_test, side = load(args)

if args.keras:
    keras = keras_backend()
    from keras import layers

    x_train = X_train.reshape(-1, side, side, 1)          # Keras's images are channels last
    x_test = X_test.reshape(-1, side, side, 1)
    with timed(args):
        # Keras, as on the page
        autoencoder = keras.Sequential([
            keras.Input(shape=(side, side, 1)),
            layers.Conv2D(16, 3, activation="relu", padding="same", strides=2),
            layers.Conv2D(8, 3, activation="relu", padding="same", strides=2),
            layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2D(1, 3, activation="sigmoid", padding="same"),
        ])
        autoencoder.compile(optimizer="adam", loss="mse")
        autoencoder.fit(x_train, x_train, epochs=args.epochs, shuffle=True,
                        validation_data=(x_test, x_test), verbose=2)
        # (end of the Keras snippet)
    X_hat = autoencoder.predict(x_test, verbose=0).reshape(len(X_test), -1)
    report("convolutional, Keras", squared_error(X_hat, X_test), X_test)
else:
    # tinyae, as on the page
    f32 = dict(dtype=np.float32)
    # Keras "same" padding with a 3×3 kernel is padding=1; with stride 2 it halves the size.
    # ConvTranspose2D's output_padding=1 makes it double it exactly, as Keras's does.
    # tinyae's codes are rows, so Flatten ends the encoder and Reshape starts the decoder.
    code_maps = (8, side // 4, side // 4)                              # (8, 7, 7) for MNIST
    encoder = [ta.Conv2D(1, 16, 3, stride=2, padding=1, seed=0, **f32), ta.ReLU(),
               ta.Conv2D(16, 8, 3, stride=2, padding=1, seed=1, **f32), ta.ReLU(), ta.Flatten()]
    decoder = [ta.Reshape(code_maps),
               ta.ConvTranspose2D(8, 8, 3, stride=2, padding=1, output_padding=1, seed=2,
                                  **f32),
               ta.ReLU(),
               ta.ConvTranspose2D(8, 16, 3, stride=2, padding=1, output_padding=1, seed=3,
                                  **f32),
               ta.ReLU(),
               ta.Conv2D(16, 1, 3, padding=1, init="glorot", seed=4, **f32), ta.Sigmoid()]
    model = ta.Autoencoder(encoder, decoder, input_shape=(1, side, side))
    train(model, X_train, X_test, args, batch_size=32, loss="mse")     # Keras's default batch
    X_hat = model.reconstruct(X_test).reshape(len(X_test), -1)        # (N, 1, H, W) -> rows
    # (end of the tinyae code)
    report("convolutional", model.evaluate(X_test, "mse"), X_test)
save_rows(args.figure, [X_test, X_hat], ["test image", "conv AE"], side,
          "Convolutional autoencoder")
