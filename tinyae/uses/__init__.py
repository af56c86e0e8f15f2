"""What autoencoders are used for, and what they are compared with.

===============  ===================================================  =======
module           what                                                 lessons
===============  ===================================================  =======
``pca``          PCA, the linear baseline every lesson compares with  1, 9
``compression``  codes quantized to bits, real bytes on disk, PSNR    15
``augment``      new training data by perturbing and mixing codes     16
===============  ===================================================  =======
"""

from .augment import mix_codes, perturb_codes
from .pca import PCA

__all__ = ["PCA", "mix_codes", "perturb_codes"]
