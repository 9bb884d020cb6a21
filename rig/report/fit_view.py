"""How a plot shows a fitted measurement: its label, its colour, and the quantity its line is of.

A decay fit may be of the pressure itself or of ``p·T_ref/T`` (temperature-compensated,
:attr:`rig.record.measurement.FitLine.compensated_to_k`). Drawn on the raw pressure, such a line
sits off the data by the gas temperature's offset from T_ref (0.05 % per 0.15 K: hundreds of
pascals at an atmosphere), so the plots here draw each line on the quantity it fitted, or carry it
back onto the raw pressure with the recorded temperatures (:func:`line_as_raw_pressure`).

Run plots, certificate plots and ``rig analyze --plot`` share these rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rig.errors import InputError
from rig.record.conditions import unit_of_step
from rig.record.measurement import UNIT, FitLine, Measurement
from rig.record.recorded import mapping
from rig.record.run_samples import FloatArray, RunSamples
from rig.report.rate_text import rate_text_for
from rig.report.recorded_text import finite_number
from rig.units import leak_rate_unit_factor

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# The run's events that say a gauge left its range and came back (rig.engine.range_watch).
RANGE_EVENT = "range"
BEYOND_RANGE = ("over range", "under range")

LEAK_UNIT_TEXT = "Pa·m³/s"
# One colour per measurement, none of them red (kept for faults and limits) or grey (kept for
# the traces no measurement fitted); each has a light twin for its channel's trace.
MEASUREMENT_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
)  # fmt: skip
TRACE_TWINS = (
    "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
)  # fmt: skip
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
U_DIGITS = 2  # significant figures of an expanded uncertainty (GUM 7.2.6: at most two)


def measurement_colour(index: int) -> str:
    """The colour of the ``index``-th measurement of a plot (distinct for the first eight)."""
    return MEASUREMENT_COLOURS[index % len(MEASUREMENT_COLOURS)]


def trace_twin(index: int) -> str:
    """The light twin of :func:`measurement_colour`, for the trace of the channel it fitted."""
    return TRACE_TWINS[index % len(TRACE_TWINS)]


def _unsigned_zero(text: str) -> str:
    """``text`` without the sign of a number that rounded to zero ("-0.00" reads as a leak out)."""
    if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0]):
        return text[1:]
    return text


def plain_number(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures, never ``-0``; an exponent outside [0.001, 10⁴)."""
    if not math.isfinite(x):
        return "not a number" if math.isnan(x) else ("∞" if x > 0 else "−∞")
    if x == 0.0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return _unsigned_zero(f"{x:.{digits}g}")
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{_unsigned_zero(mantissa)}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def value_pm(value: float, expanded: float | None) -> str:
    """``value ± expanded``, both rounded to the uncertainty's second significant figure.

    Without a usable uncertainty the value alone, to three figures. Magnitudes outside
    [0.01, 10⁴) share one power of ten: ``(5.0 ± 0.4)×10⁻⁵``.
    """
    if expanded is None or not math.isfinite(expanded) or expanded <= 0.0 or not math.isfinite(value):
        return plain_number(value)
    last = math.floor(math.log10(expanded)) - (U_DIGITS - 1)  # the power of ten of the last digit kept
    top = math.floor(math.log10(max(abs(value), expanded)))
    power = 0 if -2 <= top < 4 else top
    digits = power - last  # negative: the last digit kept is left of the decimal point
    decimals = max(0, digits)
    scale = 10.0**power
    v = round(value / scale, digits) + 0.0  # + 0.0 turns a rounded −0.0 into 0.0
    u = round(expanded / scale, digits)
    body = f"{_unsigned_zero(f'{v:.{decimals}f}')} ± {u:.{decimals}f}"
    return body if power == 0 else f"({body})×10{str(power).translate(_SUPERSCRIPT)}"


def pretty_unit(unit: str) -> str:
    """A pint spelling as people write it: ``Pa*m**3/s`` → ``Pa·m³/s``."""
    return unit.replace("**3", "³").replace("**2", "²").replace("*", "·")


def written_unit(name: str, measured: Measurement, procedure: Mapping[str, Any] | None) -> str | None:
    """The unit the procedure wrote ``measured``'s limit in: as recorded, else (an older record) read
    from the recorded procedure by the step's name (:func:`rig.record.conditions.unit_of_step`)."""
    return measured.written_unit or unit_of_step(name, procedure or {})


@dataclass(frozen=True)
class RateDisplay:
    """How a plot writes a measurement's rates: in ``unit``, ``per_recorded`` of it per recorded unit."""

    unit: str
    per_recorded: float

    def text(self, value: float, expanded: float | None) -> str:
        """``value ± expanded (k=2) unit`` (values in the record's unit)."""
        u = None if expanded is None else expanded * self.per_recorded
        if u is None:
            return f"{value_pm(value * self.per_recorded, None)} {self.unit}"
        return f"{value_pm(value * self.per_recorded, u)} (k=2) {self.unit}"


def rate_display(measured: Measurement, unit: str | None = None) -> RateDisplay:
    """How to write ``measured``'s rates: in ``unit`` (the procedure's) if it converts, else as recorded."""
    recorded = measured.unit if measured.unit is not None else UNIT
    rates = rate_text_for(measured)
    if unit is not None and rates is not None:
        try:
            factor = leak_rate_unit_factor(unit, pv_temperature_k=rates.pv_temperature_k)
        except InputError:
            pass
        else:
            return RateDisplay(unit, rates.to_pa_m3_s / factor)
    return RateDisplay(pretty_unit(recorded), 1.0)


