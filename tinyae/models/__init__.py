"""The models: networks built from :mod:`tinyae.nn`, with ``fit``, ``encode``, ``decode``, ``save``.

====================  ===================================================  ============
module                what                                                 lessons
====================  ===================================================  ============
``autoencoder``       ``Autoencoder``: shallow, deep, denoising, sparse,   1, 7–13, 19
                      convolutional
``vae``               ``VariationalAutoencoder``                           16, 17
``supervised``        ``SupervisedAutoencoder`` (semi-supervised)          20
``classifier``        ``SoftmaxClassifier`` on codes or pixels             14
``common``            what they share (sigmoid + BCE fused, eval runs)     4
====================  ===================================================  ============
"""

from .autoencoder import Autoencoder
from .classifier import SoftmaxClassifier
from .supervised import SupervisedAutoencoder
from .vae import VariationalAutoencoder

__all__ = ["Autoencoder", "SoftmaxClassifier", "SupervisedAutoencoder", "VariationalAutoencoder"]
