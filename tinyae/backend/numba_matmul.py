"""The matmul ladder, for teaching: four versions of ``out = a @ b``, each one change from the last.

:func:`matmul_naive` → :func:`matmul_ikj` → :func:`matmul_ikj_parallel` →
:func:`matmul_blocked`. ``benchmarks/bench.py`` times them against BLAS. The
training path does not use them: for the big products it calls the machine's
BLAS, which is what the ladder climbs towards.
"""

import numpy as np
from numba import njit, prange

# ======================================================================================
# 1. The matmul ladder:  out[i, j] = Σ_p a[i, p] · b[p, j],  a (m, k), b (k, n), out (m, n)
# ======================================================================================


@njit(cache=True)
def matmul_naive(a, b, out):
    """Rung 1, the definition: for each ``(i, j)``, a dot product down ``p``.

    The inner loop reads ``b[p, j]`` down a column: consecutive ``p`` are a whole
    row of ``b`` apart in memory, so each multiply waits for a new cache line and
    uses one number of it. Without ``fastmath`` the sum must also be added in this
    exact order, which forbids SIMD. About 1% of BLAS.
    """
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            s = out.dtype.type(0)
            for p in range(k):
                s += a[i, p] * b[p, j]
            out[i, j] = s
    return out


@njit(cache=True, fastmath=True)
def matmul_ikj(a, b, out):
    """Rung 2, loop order i-p-j: ``out[i, :] += a[i, p] · b[p, :]``.

    Same arithmetic, loops swapped: the inner loop now walks along a row of ``b``
    and a row of ``out``, both contiguous, so the compiler turns it into SIMD
    instructions (8 or 16 numbers at a time). Still one core, and every pass over
    ``p`` streams all of ``out[i, :]`` through memory again.
    """
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            out[i, j] = 0
        for p in range(k):
            aip = a[i, p]
            for j in range(n):
                out[i, j] += aip * b[p, j]
    return out


@njit(cache=True, fastmath=True, parallel=True)
def matmul_ikj_parallel(a, b, out):
    """Rung 3: rung 2 with the rows of ``out`` shared among the cores (``prange``).

    Rows are independent, so no two threads ever write the same number.
    """
    m, k = a.shape
    n = b.shape[1]
    for i in prange(m):
        for j in range(n):
            out[i, j] = 0
        for p in range(k):
            aip = a[i, p]
            for j in range(n):
                out[i, j] += aip * b[p, j]
    return out


MR = 4   # rows of out per register block
NR = 4   # columns of out per register block


@njit(cache=True, fastmath=True, parallel=True)
def matmul_blocked(a, b, out):
    """Rung 4: packed operands and a 4×4 register block.

    Two ideas, the same ones BLAS libraries are built on (Goto & van de Geijn, 2008):

    * **Packing.** Copy ``b`` once, transposed, into ``bt`` (n, k): column ``j`` of
      ``b`` becomes the contiguous row ``bt[j]``. Now both factors of every dot
      product are read front to back. The copy costs ``k·n`` moves against
      ``m·k·n`` multiply-adds, so it pays for itself many times over.
    * **Register blocking.** Compute a 4×4 block of ``out`` at once: 16 running
      sums that live in registers for the whole ``p`` loop. Each step loads 4
      numbers of ``a`` and 4 of ``bt`` and does 16 multiply-adds with them, so
      loads no longer limit the speed. ``fastmath`` lets the compiler split each
      sum into SIMD lanes (it reorders the additions, like BLAS does), so the
      16 sums become 16 vector registers of 8 or 16 lanes each.

    The 4 rows of ``a`` (4·k numbers) stay in the L1 cache while a thread sweeps
    every 4-column block of ``bt``; ``bt`` (n·k numbers, 800 KB at 784×256 in
    float32) stays in the core's L2 cache. Blocks of rows go to different cores.
    Edges (``m`` or ``n`` not a multiple of 4) fall back to one dot product at a time.
    """
    m, k = a.shape
    n = b.shape[1]
    a = np.ascontiguousarray(a)                 # no copy when a is already C-ordered
    bt = np.empty((n, k), dtype=b.dtype)
    for j0 in prange((n + 15) // 16):           # pack, 16 columns per task
        for p in range(k):
            for j in range(j0 * 16, min(j0 * 16 + 16, n)):
                bt[j, p] = b[p, j]
    m4, n4 = m - m % MR, n - n % NR
    for ib in prange((m + MR - 1) // MR):
        i = ib * MR
        if i < m4:
            for j in range(0, n4, NR):
                _block_4x4(a, bt, out, i, j, k)
            for j in range(n4, n):               # right edge
                for ii in range(i, i + MR):
                    out[ii, j] = _dot(a, ii, bt, j, k)
        else:                                    # bottom edge
            for ii in range(i, m):
                for j in range(n):
                    out[ii, j] = _dot(a, ii, bt, j, k)
    return out


@njit(cache=True, fastmath=True, inline="always")
def _block_4x4(a, bt, out, i, j, k):
    """``out[i:i+4, j:j+4] = a[i:i+4] @ bt[j:j+4].T``, the 16 sums held in registers."""
    zero = out.dtype.type(0)
    s00 = s01 = s02 = s03 = zero
    s10 = s11 = s12 = s13 = zero
    s20 = s21 = s22 = s23 = zero
    s30 = s31 = s32 = s33 = zero
    for p in range(k):
        a0, a1, a2, a3 = a[i, p], a[i + 1, p], a[i + 2, p], a[i + 3, p]
        b0, b1, b2, b3 = bt[j, p], bt[j + 1, p], bt[j + 2, p], bt[j + 3, p]
        s00 += a0 * b0
        s01 += a0 * b1
        s02 += a0 * b2
        s03 += a0 * b3
        s10 += a1 * b0
        s11 += a1 * b1
        s12 += a1 * b2
        s13 += a1 * b3
        s20 += a2 * b0
        s21 += a2 * b1
        s22 += a2 * b2
        s23 += a2 * b3
        s30 += a3 * b0
        s31 += a3 * b1
        s32 += a3 * b2
        s33 += a3 * b3
    out[i, j], out[i, j + 1], out[i, j + 2], out[i, j + 3] = s00, s01, s02, s03
    out[i + 1, j], out[i + 1, j + 1], out[i + 1, j + 2], out[i + 1, j + 3] = s10, s11, s12, s13
    out[i + 2, j], out[i + 2, j + 1], out[i + 2, j + 2], out[i + 2, j + 3] = s20, s21, s22, s23
    out[i + 3, j], out[i + 3, j + 1], out[i + 3, j + 2], out[i + 3, j + 3] = s30, s31, s32, s33


@njit(cache=True, fastmath=True, inline="always")
def _dot(a, i, bt, j, k):
    """``a[i] · bt[j]``: one entry of ``out``, for the edges."""
    s = bt.dtype.type(0)
    for p in range(k):
        s += a[i, p] * bt[j, p]
    return s