def expanded_uncertainty(measured: Measurement) -> float | None:
    """U (k = 2) of ``measured`` in its recorded unit (:attr:`Measurement.expanded_uncertainty_pa_m3_s`),
    None when it is not a finite number."""
    return finite_number(measured.expanded_uncertainty_pa_m3_s)


def measurement_label(name: str, measured: Measurement, unit: str | None = None) -> str:
    """``name: value ± U (k=2) unit``, and the outcome; ``unit`` is the procedure's, when known."""
    value = finite_number(measured.value_pa_m3_s)
    if value is None:
        text = f"{name}: no value"
    else:
        text = f"{name}: {rate_display(measured, unit).text(value, expanded_uncertainty(measured))}"
    return f"{text} · {measured.outcome}" if measured.outcome is not None else text


def fitted_quantity_name(line: FitLine) -> str:
    """What the line is of: ``p`` or ``p·293.15 K/T``."""
    t_ref = finite_number(line.compensated_to_k)
    return "p" if t_ref is None else f"p·{t_ref:g} K/T"


def line_pa(line: FitLine, t_s: FloatArray) -> FloatArray:
    """The fitted line at ``t_s``, in the quantity it fitted (Pa)."""
    return line.intercept_pa + line.slope_pa_s * (t_s - line.t0_s)


def thermometer_of(channel: str | None, bench: Mapping[str, Any], named: str | None = None) -> str | None:
    """The thermometer that compensated a fit of ``channel``: ``named`` by its step, else its volume's."""
    if named is not None:
        return named
    channels = mapping(bench.get("channels"))
    volume = mapping(channels.get(str(channel))).get("volume")
    if not volume:
        return None
    return next(
        (
            c
            for c, s in channels.items()
            if mapping(s).get("measures") == "temperature" and mapping(s).get("volume") == volume
        ),
        None,
    )


def temperature_at(samples: RunSamples, thermometer: str, t_s: FloatArray) -> FloatArray:
    """The thermometer's reading at ``t_s``, interpolated across its dropouts (NaN if it has none)."""
    kelvin = samples.channels[thermometer]
    good = np.isfinite(kelvin)
    if not good.any():
        return np.full(t_s.shape, np.nan)
    return np.interp(t_s, samples.time_s[good], kelvin[good])


def fitted_samples(
    samples: RunSamples, channel: str, line: FitLine, thermometer: str | None
) -> FloatArray | None:
    """The channel's samples as the quantity ``line`` fitted; None if that needs an unknown thermometer."""
    p = samples.channels[channel]
    t_ref = finite_number(line.compensated_to_k)
    if t_ref is None:
        return p
    if thermometer is None or thermometer not in samples.channels:
        return None
    return p * t_ref / samples.channels[thermometer]


def line_as_raw_pressure(
    samples: RunSamples, line: FitLine, thermometer: str | None, t_s: FloatArray
) -> FloatArray | None:
    """The fitted line carried back to the raw pressure, ``fit·T/T_ref``; None without a thermometer.

    A fit of p itself is returned as it is.
    """
    fitted = line_pa(line, t_s)
    t_ref = finite_number(line.compensated_to_k)
    if t_ref is None:
        return fitted
    if thermometer is None or thermometer not in samples.channels:
        return None
    return fitted * temperature_at(samples, thermometer, t_s) / t_ref


def no_reading_times(samples: RunSamples, channel: str, window: Sequence[float] | None = None) -> FloatArray:
    """Times at which ``channel`` gave no reading (an empty cell), optionally within ``window``.

    The record keeps no reason for an empty cell, so a dropout and an over-range look alike
    here; :func:`over_range_spans` picks out the over-range ones once the run records them.
    """
    t, p = samples.time_s, samples.channels[channel]
    missing = ~np.isfinite(p)
    if window is not None:
        missing &= (t >= window[0]) & (t <= window[1])
    return t[missing]


def over_range_spans(
    events: Sequence[Mapping[str, Any]], end_s: float | None = None
) -> dict[str, list[tuple[float, float]]]:
    """Per channel, the spans (clock s) its gauge read over (or under) its range.

    From the run's ``range`` events (:mod:`rig.engine.range_watch`): one with ``state`` "over
    range" or "under range" opens a span, the channel's next (back "in range", or the other
    side) closes it; one still open closes at ``end_s`` (the run's last sample), else at its start.
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    opened: dict[str, float] = {}
    for event in events:
        channel, t = event.get("channel"), finite_number(event.get("t"))
        if event.get("kind") != RANGE_EVENT or not isinstance(channel, str) or t is None:
            continue
        if channel in opened:
            spans.setdefault(channel, []).append((opened.pop(channel), t))
        if event.get("state") in BEYOND_RANGE:
            opened[channel] = t
    for channel, start in opened.items():
        spans.setdefault(channel, []).append((start, end_s if end_s is not None and end_s > start else start))
    return spans


def mark_no_reading(
    ax: Axes, x: FloatArray, *, colour: str, label: str, height: float = 0.03, size: float = 6.0
) -> None:
    """Ticks along the bottom edge of ``ax`` at ``x``, where a channel read nothing (a gap in its
    trace): the one way every plot shows them. Nothing when ``x`` is empty."""
    if x.size:
        ax.plot(
            x,
            np.full(x.size, height),
            "|",
            ms=size,
            color=colour,
            transform=ax.get_xaxis_transform(),
            label=label,
        )
