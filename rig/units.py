"""Quantities at the edges: pint parses what people write, SI floats go inside.

Leak rates come in three families that are not interchangeable without a
temperature: pV throughput (Pa·m³/s, mbar·L/s, Torr·L/s, atm·cc/s), amount or mass
flow (mol/s, kg/day, lb/day of air) and standard-volume flow (sccm, sccs, slm). The
link between them is the ideal gas at a stated temperature, so every conversion here
names two temperatures explicitly: the temperature at which the pV throughput is
evaluated (``pv_temperature_k``, the fit's reference temperature) and the reference
temperature of the standard volume (``sccm_reference_k``, 0 °C unless told).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pint

from rig.errors import InputError

R_GAS = 8.314462618  # J/(mol·K), CODATA exact
R_AIR = 287.05  # J/(kg·K), dry air, the spec's constant for mass conversions
P_STANDARD_PA = 101325.0  # 1 atm, the pressure of a "standard" volume
T_ZERO_C_K = 273.15
T_TWENTY_C_K = 293.15

ureg: Any = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
ureg.define("@alias torr = Torr")
# A standard volume is an amount of gas, not a volume: give it its own dimension so that
# pint never confuses sccm with cm³/min of gas at test conditions.
ureg.define("standard_cubic_centimeter = [standard_volume] = scc = std_cc = stdcc")
ureg.define("standard_liter = 1000 * standard_cubic_centimeter = sl = std_l")
ureg.define("sccm = standard_cubic_centimeter / minute")
ureg.define("sccs = standard_cubic_centimeter / second")
ureg.define("slm = standard_liter / minute = slpm")

SI_UNITS = {
    "time": "s",
    "pressure": "Pa",
    "volume": "m**3",
    "temperature": "K",
    "length": "m",
    "area": "m**2",
    "conductance": "m**3/s",
    "leak rate": "Pa*m**3/s",
    "temperature drift": "K/s",
    # A gauge's zero: how fast it may wander (Pa/h on a datasheet), its random walk, and how far
    # it moves per kelvin of ambient temperature.
    "pressure drift": "Pa/s",
    "pressure random walk": "Pa/s**0.5",
    "pressure per temperature": "Pa/K",
}

# pint's generic quantity type, spelled once.
Quantity = Any

_THROUGHPUT = ureg.Quantity(1.0, "Pa*m**3/s").dimensionality
_MOLAR_FLOW = ureg.Quantity(1.0, "mol/s").dimensionality
_MASS_FLOW = ureg.Quantity(1.0, "kg/s").dimensionality
_STANDARD_FLOW = ureg.Quantity(1.0, "scc/s").dimensionality


# Hostile-input guards. pint evaluates what it parses with Python integers, so "10**10**10 L"
# would compute a number with ten billion digits (a hang, then out of memory): a quantity or
# unit text is short, and every power is a small literal exponent that is not raised again.
MAX_QUANTITY_CHARS = 200
_LEADING_NUMBER = re.compile(r"[-+]?\s*(?:\d|\.\d|\(|nan\b|inf)", re.IGNORECASE)
_POWER = re.compile(r"\*\*|\^")
_SMALL_EXPONENT = re.compile(r"\s*\(?\s*[+-]?\s*\d{1,2}(?:\.\d+)?(?![\d.])(?![\s)]*(?:\*\*|\^|\())")


def _screen(text: str) -> str | None:
    """Why ``text`` is refused before pint sees it (None: fine)."""
    if len(text) > MAX_QUANTITY_CHARS:
        return f"longer than {MAX_QUANTITY_CHARS} characters"
    for m in _POWER.finditer(text):
        if not _SMALL_EXPONENT.match(text, m.end()):
            return "a power must be a small number (e.g. m**3), not an expression"
    return None


def _normalise(text: str) -> str:
    """Accept the typographic forms people paste from datasheets (·, ³, µ)."""
    out = text.strip().replace("·", "*").replace("⋅", "*").replace("³", "**3").replace("²", "**2")
    return re.sub(r"\s+", " ", out)


def parse(text: str, what: str) -> Quantity:
    """Parse ``text`` as a quantity with units; ``what`` names it in error messages."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{what}: expected a quantity with units, got {text!r}")
    text_n = _normalise(text)
    refused = _screen(text_n)
    if refused is not None:
        raise InputError(f"{what}: cannot read {_short(text)} as a quantity ({refused})")
    try:
        q: Quantity = ureg.Quantity(text_n)
    except Exception as exc:
        raise InputError(
            f"{what}: cannot read {_short(text)} as a quantity ({_short(str(exc) or type(exc).__name__)})"
        ) from None
    if not isinstance(q, pint.Quantity):
        raise InputError(f"{what}: cannot read {_short(text)} as a quantity")
    if not _LEADING_NUMBER.match(text_n):  # pint reads a bare "s" as 1 s: a forgotten number, not 1
        raise InputError(f"{what}: {_short(text)} has no number (write e.g. '1 L', '10 min', '2 bar')")
    if q.dimensionless:
        raise InputError(f"{what}: {_short(text)} has no units (write e.g. '1 L', '10 min', '2 bar')")
    try:
        magnitude = float(q.magnitude)
    except (OverflowError, TypeError, ValueError):  # an integer beyond float range
        magnitude = math.inf
    if not math.isfinite(magnitude):
        raise InputError(f"{what}: {_short(text)} is not a finite number")
    return q


