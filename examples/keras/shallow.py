"""784 → 128 → 784, ReLU then sigmoid, Adam on MSE: the first Keras autoencoder, in tinyae.

    python examples/keras/shallow.py                   # built-in 8×8 digits: 64 → 128 → 64
    python examples/keras/shallow.py --mnist FOLDER    # MNIST: 784 → 128 → 784
"""

import numpy as np
from keras_common import load, parse, report, save_rows, train

import tinyae as ta

args = parse(__doc__, fast_epochs=20, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]

# Keras: Dense(128, activation="relu") then Dense(784, activation="sigmoid")
model = ta.Autoencoder.shallow(D, 128, hidden="relu", output="sigmoid", seed=0,
                               dtype=np.float32)
train(model, X_train, X_test, args, batch_size=256, loss="mse")   # compile(Adam, "mse") + fit

X_hat = model.reconstruct(X_test)                                  # Keras: predict
report("shallow 128", model.evaluate(X_test, "mse"), X_test)
save_rows(args.figure, [X_test, X_hat], ["test image", "784→128→784"], side,
          "Shallow autoencoder, code of 128")
