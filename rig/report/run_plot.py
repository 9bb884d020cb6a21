"""A picture of a recorded run: pressures and temperatures over time, steps, fitted decays, faults.

The run is read as a :class:`rig.record.run_record.RunRecord`. The pieces that compute something
(the step boundaries, the points of a fitted line, the choice of a log axis) are plain
functions so they can be tested without drawing; :func:`draw_run` puts them together into one
figure (the whole run, then a panel per fit window) and :func:`plot_run` writes it. Labels,
colours and the quantity each line is drawn on follow :mod:`rig.report.fit_view`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rig.bench import BenchSpec
from rig.errors import InputError
from rig.record.measurement import FitLine, Measurement
from rig.record.results import RunResults
from rig.record.run_record import RunRecord
from rig.record.run_samples import FloatArray, RunSamples
from rig.record.run_writer import SAMPLES
from rig.report.figure_file import write_figure
from rig.report.fit_view import (
    fitted_quantity_name,
    line_as_raw_pressure,
    line_pa,
    mark_no_reading,
    measurement_colour,
    measurement_label,
    no_reading_times,
    over_range_spans,
    thermometer_of,
    trace_twin,
    written_unit,
)
from rig.report.window_panels import PANEL_HEIGHT_IN, WindowPanel, draw_window_panels, panel_rows
from rig.steps import walk

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

ZERO_CELSIUS_K = 273.15
LOG_DECADES = 2.0  # pressures spanning more than this many decades go on a log axis
FAULT_KINDS = ("fault", "interlock")
# Temperatures take these; red is kept for faults. Pressure traces no measurement fitted are grey,
# so the measurements' colours (rig.report.fit_view) stand out; a fitted channel takes its fit's twin.
TRACE_COLOURS = ("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:gray")
GREYS = ("0.15", "0.45", "0.65", "0.3", "0.55")
FIT_COLOUR = "tab:orange"  # the certificate's one fitted line per plot
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
    """A fitted line of one measurement, as points to draw over its window.

    ``p_pa`` is of the quantity the line fitted: ``p``, or ``p·T_ref/T`` for a compensated fit.
    """

    name: str
    channel: str | None
    t_s: FloatArray
    p_pa: FloatArray
    label: str
    fit: FitLine
    window_s: tuple[float, float]


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


def decay_line(name: str, measured: Measurement, unit: str | None = None) -> DecayLine | None:
    """The points of the fitted line of a measurement, or None if it has no usable line.

    The line is ``intercept_pa + slope_pa_s·(t − t0_s)`` over ``window_s``. Measurements
    without one (a reference-leak check, older runs) or with a damaged one give None: the plot
    leaves them out rather than failing. The label is :func:`rig.report.fit_view.measurement_label`
    (``unit``: the one the procedure wrote the limit in).
    """
    line, window = measured.line, measured.window_s
    if line is None or window is None:
        return None
    t0, intercept, slope = line.t0_s, line.intercept_pa, line.slope_pa_s
    start, end = window
    if not all(math.isfinite(v) for v in (t0, intercept, slope, start, end)) or not end > start:
        return None
    t = np.linspace(start, end, LINE_POINTS)
    label = measurement_label(name, measured, unit)
    return DecayLine(name, measured.channel, t, line_pa(line, t), label, line, (start, end))


def decay_lines(results: RunResults | None, procedure: Mapping[str, Any] | None = None) -> list[DecayLine]:
    """Every drawable fitted line of a run's results (none if the run has no results).

    ``procedure`` (the recorded YAML) gives the unit each limit was written in.
    """
    if results is None or results.measurements is None:
        return []
    lines = (
        decay_line(n, m, written_unit(n, m, procedure))
        for n, m in results.measurements.items()
        if m.line is not None
    )
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
    """Draw the recorded ``run`` (:func:`draw_run`) to the image ``path`` and return the path.

    A run whose samples cannot be read, or a file that cannot be written, raises
    :class:`rig.errors.InputError`.
    """
    return write_figure(path, lambda: draw_run(run))


def draw_run(run: RunRecord) -> Figure:
    """The figure of the recorded ``run``.

    Top: the pressures (log axis if they span more than two decades, else kPa), each fitted
    line over its window in its measurement's colour (a compensated fit carried back onto the
    raw pressure, :func:`rig.report.fit_view.line_as_raw_pressure`), the samples with no
    reading marked; then differential heads in Pa and temperatures in °C (each left out if
    there are none); the steps as vertical lines, faults and interlocks as red markers. Below,
    one panel per fit window (:mod:`rig.report.window_panels`). Voltage channels are not drawn.
    """
    from matplotlib.figure import Figure

    samples = run.samples
    if samples is None:
        why = run.unread.get(SAMPLES, "none recorded")
        raise InputError(f"cannot read the samples of {run.run_dir}: {why}")
    events = run.events
    kinds = channel_kinds(run.bench_spec, list(samples.channels))
    pressures = [c for c, k in kinds.items() if k == "pressure"]
    temperatures = [c for c, k in kinds.items() if k == "temperature"]
    # A differential head reads a few Pa either side of zero: its own panel, in Pa.
    differences = [c for c, k in kinds.items() if k == "differential_pressure"]
    lines = decay_lines(run.results, run.procedure)
    thermometers = {line.name: _thermometer(run, line) for line in lines}
    # A channel a measurement fitted is drawn in the light twin of the measurement's colour.
    twins: dict[str, str] = {}
    for i, line in enumerate(lines):
        if line.channel is not None:
            twins.setdefault(line.channel, trace_twin(i))

    boundaries = step_boundaries_from_events(events) or step_boundaries_from_samples(
        samples.time_s, samples.step
    )
    event_times = [float(e["t"]) for e in events]
    t0 = float(samples.time_s[0]) if samples.time_s.size else min(event_times, default=0.0)

    def minutes(t: FloatArray) -> FloatArray:
        return (t - t0) / 60.0

    height = 5.5 + (1.5 if temperatures else 0.0) + (1.5 if differences else 0.0)
    windows = panel_rows(len(lines)) * PANEL_HEIGHT_IN
    fig = Figure(figsize=(11, height + windows), layout="constrained")
    whole: Figure | SubFigure = fig
    below: SubFigure | None = None
    if lines:
        parts = fig.subfigures(2, 1, height_ratios=(height, windows))
        assert isinstance(parts, np.ndarray)  # two subfigures come as an array of them
        whole, below = parts[0], parts[1]
    ratios = (3.0, *((1.3,) if differences else ()), *((1.3,) if temperatures else ()))
    panels = list(np.atleast_1d(whole.subplots(len(ratios), 1, sharex=True, height_ratios=ratios)))
    top = panels[0]
    middle = panels[1] if differences else None
    bottom = panels[-1] if temperatures else None

    log = use_log_axis([samples.channels[c] for c in pressures])
    scale = 1.0 if log else 1e-3
    x = minutes(samples.time_s)
    greys = iter(GREYS * (1 + len(pressures)))
    colours = {name: twins.get(name) or next(greys) for name in pressures}
    for name in pressures:
        top.plot(x, samples.channels[name] * scale, "-", lw=0.9, color=colours[name], label=name)
    for i, line in enumerate(lines):
        if middle is not None and line.channel in differences:
            middle.plot(
                minutes(line.t_s), line.p_pa, "-", lw=2.2, color=measurement_colour(i), label=line.label
            )
            continue
        raw = line_as_raw_pressure(samples, line.fit, thermometers[line.name], line.t_s)
        if raw is None:
            continue  # only its panel can show it: the record names no thermometer to carry it back
        label = line.label
        if line.fit.compensated_to_k is not None:
            label += (
                f"\n   (a fit of {fitted_quantity_name(line.fit)}, drawn as p with {thermometers[line.name]})"
            )
        top.plot(minutes(line.t_s), raw * scale, "-", lw=2.2, color=measurement_colour(i), label=label)
    over_range = over_range_spans(events, float(samples.time_s[-1]) if samples.time_s.size else None)
    _mark_no_reading(top, samples, pressures, colours, minutes, over_range)
    _mark_over_range(top, over_range, minutes)
    if middle is not None:
        for i, name in enumerate(differences):
            colour = twins.get(name) or TRACE_COLOURS[(len(temperatures) + i) % len(TRACE_COLOURS)]
            middle.plot(x, samples.channels[name], "-", lw=0.9, color=colour, label=name)
        middle.set_ylabel("Δp [Pa]")
        middle.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if log:
        top.set_yscale("log", nonpositive="mask")
    top.set_ylabel("pressure [Pa]" if log else "pressure [kPa]")
    if bottom is not None:
        for i, name in enumerate(temperatures):
            colour = TRACE_COLOURS[i % len(TRACE_COLOURS)]
            bottom.plot(x, samples.channels[name] - ZERO_CELSIUS_K, "-", lw=0.9, color=colour, label=name)
        bottom.set_ylabel("temperature [°C]")
        bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)

    if boundaries:
        _draw_steps(panels, boundaries, minutes, x)

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
    if below is not None:
        shown = [
            WindowPanel(
                line.name,
                line.channel,
                line.label,
                measurement_colour(i),
                trace_twin(i),
                line.fit,
                line.window_s,
                thermometers[line.name],
            )
            for i, line in enumerate(lines)
            if line.channel is not None and line.channel in samples.channels
        ]
        draw_window_panels(below, shown, samples, minutes)
    return fig


def _thermometer(run: RunRecord, line: DecayLine) -> str | None:
    """The thermometer that compensated ``line``'s fit: its step's, else one on the channel's volume."""
    if line.fit.compensated_to_k is None:
        return None
    window = next((w for s in walk(run.steps) if (w := s.measured_window(line.name)) is not None), None)
    return thermometer_of(line.channel, run.bench, window.temperature if window is not None else None)


