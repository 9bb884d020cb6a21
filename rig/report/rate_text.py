"""Leak rates and other numbers as a certificate writes them: three digits, the procedure's unit, Pa·m³/s."""

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
    """Formats leak rates of one measurement: in the unit its procedure wrote its limit in (``lb/day``)
    with Pa·m³/s beside it; without one, in Pa·m³/s and sccm at 0 °C."""

    to_pa_m3_s: float  # Pa·m³/s per unit of the entry's values
    pv_temperature_k: float
    written_unit: str | None = None  # the procedure's unit for this measurement (None: none known)
    per_written_pa_m3_s: float = 1.0  # Pa·m³/s per one written unit

    @property
    def unit(self) -> str:
        """The unit :meth:`stated` gives values in: the written one, else the engine's (Pa*m**3/s)."""
        return self.written_unit or UNIT

    def stated(self, value: float) -> float:
        """``value`` (in the entry's unit) in :attr:`unit`."""
        return self.si(value) / self.per_written_pa_m3_s if self.written_unit else self.si(value)

    def si(self, value: float) -> float:
        """``value`` (in the entry's unit) in Pa·m³/s."""
        return value * self.to_pa_m3_s

    def sccm(self, value: float) -> float:
        """``value`` (in the entry's unit) in sccm at 0 °C."""
        return convert_leak_rate(
            self.si(value), "sccm", pv_temperature_k=self.pv_temperature_k, sccm_reference_k=SCCM_REFERENCE_K
        )

    def both(self, value: float) -> str:
        """``value`` as the procedure states it with Pa·m³/s beside it (else Pa·m³/s and sccm), one line."""
        si = f"{format_number(self.si(value))} {LEAK_UNIT}"
        if self.written_unit:
            return f"{format_number(self.stated(value))} {self.written_unit} = {si}"
        return f"{si} = {format_number(self.sccm(value))} {SCCM_UNIT}"


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
    written = measured.written_unit
    try:
        # At the temperatures the procedure's limit was read at: its limit shows as written.
        per_written = (
            leak_rate_unit_factor(written, pv_temperature_k=pv_t, sccm_reference_k=SCCM_REFERENCE_K)
            if written
            else 1.0
        )
    except InputError:  # a damaged record's unit: the numbers still show, in Pa·m³/s
        written, per_written = None, 1.0
    return RateText(factor, pv_t, written, per_written)
