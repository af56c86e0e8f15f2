# %% [markdown]
# # Lesson 9: A linear autoencoder learns PCA's subspace
#
# Lesson 1 introduced PCA as the baseline and lesson 8 showed a nonlinear autoencoder
# beating it. Take the nonlinearities away and the two meet: an autoencoder with linear
# layers, trained with squared error, learns the same subspace as PCA (Baldi & Hornik,
# 1989). But it generally does not learn the same *basis*. This lesson shows both, with
# a tool for comparing subspaces: principal angles.
#
# ## Objectives
#
# - State what a linear autoencoder can represent, and why PCA is its best possible
#   answer (Eckart–Young).
# - Compute the **principal angles** between two subspaces from a QR and an SVD, and
#   check the function on cases with known answers.
# - Train a linear autoencoder on the digits and measure: its error against PCA's, and
#   the angles between its decoder's subspace and PCA's top-$k$ subspace.
# - Relate the two with a bound: the error a subspace wastes is at least $(\lambda_k -
#   \lambda_{k+1}) \sum_i \sin^2\theta_i$. That explains why a small eigengap makes a
#   subspace hard to learn.
#
# ## Prerequisites
#
# Lesson 1 (PCA: `PCA(k)`, `components_`, `reconstruction_error`), lessons 4 and 7 (MSE,
# `fit`, Adam, learning rates). Linear algebra: orthonormal bases, the QR and singular
# value decompositions (`np.linalg.qr`, `np.linalg.svd`), and eigenvalues of a
# covariance matrix.

# %%
import os
from pathlib import Path

FAST = os.environ.get("TINYAE_FAST") == "1"          # fast mode for tests and CI
FIGURES = Path(os.environ.get("TINYAE_FIGURES", "lessons/figures"))  # where pictures go
FIGURES.mkdir(parents=True, exist_ok=True)

# %%
import numpy as np
from matplotlib.figure import Figure

import tinyae as ta
from tinyae import plots
from tinyae.pca import PCA

X, _ = ta.load_digits()
X_train, X_test = ta.train_test_split(X, test_size=0.2, seed=0)
N, D = X_train.shape
print(f"training digits {X_train.shape}, test digits {X_test.shape}")

# %% [markdown]
# ## 1. What a linear autoencoder can do
#
# With `hidden="identity"` and `output="identity"` the shallow autoencoder has no
# nonlinearity left:
#
# $$z = x W_1 + b_1, \qquad \hat x = z W_2 + b_2 = x\,W_1 W_2 + (b_1 W_2 + b_2),$$
#
# with $W_1$ of shape $(64, k)$ and $W_2$ of shape $(k, 64)$. Every reconstruction is
# $b_2$ plus a combination of the $k$ rows of $W_2$. It lies in a $k$-dimensional
# (affine) subspace: the **decoder subspace**, spanned by the rows of $W_2$, i.e. the
# columns of $W_2^\top$.
#
# Which $k$-dimensional subspace reconstructs the data best in squared error? The
# **Eckart–Young theorem** answers: the one spanned by the top $k$ principal directions,
# through the mean, which is exactly what PCA computes. So on the training data no
# linear autoencoder can have a lower error than PCA. Baldi & Hornik (1989) showed more:
# a linear autoencoder trained with squared error has no bad local minima. At its
# minimum the decoder subspace *is* PCA's subspace.
#
# The basis is another matter. For any invertible $k\times k$ matrix $G$, the weights
# $(W_1 G,\ G^{-1} W_2)$ give the same product $W_1 W_2$, hence the same reconstructions
# and the same loss. The loss cannot prefer PCA's orthonormal, variance-ordered basis
# over any mixture of it. So we must compare *subspaces*, not weight matrices.
#
# ## 2. Principal angles between subspaces
#
# Take orthonormal bases $Q_1$ and $Q_2$ (as columns) of two $k$-dimensional subspaces
# of $\mathbb{R}^{64}$. The singular values of the $k\times k$ matrix $Q_1^\top Q_2$ are
# the cosines of the **principal angles** $0 \le \theta_1 \le \dots \le \theta_k \le
# 90°$: $\theta_1$ is the smallest angle between any direction of one subspace and any
# direction of the other, $\theta_2$ the smallest among directions orthogonal to those,
# and so on. All angles are 0 exactly when the subspaces are equal, and the largest
# angle $\theta_k$ says how far apart they are at worst. QR turns any basis into an
# orthonormal one spanning the same space:

# %%
def principal_angles(A, B):
    """Principal angles, in degrees and ascending, between the column spans of A and B.

    A : (D, k), B : (D, k). QR gives orthonormal bases Q1, Q2 of the two spans; the
    singular values of Q1ᵀ Q2 are the cosines of the angles.
    """
    Q1, _ = np.linalg.qr(A)
    Q2, _ = np.linalg.qr(B)
    cosines = np.linalg.svd(Q1.T @ Q2, compute_uv=False)     # descending
    return np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))  # so angles ascend


# %% [markdown]
# Before trusting it, check it on cases whose answer we know:

# %%
rng = np.random.default_rng(0)
A = rng.standard_normal((64, 4))
G = rng.standard_normal((4, 4))            # a random mixing matrix (invertible)
Q, _ = np.linalg.qr(rng.standard_normal((64, 8)))
same = principal_angles(A, A @ G)          # a different basis of the same subspace
orthogonal = principal_angles(Q[:, :4], Q[:, 4:])
tilted = np.column_stack([Q[:, :2], Q[:, 2:4] + Q[:, 4:6]])   # two directions at 45°
half = principal_angles(Q[:, :4], tilted)
print("same subspace, mixed basis:", np.round(same, 6))
print("orthogonal subspaces:      ", np.round(orthogonal, 6))
print("two shared directions, two tilted by 45°:", np.round(half, 6))
assert np.all(same < 1e-4)      # arccos near 1 is imprecise: ~1e-6 degrees is rounding
assert np.allclose(orthogonal, 90)
assert np.allclose(half, [0, 0, 45, 45])

# %% [markdown]
# ## 3. The eigengap: when is a subspace well defined?
#
# Let $\lambda_1 \ge \lambda_2 \ge \dots$ be the eigenvalues of the training data's
# covariance (normalised by $N$, so they are variances per image). PCA's squared error
# per image on the training data is the variance it leaves out,
# $E_{\text{PCA}} = \sum_{i>k} \lambda_i$. Let $E(U)$ be the error of projecting the
# centred data onto another $k$-dimensional subspace $U$. A linear autoencoder whose
# decoder spans $U$ can do no better than $E(U)$. If $U$ has principal angles $\theta_i$
# to PCA's subspace, it wastes at least
#
# $$E(U) - E_{\text{PCA}} \;\ge\;
# (\lambda_k - \lambda_{k+1}) \sum_{i=1}^{k} \sin^2\theta_i .$$
#
# (Proof sketch: $U$ keeps a fraction $c_j \in [0, 1]$ of each eigendirection $e_j$,
# with $\sum_j c_j = k$. The amount $\sum_{j>k} c_j = \sum_i \sin^2\theta_i$ that it
# takes from directions beyond the $k$-th is exactly what it loses from the top $k$.
# Each unit moved trades a variance of at least $\lambda_k$ for one of at most
# $\lambda_{k+1}$.)
#
# Read it backwards: if the error is close to PCA's, the angles are small,
# $\sin^2\theta_k \le (E - E_{\text{PCA}})/(\lambda_k - \lambda_{k+1})$, *provided the
# eigengap* $\lambda_k - \lambda_{k+1}$ *is not tiny*. When $\lambda_k \approx
# \lambda_{k+1}$, tilting the subspace from direction $k$ towards direction $k+1$ costs
# almost nothing. The loss is then nearly flat in that direction, gradient descent
# drifts there slowly, and "the" top-$k$ subspace is barely defined. So we pick a code
# size with a clear gap.

# %%
pca_all = PCA(D).fit(X_train)
lam = pca_all.singular_values_ ** 2 / N          # eigenvalues, variance per image
print("eigenvalues λ1..λ10:", np.round(lam[:10], 3))
print("gaps λk − λk+1:     ", np.round(lam[:9] - lam[1:10], 3))
K = 4
gap = lam[K - 1] - lam[K]
print(f"k = {K}: gap λ{K} − λ{K + 1} = {gap:.3f}; "
      f"for comparison λ8 − λ9 = {lam[7] - lam[8]:.3f}")

pca = PCA(K).fit(X_train)
pca_train = pca.reconstruction_error(X_train)
print(f"PCA-{K} training error {pca_train:.4f} = sum of the discarded eigenvalues "
      f"{lam[K:].sum():.4f}")
assert np.isclose(pca_train, lam[K:].sum())

# %% [markdown]
# ## 4. Training the linear autoencoder
#
# MSE loss, Adam. The loss of a linear autoencoder is smooth but has long, nearly flat
# valleys, so we use a **learning-rate schedule**. A large rate (0.01) covers the
# distance, then a small one (0.001) settles into the minimum with less minibatch noise.
# `fit` accepts **callbacks**, objects whose `on_epoch_end(epoch, state)` method it
# calls after every epoch with the model in `state.model`. We use one to record the
# largest principal angle and the excess error after each epoch.

