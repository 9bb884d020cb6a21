"""fit_decay: the interface, the sign convention, compensation, dropouts and worked example O1."""

from __future__ import annotations

import numpy as np
import pytest

from rig.analysis import InsufficientDataError, fit_decay
from rig.errors import InputError
from rig.units import convert_leak_rate


def test_o1_cfr_1065_vacuum_decay_example() -> None:
    # 25.300 kPa at 10:56:25 to 50.600 kPa at 10:57:35 in 2.0000 L at 293.15 K.
    t = np.arange(0.0, 71.0) + (10 * 3600 + 56 * 60 + 25)
    p = 25300.0 + (50600.0 - 25300.0) * (t - t[0]) / 70.0
    temperature = np.full_like(t, 293.15)
    fit = fit_decay(t, p, temperature, volume_m3=0.002, t_ref_k=293.15)
    # Gas flows in: the leak rate (positive for gas leaving) is negative.
    assert -fit.leak_rate_pa_m3_s == pytest.approx(0.722857, rel=1e-4)
    assert -fit.molar_rate_mol_s == pytest.approx(2.9657e-4, rel=1e-4)
    mbar_l_s = convert_leak_rate(-fit.leak_rate_pa_m3_s, "mbar*L/s", pv_temperature_k=293.15)
    assert mbar_l_s == pytest.approx(7.22857, rel=1e-4)
    sccm = convert_leak_rate(-fit.leak_rate_pa_m3_s, "sccm", pv_temperature_k=293.15)
    assert sccm == pytest.approx(398.8, rel=1e-3)


def test_interface_fields_and_sign() -> None:
    rng = np.random.default_rng(1)
    t = 1.7e9 + np.arange(600.0)
    p = 2e5 - 0.05 * (t - t[0]) + rng.normal(0, 0.2, t.size)
    fit = fit_decay(t, p, volume_m3=1e-3)
    assert fit.slope_pa_s == pytest.approx(-0.05, rel=1e-2)
    assert fit.leak_rate_pa_m3_s == pytest.approx(5e-5, rel=1e-2)
    assert fit.stderr_pa_m3_s == pytest.approx(1e-3 * fit.slope_stderr_pa_s)
    assert fit.n == 600 and fit.n_skipped == 0
    low, high = fit.interval(0.95)
    assert low < fit.leak_rate_pa_m3_s < fit.upper_bound() < high
    assert low < fit.lower_bound() < fit.leak_rate_pa_m3_s


def test_temperature_compensation_removes_a_thermal_drift() -> None:
    # O13: a 1 mK/s warming fakes 3.4564e-4 Pa·m³/s in 1 L at 1 atm; the gas is tight.
    t = np.arange(0.0, 300.0)
    temperature = 293.15 + 1e-3 * t
    p = 101325.0 * temperature / 293.15
    plain = fit_decay(t, p, volume_m3=1e-3)
    assert -plain.leak_rate_pa_m3_s == pytest.approx(3.4564e-4, rel=1e-4)
    compensated = fit_decay(t, p, temperature, volume_m3=1e-3, t_ref_k=293.15)
    assert abs(compensated.leak_rate_pa_m3_s) < 1e-12
    assert compensated.method != plain.method


def test_compensated_slope_is_of_p_times_tref_over_t() -> None:
    t = np.arange(50.0)
    temperature = 300.0 + 0.01 * np.sin(t)
    p = 1e5 - 0.3 * t
    fit = fit_decay(t, p, temperature, volume_m3=1.0, t_ref_k=250.0)
    expected = np.polyfit(t, p * 250.0 / temperature, 1)[0]
    assert fit.slope_pa_s == pytest.approx(expected, rel=1e-9)


def test_dropouts_are_skipped_and_counted() -> None:
    t = np.arange(100.0)
    p = 1e5 - 2.0 * t
    p[[3, 50, 99]] = np.nan
    temperature = np.full(100, 293.15)
    temperature[10] = np.nan
    fit = fit_decay(t, p, temperature)
    assert (fit.n, fit.n_skipped) == (96, 4)
    assert fit.slope_pa_s == pytest.approx(-2.0, rel=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_fewer_than_three_samples(n: int) -> None:
    with pytest.raises(InsufficientDataError, match="at least 3"):
        fit_decay(np.arange(float(n)), np.ones(n))


def test_all_samples_at_one_time() -> None:
    with pytest.raises(InsufficientDataError, match="one time"):
        fit_decay(np.zeros(5), np.arange(5.0))


def test_shape_and_volume_errors() -> None:
    with pytest.raises(InputError, match="samples"):
        fit_decay(np.arange(5.0), np.arange(4.0))
    with pytest.raises(InputError, match="volume"):
        fit_decay(np.arange(5.0), np.arange(5.0), volume_m3=0.0)
    with pytest.raises(InputError, match="one-dimensional"):
        fit_decay(np.zeros((2, 3)), np.zeros((2, 3)))
