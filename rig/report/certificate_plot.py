"""The certificate's plot of one measurement: its samples, the fitted line, the bounds and the limit."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rig.errors import InputError
from rig.record.measurement import Measurement
from rig.record.recorded import mapping
from rig.record.run_samples import FloatArray, RunSamples
from rig.report.fit_view import (
    mark_no_reading,
    measurement_label,
    no_reading_times,
    plain_number,
    rate_display,
    thermometer_of,
    written_unit,
)
from rig.report.rate_text import LEAK_UNIT, SCCM_UNIT, format_number, rate_text_for
from rig.report.recorded_text import finite_number
from rig.report.run_plot import FIT_COLOUR, decay_line
from rig.steps import Step, walk
from rig.units import to_si

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LIMIT_COLOUR = "#c62828"
CONTEXT_FRACTION = 0.15  # how much of the run around a fit window its plot shows, per side
PLOT_SIZE_IN = (7.5, 4.6)
PLOT_DPI = 150


@dataclass(frozen=True)
class PlotInputs:
    """What a measurement's plot needs beyond the measurement: the samples and how to compensate them."""

    samples: RunSamples
    temperature_channel: str | None
    volume_m3: float | None
    direction: str  # "decay" or "rise": which way a leak at the limit moves the pressure
    unit: str | None = None  # the leak-rate unit the procedure wrote the limit in


def _slope_for_rate(
    rate: float, value: float, slope: float, volume_m3: float | None, direction: str
) -> float | None:
    """The pressure slope (Pa/s) a leak of ``rate`` would give in the measurement's line.

    The fit's own numbers fix it exactly: Q = −sign·V·dp/dt, so a rate ``rate`` has slope
    slope·rate/value. A line of zero slope (a trace that never left one printed digit) gives
    no ratio; then the volume and the direction of the test do.
    """
    if value != 0.0 and slope != 0.0:
        return slope * rate / value
    if volume_m3:
        return (-1.0 if direction == "decay" else 1.0) * rate / volume_m3
    return None


def _limit_text(measured: Measurement, limit: float, unit: str | None) -> str:
    """The limit in the procedure's unit with Pa·m³/s beside it (Pa·m³/s alone if that is its unit)."""
    shown = rate_display(measured, unit)
    si = f"{format_number(limit)} {LEAK_UNIT}"
    if shown.per_recorded == 1.0:
        return si
    return f"{plain_number(limit * shown.per_recorded)} {shown.unit} = {si}"


def measurement_plot(name: str, measured: Measurement, inputs: PlotInputs) -> tuple[bytes, str] | None:
    """A PNG of one fitted measurement (:func:`measurement_figure`) and its caption, or None."""
    drawn = measurement_figure(name, measured, inputs)
    if drawn is None:
        return None
    fig, caption = drawn
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PLOT_DPI)
    return buffer.getvalue(), caption


