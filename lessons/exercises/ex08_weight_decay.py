r"""Exercise 8: the gradient of L2 weight decay.

Weight decay adds a penalty on large weights to the loss:

    $$ L_\text{decay} = \frac{λ}{2} \sum_i \sum_j W_{ij}^2 $$

(The 1/2 is a convention that makes the gradient tidy; some texts write
$λ \sum W^2$ instead, and their λ is half of ours.) W has any shape, e.g.
(n_in, n_out); $λ ≥ 0$ (lam) is a number. The penalty is added to the
reconstruction loss, so its gradient is added to dW from backward, and the
optimizer then shrinks every weight towards zero a little at each step: hence
"decay".

Task
----
Return $∂L_\text{decay}/∂W$, the shape of W.

Derive
------
$∂/∂W_{ij}$ of the double sum: only one term contains $W_{ij}$.

Check your answer
-----------------
    tinyae check lessons/exercises/ex08_weight_decay.py

(For instructors: the reference solution is in lessons/solutions/.)
"""

import numpy as np  # noqa: F401  (you may need it)


def weight_decay_grad(W, lam):
    """dL/dW for L = (λ/2) Σ W².

    Parameters
    ----------
    W : ndarray, shape (n_in, n_out)
    lam : float
        The decay strength λ.

    Returns
    -------
    dW : ndarray, shape (n_in, n_out)
    """
    raise NotImplementedError("differentiate (λ/2) Σ W²")
