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
