"""A picture of a recorded run: pressures and temperatures over time, steps, fitted decays, faults.

The pieces that compute something (reading the samples into arrays, the step boundaries,
the points of a fitted line, the choice of a log axis) are plain functions so they can be
tested without drawing; :func:`plot_run` puts them together into one PNG.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rig.errors import InputError
from rig.record.run_store import read_samples

FloatArray = npt.NDArray[np.float64]

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
class RunSamples:
    """A run's samples as arrays: clock time, the step of each sample, one array per channel.

    A dropout (an empty cell) is NaN, so a trace has a gap there rather than a zero.
    """

    time_s: FloatArray
    step: npt.NDArray[np.str_]
    channels: dict[str, FloatArray]


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


def parse_samples(header: Sequence[str], rows: Sequence[Sequence[str]]) -> RunSamples:
    """Turn the rows of ``samples.csv`` into arrays (empty cells become NaN)."""
    if len(header) < 2 or list(header[:2]) != ["time", "step"]:
        raise InputError(f"samples.csv: expected a header starting time,step, got {','.join(header)!r}")
    width = len(header)
    # A row of another width is damage (the store never writes one): it is dropped, not guessed.
    good = [r for r in rows if len(r) == width]
    if not good:
        empty = np.empty(0, dtype=np.float64)
        return RunSamples(empty, np.empty(0, dtype=np.str_), {c: empty.copy() for c in header[2:]})
    columns = np.array(good, dtype=np.str_).T
    try:
        time_s = columns[0].astype(np.float64)
        channels = {}
        for name, cells in zip(header[2:], columns[2:], strict=True):
            cells = np.where(cells == "", "nan", cells)
            channels[name] = cells.astype(np.float64)
    except ValueError as exc:
        raise InputError(f"samples.csv: a cell is not a number ({exc})") from None
    return RunSamples(time_s, columns[1], channels)


def read_events(run_dir: str | Path) -> list[dict[str, Any]]:
    """The events of a run, in order; a line a crash cut short (or no file at all) is skipped."""
    path = Path(run_dir) / "events.jsonl"
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("t"), int | float):
            events.append(event)
    return events


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


def decay_line(name: str, entry: Mapping[str, Any], several: bool = False) -> DecayLine | None:
    """The points of the fitted line of a measurement entry, or None if it has no usable line.

    The line is ``intercept_pa + slope_pa_s·(t − t0_s)`` over ``window_s``. Entries without
    one (a reference-leak check, older runs) or with a damaged one give None: the plot
    leaves them out rather than failing. ``several`` puts the measurement's name in the label.
    """
    line, window = entry.get("line"), entry.get("window_s")
    if not isinstance(line, Mapping) or not isinstance(window, Sequence) or len(window) != 2:
        return None
    try:
        t0, intercept, slope = (float(line[k]) for k in ("t0_s", "intercept_pa", "slope_pa_s"))
        start, end = float(window[0]), float(window[1])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (t0, intercept, slope, start, end)) or not end > start:
        return None
    t = np.linspace(start, end, LINE_POINTS)
    p = intercept + slope * (t - t0)
    label = "decay fit"
    if several:
        label += f" {name}"
    compensated = line.get("compensated_to_k")
    if isinstance(compensated, int | float):
        # The fit is of p·T_ref/T, which is close to p but not p: the label must not claim p.
        label += f" (p·{compensated:g} K/T)"
    value = entry.get("value")
    label += f": {value:.1e} Pa·m³/s" if isinstance(value, int | float) else ": no value"
    outcome = entry.get("outcome")
    if isinstance(outcome, str):
        label += f" ({outcome})"
    channel = entry.get("channel")
    return DecayLine(name, channel if isinstance(channel, str) else None, t, p, label)


def decay_lines(results: Mapping[str, Any] | None) -> list[DecayLine]:
    """Every drawable fitted line of a run's ``results.json`` (none if the run has no results)."""
    measurements = results.get("measurements") if results else None
    if not isinstance(measurements, Mapping):
        return []
    with_line = {n: e for n, e in measurements.items() if isinstance(e, Mapping) and "line" in e}
    lines = (decay_line(n, e, several=len(with_line) > 1) for n, e in with_line.items())
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


