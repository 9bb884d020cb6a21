"""Flow formulas against leak-physics §3 and oracles O7, O8, O14."""

from __future__ import annotations

import math

import pytest

from rig.sim.conductance import (
    choked_decay_time_constant,
    choked_mass_flow,
    choked_speed,
    critical_pressure_ratio,
    laminar_tube_conductance,
    mean_molecular_speed,
    molecular_aperture_conductance,
    molecular_tube_conductance,
    series_conductance,
)
from rig.sim.thermal import adiabatic_fill_temperature

DAY_S = 86400.0
LB_KG = 0.45359237


def test_o7_pfeiffer_molecular_tube_and_effective_speed() -> None:
    c = molecular_tube_conductance(0.07, 2.47, 471.0)
    assert c == pytest.approx(0.017123, rel=1e-4)
    assert series_conductance(0.029722, c) == pytest.approx(0.010864, rel=1e-4)


def test_o8_molecular_conductance_calculator() -> None:
    # The calculator works with rounded constants (11.6 L/s/cm², 12.1 D³/L): 3 digits.
    speed = mean_molecular_speed(293.15)
    assert molecular_aperture_conductance(20e-4, speed) * 1e3 == pytest.approx(232.0, rel=3e-3)
    tube = molecular_tube_conductance(0.05, 1.0, speed) * 1e3
    assert tube == pytest.approx(15.125, rel=3e-3)
    helium = molecular_tube_conductance(0.05, 1.0, mean_molecular_speed(293.15, 4.003e-3)) * 1e3
    assert helium == pytest.approx(40.7, rel=3e-3)
    assert helium / tube == pytest.approx(math.sqrt(28.96 / 4.003), rel=1e-9)


def test_o14_adiabatic_fill_bound() -> None:
    assert adiabatic_fill_temperature(101325.0, 202650.0, 293.15, 293.15) == pytest.approx(342.008, rel=1e-5)
    assert adiabatic_fill_temperature(101325.0, 601000.0, 293.15, 293.15) == pytest.approx(384.5, rel=1e-3)


def test_3_2_choked_orifice_examples() -> None:
    assert critical_pressure_ratio() == pytest.approx(0.528, abs=5e-4)
    assert choked_speed(293.15) == pytest.approx(198.6, rel=1e-3)
    area = math.pi * (0.1e-3) ** 2  # d = 0.2 mm
    m_dot = choked_mass_flow(1.0, area, 101325.0, 293.15)
    assert m_dot == pytest.approx(7.51e-6, rel=1e-3)
    assert m_dot * DAY_S == pytest.approx(0.649, rel=1e-3)
    assert m_dot * DAY_S / LB_KG == pytest.approx(1.43, rel=3e-3)
    small = choked_mass_flow(1.0, math.pi * (0.05e-3) ** 2, 101325.0, 293.15)
    assert small == pytest.approx(1.878e-6, rel=1e-3)
    large = choked_mass_flow(1.0, math.pi * (0.5e-3) ** 2, 101325.0, 293.15)
    assert large * DAY_S == pytest.approx(16.2, rel=2e-3)
    assert choked_decay_time_constant(1.0, 1.0, area, 293.15) / DAY_S == pytest.approx(1.855, rel=1e-3)


def test_3_3_laminar_conductance_grows_with_pressure() -> None:
    low = laminar_tube_conductance(1e-3, 0.1, 1e3, 0.0)
    high = laminar_tube_conductance(1e-3, 0.1, 1e5, 0.0)
    assert high / low == pytest.approx(100.0)