def _mark_no_reading(
    ax: Axes,
    samples: RunSamples,
    channels: Sequence[str],
    colours: Mapping[str, str],
    minutes: Callable[[FloatArray], FloatArray],
    over_range: Mapping[str, Sequence[tuple[float, float]]],
) -> None:
    """Ticks along the bottom edge where a channel read nothing (a gap in its trace).

    Gaps inside a span the record says was over range are that span's; once a channel's
    over-range is recorded, its other gaps are dropouts.
    """
    for name in channels:
        missing = no_reading_times(samples, name)
        spans = over_range.get(name, ())
        for start, end in spans:
            missing = missing[(missing < start) | (missing > end)]
        why = "dropout" if spans else "dropout or over range"
        label = f"{name}: no reading ×{missing.size} ({why})"
        mark_no_reading(ax, minutes(missing), colour=colours[name], label=label, height=0.02, size=8.0)


def _mark_over_range(
    ax: Axes,
    over_range: Mapping[str, Sequence[tuple[float, float]]],
    minutes: Callable[[FloatArray], FloatArray],
) -> None:
    """Hatched spans where the record says a gauge read over range."""
    for channel, spans in over_range.items():
        for k, (start, end) in enumerate(spans):
            x0, x1 = minutes(np.array([start, end]))
            ax.axvspan(
                float(x0),
                float(x1),
                color=FAULT_COLOUR,
                alpha=0.15,
                hatch="//",
                lw=0,
                label=f"{channel}: over range" if k == 0 else None,
            )


def _draw_steps(
    panels: Sequence[Axes],
    boundaries: Sequence[StepBoundary],
    minutes: Callable[[FloatArray], FloatArray],
    x: FloatArray,
) -> None:
    """Dashed lines at the steps' starts, their names along the top of the first panel."""
    bx = minutes(np.array([b.t_s for b in boundaries]))
    for ax in panels:
        ax.vlines(bx, 0.0, 1.0, transform=ax.get_xaxis_transform(), colors="0.55", lw=0.7, ls="--")
    span = float(np.ptp(np.concatenate((x, bx))))
    levels = label_levels(bx.tolist(), LABEL_GAP * span)
    top = panels[0]
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
