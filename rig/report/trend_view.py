"""A measurement across runs as ``rig trend`` shows it: each run's value with its interval, the limit,
and the control limits of an individuals chart (:mod:`rig.analysis.control_chart`).

Built from :class:`rig.record.history.HistoryPoint` (rates in Pa·m³/s, each naming the unit its
procedure wrote the limit in), whatever source gave them. Values are shown in that unit when the
runs agree on one that converts, as the certificate shows a measurement; else in Pa·m³/s.
Conversions of mass- and molar-flow units (sccm, lb/day) take the pV throughput at 20 °C, the
temperature limits are read at and fits are referred to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rig.analysis.control_chart import ControlLimits, individuals_limits, out_of_control
from rig.errors import InputError
from rig.record.history import HistoryPoint
from rig.record.measurement import UNIT
from rig.report.rate_text import DEFAULT_PV_TEMPERATURE_K, LEAK_UNIT, SCCM_REFERENCE_K, format_number
from rig.units import leak_rate_unit_factor

# Two limits that differ by less than this (relative) are one limit written twice.
SAME_LIMIT_REL = 1e-9


@dataclass(frozen=True)
class TrendRun:
    """One run's point on the trend, in the trend's unit."""

    run_id: str
    started: str
    bench: str
    value: float
    ci95_low: float | None
    ci95_high: float | None
    outcome: str | None
    out_of_control: bool

    def to_json(self) -> dict[str, Any]:
        """The run's object in ``rig trend --json``'s ``runs``."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "bench": self.bench,
            "value": self.value,
            "ci95_low": self.ci95_low,
            "ci95_high": self.ci95_high,
            "outcome": self.outcome,
            "out_of_control": self.out_of_control,
        }


@dataclass(frozen=True)
class Trend:
    """A measurement of a procedure across runs, oldest first, with its control limits.

    ``limits`` is None with fewer than two runs (no moving range). ``skipped`` lists the runs the
    source passed over, as (run id, why); None when the source does not say (the lab store).
    """

    procedure: str
    measurement: str
    unit: str  # pint's spelling, as results.json and rig run --json write units
    limit: float | None  # the procedure's limit, when every run has the same one
    runs: tuple[TrendRun, ...]
    limits: ControlLimits | None
    skipped: tuple[tuple[str, str], ...] | None = None

    @property
    def flagged(self) -> list[str]:
        """The ids of the runs outside the control limits."""
        return [r.run_id for r in self.runs if r.out_of_control]

    @property
    def shown_unit(self) -> str:
        """The unit as people write it (Pa·m³/s)."""
        return LEAK_UNIT if self.unit == UNIT else self.unit

    def to_json(self) -> dict[str, Any]:
        """``rig trend --json``'s object (control limits all null with fewer than two runs)."""
        limits = self.limits
        return {
            "procedure": self.procedure,
            "measurement": self.measurement,
            "unit": self.unit,
            "limit": self.limit,
            "runs": [r.to_json() for r in self.runs],
            "control_limits": {
                "center": None if limits is None else limits.center,
                "lower": None if limits is None else limits.lower,
                "upper": None if limits is None else limits.upper,
            },
            "moving_range_mean": None if limits is None else limits.moving_range_mean,
            "flagged": self.flagged,
            "skipped": None if self.skipped is None else len(self.skipped),
            "skipped_runs": (
                None if self.skipped is None else [{"run_id": i, "reason": why} for i, why in self.skipped]
            ),
        }

    def lines(self) -> list[str]:
        """The trend as text: a table of the runs, the control limits, and the runs flagged."""
        unit = self.shown_unit
        header = ("run", "started", "bench", f"value [{unit}]", "95 % interval (k = 2)", "outcome", "")
        rows = [
            (
                r.run_id,
                r.started,
                r.bench,
                format_number(r.value),
                _interval(r.ci95_low, r.ci95_high),
                r.outcome or "-",
                "OUT OF CONTROL" if r.out_of_control else "",
            )
            for r in self.runs
        ]
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        table = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in (header, *rows)
        ]
        out = [f"{self.procedure} · {self.measurement}: {len(self.runs)} run(s), oldest first", *table]
        if self.limit is not None:
            out.append(f"limit: {format_number(self.limit)} {unit}")
        if self.skipped:
            out.append(
                f"skipped {len(self.skipped)} run(s) without a value: "
                + "; ".join(f"{i} ({why})" for i, why in self.skipped)
            )
        limits = self.limits
        if limits is None:
            out.append("no control limits: an individuals chart needs at least two runs")
            return out
        out.append(
            f"control limits (individuals chart): center {format_number(limits.center)}, lower"
            f" {format_number(limits.lower)}, upper {format_number(limits.upper)} {unit}"
            f" (mean moving range {format_number(limits.moving_range_mean)})"
        )
        flagged = self.flagged
        out.append(
            f"out of control: {', '.join(flagged)}" if flagged else "no run outside the control limits"
        )
        return out