# %%
V_K = pca.components_.T                          # (64, K): PCA's top-K directions


class TrackSubspace(ta.Callback):
    """Per epoch: the largest principal angle to PCA, the relative excess error."""

    def __init__(self):
        self.largest_angle, self.excess = [], []

    def on_epoch_end(self, epoch, state):
        W2 = state.model.decoder[0].params["W"]  # (K, 64): rows span the subspace
        self.largest_angle.append(principal_angles(W2.T, V_K).max())
        self.excess.append(state.model.evaluate(X_train, "mse") / pca_train - 1)


linear = ta.Autoencoder.shallow(D, K, hidden="identity", output="identity", seed=0)
track = TrackSubspace()
schedule = [(1e-2, 60), (1e-3, 40)]              # (learning rate, epochs)
for phase, (lr, epochs) in enumerate(schedule):
    linear.fit(X_train, loss="mse", optimizer=ta.Adam(lr), epochs=epochs, batch_size=64,
               seed=phase, callbacks=[track], verbose=0)

ae_train = linear.evaluate(X_train, "mse")
angles = principal_angles(linear.decoder[0].params["W"].T, V_K)
print(f"training error: linear AE {ae_train:.4f}, PCA {pca_train:.4f} "
      f"(excess {ae_train / pca_train - 1:+.3%})")
print("principal angles to PCA's subspace (degrees):", np.round(angles, 2))

