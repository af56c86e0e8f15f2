"""Shared test settings.

Hypothesis profiles: ``dev`` (default, quick) and ``ci`` (thorough; .ci/run
selects it with HYPOTHESIS_PROFILE=ci). Gradient checks are slow-ish, so no
per-example deadline.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=[1, 2], ids=lambda n: f"{n}thread")
def threads(request):
    """Run the test with Numba at 1, then 2 threads (at most what Numba started with).

    The numba kernels must give the same bits whatever the number of threads; a test
    taking this fixture runs twice. Without Numba it runs at 1 (the NumPy twins).
    """
    try:
        import numba
    except ImportError:
        yield 1
        return
    before = numba.get_num_threads()
    numba.set_num_threads(min(request.param, numba.config.NUMBA_NUM_THREADS))
    yield numba.get_num_threads()
    numba.set_num_threads(before)
