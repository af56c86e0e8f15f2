"""The math of the lessons: modules with a forward and a backward pass, written by hand.

Each module follows one contract (:class:`Module`): ``forward(x)`` computes the output
and keeps in ``cache`` what ``backward`` needs; ``backward(grad_out)`` returns the
gradient with respect to the input and fills ``grads`` under the keys of ``params``.

=====================  ==================================================  ===========
module                 what                                                lessons
=====================  ==================================================  ===========
``module``             the contract, ``Sequential``, saving configs        2, 5
``dense``              ``y = x @ W + b``                                   2, 5
``activations``        ReLU, LeakyReLU, sigmoid, tanh, identity            3
``losses``             squared error, binary cross-entropy (and fused)     4
``softmax``            softmax and softmax + cross-entropy                 14
``penalties``          KL sparsity, L1 activity, weight decay              13
``kl``                 the VAE's Gaussian KL term                          17
``normalization``      BatchNorm1d/2d, LayerNorm, Dropout                  18
``conv``               Conv2D and its sizes (im2col/col2im in backend)     19
``conv_transpose``     ConvTranspose2D                                     19
``pooling``            MaxPool2D, Upsample2D                               19
``reshape``            Flatten, Reshape                                    19
``conv_loops``         the same convolutions as plain loops (the tests'    19
                       reference)
=====================  ==================================================  ===========

Imports point down only: ``nn`` uses :mod:`tinyae.backend` and the errors, nothing else.
"""

from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh, get_activation, sigmoid
from .conv import Conv2D, col2im, conv_output_size, conv_transpose_output_size, im2col
from .conv_transpose import ConvTranspose2D
from .dense import Dense
from .kl import GaussianKL
from .losses import MSE, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, get_loss
from .module import Module, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm
from .penalties import KLSparsity, L1Activity, WeightDecay
from .pooling import MaxPool2D, Upsample2D
from .reshape import Flatten, Reshape
from .softmax import Softmax, SoftmaxCrossEntropy, softmax

__all__ = [
    "MSE", "BatchNorm1d", "BatchNorm2d", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits",
    "Conv2D", "ConvTranspose2D", "Dense", "Dropout", "Flatten", "GaussianKL", "Identity",
    "KLSparsity", "L1Activity", "LayerNorm", "LeakyReLU", "MaxPool2D", "Module", "ReLU",
    "Reshape", "Sequential", "Sigmoid", "Softmax", "SoftmaxCrossEntropy", "Tanh", "Upsample2D",
    "WeightDecay", "col2im", "conv_output_size", "conv_transpose_output_size", "get_activation",
    "get_loss", "im2col", "sigmoid", "softmax",
]
