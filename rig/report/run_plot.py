"""A picture of a recorded run: pressures and temperatures over time, steps, fitted decays, faults.

The run is read as a :class:`rig.record.run_record.RunRecord`. The pieces that compute something
(the step boundaries, the points of a fitted line, the choice of a log axis) are plain
functions so they can be tested without drawing; :func:`plot_run` puts them together into one
PNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rig.bench import BenchSpec
from rig.errors import InputError
from rig.record.measurement import Measurement
from rig.record.results import RunResults
from rig.record.run_record import RunRecord
from rig.record.run_samples import FloatArray
from rig.record.run_writer import SAMPLES

ZERO_CELSIUS_K = 273.15
LOG_DECADES = 2.0  # pressures spanning more than this many decades go on a log axis
FAULT_KINDS = ("fault", "interlock")
# Traces take these; red is kept for faults and orange for the fitted lines so both stand out.
TRACE_COLOURS = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:gray")
FIT_COLOUR = "tab:orange"
FAULT_COLOUR = "red"
LABEL_LEVELS = 3  # heights of step labels that would otherwise print over each other
LABEL_GAP = 0.012  # fraction of the time axis one small rotated label needs
LINE_POINTS = 50  # a straight line in Pa is curved on a log axis, so it needs more than its two ends


@dataclass(frozen=True)
class StepBoundary:
    """Where a step began (clock seconds) and its name."""

    t_s: float
    name: str


@dataclass(frozen=True)
class DecayLine:
    """A fitted decay line of one measurement, as points to draw over its window."""

    name: str
    channel: str | None
    t_s: FloatArray
    p_pa: FloatArray
    label: str


def step_boundaries_from_events(events: Sequence[Mapping[str, Any]]) -> list[StepBoundary]:
    """Step starts from the ``step`` events; steps starting at the same instant share one label."""
    out: list[StepBoundary] = []
    for event in events:
        if event.get("kind") != "step":
            continue
        name = event.get("step")
        if not isinstance(name, str) or not name:
            # The message reads "<kind> at <file:line:col>": the kind is the best name left.
            name = str(event.get("message", "")).split(" at ", 1)[0] or "step"
        t = float(event["t"])
        # A step that only sets valves takes no clock time, so the next begins at the same
        # instant; two labels there would print over each other.
        if out and out[-1].t_s == t:
            out[-1] = StepBoundary(t, f"{out[-1].name}, {name}")
        else:
            out.append(StepBoundary(t, name))
    return out


def step_boundaries_from_samples(time_s: FloatArray, step: npt.NDArray[np.str_]) -> list[StepBoundary]:
    """Step starts where the ``step`` column changes (for runs whose events are missing)."""
    if time_s.size == 0:
        return []
    starts = np.concatenate(([0], np.flatnonzero(step[1:] != step[:-1]) + 1))
    return [StepBoundary(float(time_s[i]), str(step[i])) for i in starts]


def label_levels(x: Sequence[float], min_gap: float, levels: int = LABEL_LEVELS) -> list[int]:
    """Heights (0 = top, 1, 2 …) for step labels at ``x`` so labels closer than ``min_gap`` do not overprint.

    A label close to the one before it goes one level lower (cycling through ``levels``);
    one with room goes back to the top, where labels are easiest to find.
    """
    out: list[int] = []
    for i, xi in enumerate(x):
        out.append((out[-1] + 1) % levels if i and xi - x[i - 1] < min_gap else 0)
    return out


def decay_line(name: str, measured: Measurement, several: bool = False) -> DecayLine | None:
    """The points of the fitted line of a measurement, or None if it has no usable line.

    The line is ``intercept_pa + slope_pa_s·(t − t0_s)`` over ``window_s``. Measurements
    without one (a reference-leak check, older runs) or with a damaged one give None: the plot
    leaves them out rather than failing. ``several`` puts the measurement's name in the label.
    """
    line, window = measured.line, measured.window_s
    if line is None or window is None:
        return None
    t0, intercept, slope = line.t0_s, line.intercept_pa, line.slope_pa_s
    start, end = window
    if not all(math.isfinite(v) for v in (t0, intercept, slope, start, end)) or not end > start:
        return None
    t = np.linspace(start, end, LINE_POINTS)
    p = intercept + slope * (t - t0)
    label = "decay fit"
    if several:
        label += f" {name}"
    if line.compensated_to_k is not None:
        # The fit is of p·T_ref/T, which is close to p but not p: the label must not claim p.
        label += f" (p·{line.compensated_to_k:g} K/T)"
    value = measured.value_pa_m3_s
    label += f": {value:.1e} Pa·m³/s" if value is not None else ": no value"
    if measured.outcome is not None:
        label += f" ({measured.outcome})"
    return DecayLine(name, measured.channel, t, p, label)


def decay_lines(results: RunResults | None) -> list[DecayLine]:
    """Every drawable fitted line of a run's results (none if the run has no results)."""
    if results is None or results.measurements is None:
        return []
    with_line = {n: m for n, m in results.measurements.items() if m.line is not None}
    lines = (decay_line(n, m, several=len(with_line) > 1) for n, m in with_line.items())
    return [line for line in lines if line is not None]