def measurement_figure(name: str, measured: Measurement, inputs: PlotInputs) -> tuple[Figure, str] | None:
    """The figure of one fitted measurement and its caption, or None when there is nothing to draw.

    The channel's samples over the fit window and a margin around it, the fitted line, the
    band between the lines at the one-sided 95 % bounds (pivoting at the window's middle,
    where a fitted line is best known), and dashed, the path a leak at the limit would
    follow from the fit's start. Pressures are shown relative to the fit's start, in Pa, so
    a decay of tens of pascals at 2 bar is visible at all.
    """
    line = decay_line(name, measured)
    samples = inputs.samples
    fit = measured.line
    if (
        line is None
        or fit is None
        or line.channel is None
        or line.channel not in samples.channels
        or samples.time_s.size == 0
    ):
        return None
    t0, intercept, slope = fit.t0_s, fit.intercept_pa, fit.slope_pa_s
    w0, w1 = float(line.t_s[0]), float(line.t_s[-1])
    margin = CONTEXT_FRACTION * (w1 - w0)
    shown = (samples.time_s >= w0 - margin) & (samples.time_s <= w1 + margin)
    t = samples.time_s[shown]
    p = samples.channels[line.channel][shown]
    t_ref = finite_number(fit.compensated_to_k)
    caption_p = f"samples of {line.channel}"
    ylabel = "pressure"
    if t_ref is not None:
        thermometer = inputs.temperature_channel
        if thermometer is not None and thermometer in samples.channels:
            # The line is a fit of p·T_ref/T: samples drawn as raw p would sit off it by the gas
            # temperature's offset from T_ref (0.05 % per 0.15 K: 100 Pa at 2 bar, more than a
            # repaired seal's whole decay).
            p = p * t_ref / samples.channels[thermometer][shown]
            caption_p += f" compensated to {t_ref:g} K with {thermometer} (p·{t_ref:g} K/T)"
            ylabel = f"p·{t_ref:g} K/T"
        else:
            caption_p += f" (not compensated: the fit is of p·{t_ref:g} K/T but its thermometer is unknown)"
    value = finite_number(measured.value_pa_m3_s)
    if value is None:
        return None

    def p_fit(times: FloatArray) -> FloatArray:
        return intercept + slope * (times - t0)

    xs = np.linspace(w0, w1, 60)
    start = float(p_fit(np.array([w0]))[0])
    # The level printed in the axis label: rounded so the label stays short.
    ref = float(f"{start:.4g}")
    ref_text = f"{ref / 1e3:g} kPa" if abs(ref) >= 1e3 else f"{ref:g} Pa"

    def rel(pressures: FloatArray) -> FloatArray:
        return pressures - ref

    def minutes(times: FloatArray) -> FloatArray:
        return (times - w0) / 60.0

    from matplotlib.figure import Figure

    fig = Figure(figsize=PLOT_SIZE_IN, layout="constrained")
    ax = fig.subplots()
    inside = (t >= w0) & (t <= w1)
    outside_label, inside_label = "samples around the fit window", "samples in the fit window"
    ax.plot(minutes(t[~inside]), rel(p[~inside]), ".", ms=2, color="0.75", label=outside_label)
    ax.plot(minutes(t[inside]), rel(p[inside]), ".", ms=2, color="0.3", label=inside_label)
    y_span = [rel(p[inside])]
    lcl, ucl = finite_number(measured.lcl95_pa_m3_s), finite_number(measured.ucl95_pa_m3_s)
    direction = inputs.direction
    if lcl is not None and ucl is not None:
        tm = 0.5 * (w0 + w1)
        pm = float(p_fit(np.array([tm]))[0])
        edges = []
        for bound in (lcl, ucl):
            s = _slope_for_rate(bound, value, slope, inputs.volume_m3, direction)
            if s is not None:
                edges.append(pm + s * (xs - tm))
        if len(edges) == 2:
            low, high = np.minimum(*edges), np.maximum(*edges)
            ax.fill_between(
                minutes(xs),
                rel(low),
                rel(high),
                color=FIT_COLOUR,
                alpha=0.25,
                lw=0,
                label="leak rates between the one-sided 95 % bounds",
            )
            y_span += [rel(low), rel(high)]
    ax.plot(
        minutes(xs),
        rel(p_fit(xs)),
        "-",
        lw=2.2,
        color=FIT_COLOUR,
        label=f"fit of {ylabel}: {measurement_label(name, measured, inputs.unit).split(': ', 1)[1]}",
    )
    y_span.append(rel(p_fit(xs)))
    limit = finite_number(measured.limit_pa_m3_s)
    limit_slope = None if limit is None else _slope_for_rate(limit, value, slope, inputs.volume_m3, direction)
    if limit is not None and limit_slope is not None:
        path = start + limit_slope * (xs - w0)
        ax.plot(
            minutes(xs),
            rel(path),
            "--",
            lw=1.6,
            color=LIMIT_COLOUR,
            label=f"a leak at the limit ({_limit_text(measured, limit, inputs.unit)})",
        )
        y_span.append(rel(path))
        rates = rate_text_for(measured)
        display = rate_display(measured, inputs.unit)
        if inputs.unit is not None and display.unit == inputs.unit:
            # As the procedure wrote it: "0.1 lb/day", never a conversion the reader must undo.
            note = f"limit: {plain_number(limit * display.per_recorded)} {display.unit}"
        elif rates:
            note = f"limit: {format_number(rates.sccm(limit))} {SCCM_UNIT}"
        else:
            note = f"limit: {format_number(limit)}"
        # Written at the end of the dashed line, which is where the eye compares it with the fit.
        ax.annotate(
            note,
            (float(minutes(xs)[-1]), float(rel(path)[-1])),
            xytext=(-4, 4 if limit_slope > 0 else -4),
            textcoords="offset points",
            ha="right",
            va="bottom" if limit_slope > 0 else "top",
            fontsize=8,
            color=LIMIT_COLOUR,
        )
    missing = no_reading_times(samples, line.channel, (w0 - margin, w1 + margin))
    # A gap in the samples is no reading (dropout or over range: the run's events tell which).
    label = f"no reading ({missing.size}: dropout or over range)"
    mark_no_reading(ax, minutes(missing), colour=LIMIT_COLOUR, label=label)
    finite = np.concatenate([a[np.isfinite(a)] for a in y_span])
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.08 * (hi - lo) or 1.0
        ax.set_ylim(lo - pad, hi + pad)
    ax.axvspan(0.0, (w1 - w0) / 60.0, color="0.5", alpha=0.06, lw=0)
    ax.set_xlim(float(minutes(np.array([w0 - margin]))[0]), float(minutes(np.array([w1 + margin]))[0]))
    ax.set_xlabel("time since the start of the fit window [min]")
    ax.set_ylabel(f"{ylabel} − {ref_text} [Pa]")
    ax.set_title(f"{name}: {measured.outcome or '?'}", fontsize=11)
    # Under the axes: inside, every corner is data for some run (a pump-down, a vent, the lines).
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    around = f"{margin / 60.0:.3g} min"
    caption = (
        f"{caption_p[0].upper()}{caption_p[1:]} from {around} before to {around} after the "
        f"{(w1 - w0) / 60.0:.3g}-min fit window (shaded); the fitted line; the band of lines whose "
        "leak rates lie between the one-sided 95 % bounds"
    )
    caption += (
        "; dashed, the pressure path a leak at the limit would follow from the fit's start."
        if limit_slope is not None
        else "."
    )
    return fig, caption


def plot_inputs(
    name: str,
    measured: Measurement,
    samples: RunSamples | None,
    steps: Sequence[Step],
    bench: Mapping[str, Any],
    procedure: Mapping[str, Any] | None = None,
) -> PlotInputs | None:
    """The samples, thermometer, volume, direction and limit unit a measurement's plot needs.

    The step that took the measurement says how it was fitted (``Step.measured_window``); the
    recorded ``procedure`` (its YAML) the unit its limit was written in.
    """
    if samples is None:
        return None
    window = next((w for s in walk(steps) if (w := s.measured_window(name)) is not None), None)
    thermometer = thermometer_of(measured.channel, bench, window.temperature if window is not None else None)
    volume_m3 = finite_number(measured.volume_m3)
    fitted_volume = window.volume if window is not None else None
    size = mapping(mapping(bench.get("volumes")).get(str(fitted_volume))).get("size")
    if volume_m3 is None and isinstance(size, str):
        try:
            volume_m3 = to_si(size, "volume", "volume")
        except InputError:
            volume_m3 = None
    direction = window.direction if window is not None else "decay"
    return PlotInputs(samples, thermometer, volume_m3, direction, written_unit(name, measured, procedure))