# %% mystnb={"figure": {"caption": "Training the linear autoencoder: the largest principal angle between its decoder subspace and PCA's (left) and its excess training error relative to PCA's (right), after each epoch, log scales; the dashed line marks the drop of the learning rate.", "name": "fig-09-convergence"}}
fig = Figure(figsize=(8.8, 3.8), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
epoch_axis = np.arange(1, len(track.excess) + 1)
ax1.semilogy(epoch_axis, track.largest_angle)
ax1.axhline(15, color="k", ls=":", lw=1)
ax1.text(epoch_axis[-1], 15 * 1.1, "15°", fontsize=9, ha="right")
ax1.set_ylabel("largest principal angle (degrees)")
ax1.set_title("Decoder subspace vs PCA's")
ax2.semilogy(epoch_axis, track.excess)
ax2.set_ylabel("(AE error − PCA error) / PCA error")
ax2.set_title("Excess training error")
for ax in (ax1, ax2):
    ax.axvline(schedule[0][1] + 0.5, color="gray", ls="--", lw=1)
    ax.text(schedule[0][1] + 2, ax.get_ylim()[1], "lr 0.01 → 0.001", fontsize=9,
            va="top")
    ax.set_xlabel("epoch")
    ax.yaxis.set_major_formatter("{x:g}")
    ax.grid(alpha=0.3, which="both")
fig.suptitle(f"A linear autoencoder with a {K}-number code converging to PCA",
             fontsize=11)
plots.save_figure(fig, FIGURES / "09_convergence.png")

# %% [markdown]
# In {numref}`fig-09-convergence`, early in training the error is already close to
# PCA's while the largest angle is still huge. A subspace that misses one direction of
# small variance loses little error, which is the bound of section 3 at work. The angle
# only comes down as the excess error approaches
# $(\lambda_k - \lambda_{k+1})\sin^2\theta$. The epochs where the excess error is below
# 15% while the largest angle is above 45°:

# %%
excess, largest = np.array(track.excess), np.array(track.largest_angle)
early = np.flatnonzero((excess < 0.15) & (largest > 45))
print(f"{len(early)} epochs. Among them:")
for e in (early[np.argmax(largest[early])], early[np.argmin(excess[early])]):
    print(f"  epoch {e + 1}: error within {excess[e]:.1%} of PCA's, "
          f"largest angle still {largest[e]:.0f}°")
assert len(early) > 0

# %% [markdown]
# ## 5. The checks
#
# The claims of this lesson, checked on the numbers just computed:
#
# 1. **Eckart–Young**: the linear autoencoder cannot beat PCA on its training data.
# 2. **Same error**: it comes within 2% of PCA's error, on the training digits and on
#    the held-out test digits.
# 3. **The bound of section 3** holds: $\sin^2\theta_k \le (E -
#    E_{\text{PCA}})/(\lambda_k - \lambda_{k+1})$.
# 4. **Same subspace**: the largest principal angle is below 15°. At 15° every direction
#    of one subspace keeps at least $\cos 15° \approx 97\%$ of its length when projected
#    on the other. By the bound, reaching that with our gap needs an excess error of at
#    most $(\lambda_k - \lambda_{k+1})\sin^2 15°$, which we print.

# %%
pca_test, ae_test = pca.reconstruction_error(X_test), linear.evaluate(X_test, "mse")
bound = np.degrees(np.arcsin(np.sqrt(min(1.0, (ae_train - pca_train) / gap))))
print(f"test error: linear AE {ae_test:.4f}, PCA {pca_test:.4f} "
      f"({ae_test / pca_test - 1:+.2%})")
print(f"largest angle {angles.max():.2f}°; the bound from the excess error allows "
      f"{bound:.2f}°")
print(f"excess error that would allow 15°: {gap * np.sin(np.radians(15)) ** 2:.4f} "
      f"per image; ours: {ae_train - pca_train:.4f}")
assert ae_train >= pca_train * (1 - 1e-9)                      # 1. Eckart–Young
assert ae_train / pca_train - 1 < 0.02                         # 2. within 2% (training)
assert abs(ae_test / pca_test - 1) < 0.02                      #    and on test digits
assert angles.max() <= bound + 1e-6                            # 3. the bound
assert angles.max() < 15                                       # 4. same subspace

# %% [markdown]
# ## 6. Same subspace, different basis
#
# The decoder's rows are not PCA's directions: they are some mixture of them. Projecting
# each PCA direction $v_i$ onto the decoder subspace, $Q_1 Q_1^\top v_i$, gives it back
# almost unchanged. In {numref}`fig-09-same-subspace`, each row of tiles is one set of
# $K$ vectors drawn as 8×8 images.

# %%
W2 = linear.decoder[0].params["W"]                # (K, 64)
Q1, _ = np.linalg.qr(W2.T)
projected = Q1 @ (Q1.T @ V_K)        # PCA's directions seen from the AE's subspace
unit_rows = W2 / np.linalg.norm(W2, axis=1, keepdims=True)
print("cosines between the decoder's rows (1 on the diagonal):")
print(np.round(unit_rows @ unit_rows.T, 2))
lengths = np.linalg.norm(projected, axis=0)
print("length of each PCA direction after projection (1 = inside the subspace):")
print(np.round(lengths, 4))
assert lengths.min() > 0.99               # each keeps nearly all of its length

# %% mystnb={"figure": {"caption": "Top row: PCA's first four principal directions. Middle row: the rows of the linear autoencoder's decoder. Bottom row: PCA's directions projected onto the autoencoder's decoder subspace. Red positive, blue negative.", "name": "fig-09-same-subspace"}}
fig = plots.plot_filters(
    np.column_stack([V_K, W2.T, projected]),
    title=f"Top row: PCA's {K} directions. Middle: the linear AE's decoder rows.\n"
          "Bottom: PCA's directions projected onto the AE's subspace.",
    path=FIGURES / "09_same_subspace.png",
)

# %% [markdown]
# The middle row looks nothing like the top row. The decoder's rows are not orthogonal
# (see the cosines) and not ordered by variance. Yet the bottom row, PCA's directions
# after projection onto the autoencoder's subspace, reproduces the top row: each keeps
# nearly all of its length. The autoencoder found the right subspace in a basis of its
# own.
#
# ## Summary
#
# - A linear autoencoder reconstructs within a $k$-dimensional subspace. By Eckart–Young
#   the best one is PCA's, so on the training data it cannot beat PCA, and trained with
#   squared error it reaches PCA's error.
# - Its weights are determined only up to an invertible mixing $G$: it learns the
#   subspace, not the principal directions. Compare subspaces with **principal angles**,
#   the arccosines of the singular values of $Q_1^\top Q_2$.
# - Excess error and angles are tied by $E - E_{\text{PCA}} \ge (\lambda_k -
#   \lambda_{k+1})\sum_i \sin^2\theta_i$. With a clear eigengap, a small excess error
#   forces small angles. With a tiny gap the subspace is ill-defined and slow to learn.
# - What lesson 8's autoencoder gains over PCA therefore comes from its nonlinearities
#   alone.
#
# ## Exercises
#
# 1. Repeat the training with $k = 8$, where $\lambda_8 - \lambda_9$ is small (see the
#    gap table). Is the error still within 2% of PCA's? Is the largest angle still
#    small? Compute what the bound allows and explain the difference.
# 2. The encoder has a subspace too: the span of the columns of $W_1$. Measure its
#    principal angles to PCA's subspace. Why should the optimal encoder also span it?
#
#    :::{admonition} Hint
#    :class: dropdown
#    For a fixed decoder, the best encoder projects orthogonally onto the decoder
#    subspace.
#    :::
#
# 3. Replace `output="identity"` by `output="sigmoid"`. Is the model still linear? Does
#    it still beat PCA or lose to it, on training and on test digits?