def use_log_axis(traces: Sequence[FloatArray], decades: float = LOG_DECADES) -> bool:
    """Whether pressures spanning ``traces`` need a log axis (more than ``decades`` decades).

    Only positive values count: a gauge reading noise around zero cannot be placed on a log
    axis anyway (matplotlib masks it), and must not make the span look infinite.
    """
    positive = [a[np.isfinite(a) & (a > 0.0)] for a in traces]
    values = np.concatenate(positive) if positive else np.empty(0)
    if values.size == 0:
        return False
    return bool(np.log10(values.max() / values.min()) > decades)


def channel_kinds(bench: BenchSpec | None, channels: Sequence[str]) -> dict[str, str]:
    """What each channel measures (pressure, temperature, voltage), from the run's bench.

    A channel the bench does not describe (or a run without a bench file the loader reads) is
    taken by its name: ``t_*`` is a temperature, anything else a pressure. That is the
    project's naming convention, not a certainty, but a plot must not fail for want of it.
    """
    known = {name: spec.measures for name, spec in bench.channels.items()} if bench is not None else {}
    return {c: known.get(c, "temperature" if c.startswith("t_") else "pressure") for c in channels}


def _title(run: RunRecord) -> str:
    info, results = run.info, run.results
    procedure = info.get("procedure", "?")
    run_id = info.get("run_id", run.run_dir.name)
    if results is None:
        return f"{procedure} · run {run_id} · no results (the run crashed or is still running)"
    title = f"{procedure} · run {run_id} · {results.verdict or '?'}"
    reason = results.reason
    if reason:
        title += "\n" + (reason if len(reason) <= 120 else reason[:117] + "...")
    return title