def channel_kinds(run_dir: str | Path, channels: Sequence[str]) -> dict[str, str]:
    """What each channel measures (pressure, temperature, voltage), from the run's ``bench.yaml``.

    A channel the bench file does not describe (or a run without a readable bench file) is
    taken by its name: ``t_*`` is a temperature, anything else a pressure. That is the
    project's naming convention, not a certainty, but a plot must not fail for want of it.
    """
    known: dict[str, str] = {}
    bench_file = Path(run_dir) / "bench.yaml"
    if bench_file.exists():
        from rig.bench import load_bench

        try:
            known = {name: spec.measures for name, spec in load_bench(bench_file).channels.items()}
        except InputError:
            # A bench file of an older format may no longer validate; the samples are still worth seeing.
            known = {}
    return {c: known.get(c, "temperature" if c.startswith("t_") else "pressure") for c in channels}


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _title(run_dir: Path, info: Mapping[str, Any] | None, results: Mapping[str, Any] | None) -> str:
    procedure = (info or {}).get("procedure", "?")
    run_id = (info or {}).get("run_id", run_dir.name)
    if results is None:
        return f"{procedure} · run {run_id} · no results (the run crashed or is still running)"
    title = f"{procedure} · run {run_id} · {results.get('verdict', '?')}"
    reason = results.get("reason")
    if isinstance(reason, str) and reason:
        title += "\n" + (reason if len(reason) <= 120 else reason[:117] + "...")
    return title


def plot_run(run_dir: str | Path, path: str | Path) -> Path:
    """Draw the run recorded in ``run_dir`` to the image ``path`` and return the path.

    Top: the pressures (log axis if they span more than two decades, else kPa); bottom:
    the temperatures in °C (left out if there are none); the steps as vertical lines, the
    fitted decay lines over their windows, faults and interlocks as red markers. Voltage
    channels are not drawn.
    Problems reading the run or writing the file raise :class:`rig.errors.InputError`.
    """
    run_dir = Path(run_dir)
    out = Path(path)
    if not out.parent.is_dir():
        # Checked first so a mistyped path fails at once, not after reading and drawing the run.
        raise InputError(f"cannot write {out}: no directory {out.parent}")
    try:
        header, rows = read_samples(run_dir)
    except OSError as exc:
        raise InputError(f"cannot read the samples of {run_dir}: {exc.strerror or exc}") from None
    samples = parse_samples(header, rows)
    events = read_events(run_dir)
    info = _read_json(run_dir / "run.json")
    results = _read_json(run_dir / "results.json")
    kinds = channel_kinds(run_dir, list(samples.channels))
    pressures = [c for c, k in kinds.items() if k == "pressure"]
    temperatures = [c for c, k in kinds.items() if k == "temperature"]

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
    fig = plt.figure(figsize=(11, 7 if temperatures else 5.5), layout="constrained")
    try:
        supported = fig.canvas.get_supported_filetypes()
        if suffix and suffix not in supported:
            raise InputError(f"cannot write {out}: unknown image type .{suffix} (use .png)")
        if temperatures:
            top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
            panels = [top, bottom]
        else:
            top = fig.subplots(1, 1)
            bottom = None
            panels = [top]

        log = use_log_axis([samples.channels[c] for c in pressures])
        scale = 1.0 if log else 1e-3
        x = minutes(samples.time_s)
        for i, name in enumerate(pressures):
            colour = TRACE_COLOURS[i % len(TRACE_COLOURS)]
            top.plot(x, samples.channels[name] * scale, "-", lw=0.9, color=colour, label=name)
        for line in decay_lines(results):
            top.plot(minutes(line.t_s), line.p_pa * scale, "-", lw=2.2, color=FIT_COLOUR, label=line.label)
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
        top.set_title(_title(run_dir, info, results), fontsize=10)
        panels[-1].set_xlabel("time since the first sample [min]")
        try:
            fig.savefig(out, dpi=120)
        except OSError as exc:
            raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return out
