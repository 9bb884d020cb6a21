"""Unit conversions against the oracles of leak-physics §2.2, §5.3, §6 and §7 (O2, O3, O4)."""

from __future__ import annotations

import pytest

from rig.errors import InputError
from rig.units import (
    convert_leak_rate,
    leak_rate_unit_factor,
    parse_leak_rate,
    positive_si,
    to_si,
)

REL = 1e-4
T0 = 273.15
T20 = 293.15


def test_o2_sccm_at_zero_celsius_is_1_68875e_3_pa_m3_s() -> None:
    factor = leak_rate_unit_factor("sccm", pv_temperature_k=T0, sccm_reference_k=T0)
    assert factor == pytest.approx(1.68875e-3, rel=REL)
    assert convert_leak_rate(1.68875e-3, "mbar*L/s", pv_temperature_k=T0) == pytest.approx(0.0168875, rel=REL)


def test_o2_one_mbar_l_s_is_59_2154_sccm() -> None:
    assert convert_leak_rate(0.1, "sccm", pv_temperature_k=T0) == pytest.approx(59.2154, rel=REL)


def test_o2_atm_cc_s_and_torr() -> None:
    assert parse_leak_rate("1 atm*cc/s", "x", pv_temperature_k=T20) == pytest.approx(0.101325, rel=1e-9)
    assert convert_leak_rate(0.1, "Torr*L/s", pv_temperature_k=T20) == pytest.approx(0.750062, rel=1e-6)
    assert parse_leak_rate("1 Pa·m³/s", "x", pv_temperature_k=T20) == 1.0


@pytest.mark.parametrize(("std_cc_s", "mol_s"), [(1e-9, 4.4615e-14), (1e-8, 4.4615e-13)])
def test_o2_standard_cm3_to_moles(std_cc_s: float, mol_s: float) -> None:
    for pv_k in (T0, T20, 300.0):  # a molar quantity cannot depend on the pV temperature
        q = parse_leak_rate(f"{std_cc_s} sccs", "x", pv_temperature_k=pv_k)
        assert convert_leak_rate(q, "mol/s", pv_temperature_k=pv_k) == pytest.approx(mol_s, rel=REL)


def test_o2_air_mass_of_1e_2_mbar_l_s_at_20_c() -> None:
    q = 1e-3  # 1e-2 mbar·L/s
    assert convert_leak_rate(q, "kg/h", pv_temperature_k=T20) == pytest.approx(4.278e-5, rel=2e-4)
    assert convert_leak_rate(q, "g/year", pv_temperature_k=T20) == pytest.approx(375.0, rel=2e-4)


def test_2_2_pitfall_reference_temperature_of_pv_matters() -> None:
    assert convert_leak_rate(1.0, "sccm", pv_temperature_k=T20) == pytest.approx(551.8, rel=REL)
    assert convert_leak_rate(1.0, "sccm", pv_temperature_k=T0) == pytest.approx(592.15, rel=REL)
    # 0 °C and 20 °C standard references differ by 7.3 %.
    zero = convert_leak_rate(1.0, "sccm", pv_temperature_k=T20, sccm_reference_k=T0)
    twenty = convert_leak_rate(1.0, "sccm", pv_temperature_k=T20, sccm_reference_k=T20)
    assert twenty / zero == pytest.approx(T20 / T0, rel=1e-12)  # a 20 °C std cm³ holds fewer moles


def test_2_2_air_mass_factors() -> None:
    assert convert_leak_rate(1.0, "kg/s", pv_temperature_k=T20) == pytest.approx(1.18837e-5, rel=REL)
    assert convert_leak_rate(1.0, "kg/day", pv_temperature_k=T20) == pytest.approx(1.0268, rel=REL)
    q = parse_leak_rate("1 sccm", "x", pv_temperature_k=T20)
    assert convert_leak_rate(q, "kg/day", pv_temperature_k=T20) == pytest.approx(1.861e-3, rel=REL)


def test_o3_ateq_100_cm3_at_50_pa_s() -> None:
    q = 100e-6 * 50.0  # V·dp/dt, isothermal: pV taken at the standard temperature
    ours = convert_leak_rate(q, "sccm", pv_temperature_k=T0)
    assert ours == pytest.approx(2.96077, rel=REL)
    ateq = 0.0006 * 100 * 50  # ATEQ's rounded constant gives 3.0 cm³/min, 1.3 % high
    assert ateq / ours == pytest.approx(101325 / 1e5, rel=1e-6)


def test_o4_cts_100_cm3_0_01_psi_in_10_s() -> None:
    dp_pa = to_si("0.01 psi", "pressure", "dp")
    q = 100e-6 * dp_pa / 10.0
    assert convert_leak_rate(q, "sccs", pv_temperature_k=T0) == pytest.approx(6.80457e-3, rel=REL)
    assert convert_leak_rate(q, "sccm", pv_temperature_k=T0) == pytest.approx(0.408274, rel=REL)


@pytest.mark.parametrize(
    ("lb_day", "pa_day", "mmhg_day"),
    [(0.2, 8.39, 0.063), (1.0, 41.97, 0.315), (2.0, 83.94, 0.630), (2.4, 100.7, 0.756), (3.7, 155.3, 1.165)],
)
def test_5_3_iss_rates_as_pressure_drop(lb_day: float, pa_day: float, mmhg_day: float) -> None:
    iss_volume_m3 = 915.6
    q = parse_leak_rate(f"{lb_day} lb/day", "x", pv_temperature_k=295.15)
    dp_day = q / iss_volume_m3 * 86400.0
    assert dp_day == pytest.approx(pa_day, rel=2e-3)
    assert dp_day / 133.322 == pytest.approx(mmhg_day, rel=3e-3)


def test_quantities_parse_to_si() -> None:
    assert to_si("1 L", "volume", "v") == pytest.approx(1e-3)
    assert to_si("10 min", "time", "t") == 600.0
    assert to_si("20 degC", "temperature", "T") == pytest.approx(293.15)
    assert to_si("2 bar", "pressure", "p") == 2e5
    assert to_si("750 Torr", "pressure", "p") == pytest.approx(99991.8, rel=1e-5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1", "has no units"),
        ("1 kg", "is not a volume"),
        ("abc def", "cannot read"),
        ("", "expected a quantity"),
        ("-1 L", "must be positive"),
        ("0 L", "must be positive"),
        ("nan L", "not a finite number"),
    ],
)
def test_bad_volumes_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        positive_si(text, "volume", "--volume")


def test_not_a_leak_rate_unit() -> None:
    with pytest.raises(InputError, match="not a leak-rate unit"):
        parse_leak_rate("3 bar", "--limit", pv_temperature_k=T20)
