"""Leak rates and other numbers as a certificate writes them: three digits, Pa·m³/s and sccm at 0 °C."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rig.errors import InputError
from rig.record.measurement import UNIT, Measurement
from rig.report.recorded_text import finite_number
from rig.units import T_TWENTY_C_K, T_ZERO_C_K, convert_leak_rate, leak_rate_unit_factor

# Limits are parsed at 20 °C and fits are referred to it (rig.procedure.loader, rig.analysis):
# the temperature at which a recorded pV throughput is evaluated unless its line says otherwise.
DEFAULT_PV_TEMPERATURE_K = T_TWENTY_C_K
SCCM_REFERENCE_K = T_ZERO_C_K
LEAK_UNIT = "Pa·m³/s"
SCCM_UNIT = "sccm (0 °C)"


def format_number(x: float) -> str:
    """Three significant digits; a compact exponent (5.00e-4) outside [0.001, 10⁴)."""
    if x == 0.0:
        return "0"
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞" if x < 0 else "not a number"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.3g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


@dataclass(frozen=True)
class RateText:
    """Formats leak rates of one measurement in Pa·m³/s and in sccm at 0 °C."""

    to_pa_m3_s: float  # Pa·m³/s per unit of the entry's values
    pv_temperature_k: float

    def si(self, value: float) -> float:
        """``value`` (in the entry's unit) in Pa·m³/s."""
        return value * self.to_pa_m3_s

    def sccm(self, value: float) -> float:
        """``value`` (in the entry's unit) in sccm at 0 °C."""
        return convert_leak_rate(
            self.si(value), "sccm", pv_temperature_k=self.pv_temperature_k, sccm_reference_k=SCCM_REFERENCE_K
        )

    def both(self, value: float) -> str:
        """``value`` in both units, as one line of text."""
        return f"{format_number(self.si(value))} {LEAK_UNIT} = {format_number(self.sccm(value))} {SCCM_UNIT}"


def rate_text_for(measured: Measurement) -> RateText | None:
    """How to read ``measured``'s values, or None if its unit is not a leak-rate unit we know."""
    line = measured.line
    pv_t = (finite_number(line.compensated_to_k) if line is not None else None) or DEFAULT_PV_TEMPERATURE_K
    # A record that does not state its unit is of the engine's: a pV throughput.
    unit = measured.unit if measured.unit is not None else UNIT
    try:
        factor = leak_rate_unit_factor(unit, pv_temperature_k=pv_t, sccm_reference_k=SCCM_REFERENCE_K)
    except InputError:
        return None
    return RateText(factor, pv_t)
