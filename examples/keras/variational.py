"""A variational autoencoder: 784 → 256 → (μ, log σ²) in 2-D, z = μ + σ·ε, 2 → 256 → 784.

The Keras blog's VAE (F. Chollet, "Building Autoencoders in Keras"): the loss is the
cross-entropy summed over the pixels plus the KL divergence to N(0, I), i.e. −ELBO.

    python examples/keras/variational.py                   # built-in 8×8 digits
    python examples/keras/variational.py --mnist FOLDER    # MNIST
"""

import numpy as np
from keras_common import load, parse, report, train

import tinyae as ta
from tinyae import plots

args = parse(__doc__, fast_epochs=30, mnist_epochs=5)
X_train, X_test, side = load(args)
D = X_train.shape[1]

vae = ta.VariationalAutoencoder.deep([D, 256, 2], hidden="relu", output="sigmoid", seed=0,
                                     dtype=np.float32)
history = train(vae, X_train, X_test, args, batch_size=128, loss="bce")
elbo = vae.elbo(X_test)
print(f"test ELBO per image {elbo:.2f} (cross-entropy {history.terms['reconstruction'][-1]:.2f} "
      f"+ KL {history.terms['kl'][-1]:.2f} on the last training epoch)")
report("variational", vae.reconstruction_error(X_test), X_test)

# The Keras blog's figure: decode a grid of codes spanning the 2-D latent plane.
steps = 10
t = np.linspace(-2.0, 2.0, steps, dtype=np.float32)
grid = np.array([[a, b] for b in t[::-1] for a in t], dtype=np.float32)
digits = vae.decode(grid)
assert digits.shape == (steps * steps, D) and digits.min() >= 0 and digits.max() <= 1
if args.figure:
    plots.plot_image_grid(digits, image_shape=(side, side), ncols=steps, path=args.figure,
                          title="VAE: codes on a grid from −2 to 2, decoded")
    print(f"wrote {args.figure}")