def _finite(x: float | None, per_unit: float) -> float | None:
    """``x`` (Pa·m³/s) in the trend's unit; None when it is not a finite number."""
    return x / per_unit if x is not None and math.isfinite(x) else None


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "not recorded"
    return f"[{format_number(low)}, {format_number(high)}]"


def _per_unit(unit: str) -> float | None:
    """Pa·m³/s per one ``unit`` (None: no leak-rate unit)."""
    try:
        return leak_rate_unit_factor(
            unit, pv_temperature_k=DEFAULT_PV_TEMPERATURE_K, sccm_reference_k=SCCM_REFERENCE_K
        )
    except InputError:
        return None


def trend_unit(points: Sequence[HistoryPoint]) -> tuple[str, float]:
    """The unit to show ``points`` in, and Pa·m³/s per one of it: their procedure's if they agree
    on one that converts, else Pa·m³/s."""
    units = {p.unit for p in points}
    if len(units) == 1:
        unit = units.pop()
        factor = _per_unit(unit)
        if factor is not None and factor > 0.0:
            return unit, factor
    return UNIT, 1.0


def common_limit(points: Sequence[HistoryPoint]) -> float | None:
    """The limit every point has (Pa·m³/s), None when some has none or they differ."""
    limits = [p.limit for p in points]
    first = limits[0] if limits else None
    if first is None or not math.isfinite(first):
        return None
    if any(x is None or not math.isclose(x, first, rel_tol=SAME_LIMIT_REL) for x in limits):
        return None
    return first


def build_trend(
    procedure: str,
    measurement: str,
    points: Sequence[HistoryPoint],
    skipped: Sequence[tuple[str, str]] | None = None,
) -> Trend:
    """The trend of ``points`` (oldest first): values in :func:`trend_unit`, limits, runs flagged.

    A point whose value is no finite number (a damaged record a source let through) is left out and
    named in ``skipped``; an interval or limit that is none reads as not recorded.
    """
    unusable = [p for p in points if not math.isfinite(p.value)]
    if unusable:
        points = [p for p in points if math.isfinite(p.value)]
        skipped = [*(skipped or ()), *((p.run_id, "its value is no finite number") for p in unusable)]
    unit, per_unit = trend_unit(points)
    values = [p.value / per_unit for p in points]
    limits = individuals_limits(values)
    flags = out_of_control(values, limits)
    runs = tuple(
        TrendRun(
            run_id=p.run_id,
            started=p.started,
            bench=p.bench,
            value=v,
            ci95_low=_finite(p.ci95_low, per_unit),
            ci95_high=_finite(p.ci95_high, per_unit),
            outcome=p.outcome,
            out_of_control=flag,
        )
        for p, v, flag in zip(points, values, flags, strict=True)
    )
    limit = common_limit(points)
    return Trend(
        procedure=procedure,
        measurement=measurement,
        unit=unit,
        limit=None if limit is None else limit / per_unit,
        runs=runs,
        limits=limits,
        skipped=None if skipped is None else tuple(skipped),
    )
