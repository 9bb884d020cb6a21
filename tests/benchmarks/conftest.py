"""Shared 1e7-sample series for the benchmarks: epoch time at 10 Hz, ~1e5 Pa, a 1e-6 Pa/s slope."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

N_SAMPLES = 10_000_000
SLOPE_PA_S = -1e-6


@dataclass(frozen=True)
class Series:
    """The arrays every benchmark in a group runs on."""

    t: np.ndarray
    p: np.ndarray
    temperature: np.ndarray


@pytest.fixture(scope="session")
def series() -> Series:
    rng = np.random.default_rng(2019)
    t = 1.7e9 + np.arange(N_SAMPLES) * 0.1
    p = 1.0e5 + SLOPE_PA_S * (t - t[0]) + rng.normal(0.0, 0.01, N_SAMPLES)
    temperature = 293.15 + rng.normal(0.0, 0.001, N_SAMPLES)
    return Series(t, p, temperature)


@pytest.fixture(autouse=True)
def _record_threads(request: pytest.FixtureRequest) -> None:
    bench = request.node.funcargs.get("benchmark") if hasattr(request.node, "funcargs") else None
    if bench is not None:
        bench.extra_info["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
