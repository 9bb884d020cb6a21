"""Turning fits into measurements: a value with its unit, uncertainty, limit and outcome.

A measurement entry is what ``results.json`` and ``rig run --json`` report under
``measurements``: at least ``value``, ``unit`` and ``outcome`` (``PASS``, ``FAIL``,
``INCONCLUSIVE``, or ``MEASURED`` when there is no limit), plus the fit's window and
line (``window_s``, ``line``) so a plot can draw what was fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rig.analysis import DecayFit, decide
from rig.bench import BenchSpec
from rig.procedure.loader import display_step_pa, sensor_floor

UNIT = "Pa*m**3/s"
# Coverage factor of the reference-leak comparison (GUM's k = 2, about 95 %).
COVERAGE_K = 2.0


def with_resolution(fit: DecayFit, bench: BenchSpec, channel: str, pressures: np.ndarray) -> DecayFit:
    """``fit`` with the gauge's resolution as a Type-B uncertainty over the fit's duration.

    A change smaller than one step of the gauge (its own resolution, or the last digit its
    controller prints at these pressures) can hide entirely in the window: treated as a
    rectangular spread of ±step over the duration, u = V·step/(duration·√3).
    """
    resolution, _ = sensor_floor(bench, channel)
    finite = pressures[np.isfinite(pressures)]
    level = float(np.max(np.abs(finite))) if finite.size else 0.0
    model = bench.instruments[bench.channels[channel].instrument].model
    step = max(resolution, display_step_pa(model, level))
    duration = fit.line.duration
    if not (step > 0.0 and duration > 0.0):
        return fit
    return replace(fit, type_b_pa_m3_s=fit.volume_m3 * step / (duration * math.sqrt(3.0)))


def decay_entry(
    fit: DecayFit,
    channel: str,
    window_s: tuple[float, float],
    sign: float,
    limit: float | None,
    compensated: bool,
) -> dict[str, Any]:
    """A decay (or, with ``sign`` −1, rise) fit as a measurement against ``limit``.

    ``sign`` is the factor the pressures were multiplied by before fitting; the line is
    recorded in pressure coordinates either way.
    """
    entry: dict[str, Any] = {
        "value": fit.leak_rate_pa_m3_s,
        "unit": UNIT,
        "stderr": fit.stderr_pa_m3_s,
        "stderr_resolution": fit.type_b_pa_m3_s,
        "ucl95": fit.upper_bound(0.95),
        "lcl95": fit.lower_bound(0.95),
        "n": fit.n,
        "channel": channel,
        "window_s": list(window_s),
        "line": {
            "t0_s": fit.line.t0,
            "intercept_pa": sign * (fit.line.y0 + fit.line.intercept_rel),
            "slope_pa_s": sign * fit.line.slope,
            "compensated_to_k": fit.t_ref_k if compensated else None,
        },
    }
    if limit is None:
        entry["outcome"] = "MEASURED"
        return entry
    decision = decide(fit, limit)
    entry.update(outcome=decision.verdict.value, limit=limit, additional_time_s=decision.additional_time_s)
    return entry


def reference_leak_entry(
    with_leak: DecayFit, background: DecayFit, certified: float, tolerance_relative: float
) -> dict[str, Any]:
    """The calibrated leak's rate (with it open minus without) against its certificate.

    PASS when the whole k = 2 interval lies within ``certified`` ± ``tolerance_relative``;
    FAIL when the whole interval lies outside it; INCONCLUSIVE otherwise. The leak may
    flow into the volume (a rise) or out of it: its size is what the certificate states.
    """
    measured = abs(with_leak.leak_rate_pa_m3_s - background.leak_rate_pa_m3_s)
    stderr = math.hypot(with_leak.stderr_pa_m3_s, background.stderr_pa_m3_s)
    band = tolerance_relative * certified
    off = abs(measured - certified)
    if off + COVERAGE_K * stderr <= band:
        outcome = "PASS"
    elif off - COVERAGE_K * stderr > band:
        outcome = "FAIL"
    else:
        outcome = "INCONCLUSIVE"
    return {
        "value": measured,
        "unit": UNIT,
        "stderr": stderr,
        "outcome": outcome,
        "certified": certified,
        "tolerance_relative": tolerance_relative,
        "deviation_relative": (measured - certified) / certified,
        "background": background.leak_rate_pa_m3_s,
        "n": with_leak.n + background.n,
    }


@dataclass(frozen=True)
class SegmentRate:
    """One segment's measured leak rate while the hatches were shut."""

    name: str
    entry: dict[str, Any]

    @property
    def rate(self) -> float:
        """Leak rate, Pa·m³/s (NaN sorts last)."""
        value = float(self.entry["value"])
        return value if math.isfinite(value) else -math.inf

    @property
    def lower_bound(self) -> float:
        """One-sided 95 % lower bound on the leak rate, Pa·m³/s."""
        return float(self.entry["lcl95"])


def leaking_segment(rates: list[SegmentRate], has_limit: bool) -> str | None:
    """The segment to name: the worst one that fails its limit, or (no limit) leaks beyond doubt.

    ``rates`` must be ranked, worst first. Without a limit a segment is named only when
    its lower bound is above zero, so a quiet station names none.
    """
    for segment in rates:
        if has_limit and segment.entry["outcome"] == "FAIL":
            return segment.name
        if not has_limit and segment.lower_bound > 0.0:
            return segment.name
    return None
