"""Log-linear fit of an exponential decay (choked leak to vacuum §3.2, molecular leak §3.3)."""

from __future__ import annotations

import numpy as np
import pytest

from rig.analysis import fit_exponential
from rig.sim.conductance import choked_decay_time_constant


def test_recovers_the_choked_time_constant() -> None:
    tau = choked_decay_time_constant(0.05, 0.72, np.pi * (0.1e-3) ** 2, 293.15)
    t = np.linspace(0.0, 2 * tau, 2000)
    rng = np.random.default_rng(3)
    p = 101325.0 * np.exp(-t / tau) * (1 + rng.normal(0.0, 1e-4, t.size))
    fit = fit_exponential(t, p)
    assert fit.time_constant_s == pytest.approx(tau, rel=1e-3)
    assert fit.rate_constant_stderr_1_s > 0.0
    assert abs(fit.rate_constant_1_s - 1 / tau) < 4 * fit.rate_constant_stderr_1_s
    assert fit.initial_difference_pa == pytest.approx(101325.0, rel=1e-3)


def test_vacuum_filling_towards_the_outside_pressure() -> None:
    t = np.arange(0.0, 100.0)
    p = 1000.0 - 900.0 * np.exp(-t / 20.0)
    fit = fit_exponential(t, p, p_ext_pa=1000.0)
    assert fit.time_constant_s == pytest.approx(20.0, rel=1e-9)
    assert fit.initial_difference_pa == pytest.approx(900.0, rel=1e-9)


def test_samples_at_or_beyond_the_outside_pressure_are_skipped() -> None:
    t = np.arange(0.0, 100.0)
    p = 1000.0 + 900.0 * np.exp(-t / 20.0)
    p[5] = 1000.0
    p[6] = 990.0
    p[7] = np.nan
    fit = fit_exponential(t, p, p_ext_pa=1000.0)
    assert (fit.n, fit.line.n_skipped) == (97, 3)
    assert fit.time_constant_s == pytest.approx(20.0, rel=1e-9)


def test_no_decay_has_infinite_time_constant() -> None:
    t = np.arange(10.0)
    fit = fit_exponential(t, 100.0 * np.exp(0.01 * t))
    assert fit.time_constant_s == float("inf")
