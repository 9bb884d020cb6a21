"""Settling detection (§4.3), detectability (§4.2, O13, O15)."""

from __future__ import annotations

import numpy as np
import pytest

from rig.analysis import (
    detect_settling,
    fit_decay,
    minimum_detectable_leak,
    thermal_apparent_leak_pa_m3_s,
    thermal_pressure_change_pa,
)
from rig.errors import InputError
from rig.units import convert_leak_rate

TAU_S = 60.0
LEAK_SLOPE = -0.05  # Pa/s
REJECT_SLOPE = -0.1


def fill_transient(duration_s: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pressure after a fill: the gas cools (exponential drop of 30 Pa) on top of a steady leak."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 0.5)
    p = 2e5 + LEAK_SLOPE * t - 30.0 * (1.0 - np.exp(-t / TAU_S)) + rng.normal(0.0, 0.05, t.size)
    return t, p


def test_settles_once_the_transient_slope_is_small() -> None:
    t, p = fill_transient(1200.0)
    result = detect_settling(t, p, REJECT_SLOPE, window_s=30.0)
    assert result.settled
    assert result.settled_at_s is not None and result.detected_at_s is not None
    # Transient slope 30/τ·e^(−t/τ) must fall below ~0.1·|b_reject| = 0.01 Pa/s: t ≳ τ·ln(50) ≈ 235 s.
    assert 150.0 <= result.settled_at_s <= 400.0
    assert result.detected_at_s > result.settled_at_s
    after = t >= result.settled_at_s
    fit = fit_decay(t[after], p[after])
    assert fit.slope_pa_s == pytest.approx(LEAK_SLOPE, rel=0.1)


def test_not_settled_while_the_transient_lasts() -> None:
    t, p = fill_transient(150.0)
    result = detect_settling(t, p, REJECT_SLOPE, window_s=20.0)
    assert not result.settled and result.settled_at_s is None
    assert len(result.window_slopes_pa_s) >= 2


def test_settling_rejects_nonsense() -> None:
    t, p = fill_transient(100.0)
    with pytest.raises(InputError):
        detect_settling(t, p, 0.0, window_s=10.0)
    with pytest.raises(InputError):
        detect_settling(t, p, REJECT_SLOPE, window_s=-1.0)


def test_o15_resolution_limited_minimum_detectable_leak() -> None:
    d = minimum_detectable_leak(1e-3, 10.0, resolution_pa=1.0)
    assert d.minimum_detectable_pa_m3_s == pytest.approx(1e-4, rel=1e-12)
    sccm = convert_leak_rate(d.minimum_detectable_pa_m3_s, "sccm", pv_temperature_k=273.15)
    assert sccm == pytest.approx(0.059215, rel=1e-4)
    certifiable = convert_leak_rate(d.minimum_certifiable_limit_pa_m3_s, "sccm", pv_temperature_k=273.15)
    assert certifiable == pytest.approx(0.592, rel=1e-3)


def test_o13_thermal_sensitivity() -> None:
    assert thermal_pressure_change_pa(101325.0, 293.15, 0.01) == pytest.approx(3.4564, rel=1e-4)
    q = thermal_apparent_leak_pa_m3_s(1e-3, 101325.0, 293.15, 1e-3)
    assert q == pytest.approx(3.4564e-4, rel=1e-4)
    assert convert_leak_rate(q, "sccm", pv_temperature_k=273.15) == pytest.approx(0.20467, rel=1e-4)


def test_thermometer_resolution_adds_in_quadrature() -> None:
    d = minimum_detectable_leak(
        1e-3, 10.0, resolution_pa=1.0, pressure_pa=101325.0, temperature_resolution_k=0.01
    )
    assert d.resolution_limited_pa_m3_s == pytest.approx(1e-4 * np.hypot(1.0, 3.4564), rel=1e-4)


def test_noise_limit_matches_the_fitted_standard_error() -> None:
    # §4.1: SE(b)·T/σ = 0.109 for n = 1001 uniform samples.
    d = minimum_detectable_leak(1.0, 1000.0, noise_pa=1.0, sample_interval_s=1.0)
    assert d.noise_limited_pa_m3_s / 1.6464 * 1000.0 == pytest.approx(0.109, rel=1e-2)
    rng = np.random.default_rng(4)
    t = np.arange(1001.0)
    ses = [fit_decay(t, 1e5 + rng.normal(0.0, 1.0, t.size)).line.ols_slope_stderr for _ in range(50)]
    assert np.mean(ses) * 1.6464 == pytest.approx(d.noise_limited_pa_m3_s, rel=0.05)
