"""A variational autoencoder: 784 → 256 → (μ, log σ²) in 2-D, z = μ + σ·ε, 2 → 256 → 784.

The Keras blog's VAE (F. Chollet, "Building Autoencoders in Keras"): the loss is the
cross-entropy summed over the pixels plus the KL divergence to N(0, I), i.e. −ELBO.

    python examples/keras/variational.py                   # built-in 8×8 digits
    python examples/keras/variational.py --mnist FOLDER    # MNIST
    python examples/keras/variational.py --mnist FOLDER --keras    # the same in Keras
"""

import numpy as np
from keras_common import keras_backend, load, parse, report, squared_error, timed, train

import tinyae as ta
from tinyae import plots

args = parse(__doc__, fast_epochs=30, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]
steps = 10   # the Keras blog's figure: decode a grid of codes spanning the 2-D latent plane
t = np.linspace(-2.0, 2.0, steps, dtype=np.float32)
grid = np.array([[a, b] for b in t[::-1] for a in t], dtype=np.float32)

if args.keras:
    keras = keras_backend()
    from keras import layers

    with timed(args):
        # Keras, as on the page
        class Sampling(layers.Layer):
            """z = μ + σ·ε; adds the KL divergence to N(0, I) to the model's loss."""

            def call(self, inputs):
                z_mean, z_log_var = inputs
                kl = -0.5 * keras.ops.sum(
                    1 + z_log_var - z_mean**2 - keras.ops.exp(z_log_var), axis=-1)
                self.add_loss(keras.ops.mean(kl))
                eps = keras.random.normal(shape=keras.ops.shape(z_mean))
                return z_mean + keras.ops.exp(0.5 * z_log_var) * eps

        def reconstruction(x, x_hat):          # the cross-entropy summed over the pixels
            return D * keras.losses.binary_crossentropy(x, x_hat)

        inputs = keras.Input(shape=(D,))
        h = layers.Dense(256, activation="relu")(inputs)
        z_mean, z_log_var = layers.Dense(2)(h), layers.Dense(2)(h)
        z = Sampling()([z_mean, z_log_var])
        decoder = keras.Sequential([layers.Dense(256, activation="relu"),
                                    layers.Dense(D, activation="sigmoid")])
        vae = keras.Model(inputs, decoder(z))
        vae.compile(optimizer="adam", loss=reconstruction)   # + the KL that Sampling adds
        vae.fit(X_train, X_train, epochs=args.epochs, batch_size=128, shuffle=True,
                validation_data=(X_test, X_test), verbose=2)
        # (end of the Keras snippet)
    elbo = -vae.evaluate(X_test, X_test, verbose=0)   # one draw of ε per image
    print(f"test ELBO per image {elbo:.2f} (Keras's loss, negated)")
    encoder = keras.Model(inputs, z_mean)                # the mean code, as tinyae reconstructs
    X_hat = decoder.predict(encoder.predict(X_test, verbose=0), verbose=0)
    report("variational, Keras", squared_error(X_hat, X_test), X_test)
    digits = decoder.predict(grid, verbose=0)
else:
    # tinyae, as on the page
    vae = ta.VariationalAutoencoder.deep([D, 256, 2], hidden="relu", output="sigmoid", seed=0,
                                         dtype=np.float32)
    history = train(vae, X_train, X_test, args, batch_size=128, loss="bce")
    elbo = vae.elbo(X_test)
    # (end of the tinyae code)
    print(f"test ELBO per image {elbo:.2f} (cross-entropy "
          f"{history.terms['reconstruction'][-1]:.2f} + KL {history.terms['kl'][-1]:.2f} on "
          "the last training epoch)")
    report("variational", vae.reconstruction_error(X_test), X_test)
    digits = vae.decode(grid)

assert digits.shape == (steps * steps, D) and digits.min() >= 0 and digits.max() <= 1
if args.figure:
    plots.plot_image_grid(digits, image_shape=(side, side), ncols=steps, path=args.figure,
                          title="VAE: codes on a grid from −2 to 2, decoded")
    print(f"wrote {args.figure}")