def _short(text: str, limit: int = 60) -> str:
    """``repr(text)``, cut to ``limit`` characters so a hostile value cannot flood the message."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def to_si(text: str, kind: str, what: str) -> float:
    """Parse ``text`` and return its magnitude in the SI unit of ``kind`` ("volume", "time", ...)."""
    q = parse(text, what)
    target = SI_UNITS[kind]
    try:
        return float(q.to(target).magnitude)
    except pint.errors.DimensionalityError:
        raise InputError(f"{what}: {text!r} is not a {kind} (expected units like {target})") from None


def positive_si(text: str, kind: str, what: str) -> float:
    """As :func:`to_si`, and the value must be strictly positive."""
    value = to_si(text, kind, what)
    if not value > 0.0:
        raise InputError(f"{what}: must be positive, got {text!r}")
    return value


@lru_cache(maxsize=64)
def array_converter(unit: str, kind: str) -> Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]:
    """A function converting an array in ``unit`` to the SI unit of ``kind`` (offsets honoured)."""
    target = SI_UNITS[kind]
    if _screen(_normalise(unit)) is not None:
        raise InputError(f"unknown unit {_short(unit)}")
    try:
        u = ureg.Unit(_normalise(unit))
        probe = ureg.Quantity(np.array([0.0, 1.0]), u).to(target).magnitude
    except pint.errors.DimensionalityError:
        raise InputError(f"unit {unit!r} is not a {kind} unit (expected e.g. {target})") from None
    except Exception:
        raise InputError(f"unknown unit {_short(unit)}") from None
    offset, scale = float(probe[0]), float(probe[1] - probe[0])
    if offset == 0.0 and scale == 1.0:
        return lambda values: values
    return lambda values: values * scale + offset


def _throughput_per_unit(unit: Any, pv_temperature_k: float, sccm_reference_k: float) -> float:
    """Pa·m³/s (evaluated at ``pv_temperature_k``) carried by one ``unit`` of leak rate."""
    one = ureg.Quantity(1.0, unit)
    dims = one.dimensionality
    if dims == _THROUGHPUT:
        return float(one.to("Pa*m**3/s").magnitude)
    if dims == _MOLAR_FLOW:
        return float(one.to("mol/s").magnitude) * R_GAS * pv_temperature_k
    if dims == _MASS_FLOW:
        return float(one.to("kg/s").magnitude) * R_AIR * pv_temperature_k
    if dims == _STANDARD_FLOW:
        std_cm3_per_s = float(one.to("scc/s").magnitude)
        mol_per_s = std_cm3_per_s * 1e-6 * P_STANDARD_PA / (R_GAS * sccm_reference_k)
        return mol_per_s * R_GAS * pv_temperature_k
    raise InputError(
        f"{unit!s} is not a leak-rate unit (use pV throughput like 'mbar*L/s', a standard flow "
        "like 'sccm', a molar flow like 'mol/s' or a mass flow of air like 'lb/day')"
    )


def leak_rate_unit_factor(
    unit: str, *, pv_temperature_k: float, sccm_reference_k: float = T_ZERO_C_K
) -> float:
    """Pa·m³/s per one ``unit``: multiply a value in ``unit`` by it to get Pa·m³/s.

    ``pv_temperature_k`` is the temperature at which the pV throughput is evaluated;
    ``sccm_reference_k`` the reference temperature of standard volumes (at 1 atm).
    """
    if _screen(_normalise(unit)) is not None:
        raise InputError(f"unknown leak-rate unit {_short(unit)}")
    try:
        u = ureg.Unit(_normalise(unit))
    except Exception:
        raise InputError(f"unknown leak-rate unit {_short(unit)}") from None
    return _throughput_per_unit(u, pv_temperature_k, sccm_reference_k)


def convert_leak_rate(
    q_pa_m3_s: float, unit: str, *, pv_temperature_k: float, sccm_reference_k: float = T_ZERO_C_K
) -> float:
    """Express a pV throughput (Pa·m³/s at ``pv_temperature_k``) in ``unit``."""
    factor = leak_rate_unit_factor(unit, pv_temperature_k=pv_temperature_k, sccm_reference_k=sccm_reference_k)
    return q_pa_m3_s / factor


def parse_leak_rate(
    text: str, what: str, *, pv_temperature_k: float, sccm_reference_k: float = T_ZERO_C_K
) -> float:
    """Parse a leak rate such as "0.5 sccm" or "1e-4 mbar*L/s" into Pa·m³/s at ``pv_temperature_k``."""
    q = parse(text, what)
    try:
        factor = _throughput_per_unit(q.units, pv_temperature_k, sccm_reference_k)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None
    return float(q.magnitude) * factor
