"""784 → 64 → 32 → 64 → 784 with ReLU and a sigmoid output: the deeper Keras autoencoder.

    python examples/keras/deep.py                   # built-in 8×8 digits: 64 → 64 → 32 → 64 → 64
    python examples/keras/deep.py --mnist FOLDER    # MNIST
"""

import numpy as np
from keras_common import load, parse, report, save_rows, train

import tinyae as ta

args = parse(__doc__, fast_epochs=20, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]

# Keras: Dense(64, "relu"), Dense(32, "relu") | Dense(64, "relu"), Dense(784, "sigmoid").
# Autoencoder.deep mirrors the encoder; code="relu" matches Keras's ReLU code layer
# (tinyae's default code is linear, as in Hinton & Salakhutdinov 2006).
model = ta.Autoencoder.deep([D, 64, 32], hidden="relu", code="relu", output="sigmoid",
                            seed=0, dtype=np.float32)
train(model, X_train, X_test, args, batch_size=256, loss="mse")

report("deep 64-32", model.evaluate(X_test, "mse"), X_test)
save_rows(args.figure, [X_test, model.reconstruct(X_test)], ["test image", "784→64→32→…"],
          side, "Deep autoencoder, code of 32")
