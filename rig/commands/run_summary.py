"""What ``rig run`` ends with: every measurement's value, expanded uncertainty, limit and outcome.

In the unit the procedure wrote the measurement's limit in (``0.5 sccm``, ``0.1 lb/day``), the
engine's Pa·m³/s beside it, read from the run's ``results.json`` (where that unit is kept,
:mod:`rig.record.conditions`); from the engine's own measurements when the record could not be
read back (a full disk), in Pa·m³/s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rig.record.measurement import UNIT, Measurement
from rig.record.results import RunResults
from rig.record.run_store import read_results
from rig.report.rate_text import LEAK_UNIT, format_number, rate_text_for


def recorded_measurements(
    run_dir: Path | None, measured: Mapping[str, Measurement]
) -> Mapping[str, Measurement]:
    """The run's measurements as its record holds them; ``measured`` (the engine's) if it holds none."""
    if run_dir is None:
        return measured
    try:
        document = read_results(run_dir)
    except (OSError, ValueError):  # a damaged or unreadable record: the engine's numbers still stand
        return measured
    recorded = None if document is None else RunResults.from_json(document).measurements
    return recorded if recorded and recorded.keys() == measured.keys() else measured


def measurement_json(m: Measurement) -> dict[str, Any]:
    """The measurement's entry in ``rig run --json``'s line: in the procedure's unit, and in Pa·m³/s.

    ``value``, ``uncertainty_k2`` and ``limit`` are in ``unit`` (as the procedure wrote the
    limit; Pa*m**3/s when it wrote none); ``*_pa_m3_s`` are the same in Pa·m³/s.
    """
    rates = rate_text_for(m)
    expanded, limit = m.expanded_uncertainty_pa_m3_s, m.limit_pa_m3_s

    def stated(x: float | None) -> float | None:
        return None if x is None or rates is None else rates.stated(x)

    return {
        "value": stated(m.value_pa_m3_s) if rates else m.value_pa_m3_s,
        "unit": rates.unit if rates else m.unit,
        "outcome": m.outcome,
        "uncertainty_k2": stated(expanded) if rates else expanded,
        "limit": stated(limit) if rates else limit,
        "value_pa_m3_s": None if rates is None else _si(m.value_pa_m3_s, rates.to_pa_m3_s),
        "uncertainty_k2_pa_m3_s": None if rates is None else _si(expanded, rates.to_pa_m3_s),
        "limit_pa_m3_s": None if rates is None else _si(limit, rates.to_pa_m3_s),
    }


def measurement_line(name: str, m: Measurement) -> str:
    """One measurement in words: ``decay: 0.275 ± 0.0122 sccm (k = 2), limit 0.5 sccm: PASS (… Pa·m³/s)``."""
    entry = measurement_json(m)
    outcome = m.outcome.value if m.outcome is not None else "not recorded"
    value = entry["value"]
    if value is None:
        return f"{name}: no value: {outcome}"
    unit = entry["unit"] or ""
    shown = LEAK_UNIT if unit == UNIT else unit
    text = f"{name}: {format_number(value)}"
    if entry["uncertainty_k2"] is not None:
        text += f" ± {format_number(entry['uncertainty_k2'])}"
    text += f" {shown} (k = 2)" if entry["uncertainty_k2"] is not None else f" {shown}"
    text += f", limit {format_number(entry['limit'])} {shown}" if entry["limit"] is not None else ", no limit"
    text += f": {outcome}"
    if unit != UNIT and entry["value_pa_m3_s"] is not None:
        si = f"{format_number(entry['value_pa_m3_s'])}"
        if entry["uncertainty_k2_pa_m3_s"] is not None:
            si += f" ± {format_number(entry['uncertainty_k2_pa_m3_s'])}"
        text += f" ({si} {LEAK_UNIT})"
    if m.refusal:
        text += f"; {m.refusal}"
    return text


def _si(x: float | None, factor: float) -> float | None:
    return None if x is None else x * factor