def plot_run(run: RunRecord, path: str | Path) -> Path:
    """Draw the recorded ``run`` to the image ``path`` and return the path.

    Top: the pressures (log axis if they span more than two decades, else kPa); bottom:
    the temperatures in °C (left out if there are none); the steps as vertical lines, the
    fitted decay lines over their windows, faults and interlocks as red markers. Voltage
    channels are not drawn.
    A run whose samples cannot be read, or a file that cannot be written, raises
    :class:`rig.errors.InputError`.
    """
    out = Path(path)
    if not out.parent.is_dir():
        # Checked first so a mistyped path fails at once, not after drawing the run.
        raise InputError(f"cannot write {out}: no directory {out.parent}")
    samples = run.samples
    if samples is None:
        why = run.unread.get(SAMPLES, "none recorded")
        raise InputError(f"cannot read the samples of {run.run_dir}: {why}")
    events = run.events
    results = run.results
    kinds = channel_kinds(run.bench_spec, list(samples.channels))
    pressures = [c for c, k in kinds.items() if k == "pressure"]
    temperatures = [c for c, k in kinds.items() if k == "temperature"]
    # A differential head reads a few Pa either side of zero: its own panel, in Pa.
    differences = [c for c, k in kinds.items() if k == "differential_pressure"]

    boundaries = step_boundaries_from_events(events) or step_boundaries_from_samples(
        samples.time_s, samples.step
    )
    event_times = [float(e["t"]) for e in events]
    t0 = float(samples.time_s[0]) if samples.time_s.size else min(event_times, default=0.0)

    def minutes(t: FloatArray) -> FloatArray:
        return (t - t0) / 60.0

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = out.suffix.lower().lstrip(".")
    height = 5.5 + (1.5 if temperatures else 0.0) + (1.5 if differences else 0.0)
    fig = plt.figure(figsize=(11, height), layout="constrained")
    try:
        supported = fig.canvas.get_supported_filetypes()
        if suffix and suffix not in supported:
            raise InputError(f"cannot write {out}: unknown image type .{suffix} (use .png)")
        ratios = (3.0, *((1.3,) if differences else ()), *((1.3,) if temperatures else ()))
        panels = list(np.atleast_1d(fig.subplots(len(ratios), 1, sharex=True, height_ratios=ratios)))
        top = panels[0]
        middle = panels[1] if differences else None
        bottom = panels[-1] if temperatures else None

        log = use_log_axis([samples.channels[c] for c in pressures])
        scale = 1.0 if log else 1e-3
        x = minutes(samples.time_s)
        for i, name in enumerate(pressures):
            colour = TRACE_COLOURS[i % len(TRACE_COLOURS)]
            top.plot(x, samples.channels[name] * scale, "-", lw=0.9, color=colour, label=name)
        for line in decay_lines(results):
            if middle is not None and line.channel in differences:
                middle.plot(minutes(line.t_s), line.p_pa, "-", lw=2.2, color=FIT_COLOUR, label=line.label)
                continue
            top.plot(minutes(line.t_s), line.p_pa * scale, "-", lw=2.2, color=FIT_COLOUR, label=line.label)
        if middle is not None:
            for i, name in enumerate(differences):
                colour = TRACE_COLOURS[(len(pressures) + len(temperatures) + i) % len(TRACE_COLOURS)]
                middle.plot(x, samples.channels[name], "-", lw=0.9, color=colour, label=name)
            middle.set_ylabel("Δp [Pa]")
            middle.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        if log:
            top.set_yscale("log", nonpositive="mask")
        top.set_ylabel("pressure [Pa]" if log else "pressure [kPa]")
        if bottom is not None:
            for i, name in enumerate(temperatures):
                colour = TRACE_COLOURS[(len(pressures) + i) % len(TRACE_COLOURS)]
                bottom.plot(x, samples.channels[name] - ZERO_CELSIUS_K, "-", lw=0.9, color=colour, label=name)
            bottom.set_ylabel("temperature [°C]")
            bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)

        if boundaries:
            bx = minutes(np.array([b.t_s for b in boundaries]))
            for ax in panels:
                ax.vlines(bx, 0.0, 1.0, transform=ax.get_xaxis_transform(), colors="0.55", lw=0.7, ls="--")
            span = float(np.ptp(np.concatenate((x, bx))))
            levels = label_levels(bx.tolist(), LABEL_GAP * span)
            for xb, b, level in zip(bx, boundaries, levels, strict=True):
                top.text(
                    float(xb),
                    0.98 - 0.33 * level,
                    f" {b.name}",
                    transform=top.get_xaxis_transform(),
                    rotation=90,
                    fontsize=6,
                    color="0.3",
                    ha="left",
                    va="top",
                    clip_on=True,
                )

        faults = [e for e in events if e.get("kind") in FAULT_KINDS]
        if faults:
            fx = minutes(np.array([float(e["t"]) for e in faults]))
            # Placed along the top edge: a fault has a time but no pressure of its own.
            top.plot(
                fx,
                np.full(fx.size, 0.97),
                "v",
                ms=7,
                color=FAULT_COLOUR,
                transform=top.get_xaxis_transform(),
                label=f"fault / interlock ({len(faults)})",
            )

        if not samples.time_s.size:
            top.text(0.5, 0.5, "no samples recorded", transform=top.transAxes, ha="center", va="center")
        # "best" is slow with tens of thousands of points and may still cover data: outside it goes.
        if top.get_legend_handles_labels()[0]:
            top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        top.set_title(_title(run), fontsize=10)
        panels[-1].set_xlabel("time since the first sample [min]")
        try:
            fig.savefig(out, dpi=120)
        except OSError as exc:
            raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return out
